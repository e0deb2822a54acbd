/* SPDX-License-Identifier: ISC */
/*
 * h2_policy: the route's policy for one HTTP/2 stream, as fwd_route.c,
 * fwd_fault.c and fwd_retry.c give it to an HTTP/1.1 request: max_pending,
 * budget and timeout (or the caller's grpc-timeout, whichever is sooner),
 * the balanced endpoint behind its breaker and its verdict, the injected
 * faults, and whether a failed attempt goes again.  A gRPC status that
 * retry_on lists is a cause of its own (RETRY_CAUSE_GRPC); the callee's
 * sidecar saying its app is not there is a connect failure.
 */
#include <string.h>

#include "mesh/backoff.h"
#include "mesh/balance.h"
#include "mesh/breaker.h"
#include "mesh/fault.h"
#include "mesh/grpc.h"
#include "mesh/log.h"
#include "mesh/pstate.h"
#include "mesh/retry.h"
#include "mesh/route.h"
#include "mesh/stats.h"
#include "h2_int.h"

/* backoff jitter and fault draws, seeded on first use */
static struct backoff_rng *
h2_rng(void)
{
	static struct backoff_rng rng;
	static int seeded;

	if (!seeded) {
		backoff_seed(&rng, 0);
		seeded = 1;
	}
	return &rng;
}

/* The balanced endpoint's verdict on this attempt (balance.h, breaker.h);
 * ok: 1 success, 0 failure, -1 neither. */
void
h2s_outcome(struct h2s *s, int ok)
{
	if (s->brk != NULL) {
		const struct pcfg_policy *p = s->rsvc != NULL ? &s->rsvc->policy : NULL;

		if (ok == 1)
			breaker_success(s->brk);
		else if (ok == 0 && p != NULL)
			breaker_failure(s->brk, p->breaker_failures, p->breaker_cooldown_ms,
			    breaker_now_ms());
		else
			breaker_abandon(s->brk);
		s->brk = NULL;
	}
	if (s->bep != NULL) {
		balance_done(s->bep, s->bstart,
		    ok == 1 ? BALANCE_OK : ok == 0 ? BALANCE_FAIL : BALANCE_ABANDON);
		s->bep = NULL;
	}
}

void
h2s_pending_leave(struct h2s *s)
{
	if (s->pending && s->rsvc != NULL && s->rsvc->pending > 0)
		s->rsvc->pending--;
	s->pending = 0;
}

/* The route's policy for this request (as fwd_policy_enter): 0 or 503. */
int
h2s_policy(struct h2s *s, struct balance_service *bs, const struct http_request *r,
           const char **reason)
{
	const struct http_header *h;
	struct retry_svc *rs;
	uint64_t ms, keep;
	size_t i;

	rs = retry_svc_get(bs->svc->name, strlen(bs->svc->name), &bs->svc->policy);
	if (rs == NULL)
		return 0;
	if (rs->pending >= rs->policy.max_pending) {
		stats_inc(STAT_OVERLOADED);
		*reason = "overloaded";
		return 503;
	}
	s->rsvc = rs;
	rs->pending++;
	s->pending = 1;
	budget_request(&rs->budget, h2s_now_ms());
	if (rs->policy.timeout_ms != 0)
		s->deadline = ev_now(EV_DEFAULT) + rs->policy.timeout_ms / 1000.0;
	/* the caller's own deadline, when sooner */
	for (i = 0; i < r->nheaders; i++) {
		h = &r->headers[i];
		if (h->name_len == 12 && memcmp(h->name, "grpc-timeout", 12) == 0 &&
		    grpc_timeout_parse(h->value, h->value_len, &ms) == 0) {
			ev_tstamp at = ev_now(EV_DEFAULT) + ms / 1000.0;

			if (s->deadline == 0 || at < s->deadline)
				s->deadline = at;
		}
	}
	/* what a retry may resend: as fwd_tap_body */
	keep = rs->policy.retry_buffer;
	if (rs->policy.retries == 0 && keep > buf_pool_size())
		keep = buf_pool_size();
	h2q_init(&s->reqq, keep);     /* no body byte has come yet */
	return 0;
}

