/* SPDX-License-Identifier: ISC */
/*
 * fwd_response: FWD_EXCHANGE/FWD_RES_BODY — the request body up, the
 * response head parsed and written down (interim, upgrade, final), the
 * response body relayed.
 */
#include <string.h>

#include "mesh/head.h"
#include "mesh/log.h"
#include "mesh/obs.h"
#include "mesh/pstate.h"
#include "mesh/relay.h"
#include "mesh/replay.h"
#include "mesh/retry.h"
#include "mesh/stats.h"
#include "fwd_int.h"

/* A 503 with mesh-error: app not ready, from the callee's sidecar (only
 * sidecars are upstreams of a caller, and the callee's drops an app's
 * own mesh-error). */
static int
fwd_app_not_ready(const struct conn *c, const struct http_response *res)
{
	const struct http_header *h;

	if (res->code != 503 || fwd_inbound(c))
		return 0;
	h = http_header_find(res->headers, res->nheaders, "mesh-error");
	return h != NULL && h->value_len == sizeof(FWD_APP_NOT_READY) - 1 &&
	    memcmp(h->value, FWD_APP_NOT_READY, h->value_len) == 0;
}

/* A gRPC caller (X_GRPC) hears a callee sidecar's own refusal (an error
 * status with mesh-error: `not allowed`, `app not ready`, ...) as the
 * gRPC status it means, as if this sidecar had refused.  1: answered
 * (FWD_REFUSE), the upstream leg dropped with the rest of its body. */
