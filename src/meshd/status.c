/* SPDX-License-Identifier: ISC */
/*
 * status: the JSON document (see include/mesh/status.h); the text table
 * is in status_text.c, the numbers in status_sum.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/faults.h"
#include "mesh/mirrors.h"
#include "mesh/json_esc.h"
#include "mesh/mcert.h"
#include "mesh/stats.h"
#include "mesh/status.h"
#include "mesh/svc.h"
#include "status_int.h"

const char *
status_phase(enum meshd_phase p)
{
	static const char *names[] = { "starting", "running", "stopping", "stopped" };

	return names[p];
}

const struct proc *
status_main_proc(const struct inst *in)
{
	return in->ri->svc->command != NULL ? &in->app : &in->proxy;
}

long
status_uptime(const struct meshd *m, const struct proc *p)
{
	if (p->state != PROC_RUNNING)
		return 0;
	return (long)(ev_now(m->loop) - p->started);
}

static void
status_uint_or_null(FILE *f, const char *key, unsigned v)
{
	if (v != 0)
		fprintf(f, ",\"%s\":%u", key, v);
	else
		fprintf(f, ",\"%s\":null", key);
}

/* Length of the group part of a counter name ("refused" of
 * "refused.not_allowed"), 0 for a plain name. */
static size_t
status_group_len(const char *name)
{
	const char *dot = strchr(name, '.');

	return dot != NULL ? (size_t)(dot - name) : 0;
}

/* A duration in ms with us precision, or null (no observation). */
static void
status_json_ms(FILE *f, const char *key, uint64_t us, int any)
{
	if (any)
		fprintf(f, ",\"%s\":%llu.%03llu", key, (unsigned long long)(us / 1000),
		    (unsigned long long)(us % 1000));
	else
		fprintf(f, ",\"%s\":null", key);
}

/* ,"grpc_calls":N,"grpc_status":{"0":n,...} of a peer row: the statuses
 * seen only. */
static void
status_json_grpc(FILE *f, const struct stats_peer_rec *p)
{
	uint64_t calls = 0;
	unsigned c;
	int first = 1;

	for (c = 0; c < STATS_GRPC_CODES; c++)
		calls += p->grpc[c];
	fprintf(f, ",\"grpc_calls\":%llu,\"grpc_status\":{", (unsigned long long)calls);
	for (c = 0; c < STATS_GRPC_CODES; c++) {
		if (p->grpc[c] == 0)
			continue;
		fprintf(f, "%s\"%u\":%llu", first ? "" : ",", c, (unsigned long long)p->grpc[c]);
		first = 0;
	}
	fputc('}', f);
}

/* "peers":[...] of a stats file: one object per peer row. */
static void
status_json_peers(FILE *f, const struct stats_view *v)
{
	const struct stats_peer_rec *p;
	size_t i;
	int any;

	fputs(",\"peers\":[", f);
	for (i = 0; i < v->npeers; i++) {
		p = &v->peers[i];
		fprintf(f, "%s{\"direction\":\"%s\",\"service\":", i ? "," : "",
		    stats_dir_name(p->dir));
		json_esc_file(f, p->service);
		fputs(",\"version\":", f);
		json_esc_file(f, p->version);
		fprintf(f, ",\"requests\":%llu,\"responses\":{\"2xx\":%llu,\"3xx\":%llu,"
		    "\"4xx\":%llu,\"5xx\":%llu},\"retries\":%llu,\"timeouts\":%llu",
		    (unsigned long long)p->requests, (unsigned long long)p->responses[0],
		    (unsigned long long)p->responses[1], (unsigned long long)p->responses[2],
		    (unsigned long long)p->responses[3], (unsigned long long)p->retries,
		    (unsigned long long)p->timeouts);
		any = p->requests > 0;
		status_json_ms(f, "p50_ms", stats_hist_quantile(p->hist, 0.50), any);
		status_json_ms(f, "p95_ms", stats_hist_quantile(p->hist, 0.95), any);
		status_json_ms(f, "p99_ms", stats_hist_quantile(p->hist, 0.99), any);
		status_json_grpc(f, p);
		fputc('}', f);
	}
	fputc(']', f);
}

/* "stats":{"pid":..,"connections_total":..,"responses_in":{"2xx":..},..}
 * or null.  A dotted counter name is a member of a group object, emitted
 * whole where the group first appears: counters are appended over time,
 * so a group's members need not be neighbours in enum stat_id. */
