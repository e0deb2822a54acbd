/* SPDX-License-Identifier: ISC */
/*
 * status_text: the text of `meshctl status` (include/mesh/status.h):
 * a summary row per service version, a row per instance, the breakers
 * callers hold open, the split weights.  Columns are as wide as their
 * widest cell, so a mesh of usual names fits 80 columns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/fmt.h"
#include "mesh/stats.h"
#include "mesh/faults.h"
#include "mesh/mcert.h"
#include "mesh/mirrors.h"
#include "mesh/status.h"
#include "mesh/svc.h"
#include "status_int.h"

#define TAB_COLS 13
#define TAB_CELL 72

/* A table: a header row, then rows of cells; `right` says which columns
 * are numbers (right-aligned).  The last column is not padded. */
struct tab {
	size_t   ncols, nrows, cap;
	unsigned right;                     /* bit i: column i */
	char   (*cell)[TAB_COLS][TAB_CELL]; /* [0] is the header */
};

static int
tab_init(struct tab *t, size_t rows, unsigned right, const char *const *head, size_t ncols)
{
	size_t c;

	t->ncols = ncols;
	t->right = right;
	t->nrows = 1;
	t->cap = rows + 1;
	if ((t->cell = calloc(t->cap, sizeof(*t->cell))) == NULL)
		return -1;
	for (c = 0; c < ncols; c++)
		snprintf(t->cell[0][c], TAB_CELL, "%s", head[c]);
	return 0;
}

/* The next row's cells (NULL when full: a row is then left out). */
static char (*tab_row(struct tab *t))[TAB_CELL]
{
	return t->nrows < t->cap ? t->cell[t->nrows++] : NULL;
}

static void
tab_print(FILE *f, const struct tab *t)
{
	size_t w[TAB_COLS] = { 0 }, r, c, n;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++)
			if ((n = strlen(t->cell[r][c])) > w[c])
				w[c] = n;
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			int last = c + 1 == t->ncols;

			if (t->right & (1u << c))
				fprintf(f, "%s%*s", c ? " " : "", (int)w[c], t->cell[r][c]);
			else
				fprintf(f, "%s%-*s", c ? " " : "", last ? 0 : (int)w[c],
				    t->cell[r][c]);
		}
		fputc('\n', f);
	}
}

static void
status_port(char *buf, size_t size, unsigned port)
{
	if (port != 0)
		snprintf(buf, size, "%u", port);
	else
		snprintf(buf, size, "-");
}

/* A latency: "0.45ms", "12.3ms", "250ms", "1.25s"; "-" with none. */
static void
status_ms(char *buf, size_t size, uint64_t us, int any)
{
	if (!any)
		snprintf(buf, size, "-");
	else if (us < 10000)
		snprintf(buf, size, "%.2fms", (double)us / 1000);
	else if (us < 100000)
		snprintf(buf, size, "%.1fms", (double)us / 1000);
	else if (us < 1000000)
		snprintf(buf, size, "%.0fms", (double)us / 1000);
	else
		snprintf(buf, size, "%.2fs", (double)us / 1000000);
}

/* The weight of `version` in the split of the route named `service`. */
static void
status_weight(char *buf, size_t size, const struct mesh_config *cfg, const char *service,
    const char *version)
{
	size_t r, i;

	snprintf(buf, size, "-");
	for (r = 0; r < cfg->nroutes; r++) {
		if (strcmp(cfg->routes[r].name, service) != 0)
			continue;
		for (i = 0; i < cfg->routes[r].nsplit; i++)
			if (strcmp(cfg->routes[r].split[i].version, version) == 0)
				snprintf(buf, size, "%u%%", cfg->routes[r].split[i].weight);
	}
}

/* "closed", or what is not: "1 open,1 half,2 ej"; "-" when no caller
 * holds a row on any instance of svc (NULL: every version of name). */
