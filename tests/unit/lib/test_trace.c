/* SPDX-License-Identifier: ISC */
/*
 * trace: traceparent accepted and refused by each rule of W3C Trace
 * Context level 1, B3 single and multi-header (128- and 64-bit ids,
 * sampling states), ids never zero, a fixed seed repeats, trace_sample's
 * rate, and trace_format parsing back to what it was given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/trace.h"

#define TP_OK "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
#define TID   "4bf92f3577b34da6a3ce929d0e0e4736"
#define SID   "00f067aa0ba902b7"

static const uint8_t tid_bytes[16] = {
	0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
	0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36,
};
static const uint8_t sid_bytes[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };

static int
tp(const char *s, struct trace_ctx *t)
{
	return trace_parse_traceparent(s, strlen(s), t);
}

static int
b3(const char *s, struct trace_ctx *t)
{
	return trace_parse_b3(s, strlen(s), t);
}

static void
test_traceparent_valid(void **state)
{
	struct trace_ctx t;

	(void)state;
	assert_int_equal(strlen(TP_OK), TRACE_PARENT_LEN);
	assert_int_equal(tp(TP_OK, &t), 0);
	assert_true(t.valid);
	assert_int_equal(t.sampled, 1);
	assert_int_equal(t.sample_deferred, 0);
	assert_memory_equal(t.trace_id, tid_bytes, 16);
	assert_memory_equal(t.span_id, sid_bytes, 8);

	assert_int_equal(tp("00-" TID "-" SID "-00", &t), 0);
	assert_int_equal(t.sampled, 0);
	/* unknown flag bits are ignored; only bit 0 is "sampled" */
	assert_int_equal(tp("00-" TID "-" SID "-03", &t), 0);
	assert_int_equal(t.sampled, 1);
	assert_int_equal(tp("00-" TID "-" SID "-fe", &t), 0);
	assert_int_equal(t.sampled, 0);
	/* a later version: 00's prefix, then the end or '-' and more */
	assert_int_equal(tp("01-" TID "-" SID "-01", &t), 0);
	assert_int_equal(tp("cc-" TID "-" SID "-01-what-the-future-holds", &t), 0);
	assert_memory_equal(t.trace_id, tid_bytes, 16);
	assert_int_equal(t.sampled, 1);
	assert_int_equal(tp("fe-" TID "-" SID "-00-", &t), 0);
	assert_int_equal(t.sampled, 0);
}

static void
test_traceparent_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"00",
		"ff-" TID "-" SID "-01",                          /* version ff */
		"00-00000000000000000000000000000000-" SID "-01", /* zero trace id */
		"00-" TID "-0000000000000000-01",                 /* zero span id */
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-" SID "-01", /* upper case */
		"00-" TID "-00F067AA0BA902B7-01",
		"00-" TID "-" SID "-0A",
		"0A-" TID "-" SID "-01",
		"00-" TID "-" SID "-01-",                         /* 00: exactly 55 */
		"00-" TID "-" SID "-01 ",
		"00-" TID "-" SID "-1",                           /* short */
		"00-" TID "-" SID "-011",
		"01-" TID "-" SID "-01x",                         /* later: '-' after 55 */
		"00_" TID "-" SID "-01",                          /* separators */
		"00-" TID "_" SID "-01",
		"00-" TID "-" SID "_01",
		"00-4bf92f3577b34da6a3ce929d0e0e473-" SID "-001", /* misplaced dash */
		"00-" TID "-00f067aa0ba902bg-01",                 /* not hex */
		"0g-" TID "-" SID "-01",
		"-00-" TID "-" SID "-1",
		" 00-" TID "-" SID "-0",
	};
	struct trace_ctx t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&t, 0x5a, sizeof(t));
		if (tp(bad[i], &t) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(t.valid, 0x5a5a5a5a);   /* untouched */
	}
	/* a NUL inside the counted bytes is just a bad char */
	assert_int_equal(trace_parse_traceparent("00-" TID "\0" SID "-01", TRACE_PARENT_LEN, &t), -1);
	/* only n bytes are read */
	assert_int_equal(trace_parse_traceparent(TP_OK "-more", TRACE_PARENT_LEN, &t), 0);
}

