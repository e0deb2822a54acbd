/* SPDX-License-Identifier: ISC */
/*
 * fwd_mirror: a mirrored route's requests (mirror.h) on the exchange's
 * side — the draw when the request is routed, a kept body as large as
 * the retry buffer, and the hand-over to mirror.c once the request went
 * up whole.  The copy takes what it needs (head, body) by value: the
 * exchange goes on as if there were no mirror.
 */
#include <string.h>

#include "mesh/mirror.h"
#include "mesh/pstate.h"
#include "mesh/replay.h"
#include "mesh/retry.h"
#include "mesh/route.h"
#include "mesh/stats.h"
#include "fwd_int.h"

/* Routed to bs: a copy of this request?  Never for an upgrade (a copy
 * cannot tunnel) nor on the inbound and tcp roles. */
void
fwd_mirror_decide(struct conn *c, const struct balance_service *bs)
{
	if (fwd_inbound(c) || fwd_tcp_role(c) || (c->x & X_UPGRADE))
		return;
	if (mirror_draw(&bs->svc->mirror, &fwd_rng))
		c->x |= X_MIRROR;
}

/* The body a mirrored request keeps: the whole retry_buffer (at most
 * REPLAY_BUFS buffers), whatever the retries; else max. */
uint64_t
fwd_mirror_buffer(const struct conn *c, uint64_t max)
{
	uint64_t all;

	if (!(c->x & X_MIRROR) || c->rsvc == NULL)
		return max;
	all = c->rsvc->policy.retry_buffer;
	if (all > (uint64_t)REPLAY_BUFS * buf_pool_size())
		all = (uint64_t)REPLAY_BUFS * buf_pool_size();
	return all > max ? all : max;
}

/* The request went up whole: the copy starts, or is skipped when its
 * body was not kept whole (an early response ends the kept body).  Also
 * called for a request that ended without going up whole (cut, or
 * answered early): skipped. */
void
fwd_mirror_go(struct conn *c)
{
	struct balance_service *bs = NULL;
	const struct pcfg_policy *p;

	c->x &= ~X_MIRROR;
	if (c->rsvc != NULL)
		bs = route_service(&pstate.rt, c->rsvc->name, strlen(c->rsvc->name));
	if (bs == NULL || bs->svc->mirror.permille == 0 || c->uhead == NULL ||
	    c->uhead_len == 0 || (c->x & (X_REQ_DONE | X_REQ_ABANDON)) != X_REQ_DONE ||
	    (!(c->x & X_NOBODY) && !replay_ok(&c->replay))) {
		stats_inc(STAT_MIRROR_SKIPPED);
		return;
	}
	p = &c->rsvc->policy;
	mirror_send(bs, &bs->svc->mirror, c->uhead->data, c->uhead_len,
	    (c->x & X_NOBODY) ? NULL : &c->replay, p->timeout_ms, p->connect_timeout_ms,
	    (c->x & X_HEAD) != 0);
}
