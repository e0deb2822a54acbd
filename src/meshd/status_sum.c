/* SPDX-License-Identifier: ISC */
/*
 * status_sum: the numbers of `meshctl status` from the sidecars' stats
 * files: per service version a summary of its instances' peer rows, per
 * instance the breaker state its callers hold (include/mesh/status.h,
 * "Where the numbers come from").
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh/stats.h"
#include "mesh/status.h"
#include "mesh/svc.h"

void
status_summary_init(struct status_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->source = STATS_IN;
}

void
status_summary_add(struct status_summary *s, const struct stats_view *v, uint64_t now_s)
{
	const struct stats_peer_rec *p;
	int has[2] = { 0, 0 };
	size_t i;
	unsigned b;

	for (i = 0; i < v->npeers; i++) {
		struct status_dirsum *d;

		p = &v->peers[i];
		if (p->dir > STATS_IN)
			continue;
		d = &s->dir[p->dir];
		has[p->dir] = 1;
		d->rows++;
		d->requests += p->requests;
		d->responses += p->responses[0] + p->responses[1] + p->responses[2] +
		    p->responses[3];
		d->errors += p->responses[3];
		for (b = 0; b < STATS_GRPC_CODES; b++)
			d->grpc_calls += p->grpc[b];
		d->grpc_ok += p->grpc[0];
		for (b = 0; b < STATS_HIST_BUCKETS; b++)
			d->hist[b] += p->hist[b];
	}
	/* the ring counts inbound once there was any: a file with inbound
	 * rows gives inbound RPS, one with none outbound (stats.h, "rate") */
	if (has[STATS_IN])
		s->dir[STATS_IN].rps += stats_view_rps(v, now_s, STATUS_RPS_SECONDS, NULL);
	else if (has[STATS_OUT])
		s->dir[STATS_OUT].rps += stats_view_rps(v, now_s, STATUS_RPS_SECONDS, NULL);
}

void
status_summary_merge(struct status_summary *dst, const struct status_summary *src)
{
	unsigned d, b;

	dst->instances_up += src->instances_up;
	dst->instances_total += src->instances_total;
	for (d = 0; d < 2; d++) {
		dst->dir[d].requests += src->dir[d].requests;
		dst->dir[d].responses += src->dir[d].responses;
		dst->dir[d].errors += src->dir[d].errors;
		dst->dir[d].rows += src->dir[d].rows;
		dst->dir[d].grpc_calls += src->dir[d].grpc_calls;
		dst->dir[d].grpc_ok += src->dir[d].grpc_ok;
		dst->dir[d].rps += src->dir[d].rps;
		for (b = 0; b < STATS_HIST_BUCKETS; b++)
			dst->dir[d].hist[b] += src->dir[d].hist[b];
	}
}

void
status_summary_done(struct status_summary *s)
{
	const struct status_dirsum *d;

	/* a service is what it serves; one that serves nothing (a gateway)
	 * is what it sends */
	s->source = s->dir[STATS_IN].rows > 0 || s->dir[STATS_OUT].rows == 0 ? STATS_IN : STATS_OUT;
	d = &s->dir[s->source];
	s->requests = d->requests;
	s->rps = d->rps;
	s->has_traffic = d->responses > 0;
	s->success_rate = s->has_traffic ?
	    (double)(d->responses - d->errors) / (double)d->responses : 0;
	s->p50_us = stats_hist_quantile(d->hist, 0.50);
	s->p95_us = stats_hist_quantile(d->hist, 0.95);
	s->p99_us = stats_hist_quantile(d->hist, 0.99);
	s->grpc_calls = d->grpc_calls;
	s->grpc_success = d->grpc_calls > 0 ?
	    (double)d->grpc_ok / (double)d->grpc_calls : 0;
}

void
status_summary(struct status_summary *s, const struct stats_view *const *views, size_t n,
    uint64_t now_s)
{
	size_t i;

	status_summary_init(s);
	for (i = 0; i < n; i++)
		if (views[i] != NULL)
			status_summary_add(s, views[i], now_s);
	status_summary_done(s);
}

void
status_here_of(const struct meshd *m, struct status_here *h)
{
	struct in_addr a;

	h->host = "";
	h->addr = 0;
	if (m->cfg.mesh.registry != CONF_REGISTRY_ETCD)
		return;
	h->host = m->cfg.mesh.host_name;
	if (inet_pton(AF_INET, m->cfg.mesh.host_address, &a) == 1)
		h->addr = ntohl(a.s_addr);
}

static int
status_ep_loopback(uint32_t addr)
{
	return addr == 0 || addr == STATS_EP_LOOPBACK;
}

int
status_ep_local(const struct stats_ep_rec *e, const struct status_here *h)
{
	const char *host = h != NULL ? h->host : "";
	uint32_t addr = h != NULL ? h->addr : 0;

	if (e->host[0] != '\0' && strncmp(e->host, host, STATS_NAME_LEN) != 0)
		return 0;
	return status_ep_loopback(e->addr) || (addr != 0 && e->addr == addr);
}

