/* SPDX-License-Identifier: ISC */
/*
 * top_stats: the dashboard's live numbers, read straight from the
 * sidecars' stats files (include/mesh/stats.h): nothing is asked of the
 * proxies, so the dashboard adds no load to the request path.
 *
 * See include/mesh/top.h for what each number means.  A restarted
 * sidecar starts its counters at 0 again: a histogram bucket that went
 * down counts as 0 in the window, so a restart costs at most one
 * window of skewed quantiles, never a negative count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/top.h"
#include "mesh/trace.h"

#define B STATS_HIST_BUCKETS

enum top_brk
top_stats_brk(uint32_t ep_state)
{
	switch (ep_state) {
	case STATS_EP_CLOSED:    return TOP_BRK_CLOSED;
	case STATS_EP_HALF_OPEN: return TOP_BRK_HALF;
	case STATS_EP_OPEN:      return TOP_BRK_OPEN;
	default:                 return TOP_BRK_NONE;
	}
}

/* Is endpoint row e at instance in?  A remote instance: the row names its
 * host, address and port.  A local one (top.h): the row is this host's,
 * host "" or m->host, at 127.0.0.1 (0 in an older file) or m->host_addr. */
static int
top_stats_ep_at(const struct top_model *m, const struct top_inst *in,
    const struct stats_ep_rec *e)
{
	int loop = e->addr == 0 || e->addr == STATS_EP_LOOPBACK;

	if (in->remote)
		return e->port == in->inbound_port && e->addr == in->addr &&
		    strncmp(e->host, in->host, STATS_NAME_LEN) == 0;
	if (e->host[0] != '\0' && strncmp(e->host, m->host, STATS_NAME_LEN) != 0)
		return 0;
	return loop || (m->host_addr != 0 && e->addr == m->host_addr);
}

/* The instance an endpoint row names, or NULL. */
static struct top_inst *
top_stats_ep_inst(struct top_model *m, const struct stats_ep_rec *e)
{
	size_t i;

	for (i = 0; i < m->ninst; i++) {
		struct top_inst *in = &m->inst[i];

		if (in->index == e->index && strncmp(in->version, e->version, STATS_NAME_LEN) == 0 &&
		    strncmp(in->id, e->service, strnlen(e->service, STATS_NAME_LEN)) == 0 &&
		    in->id[strnlen(e->service, STATS_NAME_LEN)] == '@' &&
		    top_stats_ep_at(m, in, e))
			return in;
	}
	return NULL;
}

/* Inbound rows into sum (and the gRPC calls into s); a sidecar nobody
 * calls (a gateway) gives its outbound rows instead, which is the
 * latency its clients see. */
static void
top_stats_hist(const struct stats_view *v, uint64_t *sum, struct top_svc *s)
{
	size_t p, b;
	int in = 0;

	for (p = 0; p < v->npeers; p++)
		if (v->peers[p].dir == STATS_IN && v->peers[p].requests > 0)
			in = 1;
	for (p = 0; p < v->npeers; p++) {
		const struct stats_peer_rec *r = &v->peers[p];

		if (r->dir > STATS_IN || (r->dir == STATS_IN) != in)
			continue;   /* mirror rows are nobody's traffic */
		if (sum != NULL)
			for (b = 0; b < B; b++)
				sum[b] += r->hist[b];
		for (b = 0; b < STATS_GRPC_CODES; b++)
			s->grpc_total += r->grpc[b];
		s->grpc_total_ok += r->grpc[0];
	}
}

static void
top_stats_view(struct top_model *m, struct top_inst *in, struct top_svc *s,
    const struct stats_view *v, uint64_t now_s)
{
	size_t e;

	in->have_stats = 1;
	in->rps = stats_view_rps(v, now_s, TOP_RATE_S, &in->eps);
	in->conns = v->snap.v[STAT_CONNECTIONS_OPEN];
	/* chaos, counted apart from the real errors (rps/eps count them too) */
	in->faults = v->snap.v[STAT_FAULTS_ABORT] + v->snap.v[STAT_FAULTS_DELAY];
	in->mirrored = v->snap.v[STAT_MIRROR_REQUESTS];
	top_stats_hist(v, s->sum, s);
	/* what this sidecar thinks of the endpoints it calls */
	for (e = 0; e < v->neps; e++) {
		const struct stats_ep_rec *ep = &v->eps[e];
		struct top_inst *to = top_stats_ep_inst(m, ep);
		enum top_brk b = top_stats_brk(ep->state);

		if (to == NULL)
			continue;
		if (b > to->brk)
			to->brk = b;
		if (ep->ejected)
			to->ejected = 1;
		to->ejections += ep->ejections;
		if (ep->ewma_us > to->ewma_us)
			to->ewma_us = ep->ewma_us;
	}
}

