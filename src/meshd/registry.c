/* SPDX-License-Identifier: ISC */
/*
 * registry: instances, ports, endpoint state, and each sidecar's pcfg
 * (see include/mesh/registry.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/mreg.h"
#include "mesh/registry.h"

int
registry_init(struct registry *r, const struct mesh_config *cfg,
    struct ports_alloc *alloc, FILE *errs)
{
	size_t s, total = 0, k = 0;
	unsigned i;

	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	for (s = 0; s < cfg->nservices; s++)
		total += cfg->services[s].instances;
	if (total == 0)
		return 0;
	if ((r->inst = calloc(total, sizeof(*r->inst))) == NULL)
		goto nomem;
	for (s = 0; s < cfg->nservices; s++) {
		const struct conf_service *sv = &cfg->services[s];
		const struct conf_service *first = config_service(cfg, sv->name, NULL);

		for (i = 0; i < sv->instances; i++) {
			struct reg_instance *ri = &r->inst[k++];
			size_t u;

			r->ninst = k;
			ri->svc = sv;
			ri->index = i;
			snprintf(ri->id, sizeof(ri->id), "%s@%s.%u", sv->name, sv->version, i);
			if (first == NULL || first == sv)
				snprintf(ri->name, sizeof(ri->name), "%s.%u", sv->name, i);
			else
				snprintf(ri->name, sizeof(ri->name), "%s@%s.%u",
				    sv->name, sv->version, i);
			if (sv->nupstreams > 0 &&
			    (ri->listen_ports = calloc(sv->nupstreams, sizeof(uint16_t))) == NULL)
				goto nomem;
			for (u = 0; u < sv->nupstreams; u++)
				if (sv->upstreams[u].port != 0)
					ri->listen_ports[u] = (uint16_t)(sv->upstreams[u].port + i);
			if (sv->port != 0) {
				ri->app_port = (uint16_t)(sv->port + i);
				if (ports_alloc_next(alloc, &ri->inbound_port) == -1)
					goto exhausted;
			}
			if (sv->outbound != 0)
				ri->outbound_port = (uint16_t)(sv->outbound + i);
			else if (ports_alloc_next(alloc, &ri->outbound_port) == -1)
				goto exhausted;
		}
	}
	return 0;
exhausted:
	fprintf(errs, "%s: no free port left above port_base %u for service %s\n",
	    cfg->path, cfg->mesh.port_base, r->inst[k - 1].svc->name);
	registry_free(r);
	return -1;
nomem:
	fprintf(errs, "%s: out of memory\n", cfg->path);
	registry_free(r);
	return -1;
}

void
registry_free(struct registry *r)
{
	size_t i;

	for (i = 0; i < r->ninst; i++)
		free(r->inst[i].listen_ports);
	free(r->inst);
	memset(r, 0, sizeof(*r));
}

struct reg_instance *
registry_find_id(const struct registry *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->ninst; i++)
		if (strcmp(r->inst[i].id, id) == 0)
			return &r->inst[i];
	return NULL;
}

int
registry_set_up(struct reg_instance *ri, int up)
{
	up = up != 0;
	if (ri->up == up)
		return 0;
	ri->up = up;
	return 1;
}

int
registry_calls(const struct reg_instance *ri, const char *service)
{
	size_t u;

	for (u = 0; u < ri->svc->nupstreams; u++)
		if (strcmp(ri->svc->upstreams[u].name, service) == 0)
			return 1;
	return 0;
}

static enum pcfg_proto
registry_proto(enum conf_proto p)
{
	switch (p) {
	case CONF_PROTO_TCP:   return PCFG_TCP;
	case CONF_PROTO_HTTP2: return PCFG_HTTP2;
	case CONF_PROTO_GRPC:  return PCFG_GRPC;
	case CONF_PROTO_HTTP:  break;
	}
	return PCFG_HTTP;
}

static uint32_t
registry_ms(uint64_t us)
{
	uint64_t ms = us / 1000;

	if (ms == 0)
		ms = 1;
	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

static void
registry_limits(const struct conf_mesh *m, struct pcfg_limits *l)
{
	pcfg_limits_default(l);
	if (m->max_header_bytes)
		l->header_bytes = m->max_header_bytes;
	if (m->max_headers)
		l->headers = m->max_headers;
	if (m->max_line_bytes)
		l->line_bytes = m->max_line_bytes;
	if (m->header_timeout_us)
		l->header_timeout_ms = registry_ms(m->header_timeout_us);
	if (m->idle_timeout_us)
		l->idle_timeout_ms = registry_ms(m->idle_timeout_us);
	if (m->max_connections)
		l->connections = m->max_connections;
}

/* timeout may be 0 (none); any other duration rounds up to >= 1 ms. */
static uint32_t
registry_ms0(uint64_t us)
{
	return us == 0 ? 0 : registry_ms(us);
}

