/*
 * fwd: one handler per state of enum fwd_state (conn.h); each says which
 * states it leaves in.  fwd_run() calls the handler of the current state
 * until the state stops changing, then arms the watchers.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "mesh/backoff.h"
#include "mesh/breaker.h"
#include "mesh/fwd.h"
#include "mesh/head.h"
#include "mesh/ident.h"
#include "mesh/log.h"
#include "mesh/obs.h"
#include "mesh/pstate.h"
#include "mesh/replay.h"
#include "mesh/retry.h"
#include "mesh/stats.h"
#include "mesh/transport_tls.h"

#define LINGER_S 2.0

/* conn.x flags private to this file */
#define X_NOBODY      0x1000u  /* the request has no body: the stream is clean at once */
#define X_UP_KEEP     0x2000u  /* the upstream said its leg may persist */
#define X_REQ_ABANDON 0x4000u  /* the upstream stopped taking the request body */
#define X_IDEMPOTENT  0x8000u  /* GET HEAD OPTIONS PUT DELETE TRACE (retry.h) */
#define X_PENDING     0x10000u /* counted in rsvc->pending (max_pending) */
#define X_INTERIM     0x20000u /* a 1xx went (or is going) downstream: no retry */
#define X_REPLAY      0x40000u /* a retry: uhead, then the kept body (replay.h), go first */

static const char CONTINUE_100[] = "HTTP/1.1 100 Continue\r\n\r\n";

static void fwd_notify(void *owner, struct upconn *uc, enum upconn_event ev);
static void fwd_connect(struct conn *c, int fresh);
static void fwd_refuse(struct conn *c, int code, const char *reason, int close);
static int  fwd_retry(struct conn *c, enum retry_cause cause, int status);

static struct backoff_rng fwd_rng;

/* The event loop's clock in ms: the budget's and the deadline's. */
static uint64_t
fwd_now_ms(void)
{
	return (uint64_t)(ev_now(EV_DEFAULT) * 1000.0);
}

static int
fwd_tcp_role(const struct conn *c)
{
	return c->role == ROLE_LISTEN_TCP || c->role == ROLE_INBOUND_TCP;
}

static int
fwd_inbound(const struct conn *c)
{
	return c->role == ROLE_INBOUND_HTTP || c->role == ROLE_INBOUND_TCP;
}

static struct buf *
fwd_dhead(struct conn *c)
{
	if (c->dhead == NULL)
		c->dhead = buf_get();
	return c->dhead;
}

/* The request no longer waits for an upstream (max_pending). */
static void
fwd_pending_leave(struct conn *c)
{
	if ((c->x & X_PENDING) && c->rsvc != NULL && c->rsvc->pending > 0)
		c->rsvc->pending--;
	c->x &= ~X_PENDING;
}

/* The balanced exchange ended (balance.h); a no-op once it was said. */
static void
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
static void
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
	if (c->uc != NULL) {
		upstream_release(c->uc, reusable);
		c->uc = NULL;
	}
	buf_put(c->uhead);
	c->uhead = NULL;
}

void
fwd_end(struct conn *c)
{
	obs_end(&c->obs, c->tries, c->req.sent, c->res.sent);   /* aborted, if still open */
	fwd_drop_upstream(c, 0);
	buf_put(c->dhead);
	c->dhead = NULL;
}

/* -> FWD_LINGER: our direction shut, input discarded until EOF. */
static void
fwd_linger(struct conn *c)
{
	fwd_end(c);
	if (!c->d.shut) {
		c->d.shut = 1;
		if (tconn_shutdown(&c->d.tc) == -1) {
			conn_close(c);
			return;
		}
	}
	c->state = FWD_LINGER;
	c->head_start = ev_now(EV_DEFAULT) + LINGER_S;
	conn_timer_update(c);
}

/*
 * -> FWD_REFUSE: answer with a mesh-error response of our own.  `close`
 * when the client's stream is not at a request boundary.  Once a final
 * response has started going down, all we can do is close.
 */