static void
status_json_stats(FILE *f, const struct stats_view *v)
{
	const struct stats_snapshot *s;
	const char *name, *other;
	size_t glen;
	unsigned i, j;
	int seen, first;

	if (v == NULL) {
		fputs(",\"stats\":null", f);
		return;
	}
	s = &v->snap;
	fprintf(f, ",\"stats\":{\"pid\":%llu", (unsigned long long)s->pid);
	for (i = 0; i < STAT__COUNT; i++) {
		name = stats_name((enum stat_id)i);
		if ((glen = status_group_len(name)) == 0) {
			fprintf(f, ",\"%s\":%llu", name, (unsigned long long)s->v[i]);
			continue;
		}
		for (j = 0, seen = 0; j < i && !seen; j++) {
			other = stats_name((enum stat_id)j);
			seen = status_group_len(other) == glen && strncmp(other, name, glen) == 0;
		}
		if (seen)
			continue;
		fprintf(f, ",\"%.*s\":{", (int)glen, name);
		for (j = i, first = 1; j < STAT__COUNT; j++) {
			other = stats_name((enum stat_id)j);
			if (status_group_len(other) != glen || strncmp(other, name, glen) != 0)
				continue;
			fprintf(f, "%s\"%s\":%llu", first ? "" : ",", other + glen + 1,
			    (unsigned long long)s->v[j]);
			first = 0;
		}
		fputc('}', f);
	}
	status_json_peers(f, v);
	fputc('}', f);
}

void
status_json_breaker_of(FILE *f, const struct meshd *m, const struct status_views *vs,
    uint32_t worst, unsigned ejected, status_row_fn *row, const void *arg)
{
	const struct stats_ep_rec *e;
	const char *st;
	size_t c;
	int first = 1;

	fputs(",\"breaker\":{\"state\":", f);
	if ((st = status_ep_state(worst)) != NULL)
		json_esc_file(f, st);
	else
		fputs("null", f);
	fputs(",\"callers\":[", f);
	for (c = 0; c < vs->n; c++) {
		if (!vs->ok[c] || (e = row(vs, c, arg)) == NULL)
			continue;
		fputs(first ? "{\"caller\":" : ",{\"caller\":", f);
		json_esc_file(f, m->insts[c].ri->name);
		fputs(",\"state\":", f);
		json_esc_file(f, status_ep_state(e->state) != NULL ? status_ep_state(e->state) : "closed");
		fprintf(f, ",\"ejected\":%s", e->ejected ? "true" : "false");
		status_json_ms(f, "ewma_ms", e->ewma_us, e->ewma_us != 0);
		fputc('}', f);
		first = 0;
	}
	fprintf(f, "]},\"ejected\":%s", ejected > 0 ? "true" : "false");
}

struct status_local {
	const struct reg_instance *ri;
	size_t                     self;   /* its own sidecar: no caller of it */
};

/* The row caller c holds on this host's instance. */
static const struct stats_ep_rec *
status_local_row(const struct status_views *vs, size_t c, const void *arg)
{
	const struct status_local *l = arg;

	if (c == l->self)
		return NULL;
	return status_ep_find(&vs->v[c], l->ri->svc->name, l->ri->svc->version,
	    l->ri->index, &vs->here);
}

/* "breaker":{"state","callers":[...]},"ejected": instance i as the
 * other instances' sidecars (its callers) hold it. */
static void
status_json_breaker(FILE *f, const struct meshd *m, const struct status_views *vs, size_t i)
{
	struct status_local l = { m->insts[i].ri, i };
	uint32_t worst;
	unsigned ejected;

	status_inst_breaker(m, vs, i, &worst, &ejected);
	status_json_breaker_of(f, m, vs, worst, ejected, status_local_row, &l);
}

/* "summary":{...} (include/mesh/status.h) */
static void
status_json_summary(FILE *f, const struct status_summary *s)
{
	fprintf(f, "\"summary\":{\"instances_up\":%u,\"instances_total\":%u,\"rps\":%.2f,"
	    "\"success_rate\":", s->instances_up, s->instances_total, s->rps);
	if (s->has_traffic)
		fprintf(f, "%.4f", s->success_rate);
	else
		fputs("null", f);
	status_json_ms(f, "p50_ms", s->p50_us, s->requests > 0);
	status_json_ms(f, "p95_ms", s->p95_us, s->requests > 0);
	status_json_ms(f, "p99_ms", s->p99_us, s->requests > 0);
	fprintf(f, ",\"requests\":%llu,\"source\":\"%s\",\"grpc_calls\":%llu,"
	    "\"grpc_success\":", (unsigned long long)s->requests,
	    s->source == STATS_IN ? "inbound" : "outbound", (unsigned long long)s->grpc_calls);
	if (s->grpc_calls > 0)
		fprintf(f, "%.4f}", s->grpc_success);
	else
		fputs("null}", f);
}

