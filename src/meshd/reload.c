/* SPDX-License-Identifier: ISC */
/*
 * reload: diff a freshly loaded mesh.ini against the running one and apply
 * routes and limits live (see include/mesh/reload.h).
 *
 * The registry and every struct inst point into m->cfg.services, so
 * services are never replaced at run time: only m->cfg.routes (looked up by
 * name on every document build) and scalar limits are swapped in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/log.h"
#include "mesh/meshd_ctx.h"
#include "mesh/reload.h"
#include "mesh/faults.h"
#include "mesh/mirrors.h"
#include "mesh/weights.h"

static int
reload_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Append ", what" to the restart list. */
static void
reload_need(char *list, size_t size, const char *what)
{
	size_t n = strlen(list);

	if (n + 1 >= size)
		return;
	snprintf(list + n, size - n, "%s%s", n ? ", " : "", what);
}

/* The first key of a [service.*] that differs, or NULL. */
static const char *
reload_service_diff(const struct conf_service *a, const struct conf_service *b)
{
	size_t i;

	if (!reload_streq(a->command, b->command))
		return "command";
	if (a->port != b->port)
		return "port";
	if (a->instances != b->instances)
		return "instances";
	if (a->protocol != b->protocol)
		return "protocol";
	if (!reload_streq(a->health, b->health))
		return "health";
	if (a->outbound != b->outbound)
		return "outbound";
	if (a->restart != b->restart)
		return "restart";
	if (a->nupstreams != b->nupstreams)
		return "upstreams";
	for (i = 0; i < a->nupstreams; i++)
		if (strcmp(a->upstreams[i].name, b->upstreams[i].name) != 0 ||
		    a->upstreams[i].port != b->upstreams[i].port)
			return "upstreams";
	if (a->nallow != b->nallow)
		return "allow";
	for (i = 0; i < a->nallow; i++)
		if (strcmp(a->allow[i], b->allow[i]) != 0)
			return "allow";
	if (a->nenv != b->nenv)
		return "env";
	for (i = 0; i < a->nenv; i++)
		if (strcmp(a->env[i].key, b->env[i].key) != 0 ||
		    strcmp(a->env[i].value, b->env[i].value) != 0)
			return "env";
	return NULL;
}

static void
reload_services(const struct mesh_config *old, const struct mesh_config *nc,
    char *need, size_t size)
{
	char what[CONF_NAME_MAX + CONF_VERSION_MAX + 64];
	size_t i;

	for (i = 0; i < nc->nservices; i++) {
		const struct conf_service *n = &nc->services[i];
		const struct conf_service *o = config_service(old, n->name, n->version);
		const char *key;

		if (o == NULL) {
			snprintf(what, sizeof(what), "service %s@%s (added)", n->name, n->version);
			reload_need(need, size, what);
		} else if ((key = reload_service_diff(o, n)) != NULL) {
			snprintf(what, sizeof(what), "service %s@%s (%s)", n->name, n->version, key);
			reload_need(need, size, what);
		}
	}
	for (i = 0; i < old->nservices; i++) {
		const struct conf_service *o = &old->services[i];

		if (config_service(nc, o->name, o->version) == NULL) {
			snprintf(what, sizeof(what), "service %s@%s (removed)", o->name, o->version);
			reload_need(need, size, what);
		}
	}
}

static void
reload_mesh(const struct conf_mesh *o, const struct conf_mesh *n, char *need, size_t size)
{
	if (strcmp(o->name, n->name) != 0)
		reload_need(need, size, "[mesh] name");
	if (!reload_streq(o->state_dir, n->state_dir))
		reload_need(need, size, "[mesh] state_dir");
	if (!reload_streq(o->trust_domain, n->trust_domain))
		reload_need(need, size, "[mesh] trust_domain");
	if (o->cert_ttl_us != n->cert_ttl_us)
		reload_need(need, size, "[mesh] cert_ttl");
	if (o->port_base != n->port_base)
		reload_need(need, size, "[mesh] port_base");
	if (!reload_streq(o->metrics, n->metrics))
		reload_need(need, size, "[mesh] metrics");
	if (!reload_streq(o->traces, n->traces) ||
	    o->trace_sample_permille != n->trace_sample_permille)
		reload_need(need, size, "[mesh] traces");
	if (o->access_log != n->access_log ||
	    !reload_streq(o->access_log_path, n->access_log_path))
		reload_need(need, size, "[mesh] access_log");
	/* the etcd client and this host's keys are made once (mreg.h) */
	if (o->registry != n->registry || !reload_streq(o->etcd, n->etcd) ||
	    !reload_streq(o->etcd_ca, n->etcd_ca) || !reload_streq(o->etcd_cert, n->etcd_cert) ||
	    !reload_streq(o->etcd_key, n->etcd_key) ||
	    strcmp(o->host_address, n->host_address) != 0 ||
	    strcmp(o->host_name, n->host_name) != 0 || o->registry_ttl_us != n->registry_ttl_us)
		reload_need(need, size, "[mesh] registry");
}