static int
fwd_grpc_callee_refusal(struct conn *c, const struct http_response *res, size_t n)
{
	const struct http_header *h;
	char reason[128];
	size_t len;

	if (!(c->x & X_GRPC) || res->code < 400 ||
	    (h = http_header_find(res->headers, res->nheaders, "mesh-error")) == NULL)
		return 0;
	len = h->value_len < sizeof(reason) - 1 ? h->value_len : sizeof(reason) - 1;
	memcpy(reason, h->value, len);
	reason[len] = '\0';
	fwd_pending_leave(c);
	fwd_replay_end(c);
	fwd_balanced(c, res->code >= 500 ? BALANCE_FAIL : BALANCE_OK);
	buf_consume(c->uc->s.in, n);
	fwd_refuse_relayed(c, res->code, reason);
	return 1;
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
		c->state = FWD_CLOSING;
		return;
	}
	if (res->code >= 100 && res->code < 200 && res->code != 101) {
		/* An app sending 1xx after 1xx would hold the exchange (and
		 * the client) as long as it likes: all of them together get
		 * one header block's budget, then the exchange fails. */
		c->interim += (uint32_t)n;
		if (c->interim > pstate.hlim.header_bytes) {
			log_warnx("port %u: upstream " EPADDR_FMT ": interim responses over %u bytes",
			    c->port, EPADDR_ARGS(c->up->addr), pstate.hlim.header_bytes);
			fwd_refuse(c, 502, "too many interim responses", 1);
			return;
		}
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
		const struct http_header *up = http_header_find(res->headers, res->nheaders,
		    "upgrade");

		/* h2c was never offered upstream (http.h): an app switching to
		 * it anyway would take the tunnel past every policy */
		if (!(c->x & X_UPGRADE) || !(c->x & X_REQ_DONE) ||
		    (up != NULL && http_upgrade_has_h2c(up->value, up->value_len))) {
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
	/* retried before anything of it goes down: the callee's sidecar could
	 * not reach its app (nothing reached an app: a connect failure of
	 * that endpoint), or a listed status */
	if (c->rsvc != NULL && (fwd_app_not_ready(c, res) ?
	    fwd_retry(c, RETRY_CAUSE_CONNECT, res->code) :
	    retry_status_listed(&c->rsvc->policy, res->code) &&
	    fwd_retry(c, RETRY_CAUSE_STATUS, res->code)))
		return;
	if (fwd_grpc_callee_refusal(c, res, n))
		return;
	fwd_pending_leave(c);
	fwd_replay_end(c);
	keep = (c->x & X_KEEPALIVE) && !(c->x & (X_CLOSE | X_REQ_ABANDON)) &&
	    !conn_draining() && res->body != HTTP_BODY_EOF;
	if (!keep)
		opts |= HEAD_CLOSE;
	else if (c->x & X_HTTP10)
		opts |= HEAD_KEEPALIVE;
	if (fwd_inbound(c))
		opts |= HEAD_NO_MESH_ERROR;   /* the app cannot speak for the mesh */
	if (head_response(b, res, opts) == -1) {
		fwd_refuse(c, 502, "response head too large", 1);
		return;
	}
	buf_consume(u->in, n);
	if (flow_start(&c->res, relay_kind_from_http(res->body), res->content_length,
	    &pstate.hlim, u) == -1) {
		/* The body's framing is broken in the bytes that came with the
		 * head: nothing of this response has gone down yet (interim
		 * heads went before it was parsed, fwd_res_head), so the head
		 * is dropped and the caller gets a clean 502, not a bare close. */
		buf_consume(b, b->len);
		log_warnx("port %u: upstream " EPADDR_FMT ": bad response: malformed chunked body",
		    c->port, EPADDR_ARGS(c->up->addr));
		fwd_refuse(c, 502, "bad response", 1);
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
	buf_put(c->uhead);
	c->uhead = NULL;
	c->state = FWD_RES_BODY;
}

/* FWD_EXCHANGE, waiting for the response head. */
static void
fwd_res_head(struct conn *c)
{
	struct http_response res;
	struct side *u = &c->uc->s;
	int n, r;

	while (c->state == FWD_EXCHANGE) {
		/* What is queued down (our 100, the app's interim heads) goes
		 * before the next head is parsed: dhead then never holds more
		 * than one head (or a refusal), and a client slow to take 1xx
		 * after 1xx holds the upstream back instead of filling it. */
		if (c->dhead != NULL && c->dhead->len > 0) {
			if (!c->d.wblocked && side_send(&c->d, c->dhead, NULL, 0) == -1) {
				c->state = FWD_CLOSING;
				return;
			}
			if (c->dhead->len > 0)
				return;
		}
		if (u->in != NULL && u->in->len > 0) {
			n = http_parse_response(buf_head(u->in), u->in->len, &pstate.hlim,
			    (c->x & X_HEAD) != 0, &res);
			if (n > 0) {
				fwd_response(c, &res, (size_t)n);
				continue;
			}
			if (n == HTTP_ERROR) {
				log_warnx("port %u: upstream " EPADDR_FMT ": bad response: %s",
				    c->port, EPADDR_ARGS(c->up->addr), res.reason != NULL ? res.reason : "?");
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
 * FWD_LINGER, FWD_BACKOFF (a retry), FWD_REFUSE or FWD_CLOSING. */
void
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
			if (c->x & X_MIRROR)
				fwd_mirror_go(c);   /* the primary went up whole */
			break;
		case RELAY_SRC_EOF:
		case RELAY_SRC_ERR:
			/* the client left mid-body: nothing to answer */
			c->state = FWD_CLOSING;
			return;
		case RELAY_DST_ERR:
			/* The upstream may still answer (an early 413): read on. */
			c->x |= X_REQ_DONE | X_REQ_ABANDON;
			if (c->x & X_MIRROR)
				fwd_mirror_go(c);   /* skipped: the request is cut */
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
			c->state = FWD_CLOSING;
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
			log_warnx("port %u: upstream " EPADDR_FMT " failed during the response body",
			    c->port, EPADDR_ARGS(c->up->addr));
		c->state = FWD_CLOSING;
		return;
	}
	/* Complete response to an incomplete request: this leg is no
	 * longer at a request boundary. */
	if (!(c->x & X_REQ_DONE))
		c->x |= X_CLOSE | X_REQ_ABANDON;
	fwd_end(c);
}
