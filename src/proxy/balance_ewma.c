/* SPDX-License-Identifier: ISC */
/*
 * balance_ewma: the default balancer.  Power of two choices over the cost
 * peak-EWMA latency x (outstanding + 1), as Linkerd and Finagle do it:
 * latency alone would send a burst to whichever endpoint was fastest a
 * moment ago; multiplying by the requests in flight spreads the burst,
 * and the peak makes a slowing endpoint pay at once while it recovers
 * only over the time constant.
 *
 * The estimate decays toward 0 while no sample comes (balance_decay()),
 * so an endpoint shunned for being slow is tried again some seconds
 * later and can prove it recovered.  An endpoint without a sample costs
 * the mean estimate of the candidates that have one (a neutral cost):
 * new endpoints get traffic without being flooded by it.
 */
#include "mesh/balance.h"

/* The estimate of an endpoint with no samples when no candidate has one. */
#define EWMA_NEUTRAL_US 1000.0

static void
ewma_init(void *state)
{
	(void)state;
}

static double
ewma_estimate(const struct balance_ep *e, uint64_t now)
{
	return e->ewma_us * balance_decay(now > e->stamp_us ? now - e->stamp_us : 0);
}

static double
ewma_neutral(struct balance_ep *const *eps, size_t n, uint64_t now)
{
	double sum = 0;
	size_t i, seen = 0;

	for (i = 0; i < n; i++)
		if (eps[i]->seen) {
			sum += ewma_estimate(eps[i], now);
			seen++;
		}
	return seen > 0 && sum > 0 ? sum / (double)seen : EWMA_NEUTRAL_US;
}

static double
ewma_cost(const struct balance_ep *e, double neutral, uint64_t now)
{
	double est = e->seen ? ewma_estimate(e, now) : neutral;

	/* a 0 estimate (loopback in under a microsecond) still counts
	 * the load */
	if (est < 1.0)
		est = 1.0;
	return est * ((double)e->outstanding + 1.0);
}

static long
ewma_pick(void *state, struct balance_ep *const *eps, size_t n)
{
	uint64_t now;
	uint32_t a, b;
	double neutral = EWMA_NEUTRAL_US;

	(void)state;
	if (n == 0)
		return -1;
	if (n == 1)
		return 0;
	now = balance_now_us();
	a = balance_random((uint32_t)n);
	b = balance_random((uint32_t)n - 1);
	if (b >= a)
		b++;                     /* two distinct candidates */
	if (!eps[a]->seen || !eps[b]->seen)
		neutral = ewma_neutral(eps, n, now);
	return ewma_cost(eps[b], neutral, now) < ewma_cost(eps[a], neutral, now) ? (long)b : (long)a;
}

const struct balancer_ops balance_ewma = {
	.name = "ewma",
	.init = ewma_init,
	.pick = ewma_pick,
};