static void
test_b3_single(void **state)
{
	static const uint8_t tid64[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36,
	};
	struct trace_ctx t;

	(void)state;
	assert_int_equal(b3(TID "-" SID "-1", &t), 0);
	assert_true(t.valid);
	assert_int_equal(t.sampled, 1);
	assert_int_equal(t.sample_deferred, 0);
	assert_memory_equal(t.trace_id, tid_bytes, 16);
	assert_memory_equal(t.span_id, sid_bytes, 8);
	assert_int_equal(b3(TID "-" SID "-0", &t), 0);
	assert_int_equal(t.sampled, 0);
	assert_int_equal(b3(TID "-" SID "-d", &t), 0);   /* debug implies sampled */
	assert_int_equal(t.sampled, 1);
	assert_int_equal(b3(TID "-" SID "-1-05e3ac9a4f6e3b90", &t), 0);
	assert_memory_equal(t.span_id, sid_bytes, 8);    /* parent of theirs dropped */
	assert_int_equal(b3(TID "-" SID, &t), 0);
	assert_int_equal(t.sampled, 0);
	assert_int_equal(t.sample_deferred, 1);
	/* 64-bit trace id: left-padded */
	assert_int_equal(b3("a3ce929d0e0e4736-" SID "-1", &t), 0);
	assert_memory_equal(t.trace_id, tid64, 16);

	assert_int_equal(b3("0", &t), -1);
	assert_int_equal(b3("1", &t), -1);
	assert_int_equal(b3("d", &t), -1);
	assert_int_equal(b3("", &t), -1);
	assert_int_equal(b3(TID, &t), -1);
	assert_int_equal(b3(TID "-", &t), -1);
	assert_int_equal(b3(TID "-" SID "-", &t), -1);
	assert_int_equal(b3(TID "-" SID "-2", &t), -1);
	assert_int_equal(b3(TID "-" SID "-true", &t), -1);
	assert_int_equal(b3(TID "-" SID "-1-", &t), -1);
	assert_int_equal(b3(TID "-" SID "-1-0000000000000000", &t), -1);
	assert_int_equal(b3(TID "-" SID "-1-05e3ac9a4f6e3b90-x", &t), -1);
	assert_int_equal(b3("00000000000000000000000000000000-" SID "-1", &t), -1);
	assert_int_equal(b3("0000000000000000-" SID "-1", &t), -1);
	assert_int_equal(b3(TID "-0000000000000000-1", &t), -1);
	assert_int_equal(b3("a3ce929d0e0e473-" SID "-1", &t), -1);   /* 15 hex */
	assert_int_equal(b3("4BF92F3577B34DA6A3CE929D0E0E4736-" SID, &t), -1);
	assert_int_equal(b3(TID "-" SID "0-1", &t), -1);
}

static void
test_b3_multi(void **state)
{
	struct trace_ctx t;

	(void)state;
	assert_int_equal(trace_parse_b3_multi(TID, 32, SID, 16, "1", 1, &t), 0);
	assert_true(t.valid);
	assert_int_equal(t.sampled, 1);
	assert_memory_equal(t.trace_id, tid_bytes, 16);
	assert_memory_equal(t.span_id, sid_bytes, 8);
	assert_int_equal(trace_parse_b3_multi(TID, 32, SID, 16, "0", 1, &t), 0);
	assert_int_equal(t.sampled, 0);
	assert_int_equal(trace_parse_b3_multi(TID, 32, SID, 16, "true", 4, &t), 0);
	assert_int_equal(t.sampled, 1);
	assert_int_equal(trace_parse_b3_multi(TID, 32, SID, 16, "false", 5, &t), 0);
	assert_int_equal(t.sampled, 0);
	assert_int_equal(trace_parse_b3_multi(TID, 32, SID, 16, "d", 1, &t), 0);
	assert_int_equal(t.sampled, 1);
	assert_int_equal(trace_parse_b3_multi(TID, 32, SID, 16, NULL, 0, &t), 0);
	assert_int_equal(t.sampled, 0);
	assert_int_equal(t.sample_deferred, 1);
	assert_int_equal(trace_parse_b3_multi("a3ce929d0e0e4736", 16, SID, 16, "1", 1, &t), 0);
	assert_memory_equal(t.trace_id + 8, tid_bytes + 8, 8);
	assert_true(t.trace_id[0] == 0 && t.trace_id[7] == 0);

	assert_int_equal(trace_parse_b3_multi(TID, 32, SID, 16, "yes", 3, &t), -1);
	assert_int_equal(trace_parse_b3_multi(TID, 32, SID, 16, "", 0, &t), -1);
	assert_int_equal(trace_parse_b3_multi(NULL, 0, SID, 16, "1", 1, &t), -1);
	assert_int_equal(trace_parse_b3_multi(TID, 32, NULL, 0, "1", 1, &t), -1);
	assert_int_equal(trace_parse_b3_multi(TID, 31, SID, 16, "1", 1, &t), -1);
	assert_int_equal(trace_parse_b3_multi(TID, 32, SID, 15, "1", 1, &t), -1);
	assert_int_equal(trace_parse_b3_multi(TID, 32, "0000000000000000", 16, "1", 1, &t), -1);
}

