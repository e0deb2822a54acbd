/* SPDX-License-Identifier: ISC */
/*
 * fwd_retry: a failed attempt goes again when the route says so
 * (retry.h's table): backoff, another endpoint, the head and the kept
 * body (replay.h) sent again; a pooled connection lost before any
 * response byte is retried once on a fresh one.  A tcp stream whose
 * connect failed goes again the same way (nothing of it went).
 */
#include <string.h>

#include "mesh/backoff.h"
#include "mesh/log.h"
#include "mesh/pstate.h"
#include "mesh/replay.h"
#include "mesh/retry.h"
#include "mesh/stats.h"
#include "mesh/transport_tls.h"
#include "fwd_int.h"

struct backoff_rng fwd_rng;

/* The request can go again as it went: none of its body went up, or all
 * that did is kept (replay.h). */
static int
fwd_resendable(const struct conn *c)
{
	return c->req.sent == 0 || (c->req.tap != NULL && replay_ok(&c->replay));
}

/* No byte of this attempt went to the upstream: the head goes first, and
 * none of it was taken.  A failure now is a connect failure (retry.h). */
int
fwd_unsent(const struct conn *c)
{
	return c->uhead != NULL && c->uhead_len > 0 && c->uhead->len == c->uhead_len;
}

/* The endpoint of the attempt that failed goes first in the list a
 * retry avoids (the oldest one falls off). */
static void
fwd_failed(struct conn *c, struct epaddr at)
{
	memmove(&c->failed[1], &c->failed[0], sizeof(c->failed) - sizeof(c->failed[0]));
	c->failed[0] = at;
	if (c->nfailed < CONN_FAILED_MAX)
		c->nfailed++;
}

/* Before it goes again: the head from its start, then the kept body. */
static void
fwd_rewind(struct conn *c)
{
	c->uhead->off = 0;
	c->uhead->len = c->uhead_len;
	if (c->req.sent > 0) {
		replay_rewind(&c->replay);
		c->x |= X_REPLAY;
	}
}

/*
 * An attempt failed (cause, status): retry it if the route says so
 * (retry.h's table).  1: the verdict is recorded, the upstream dropped and
 * the conn is in FWD_BACKOFF; 0: the caller goes on as without retries.
 */
int
fwd_retry(struct conn *c, enum retry_cause cause, int status)
{
	struct retry_attempt a;
	enum retry_verdict v;
	const struct pcfg_policy *p;

	if (c->rsvc == NULL || c->up == NULL)
		return 0;
	/* an opaque stream goes again only when it never reached anyone:
	 * its bytes are still in d.in */
	if (fwd_tcp_role(c) ? cause != RETRY_CAUSE_CONNECT : c->uhead == NULL)
		return 0;
	p = &c->rsvc->policy;
	memset(&a, 0, sizeof(a));
	a.cause = cause;
	a.status = status;
	a.retries_done = c->tries;
	a.idempotent = (c->x & X_IDEMPOTENT) != 0;
	a.body_len = c->body_len;
	/* a chunked body is known once it is all kept */
	if (a.body_len < 0 && c->req.done && c->req.tap != NULL && replay_ok(&c->replay))
		a.body_len = (int64_t)c->replay.total;
	/* what went up of the body must have been kept to go again; after a
	 * connect failure the upstream taking no more of it says nothing */
	a.replayable = fwd_resendable(c) &&
	    (cause == RETRY_CAUSE_CONNECT || !(c->x & X_REQ_ABANDON));
	a.response_started = (c->x & (X_RES_STARTED | X_INTERIM)) != 0;
	a.now_ms = fwd_now_ms();
	a.deadline_ms = c->deadline != 0 ? (uint64_t)(c->deadline * 1000.0) : 0;
	a.delay_ms = backoff_delay_ms(&fwd_rng, c->tries, p->backoff_base_ms, p->backoff_cap_ms);
	v = retry_decide(p, &a, &c->rsvc->budget);
	if (v != RETRY_GO) {
		if (v == RETRY_NO_BUDGET)
			stats_inc(STAT_RETRIES_BUDGET_EXHAUSTED);
		if (v != RETRY_NO_CAUSE)
			log_debug("port %u: %s: no retry: %s", c->port, c->rsvc->name,
			    retry_verdict_name(v));
		return 0;
	}
	fwd_balanced(c, BALANCE_FAIL);
	if (c->uc != NULL) {
		upstream_release(c->uc, 0);
		c->uc = NULL;
	}
	fwd_failed(c, c->up->addr);
	c->tries++;
	stats_inc(STAT_RETRIES);
	log_debug("port %u: %s: retry %u in %u ms after %s on " EPADDR_FMT, c->port,
	    c->rsvc->name, c->tries, a.delay_ms,
	    cause == RETRY_CAUSE_STATUS ? "a listed status" :
	    cause == RETRY_CAUSE_RESET ? "a reset" :
	    status != 0 ? "app not ready" : "a connect failure", EPADDR_ARGS(c->failed[0]));
	c->x &= ~(X_REQ_DONE | X_REQ_ABANDON | X_UP_KEEP);
	c->retry_at = ev_now(EV_DEFAULT) + a.delay_ms / 1000.0;
	c->state = FWD_BACKOFF;
	conn_timer_update(c);
	return 1;
}

