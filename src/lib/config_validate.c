/* SPDX-License-Identifier: ISC */
/*
 * config_validate: the checks that need the whole file.  Each error is
 * reported at the line of the offending key (or section header), the
 * later of two when two things collide.
 *
 * Decisions:
 *  - [service.X@V] needs a [service.X] section somewhere in the file: a
 *    typo in X would otherwise silently make a new service.
 *  - [service.X] may appear once; each (X, version) pair once.
 *  - All versions of a service speak the same protocol.
 *  - No `health` on an http2 or grpc service: meshd's checks speak
 *    HTTP/1.1, which an h2c-only app does not answer.  Such a service is
 *    ready when its port accepts a connection (readiness.c), as any
 *    service with a port and no health check.
 *  - Fixed ports are ranges: an app's port..port+instances-1, a fixed
 *    outbound likewise, each NAME:PORT upstream listener likewise (one per
 *    instance of the calling service), and the metrics port; no two
 *    ranges may overlap.  Auto-assigned sidecar ports (port_base and up)
 *    are meshd's to place around these.
 */
#include <stdlib.h>
#include <string.h>

#include "mesh/config.h"
#include "config_int.h"

static int
conf_known(const struct mesh_config *cfg, const char *name)
{
	return config_service(cfg, name, NULL) != NULL;
}

/* With registry = etcd a name this file does not declare may be a service
 * of another host: its instances come from the registry (mreg.h). */
static int
conf_known_or_remote(const struct mesh_config *cfg, const char *name)
{
	return conf_known(cfg, name) || cfg->mesh.registry == CONF_REGISTRY_ETCD;
}

static void
conf_check_services(struct conf_ctx *ctx)
{
	struct mesh_config *cfg = ctx->cfg;
	size_t i, j;

	for (i = 0; i < cfg->nservices; i++) {
		struct conf_service *s = &cfg->services[i];
		int base = 0, dup = 0;

		for (j = 0; j < cfg->nservices; j++) {
			struct conf_service *o = &cfg->services[j];

			if (strcmp(o->name, s->name) != 0)
				continue;
			if (!o->versioned)
				base = 1;
			if (j >= i)
				continue;
			if (!s->versioned && !o->versioned) {
				config_error(ctx, s->line, "[service.%s]: duplicate section "
				    "(first at line %d)", s->name, o->line);
				dup = 1;
			} else if (!dup && strcmp(o->version, s->version) == 0) {
				config_error(ctx, s->version_line ? s->version_line : s->line,
				    "[service.%s]: version %s is declared twice (first at "
				    "line %d)", s->name, s->version, o->line);
				dup = 1;
			} else if (o->protocol != s->protocol && !dup) {
				config_error(ctx, s->protocol_line ? s->protocol_line : s->line,
				    "[service.%s@%s]: protocol differs from version %s's "
				    "(line %d); all versions of a service speak one protocol",
				    s->name, s->version, o->version, o->line);
				dup = 1;
			}
		}
		if (!base)
			config_error(ctx, s->line, "[service.%s@%s]: no [service.%s] "
			    "section declares service %s", s->name, s->version,
			    s->name, s->name);
		if (s->health != NULL && s->port == 0)
			config_error(ctx, s->health_line, "health = %s: service %s has "
			    "no port to check", s->health, s->name);
		else if (s->health != NULL && (s->protocol == CONF_PROTO_HTTP2 ||
		    s->protocol == CONF_PROTO_GRPC))
			config_error(ctx, s->health_line, "health = %s: service %s is "
			    "%s and health checks speak HTTP/1.1; without one it is "
			    "ready when its port accepts (ready_timeout)", s->health,
			    s->name, conf_proto_name(s->protocol));
		for (j = 0; j < s->nupstreams; j++)
			if (!conf_known_or_remote(cfg, s->upstreams[j].name))
				config_error(ctx, s->upstreams[j].line, "upstreams: no "
				    "service named '%s'", s->upstreams[j].name);
		for (j = 0; j < s->nallow; j++)
			if (!conf_known_or_remote(cfg, s->allow[j]))
				config_error(ctx, s->allow_line, "allow: no service named "
				    "'%s'", s->allow[j]);
	}
}

static void
conf_check_routes(struct conf_ctx *ctx)
{
	struct mesh_config *cfg = ctx->cfg;
	size_t i, j;

	for (i = 0; i < cfg->nroutes; i++) {
		struct conf_route *r = &cfg->routes[i];

		if (!conf_known_or_remote(cfg, r->name)) {
			config_error(ctx, r->line, "[route.%s]: no service named '%s'",
			    r->name, r->name);
			continue;
		}
		/* a service of other hosts only: its versions are theirs */
		for (j = 0; j < r->nsplit && conf_known(cfg, r->name); j++)
			if (config_service(cfg, r->name, r->split[j].version) == NULL)
				config_error(ctx, r->split_line, "split: service %s has "
				    "no version '%s'", r->name, r->split[j].version);
		config_fault_validate(ctx, r);
		config_mirror_validate(ctx, r);
	}
}

