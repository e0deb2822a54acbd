/* SPDX-License-Identifier: ISC */
/*
 * h2_stream: one HTTP/2 request and its attempts (route -> balance ->
 * upstream): where it goes (`allow` on the inbound side, the authority or
 * the listener outbound), the attempt on an upstream session, its timer
 * (the route's deadline, a backoff, an injected delay), the mesh's own
 * answer, and its end.  The route's policy for it is h2_policy.c's.  A
 * stream ends when its downstream stream closes; the attempt's upstream
 * stream is cancelled then if it still runs.
 */
#include <stdlib.h>
#include <string.h>

#include "mesh/balance.h"
#include "mesh/grpc.h"
#include "mesh/ident.h"
#include "mesh/log.h"
#include "mesh/pstate.h"
#include "mesh/retry.h"
#include "mesh/route.h"
#include "mesh/stats.h"
#include "mesh/transport_tls.h"
#include "h2_int.h"

#define H2S_FREE_MAX 256

static struct h2s *free_streams;
static unsigned    nfree_streams;

static void h2s_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

uint64_t
h2s_now_ms(void)
{
	return (uint64_t)(ev_now(EV_DEFAULT) * 1000.0);
}

struct h2s *
h2s_new(struct h2d *d, int32_t id)
{
	struct h2s *s;

	if ((s = free_streams) != NULL) {
		free_streams = s->next_free;
		nfree_streams--;
	} else if ((s = malloc(sizeof(*s))) == NULL)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->state = H2S_HEAD;
	s->d = d;
	s->down_id = id;
	s->grpc_status = -1;
	ev_init(&s->timer, h2s_timer_cb);
	s->dnext = d->streams;
	if (d->streams != NULL)
		d->streams->dprev = s;
	d->streams = s;
	d->nstreams++;
	return s;
}

void
h2s_free(struct h2s *s)
{
	h2hdr_reset(&s->req);
	h2hdr_reset(&s->res);
	h2q_free(&s->reqq);
	h2q_free(&s->resq);
	s->state = H2S_FREE;
	if (nfree_streams < H2S_FREE_MAX) {
		s->next_free = free_streams;
		free_streams = s;
		nfree_streams++;
	} else
		free(s);
}

/* The request head as HTTP/1.1's parser would give it, for the modules
 * both protocols share (route, obs).  Values point into s->req. */
static void
h2s_http_request(const struct h2s *s, struct http_request *r)
{
	const nghttp2_nv *nv;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->minor = 1;
	for (i = 0; i < s->req_nhead; i++) {
		nv = &s->req.nv[i];
		if (nv->namelen == 7 && memcmp(nv->name, ":method", 7) == 0) {
			r->method = (const char *)nv->value;
			r->method_len = nv->valuelen;
		} else if (nv->namelen == 5 && memcmp(nv->name, ":path", 5) == 0) {
			r->path = r->target = (const char *)nv->value;
			r->path_len = r->target_len = nv->valuelen;
		} else if (nv->namelen == 10 && memcmp(nv->name, ":authority", 10) == 0) {
			r->authority = (const char *)nv->value;
			r->authority_len = nv->valuelen;
		} else if (nv->name[0] != ':' && r->nheaders < HTTP_MAX_HEADERS) {
			if (r->authority == NULL && nv->namelen == 4 &&
			    memcmp(nv->name, "host", 4) == 0) {
				r->authority = (const char *)nv->value;
				r->authority_len = nv->valuelen;
			}
			r->headers[r->nheaders].name = (const char *)nv->name;
			r->headers[r->nheaders].name_len = nv->namelen;
			r->headers[r->nheaders].value = (const char *)nv->value;
			r->headers[r->nheaders].value_len = nv->valuelen;
			r->nheaders++;
		}
	}
	if (r->authority == NULL)
		r->authority = "";
	if (r->method == NULL)
		r->method = "";
	if (r->path == NULL)
		r->path = r->target = "";
	r->body = s->req_end ? HTTP_BODY_NONE : HTTP_BODY_CHUNKED;
}

void
h2s_timer_arm(struct h2s *s, ev_tstamp at)
{
	ev_tstamp left = at - ev_now(EV_DEFAULT);

	ev_timer_stop(EV_DEFAULT, &s->timer);
	ev_timer_set(&s->timer, left > 0.001 ? left : 0.001, 0.);
	ev_timer_start(EV_DEFAULT, &s->timer);
}

