/* SPDX-License-Identifier: ISC */
/*
 * budget: the retry budget's sliding window (include/mesh/budget.h).
 *
 * Each slot remembers which second it counts; a slot whose second fell
 * out of the window is zeroed when the clock reaches it again, so idle
 * periods cost nothing and no timer is needed.
 */
#include <string.h>

#include "mesh/budget.h"

void
budget_init(struct budget *b, uint32_t percent, uint32_t per_sec)
{
	memset(b, 0, sizeof(*b));
	budget_set(b, percent, per_sec);
}

void
budget_set(struct budget *b, uint32_t percent, uint32_t per_sec)
{
	b->percent = percent;
	b->per_sec = per_sec;
}

/* The slot of now_ms, reset if it held an older second. */
static unsigned
budget_slot(struct budget *b, uint64_t now_ms)
{
	uint64_t s = now_ms / 1000;
	unsigned i = (unsigned)(s % BUDGET_SLOTS);

	if (b->sec[i] != s) {
		b->sec[i] = s;
		b->requests[i] = 0;
		b->retries[i] = 0;
	}
	return i;
}

void
budget_totals(struct budget *b, uint64_t now_ms, uint64_t *requests, uint64_t *retries)
{
	uint64_t s = now_ms / 1000, rq = 0, rt = 0;
	unsigned i;

	budget_slot(b, now_ms);
	for (i = 0; i < BUDGET_SLOTS; i++)
		if (b->sec[i] + BUDGET_SLOTS > s && b->sec[i] <= s) {
			rq += b->requests[i];
			rt += b->retries[i];
		}
	*requests = rq;
	*retries = rt;
}

void
budget_request(struct budget *b, uint64_t now_ms)
{
	unsigned i = budget_slot(b, now_ms);

	if (b->requests[i] < UINT32_MAX)
		b->requests[i]++;
}

int
budget_withdraw(struct budget *b, uint64_t now_ms)
{
	uint64_t rq, rt, allowance;
	unsigned i;

	budget_totals(b, now_ms, &rq, &rt);
	/* in hundredths, so 20% of 3 requests is 0.6 and not 0 */
	allowance = rq * b->percent + (uint64_t)b->per_sec * BUDGET_SLOTS * 100;
	if ((rt + 1) * 100 > allowance)
		return 0;
	i = budget_slot(b, now_ms);
	if (b->retries[i] < UINT32_MAX)
		b->retries[i]++;
	return 1;
}