/* ---- fixed ports ------------------------------------------------------- */

struct conf_range {
	unsigned    lo, hi;
	int         line;
	const char *what;           /* "port", "outbound", "upstreams", "metrics" */
	const char *svc, *version;  /* NULL for metrics */
	const char *upstream;       /* upstreams: the NAME of NAME:PORT */
};

static void
conf_range_text(const struct conf_range *r, char *buf, size_t sz)
{
	int n;

	if (r->upstream != NULL)
		n = snprintf(buf, sz, "upstreams %s:%u", r->upstream, r->lo);
	else
		n = snprintf(buf, sz, "%s %u", r->what, r->lo);
	if (r->hi != r->lo && n > 0 && (size_t)n < sz)
		n += snprintf(buf + n, sz - (size_t)n, "..%u", r->hi);
	if (r->svc != NULL && n > 0 && (size_t)n < sz)
		snprintf(buf + n, sz - (size_t)n, " of %s@%s", r->svc, r->version);
}

/* Add [lo, lo+count-1]; a range past 65535 is an error of its own. */
static int
conf_range_add(struct conf_ctx *ctx, struct conf_range *rs, size_t *n,
               struct conf_range r, unsigned count)
{
	char text[256];

	r.hi = r.lo + count - 1;
	if (r.hi > 65535) {
		conf_range_text(&r, text, sizeof(text));
		config_error(ctx, r.line, "%s: ports run past 65535 with %u "
		    "instances", text, count);
		return -1;
	}
	rs[(*n)++] = r;
	return 0;
}

static void
conf_check_ports(struct conf_ctx *ctx)
{
	struct mesh_config *cfg = ctx->cfg;
	struct conf_range *rs;
	char a[256], b[256];
	size_t n = 1, i, j;

	for (i = 0; i < cfg->nservices; i++)
		n += 2 + cfg->services[i].nupstreams;
	rs = calloc(n, sizeof(*rs));
	if (rs == NULL) {
		config_error(ctx, 0, "out of memory");
		return;
	}
	n = 0;
	if (cfg->mesh.metrics_port != 0)
		conf_range_add(ctx, rs, &n, (struct conf_range){
		    .lo = cfg->mesh.metrics_port, .line = cfg->mesh.metrics_line,
		    .what = "metrics" }, 1);
	for (i = 0; i < cfg->nservices; i++) {
		const struct conf_service *s = &cfg->services[i];
		struct conf_range r = { .svc = s->name, .version = s->version };

		if (s->port != 0) {
			r.lo = s->port, r.line = s->port_line, r.what = "port";
			conf_range_add(ctx, rs, &n, r, s->instances);
		}
		if (s->outbound != 0) {
			r.lo = s->outbound, r.line = s->outbound_line, r.what = "outbound";
			conf_range_add(ctx, rs, &n, r, s->instances);
		}
		for (j = 0; j < s->nupstreams; j++) {
			if (s->upstreams[j].port == 0)
				continue;
			r.lo = s->upstreams[j].port, r.line = s->upstreams[j].line;
			r.what = "upstreams", r.upstream = s->upstreams[j].name;
			conf_range_add(ctx, rs, &n, r, s->instances);
			r.upstream = NULL;
		}
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			const struct conf_range *x = &rs[i], *y = &rs[j];

			/* report each pair once, at the later line */
			if (x->line < y->line || (x->line == y->line && i <= j))
				continue;
			if (x->lo > y->hi || y->lo > x->hi)
				continue;
			conf_range_text(x, a, sizeof(a));
			conf_range_text(y, b, sizeof(b));
			config_error(ctx, x->line, "%s collides with %s (line %d)",
			    a, b, y->line);
		}
	free(rs);
}

void
config_validate(struct conf_ctx *ctx)
{
	struct conf_mesh *m = &ctx->cfg->mesh;

	conf_check_services(ctx);
	conf_check_routes(ctx);
	conf_check_ports(ctx);
	config_registry_validate(ctx);
	if (m->max_line_bytes > m->max_header_bytes)
		config_error(ctx, ctx->mesh_line, "[mesh]: max_line_bytes %u is "
		    "greater than max_header_bytes %u", m->max_line_bytes,
		    m->max_header_bytes);
}