/* delta = sum - base, buckets that went down (a restart) as 0; total. */
static uint64_t
top_stats_delta(const uint64_t *sum, const uint64_t *base, uint64_t *delta)
{
	uint64_t total = 0;
	size_t b;

	for (b = 0; b < B; b++) {
		delta[b] = base == NULL ? sum[b] : sum[b] > base[b] ? sum[b] - base[b] : 0;
		total += delta[b];
	}
	return total;
}

/* The gRPC calls since the oldest sum kept (slot `oldest`; none kept
 * yet: since the start), then this second's sum into slot whead.  A
 * restart that sent the totals down counts as none in the window. */
static void
top_stats_grpc_window(struct top_svc *s, unsigned oldest)
{
	const uint64_t *o = s->nwin > 0 ? s->grpc_win[oldest] : NULL;
	uint64_t calls, ok;

	calls = o == NULL ? s->grpc_total : s->grpc_total > o[0] ? s->grpc_total - o[0] : 0;
	ok = o == NULL ? s->grpc_total_ok : s->grpc_total_ok > o[1] ? s->grpc_total_ok - o[1] : 0;
	s->grpc_calls = calls;
	s->grpc_ok = ok < calls ? ok : calls;
	s->grpc_win[s->whead][0] = s->grpc_total;
	s->grpc_win[s->whead][1] = s->grpc_total_ok;
}

/* Once per wall-clock second: keep the cumulative sum, move the window
 * and the sparkline. */
static void
top_stats_sample(struct top_svc *s)
{
	uint64_t delta[B];
	const unsigned slots = TOP_WIN_S + 1;
	const uint64_t *prev, *oldest;
	unsigned last;

	if (s->win == NULL || s->sum == NULL)
		return;
	last = (s->whead + slots - 1) % slots;
	prev = s->nwin > 0 ? s->win + (size_t)last * B : NULL;
	oldest = s->nwin == slots ? s->win + (size_t)s->whead * B :
	    s->nwin > 0 ? s->win : NULL;
	memmove(s->spark, s->spark + 1, sizeof(s->spark) - sizeof(s->spark[0]));
	s->spark[TOP_SPARK - 1] = prev != NULL && top_stats_delta(s->sum, prev, delta) > 0 ?
	    stats_hist_quantile(delta, 0.99) : 0;
	/* the window: since the oldest sum kept (at first: since the start) */
	s->have_lat = top_stats_delta(s->sum, oldest, delta) > 0;
	s->p50 = s->have_lat ? stats_hist_quantile(delta, 0.50) : 0;
	s->p95 = s->have_lat ? stats_hist_quantile(delta, 0.95) : 0;
	s->p99 = s->have_lat ? stats_hist_quantile(delta, 0.99) : 0;
	memcpy(s->win + (size_t)s->whead * B, s->sum, B * sizeof(uint64_t));
	top_stats_grpc_window(s, s->nwin == slots ? s->whead : 0);
	s->whead = (s->whead + 1) % slots;
	if (s->nwin < slots)
		s->nwin++;
}

void
top_stats_update(struct top_model *m, uint64_t now_ns)
{
	uint64_t now_s = now_ns / 1000000000u;
	char path[4200];
	size_t i, k;

	for (i = 0; i < m->ninst; i++) {
		struct top_inst *in = &m->inst[i];

		in->have_stats = 0;
		in->rps = in->eps = 0;
		in->conns = in->ejections = in->ewma_us = 0;
		in->faults = in->mirrored = 0;
		in->brk = TOP_BRK_NONE;
		in->ejected = 0;
	}
	for (i = 0; i < m->nsvc; i++) {
		struct top_svc *s = &m->svc[i];

		if (s->sum == NULL)
			s->sum = calloc(B, sizeof(uint64_t));
		if (s->win == NULL)
			s->win = calloc((size_t)(TOP_WIN_S + 1) * B, sizeof(uint64_t));
		if (s->sum != NULL)
			memset(s->sum, 0, B * sizeof(uint64_t));
		s->grpc_total = s->grpc_total_ok = 0;
	}
	for (i = 0; i < m->nsvc; i++) {
		struct top_svc *s = &m->svc[i];

		for (k = 0; k < s->ninst; k++) {
			struct top_inst *in = &m->inst[s->inst[k]];
			struct stats_view v;

			/* another host's instance has no stats file here */
			if (in->remote || m->state_dir[0] == '\0' ||
			    stats_path(path, sizeof(path), m->state_dir, in->id) == -1 ||
			    stats_view_read(path, &v) != STATS_OK)
				continue;
			top_stats_view(m, in, s, &v, now_s);
			stats_view_free(&v);
		}
	}
	m->rps = m->eps = 0;
	for (i = 0; i < m->nsvc; i++) {
		struct top_svc *s = &m->svc[i];

		s->rps = s->eps = 0;
		s->conns = 0;
		s->brk = TOP_BRK_NONE;
		for (k = 0; k < s->ninst; k++) {
			const struct top_inst *in = &m->inst[s->inst[k]];

			s->rps += in->rps;
			s->eps += in->eps;
			s->conns += in->conns;
			if (in->brk > s->brk)
				s->brk = in->brk;
		}
		m->rps += s->rps;
		m->eps += s->eps;
		if (now_s != m->last_sample_s)
			top_stats_sample(s);
	}
	m->last_sample_s = now_s;
}