static void
status_breakers(char *buf, size_t size, const struct meshd *m, const struct status_views *vs,
    const char *name, const struct conf_service *svc)
{
	unsigned open = 0, half = 0, ej = 0, ejected, seen = 0;
	uint32_t worst;
	size_t i;

	for (i = 0; i < m->ninst; i++) {
		const struct conf_service *s = m->insts[i].ri->svc;

		if (svc != NULL ? s != svc : strcmp(s->name, name) != 0)
			continue;
		status_inst_breaker(m, vs, i, &worst, &ejected);
		seen += worst != STATS_EP_FREE;
		open += worst == STATS_EP_OPEN;
		half += worst == STATS_EP_HALF_OPEN;
		ej += ejected > 0;
	}
	if (seen == 0)
		snprintf(buf, size, "-");
	else if (open + half + ej == 0)
		snprintf(buf, size, "closed");
	else {
		char o[24] = "", h[24] = "", e[24] = "";

		if (open)
			snprintf(o, sizeof(o), "%u open", open);
		if (half)
			snprintf(h, sizeof(h), "%s%u half", open ? "," : "", half);
		if (ej)
			snprintf(e, sizeof(e), "%s%u ej", open + half ? "," : "", ej);
		snprintf(buf, size, "%s%s%s", o, h, e);
	}
}

/* ok of total (> 0) as "99.95%": never rounds up to 100% */
static void
status_pct(char *buf, size_t size, uint64_t ok, uint64_t total)
{
	if (ok == total)
		snprintf(buf, size, "100%%");
	else
		snprintf(buf, size, "%.2f%%", (double)(ok * 10000 / total) / 100);
}

static void
status_sum_row(struct tab *t, const struct meshd *m, const struct status_views *vs,
    const char *name, const struct conf_service *svc, const struct status_summary *s)
{
	char (*row)[TAB_CELL] = tab_row(t);
	uint64_t ok;

	if (row == NULL)
		return;
	snprintf(row[0], TAB_CELL, "%s", name);
	snprintf(row[1], TAB_CELL, "%s", svc != NULL ? svc->version : "*");
	snprintf(row[2], TAB_CELL, "%u/%u", s->instances_up, s->instances_total);
	if (s->dir[s->source].rows > 0)
		snprintf(row[3], TAB_CELL, "%.1f", s->rps);
	else
		snprintf(row[3], TAB_CELL, "-");
	ok = s->dir[s->source].responses - s->dir[s->source].errors;
	if (!s->has_traffic)
		snprintf(row[4], TAB_CELL, "-");
	else
		status_pct(row[4], TAB_CELL, ok, s->dir[s->source].responses);
	status_ms(row[5], TAB_CELL, s->p50_us, s->requests > 0);
	status_ms(row[6], TAB_CELL, s->p95_us, s->requests > 0);
	status_ms(row[7], TAB_CELL, s->p99_us, s->requests > 0);
	if (svc != NULL)
		status_weight(row[8], TAB_CELL, &m->cfg, name, svc->version);
	else
		snprintf(row[8], TAB_CELL, "-");
	status_breakers(row[9], TAB_CELL, m, vs, name, svc);
}

/* One row per version, and a `*` row per service with several. */
static int
status_text_summary(FILE *f, const struct meshd *m, const struct status_views *vs)
{
	static const char *const head[] = { "SERVICE", "VER", "UP", "RPS", "SUCCESS",
	    "P50", "P95", "P99", "SPLIT", "BREAKERS" };
	const struct mesh_config *cfg = &m->cfg;
	struct status_summary *s, *total;
	struct tab t;
	size_t i, o;
	unsigned nver;

	if ((s = malloc(2 * sizeof(*s))) == NULL ||
	    tab_init(&t, 2 * cfg->nservices, 0x1fcu, head, 10) == -1) {
		free(s);
		return -1;
	}
	total = &s[1];
	for (i = 0; i < cfg->nservices; i++) {
		for (o = 0; o < i && strcmp(cfg->services[o].name, cfg->services[i].name) != 0; o++)
			;
		if (o < i)
			continue;   /* shown with its first version */
		status_summary_init(total);
		for (o = i, nver = 0; o < cfg->nservices; o++) {
			if (strcmp(cfg->services[o].name, cfg->services[i].name) != 0)
				continue;
			status_service_summary(m, vs, &cfg->services[o], s);
			status_sum_row(&t, m, vs, cfg->services[i].name, &cfg->services[o], s);
			status_summary_merge(total, s);
			nver++;
		}
		if (nver > 1) {
			status_summary_done(total);
			status_sum_row(&t, m, vs, cfg->services[i].name, NULL, total);
		}
	}
	tab_print(f, &t);
	free(t.cell);
	free(s);
	return 0;
}