/* The authority without its port: a gRPC client names the port its
 * server would listen on (`api:50051`), which says nothing to the mesh. */
static size_t
h2s_authority_len(const struct http_request *r)
{
	size_t i = r->authority_len;

	while (i > 0 && r->authority[i - 1] >= '0' && r->authority[i - 1] <= '9')
		i--;
	if (i > 0 && i < r->authority_len && r->authority_len - i <= 5 &&
	    r->authority[i - 1] == ':')
		return i - 1;
	return r->authority_len;
}

/* Where the request goes: 0, or the refusal's code and reason. */
static int
h2s_pick(struct h2s *s, const struct http_request *r, const char **reason)
{
	struct conn *c = s->d->c;
	struct balance_service *bs;
	int code;

	if (c->role == ROLE_INBOUND_HTTP) {
		const char *peer = transport_tls_peer(&c->d.tc);

		if (ident_enabled() && !ident_allowed(peer)) {
			log_debug("port %u: caller %s not allowed", c->port,
			    peer != NULL ? peer : "?");
			*reason = "not allowed";
			return 403;
		}
		if (pstate.cfg == NULL || pstate.cfg->app_port == 0) {
			*reason = "no app";
			return 503;
		}
		if (!pcfg_proto_h2(pstate.cfg->inbound_proto)) {
			*reason = "service speaks HTTP/1.1";
			return 505;
		}
		s->up = upstream_get(pstate.cfg->app_port, &transport_plain);
		if (s->up == NULL) {
			*reason = "out of memory";
			return 503;
		}
		return 0;
	}
	if (c->role == ROLE_OUTBOUND)
		bs = route_lookup(&pstate.rt, r->authority, h2s_authority_len(r));
	else
		bs = route_service(&pstate.rt, c->service, strlen(c->service));
	if (bs == NULL || bs->svc->proto == PCFG_TCP) {
		*reason = "no route";
		return 404;
	}
	obs_route(&s->obs, bs->svc->name);
	if (!pcfg_proto_h2(bs->svc->proto)) {
		*reason = "service speaks HTTP/1.1";
		return 505;
	}
	if ((code = h2s_policy(s, bs, r, reason)) != 0 ||
	    (code = h2s_balance(s, bs, reason)) != 0)
		return code;
	return 0;
}

void
h2s_request(struct h2s *s)
{
	struct http_request r;
	const struct http_header *ct;
	const char *reason = NULL;
	struct conn *c = s->d->c;
	int inbound = c->role == ROLE_INBOUND_HTTP, code;
	size_t i;

	h2s_http_request(s, &r);
	stats_inc(STAT_H2_STREAMS);
	stats_inc(inbound ? STAT_REQUESTS_IN : STAT_REQUESTS_OUT);
	for (i = 0; i < r.nheaders; i++) {
		ct = &r.headers[i];
		if (ct->name_len == 12 && memcmp(ct->name, "content-type", 12) == 0 &&
		    grpc_content_type(ct->value, ct->value_len))
			s->grpc = 1;
	}
	obs_begin(&s->obs, &r, inbound, inbound ? transport_tls_peer(&c->d.tc) : NULL);
	s->state = H2S_ROUTED;
	if (s->req.full || s->req.bytes > pstate.hlim.header_bytes) {
		h2s_refuse(s, 431, "request head too large", 1);
		return;
	}
	if (r.method_len == 7 && memcmp(r.method, "CONNECT", 7) == 0) {
		h2s_refuse(s, 501, "CONNECT not supported", 1);
		return;
	}
	if ((code = h2s_pick(s, &r, &reason)) != 0) {
		h2s_refuse(s, code, reason, 1);
		return;
	}
	if (h2s_fault(s, &r))
		return;
	if (s->deadline != 0)
		h2s_timer_arm(s, s->deadline);
	h2s_go(s);
}

/* The attempt starts: a session to s->up takes the stream. */
void
h2s_go(struct h2s *s)
{
	struct h2u *u;

	if ((u = h2u_get(s->up)) == NULL) {
		stats_inc(STAT_OVERLOADED);
		h2s_outcome(s, -1);
		h2s_refuse(s, 503, "overloaded", 1);
		return;
	}
	s->state = H2S_WAIT;
	if (h2u_submit(u, s) == -1)
		h2s_attempt_failed(s, RETRY_CAUSE_CONNECT, 0, "upstream connect failed");
}

