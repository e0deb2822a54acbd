/* SPDX-License-Identifier: ISC */
/*
 * fwd_request: FWD_IDLE/FWD_REQ_HEAD — parse a request head and start
 * the exchange: flags, observation, routing, the head for the upstream,
 * the body flow (kept for a retry by the retry buffer's tap).
 */
#include <string.h>

#include "mesh/buf.h"
#include "mesh/grpc.h"
#include "mesh/h2.h"
#include "mesh/head.h"
#include "mesh/obs.h"
#include "mesh/pstate.h"
#include "mesh/relay.h"
#include "mesh/replay.h"
#include "mesh/retry.h"
#include "mesh/stats.h"
#include "mesh/transport_tls.h"
#include "fwd_int.h"

/*
 * A body that a retry may have to send again is kept as it goes up
 * (replay.h), up to the route's retry_buffer: chunked ones too.  Every
 * route retries connect failures (retry.h), and a callee's sidecar that
 * answers 503 app not ready has had the body: with `retries = 0` a body
 * that fits one pool buffer is kept for that, so a small POST still goes
 * elsewhere, and no route holds more than that for retries it never makes.
 */
static void
fwd_tap_body(struct conn *c)
{
	uint64_t max;

	if (c->rsvc == NULL || (c->x & X_NOBODY))
		return;
	max = c->rsvc->policy.retry_buffer;
	if (max > (uint64_t)REPLAY_BUFS * buf_pool_size())
		max = (uint64_t)REPLAY_BUFS * buf_pool_size();
	if (c->rsvc->policy.retries == 0 && max > buf_pool_size())
		max = buf_pool_size();
	max = fwd_mirror_buffer(c, max);   /* a mirrored body: retry_buffer whole */
	if (max == 0 || (c->body_len >= 0 && (uint64_t)c->body_len > max))
		return;
	replay_start(&c->replay, max);
	c->req.tap = &c->replay;
}

/* A whole request head of hlen bytes is parsed: route it. */
static void
fwd_request(struct conn *c, const struct http_request *req, size_t hlen)
{
	const struct http_header *ct;
	const char *reason = NULL;
	unsigned opts = 0;
	int code;

	c->x = 0;
	c->started = 1;
	c->rsvc = NULL;
	c->brk = NULL;
	c->deadline = 0;
	c->tries = 0;
	c->interim = 0;
	c->nfailed = 0;
	c->body_len = req->body == HTTP_BODY_NONE ? 0 :
	    req->body == HTTP_BODY_LENGTH ? (int64_t)req->content_length : -1;
	if (retry_idempotent(req->method, req->method_len))
		c->x |= X_IDEMPOTENT;
	stats_inc(fwd_inbound(c) ? STAT_REQUESTS_IN : STAT_REQUESTS_OUT);
	if (req->flags & HTTP_F_KEEPALIVE)
		c->x |= X_KEEPALIVE;
	if (req->minor == 0)
		c->x |= X_HTTP10;
	/* an app calling with gRPC hears the mesh's refusals as gRPC
	 * statuses; a callee's sidecar always answers its caller's sidecar
	 * in HTTP (which reads `mesh-error`), and the caller's translates */
	if (!fwd_inbound(c) &&
	    (ct = http_header_find(req->headers, req->nheaders, "content-type")) != NULL &&
	    grpc_content_type(ct->value, ct->value_len))
		c->x |= X_GRPC;
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
	if ((c->x & (X_FAULT_ABORT | X_FAULT_DELAY)) == X_FAULT_ABORT) {
		fwd_fault_abort(c);
		return;
	}
	/* The head is consumed above but its bytes stay in place until the
	 * next read: serialize before anything else touches d.in. */
	if ((c->uhead = buf_get()) == NULL ||
	    head_request(c->uhead, req, opts, obs_traceparent(&c->obs)) == -1) {
		fwd_refuse(c, 431, "request head too large", 1);
		return;
	}
	c->uhead_len = c->uhead->len;
	if (flow_start(&c->req, relay_kind_from_http(req->body), req->content_length,
	    &pstate.hlim, &c->d) == -1) {
		fwd_refuse(c, 400, "bad chunked body", 1);
		return;
	}
	fwd_tap_body(c);
	if (c->x & X_FAULT_DELAY) {
		fwd_fault_delay(c);
		return;
	}
	fwd_connect(c, 0);
	/* the route's deadline may be sooner than the idle timeout */
	if (c->deadline != 0)
		conn_timer_update(c);
}

/* FWD_IDLE, FWD_REQ_HEAD: -> FWD_REQ_HEAD, FWD_CONNECT, FWD_EXCHANGE, FWD_BACKOFF,
 * FWD_DELAY, FWD_REFUSE or FWD_CLOSING (the client left, or draining). */
void
fwd_head(struct conn *c)
{
	struct http_request req;
	int r, n;

	for (;;) {
		if (c->d.in != NULL && c->d.in->len > 0) {
			/* HTTP/2 with prior knowledge starts with its preface */
			if (!c->started &&
			    h2_preface(buf_head(c->d.in), c->d.in->len) == 1) {
				h2_adopt(c);
				return;
			}
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
			c->state = FWD_CLOSING;
			return;
		}
		if (c->d.eof) {
			/* EOF in the middle of a request head. */
			c->state = FWD_CLOSING;
			return;
		}
		if (!c->d.readable)
			return;
		r = side_fill(&c->d);
		if (r == 0)
			return;
		if (r == -1) {
			c->state = FWD_CLOSING;
			return;
		}
	}
}