/*
 * The route's traffic policy in the caller's terms.  Every [route.NAME]
 * key has its default in config's table, so a route copies them all;
 * pcfg_format writes only what differs from pcfg_policy_default().
 */
static void
registry_policy(const struct conf_route *rt, struct pcfg_policy *p)
{
	pcfg_policy_default(p);
	if (rt == NULL)
		return;
	p->timeout_ms = registry_ms0(rt->timeout_us);
	p->connect_timeout_ms = registry_ms(rt->connect_timeout_us);
	p->retries = rt->retries;
	p->retry_on = (rt->retry_on & CONF_RETRY_CONNECT_FAILURE ? PCFG_RETRY_CONNECT : 0) |
	    (rt->retry_on & CONF_RETRY_RESET ? PCFG_RETRY_RESET : 0) |
	    (rt->retry_on & CONF_RETRY_UNAVAILABLE ? PCFG_RETRY_UNAVAILABLE : 0) |
	    (rt->retry_on & CONF_RETRY_RESOURCE_EXHAUSTED ? PCFG_RETRY_RESOURCE_EXHAUSTED : 0) |
	    (rt->retry_on & CONF_RETRY_CANCELLED ? PCFG_RETRY_CANCELLED : 0) |
	    (rt->retry_on & CONF_RETRY_DEADLINE_EXCEEDED ? PCFG_RETRY_DEADLINE_EXCEEDED : 0) |
	    (rt->retry_on & CONF_RETRY_INTERNAL ? PCFG_RETRY_INTERNAL : 0);
	p->nretry_status = rt->nretry_status;
	memcpy(p->retry_status, rt->retry_status, rt->nretry_status * sizeof(p->retry_status[0]));
	p->backoff_base_ms = registry_ms(rt->backoff_base_us);
	p->backoff_cap_ms = registry_ms(rt->backoff_cap_us);
	p->budget_percent = rt->budget_percent;
	p->budget_per_sec = rt->budget_per_sec;
	p->lb = rt->lb == CONF_LB_ROUND_ROBIN ? PCFG_LB_ROUND_ROBIN :
	    rt->lb == CONF_LB_LEAST_REQUEST ? PCFG_LB_LEAST_REQUEST : PCFG_LB_EWMA;
	p->breaker_failures = rt->breaker_failures;
	p->breaker_cooldown_ms = registry_ms(rt->breaker_cooldown_us);
	p->max_pending = rt->breaker_max_pending;
	p->outlier_failures = rt->outlier_failures;
	p->outlier_ejection_ms = registry_ms(rt->outlier_ejection_us);
}

/* The route's fault.* keys: the caller's sidecar injects them (fault.h). */
static void
registry_fault(const struct conf_route *rt, struct pcfg_fault *f)
{
	memset(f, 0, sizeof(*f));
	if (rt == NULL)
		return;
	f->delay_permille = rt->fault.delay_permille;
	f->delay_ms = f->delay_permille != 0 ? registry_ms(rt->fault.delay_us) : 0;
	f->abort_permille = rt->fault.abort_permille;
	f->abort_status = rt->fault.abort_status;
	snprintf(f->match_header, sizeof(f->match_header), "%s", rt->fault.match_header);
	snprintf(f->match_value, sizeof(f->match_value), "%s", rt->fault.match_value);
	snprintf(f->version, sizeof(f->version), "%s", rt->fault.version);
}

/* host_address as the document's address (host order); 0 (127.0.0.1)
 * without a registry. */
static uint32_t
registry_host_addr(const struct registry *r)
{
	struct in_addr a;

	if (r->cfg->mesh.registry != CONF_REGISTRY_ETCD ||
	    inet_pton(AF_INET, r->cfg->mesh.host_address, &a) != 1)
		return 0;
	return ntohl(a.s_addr);
}