static void
status_json_inst(FILE *f, const struct meshd *m, const struct status_views *vs, size_t i)
{
	const struct inst *in = &m->insts[i];
	const struct reg_instance *ri = in->ri;
	const struct proc *mp = status_main_proc(in);
	size_t u;
	int first = 1;

	fprintf(f, "{\"index\":%u,\"name\":", ri->index);
	json_esc_file(f, ri->name);
	fputs(",\"id\":", f);
	json_esc_file(f, ri->id);
	fputs(",\"state\":", f);
	json_esc_file(f, svc_state(in));
	status_uint_or_null(f, "app_pid", (unsigned)in->app.pid);
	status_uint_or_null(f, "proxy_pid", (unsigned)in->proxy.pid);
	/* its listeners are bound (IPC_READY): a caller may use them */
	fprintf(f, ",\"proxy_ready\":%s",
	    in->proxy_ready && in->proxy.state == PROC_RUNNING ? "true" : "false");
	status_uint_or_null(f, "app_port", ri->app_port);
	status_uint_or_null(f, "inbound_port", ri->inbound_port);
	status_uint_or_null(f, "outbound_port", ri->outbound_port);
	fputs(",\"listeners\":[", f);
	for (u = 0; u < ri->svc->nupstreams; u++) {
		if (ri->listen_ports[u] == 0)
			continue;
		fprintf(f, "%s{\"port\":%u,\"upstream\":", first ? "" : ",", ri->listen_ports[u]);
		json_esc_file(f, ri->svc->upstreams[u].name);
		fputc('}', f);
		first = 0;
	}
	fprintf(f, "],\"restarts\":%u,\"uptime_s\":%ld,\"last_exit\":",
	    in->app.restarts + in->proxy.restarts, status_uptime(m, mp));
	if (mp->last_status != -1) {
		char how[96];

		svc_exit_str(mp->last_status, how, sizeof(how));
		json_esc_file(f, how);
	} else
		fputs("null", f);
	fputs(",\"endpoint\":", f);
	json_esc_file(f, ri->inbound_port == 0 ? "none" : ri->up ? "up" : "down");
	fputs(",\"cert\":", f);
	mcert_json(f, mcert_info(m, in));
	status_json_stats(f, i < vs->n && vs->ok[i] ? &vs->v[i] : NULL);
	status_json_breaker(f, m, vs, i);
	/* the host it runs on: registry = etcd only (issue 16) */
	fputs(",\"host\":", f);
	if (m->cfg.mesh.registry == CONF_REGISTRY_ETCD)
		json_esc_file(f, m->cfg.mesh.host_name);
	else
		fputs("null", f);
	fputc('}', f);
}

/* "service_totals": every version of each service name added up, in
 * the order the names first appear. */
/* ,"mirror":{"version","percent","source"} of a route, or null.  "source"
 * says where it was set: "file" (mesh.ini) or "live" (`meshctl mirror`,
 * mirrors.h). */
static void
status_json_mirror(FILE *f, const struct meshd *m, const struct conf_route *rt)
{
	const struct conf_mirror *mr = &rt->mirror;

	if (mr->permille == 0) {
		fputs(",\"mirror\":null", f);
		return;
	}
	fputs(",\"mirror\":{\"version\":", f);
	json_esc_file(f, mr->version);
	fprintf(f, ",\"percent\":%u", mr->permille / 10);
	if (mr->permille % 10 != 0)
		fprintf(f, ".%u", mr->permille % 10);
	fprintf(f, ",\"source\":\"%s\"}",
	    mirrors_find(&m->mirrors, rt->name) != NULL ? "live" : "file");
}

static void
status_json_totals(FILE *f, const struct meshd *m, const struct status_summary *sums)
{
	const struct mesh_config *cfg = &m->cfg;
	struct status_summary *t;
	size_t s, o;
	unsigned nver;
	int first = 1;

	fputs(",\"service_totals\":[", f);
	if ((t = malloc(sizeof(*t))) == NULL)
		goto out;
	for (s = 0; s < cfg->nservices; s++) {
		for (o = 0; o < s; o++)
			if (strcmp(cfg->services[o].name, cfg->services[s].name) == 0)
				break;
		if (o < s)
			continue;   /* counted with its first version */
		status_summary_init(t);
		for (o = s, nver = 0; o < cfg->nservices; o++) {
			if (strcmp(cfg->services[o].name, cfg->services[s].name) != 0)
				continue;
			status_summary_merge(t, &sums[o]);
			nver++;
		}
		status_summary_done(t);
		fputs(first ? "{\"name\":" : ",{\"name\":", f);
		json_esc_file(f, cfg->services[s].name);
		fprintf(f, ",\"versions\":%u,", nver);
		status_json_summary(f, t);
		fputc('}', f);
		first = 0;
	}
	free(t);
out:
	fputc(']', f);
}

