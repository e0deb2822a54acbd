/* SPDX-License-Identifier: ISC */
/*
 * pstats: endpoint rows from the live balancing state (include/mesh/pstats.h).
 */
#include <string.h>

#include "mesh/balance.h"
#include "mesh/breaker.h"
#include "mesh/outlier.h"
#include "mesh/pstate.h"
#include "mesh/pstats.h"
#include "mesh/stats.h"

/* The rows written by the last pass: those not written again are freed. */
static struct stats_ep_rec *pstats_rows[STATS_EPS_MAX];
static size_t               pstats_nrows;
static ev_timer             pstats_timer;

static uint32_t
pstats_state(struct epaddr at)
{
	const struct breaker *b = breaker_find(at);

	if (b == NULL)
		return STATS_EP_CLOSED;
	switch (b->state) {
	case BREAKER_OPEN:      return STATS_EP_OPEN;
	case BREAKER_HALF_OPEN: return STATS_EP_HALF_OPEN;
	case BREAKER_CLOSED:    break;
	}
	return STATS_EP_CLOSED;
}

static void
pstats_row(struct stats_ep_rec *r, const struct balance_ep *e, uint64_t now_us)
{
	const struct breaker *b = breaker_find(e->addr);

	stats_ep_put32(r, &r->state, pstats_state(e->addr));
	stats_ep_put32(r, &r->ejected, outlier_ejected(e, now_us) ? 1u : 0u);
	stats_ep_put(r, &r->ewma_us, e->seen ? (uint64_t)e->ewma_us : 0);
	stats_ep_put(r, &r->outstanding, e->outstanding);
	stats_ep_put(r, &r->requests, e->done);
	stats_ep_put(r, &r->failures, e->failed);
	stats_ep_put(r, &r->ejections, e->ejected_total);
	stats_ep_put(r, &r->breaker_opened, b != NULL ? b->opened : 0);
}

void
pstats_sync(void)
{
	struct stats_ep_rec *now[STATS_EPS_MAX];
	size_t i, k, v, n = 0;
	uint64_t now_us = balance_now_us();

	for (i = 0; i < pstate.rt.nsvcs; i++) {
		const struct balance_service *bs = &pstate.rt.svcs[i];

		for (v = 0; v < bs->nversions; v++) {
			const struct balance_version *bv = &bs->versions[v];

			for (k = 0; k < bv->neps && n < STATS_EPS_MAX; k++) {
				const struct pcfg_endpoint *ep = bv->eps[k];
				struct stats_ep_rec *r;

				r = stats_ep(bs->svc->name, ep->version, ep->index, ep->addr, ep->port,
				    ep->host);
				if (r == NULL)
					continue;
				pstats_row(r, bv->beps[k], now_us);
				now[n++] = r;
			}
		}
	}
	for (i = 0; i < pstats_nrows; i++) {
		for (k = 0; k < n && now[k] != pstats_rows[i]; k++)
			;
		if (k == n)
			stats_ep_free(pstats_rows[i]);
	}
	memcpy(pstats_rows, now, n * sizeof(now[0]));
	pstats_nrows = n;
}

static void
pstats_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	pstats_sync();
}

void
pstats_start(struct ev_loop *loop)
{
	ev_timer_init(&pstats_timer, pstats_cb, PSTATS_INTERVAL_S, PSTATS_INTERVAL_S);
	ev_timer_start(loop, &pstats_timer);
}

void
pstats_stop(struct ev_loop *loop)
{
	ev_timer_stop(loop, &pstats_timer);
}