static int
status_ep_is(const struct stats_ep_rec *e, const char *service, const char *version,
    unsigned index)
{
	return e->index == index && e->state != STATS_EP_FREE &&
	    strncmp(e->service, service, STATS_NAME_LEN - 1) == 0 &&
	    strncmp(e->version, version, STATS_NAME_LEN - 1) == 0;
}

const struct stats_ep_rec *
status_ep_find(const struct stats_view *v, const char *service, const char *version,
    unsigned index, const struct status_here *here)
{
	size_t i;

	for (i = 0; i < v->neps; i++)
		if (status_ep_is(&v->eps[i], service, version, index) &&
		    status_ep_local(&v->eps[i], here))
			return &v->eps[i];
	return NULL;
}

const struct stats_ep_rec *
status_ep_find_at(const struct stats_view *v, const char *service, const char *version,
    unsigned index, const char *host, uint32_t addr, uint16_t port)
{
	const struct stats_ep_rec *e;
	size_t i;

	for (i = 0; i < v->neps; i++) {
		e = &v->eps[i];
		if (status_ep_is(e, service, version, index) && e->port == port &&
		    (e->addr == addr || (status_ep_loopback(e->addr) && status_ep_loopback(addr))) &&
		    strncmp(e->host, host, STATS_NAME_LEN - 1) == 0)
			return e;
	}
	return NULL;
}

const char *
status_ep_state(uint32_t state)
{
	switch (state) {
	case STATS_EP_CLOSED:    return "closed";
	case STATS_EP_OPEN:      return "open";
	case STATS_EP_HALF_OPEN: return "half-open";
	}
	return NULL;
}

/* Badness: free < closed < half-open < open. */
static int
status_ep_rank(uint32_t s)
{
	switch (s) {
	case STATS_EP_CLOSED:    return 1;
	case STATS_EP_HALF_OPEN: return 2;
	case STATS_EP_OPEN:      return 3;
	}
	return 0;
}

uint32_t
status_ep_worse(uint32_t a, uint32_t b)
{
	return status_ep_rank(b) > status_ep_rank(a) ? b : a;
}

int
status_views_load(const struct meshd *m, struct status_views *sv)
{
	char path[4096];
	size_t i;

	memset(sv, 0, sizeof(*sv));
	sv->now_s = (uint64_t)time(NULL);
	status_here_of(m, &sv->here);
	if (m->ninst == 0)
		return 0;
	sv->v = calloc(m->ninst, sizeof(*sv->v));
	sv->ok = calloc(m->ninst, 1);
	if (sv->v == NULL || sv->ok == NULL) {
		status_views_free(sv);
		return -1;
	}
	sv->n = m->ninst;
	for (i = 0; i < m->ninst; i++)
		sv->ok[i] = stats_path(path, sizeof(path), m->cfg.mesh.state_dir,
		    m->insts[i].ri->id) == 0 && stats_view_read(path, &sv->v[i]) == STATS_OK;
	return 0;
}

void
status_views_free(struct status_views *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (sv->ok[i])
			stats_view_free(&sv->v[i]);
	free(sv->v);
	free(sv->ok);
	memset(sv, 0, sizeof(*sv));
}

/* Up: a serving instance whose endpoint is up; one that serves nothing
 * (no port) when it runs. */
static int
status_inst_up(const struct inst *in)
{
	if (in->ri->inbound_port != 0)
		return in->ri->up;
	return strcmp(svc_state(in), "running") == 0 || strcmp(svc_state(in), "ready") == 0;
}

void
status_service_summary(const struct meshd *m, const struct status_views *vs,
    const struct conf_service *svc, struct status_summary *s)
{
	size_t i;

	status_summary_init(s);
	for (i = 0; i < m->ninst; i++) {
		if (m->insts[i].ri->svc != svc)
			continue;
		s->instances_total++;
		s->instances_up += status_inst_up(&m->insts[i]) ? 1 : 0;
		if (i < vs->n && vs->ok[i])
			status_summary_add(s, &vs->v[i], vs->now_s);
	}
	status_summary_done(s);
}

void
status_inst_breaker(const struct meshd *m, const struct status_views *vs, size_t i,
    uint32_t *worst, unsigned *ejected)
{
	const struct reg_instance *ri = m->insts[i].ri;
	const struct stats_ep_rec *e;
	size_t c;

	*worst = STATS_EP_FREE;
	*ejected = 0;
	for (c = 0; c < vs->n; c++) {
		if (c == i || !vs->ok[c])
			continue;
		e = status_ep_find(&vs->v[c], ri->svc->name, ri->svc->version, ri->index,
		    &vs->here);
		if (e == NULL)
			continue;
		*worst = status_ep_worse(*worst, e->state);
		*ejected += e->ejected != 0;
	}
}
