/* SPDX-License-Identifier: ISC */
/*
 * stats_hist: the log-linear latency buckets of include/mesh/stats.h.
 *
 * Bucket 1 + k*SUB + j holds the integers v with 2^k <= v < 2^(k+1) and
 * floor((v - 2^k) * SUB / 2^k) == j.  Below 2^5 us a sub-bucket is
 * narrower than 1 us, so some hold no integer (lo == hi).  Everything is
 * integer arithmetic: the edges are exact, so Prometheus `le` counts are.
 */
#include <math.h>

#include "mesh/stats.h"

#define HIST_SUB_BITS 5u   /* log2(STATS_HIST_SUB) */

_Static_assert(STATS_HIST_SUB == 1u << HIST_SUB_BITS, "STATS_HIST_SUB is 2^HIST_SUB_BITS");

unsigned
stats_hist_bucket(uint64_t us)
{
	unsigned k;

	if (us == 0)
		return 0;
	k = 63u - (unsigned)__builtin_clzll(us);
	if (k >= STATS_HIST_OCTAVES)
		return STATS_HIST_BUCKETS - 1;
	return 1u + k * STATS_HIST_SUB +
	    (unsigned)(((us - (1ull << k)) << HIST_SUB_BITS) >> k);
}

/* The first integer of sub-bucket j (0..SUB) of octave k: SUB is the
 * octave's end. */
static uint64_t
stats_hist_edge(unsigned k, unsigned j)
{
	return (1ull << k) + ((((uint64_t)j << k) + STATS_HIST_SUB - 1) >> HIST_SUB_BITS);
}

uint64_t
stats_hist_lo(unsigned bucket)
{
	if (bucket == 0)
		return 0;
	if (bucket >= STATS_HIST_BUCKETS)
		return 1ull << STATS_HIST_OCTAVES;
	bucket--;
	return stats_hist_edge(bucket / STATS_HIST_SUB, bucket % STATS_HIST_SUB);
}

/* Buckets tile the line: one ends where the next begins. */
uint64_t
stats_hist_hi(unsigned bucket)
{
	return stats_hist_lo(bucket >= STATS_HIST_BUCKETS ? bucket : bucket + 1);
}

uint64_t
stats_hist_quantile(const uint64_t *counts, double q)
{
	uint64_t total = 0, rank, cum = 0;
	unsigned b;

	for (b = 0; b < STATS_HIST_BUCKETS; b++)
		total += counts[b];
	if (total == 0 || !(q > 0))
		return 0;
	if (q > 1)
		q = 1;
	/* the rank of the order statistic: ceil(q n), the epsilon keeps
	 * 0.95 * 10000 from becoming 9501 */
	rank = (uint64_t)ceil(q * (double)total - 1e-9);
	if (rank < 1)
		rank = 1;
	if (rank > total)
		rank = total;
	for (b = 0; b < STATS_HIST_BUCKETS; b++) {
		cum += counts[b];
		if (cum >= rank)
			break;
	}
	if (b >= STATS_HIST_BUCKETS)
		b = STATS_HIST_BUCKETS - 1;
	/* the middle of the integers in [lo, hi) */
	return (stats_hist_lo(b) + stats_hist_hi(b)) / 2;
}

uint64_t
stats_hist_le(const uint64_t *counts, uint64_t us)
{
	uint64_t n = 0;
	unsigned b;

	/* the last bucket also holds everything past 2^27 us: never "<=" */
	for (b = 0; b + 1 < STATS_HIST_BUCKETS && stats_hist_hi(b) - 1 <= us; b++)
		n += counts[b];
	if (b + 1 == STATS_HIST_BUCKETS && us >= UINT64_MAX)
		n += counts[b];
	return n;
}
