/* SPDX-License-Identifier: ISC */
/*
 * fwd: the loop that runs the handlers of enum fwd_state (conn.h), the
 * handlers of the states that end an exchange (tunnel, refusal, linger),
 * the teardown of an exchange and the helpers the other fwd_*.c share.
 * fwd_run() calls the handler of the current state until the state stops
 * changing, then arms the watchers, or closes the connection when a
 * handler left it in FWD_CLOSING: that is the only conn_close() of the
 * data path, so no handler has to ask whether the connection still exists.
 */
#include <string.h>
#include <strings.h>

#include "mesh/breaker.h"
#include "mesh/fault.h"
#include "mesh/fwd.h"
#include "mesh/h2.h"
#include "mesh/head.h"
#include "mesh/log.h"
#include "mesh/obs.h"
#include "mesh/replay.h"
#include "mesh/retry.h"
#include "mesh/stats.h"
#include "fwd_int.h"

#define LINGER_S 2.0

/* The balancer and the retries have no per-connection set-up to hang
 * this on, and must have it before the first request is balanced. */
void
fwd_init(void)
{
	balance_set_gate(breaker_gate);
	backoff_seed(&fwd_rng, 0);
}

/* The event loop's clock in ms: the budget's and the deadline's. */
uint64_t
fwd_now_ms(void)
{
	return (uint64_t)(ev_now(EV_DEFAULT) * 1000.0);
}

int
fwd_tcp_role(const struct conn *c)
{
	return c->role == ROLE_LISTEN_TCP || c->role == ROLE_INBOUND_TCP;
}

int
fwd_inbound(const struct conn *c)
{
	return c->role == ROLE_INBOUND_HTTP || c->role == ROLE_INBOUND_TCP;
}

struct buf *
fwd_dhead(struct conn *c)
{
	if (c->dhead == NULL)
		c->dhead = buf_get();
	return c->dhead;
}

/* The request no longer waits for an upstream (max_pending). */
void
fwd_pending_leave(struct conn *c)
{
	if ((c->x & X_PENDING) && c->rsvc != NULL && c->rsvc->pending > 0)
		c->rsvc->pending--;
	c->x &= ~X_PENDING;
}

/* The balanced exchange ended (balance.h); a no-op once it was said. */
void
fwd_balanced(struct conn *c, enum balance_outcome o)
{
	/* the same verdict is the breaker's (breaker.h says what fails) */
	if (c->brk != NULL) {
		const struct pcfg_policy *p = c->rsvc != NULL ? &c->rsvc->policy : NULL;

		if (o == BALANCE_OK)
			breaker_success(c->brk);
		else if (o == BALANCE_FAIL && p != NULL)
			breaker_failure(c->brk, p->breaker_failures, p->breaker_cooldown_ms,
			    breaker_now_ms());
		else
			breaker_abandon(c->brk);
		c->brk = NULL;
	}
	if (c->bep != NULL) {
		balance_done(c->bep, c->bstart, o);
		c->bep = NULL;
	}
}

/* No retry can come any more: the kept body goes back to the pool. */
void
fwd_replay_end(struct conn *c)
{
	c->req.tap = NULL;
	replay_end(&c->replay);
}

/* Release the upstream side of the exchange. */
static void
fwd_drop_upstream(struct conn *c, int reusable)
{
	fwd_balanced(c, BALANCE_ABANDON);
	fwd_pending_leave(c);
	fwd_replay_end(c);
	upstream_unwait(&c->wait);
	if (c->uc != NULL) {
		upstream_release(c->uc, reusable);
		c->uc = NULL;
	}
	buf_put(c->uhead);
	c->uhead = NULL;
}

/* -> FWD_LINGER: our direction shut, input discarded until EOF.
 * FWD_CLOSING when even the shutdown fails. */
static void
fwd_linger(struct conn *c)
{
	if (!c->d.shut) {
		c->d.shut = 1;
		if (tconn_shutdown(&c->d.tc) == -1) {
			c->state = FWD_CLOSING;
			return;
		}
	}
	c->state = FWD_LINGER;
	c->head_start = ev_now(EV_DEFAULT) + LINGER_S;
	conn_timer_update(c);
}

/*
 * fwd.h.  The upstream connection is reusable only when its response went
 * down whole, did not end with the connection, and the upstream took the
 * whole request: anything cut short leaves that leg mid-message.  On a
 * live connection -> FWD_IDLE (the next request) or FWD_LINGER (X_CLOSE);
 * from conn_close() (FWD_CLOSED) it only releases.
 */
void
fwd_end(struct conn *c)
{
	int reuse = (c->x & (X_UP_KEEP | X_RES_DONE)) == (X_UP_KEEP | X_RES_DONE) &&
	    !(c->x & X_REQ_ABANDON) && c->res.kind != RELAY_EOF;

	if (c->h2 != NULL) {
		h2_end(c);     /* FWD_H2 ends only with the connection */
		return;
	}

	obs_end(&c->obs, c->tries, c->req.sent, c->res.sent);   /* aborted, if still open */
	if (c->x & X_MIRROR)
		fwd_mirror_go(c);   /* never went up whole: skipped */
	fwd_drop_upstream(c, reuse);
	buf_put(c->dhead);
	c->dhead = NULL;
	if (c->state == FWD_CLOSED)
		return;
	if (c->x & X_CLOSE) {
		fwd_linger(c);
		return;
	}
	c->x = 0;
	c->state = FWD_IDLE;
	side_trim(&c->d);
}

