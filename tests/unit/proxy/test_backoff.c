/* SPDX-License-Identifier: ISC */
/*
 * backoff: ceilings double from base up to cap, delays stay in
 * [0, ceiling], spread over the range (full jitter), and a seed gives
 * the same sequence twice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/backoff.h"

static void
test_ceiling(void **state)
{
	(void)state;
	assert_int_equal(backoff_ceiling_ms(0, 25, 250), 25);
	assert_int_equal(backoff_ceiling_ms(1, 25, 250), 50);
	assert_int_equal(backoff_ceiling_ms(3, 25, 250), 200);
	assert_int_equal(backoff_ceiling_ms(4, 25, 250), 250);
	assert_int_equal(backoff_ceiling_ms(1000, 25, 250), 250);   /* no overflow */
	assert_int_equal(backoff_ceiling_ms(40, 60000, 60000), 60000);
	assert_int_equal(backoff_ceiling_ms(2, 10, 10), 10);
}

static void
test_jitter_range_and_spread(void **state)
{
	struct backoff_rng r;
	unsigned attempt, i, buckets[10];
	uint32_t d, lo, hi;

	(void)state;
	backoff_seed(&r, 42);
	for (attempt = 0; attempt < 8; attempt++) {
		uint32_t ceil = backoff_ceiling_ms(attempt, 25, 250);

		lo = UINT32_MAX;
		hi = 0;
		memset(buckets, 0, sizeof(buckets));
		for (i = 0; i < 5000; i++) {
			d = backoff_delay_ms(&r, attempt, 25, 250);
			assert_true(d <= ceil);
			if (d < lo)
				lo = d;
			if (d > hi)
				hi = d;
			buckets[(uint64_t)d * 10 / (ceil + 1)]++;
		}
		/* full jitter: near 0 and near the ceiling both happen */
		assert_true(lo <= ceil / 20);
		assert_true(hi >= ceil - ceil / 20);
		for (i = 0; i < 10; i++)      /* ~500 each */
			assert_true(buckets[i] > 350 && buckets[i] < 650);
	}
}

static void
test_seeded(void **state)
{
	struct backoff_rng a, b, c;
	unsigned i, same = 0;

	(void)state;
	backoff_seed(&a, 7);
	backoff_seed(&b, 7);
	backoff_seed(&c, 8);
	for (i = 0; i < 100; i++) {
		uint32_t x = backoff_delay_ms(&a, 3, 25, 250);

		assert_int_equal(x, backoff_delay_ms(&b, 3, 25, 250));
		same += x == backoff_delay_ms(&c, 3, 25, 250);
	}
	assert_true(same < 10);
	assert_int_equal(backoff_random(&a, 0), 0);
	assert_int_equal(backoff_random(&a, 1), 0);
	backoff_seed(&a, 0);    /* from the clock: still works */
	assert_true(backoff_random(&a, 10) < 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ceiling),
		cmocka_unit_test(test_jitter_range_and_spread),
		cmocka_unit_test(test_seeded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
