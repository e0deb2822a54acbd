/* SPDX-License-Identifier: ISC */
/*
 * balance_rr: round-robin over the eligible endpoints.
 */
#include <string.h>

#include "mesh/balance.h"

struct rr_state {
	size_t next;
};

static void
rr_init(void *state)
{
	memset(state, 0, sizeof(struct rr_state));
}

static long
rr_pick(void *state, struct balance_ep *const *eps, size_t n)
{
	struct rr_state *s = state;
	size_t k;

	(void)eps;
	if (n == 0)
		return -1;
	/* The eligible set may change between picks: the turn is kept
	 * modulo the current count, so no endpoint is skipped twice. */
	k = s->next % n;
	s->next = k + 1;
	return (long)k;
}

_Static_assert(sizeof(struct rr_state) <= BALANCE_STATE_MAX, "rr state fits");

const struct balancer_ops balance_rr = {
	.name = "round-robin",
	.init = rr_init,
	.pick = rr_pick,
};
