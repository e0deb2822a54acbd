/* SPDX-License-Identifier: ISC */
/*
 * fwd_fault: FWD_DELAY — the faults a route injects (fault.h) into the
 * requests this sidecar sends for its app.  The decision comes once the
 * route and the endpoint are known (fwd_pick), so a version limit can
 * apply; nothing has gone upstream yet.
 *
 * An abort answers the status with `mesh-error: fault injected` through
 * fwd_refuse(): the endpoint's verdict is given up first (BALANCE_ABANDON),
 * so neither the breaker, the outlier detection nor the peak-EWMA hears
 * of it, and a refusal is never retried.  It counts as faults.abort and,
 * like any response, in the per-peer counts of the status it answered.
 *
 * A delay holds the request on the connection's one timer (retry_at,
 * FWD_DELAY), with no allocation: the balanced endpoint stays counted as
 * outstanding meanwhile, and its latency clock restarts when the request
 * goes, so the delay is in the client's latency but not the endpoint's.
 * A request without a body is watched for its client leaving (EOF or
 * error closes the connection through fwd_run, the one teardown path);
 * one with a body is not read during the delay, so its client is found
 * gone when the exchange goes on.  The route's timeout counts the delay.
 */
#include "mesh/fault.h"
#include "mesh/log.h"
#include "mesh/stats.h"
#include "fwd_int.h"

void
fwd_fault_decide(struct conn *c, const struct balance_service *bs,
                 const struct http_request *req)
{
	const struct pcfg_fault *f = &bs->svc->fault;
	unsigned got;

	if (req == NULL || !fault_applies(f, c->obs.peer_version, req->headers, req->nheaders))
		return;
	got = fault_draw(f, &fwd_rng);
	if (got & FAULT_DELAY) {
		c->x |= X_FAULT_DELAY;
		c->fault_delay_ms = f->delay_ms;
	}
	if (got & FAULT_ABORT) {
		c->x |= X_FAULT_ABORT;
		c->fault_status = (uint16_t)f->abort_status;
	}
}

/* -> FWD_REFUSE (FWD_CLOSING out of memory). */
void
fwd_fault_abort(struct conn *c)
{
	fwd_balanced(c, BALANCE_ABANDON);
	stats_inc(STAT_FAULTS_ABORT);
	log_debug("port %u: %s: injected %u", c->port,
	    c->rsvc != NULL ? c->rsvc->name : "?", c->fault_status);
	fwd_refuse(c, c->fault_status, FAULT_REASON, 0);
}

/* -> FWD_DELAY. */
void
fwd_fault_delay(struct conn *c)
{
	stats_inc(STAT_FAULTS_DELAY);
	c->obs.flags |= STATS_SF_DI;
	c->retry_at = ev_now(EV_DEFAULT) + c->fault_delay_ms / 1000.0;
	c->state = FWD_DELAY;
	conn_timer_update(c);
}

/* FWD_DELAY, on I/O: -> FWD_CLOSING when the client left (see above). */
void
fwd_fault_wait(struct conn *c)
{
	int r = 0;

	while (c->d.readable && side_has_room(&c->d)) {
		if ((r = side_fill(&c->d)) == -1 || r == 0)
			break;
	}
	if (r == -1 || c->d.eof || c->d.err) {
		log_debug("port %u: client left during an injected delay", c->port);
		c->state = FWD_CLOSING;
	}
}

/* FWD_DELAY is over (the timer): -> as fwd_connect(), or FWD_REFUSE
 * when an abort was drawn too. */
void
fwd_fault_go(struct conn *c)
{
	if (c->x & X_FAULT_ABORT) {
		fwd_fault_abort(c);
		return;
	}
	if (c->bep != NULL) {
		/* the endpoint's latency sample starts now, not at the pick */
		balance_done(c->bep, c->bstart, BALANCE_ABANDON);
		c->bstart = balance_start(c->bep);
	}
	fwd_connect(c, 0);
	conn_timer_update(c);
}