/*
 * -> FWD_REFUSE: answer with a mesh-error response of our own.  `close`
 * when the client's stream is not at a request boundary.  Once a final
 * response has started going down, all we can do is close (FWD_CLOSING).
 */
static void fwd_refuse_(struct conn *c, int code, const char *reason, int close, int ours);

void
fwd_refuse(struct conn *c, int code, const char *reason, int close)
{
	/* an injected abort is no refusal of the mesh: faults.abort counts it */
	fwd_refuse_(c, code, reason, close, strcmp(reason, FAULT_REASON) != 0);
}

/* The callee's sidecar refused (code, reason: its mesh-error) and this
 * sidecar says so again in its caller's terms: counted as a response,
 * not as a refusal of this sidecar. */
void
fwd_refuse_relayed(struct conn *c, int code, const char *reason)
{
	fwd_refuse_(c, code, reason, 0, 0);
}

static void
fwd_refuse_(struct conn *c, int code, const char *reason, int close, int ours)
{
	struct buf *b;

	log_debug("port %u: %d %s", c->port, code, reason);
	fwd_balanced(c, code >= 502 ? BALANCE_FAIL : BALANCE_ABANDON);
	if (c->x & X_RES_STARTED) {
		c->obs.flags |= code == 504 ? STATS_SF_UT : STATS_SF_UR;
		c->state = FWD_CLOSING;
		return;
	}
	fwd_drop_upstream(c, 0);
	if (!(c->x & (X_NOBODY | X_REQ_DONE)) || (c->x & X_REQ_ABANDON))
		close = 1;
	if (!(c->x & X_KEEPALIVE) || (c->x & X_HTTP10) || conn_draining())
		close = 1;
	if ((b = fwd_dhead(c)) == NULL ||
	    head_refusal(b, code, reason, (close ? HEAD_CLOSE : 0) |
	    ((c->x & X_GRPC) ? HEAD_GRPC : 0)) == -1) {
		c->state = FWD_CLOSING;
		return;
	}
	if (close)
		c->x |= X_CLOSE;
	c->x |= X_RES_STARTED;
	c->state = FWD_REFUSE;
	obs_refusal(&c->obs, code, reason);
	if (ours)
		stats_refusal(code);
	stats_response(fwd_inbound(c), code);
}

/* FWD_TUNNEL: -> FWD_CLOSING once both directions ended, or one failed. */
static void
fwd_tunnel(struct conn *c)
{
	enum relay_result r;

	r = relay_pump(&c->d, &c->uc->s, &c->req, NULL, 1);
	if (r == RELAY_DONE)
		c->x |= X_REQ_DONE;
	else if (r != RELAY_AGAIN) {
		c->state = FWD_CLOSING;
		return;
	}
	r = relay_pump(&c->uc->s, &c->d, &c->res, c->dhead, 1);
	if (r == RELAY_DONE)
		c->x |= X_RES_DONE;
	else if (r != RELAY_AGAIN) {
		c->state = FWD_CLOSING;
		return;
	}
	if ((c->x & (X_REQ_DONE | X_RES_DONE)) == (X_REQ_DONE | X_RES_DONE))
		c->state = FWD_CLOSING;
}

/* FWD_REFUSE: -> FWD_IDLE, FWD_LINGER or FWD_CLOSING. */
static void
fwd_refusing(struct conn *c)
{
	if (c->dhead != NULL && c->dhead->len > 0) {
		if (c->d.wblocked)
			return;
		if (side_send(&c->d, c->dhead, NULL, 0) == -1) {
			c->state = FWD_CLOSING;
			return;
		}
		if (c->dhead->len > 0)
			return;
	}
	fwd_end(c);
}

/* FWD_LINGER: -> FWD_CLOSING at EOF or error (the timer: at the deadline). */
static void
fwd_lingering(struct conn *c)
{
	int r;

	while (c->d.readable) {
		r = side_fill(&c->d);
		if (r == -1) {
			c->state = FWD_CLOSING;
			return;
		}
		if (c->d.in != NULL)
			buf_consume(c->d.in, c->d.in->len);
		if (r == 0)
			break;
	}
	side_trim(&c->d);
}