void
h2s_request_data(struct h2s *s)
{
	if (s->u != NULL && s->up_id > 0)
		h2u_resume(s);
}

/*
 * Answer with a mesh-error response of our own (ours: counted as this
 * sidecar's refusal).  A response already under way can only be reset.
 */
void
h2s_refuse(struct h2s *s, int code, const char *reason, int ours)
{
	log_debug("http/2 stream %d: %d %s", (int)s->down_id, code, reason);
	h2s_outcome(s, code >= 502 ? 0 : -1);
	h2s_pending_leave(s);
	if (s->u != NULL)
		h2u_detach(s, NGHTTP2_CANCEL);
	ev_timer_stop(EV_DEFAULT, &s->timer);
	if (s->d == NULL)
		return;
	s->state = H2S_RESPONDING;
	if (s->res_head) {
		h2r_rst(s, NGHTTP2_INTERNAL_ERROR);
		return;
	}
	obs_refusal(&s->obs, code, reason);
	if (s->grpc)
		s->grpc_status = grpc_status_of_http(code);
	if (ours)
		stats_refusal(code);
	stats_response(s->d->c->role == ROLE_INBOUND_HTTP, s->grpc ? 200 : code);
	if (h2r_refusal(s, code, reason) == -1)
		h2r_rst(s, NGHTTP2_INTERNAL_ERROR);
}

static void
h2s_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct h2s *s = (struct h2s *)((char *)w - offsetof(struct h2s, timer));
	const char *reason = "no route";
	struct balance_service *bs;
	int code = 503;

	(void)loop;
	(void)revents;
	if (s->d == NULL || s->state == H2S_DONE)
		return;
	if (s->deadline != 0 && ev_now(EV_DEFAULT) >= s->deadline - 0.0005) {
		stats_inc(STAT_TIMEOUTS);
		s->deadline = 0;
		if (s->res_head) {
			h2s_outcome(s, 0);
			if (s->u != NULL)
				h2u_detach(s, NGHTTP2_CANCEL);
			h2r_rst(s, NGHTTP2_CANCEL);
		} else
			h2s_refuse(s, 504, "timeout", 0);
		return;
	}
	if (s->state == H2S_DELAY) {
		if (ev_now(EV_DEFAULT) < s->delay_end - 0.0005) {
			h2s_timer_arm(s, s->delay_end);
			return;
		}
		h2s_fault_go(s);
		return;
	}
	if (s->state == H2S_BACKOFF) {
		bs = route_service(&pstate.rt, s->rsvc->name, strlen(s->rsvc->name));
		if (bs == NULL || (code = h2s_balance(s, bs, &reason)) != 0) {
			h2s_refuse(s, code, reason, 1);
			return;
		}
		if (s->deadline != 0)
			h2s_timer_arm(s, s->deadline);
		h2s_go(s);
	}
}

/* The downstream stream closed (done, reset, or its connection ended). */
void
h2s_down_closed(struct h2s *s, uint32_t code)
{
	struct h2d *d = s->d;

	if (d == NULL)
		return;
	if (s->u != NULL)
		h2u_detach(s, NGHTTP2_CANCEL);
	h2s_outcome(s, s->res_end && s->status < 500 ? 1 : -1);
	h2s_pending_leave(s);
	ev_timer_stop(EV_DEFAULT, &s->timer);
	/* a gRPC call's outcome: its grpc-status, else what the end says
	 * (the caller cancelled it, or it was cut) */
	if (s->grpc)
		obs_grpc(&s->obs, s->grpc_status >= 0 ? s->grpc_status :
		    s->res_end ? GRPC_UNKNOWN : code == NGHTTP2_CANCEL ? GRPC_CANCELLED :
		    GRPC_UNAVAILABLE);
	obs_end(&s->obs, s->tries, s->reqq.high, s->resq.high);
	/* request bytes never taken upstream still hold the connection's window */
	if (s->reqq.total > s->req_credit)
		nghttp2_session_consume_connection(d->io.ng, (size_t)(s->reqq.total - s->req_credit));
	if (s->dprev != NULL)
		s->dprev->dnext = s->dnext;
	else
		d->streams = s->dnext;
	if (s->dnext != NULL)
		s->dnext->dprev = s->dprev;
	d->nstreams--;
	s->d = NULL;
	s->state = H2S_DONE;
	h2_reap_stream(s);
}