/* The other hosts' instances of `name`: the first, and how many (r->remote
 * is sorted by service). */
static const struct mreg_remote *
registry_remotes(const struct registry *r, const char *name, size_t *n)
{
	size_t i = 0, k;

	*n = 0;
	if (r->remote == NULL)
		return NULL;
	while (i < r->nremote && strcmp(r->remote[i].rec.service, name) != 0)
		i++;
	for (k = i; k < r->nremote && strcmp(r->remote[k].rec.service, name) == 0; k++)
		(*n)++;
	return *n > 0 ? &r->remote[i] : NULL;
}

/* The protocol of a service declared only on other hosts: the first of its
 * records that says one, else http. */
static enum pcfg_proto
registry_remote_proto(const struct mreg_remote *rem, size_t n)
{
	size_t i;
	int p;

	for (i = 0; i < n; i++)
		if ((p = mreg_proto(rem[i].rec.protocol)) != -1)
			return registry_proto((enum conf_proto)p);
	return PCFG_HTTP;
}

/* The other hosts' endpoints of a service, after this host's: up (their
 * meshd publishes only ready instances), at their address, host= theirs. */
static void
registry_remote_endpoints(const struct mreg_remote *rem, size_t n, struct pcfg_service *ps)
{
	size_t i;
	struct in_addr a;

	for (i = 0; i < n; i++) {
		struct pcfg_endpoint *e;

		if (inet_pton(AF_INET, rem[i].rec.address, &a) != 1)
			continue;   /* mreg_rec_decode() let only IPv4 through */
		e = &ps->endpoints[ps->nendpoints++];
		snprintf(e->version, sizeof(e->version), "%s", rem[i].rec.version);
		e->index = rem[i].rec.index;
		e->port = rem[i].rec.port;
		e->addr = ntohl(a.s_addr);
		snprintf(e->host, sizeof(e->host), "%s", rem[i].rec.host);
		e->up = 1;
	}
}

/* One `service` block: every endpoint of every version (this host's, then
 * the other hosts'), the split, the policy, the faults, the mirror. */
static int
registry_pcfg_service(const struct registry *r, const char *name, struct pcfg_service *ps)
{
	const struct conf_service *first = config_service(r->cfg, name, NULL);
	const struct conf_route *rt = config_route(r->cfg, name);
	const struct mreg_remote *rem;
	uint32_t here = registry_host_addr(r);
	size_t i, n, nrem;

	rem = registry_remotes(r, name, &nrem);
	n = nrem;
	snprintf(ps->name, sizeof(ps->name), "%s", name);
	ps->proto = first != NULL ? registry_proto(first->protocol) :
	    registry_remote_proto(rem, nrem);
	registry_policy(rt, &ps->policy);
	ps->has_policy = rt != NULL;
	registry_fault(rt, &ps->fault);
	ps->has_fault = pcfg_fault_active(&ps->fault);
	/* the route's mirror (config_mirror.c: to a version of this service) */
	if (rt != NULL && rt->mirror.permille != 0 && strcmp(rt->mirror.service, name) == 0) {
		snprintf(ps->mirror.version, sizeof(ps->mirror.version), "%s", rt->mirror.version);
		ps->mirror.permille = rt->mirror.permille;
	}
	for (i = 0; i < r->ninst; i++)
		if (strcmp(r->inst[i].svc->name, name) == 0 && r->inst[i].inbound_port != 0)
			n++;
	if (n > 0 && (ps->endpoints = calloc(n, sizeof(*ps->endpoints))) == NULL)
		return -1;
	for (i = 0; i < r->ninst; i++) {
		const struct reg_instance *ri = &r->inst[i];
		struct pcfg_endpoint *e;

		if (strcmp(ri->svc->name, name) != 0 || ri->inbound_port == 0)
			continue;
		e = &ps->endpoints[ps->nendpoints++];
		snprintf(e->version, sizeof(e->version), "%s", ri->svc->version);
		e->index = ri->index;
		e->port = ri->inbound_port;
		e->up = ri->up;
		if (here != 0) {
			e->addr = here;
			snprintf(e->host, sizeof(e->host), "%s", r->cfg->mesh.host_name);
		}
	}
	registry_remote_endpoints(rem, nrem, ps);
	if (rt != NULL && rt->nsplit > 0) {
		if ((ps->splits = calloc(rt->nsplit, sizeof(*ps->splits))) == NULL)
			return -1;
		for (i = 0; i < rt->nsplit; i++) {
			snprintf(ps->splits[i].version, sizeof(ps->splits[i].version),
			    "%s", rt->split[i].version);
			ps->splits[i].weight = rt->split[i].weight;
		}
		ps->nsplits = rt->nsplit;
	}
	return 0;
}