static void
fwd_arm(struct conn *c)
{
	int dr = 0, ur = 0;
	int room_d = side_has_room(&c->d);
	struct side *u = (c->uc != NULL && c->uc->state == UC_BUSY) ? &c->uc->s : NULL;

	switch (c->state) {
	case FWD_IDLE:
	case FWD_REQ_HEAD:
	case FWD_LINGER:
		dr = room_d;
		break;
	case FWD_DELAY:
		/* only to see the client leave: the next request may be read */
		dr = room_d && (c->x & X_NOBODY) && !c->d.eof;
		break;
	case FWD_EXCHANGE:
	case FWD_RES_BODY:
		dr = room_d && !c->d.eof;
		ur = u != NULL && (c->state == FWD_EXCHANGE || !c->res.done) && side_has_room(u);
		break;
	case FWD_H2:
		dr = room_d && !c->d.eof;
		break;
	case FWD_TUNNEL:
		dr = !c->req.done && room_d;
		ur = u != NULL && !c->res.done && side_has_room(u);
		break;
	case FWD_CONNECT:
	case FWD_BACKOFF:
	case FWD_REFUSE:
	case FWD_CLOSING:
	case FWD_CLOSED:
		break;
	}
	side_arm(EV_DEFAULT, &c->d, dr, c->d.wblocked);
	if (u != NULL)
		side_arm(EV_DEFAULT, u, ur, u->wblocked);
}

void
fwd_run(struct conn *c)
{
	enum fwd_state before;
	struct upconn *uc;
	int guard;

	/* A bounded number of state changes per event keeps one busy
	 * pipelining client from starving the others. */
	for (guard = 0; guard < 64; guard++) {
		before = c->state;
		uc = c->uc;
		switch (c->state) {
		case FWD_IDLE:
		case FWD_REQ_HEAD:
			fwd_head(c);
			break;
		case FWD_EXCHANGE:
		case FWD_RES_BODY:
			fwd_exchange(c);
			break;
		case FWD_TUNNEL:
			fwd_tunnel(c);
			break;
		case FWD_REFUSE:
			fwd_refusing(c);
			break;
		case FWD_LINGER:
			fwd_lingering(c);
			break;
		case FWD_DELAY:
			fwd_fault_wait(c);
			break;
		case FWD_H2:
			h2_run(c);
			break;
		case FWD_CONNECT:
		case FWD_BACKOFF:
		case FWD_CLOSING:
		case FWD_CLOSED:
			break;
		}
		/* Same state on a new upstream (a retry) is progress too. */
		if ((c->state == before && c->uc == uc) || c->state == FWD_CLOSING)
			break;
	}
	if (c->state == FWD_CLOSING)
		conn_close(c);
	else if (c->state != FWD_CLOSED)
		fwd_arm(c);
}

void
fwd_notify(void *owner, struct upconn *uc, enum upconn_event ev)
{
	struct conn *c = owner;

	if (c->uc != uc || c->state == FWD_CLOSED)
		return;
	switch (ev) {
	case UC_EV_CONNECTED:
		fwd_connected(c);
		break;
	case UC_EV_FAILED:
	case UC_EV_TIMEOUT:
		c->uc = NULL;
		fwd_connect_failed(c, uc->errnum, ev == UC_EV_TIMEOUT);
		break;
	case UC_EV_IO:
		c->active = ev_now(EV_DEFAULT);
		break;
	}
	fwd_run(c);
}

void
fwd_begin(struct conn *c)
{
	const char *reason;
	int code;

	c->state = FWD_IDLE;
	if (fwd_tcp_role(c)) {
		if ((code = fwd_pick(c, NULL, &reason)) != 0) {
			stats_refusal(code);
			log_warnx("port %u: %s for %s", c->port, reason,
			    c->role == ROLE_INBOUND_TCP ? "the app" : c->service);
			c->state = FWD_CLOSING;
		} else {
			/* Opaque streams never share a connection. */
			fwd_connect(c, 1);
		}
	}
	fwd_run(c);
}

void
fwd_timeout(struct conn *c)
{
	int late = c->deadline != 0 && ev_now(EV_DEFAULT) >= c->deadline;

	if (late && (c->state == FWD_CONNECT || c->state == FWD_EXCHANGE ||
	    c->state == FWD_BACKOFF || c->state == FWD_DELAY || c->state == FWD_RES_BODY)) {
		/* the route's timeout: retries included; a response already
		 * under way can only be cut */
		stats_inc(STAT_TIMEOUTS);
		log_debug("port %u: %s: request timeout", c->port,
		    c->rsvc != NULL ? c->rsvc->name : "?");
		c->deadline = 0;
		if (c->x & X_RES_STARTED) {
			c->obs.flags |= STATS_SF_UT;
			fwd_balanced(c, BALANCE_FAIL);
			c->state = FWD_CLOSING;
		} else {
			fwd_refuse(c, 504, "timeout", 0);
		}
		fwd_run(c);
		return;
	}
	switch (c->state) {
	case FWD_BACKOFF:
		fwd_retry_go(c);
		break;
	case FWD_DELAY:
		fwd_fault_go(c);
		break;
	case FWD_REQ_HEAD:
		fwd_refuse(c, 408, "header timeout", 1);
		break;
	case FWD_H2:
		h2_timeout(c);
		break;
	case FWD_CONNECT:
		if (c->wait.up != NULL) {
			fwd_wait_expired(c);
			break;
		}
		/* FALLTHROUGH */
	case FWD_EXCHANGE:
		if (!(c->x & X_RES_STARTED)) {
			fwd_refuse(c, 504, "upstream timeout", 1);
			break;
		}
		/* FALLTHROUGH */
	default:
		c->state = FWD_CLOSING;
		break;
	}
	fwd_run(c);
}
