/* SPDX-License-Identifier: ISC */
/*
 * fwd_route: where a request goes — the route's policy (max_pending,
 * budget, deadline), the balanced endpoint behind its breaker, and the
 * upstream connection (pooled or new).
 */
#include <errno.h>
#include <string.h>

#include "mesh/breaker.h"
#include "mesh/container_of.h"
#include "mesh/ident.h"
#include "mesh/log.h"
#include "mesh/obs.h"
#include "mesh/pstate.h"
#include "mesh/relay.h"
#include "mesh/stats.h"
#include "mesh/transport_tls.h"
#include "fwd_int.h"

static const char CONTINUE_100[] = "HTTP/1.1 100 Continue\r\n\r\n";

/* The upstream connection is ready: -> FWD_EXCHANGE or FWD_TUNNEL
 * (FWD_CLOSING out of memory). */
void
fwd_connected(struct conn *c)
{
	struct buf *b;

	if (fwd_tcp_role(c)) {
		fwd_balanced(c, BALANCE_OK);    /* a tunnel's sample: its connect */
		flow_start(&c->req, RELAY_TUNNEL, 0, &pstate.hlim, &c->d);
		flow_start(&c->res, RELAY_TUNNEL, 0, &pstate.hlim, &c->uc->s);
		/* A protocol where the server speaks first (a database greeting)
		 * writes nothing up: one read attempt starts the mTLS handshake,
		 * which would otherwise wait for a byte that never comes. */
		if (c->uc->s.tc.t != &transport_plain)
			c->uc->s.readable = 1;
		c->state = FWD_TUNNEL;
		return;
	}
	c->state = FWD_EXCHANGE;
	/* The app behind this sidecar may not implement 100-continue: we
	 * have an upstream and will relay the body, so say so ourselves. */
	if ((c->x & X_CONTINUE) && !(c->x & X_RETRIED)) {
		if ((b = fwd_dhead(c)) == NULL) {
			c->state = FWD_CLOSING;
			return;
		}
		buf_append(b, CONTINUE_100, sizeof(CONTINUE_100) - 1);
		c->x |= X_INTERIM;
	}
}

/*
 * The connect to c->up failed (errno err, or the connect timeout): the
 * route retries it (always, retry.h), or the refusal.  An inbound sidecar
 * whose app refused answers 503 FWD_APP_NOT_READY (fwd_int.h), which the
 * caller retries elsewhere; a timeout stays a 504 (an app too busy to
 * accept is not one that is starting), anything else a 502.
 * -> FWD_BACKOFF, FWD_REFUSE or FWD_CLOSING (a tcp role cannot refuse).
 */
void
fwd_connect_failed(struct conn *c, int err, int timeout)
{
	errno = err;
	log_warn("port %u: connect to " EPADDR_FMT, c->port, EPADDR_ARGS(c->up->addr));
	if (fwd_retry(c, RETRY_CAUSE_CONNECT, 0))
		return;
	fwd_balanced(c, BALANCE_FAIL);
	if (fwd_tcp_role(c)) {
		stats_inc(STAT_REFUSED_UPSTREAM_ERROR);
		c->state = FWD_CLOSING;
	} else if (timeout)
		fwd_refuse(c, 504, "upstream connect timeout", 0);
	else if (fwd_inbound(c) && (err == ECONNREFUSED || err == ECONNRESET ||
	    err == ECONNABORTED))
		fwd_refuse(c, 503, FWD_APP_NOT_READY, 0);
	else
		fwd_refuse(c, 502, "upstream connect failed", 0);
}

/* A connection to c->up may be had now (upstream.h, "Opening"). */
static void
fwd_wake(struct upwait *w)
{
	struct conn *c = container_of(w, struct conn, wait);

	if (c->state != FWD_CONNECT || c->uc != NULL)
		return;
	fwd_connect(c, w->fresh);
	fwd_run(c);
}

