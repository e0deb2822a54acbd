/* SPDX-License-Identifier: ISC */
/*
 * stats_hist: every value 0..2^26 us lands in a bucket whose [lo, hi)
 * holds it; a bucket's middle is within 2% of any value >= 1 us in it;
 * quantiles of known distributions are within 2% of the exact order
 * statistic; stats_hist_le is exact at bucket edges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/stats.h"

static uint64_t counts[STATS_HIST_BUCKETS];

/* xorshift64*: the same numbers on every run */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static void
test_edges(void **state)
{
	unsigned b;

	assert_int_equal(stats_hist_bucket(0), 0);
	assert_int_equal(stats_hist_lo(0), 0);
	assert_int_equal(stats_hist_hi(0), 1);
	assert_int_equal(stats_hist_bucket(1), 1);
	assert_int_equal(stats_hist_bucket(UINT64_MAX), STATS_HIST_BUCKETS - 1);
	assert_int_equal(stats_hist_bucket(1ull << 27), STATS_HIST_BUCKETS - 1);
	assert_int_equal(stats_hist_hi(STATS_HIST_BUCKETS - 1), 1ull << 27);
	/* contiguous, increasing: hi of one is lo of the next */
	for (b = 0; b + 1 < STATS_HIST_BUCKETS; b++) {
		assert_true(stats_hist_lo(b) <= stats_hist_hi(b));
		assert_int_equal(stats_hist_hi(b), stats_hist_lo(b + 1));
	}
}

static void
test_every_value(void **state)
{
	uint64_t v, lo, hi, mid;
	unsigned b;

	for (v = 0; v <= 1ull << 26; v++) {
		b = stats_hist_bucket(v);
		lo = stats_hist_lo(b);
		hi = stats_hist_hi(b);
		if (v < lo || v >= hi)
			fail_msg("%llu in bucket %u [%llu, %llu)", (unsigned long long)v, b,
			    (unsigned long long)lo, (unsigned long long)hi);
		if (v == 0 || v > 1u << 20)
			continue;
		mid = (lo + hi) / 2;
		if ((mid > v ? mid - v : v - mid) * 50 > v)
			fail_msg("%llu: middle %llu of bucket %u off by more than 2%%",
			    (unsigned long long)v, (unsigned long long)mid, b);
	}
	/* a sweep above 2^20 up to the last kept octave */
	for (v = 1u << 20; v < 1ull << 27; v += v / 997 + 1) {
		b = stats_hist_bucket(v);
		lo = stats_hist_lo(b);
		hi = stats_hist_hi(b);
		assert_true(v >= lo && v < hi);
		mid = (lo + hi) / 2;
		assert_true((mid > v ? mid - v : v - mid) * 50 <= v);
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* quantiles of vals[n] from the histogram vs the exact order statistic */
static void
check_quantiles(uint64_t *vals, size_t n)
{
	static const double qs[] = { 0.001, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0 };
	uint64_t exact, got;
	size_t i, rank;

	memset(counts, 0, sizeof(counts));
	for (i = 0; i < n; i++)
		counts[stats_hist_bucket(vals[i])]++;
	qsort(vals, n, sizeof(*vals), cmp_u64);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		rank = (size_t)(qs[i] * (double)n + 0.999999);
		if (rank < 1)
			rank = 1;
		exact = vals[rank - 1];
		got = stats_hist_quantile(counts, qs[i]);
		if ((got > exact ? got - exact : exact - got) * 50 > exact)
			fail_msg("q%.3f of %zu values: %llu, exact %llu", qs[i], n,
			    (unsigned long long)got, (unsigned long long)exact);
	}
}

static void
test_quantiles(void **state)
{
	static uint64_t vals[10000];
	size_t i;

	memset(counts, 0, sizeof(counts));
	assert_int_equal(stats_hist_quantile(counts, 0.5), 0);
	/* uniform over 1..100000 us */
	for (i = 0; i < 10000; i++)
		vals[i] = 1 + rnd() % 100000;
	check_quantiles(vals, 10000);
	/* exponential-ish (a long tail): mean 5 ms */
	for (i = 0; i < 10000; i++)
		vals[i] = 1 + (uint64_t)(-5000.0 * __builtin_log(((double)(rnd() >> 11) + 1) /
		    9007199254740993.0));
	check_quantiles(vals, 10000);
	/* two modes: 90% near 1 ms, 10% near 2 s */
	for (i = 0; i < 10000; i++)
		vals[i] = i % 10 == 9 ? 2000000 + rnd() % 100000 : 900 + rnd() % 200;
	check_quantiles(vals, 10000);
	/* one value: every quantile is its bucket's middle */
	memset(counts, 0, sizeof(counts));
	counts[stats_hist_bucket(250)] = 3;
	assert_int_equal(stats_hist_quantile(counts, 0.01), 250);
	assert_int_equal(stats_hist_quantile(counts, 1.0), 250);
	assert_int_equal(stats_hist_quantile(counts, 0), 0);
}

static void
test_le(void **state)
{
	uint64_t v, brute, e;
	unsigned b;

	memset(counts, 0, sizeof(counts));
	/* one observation at each of these values */
	for (v = 0; v < 70000; v += 7)
		counts[stats_hist_bucket(v)]++;
	for (b = 1; b + 1 < STATS_HIST_BUCKETS && stats_hist_lo(b) < 70000; b++) {
		/* at the last value of bucket b: everything up to it */
		e = stats_hist_hi(b) - 1;
		for (brute = 0, v = 0; v < 70000; v += 7)
			brute += v <= e;
		assert_int_equal(stats_hist_le(counts, e), brute);
		/* just below a bucket's first value: the bucket is not in it */
		if (stats_hist_lo(b) > 0 && stats_hist_lo(b) < stats_hist_hi(b)) {
			e = stats_hist_lo(b) - 1;
			for (brute = 0, v = 0; v < 70000; v += 7)
				brute += v <= e;
			assert_int_equal(stats_hist_le(counts, e), brute);
		}
	}
	assert_int_equal(stats_hist_le(counts, 0), 1);
	assert_int_equal(stats_hist_le(counts, 1ull << 40), 10000);
	/* a bucket straddling `us` counts as above it: 5000 us is inside
	 * [4992, 5120) */
	memset(counts, 0, sizeof(counts));
	counts[stats_hist_bucket(4995)] = 1;
	assert_int_equal(stats_hist_lo(stats_hist_bucket(4995)), 4992);
	assert_int_equal(stats_hist_le(counts, 5000), 0);
	assert_int_equal(stats_hist_le(counts, 5119), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_every_value),
		cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_le),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
