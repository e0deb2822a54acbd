/* SPDX-License-Identifier: ISC */
/*
 * balance_lr: least-request, as power of two choices over the requests
 * in flight (Envoy's least-request does the same).  Two random candidates
 * rather than a full scan: O(1) per pick, and when several sidecars see
 * the same idle endpoint they do not all pile onto it at once; the
 * chance of picking the busiest of n endpoints falls to 0.
 */
#include "mesh/balance.h"

static void
lr_init(void *state)
{
	(void)state;
}

static long
lr_pick(void *state, struct balance_ep *const *eps, size_t n)
{
	uint32_t a, b;

	(void)state;
	if (n == 0)
		return -1;
	if (n == 1)
		return 0;
	a = balance_random((uint32_t)n);
	b = balance_random((uint32_t)n - 1);
	if (b >= a)
		b++;                     /* two distinct candidates */
	return eps[b]->outstanding < eps[a]->outstanding ? (long)b : (long)a;
}

const struct balancer_ops balance_lr = {
	.name = "least-request",
	.init = lr_init,
	.pick = lr_pick,
};