/* FWD_CONNECT waiting, and its time is up: the upstream is busy opening
 * connections for others, which says nothing against the endpoint (no
 * breaker failure): 503 overloaded, as max_pending.  -> FWD_REFUSE or
 * FWD_CLOSING (a tcp role). */
void
fwd_wait_expired(struct conn *c)
{
	upstream_unwait(&c->wait);
	stats_inc(STAT_OVERLOADED);
	log_debug("port %u: no connection to " EPADDR_FMT " within the connect timeout "
	    "(%u opening, %u waiting)", c->port, EPADDR_ARGS(c->up->addr), c->up->nopening,
	    c->up->nwait);
	fwd_balanced(c, BALANCE_ABANDON);   /* first: fwd_refuse would fail it */
	if (fwd_tcp_role(c))
		c->state = FWD_CLOSING;
	else
		fwd_refuse(c, 503, "overloaded", 0);
}

/* No descriptor or memory for a new upstream connection: this sidecar is
 * out of resources, which says nothing about the endpoint (no breaker
 * failure, no retry that would fail the same way): 503 overloaded, logged
 * at most every 10 s.  -> FWD_REFUSE or FWD_CLOSING (a tcp role). */
static void
fwd_connect_exhausted(struct conn *c, int err)
{
	static ev_tstamp warned;
	static unsigned long quiet;

	stats_inc(STAT_OVERLOADED);
	if (ev_now(EV_DEFAULT) - warned >= 10.) {
		log_warnx("port %u: no resources for a connection to " EPADDR_FMT " (%s): "
		    "answering 503 overloaded (%lu more since the last warning)",
		    c->port, EPADDR_ARGS(c->up->addr), strerror(err), quiet);
		warned = ev_now(EV_DEFAULT);
		quiet = 0;
	} else
		quiet++;
	fwd_balanced(c, BALANCE_ABANDON);   /* first: fwd_refuse would fail it */
	if (fwd_tcp_role(c))
		c->state = FWD_CLOSING;
	else
		fwd_refuse(c, 503, "overloaded", 0);
}

/* -> FWD_CONNECT (connecting, or waiting for a connection: wait linked,
 * until retry_at), FWD_EXCHANGE/FWD_TUNNEL (connected at once), or as
 * fwd_connect_failed(). */
void
fwd_connect(struct conn *c, int fresh)
{
	struct upconn *uc = upstream_acquire(c->up, fresh, fwd_notify, c);

	if (uc == NULL && errno == EBUSY) {
		c->wait.wake = fwd_wake;
		upstream_wait(c->up, &c->wait, fresh);
		c->state = FWD_CONNECT;
		c->retry_at = ev_now(EV_DEFAULT) + upstream_connect_timeout(c->up);
		conn_timer_update(c);
		return;
	}
	if (uc == NULL && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	    errno == ENOMEM)) {
		fwd_connect_exhausted(c, errno);
		return;
	}
	if (uc == NULL) {
		fwd_connect_failed(c, errno, 0);
		return;
	}
	c->uc = uc;
	if (uc->state == UC_BUSY)
		fwd_connected(c);
	else
		c->state = FWD_CONNECT;
}

/*
 * The route's policy for a request to bs (the caller's side only):
 * max_pending, the budget's request count, the request deadline.
 * 0, or 503 overloaded.
 */
static int
fwd_policy_enter(struct conn *c, struct balance_service *bs, const char **reason)
{
	struct retry_svc *rs;

	rs = retry_svc_get(bs->svc->name, strlen(bs->svc->name), &bs->svc->policy);
	if (rs == NULL)
		return 0;   /* table full: this service runs without policy state */
	if (rs->pending >= rs->policy.max_pending) {
		stats_inc(STAT_OVERLOADED);
		log_debug("port %u: %s: %u requests pending (max_pending)", c->port,
		    rs->name, rs->pending);
		*reason = "overloaded";
		return 503;
	}
	c->rsvc = rs;
	rs->pending++;
	c->x |= X_PENDING;
	budget_request(&rs->budget, fwd_now_ms());
	if (rs->policy.timeout_ms != 0 && !fwd_tcp_role(c))
		c->deadline = ev_now(EV_DEFAULT) + rs->policy.timeout_ms / 1000.0;
	return 0;
}

