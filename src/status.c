/*
 * status: the text table and the JSON document (see include/mesh/status.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/stats.h"
#include "mesh/mcert.h"
#include "mesh/status.h"
#include "mesh/svc.h"

void
status_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static const char *
status_phase(enum meshd_phase p)
{
	static const char *names[] = { "starting", "running", "stopping", "stopped" };

	return names[p];
}

/* The process whose life is the instance's: the app, else the sidecar. */
static const struct proc *
status_main_proc(const struct inst *in)
{
	return in->ri->svc->command != NULL ? &in->app : &in->proxy;
}

static long
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

/* The instance's sidecar counters (include/mesh/stats.h), or -1. */
static int
status_stats(const struct meshd *m, const struct inst *in, struct stats_snapshot *s)
{
	char path[4096];

	if (stats_path(path, sizeof(path), m->cfg.mesh.state_dir, in->ri->id) == -1)
		return -1;
	return stats_read(path, s) == STATS_OK ? 0 : -1;
}

/* Length of the group part of a counter name ("refused" of
 * "refused.not_allowed"), 0 for a plain name. */
static size_t
status_group_len(const char *name)
{
	const char *dot = strchr(name, '.');

	return dot != NULL ? (size_t)(dot - name) : 0;
}

/* "stats":{"pid":..,"connections_total":..,"responses_in":{"2xx":..},..}
 * or null.  A dotted counter name is a member of a group object, emitted
 * whole where the group first appears: counters are appended over time,
 * so a group's members need not be neighbours in enum stat_id. */
static void
status_json_stats(FILE *f, const struct meshd *m, const struct inst *in)
{
	struct stats_snapshot s;
	const char *name, *other;
	size_t glen;
	unsigned i, j;
	int seen, first;

	if (status_stats(m, in, &s) == -1) {
		fputs(",\"stats\":null", f);
		return;
	}
	fprintf(f, ",\"stats\":{\"pid\":%llu", (unsigned long long)s.pid);
	for (i = 0; i < STAT__COUNT; i++) {
		name = stats_name((enum stat_id)i);
		if ((glen = status_group_len(name)) == 0) {
			fprintf(f, ",\"%s\":%llu", name, (unsigned long long)s.v[i]);
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
			    (unsigned long long)s.v[j]);
			first = 0;
		}
		fputc('}', f);
	}
	fputc('}', f);
}

static void
status_json_inst(FILE *f, const struct meshd *m, const struct inst *in)
{
	const struct reg_instance *ri = in->ri;
	const struct proc *mp = status_main_proc(in);
	size_t u;
	int first = 1;

	fprintf(f, "{\"index\":%u,\"name\":", ri->index);
	status_json_str(f, ri->name);
	fputs(",\"id\":", f);
	status_json_str(f, ri->id);
	fputs(",\"state\":", f);
	status_json_str(f, svc_state(in));
	status_uint_or_null(f, "app_pid", (unsigned)in->app.pid);
	status_uint_or_null(f, "proxy_pid", (unsigned)in->proxy.pid);
	status_uint_or_null(f, "app_port", ri->app_port);
	status_uint_or_null(f, "inbound_port", ri->inbound_port);
	status_uint_or_null(f, "outbound_port", ri->outbound_port);
	fputs(",\"listeners\":[", f);
	for (u = 0; u < ri->svc->nupstreams; u++) {
		if (ri->listen_ports[u] == 0)
			continue;
		fprintf(f, "%s{\"port\":%u,\"upstream\":", first ? "" : ",", ri->listen_ports[u]);
		status_json_str(f, ri->svc->upstreams[u].name);
		fputc('}', f);
		first = 0;
	}
	fprintf(f, "],\"restarts\":%u,\"uptime_s\":%ld,\"last_exit\":",
	    in->app.restarts + in->proxy.restarts, status_uptime(m, mp));
	if (mp->last_status != -1) {
		char how[96];

		svc_exit_str(mp->last_status, how, sizeof(how));
		status_json_str(f, how);
	} else
		fputs("null", f);
	fputs(",\"endpoint\":", f);
	status_json_str(f, ri->inbound_port == 0 ? "none" : ri->up ? "up" : "down");
	fputs(",\"cert\":", f);
	mcert_json(f, mcert_info(m, in));
	status_json_stats(f, m, in);
	fputc('}', f);
}