/* A share in tenths of a percent as a JSON number: 10, 0.5. */
static void
status_json_pct(FILE *f, unsigned permille)
{
	if (permille % 10 != 0)
		fprintf(f, "%u.%u", permille / 10, permille % 10);
	else
		fprintf(f, "%u", permille / 10);
}

/* routes[].fault: the fault in force on the route, null when none. */
static void
status_json_fault(FILE *f, const struct meshd *m, const struct conf_route *rt)
{
	const struct conf_fault *ft = &rt->fault;
	char match[CONF_FAULT_HEADER_MAX + CONF_FAULT_VALUE_MAX + 2];

	if (!faults_active(ft)) {
		fputs("null", f);
		return;
	}
	fputs("{\"delay_percent\":", f);
	status_json_pct(f, ft->delay_permille);
	fprintf(f, ",\"delay_ms\":%llu,\"abort_percent\":",
	    (unsigned long long)(ft->delay_permille != 0 ? ft->delay_us / 1000 : 0));
	status_json_pct(f, ft->abort_permille);
	fprintf(f, ",\"abort_status\":%u,\"match\":",
	    ft->abort_permille != 0 ? ft->abort_status : 0);
	if (ft->match_header[0] != '\0') {
		snprintf(match, sizeof(match), "%s: %s", ft->match_header, ft->match_value);
		json_esc_file(f, match);
	} else
		fputs("null", f);
	fputs(",\"version\":", f);
	if (ft->version[0] != '\0')
		json_esc_file(f, ft->version);
	else
		fputs("null", f);
	fprintf(f, ",\"source\":\"%s\"}",
	    faults_find(&m->faults, rt->name) != NULL ? "live" : "file");
}

int
status_json(const struct meshd *m, char **out, size_t *len)
{
	const struct mesh_config *cfg = &m->cfg;
	struct status_summary *sums;
	struct status_views vs;
	FILE *f;
	size_t s, i, r, k;

	if (status_views_load(m, &vs) == -1)
		return -1;
	if ((sums = calloc(cfg->nservices + 1, sizeof(*sums))) == NULL) {
		status_views_free(&vs);
		return -1;
	}
	if ((f = open_memstream(out, len)) == NULL) {
		free(sums);
		status_views_free(&vs);
		return -1;
	}
	fputs("{\"mesh\":{\"name\":", f);
	json_esc_file(f, cfg->mesh.name);
	fputs(",\"config\":", f);
	json_esc_file(f, m->config_path);
	fputs(",\"state_dir\":", f);
	json_esc_file(f, cfg->mesh.state_dir);
	fprintf(f, ",\"meshd_pid\":%d,\"uptime_s\":%ld,\"state\":", (int)m->pid,
	    (long)(ev_now(m->loop) - m->started));
	json_esc_file(f, status_phase(m->phase));
	mcert_status_ca(f, 1);
	/* meshctl prints "running":false for a mesh whose meshd is gone */
	fputs(",\"running\":true},\"services\":[", f);
	for (s = 0; s < cfg->nservices; s++) {
		const struct conf_service *sv = &cfg->services[s];
		int first = 1;

		fputs(s ? ",{\"name\":" : "{\"name\":", f);
		json_esc_file(f, sv->name);
		fputs(",\"version\":", f);
		json_esc_file(f, sv->version);
		fprintf(f, ",\"protocol\":\"%s\",\"instances\":[",
		    conf_proto_name(sv->protocol));
		for (i = 0; i < m->ninst; i++) {
			if (m->insts[i].ri->svc != sv)
				continue;
			if (!first)
				fputc(',', f);
			status_json_inst(f, m, &vs, i);
			first = 0;
		}
		fputs("],", f);
		status_service_summary(m, &vs, sv, &sums[s]);
		status_json_summary(f, &sums[s]);
		fputc('}', f);
	}
	fputc(']', f);
	status_json_totals(f, m, sums);
	fputs(",\"routes\":[", f);
	for (r = 0, k = 0; r < cfg->nroutes; r++) {
		const struct conf_route *rt = &cfg->routes[r];

		if (rt->nsplit == 0 && !faults_active(&rt->fault) && rt->mirror.permille == 0)
			continue;
		fputs(k++ ? ",{\"name\":" : "{\"name\":", f);
		json_esc_file(f, rt->name);
		fputs(",\"split\":[", f);
		for (i = 0; i < rt->nsplit; i++) {
			fputs(i ? ",{\"version\":" : "{\"version\":", f);
			json_esc_file(f, rt->split[i].version);
			fprintf(f, ",\"weight\":%u}", rt->split[i].weight);
		}
		fputs("],\"fault\":", f);
		status_json_fault(f, m, rt);
		status_json_mirror(f, m, rt);
		fputc('}', f);
	}
	fputc(']', f);
	status_json_registry(f, m, &vs);
	fputs("}\n", f);
	free(sums);
	status_views_free(&vs);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}
