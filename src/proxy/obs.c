/* SPDX-License-Identifier: ISC */
/*
 * obs: one exchange's numbers, span and log line (include/mesh/obs.h).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "mesh/alog.h"
#include "mesh/clock.h"
#include "mesh/fault.h"
#include "mesh/obs.h"
#include "ptap_int.h"

static struct {
	char     service[STATS_NAME_LEN];
	char     version[STATS_NAME_LEN];
	char     instance[STATS_NAME_LEN];
	unsigned sample;          /* per mille */
	int      access_log;
	int      seeded;
	struct trace_rng rng;
} obs_cfg;

/* Copy at most n bytes of s into a NUL-terminated field of size dsize. */
static void
obs_copy(char *d, size_t dsize, const char *s, size_t n)
{
	if (n > dsize - 1)
		n = dsize - 1;
	if (n > 0)
		memcpy(d, s, n);
	d[n] = '\0';
}

void
obs_configure(const char *service, const char *version, unsigned index,
              unsigned sample_permille, int access_log)
{
	char id[STATS_NAME_LEN];

	obs_copy(obs_cfg.service, sizeof(obs_cfg.service), service, strlen(service));
	obs_copy(obs_cfg.version, sizeof(obs_cfg.version), version, strlen(version));
	snprintf(id, sizeof(id), "%s@%s.%u", service, version, index);
	obs_copy(obs_cfg.instance, sizeof(obs_cfg.instance), id, strlen(id));
	obs_cfg.sample = sample_permille > 1000 ? 1000 : sample_permille;
	obs_cfg.access_log = access_log;
	if (!obs_cfg.seeded) {
		trace_rng_seed(&obs_cfg.rng, clock_ns(CLOCK_REALTIME) ^
		    ((uint64_t)getpid() << 32) ^ clock_ns(CLOCK_MONOTONIC));
		obs_cfg.seeded = 1;
	}
	stats_identity(service, version, obs_cfg.instance);
	ptap_service(service);
}


/* Is header h named `lit` (a lower-case literal)? */
#define OBS_IS(h, lit) ((h)->name_len == sizeof(lit) - 1 && \
	strncasecmp((h)->name, (lit), sizeof(lit) - 1) == 0)

/* The context the request came with: traceparent, else B3. */
static int
obs_context(const struct http_request *req, struct trace_ctx *t)
{
	const struct http_header *tp = NULL, *b3 = NULL, *tid = NULL, *sid = NULL, *smp = NULL;
	size_t i;

	/* one pass over the headers for all five names (http_header_find
	 * would scan them five times on every request) */
	for (i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];

		if (OBS_IS(h, "traceparent"))
			tp = h;
		else if (OBS_IS(h, "b3"))
			b3 = h;
		else if (OBS_IS(h, "x-b3-traceid"))
			tid = h;
		else if (OBS_IS(h, "x-b3-spanid"))
			sid = h;
		else if (OBS_IS(h, "x-b3-sampled"))
			smp = h;
	}
	memset(t, 0, sizeof(*t));
	if (tp != NULL)
		return trace_parse_traceparent(tp->value, tp->value_len, t);
	if (b3 != NULL)
		return trace_parse_b3(b3->value, b3->value_len, t);
	if (tid == NULL || sid == NULL)
		return -1;
	return trace_parse_b3_multi(tid->value, tid->value_len, sid->value, sid->value_len,
	    smp != NULL ? smp->value : NULL, smp != NULL ? smp->value_len : 0, t);
}

void
obs_begin(struct obs *o, const struct http_request *req, int inbound, const char *caller)
{
	struct trace_ctx t;
	int has_tp;

	if (o->active && o->inbound)   /* never without obs_end, but no drift */
		stats_gauge_sub(STAT_REQUESTS_IN_FLIGHT, 1);
	o->start_ns = clock_ns(CLOCK_MONOTONIC);
	o->flags = 0;
	o->status = 0;
	o->grpc = OBS_GRPC_NONE;
	o->active = 1;
	o->inbound = inbound != 0;
	if (o->inbound)
		stats_gauge_add(STAT_REQUESTS_IN_FLIGHT, 1);
	o->record = 0;
	o->traceparent[0] = '\0';
	o->peer_version[0] = '\0';
	o->upstream[0] = '\0';
	if (caller != NULL)
		obs_copy(o->peer, sizeof(o->peer), caller, strlen(caller));
	else
		o->peer[0] = '\0';

	has_tp = obs_context(req, &t) == 0 && t.valid;
	/* the log line names the trace even when no span is recorded */
	if (has_tp)
		memcpy(o->trace_id, t.trace_id, sizeof(o->trace_id));
	else
		memset(o->trace_id, 0, sizeof(o->trace_id));
	if (has_tp && !t.sample_deferred && !t.sampled) {
		/* someone upstream decided not to record: forward it as it is */
	} else if (has_tp || obs_cfg.sample > 0) {
		/* a trace we record, or the first sidecar's decision not to: the
		 * context goes on either way, so no later hop starts a trace of
		 * its own in the middle of this request (B3 without a decision:
		 * this hop decides, within the trace it got) */
		int sampled = has_tp && !t.sample_deferred ? 1 :
		    trace_sample(&obs_cfg.rng, obs_cfg.sample);

		if (has_tp) {
			memcpy(o->parent_id, t.span_id, sizeof(o->parent_id));
		} else {
			trace_new_id(&obs_cfg.rng, o->trace_id, sizeof(o->trace_id));
			memset(o->parent_id, 0, sizeof(o->parent_id));
		}
		trace_new_id(&obs_cfg.rng, o->span_id, sizeof(o->span_id));
		trace_format(o->traceparent, o->trace_id, o->span_id, sampled);
		o->record = (uint8_t)sampled;
	}
	o->tap = (uint8_t)ptap_on();
	o->detail = o->record || o->tap || obs_cfg.access_log;
	if (o->detail) {
		o->start_real_ns = clock_ns(CLOCK_REALTIME);
		obs_copy(o->method, sizeof(o->method), req->method, req->method_len);
		obs_copy(o->authority, sizeof(o->authority), req->authority, req->authority_len);
		obs_copy(o->path, sizeof(o->path), req->path, req->path_len);
	}
}