/*
 * trace_sample and access_log, the same for every sidecar.  The config
 * made a PATH absolute against the file's directory already; 0, or -1
 * with ENAMETOOLONG when it does not fit a document line.
 */
static int
registry_obs(const struct conf_mesh *m, struct pcfg *out)
{
	out->trace_permille = m->trace_sample_permille;
	switch (m->access_log) {
	case CONF_ACCESS_JSON:
		out->access_log = PCFG_ACCESS_JSON;
		break;
	case CONF_ACCESS_PATH:
		if (m->access_log_path == NULL ||
		    strlen(m->access_log_path) >= sizeof(out->access_log_path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		out->access_log = PCFG_ACCESS_FILE;
		memcpy(out->access_log_path, m->access_log_path, strlen(m->access_log_path) + 1);
		break;
	case CONF_ACCESS_OFF:
	default:
		out->access_log = PCFG_ACCESS_OFF;
		break;
	}
	return 0;
}

int
registry_pcfg(const struct registry *r, const struct reg_instance *ri, struct pcfg *out)
{
	const struct conf_service *sv = ri->svc;
	size_t u, k;

	memset(out, 0, sizeof(*out));
	snprintf(out->service, sizeof(out->service), "%s", sv->name);
	snprintf(out->version, sizeof(out->version), "%s", sv->version);
	out->index = ri->index;
	registry_limits(&r->cfg->mesh, &out->limits);
	if (ri->inbound_port != 0) {
		out->inbound_port = ri->inbound_port;
		out->inbound_proto = registry_proto(sv->protocol);
		out->app_port = ri->app_port;
	}
	out->outbound_port = ri->outbound_port;
	if ((out->inbound_bind = registry_host_addr(r)) != 0)
		snprintf(out->host, sizeof(out->host), "%s", r->cfg->mesh.host_name);
	/* mTLS identity: the callee applies `allow` itself (none: everyone) */
	snprintf(out->trust_domain, sizeof(out->trust_domain), "%s",
	    r->cfg->mesh.trust_domain != NULL ? r->cfg->mesh.trust_domain : "");
	if (registry_obs(&r->cfg->mesh, out) == -1) {
		pcfg_free(out);
		return -1;
	}
	if (sv->nallow > 0) {
		if ((out->allow = calloc(sv->nallow, sizeof(*out->allow))) == NULL)
			goto fail;
		for (k = 0; k < sv->nallow; k++)
			snprintf(out->allow[k], sizeof(out->allow[k]), "%s", sv->allow[k]);
		out->nallow = sv->nallow;
	}
	if (sv->nupstreams == 0)
		return 0;
	if ((out->listens = calloc(sv->nupstreams, sizeof(*out->listens))) == NULL ||
	    (out->services = calloc(sv->nupstreams, sizeof(*out->services))) == NULL)
		goto fail;
	for (u = 0; u < sv->nupstreams; u++) {
		const char *name = sv->upstreams[u].name;

		if (ri->listen_ports[u] != 0) {
			struct pcfg_listen *l = &out->listens[out->nlistens++];

			l->port = ri->listen_ports[u];
			snprintf(l->service, sizeof(l->service), "%s", name);
		}
		/* `upstreams = db, db:5433` names db once in the document */
		for (k = 0; k < out->nservices; k++)
			if (strcmp(out->services[k].name, name) == 0)
				break;
		if (k < out->nservices)
			continue;
		out->nservices++;
		if (registry_pcfg_service(r, name, &out->services[k]) == -1)
			goto fail;
	}
	return 0;
fail:
	pcfg_free(out);
	errno = ENOMEM;
	return -1;
}

int
registry_document(const struct registry *r, const struct reg_instance *ri,
    char **doc, size_t *len)
{
	struct pcfg c;
	int rc;

	if (registry_pcfg(r, ri, &c) == -1)
		return -1;
	rc = pcfg_format(&c, doc, len);
	pcfg_free(&c);
	return rc;
}