static int
reload_limits(struct conf_mesh *o, const struct conf_mesh *n)
{
	int changed = o->max_header_bytes != n->max_header_bytes ||
	    o->max_headers != n->max_headers || o->max_line_bytes != n->max_line_bytes ||
	    o->header_timeout_us != n->header_timeout_us ||
	    o->idle_timeout_us != n->idle_timeout_us ||
	    o->max_connections != n->max_connections;

	o->max_header_bytes = n->max_header_bytes;
	o->max_headers = n->max_headers;
	o->max_line_bytes = n->max_line_bytes;
	o->header_timeout_us = n->header_timeout_us;
	o->idle_timeout_us = n->idle_timeout_us;
	o->max_connections = n->max_connections;
	return changed;
}

/* ready_timeout ([mesh] and each [service]): read when a wait begins, so
 * a new value applies to the next `up -d` wait or restart.  1 if any
 * changed. */
static int
reload_ready(struct mesh_config *cfg, const struct mesh_config *nc)
{
	int changed = cfg->mesh.ready_timeout_us != nc->mesh.ready_timeout_us;
	size_t i;

	cfg->mesh.ready_timeout_us = nc->mesh.ready_timeout_us;
	for (i = 0; i < cfg->nservices; i++) {
		struct conf_service *o = &cfg->services[i];
		const struct conf_service *n = config_service(nc, o->name, o->version);

		if (n == NULL || n->ready_timeout_us == o->ready_timeout_us)
			continue;
		o->ready_timeout_us = n->ready_timeout_us;
		changed = 1;
	}
	return changed;
}

/* One line per route whose split changed: "route api: split v1=50 v2=50". */
static void
reload_report_splits(const struct mesh_config *old_routes_cfg,
    const struct mesh_config *cfg, FILE *out)
{
	size_t r, i;

	for (r = 0; r < cfg->nroutes; r++) {
		const struct conf_route *n = &cfg->routes[r];
		const struct conf_route *o = config_route(old_routes_cfg, n->name);
		int same = o != NULL && o->nsplit == n->nsplit;

		for (i = 0; same && i < n->nsplit; i++)
			same = strcmp(o->split[i].version, n->split[i].version) == 0 &&
			    o->split[i].weight == n->split[i].weight;
		if (same)
			continue;
		fprintf(out, "route %s: split", n->name);
		for (i = 0; i < n->nsplit; i++)
			fprintf(out, " %s=%u", n->split[i].version, n->split[i].weight);
		if (n->nsplit == 0)
			fputs(" (none: equal by version)", out);
		fputc('\n', out);
	}
}

int
reload_run(struct meshd *m, FILE *out)
{
	struct mesh_config nc, oldr;
	struct conf_route *routes;
	char need[2048] = "";
	size_t nroutes;
	int nerr, dropped, limits, ready;

	memset(&nc, 0, sizeof(nc));
	if ((nerr = config_load(m->config_path, &nc, out)) != 0) {
		fprintf(out, "%s: %d error%s; nothing changed\n", m->config_path, nerr,
		    nerr == 1 ? "" : "s");
		return 1;
	}
	reload_mesh(&m->cfg.mesh, &nc.mesh, need, sizeof(need));
	reload_services(&m->cfg, &nc, need, sizeof(need));
	limits = reload_limits(&m->cfg.mesh, &nc.mesh);
	ready = reload_ready(&m->cfg, &nc);

	/* Swap the routes in: the old ones go away with nc. */
	routes = m->cfg.routes;
	nroutes = m->cfg.nroutes;
	m->cfg.routes = nc.routes;
	m->cfg.nroutes = nc.nroutes;
	nc.routes = routes;
	nc.nroutes = nroutes;
	if ((dropped = weights_reapply(&m->weights, &m->cfg, out)) == -1) {
		config_free(&nc);
		return -1;
	}
	if (dropped > 0 && weights_save(&m->weights, m->cfg.mesh.state_dir) == -1)
		fprintf(out, "%s/%s: %s\n", m->cfg.mesh.state_dir, WEIGHTS_FILE, strerror(errno));
	if ((dropped = faults_reapply(&m->faults, &m->cfg, out)) == -1) {
		config_free(&nc);
		return -1;
	}
	if (dropped > 0 && faults_save(&m->faults, m->cfg.mesh.state_dir) == -1)
		fprintf(out, "%s/%s: %s\n", m->cfg.mesh.state_dir, FAULTS_FILE, strerror(errno));
	if ((dropped = mirrors_reapply(&m->mirrors, &m->cfg, out)) == -1) {
		config_free(&nc);
		return -1;
	}
	if (dropped > 0 && mirrors_save(&m->mirrors, m->cfg.mesh.state_dir) == -1)
		fprintf(out, "%s/%s: %s\n", m->cfg.mesh.state_dir, MIRRORS_FILE, strerror(errno));
	memset(&oldr, 0, sizeof(oldr));
	oldr.routes = nc.routes;
	oldr.nroutes = nc.nroutes;
	reload_report_splits(&oldr, &m->cfg, out);
	if (limits)
		fputs("limits: changed (new connections and requests use them)\n", out);
	if (ready)
		fputs("ready_timeout: changed (the next wait for readiness uses it)\n", out);
	config_free(&nc);

	if (need[0] != '\0')
		fprintf(out, "restart needed for: %s\n", need);
	fprintf(out, "reloaded %s: routes and limits applied%s\n", m->config_path,
	    need[0] != '\0' ? "; the rest needs a restart" : "");
	return 0;
}