int
status_json(const struct meshd *m, char **out, size_t *len)
{
	const struct mesh_config *cfg = &m->cfg;
	FILE *f;
	size_t s, i, r, k;

	if ((f = open_memstream(out, len)) == NULL)
		return -1;
	fputs("{\"mesh\":{\"name\":", f);
	status_json_str(f, cfg->mesh.name);
	fputs(",\"config\":", f);
	status_json_str(f, m->config_path);
	fputs(",\"state_dir\":", f);
	status_json_str(f, cfg->mesh.state_dir);
	fprintf(f, ",\"meshd_pid\":%d,\"uptime_s\":%ld,\"state\":", (int)m->pid,
	    (long)(ev_now(m->loop) - m->started));
	status_json_str(f, status_phase(m->phase));
	/* meshctl prints "running":false for a mesh whose meshd is gone */
	fputs(",\"running\":true},\"services\":[", f);
	for (s = 0; s < cfg->nservices; s++) {
		const struct conf_service *sv = &cfg->services[s];
		int first = 1;

		fputs(s ? ",{\"name\":" : "{\"name\":", f);
		status_json_str(f, sv->name);
		fputs(",\"version\":", f);
		status_json_str(f, sv->version);
		fprintf(f, ",\"protocol\":\"%s\",\"instances\":[",
		    sv->protocol == CONF_PROTO_TCP ? "tcp" : "http");
		for (i = 0; i < m->ninst; i++) {
			if (m->insts[i].ri->svc != sv)
				continue;
			if (!first)
				fputc(',', f);
			status_json_inst(f, m, &m->insts[i]);
			first = 0;
		}
		fputs("]}", f);
	}
	fputs("],\"routes\":[", f);
	for (r = 0, k = 0; r < cfg->nroutes; r++) {
		const struct conf_route *rt = &cfg->routes[r];

		if (rt->nsplit == 0)
			continue;
		fputs(k++ ? ",{\"name\":" : "{\"name\":", f);
		status_json_str(f, rt->name);
		fputs(",\"split\":[", f);
		for (i = 0; i < rt->nsplit; i++) {
			fputs(i ? ",{\"version\":" : "{\"version\":", f);
			status_json_str(f, rt->split[i].version);
			fprintf(f, ",\"weight\":%u}", rt->split[i].weight);
		}
		fputs("]}", f);
	}
	fputs("]}\n", f);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static void
status_port(char *buf, size_t size, unsigned port)
{
	if (port != 0)
		snprintf(buf, size, "%u", port);
	else
		snprintf(buf, size, "-");
}

static void
status_duration(char *buf, size_t size, long s)
{
	if (s >= 3600)
		snprintf(buf, size, "%ldh%02ldm", s / 3600, (s / 60) % 60);
	else if (s >= 60)
		snprintf(buf, size, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(buf, size, "%lds", s);
}

int
status_text(const struct meshd *m, char **out, size_t *len)
{
	const struct mesh_config *cfg = &m->cfg;
	char up[32];
	FILE *f;
	size_t i, r, u;

	if ((f = open_memstream(out, len)) == NULL)
		return -1;
	status_duration(up, sizeof(up), (long)(ev_now(m->loop) - m->started));
	fprintf(f, "mesh %s: %s, meshd pid %d, up %s, config %s\n\n", cfg->mesh.name,
	    status_phase(m->phase), (int)m->pid, up, m->config_path);
	fprintf(f, "%-16s %-8s %-14s %-8s %7s %7s %6s %7s %8s %8s %-8s %13s %5s %7s %6s %s\n",
	    "SERVICE", "VERSION", "INSTANCE", "STATE", "APP PID", "PROXY", "APP",
	    "INBOUND", "OUTBOUND", "RESTARTS", "UPTIME", "REQ IN/OUT", "5XX", "REFUSED",
	    "BRK/EJ", "LISTENERS");
	for (i = 0; i < m->ninst; i++) {
		const struct inst *in = &m->insts[i];
		const struct reg_instance *ri = in->ri;
		char app[16], apid[16], ppid[16], inb[16], outb[16], ut[32];
		char req[48] = "-", e5[24] = "-", ref[24] = "-", brk[48] = "-";
		struct stats_snapshot s;

		status_port(apid, sizeof(apid), (unsigned)in->app.pid);
		status_port(ppid, sizeof(ppid), (unsigned)in->proxy.pid);
		status_port(app, sizeof(app), ri->app_port);
		status_port(inb, sizeof(inb), ri->inbound_port);
		status_port(outb, sizeof(outb), ri->outbound_port);
		status_duration(ut, sizeof(ut), status_uptime(m, status_main_proc(in)));
		if (status_stats(m, in, &s) == 0) {
			snprintf(req, sizeof(req), "%llu/%llu",
			    (unsigned long long)s.v[STAT_REQUESTS_IN],
			    (unsigned long long)s.v[STAT_REQUESTS_OUT]);
			snprintf(e5, sizeof(e5), "%llu", (unsigned long long)
			    (s.v[STAT_RESP_IN_5XX] + s.v[STAT_RESP_OUT_5XX]));
			snprintf(ref, sizeof(ref), "%llu", (unsigned long long)
			    (s.v[STAT_REFUSED_BAD_REQUEST] + s.v[STAT_REFUSED_NO_ROUTE] +
			     s.v[STAT_REFUSED_NO_UPSTREAM] + s.v[STAT_REFUSED_UPSTREAM_ERROR] +
			     s.v[STAT_REFUSED_TIMEOUT] + s.v[STAT_REFUSED_NOT_ALLOWED] +
			     s.v[STAT_TLS_HANDSHAKES_FAILED]));
			/* this sidecar's view of what it calls: breakers open or
			 * half-open now / endpoints ejected now */
			snprintf(brk, sizeof(brk), "%llu/%llu",
			    (unsigned long long)s.v[STAT_BREAKERS_OPEN],
			    (unsigned long long)s.v[STAT_EJECTED]);
		}
		fprintf(f, "%-16s %-8s %-14s %-8s %7s %7s %6s %7s %8s %8u %-8s %13s %5s %7s %6s",
		    ri->svc->name, ri->svc->version, ri->name, svc_state(in), apid, ppid, app,
		    inb, outb, in->app.restarts + in->proxy.restarts, ut, req, e5, ref, brk);
		for (u = 0; u < ri->svc->nupstreams; u++)
			if (ri->listen_ports[u] != 0)
				fprintf(f, " %u->%s", ri->listen_ports[u],
				    ri->svc->upstreams[u].name);
		fputc('\n', f);
		if (strcmp(svc_state(in), "fatal") == 0 && in->why[0] != '\0')
			fprintf(f, "  %s\n", in->why);
	}
	for (r = 0; r < cfg->nroutes; r++) {
		const struct conf_route *rt = &cfg->routes[r];

		if (rt->nsplit == 0)
			continue;
		fprintf(f, "%sroute %s: split", r == 0 ? "\n" : "", rt->name);
		for (i = 0; i < rt->nsplit; i++)
			fprintf(f, " %s=%u", rt->split[i].version, rt->split[i].weight);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}
