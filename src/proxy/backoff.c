/* SPDX-License-Identifier: ISC */
/*
 * backoff: exponential backoff with full jitter (include/mesh/backoff.h).
 */
#include <time.h>
#include <unistd.h>

#include "mesh/backoff.h"

void
backoff_seed(struct backoff_rng *r, uint64_t seed)
{
	if (seed == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
		    ((uint64_t)getpid() << 40);
	}
	/* splitmix64 once, so nearby seeds give unrelated streams */
	seed += 0x9e3779b97f4a7c15ull;
	seed = (seed ^ (seed >> 30)) * 0xbf58476d1ce4e5b9ull;
	seed = (seed ^ (seed >> 27)) * 0x94d049bb133111ebull;
	seed ^= seed >> 31;
	r->s = seed != 0 ? seed : 1;
}

uint32_t
backoff_random(struct backoff_rng *r, uint32_t bound)
{
	uint64_t x = r->s;

	if (bound == 0)
		return 0;
	if (x == 0)
		x = 1;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	/* multiply-shift: bias below 2^-32 per value, irrelevant for delays */
	return (uint32_t)((((x * 0x2545f4914f6cdd1dull) >> 32) * (uint64_t)bound) >> 32);
}

uint32_t
backoff_ceiling_ms(unsigned attempt, uint32_t base_ms, uint32_t cap_ms)
{
	uint64_t c = base_ms;

	while (attempt-- > 0 && c < cap_ms)
		c *= 2;
	return c > cap_ms ? cap_ms : (uint32_t)c;
}

uint32_t
backoff_delay_ms(struct backoff_rng *r, unsigned attempt, uint32_t base_ms, uint32_t cap_ms)
{
	uint32_t ceil = backoff_ceiling_ms(attempt, base_ms, cap_ms);

	/* inclusive: [0, ceil] */
	return backoff_random(r, ceil < UINT32_MAX ? ceil + 1 : ceil);
}