/*
 * An endpoint of bs for this attempt, avoiding those that just failed,
 * skipping open breakers (the balancer's gate): c->up, c->bep, c->brk.
 * 0, or 503 no healthy upstream.
 */
int
fwd_balance(struct conn *c, struct balance_service *bs, const char **reason)
{
	const struct pcfg_endpoint *ep;

	if ((ep = balance_pick_ep(bs, c->failed, c->nfailed, &c->bep)) == NULL) {
		*reason = "no healthy upstream";
		return 503;
	}
	obs_upstream(&c->obs, ep->version, ep->index);
	if ((c->up = upstream_get_at(balance_ep_addr(ep), transport_mesh())) == NULL) {
		*reason = "out of memory";
		return 503;
	}
	c->bstart = balance_start(c->bep);
	if (c->rsvc != NULL) {
		c->up->connect_s = c->rsvc->policy.connect_timeout_ms / 1000.0;
		if ((c->brk = breaker_get(balance_ep_addr(ep))) != NULL)
			breaker_begin(c->brk, breaker_now_ms());
	}
	return 0;
}

/* Where this connection's request goes: 0, or the refusal code. */
int
fwd_pick(struct conn *c, const struct http_request *req, const char **reason)
{
	struct balance_service *bs = NULL;

	switch (c->role) {
	case ROLE_INBOUND_HTTP:
	case ROLE_INBOUND_TCP:
		/* `allow`, per request: the caller's identity was verified by
		 * the mTLS handshake (tcp inbounds refuse at the handshake) */
		if (c->role == ROLE_INBOUND_HTTP && ident_enabled() &&
		    !ident_allowed(transport_tls_peer(&c->d.tc))) {
			log_debug("port %u: caller %s not allowed", c->port,
			    transport_tls_peer(&c->d.tc) != NULL ? transport_tls_peer(&c->d.tc) : "?");
			*reason = "not allowed";
			return 403;
		}
		if (pstate.cfg == NULL || pstate.cfg->app_port == 0) {
			*reason = "no app";
			return 503;
		}
		if (c->role == ROLE_INBOUND_HTTP && pcfg_proto_h2(pstate.cfg->inbound_proto)) {
			*reason = "service speaks HTTP/2";
			return 505;
		}
		c->up = upstream_get(pstate.cfg->app_port, &transport_plain);
		break;
	case ROLE_OUTBOUND:
		bs = route_lookup(&pstate.rt, req->authority, req->authority_len);
		if (bs == NULL || !pcfg_proto_l7(bs->svc->proto)) {
			*reason = "no route";
			return 404;
		}
		break;
	case ROLE_LISTEN_HTTP:
	case ROLE_LISTEN_TCP:
		bs = route_service(&pstate.rt, c->service, strlen(c->service));
		if (bs == NULL) {
			*reason = "no route";
			return 404;
		}
		break;
	}
	if (bs != NULL && req != NULL && pcfg_proto_h2(bs->svc->proto)) {
		*reason = "service speaks HTTP/2";   /* no translation (h2.h) */
		return 505;
	}
	if (bs != NULL) {
		int code;

		obs_route(&c->obs, bs->svc->name);
		if ((code = fwd_policy_enter(c, bs, reason)) != 0 ||
		    (code = fwd_balance(c, bs, reason)) != 0)
			return code;
		fwd_fault_decide(c, bs, req);   /* after balancing: fault.version */
		fwd_mirror_decide(c, bs);
	}
	if (c->up == NULL) {
		*reason = "out of memory";
		return 503;
	}
	return 0;
}
