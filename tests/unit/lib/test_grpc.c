/* SPDX-License-Identifier: ISC */
/* Unit tests for src/lib/grpc.c: content types, the status table, and
 * grpc-message's percent-encoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_status_table),
		cmocka_unit_test(test_message_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
