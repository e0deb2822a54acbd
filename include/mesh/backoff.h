/* SPDX-License-Identifier: ISC */
/*
 * backoff: how long a retry waits — exponential backoff with full jitter
 * (the delay before retry n, counted from 0, is uniform in
 * [0, min(cap, base * 2^n)] ms), so clients that failed together do not
 * come back together.
 *
 * The random source is a small explicit state (xorshift64*), seeded by
 * the caller: the proxy seeds it once from the clock and pid, the tests
 * with a constant so every delay is reproducible.
 */
#ifndef MESH_BACKOFF_H
#define MESH_BACKOFF_H

#include <stdint.h>

struct backoff_rng {
	uint64_t s;     /* private: never 0 */
};

/* seed 0: from CLOCK_MONOTONIC and the pid. */
void     backoff_seed(struct backoff_rng *r, uint64_t seed);
/* Uniform in [0, bound); 0 when bound is 0. */
uint32_t backoff_random(struct backoff_rng *r, uint32_t bound);
/* The ceiling min(cap, base * 2^attempt), without overflow. */
uint32_t backoff_ceiling_ms(unsigned attempt, uint32_t base_ms, uint32_t cap_ms);
/* The delay before retry `attempt` (0 = the first retry), in ms. */
uint32_t backoff_delay_ms(struct backoff_rng *r, unsigned attempt,
                          uint32_t base_ms, uint32_t cap_ms);

#endif
