/* SPDX-License-Identifier: ISC */
/* Unit tests for src/lib/grpc.c: content types, the status table,
 * grpc-message's percent-encoding, and the grpc-timeout and grpc-status
 * parsers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/grpc.h"

#define CT(s) grpc_content_type(s, sizeof(s) - 1)

static void
test_content_type(void **state)
{
	(void)state;
	assert_true(CT("application/grpc"));
	assert_true(CT("application/grpc+proto"));
	assert_true(CT("Application/GRPC+json"));
	assert_true(CT("application/grpc; charset=utf-8"));
	assert_false(CT("application/grpc-web"));
	assert_false(CT("application/grpcx"));
	assert_false(CT("application/json"));
	assert_false(CT("application/grp"));
	assert_false(CT(""));
}

static void
test_status_table(void **state)
{
	static const struct { int http; enum grpc_code grpc; } t[] = {
		{ 503, GRPC_UNAVAILABLE }, { 502, GRPC_UNAVAILABLE }, { 429, GRPC_UNAVAILABLE },
		{ 504, GRPC_DEADLINE_EXCEEDED }, { 408, GRPC_DEADLINE_EXCEEDED },
		{ 403, GRPC_PERMISSION_DENIED }, { 404, GRPC_UNIMPLEMENTED },
		{ 501, GRPC_UNIMPLEMENTED }, { 431, GRPC_RESOURCE_EXHAUSTED },
		{ 413, GRPC_RESOURCE_EXHAUSTED }, { 400, GRPC_INTERNAL },
		{ 401, GRPC_UNAUTHENTICATED }, { 500, GRPC_UNKNOWN }, { 418, GRPC_UNKNOWN },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(grpc_status_of_http(t[i].http), t[i].grpc);
}

static void
test_message_encode(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(grpc_message_encode(out, sizeof(out), "no route"), 8);
	assert_string_equal(out, "no route");
	grpc_message_encode(out, sizeof(out), "100%\r\n\xc3\xa9");
	assert_string_equal(out, "100%25%0D%0A%C3");   /* cut before an escape */
	assert_int_equal(grpc_message_encode(out, 4, "a%b"), 1);
	assert_string_equal(out, "a");
	assert_int_equal(grpc_message_encode(out, 1, "abc"), 0);
	assert_string_equal(out, "");
	assert_int_equal(grpc_message_encode(out, 0, "abc"), 0);
}

#define TO(s, ms) grpc_timeout_parse(s, sizeof(s) - 1, ms)

static void
test_timeout_units(void **state)
{
	static const struct { const char *v; uint64_t ms; } t[] = {
		{ "1H", 3600000 }, { "2M", 120000 }, { "3S", 3000 }, { "250m", 250 },
		{ "1000u", 1 }, { "1001u", 2 }, { "1u", 1 }, { "999999n", 1 },
		{ "1000000n", 1 }, { "1000001n", 2 }, { "1n", 1 }, { "0m", 0 },
		{ "0n", 0 }, { "0H", 0 }, { "00000010S", 10000 },
		{ "99999999H", UINT64_C(99999999) * 3600000 },
		{ "99999999n", 100 },
	};
	size_t i;
	uint64_t ms;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ms = 12345;
		assert_int_equal(grpc_timeout_parse(t[i].v, strlen(t[i].v), &ms), 0);
		assert_true(ms == t[i].ms);
	}
}

static void
test_timeout_malformed(void **state)
{
	static const char *const bad[] = {
		"", "S", "m", "10", "123456789S", "10s", "10h", "10x", "-1S", "+1S",
		" 1S", "1S ", "1 S", "1.5S", "1SS", "0x1S", "1\0S",
	};
	size_t i;
	uint64_t ms = 7;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(grpc_timeout_parse(bad[i], strlen(bad[i]), &ms), -1);
	/* the length counts, not a NUL: "1S" cut to "1" is malformed */
	assert_int_equal(grpc_timeout_parse("1S", 1, &ms), -1);
	assert_int_equal(grpc_timeout_parse("1\0S", 3, &ms), -1);
	assert_int_equal(TO("12345678M", &ms), 0);
	assert_true(ms == UINT64_C(12345678) * 60000);
	assert_int_equal(grpc_timeout_parse("5mX", 2, &ms), 0);   /* n bytes only */
	assert_true(ms == 5);
}

#define ST(s) grpc_status_parse(s, sizeof(s) - 1)

static void
test_status_parse(void **state)
{
	(void)state;
	assert_int_equal(ST("0"), 0);
	assert_int_equal(ST("14"), 14);
	assert_int_equal(ST("4"), 4);
	assert_int_equal(ST("16"), 16);
	assert_int_equal(ST("99"), 99);
	assert_int_equal(ST("07"), 7);
	assert_int_equal(ST(""), -1);
	assert_int_equal(ST("100"), -1);
	assert_int_equal(ST("-1"), -1);
	assert_int_equal(ST("1 "), -1);
	assert_int_equal(ST(" 1"), -1);
	assert_int_equal(ST("a"), -1);
	assert_int_equal(ST("1\0"), -1);
	assert_int_equal(grpc_status_parse("140", 2), 14);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_status_table),
		cmocka_unit_test(test_message_encode),
		cmocka_unit_test(test_timeout_units),
		cmocka_unit_test(test_timeout_malformed),
		cmocka_unit_test(test_status_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