/* A line per service version with gRPC calls: the share that ended OK. */
static int
status_text_grpc(FILE *f, const struct meshd *m, const struct status_views *vs)
{
	const struct mesh_config *cfg = &m->cfg;
	struct status_summary *s;
	char pct[16];
	size_t i;

	if ((s = malloc(sizeof(*s))) == NULL)
		return -1;
	for (i = 0; i < cfg->nservices; i++) {
		status_service_summary(m, vs, &cfg->services[i], s);
		if (s->grpc_calls == 0)
			continue;
		status_pct(pct, sizeof(pct), s->dir[s->source].grpc_ok, s->grpc_calls);
		fprintf(f, "%s %s: GRPC %s OK of %llu calls\n", cfg->services[i].name,
		    cfg->services[i].version, pct, (unsigned long long)s->grpc_calls);
	}
	free(s);
	return 0;
}

static int
status_text_insts(FILE *f, const struct meshd *m, const struct status_views *vs)
{
	static const char *const head[] = { "SERVICE", "VER", "#", "STATE", "PID", "PROXY",
	    "PORT", "RST", "UPTIME", "REQ IN/OUT", "5XX", "BRK/EJ", "HOST" };
	/* with registry = etcd a last column names the host (issue 16) */
	int hosts = m->cfg.mesh.registry == CONF_REGISTRY_ETCD;
	struct tab t;
	size_t i;

	if (tab_init(&t, m->ninst, 0x7f4u, head, hosts ? 13 : 12) == -1)
		return -1;
	for (i = 0; i < m->ninst; i++) {
		const struct inst *in = &m->insts[i];
		const struct reg_instance *ri = in->ri;
		const struct stats_snapshot *s = vs->ok[i] ? &vs->v[i].snap : NULL;
		char (*row)[TAB_CELL] = tab_row(&t);

		if (row == NULL)
			break;
		snprintf(row[0], TAB_CELL, "%s", ri->svc->name);
		snprintf(row[1], TAB_CELL, "%s", ri->svc->version);
		snprintf(row[2], TAB_CELL, "%u", ri->index);
		snprintf(row[3], TAB_CELL, "%s", svc_state(in));
		status_port(row[4], TAB_CELL, (unsigned)in->app.pid);
		status_port(row[5], TAB_CELL, (unsigned)in->proxy.pid);
		status_port(row[6], TAB_CELL, ri->inbound_port);
		snprintf(row[7], TAB_CELL, "%u", in->app.restarts + in->proxy.restarts);
		fmt_duration(row[8], TAB_CELL, status_uptime(m, status_main_proc(in)));
		if (s != NULL) {
			snprintf(row[9], TAB_CELL, "%llu/%llu",
			    (unsigned long long)s->v[STAT_REQUESTS_IN],
			    (unsigned long long)s->v[STAT_REQUESTS_OUT]);
			snprintf(row[10], TAB_CELL, "%llu", (unsigned long long)
			    (s->v[STAT_RESP_IN_5XX] + s->v[STAT_RESP_OUT_5XX]));
			/* this sidecar's view of what it calls: breakers open or
			 * half-open now / endpoints ejected now */
			snprintf(row[11], TAB_CELL, "%llu/%llu",
			    (unsigned long long)s->v[STAT_BREAKERS_OPEN],
			    (unsigned long long)s->v[STAT_EJECTED]);
		} else {
			snprintf(row[9], TAB_CELL, "-");
			snprintf(row[10], TAB_CELL, "-");
			snprintf(row[11], TAB_CELL, "-");
		}
		if (hosts)
			snprintf(row[12], TAB_CELL, "%s", m->cfg.mesh.host_name);
	}
	tab_print(f, &t);
	free(t.cell);
	/* why a fatal instance is fatal, under the table */
	for (i = 0; i < m->ninst; i++)
		if (strcmp(svc_state(&m->insts[i]), "fatal") == 0 && m->insts[i].why[0] != '\0')
			fprintf(f, "  %s\n", m->insts[i].why);
	/* injected faults are counted apart from real errors (fault.h) */
	for (i = 0; i < m->ninst; i++) {
		const struct stats_snapshot *s = vs->ok[i] ? &vs->v[i].snap : NULL;

		if (s != NULL && (s->v[STAT_FAULTS_ABORT] != 0 || s->v[STAT_FAULTS_DELAY] != 0))
			fprintf(f, "  %s: faults injected: %llu aborted, %llu delayed\n",
			    m->insts[i].ri->name, (unsigned long long)s->v[STAT_FAULTS_ABORT],
			    (unsigned long long)s->v[STAT_FAULTS_DELAY]);
	}
	/* mirrored copies (mirror.h): what the caller sent, apart from its traffic */
	for (i = 0; i < m->ninst; i++) {
		const struct stats_snapshot *s = vs->ok[i] ? &vs->v[i].snap : NULL;
		uint64_t got;

		if (s == NULL || (s->v[STAT_MIRROR_REQUESTS] == 0 && s->v[STAT_MIRROR_SKIPPED] == 0))
			continue;
		got = s->v[STAT_MIRROR_RESP_2XX] + s->v[STAT_MIRROR_RESP_3XX] +
		    s->v[STAT_MIRROR_RESP_4XX] + s->v[STAT_MIRROR_RESP_5XX];
		fprintf(f, "  %s: mirrored: %llu sent, %llu answered (%llu 5xx), %llu failed, "
		    "%llu skipped, mean %.1f ms\n", m->insts[i].ri->name,
		    (unsigned long long)s->v[STAT_MIRROR_REQUESTS], (unsigned long long)got,
		    (unsigned long long)s->v[STAT_MIRROR_RESP_5XX],
		    (unsigned long long)s->v[STAT_MIRROR_ERRORS],
		    (unsigned long long)s->v[STAT_MIRROR_SKIPPED],
		    got != 0 ? (double)s->v[STAT_MIRROR_DURATION_US] / (double)got / 1000.0 : 0.0);
	}
	return 0;
}