static void
fwd_refuse(struct conn *c, int code, const char *reason, int close)
{
	struct buf *b;

	log_debug("port %u: %d %s", c->port, code, reason);
	fwd_balanced(c, code >= 502 ? BALANCE_FAIL : BALANCE_ABANDON);
	if (c->x & X_RES_STARTED) {
		c->obs.flags |= code == 504 ? STATS_SF_UT : STATS_SF_UR;
		conn_close(c);
		return;
	}
	fwd_drop_upstream(c, 0);
	if (!(c->x & (X_NOBODY | X_REQ_DONE)) || (c->x & X_REQ_ABANDON))
		close = 1;
	if (!(c->x & X_KEEPALIVE) || (c->x & X_HTTP10) || conn_draining())
		close = 1;
	if ((b = fwd_dhead(c)) == NULL ||
	    head_refusal(b, code, reason, close ? HEAD_CLOSE : 0) == -1) {
		conn_close(c);
		return;
	}
	if (close)
		c->x |= X_CLOSE;
	c->x |= X_RES_STARTED;
	c->state = FWD_REFUSE;
	obs_refusal(&c->obs, code, reason);
	stats_refusal(code);
	stats_response(fwd_inbound(c), code);
}

/* After a complete exchange: -> FWD_IDLE (next request) or FWD_LINGER. */
static void
fwd_finish(struct conn *c)
{
	int reuse = (c->x & X_UP_KEEP) && c->res.kind != RELAY_EOF && !(c->x & X_REQ_ABANDON);

	obs_end(&c->obs, c->tries, c->req.sent, c->res.sent);
	fwd_drop_upstream(c, reuse);
	buf_put(c->dhead);
	c->dhead = NULL;
	if (c->x & X_CLOSE) {
		fwd_linger(c);
		return;
	}
	c->x = 0;
	c->state = FWD_IDLE;
	side_trim(&c->d);
}

/* The upstream connection is ready: -> FWD_EXCHANGE or FWD_TUNNEL. */
static void
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
			conn_close(c);
			return;
		}
		buf_append(b, CONTINUE_100, sizeof(CONTINUE_100) - 1);
		c->x |= X_INTERIM;
	}
}

