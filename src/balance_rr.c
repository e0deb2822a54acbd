/*
 * balance_rr: round-robin over the endpoints that are up.
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
rr_pick(void *state, const struct pcfg_endpoint *const *eps, size_t n)
{
	struct rr_state *s = state;
	size_t i, k;

	for (i = 0; i < n; i++) {
		k = (s->next + i) % n;
		if (eps[k]->up) {
			s->next = k + 1;
			return (long)k;
		}
	}
	return -1;
}

_Static_assert(sizeof(struct rr_state) <= BALANCE_STATE_MAX, "rr state fits");

const struct balancer_ops balance_rr = {
	.name = "round-robin",
	.init = rr_init,
	.pick = rr_pick,
};