/* FWD_BACKOFF is over: -> FWD_CONNECT, FWD_EXCHANGE, FWD_TUNNEL,
 * FWD_REFUSE or FWD_CLOSING (a tcp role cannot refuse). */
void
fwd_retry_go(struct conn *c)
{
	struct balance_service *bs;
	const char *reason = "no route";
	int code = 503;

	bs = route_service(&pstate.rt, c->rsvc->name, strlen(c->rsvc->name));
	if (bs == NULL || (code = fwd_balance(c, bs, &reason)) != 0) {
		if (fwd_tcp_role(c)) {
			stats_refusal(code);
			c->state = FWD_CLOSING;
		} else
			fwd_refuse(c, code, reason, 0);
		return;
	}
	if (fwd_tcp_role(c)) {
		fwd_connect(c, 1);   /* opaque streams never share a connection */
	} else {
		fwd_rewind(c);
		fwd_connect(c, 0);
	}
	conn_timer_update(c);
}

/*
 * The upstream closed or failed before a response head.  A connection
 * from the pool may have been closed by the peer while idle: retry once
 * on a fresh one if the request can go again as it went.  Lost before any
 * byte of the request went, it is a connect failure (retried always; an
 * inbound sidecar answers 503 app not ready); after, a reset.
 * -> FWD_CONNECT/FWD_EXCHANGE (retry), FWD_BACKOFF or FWD_REFUSE.
 */
void
fwd_upstream_lost(struct conn *c)
{
	struct upconn *uc = c->uc;
	int reset = uc->s.err, unsent = fwd_unsent(c);

	/* A pooled connection the peer closed meanwhile (the keep-alive
	 * race), or a fresh one on a resumed TLS session the callee's
	 * sidecar no longer honours (transport_tls.h; it refuses before
	 * any byte reaches its app, and the session is forgotten now):
	 * once more on a fresh connection. */
	if ((uc->reused || transport_tls_resumed(&uc->s.tc)) &&
	    !(c->x & (X_RETRIED | X_REQ_ABANDON)) && fwd_resendable(c) &&
	    c->uhead != NULL && (uc->s.in == NULL || uc->s.in->len == 0)) {
		c->x |= X_RETRIED;
		c->x &= ~X_REQ_DONE;
		upstream_close(uc);
		c->uc = NULL;
		fwd_rewind(c);
		fwd_connect(c, 1);
		return;
	}
	log_warnx("port %u: upstream " EPADDR_FMT " %s before %s", c->port,
	    EPADDR_ARGS(c->up->addr),
	    reset ? "reset" : "closed", unsent ? "any byte of the request" : "a response");
	if (fwd_retry(c, unsent ? RETRY_CAUSE_CONNECT : RETRY_CAUSE_RESET, 0))
		return;
	if (unsent && fwd_inbound(c))
		fwd_refuse(c, 503, FWD_APP_NOT_READY, 0);
	else
		fwd_refuse(c, 502, reset ? "upstream reset" : "upstream closed", 0);
}