/* -> FWD_CONNECT, FWD_EXCHANGE (pooled connection) or FWD_REFUSE. */
static void
fwd_connect(struct conn *c, int fresh)
{
	struct upconn *uc = upstream_acquire(c->up, fresh, fwd_notify, c);

	if (uc == NULL) {
		log_warn("port %u: connect to 127.0.0.1:%u", c->port, c->up->port);
		if (fwd_retry(c, RETRY_CAUSE_CONNECT, 0))
			return;
		fwd_balanced(c, BALANCE_FAIL);
		if (fwd_tcp_role(c)) {
			stats_inc(STAT_REFUSED_UPSTREAM_ERROR);
			conn_close(c);
		} else
			fwd_refuse(c, 502, "upstream connect failed", 0);
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
 * An endpoint of bs for this attempt, avoiding the one that just failed,
 * skipping open breakers (the balancer's gate): c->up, c->bep, c->brk.
 * 0, or 503 no healthy upstream.
 */
static int
fwd_balance(struct conn *c, struct balance_service *bs, const char **reason)
{
	static int gated;
	const struct pcfg_endpoint *ep;

	if (!gated) {
		balance_set_gate(breaker_gate);
		backoff_seed(&fwd_rng, 0);
		gated = 1;
	}
	if ((ep = balance_pick_ep(bs, c->failed_port, &c->bep)) == NULL) {
		*reason = "no healthy upstream";
		return 503;
	}
	obs_upstream(&c->obs, ep->version, ep->index);
	if ((c->up = upstream_get(ep->port, transport_mesh())) == NULL) {
		*reason = "out of memory";
		return 503;
	}
	c->bstart = balance_start(c->bep);
	if (c->rsvc != NULL) {
		c->up->connect_s = c->rsvc->policy.connect_timeout_ms / 1000.0;
		if ((c->brk = breaker_get(ep->port)) != NULL)
			breaker_begin(c->brk, breaker_now_ms());
	}
	return 0;
}

/* Where this connection's request goes: 0, or the refusal code. */
static int
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
		c->up = upstream_get(pstate.cfg->app_port, &transport_plain);
		break;
	case ROLE_OUTBOUND:
		bs = route_lookup(&pstate.rt, req->authority, req->authority_len);
		if (bs == NULL || bs->svc->proto != PCFG_HTTP) {
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
	if (bs != NULL) {
		int code;

		obs_route(&c->obs, bs->svc->name);
		if ((code = fwd_policy_enter(c, bs, reason)) != 0 ||
		    (code = fwd_balance(c, bs, reason)) != 0)
			return code;
	}
	if (c->up == NULL) {
		*reason = "out of memory";
		return 503;
	}
	return 0;
}

/*
 * An attempt failed (cause, status): retry it if the route says so
 * (retry.h's table).  1: the verdict is recorded, the upstream dropped and
 * the conn is in FWD_BACKOFF; 0: the caller goes on as without retries.
 */
static int
fwd_retry(struct conn *c, enum retry_cause cause, int status)
{
	struct retry_attempt a;
	enum retry_verdict v;
	const struct pcfg_policy *p;

	if (c->rsvc == NULL || fwd_tcp_role(c) || c->uhead == NULL || c->up == NULL)
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
	/* what went up of the body must have been kept to go again */
	a.replayable = (c->req.sent == 0 || (c->req.tap != NULL && replay_ok(&c->replay))) &&
	    !(c->x & X_REQ_ABANDON);
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
	c->failed_port = c->up->port;
	c->tries++;
	stats_inc(STAT_RETRIES);
	log_debug("port %u: %s: retry %u in %u ms after %s on 127.0.0.1:%u", c->port,
	    c->rsvc->name, c->tries, a.delay_ms,
	    cause == RETRY_CAUSE_STATUS ? "a listed status" :
	    cause == RETRY_CAUSE_RESET ? "a reset" : "a connect failure", c->failed_port);
	c->x &= ~(X_REQ_DONE | X_UP_KEEP);
	if (c->req.sent > 0) {
		replay_rewind(&c->replay);
		c->x |= X_REPLAY;
	}
	c->retry_at = ev_now(EV_DEFAULT) + a.delay_ms / 1000.0;
	c->state = FWD_BACKOFF;
	conn_timer_update(c);
	return 1;
}

/* FWD_BACKOFF is over: -> FWD_CONNECT, FWD_EXCHANGE or FWD_REFUSE. */
static void
fwd_retry_go(struct conn *c)
{
	struct balance_service *bs;
	const char *reason = "no route";
	int code = 503;

	bs = route_service(&pstate.rt, c->rsvc->name, strlen(c->rsvc->name));
	if (bs == NULL || (code = fwd_balance(c, bs, &reason)) != 0) {
		fwd_refuse(c, code, reason, 0);
		return;
	}
	c->uhead->off = 0;
	c->uhead->len = c->uhead_len;
	fwd_connect(c, 0);
	if (c->state != FWD_CLOSED)
		conn_timer_update(c);
}

/*
 * The retry buffer: a Content-Length body that a retrying route may have
 * to send again, already read with its head, is moved behind the head in
 * uhead (a pooled buffer), so a retry resends head and body from there.
 * Bounded by retry_buffer and by the buffer's room; a body still on its
 * way is relayed as usual (and a failure after any of it went up is not
 * retried).  1 when kept.
 */
static int
fwd_keep_body(struct conn *c, const struct http_request *req)
{
	uint64_t n = req->content_length;

	if (c->rsvc == NULL || c->rsvc->policy.retries == 0 || req->body != HTTP_BODY_LENGTH ||
	    n == 0 || n > c->rsvc->policy.retry_buffer || (c->x & X_CONTINUE) ||
	    c->d.in == NULL || c->d.in->len < n || buf_free_total(c->uhead) < n)
		return 0;
	buf_append(c->uhead, buf_head(c->d.in), (size_t)n);
	buf_consume(c->d.in, (size_t)n);
	c->x |= X_NOBODY;   /* the client's stream is at the next request */
	return 1;
}

/*
 * A body that a retry may have to send again is kept as it goes up
 * (replay.h), up to the route's retry_buffer: chunked ones too.
 */
static void
fwd_tap_body(struct conn *c)
{
	uint64_t max;

	if (c->rsvc == NULL || c->rsvc->policy.retries == 0 || (c->x & X_NOBODY) ||
	    (c->body_len >= 0 && (uint64_t)c->body_len > c->rsvc->policy.retry_buffer))
		return;
	max = c->rsvc->policy.retry_buffer;
	if (max > (uint64_t)REPLAY_BUFS * buf_pool_size())
		max = (uint64_t)REPLAY_BUFS * buf_pool_size();
	replay_start(&c->replay, max);
	c->req.tap = &c->replay;
}

/* A whole request head of hlen bytes is parsed: route it. */
static void
fwd_request(struct conn *c, const struct http_request *req, size_t hlen)
{
	const char *reason = NULL;
	unsigned opts = 0;
	int code;

	c->x = 0;
	c->rsvc = NULL;
	c->brk = NULL;
	c->deadline = 0;
	c->tries = 0;
	c->failed_port = 0;
	c->body_len = req->body == HTTP_BODY_NONE ? 0 :
	    req->body == HTTP_BODY_LENGTH ? (int64_t)req->content_length : -1;
	if (retry_idempotent(req->method, req->method_len))
		c->x |= X_IDEMPOTENT;
	stats_inc(fwd_inbound(c) ? STAT_REQUESTS_IN : STAT_REQUESTS_OUT);
	if (req->flags & HTTP_F_KEEPALIVE)
		c->x |= X_KEEPALIVE;
	if (req->minor == 0)
		c->x |= X_HTTP10;
	if (req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0)
		c->x |= X_HEAD;
	if (req->body == HTTP_BODY_NONE ||
	    (req->body == HTTP_BODY_LENGTH && req->content_length == 0))
		c->x |= X_NOBODY;
	if (req->flags & HTTP_F_UPGRADE) {
		c->x |= X_UPGRADE;
		opts |= HEAD_UPGRADE;
	}
	if ((req->flags & HTTP_F_CONTINUE) && c->role == ROLE_INBOUND_HTTP) {
		opts |= HEAD_NO_EXPECT;
		if (!(c->x & X_NOBODY) && !(c->x & X_HTTP10))
			c->x |= X_CONTINUE;
	}
	if (conn_draining())
		c->x |= X_CLOSE;
	obs_begin(&c->obs, req, fwd_inbound(c),
	    fwd_inbound(c) ? transport_tls_peer(&c->d.tc) : NULL);
	buf_consume(c->d.in, hlen);
	if (req->flags & HTTP_F_CONNECT) {
		fwd_refuse(c, 501, "CONNECT not supported", 1);
		return;
	}
	if ((code = fwd_pick(c, req, &reason)) != 0) {
		fwd_refuse(c, code, reason, 0);
		return;
	}
	/* The head is consumed above but its bytes stay in place until the
	 * next read: serialize before anything else touches d.in. */
	if ((c->uhead = buf_get()) == NULL || head_request_traced(c->uhead, req, opts, obs_traceparent(&c->obs)) == -1) {
		fwd_refuse(c, 431, "request head too large", 1);
		return;
	}
	if (fwd_keep_body(c, req)) {
		c->uhead_len = c->uhead->len;
		flow_start(&c->req, RELAY_NONE, 0, &pstate.hlim, &c->d);
		fwd_connect(c, 0);
		if (c->deadline != 0 && c->state != FWD_CLOSED)
			conn_timer_update(c);
		return;
	}
	c->uhead_len = c->uhead->len;
	if (flow_start(&c->req, relay_kind_from_http(req->body), req->content_length,
	    &pstate.hlim, &c->d) == -1) {
		fwd_refuse(c, 400, "bad chunked body", 1);
		return;
	}
	fwd_tap_body(c);
	fwd_connect(c, 0);
	/* the route's deadline may be sooner than the idle timeout */
	if (c->deadline != 0 && c->state != FWD_CLOSED)
		conn_timer_update(c);
}

/* FWD_IDLE, FWD_REQ_HEAD: -> FWD_REQ_HEAD, FWD_CONNECT, FWD_EXCHANGE, FWD_REFUSE, closed. */
static void
fwd_head(struct conn *c)
{
	struct http_request req;
	int r, n;

	for (;;) {
		if (c->d.in != NULL && c->d.in->len > 0) {
			n = http_parse_request(buf_head(c->d.in), c->d.in->len, &pstate.hlim, &req);
			if (n > 0) {
				fwd_request(c, &req, (size_t)n);
				return;
			}
			if (n == HTTP_ERROR) {
				c->x = 0;
				fwd_refuse(c, req.status, req.reason, 1);
				return;
			}
			if (c->state == FWD_IDLE) {
				c->state = FWD_REQ_HEAD;
				c->head_start = ev_now(EV_DEFAULT);
				conn_timer_update(c);
			}
			if (buf_free_total(c->d.in) == 0) {
				c->x = 0;
				fwd_refuse(c, 431, "request head too large", 1);
				return;
			}
		} else if (conn_draining() || c->d.eof) {
			conn_close(c);
			return;
		}
		if (c->d.eof) {
			/* EOF in the middle of a request head. */
			conn_close(c);
			return;
		}
		if (!c->d.readable)
			return;
		r = side_fill(&c->d);
		if (r == 0)
			return;
		if (r == -1) {
			conn_close(c);
			return;
		}
	}
}

/*
 * The upstream closed or failed before a response head.  A connection
 * from the pool may have been closed by the peer while idle: retry once
 * on a fresh one if nothing of the body was consumed yet.
 * -> FWD_CONNECT/FWD_EXCHANGE (retry) or FWD_REFUSE.
 */
static void
fwd_upstream_lost(struct conn *c)
{
	struct upconn *uc = c->uc;
	int reset = uc->s.err;

	if (uc->reused && !(c->x & (X_RETRIED | X_REQ_ABANDON)) && c->req.sent == 0 &&
	    c->uhead != NULL && (uc->s.in == NULL || uc->s.in->len == 0)) {
		c->x |= X_RETRIED;
		c->x &= ~X_REQ_DONE;
		upstream_close(uc);
		c->uc = NULL;
		c->uhead->off = 0;
		c->uhead->len = c->uhead_len;
		fwd_connect(c, 1);
		return;
	}
	log_warnx("port %u: upstream 127.0.0.1:%u %s before a response", c->port,
	    c->up->port, reset ? "reset" : "closed");
	if (fwd_retry(c, RETRY_CAUSE_RESET, 0))
		return;
	fwd_refuse(c, 502, reset ? "upstream reset" : "upstream closed", 0);
}

/* A response head of n bytes is parsed.  Interim responses keep us in
 * FWD_EXCHANGE; otherwise -> FWD_RES_BODY, FWD_TUNNEL or FWD_REFUSE. */
static void
fwd_response(struct conn *c, const struct http_response *res, size_t n)
{
	struct side *u = &c->uc->s;
	struct buf *b = fwd_dhead(c);
	unsigned opts = 0;
	int keep;

	if (b == NULL) {
		conn_close(c);
		return;
	}
	if (res->code >= 100 && res->code < 200 && res->code != 101) {
		/* We already said 100 ourselves when answering Expect. */
		if (!(res->code == 100 && (c->x & X_CONTINUE)) && head_response(b, res, 0) == -1) {
			fwd_refuse(c, 502, "response head too large", 1);
			return;
		}
		c->x |= X_INTERIM;
		buf_consume(u->in, n);
		return;
	}
	if (res->code == 101) {
		if (!(c->x & X_UPGRADE) || !(c->x & X_REQ_DONE)) {
			fwd_refuse(c, 502, "unexpected 101 response", 1);
			return;
		}
		if (head_response(b, res, HEAD_UPGRADE) == -1) {
			fwd_refuse(c, 502, "response head too large", 1);
			return;
		}
		buf_consume(u->in, n);
		buf_put(c->uhead);
		c->uhead = NULL;
		c->x |= X_RES_STARTED;
		obs_status(&c->obs, 101);
		flow_start(&c->req, RELAY_TUNNEL, 0, &pstate.hlim, &c->d);
		flow_start(&c->res, RELAY_TUNNEL, 0, &pstate.hlim, u);
		c->state = FWD_TUNNEL;
		return;
	}
	/* a listed status is retried before anything of it goes down */
	if (c->rsvc != NULL && retry_status_listed(&c->rsvc->policy, res->code) &&
	    fwd_retry(c, RETRY_CAUSE_STATUS, res->code))
		return;
	fwd_pending_leave(c);
	fwd_replay_end(c);
	keep = (c->x & X_KEEPALIVE) && !(c->x & (X_CLOSE | X_REQ_ABANDON)) &&
	    !conn_draining() && res->body != HTTP_BODY_EOF;
	if (!keep)
		opts |= HEAD_CLOSE;
	else if (c->x & X_HTTP10)
		opts |= HEAD_KEEPALIVE;
	if (head_response(b, res, opts) == -1) {
		fwd_refuse(c, 502, "response head too large", 1);
		return;
	}
	stats_response(fwd_inbound(c), res->code);
	obs_status(&c->obs, res->code);
	if (!c->uc->reused)
		c->bstart = 0;   /* its time includes connect and handshake: no sample */
	fwd_balanced(c, res->code >= 500 ? BALANCE_FAIL : BALANCE_OK);
	if (!keep)
		c->x |= X_CLOSE;
	if (res->flags & HTTP_F_KEEPALIVE)
		c->x |= X_UP_KEEP;
	c->x |= X_RES_STARTED;
	buf_consume(u->in, n);
	buf_put(c->uhead);
	c->uhead = NULL;
	if (flow_start(&c->res, relay_kind_from_http(res->body), res->content_length,
	    &pstate.hlim, u) == -1) {
		conn_close(c);
		return;
	}
	c->state = FWD_RES_BODY;
}

/* FWD_EXCHANGE, waiting for the response head. */
static void
fwd_res_head(struct conn *c)
{
	struct http_response res;
	struct side *u = &c->uc->s;
	int n, r;

	if (c->dhead != NULL && c->dhead->len > 0 && !c->d.wblocked &&
	    side_send(&c->d, c->dhead, NULL, 0) == -1) {
		conn_close(c);
		return;
	}
	while (c->state == FWD_EXCHANGE) {
		if (u->in != NULL && u->in->len > 0) {
			n = http_parse_response(buf_head(u->in), u->in->len, &pstate.hlim,
			    (c->x & X_HEAD) != 0, &res);
			if (n > 0) {
				fwd_response(c, &res, (size_t)n);
				continue;
			}
			if (n == HTTP_ERROR) {
				log_warnx("port %u: upstream 127.0.0.1:%u: bad response: %s",
				    c->port, c->up->port, res.reason != NULL ? res.reason : "?");
				fwd_refuse(c, 502, "bad response", 1);
				return;
			}
			if (buf_free_total(u->in) == 0) {
				fwd_refuse(c, 502, "response head too large", 1);
				return;
			}
		}
		if (!u->readable)
			return;
		r = side_fill(u);
		if (r == 0)
			return;
		if (r == -1) {
			fwd_upstream_lost(c);
			return;
		}
	}
}

/* The request upstream: after a retry the head and the kept body first. */
static enum relay_result
fwd_req_pump(struct conn *c)
{
	struct side *u = &c->uc->s;
	int k;

	if (c->x & X_REPLAY) {
		if (c->uhead->len > 0 && !u->wblocked && side_send(u, c->uhead, NULL, 0) == -1)
			return RELAY_DST_ERR;
		if (c->uhead->len > 0)
			return RELAY_AGAIN;
		if ((k = replay_send(&c->replay, u)) == -1)
			return RELAY_DST_ERR;
		if (k == 0)
			return RELAY_AGAIN;
		c->x &= ~X_REPLAY;
	}
	return relay_pump(&c->d, u, &c->req, c->uhead, 1);
}

/* FWD_EXCHANGE, FWD_RES_BODY: -> FWD_RES_BODY, FWD_TUNNEL, FWD_IDLE,
 * FWD_LINGER, FWD_REFUSE or closed. */
static void
fwd_exchange(struct conn *c)
{
	enum relay_result r;

	if (!(c->x & X_REQ_DONE)) {
		r = fwd_req_pump(c);
		switch (r) {
		case RELAY_AGAIN:
			break;
		case RELAY_DONE:
			c->x |= X_REQ_DONE;
			break;
		case RELAY_SRC_EOF:
		case RELAY_SRC_ERR:
			conn_close(c);
			return;
		case RELAY_DST_ERR:
			/* The upstream may still answer (an early 413): read on. */
			c->x |= X_REQ_DONE | X_REQ_ABANDON;
			break;
		case RELAY_BAD:
			fwd_refuse(c, 400, "bad chunked body", 1);
			return;
		}
	}
	else if (c->d.readable && !c->d.eof && side_has_room(&c->d)) {
		/* Read ahead (a pipelined request, or the client's EOF) so the
		 * read watcher can stay armed across requests instead of
		 * costing an epoll_ctl per request.  Parsed after the response. */
		if (side_fill(&c->d) == -1 && c->d.err) {
			conn_close(c);
			return;
		}
	}
	if (c->state == FWD_EXCHANGE)
		fwd_res_head(c);
	if (c->state != FWD_RES_BODY)
		return;
	r = relay_pump(&c->uc->s, &c->d, &c->res, c->dhead, 1);
	switch (r) {
	case RELAY_AGAIN:
		return;
	case RELAY_DONE:
		c->x |= X_RES_DONE;
		break;
	default:
		if (r == RELAY_SRC_EOF || r == RELAY_SRC_ERR || r == RELAY_BAD)
			log_warnx("port %u: upstream 127.0.0.1:%u failed during the response body",
			    c->port, c->up->port);
		conn_close(c);
		return;
	}
	if (!(c->x & X_REQ_DONE)) {
		/* Complete response to an incomplete request: this leg is
		 * no longer at a request boundary. */
		c->x |= X_CLOSE | X_REQ_ABANDON;
		fwd_linger(c);
		return;
	}
	fwd_finish(c);
}

/* FWD_TUNNEL: -> closed once both directions ended. */
static void
fwd_tunnel(struct conn *c)
{
	enum relay_result r;

	r = relay_pump(&c->d, &c->uc->s, &c->req, NULL, 1);
	if (r == RELAY_DONE)
		c->x |= X_REQ_DONE;
	else if (r != RELAY_AGAIN) {
		conn_close(c);
		return;
	}
	r = relay_pump(&c->uc->s, &c->d, &c->res, c->dhead, 1);
	if (r == RELAY_DONE)
		c->x |= X_RES_DONE;
	else if (r != RELAY_AGAIN) {
		conn_close(c);
		return;
	}
	if ((c->x & (X_REQ_DONE | X_RES_DONE)) == (X_REQ_DONE | X_RES_DONE))
		conn_close(c);
}

/* FWD_REFUSE: -> FWD_IDLE, FWD_LINGER or closed. */
static void
fwd_refusing(struct conn *c)
{
	if (c->dhead != NULL && c->dhead->len > 0) {
		if (c->d.wblocked)
			return;
		if (side_send(&c->d, c->dhead, NULL, 0) == -1) {
			conn_close(c);
			return;
		}
		if (c->dhead->len > 0)
			return;
	}
	fwd_finish(c);
}

/* FWD_LINGER: -> closed at EOF, error or the linger deadline. */
static void
fwd_lingering(struct conn *c)
{
	int r;

	while (c->d.readable) {
		r = side_fill(&c->d);
		if (r == -1) {
			conn_close(c);
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
	case FWD_EXCHANGE:
	case FWD_RES_BODY:
		dr = room_d && !c->d.eof;
		ur = u != NULL && (c->state == FWD_EXCHANGE || !c->res.done) && side_has_room(u);
		break;
	case FWD_TUNNEL:
		dr = !c->req.done && room_d;
		ur = u != NULL && !c->res.done && side_has_room(u);
		break;
	case FWD_CONNECT:
	case FWD_BACKOFF:
	case FWD_REFUSE:
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
		case FWD_CONNECT:
		case FWD_BACKOFF:
		case FWD_CLOSED:
			break;
		}
		/* Same state on a new upstream (a retry) is progress too. */
		if ((c->state == before && c->uc == uc) || c->state == FWD_CLOSED)
			break;
	}
	if (c->state != FWD_CLOSED)
		fwd_arm(c);
}

static void
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
		errno = uc->errnum;
		log_warn("port %u: connect to 127.0.0.1:%u", c->port, c->up->port);
		if (fwd_retry(c, RETRY_CAUSE_CONNECT, 0))
			break;
		fwd_balanced(c, BALANCE_FAIL);
		if (fwd_tcp_role(c))
			conn_close(c);
		else if (ev == UC_EV_TIMEOUT)
			fwd_refuse(c, 504, "upstream connect timeout", 0);
		else
			fwd_refuse(c, 502, "upstream connect failed", 0);
		break;
	case UC_EV_IO:
		c->active = ev_now(EV_DEFAULT);
		break;
	}
	if (c->state != FWD_CLOSED)
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
			conn_close(c);
			return;
		}
		/* Opaque streams never share a connection. */
		fwd_connect(c, 1);
	}
	if (c->state != FWD_CLOSED)
		fwd_run(c);
}