/* "breaker api.0: open (gateway.0 open ejected, web.0 closed)" for each
 * instance a caller holds open, half-open or ejected. */
static void
status_text_breakers(FILE *f, const struct meshd *m, const struct status_views *vs)
{
	const struct stats_ep_rec *e;
	unsigned ejected;
	uint32_t worst;
	size_t i, c;
	int first, any = 0;

	for (i = 0; i < m->ninst; i++) {
		const struct reg_instance *ri = m->insts[i].ri;

		status_inst_breaker(m, vs, i, &worst, &ejected);
		if (worst == STATS_EP_FREE || (worst == STATS_EP_CLOSED && ejected == 0))
			continue;
		fprintf(f, "%sbreaker %s: %s%s (", any++ ? "" : "\n", ri->name, status_ep_state(worst),
		    ejected ? ", ejected" : "");
		for (c = 0, first = 1; c < vs->n; c++) {
			if (c == i || !vs->ok[c] || (e = status_ep_find(&vs->v[c], ri->svc->name,
			    ri->svc->version, ri->index, &vs->here)) == NULL)
				continue;
			fprintf(f, "%s%s %s%s", first ? "" : ", ", m->insts[c].ri->name,
			    status_ep_state(e->state), e->ejected ? " ejected" : "");
			first = 0;
		}
		fputs(")\n", f);
	}
}