static void
test_rng(void **state)
{
	struct trace_rng a, b, c, z;
	uint8_t x[16], y[16], w[16], one;
	unsigned i, same = 0;

	(void)state;
	trace_rng_seed(&a, 12345);
	trace_rng_seed(&b, 12345);
	trace_rng_seed(&c, 12346);
	for (i = 0; i < 1000; i++) {
		trace_new_id(&a, x, 16);
		trace_new_id(&b, y, 16);
		trace_new_id(&c, w, 16);
		assert_memory_equal(x, y, 16);
		same += memcmp(x, w, 16) == 0;
	}
	assert_int_equal(same, 0);
	/* seed 0 works too, and no id is ever all zero, even one byte long */
	trace_rng_seed(&z, 0);
	for (i = 0; i < 100000; i++) {
		trace_new_id(&z, &one, 1);
		assert_int_not_equal(one, 0);
	}
	for (i = 0; i < 1000; i++) {
		static const uint8_t zero[8];

		trace_new_id(&z, x, 8);
		assert_memory_not_equal(x, zero, 8);
	}
	trace_new_id(&z, x, 0);   /* no bytes, no hang */
}

static void
test_sample_rate(void **state)
{
	struct trace_rng r;
	unsigned i, n = 0;

	(void)state;
	trace_rng_seed(&r, 99);
	for (i = 0; i < 100000; i++)
		n += trace_sample(&r, 10) != 0;
	/* expectation 1000, sd ~31.5: 5 sd either side */
	assert_in_range(n, 840, 1160);
	for (n = 0, i = 0; i < 100000; i++)
		n += trace_sample(&r, 500) != 0;
	assert_in_range(n, 49200, 50800);
	for (i = 0; i < 10000; i++) {
		assert_int_equal(trace_sample(&r, 0), 0);
		assert_int_equal(trace_sample(&r, 1000), 1);
		assert_int_equal(trace_sample(&r, 5000), 1);
	}
}

static void
test_format_round_trip(void **state)
{
	struct trace_rng r;
	struct trace_ctx t;
	char out[TRACE_PARENT_LEN + 1];
	uint8_t tid[16], sid[8];
	unsigned i;

	(void)state;
	trace_format(out, tid_bytes, sid_bytes, 1);
	assert_string_equal(out, TP_OK);
	trace_format(out, tid_bytes, sid_bytes, 0);
	assert_string_equal(out, "00-" TID "-" SID "-00");
	trace_rng_seed(&r, 7);
	for (i = 0; i < 1000; i++) {
		trace_new_id(&r, tid, sizeof(tid));
		trace_new_id(&r, sid, sizeof(sid));
		trace_format(out, tid, sid, (int)(i & 1));
		assert_int_equal(strlen(out), TRACE_PARENT_LEN);
		assert_int_equal(tp(out, &t), 0);
		assert_memory_equal(t.trace_id, tid, 16);
		assert_memory_equal(t.span_id, sid, 8);
		assert_int_equal(t.sampled, (int)(i & 1));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_traceparent_valid),
		cmocka_unit_test(test_traceparent_invalid),
		cmocka_unit_test(test_b3_single),
		cmocka_unit_test(test_b3_multi),
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_sample_rate),
		cmocka_unit_test(test_format_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