static int
top_span_cmp(const void *a, const void *b)
{
	const struct top_span *x = a, *y = b;

	return x->duration_us < y->duration_us ? 1 : x->duration_us > y->duration_us ? -1 : 0;
}

/* Keep r in out (no duplicates) when it is slow-table material or failed. */
static size_t
top_span_keep(const struct top_inst *in, const struct stats_span_rec *r,
    struct top_span *out, size_t n, size_t max)
{
	struct top_span *t;
	size_t i;

	for (i = 0; i < n; i++)
		if (out[i].start_ns == r->start_ns && out[i].duration_us == r->duration_us &&
		    strcmp(out[i].instance, in->name) == 0)
			return n;
	if (n == max) {
		/* full: replace the fastest when this one is slower */
		qsort(out, n, sizeof(*out), top_span_cmp);
		if (out[n - 1].duration_us >= r->duration_us)
			return n;
		n--;
	}
	t = &out[n];
	memset(t, 0, sizeof(*t));
	snprintf(t->instance, sizeof(t->instance), "%s", in->name);
	t->start_ns = r->start_ns;
	t->duration_us = r->duration_us;
	t->status = r->status;
	t->flags = r->flags;
	t->retries = r->retries;
	t->grpc = r->flags & STATS_SF_GRPC ? (int)r->grpc_status : -1;
	snprintf(t->method, sizeof(t->method), "%.*s", (int)sizeof(r->method), r->method);
	snprintf(t->path, sizeof(t->path), "%.*s", (int)sizeof(r->path), r->path);
	snprintf(t->peer, sizeof(t->peer), "%.*s", (int)sizeof(r->peer), r->peer);
	trace_hex(t->trace, r->trace_id, sizeof(r->trace_id));
	return n + 1;
}

/* A gRPC call that ended with a status a server sends when it failed
 * (UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE,
 * DATA_LOSS): a failed request, whatever its HTTP status. */
static int
top_span_grpc_failed(const struct stats_span_rec *r)
{
	if (!(r->flags & STATS_SF_GRPC))
		return 0;
	switch (r->grpc_status) {
	case 2: case 4: case 12: case 13: case 14: case 15:
		return 1;
	}
	return 0;
}

size_t
top_stats_spans(const struct top_model *m, const struct top_svc *s,
    struct top_span *out, size_t max)
{
	struct stats_span_rec *buf;
	char path[4200];
	size_t k, n = 0;
	long got, j;

	if (max == 0 || (buf = calloc(STATS_SPANS_MAX, sizeof(*buf))) == NULL)
		return 0;
	for (k = 0; k < s->ninst; k++) {
		const struct top_inst *in = &m->inst[s->inst[k]];
		uint64_t cursor = 0, lost = 0;

		if (in->remote || stats_path(path, sizeof(path), m->state_dir, in->id) == -1)
			continue;
		got = stats_spans_read(path, &cursor, buf, STATS_SLOW_MAX, &lost, 1);
		cursor = 0;
		for (j = 0; j < got; j++)
			n = top_span_keep(in, &buf[j], out, n, max);
		got = stats_spans_read(path, &cursor, buf, STATS_SPANS_MAX, &lost, 0);
		if (got > 0)   /* records a tap left in the ring are no traces */
			got = (long)stats_spans_traced(buf, (size_t)got);
		for (j = 0; j < got; j++)
			if (buf[j].status >= 500 || (buf[j].flags & ~(STATS_SF_SAMPLED |
			    STATS_SF_GRPC)) != 0 || top_span_grpc_failed(&buf[j]))
				n = top_span_keep(in, &buf[j], out, n, max);
	}
	free(buf);
	qsort(out, n, sizeof(*out), top_span_cmp);
	return n;
}