/* An endpoint of bs for this attempt (as fwd_balance): 0, or 503. */
int
h2s_balance(struct h2s *s, struct balance_service *bs, const char **reason)
{
	const struct pcfg_endpoint *ep;

	if ((ep = balance_pick_ep(bs, s->failed, s->nfailed, &s->bep)) == NULL) {
		*reason = "no healthy upstream";
		return 503;
	}
	obs_upstream(&s->obs, ep->version, ep->index);
	if ((s->up = upstream_get_at(balance_ep_addr(ep), transport_mesh_h2())) == NULL) {
		*reason = "out of memory";
		return 503;
	}
	s->bstart = balance_start(s->bep);
	if (s->rsvc != NULL) {
		s->up->connect_s = s->rsvc->policy.connect_timeout_ms / 1000.0;
		if ((s->brk = breaker_get(balance_ep_addr(ep))) != NULL)
			breaker_begin(s->brk, breaker_now_ms());
	}
	return 0;
}


/* The injected faults of the route (fault.h, as fwd_fault.c): drawn once
 * the endpoint is known; an abort answers at once, a delay holds the
 * stream on its timer (the route's timeout still counts). */
static void
h2s_fault_abort(struct h2s *s)
{
	h2s_outcome(s, -1);
	stats_inc(STAT_FAULTS_ABORT);
	h2s_refuse(s, s->fault_status, FAULT_REASON, 0);
}

void
h2s_fault_go(struct h2s *s)
{
	if (s->fault_status != 0) {
		h2s_fault_abort(s);
		return;
	}
	if (s->bep != NULL) {
		/* the endpoint's latency sample starts now, not at the pick */
		balance_done(s->bep, s->bstart, BALANCE_ABANDON);
		s->bstart = balance_start(s->bep);
	}
	if (s->deadline != 0)
		h2s_timer_arm(s, s->deadline);
	h2s_go(s);
}

/* 1: a fault took the stream (answered, or delayed); 0: it goes now. */
int
h2s_fault(struct h2s *s, const struct http_request *r)
{
	struct balance_service *bs;
	const struct pcfg_fault *f;
	unsigned got;

	if (s->rsvc == NULL ||
	    (bs = route_service(&pstate.rt, s->rsvc->name, strlen(s->rsvc->name))) == NULL)
		return 0;
	f = &bs->svc->fault;
	if (!fault_applies(f, s->obs.peer_version, r->headers, r->nheaders))
		return 0;
	if ((got = fault_draw(f, h2_rng())) == 0)
		return 0;
	if (got & FAULT_ABORT)
		s->fault_status = (uint16_t)f->abort_status;
	if (!(got & FAULT_DELAY)) {
		h2s_fault_abort(s);
		return 1;
	}
	stats_inc(STAT_FAULTS_DELAY);
	s->obs.flags |= STATS_SF_DI;
	s->state = H2S_DELAY;
	s->delay_end = ev_now(EV_DEFAULT) + f->delay_ms / 1000.0;
	h2s_timer_arm(s, s->deadline != 0 && s->deadline < s->delay_end ?
	    s->deadline : s->delay_end);
	return 1;
}


static void
h2s_failed_ep(struct h2s *s)
{
	if (s->up == NULL)
		return;
	memmove(&s->failed[1], &s->failed[0], sizeof(s->failed) - sizeof(s->failed[0]));
	s->failed[0] = s->up->addr;
	if (s->nfailed < CONN_FAILED_MAX)
		s->nfailed++;
}

/* Whether the failed attempt goes again (as fwd_retry): 1, after the
 * backoff (H2S_BACKOFF); 0: the caller answers. */