void
obs_route(struct obs *o, const char *service)
{
	obs_copy(o->peer, sizeof(o->peer), service, strlen(service));
}

void
obs_upstream(struct obs *o, const char *version, unsigned index)
{
	obs_copy(o->peer_version, sizeof(o->peer_version), version, strlen(version));
	snprintf(o->upstream, sizeof(o->upstream), "%.*s.%u", (int)(sizeof(o->upstream) - 12),
	    version, index);
}

void
obs_status(struct obs *o, int status)
{
	o->status = (uint16_t)status;
}

void
obs_refusal(struct obs *o, int status, const char *reason)
{
	/* the Envoy-like flag of each refusal fwd_*.c makes that has one */
	static const struct {
		const char *reason;
		uint32_t    flag;
	} flags[] = {
		{ "no route",                 STATS_SF_NR },
		{ "no healthy upstream",      STATS_SF_UH },
		{ "overloaded",               STATS_SF_UO },
		{ "upstream connect failed",  STATS_SF_UF },
		{ "upstream connect timeout", STATS_SF_UF },
		{ "timeout",                  STATS_SF_UT },
		{ "upstream timeout",         STATS_SF_UT },
		{ "upstream reset",           STATS_SF_UR },
		{ "upstream closed",          STATS_SF_UR },
		{ FAULT_REASON,               STATS_SF_FI },
	};
	size_t i;

	o->status = (uint16_t)status;
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strcmp(reason, flags[i].reason) == 0)
			o->flags |= flags[i].flag;
}

void
obs_grpc(struct obs *o, int grpc_status)
{
	if (!o->active)
		return;
	o->grpc = (int8_t)stats_grpc_code(grpc_status);
}

const char *
obs_traceparent(const struct obs *o)
{
	return o->traceparent[0] != '\0' ? o->traceparent : NULL;
}

static void
obs_span(const struct obs *o, struct stats_span_rec *s, unsigned retries, uint64_t dur_us)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->trace_id, o->trace_id, sizeof(s->trace_id));
	if (o->record) {
		/* a tap-only record names the trace the request is in, if
		 * any, but no span: it is none (obs_begin made no span id) */
		memcpy(s->span_id, o->span_id, sizeof(s->span_id));
		memcpy(s->parent_id, o->parent_id, sizeof(s->parent_id));
	}
	s->start_ns = o->start_real_ns;
	s->duration_us = dur_us;
	s->kind = o->inbound ? STATS_SPAN_SERVER : STATS_SPAN_CLIENT;
	s->status = o->status;
	s->retries = retries;
	s->flags = o->flags | (o->record ? STATS_SF_SAMPLED : 0);
	if (o->grpc != OBS_GRPC_NONE) {
		s->flags |= STATS_SF_GRPC;
		s->grpc_status = (uint32_t)o->grpc;
	}
	memcpy(s->service, obs_cfg.service, sizeof(s->service));
	memcpy(s->version, obs_cfg.version, sizeof(s->version));
	memcpy(s->instance, obs_cfg.instance, sizeof(s->instance));
	memcpy(s->peer, o->peer, sizeof(s->peer));
	memcpy(s->upstream, o->upstream, sizeof(s->upstream));
	memcpy(s->method, o->method, sizeof(s->method));
	memcpy(s->authority, o->authority, sizeof(s->authority));
	memcpy(s->path, o->path, sizeof(s->path));
}

void
obs_end(struct obs *o, unsigned retries, uint64_t bytes_in, uint64_t bytes_out)
{
	struct stats_span_rec s;
	struct stats_peer_rec *p;
	uint64_t dur_us;

	if (!o->active)
		return;
	o->active = 0;
	if (o->inbound)
		stats_gauge_sub(STAT_REQUESTS_IN_FLIGHT, 1);
	dur_us = (clock_ns(CLOCK_MONOTONIC) - o->start_ns) / 1000u;
	p = stats_peer(o->inbound ? STATS_IN : STATS_OUT, o->peer, o->peer_version);
	stats_peer_done(p, o->status, dur_us, retries, (o->flags & STATS_SF_UT) != 0);
	if (o->grpc != OBS_GRPC_NONE)
		stats_peer_grpc(p, o->grpc);
	if (!o->detail)
		return;
	obs_span(o, &s, retries, dur_us);
	if (o->record || o->tap)
		stats_span(&s);     /* without STATS_SF_SAMPLED: tap-only */
	alog_request(&s, o->inbound ? STATS_IN : STATS_OUT, bytes_in, bytes_out);
}