/* "api: FAULT abort 5% 503, delay 10% 300ms (live)" for each route with a
 * fault in force, and a line for each fault --off suspends (faults.h).
 * Returns first, 0 once a line was written. */
static int
status_text_faults(FILE *f, const struct meshd *m, int first)
{
	const struct mesh_config *cfg = &m->cfg;
	const struct fault_ovr *o;
	char desc[400];
	size_t r;

	for (r = 0; r < cfg->nroutes; r++) {
		const struct conf_route *rt = &cfg->routes[r];

		o = faults_find(&m->faults, rt->name);
		if (faults_active(&rt->fault)) {
			faults_describe(&rt->fault, desc, sizeof(desc));
			fprintf(f, "%s%s: FAULT %s (%s)\n", first ? "\n" : "", rt->name, desc,
			    o != NULL ? "live" : "file");
		} else if (o != NULL && o->off) {
			fprintf(f, "%s%s: fault off (live: the file's fault.* keys are "
			    "suspended)\n", first ? "\n" : "", rt->name);
		} else
			continue;
		first = 0;
	}
	return first;
}

/* "route api: MIRROR v2 10%" for each route with a mirror in force, "
 * (live)" after one `meshctl mirror` set, and a line for each mirror off
 * suspends (mirrors.h). */
static void
status_text_mirrors(FILE *f, const struct meshd *m, int first)
{
	const struct mesh_config *cfg = &m->cfg;
	const struct mirror_ovr *o;
	size_t r;

	for (r = 0; r < cfg->nroutes; r++) {
		const struct conf_mirror *mr = &cfg->routes[r].mirror;

		o = mirrors_find(&m->mirrors, cfg->routes[r].name);
		if (mr->permille != 0) {
			fprintf(f, "%sroute %s: MIRROR %s %u", first ? "\n" : "",
			    cfg->routes[r].name, mr->version, mr->permille / 10);
			if (mr->permille % 10 != 0)
				fprintf(f, ".%u", mr->permille % 10);
			fprintf(f, "%%%s\n", o != NULL ? " (live)" : "");
		} else if (o != NULL && o->off)
			fprintf(f, "%sroute %s: mirror off (live: the file's mirror key is "
			    "suspended)\n", first ? "\n" : "", cfg->routes[r].name);
		else
			continue;
		first = 0;
	}
}

int
status_text(const struct meshd *m, char **out, size_t *len)
{
	const struct mesh_config *cfg = &m->cfg;
	struct status_views vs;
	char up[32];
	FILE *f;
	size_t i, r;
	int rc = 0, first;

	if (status_views_load(m, &vs) == -1)
		return -1;
	if ((f = open_memstream(out, len)) == NULL) {
		status_views_free(&vs);
		return -1;
	}
	fmt_duration(up, sizeof(up), (long)(ev_now(m->loop) - m->started));
	fprintf(f, "mesh %s: %s, meshd pid %d, up %s, config %s\n\n", cfg->mesh.name,
	    status_phase(m->phase), (int)m->pid, up, m->config_path);
	mcert_status_ca(f, 0);
	status_text_registry(f, m, &vs);
	if (status_text_summary(f, m, &vs) == -1 || status_text_grpc(f, m, &vs) == -1)
		rc = -1;
	fputc('\n', f);
	if (status_text_insts(f, m, &vs) == -1)
		rc = -1;
	status_text_breakers(f, m, &vs);
	for (r = 0, first = 1; r < cfg->nroutes; r++) {
		const struct conf_route *rt = &cfg->routes[r];

		if (rt->nsplit == 0)
			continue;
		fprintf(f, "%sroute %s: split", first ? "\n" : "", rt->name);
		first = 0;
		for (i = 0; i < rt->nsplit; i++)
			fprintf(f, " %s=%u", rt->split[i].version, rt->split[i].weight);
		fputc('\n', f);
	}
	first = status_text_faults(f, m, first);
	status_text_mirrors(f, m, first);
	status_views_free(&vs);
	if (fclose(f) != 0 || rc == -1) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}