static int
h2s_retry(struct h2s *s, enum retry_cause cause, int status)
{
	struct retry_attempt a;
	enum retry_verdict v;
	const struct pcfg_policy *p;

	if (s->rsvc == NULL || s->d == NULL)
		return 0;
	p = &s->rsvc->policy;
	memset(&a, 0, sizeof(a));
	a.cause = cause;
	a.status = status;
	a.retries_done = s->tries;
	/* gRPC calls are POSTs; their bodies are kept whole (retry_buffer) */
	a.idempotent = 0;
	a.body_len = s->req_end && !s->reqq.lost ? (int64_t)s->reqq.total : -1;
	a.replayable = !s->reqq.lost;
	a.response_started = s->res_head;
	a.now_ms = h2s_now_ms();
	a.deadline_ms = s->deadline != 0 ? (uint64_t)(s->deadline * 1000.0) : 0;
	a.delay_ms = backoff_delay_ms(h2_rng(), s->tries, p->backoff_base_ms, p->backoff_cap_ms);
	v = retry_decide(p, &a, &s->rsvc->budget);
	if (v != RETRY_GO) {
		if (v == RETRY_NO_BUDGET)
			stats_inc(STAT_RETRIES_BUDGET_EXHAUSTED);
		return 0;
	}
	h2s_outcome(s, 0);
	h2s_failed_ep(s);
	s->tries++;
	stats_inc(STAT_RETRIES);
	log_debug("port %u: %s: stream retry %u in %u ms", s->d->c->port, s->rsvc->name,
	    s->tries, a.delay_ms);
	(void)h2q_rewind(&s->reqq);
	h2hdr_reset(&s->res);
	s->res_nhead = 0;
	s->res_end = 0;
	s->res_trailers = 0;
	s->status = 0;
	s->grpc_status = -1;
	h2q_free(&s->resq);
	s->state = H2S_BACKOFF;
	h2s_timer_arm(s, ev_now(EV_DEFAULT) + a.delay_ms / 1000.0);
	return 1;
}

/*
 * The attempt failed before a response went down (its upstream leg is
 * detached already, or is detached here): again, or the refusal.  cause:
 * enum retry_cause; a connect failure is always retried (retry.h).
 */
void
h2s_attempt_failed(struct h2s *s, int cause, int status, const char *why)
{
	int inbound = s->d != NULL && s->d->c->role == ROLE_INBOUND_HTTP;

	if (s->u != NULL)
		h2u_detach(s, NGHTTP2_CANCEL);
	if (s->d == NULL || s->state == H2S_DONE)
		return;
	if (h2s_retry(s, (enum retry_cause)cause, status))
		return;
	h2s_outcome(s, 0);
	if (cause == RETRY_CAUSE_CONNECT && inbound)
		h2s_refuse(s, 503, "app not ready", 0);
	else if (cause == RETRY_CAUSE_CONNECT)
		h2s_refuse(s, 502, why, 0);
	else
		h2s_refuse(s, 502, why, 0);
}


/*
 * The attempt's response head is complete (end: and the response with
 * it, trailers-only).  Retried when the callee's sidecar said its app is
 * not there (a connect failure), or its gRPC status or HTTP status is in
 * retry_on; relayed otherwise, with the endpoint's verdict: a 5xx, or
 * gRPC UNAVAILABLE, counts against it.
 */
void
h2s_response(struct h2s *s, int end)
{
	const nghttp2_nv *me = h2hdr_find(&s->res, s->res_nhead, "mesh-error");
	int cause = -1, fail;

	if (s->d == NULL)
		return;
	if (s->res.full) {
		h2s_outcome(s, 0);
		h2s_refuse(s, 502, "response head too large", 1);
		return;
	}
	if (me != NULL && me->valuelen == 13 && memcmp(me->value, "app not ready", 13) == 0)
		cause = RETRY_CAUSE_CONNECT;
	else if (end && s->grpc_status > 0 && s->rsvc != NULL &&
	    retry_grpc_listed(&s->rsvc->policy, s->grpc_status))
		cause = RETRY_CAUSE_GRPC;
	else if (s->rsvc != NULL && retry_status_listed(&s->rsvc->policy, s->status))
		cause = RETRY_CAUSE_STATUS;
	if (cause != -1 && h2s_retry(s, (enum retry_cause)cause,
	    cause == RETRY_CAUSE_GRPC ? s->grpc_status : s->status)) {
		h2u_detach(s, NGHTTP2_CANCEL);
		return;
	}
	fail = s->status >= 500 || (end && s->grpc_status == GRPC_UNAVAILABLE);
	h2s_outcome(s, fail ? 0 : 1);
	h2s_pending_leave(s);
	if (h2r_response(s, end) == -1)
		h2s_refuse(s, 502, "out of memory", 1);
}