void
fwd_timeout(struct conn *c)
{
	int late = c->deadline != 0 && ev_now(EV_DEFAULT) >= c->deadline;

	if (late && (c->state == FWD_CONNECT || c->state == FWD_EXCHANGE ||
	    c->state == FWD_BACKOFF || c->state == FWD_RES_BODY)) {
		/* the route's timeout: retries included; a response already
		 * under way can only be cut */
		stats_inc(STAT_TIMEOUTS);
		log_debug("port %u: %s: request timeout", c->port,
		    c->rsvc != NULL ? c->rsvc->name : "?");
		c->deadline = 0;
		if (c->x & X_RES_STARTED) {
			c->obs.flags |= STATS_SF_UT;
			fwd_balanced(c, BALANCE_FAIL);
			conn_close(c);
			return;
		}
		fwd_refuse(c, 504, "timeout", 0);
		if (c->state != FWD_CLOSED)
			fwd_run(c);
		return;
	}
	switch (c->state) {
	case FWD_BACKOFF:
		fwd_retry_go(c);
		break;
	case FWD_REQ_HEAD:
		fwd_refuse(c, 408, "header timeout", 1);
		break;
	case FWD_CONNECT:
	case FWD_EXCHANGE:
		if (!(c->x & X_RES_STARTED)) {
			fwd_refuse(c, 504, "upstream timeout", 1);
			break;
		}
		/* FALLTHROUGH */
	default:
		conn_close(c);
		return;
	}
	if (c->state != FWD_CLOSED)
		fwd_run(c);
}
