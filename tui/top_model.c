/* SPDX-License-Identifier: ISC */
/*
 * top_model: the dashboard's picture of the mesh from meshd's `status
 * --json` (include/mesh/status.h for the schema, include/mesh/top.h for
 * the model), and the canary arithmetic of `+` / `-`.
 *
 * Services are kept across frames by name, so their latency history
 * survives; a service that leaves the status is dropped with it.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh/json_scan.h"
#include "mesh/top.h"

void
top_model_init(struct top_model *m)
{
	memset(m, 0, sizeof(*m));
}

static void
top_svc_free(struct top_svc *s)
{
	free(s->inst);
	free(s->win);
	free(s->sum);
}

void
top_model_free(struct top_model *m)
{
	size_t i;

	for (i = 0; i < m->nsvc; i++)
		top_svc_free(&m->svc[i]);
	free(m->svc);
	free(m->inst);
	memset(m, 0, sizeof(*m));
}

struct top_svc *
top_model_find(struct top_model *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nsvc; i++)
		if (strcmp(m->svc[i].name, name) == 0)
			return &m->svc[i];
	return NULL;
}

/* "2024-05-01T12:00:00Z" as unix time, 0 when unreadable. */
static int64_t
top_model_time(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return 0;
	return (int64_t)timegm(&tm);
}

static long
top_model_long(const struct json_doc *d, int obj, const char *key)
{
	return (long)json_scan_int(d, json_scan_key(d, obj, key), 0);
}

/* The service named name (found or appended), NULL when full. */
static struct top_svc *
top_model_svc(struct top_model *m, struct top_svc *svcs, size_t *n, size_t cap,
    const char *name)
{
	struct top_svc *s;
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(svcs[i].name, name) == 0)
			return &svcs[i];
	if (*n == cap)
		return NULL;
	s = &svcs[(*n)++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	/* an old service of that name keeps its history */
	for (i = 0; i < m->nsvc; i++) {
		if (m->svc[i].seen || strcmp(m->svc[i].name, name) != 0)
			continue;
		memcpy(s->spark, m->svc[i].spark, sizeof(s->spark));
		s->win = m->svc[i].win;
		s->nwin = m->svc[i].nwin;
		s->sum = m->svc[i].sum;
		s->p50 = m->svc[i].p50;
		s->p95 = m->svc[i].p95;
		s->p99 = m->svc[i].p99;
		s->have_lat = m->svc[i].have_lat;
		memcpy(s->grpc_win, m->svc[i].grpc_win, sizeof(s->grpc_win));
		s->grpc_calls = m->svc[i].grpc_calls;
		s->grpc_ok = m->svc[i].grpc_ok;
		m->svc[i].win = m->svc[i].sum = NULL;
		m->svc[i].seen = 1;
		break;
	}
	return s;
}

static int
top_model_add_inst(struct top_svc *s, size_t idx)
{
	if (s->ninst == s->inst_cap) {
		size_t ncap = s->inst_cap ? s->inst_cap * 2 : 8;
		size_t *ni = realloc(s->inst, ncap * sizeof(*ni));

		if (ni == NULL)
			return -1;
		s->inst = ni;
		s->inst_cap = ncap;
	}
	s->inst[s->ninst++] = idx;
	return 0;
}

static void
top_model_inst(const struct json_doc *d, int obj, const char *version, struct top_inst *in)
{
	int cert;
	char na[48];

	memset(in, 0, sizeof(*in));
	json_scan_str(d, json_scan_key(d, obj, "name"), in->name, sizeof(in->name));
	json_scan_str(d, json_scan_key(d, obj, "id"), in->id, sizeof(in->id));
	snprintf(in->version, sizeof(in->version), "%s", version);
	in->index = (unsigned)top_model_long(d, obj, "index");
	json_scan_str(d, json_scan_key(d, obj, "state"), in->state, sizeof(in->state));
	json_scan_str(d, json_scan_key(d, obj, "endpoint"), in->endpoint, sizeof(in->endpoint));
	in->app_pid = top_model_long(d, obj, "app_pid");
	in->proxy_pid = top_model_long(d, obj, "proxy_pid");
	in->app_port = (unsigned)top_model_long(d, obj, "app_port");
	in->inbound_port = (unsigned)top_model_long(d, obj, "inbound_port");
	in->outbound_port = (unsigned)top_model_long(d, obj, "outbound_port");
	in->restarts = (unsigned)top_model_long(d, obj, "restarts");
	in->uptime_s = top_model_long(d, obj, "uptime_s");
	cert = json_scan_key(d, obj, "cert");
	if (json_scan_str(d, json_scan_key(d, cert, "not_after"), na, sizeof(na)) > 0)
		in->cert_not_after = top_model_time(na);
	/* null without a registry: "" */
	if (json_scan_str(d, json_scan_key(d, obj, "host"), in->host, sizeof(in->host)) < 0)
		in->host[0] = '\0';
}

/* A dotted IPv4 as host order, 0 when it is none. */
static uint32_t
top_model_addr(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1 ? ntohl(a.s_addr) : 0;
}

/* Another host's instance from "registry":{"remote":[{...}]} (top.h). */
static void
top_model_remote(const struct json_doc *d, int obj, struct top_inst *in)
{
	char id[TOP_NAME_MAX / 2], addr[24];

	memset(in, 0, sizeof(*in));
	json_scan_str(d, json_scan_key(d, obj, "id"), id, sizeof(id));
	json_scan_str(d, json_scan_key(d, obj, "version"), in->version, sizeof(in->version));
	json_scan_str(d, json_scan_key(d, obj, "host"), in->host, sizeof(in->host));
	in->index = (unsigned)top_model_long(d, obj, "index");
	in->inbound_port = (unsigned)top_model_long(d, obj, "port");
	if (json_scan_str(d, json_scan_key(d, obj, "address"), addr, sizeof(addr)) > 0)
		in->addr = top_model_addr(addr);
	snprintf(in->id, sizeof(in->id), "%.*s/%.*s", TOP_NAME_MAX / 2 - 1, id,
	    TOP_NAME_MAX / 2 - 8, in->host);
	snprintf(in->name, sizeof(in->name), "%s", in->id);
	snprintf(in->state, sizeof(in->state), "remote");
	snprintf(in->endpoint, sizeof(in->endpoint), "up");   /* only up ones are published */
	in->remote = 1;
}

/*
 * A share as status prints it (a number with at most one decimal: 20,
 * 0.5) as words ("20", "0.5"), read from the token's text: strtod() and
 * printf() would follow LC_NUMERIC, which top sets ("0,5").  "" when it
 * is no such number.
 */
static void
top_model_share(const struct json_doc *d, int tok, char *buf, size_t size)
{
	const char *p;
	size_t len, i, dot = 0;

	buf[0] = '\0';
	if (json_scan_type(d, tok) != JSON_NUMBER)
		return;
	p = d->text + d->t[tok].start;
	len = d->t[tok].len;
	for (i = 0; i < len; i++)
		if (p[i] == '.' && dot == 0 && i > 0)
			dot = i;
		else if (p[i] < '0' || p[i] > '9')
			return;
	if (len == 0 || len > 5 || (dot != 0 && len - dot != 2))
		return;
	snprintf(buf, size, "%.*s", (int)len, p);
}

/*
 * A route's "fault":{"delay_percent","delay_ms","abort_percent",
 * "abort_status","match","version"} as the words of the `fault` command
 * ("abort 20%:503 delay 10%:300ms version v2 match x-chaos:1": the match's
 * blank goes, a value has none), for the form to start from.
 */
static void
top_model_fault_words(const struct json_doc *d, int ft, char *buf, size_t size)
{
	char ver[TOP_NAME_MAX], match[TOP_FORM_LEN], pct[8], *val;
	size_t n = 0;

	buf[0] = '\0';
#define ADD(...) (n += (size_t)snprintf(buf + (n < size ? n : size), \
    n < size ? size - n : 0, __VA_ARGS__))
	top_model_share(d, json_scan_key(d, ft, "abort_percent"), pct, sizeof(pct));
	if (pct[0] != '\0' && strcmp(pct, "0") != 0)
		ADD(" abort %s%%:%lld", pct,
		    (long long)json_scan_int(d, json_scan_key(d, ft, "abort_status"), 0));
	top_model_share(d, json_scan_key(d, ft, "delay_percent"), pct, sizeof(pct));
	if (pct[0] != '\0' && strcmp(pct, "0") != 0)
		ADD(" delay %s%%:%lldms", pct,
		    (long long)json_scan_int(d, json_scan_key(d, ft, "delay_ms"), 0));
	if (json_scan_str(d, json_scan_key(d, ft, "version"), ver, sizeof(ver)) > 0)
		ADD(" version %s", ver);
	if (json_scan_str(d, json_scan_key(d, ft, "match"), match, sizeof(match)) > 0 &&
	    (val = strchr(match, ':')) != NULL) {
		*val++ = '\0';
		val += strspn(val, " \t");
		ADD(" match %s:%s", match, val);
	}
#undef ADD
	if (n >= size)
		buf[0] = '\0';      /* cut: better no prefill than a wrong one */
	else if (n > 0)
		memmove(buf, buf + 1, n);
}

/* Weights from "routes":[{"name","split":[{"version","weight"}],
 * "fault":{...}|null,"mirror":{...}|null}]; a service without a split
 * shares evenly (as the balancer does).  A fault or mirror object in force
 * tags the row, and is kept as words for the forms. */
static void
top_model_split(const struct json_doc *d, int routes, struct top_svc *s)
{
	int r, sp, e, ft, mr;
	size_t v;
	char ver[TOP_NAME_MAX], pct[8];

	s->fault = s->mirror = 0;
	s->fault_words[0] = s->mirror_words[0] = '\0';
	for (r = json_scan_child(d, routes); r != -1; r = json_scan_next(d, routes, r)) {
		if (!json_scan_streq(d, json_scan_key(d, r, "name"), s->name))
			continue;
		ft = json_scan_key(d, r, "fault");
		mr = json_scan_key(d, r, "mirror");
		s->fault = json_scan_type(d, ft) == JSON_OBJECT;
		s->mirror = json_scan_type(d, mr) == JSON_OBJECT;
		if (s->fault)
			top_model_fault_words(d, ft, s->fault_words, sizeof(s->fault_words));
		if (s->mirror && json_scan_str(d, json_scan_key(d, mr, "version"), ver,
		    sizeof(ver)) > 0 && strlen(ver) + sizeof(pct) < sizeof(s->mirror_words)) {
			top_model_share(d, json_scan_key(d, mr, "percent"), pct, sizeof(pct));
			snprintf(s->mirror_words, sizeof(s->mirror_words), "%.*s=%s%%",
			    (int)(sizeof(s->mirror_words) - sizeof(pct) - 2), ver, pct);
		}
		sp = json_scan_key(d, r, "split");
		for (e = json_scan_child(d, sp); e != -1; e = json_scan_next(d, sp, e)) {
			int vt = json_scan_key(d, e, "version");

			for (v = 0; v < s->nver; v++)
				if (json_scan_streq(d, vt, s->ver[v].name)) {
					s->ver[v].weight = (unsigned)json_scan_int(d,
					    json_scan_key(d, e, "weight"), 0);
					s->has_split = 1;
				}
		}
	}
	if (s->has_split || s->nver == 0)
		return;
	for (v = 0; v < s->nver; v++)
		s->ver[v].weight = (unsigned)(100 / s->nver) + (v == 0 ? 100 % s->nver : 0);
}

int
top_model_status(struct top_model *m, const char *json, size_t len)
{
	struct json_doc d;
	struct top_svc *svcs = NULL, *s;
	struct top_inst *insts = NULL;
	size_t nsvc = 0, ninst = 0, cap_svc, cap_inst = 0, i, v;
	int mesh, services, e, ia, it, reg, remote;
	size_t nremote;
	char name[TOP_NAME_MAX], version[TOP_NAME_MAX], err[128], addr[24] = "";

	if (json_scan_parse(&d, json, len, TOP_JSON_TOKENS, err, sizeof(err)) == -1) {
		snprintf(m->err, sizeof(m->err), "status --json: %s", err);
		return -1;
	}
	for (i = 0; i < m->nsvc; i++)
		m->svc[i].seen = 0;
	mesh = json_scan_key(&d, 0, "mesh");
	services = json_scan_key(&d, 0, "services");
	if (json_scan_type(&d, mesh) != JSON_OBJECT || json_scan_type(&d, services) != JSON_ARRAY) {
		snprintf(m->err, sizeof(m->err), "status --json: no \"mesh\" object or \"services\" array");
		goto fail;
	}
	/* sized to the document: entries bound services, instances */
	for (e = json_scan_child(&d, services); e != -1; e = json_scan_next(&d, services, e)) {
		ia = json_scan_key(&d, e, "instances");
		cap_inst += json_scan_type(&d, ia) == JSON_ARRAY ? d.t[ia].n : 0;
	}
	/* with a registry, other hosts' instances (and services only they run) */
	reg = json_scan_key(&d, 0, "registry");
	remote = json_scan_key(&d, reg, "remote");
	nremote = json_scan_type(&d, remote) == JSON_ARRAY ? d.t[remote].n : 0;
	cap_inst += nremote;
	cap_svc = d.t[services].n + nremote;
	cap_svc = cap_svc < TOP_SVC_MAX ? cap_svc : TOP_SVC_MAX;
	cap_inst = cap_inst < TOP_INST_MAX ? cap_inst : TOP_INST_MAX;
	svcs = calloc(cap_svc + 1, sizeof(*svcs));
	insts = calloc(cap_inst + 1, sizeof(*insts));
	if (svcs == NULL || insts == NULL) {
		snprintf(m->err, sizeof(m->err), "out of memory");
		goto fail;
	}
	for (e = json_scan_child(&d, services); e != -1; e = json_scan_next(&d, services, e)) {
		json_scan_str(&d, json_scan_key(&d, e, "name"), name, sizeof(name));
		json_scan_str(&d, json_scan_key(&d, e, "version"), version, sizeof(version));
		if (name[0] == '\0' || (s = top_model_svc(m, svcs, &nsvc, cap_svc, name)) == NULL)
			continue;
		json_scan_str(&d, json_scan_key(&d, e, "protocol"), s->protocol, sizeof(s->protocol));
		for (v = 0; v < s->nver && strcmp(s->ver[v].name, version) != 0; v++)
			;
		if (v == s->nver && s->nver < TOP_VER_MAX)
			snprintf(s->ver[s->nver++].name, sizeof(s->ver[0].name), "%s", version);
		ia = json_scan_key(&d, e, "instances");
		for (it = json_scan_child(&d, ia); it != -1 && ninst < cap_inst;
		    it = json_scan_next(&d, ia, it)) {
			struct top_inst *in = &insts[ninst];

			top_model_inst(&d, it, version, in);
			if (top_model_add_inst(s, ninst) == -1) {
				snprintf(m->err, sizeof(m->err), "out of memory");
				goto fail;
			}
			ninst++;
			if (v < s->nver)
				s->ver[v].ninst++;
			if (strcmp(in->endpoint, "up") == 0 || (strcmp(in->endpoint, "none") == 0 &&
			    strcmp(in->state, "ready") == 0)) {
				s->nup++;
				if (v < s->nver)
					s->ver[v].nup++;
			}
		}
	}
	for (e = json_scan_child(&d, remote); e != -1 && ninst < cap_inst;
	    e = json_scan_next(&d, remote, e)) {
		json_scan_str(&d, json_scan_key(&d, e, "service"), name, sizeof(name));
		if (name[0] == '\0' || (s = top_model_svc(m, svcs, &nsvc, cap_svc, name)) == NULL)
			continue;
		top_model_remote(&d, e, &insts[ninst]);
		for (v = 0; v < s->nver && strcmp(s->ver[v].name, insts[ninst].version) != 0; v++)
			;
		if (v == s->nver && s->nver < TOP_VER_MAX)
			snprintf(s->ver[s->nver++].name, sizeof(s->ver[0].name), "%s",
			    insts[ninst].version);
		if (top_model_add_inst(s, ninst) == -1) {
			snprintf(m->err, sizeof(m->err), "out of memory");
			goto fail;
		}
		ninst++;
		s->nup++;
		if (v < s->nver) {
			s->ver[v].ninst++;
			s->ver[v].nup++;
		}
	}
	for (i = 0; i < nsvc; i++)
		top_model_split(&d, json_scan_key(&d, 0, "routes"), &svcs[i]);
	m->host[0] = '\0';
	m->host_addr = 0;
	m->reg_state[0] = m->reg_reason[0] = '\0';
	if (json_scan_type(&d, reg) == JSON_OBJECT) {
		json_scan_str(&d, json_scan_key(&d, reg, "host"), m->host, sizeof(m->host));
		json_scan_str(&d, json_scan_key(&d, reg, "state"), m->reg_state, sizeof(m->reg_state));
		json_scan_str(&d, json_scan_key(&d, reg, "reason"), m->reg_reason,
		    sizeof(m->reg_reason));
		if (json_scan_str(&d, json_scan_key(&d, reg, "address"), addr, sizeof(addr)) > 0)
			m->host_addr = top_model_addr(addr);
	}
	json_scan_str(&d, json_scan_key(&d, mesh, "name"), m->mesh, sizeof(m->mesh));
	json_scan_str(&d, json_scan_key(&d, mesh, "state_dir"), m->state_dir, sizeof(m->state_dir));
	m->running = json_scan_bool(&d, json_scan_key(&d, mesh, "running"), 0);
	m->uptime_s = top_model_long(&d, mesh, "uptime_s");
	m->meshd_pid = top_model_long(&d, mesh, "meshd_pid");
	m->cert_min = 0;
	for (i = 0; i < ninst; i++)
		if (insts[i].cert_not_after != 0 &&
		    (m->cert_min == 0 || insts[i].cert_not_after < m->cert_min))
			m->cert_min = insts[i].cert_not_after;
	/* swap in; what is left of the old services goes */
	for (i = 0; i < m->nsvc; i++)
		top_svc_free(&m->svc[i]);
	free(m->svc);
	free(m->inst);
	m->svc = svcs;
	m->nsvc = nsvc;
	m->inst = insts;
	m->ninst = ninst;
	m->err[0] = '\0';
	json_scan_free(&d);
	return 0;
fail:
	if (svcs != NULL) {
		/* give moved histories back so the next try finds them */
		for (i = 0; i < nsvc; i++) {
			struct top_svc *old = NULL;
			size_t k;

			for (k = 0; k < m->nsvc && old == NULL; k++)
				if (strcmp(m->svc[k].name, svcs[i].name) == 0 && m->svc[k].win == NULL)
					old = &m->svc[k];
			if (old != NULL) {
				old->win = svcs[i].win;
				old->sum = svcs[i].sum;
				svcs[i].win = svcs[i].sum = NULL;
			}
			top_svc_free(&svcs[i]);
		}
	}
	free(svcs);
	free(insts);
	json_scan_free(&d);
	return -1;
}

void
top_model_weights(const struct top_svc *s, char *buf, size_t size)
{
	size_t i, n = 0;

	buf[0] = '\0';
	if (s->nver < 2) {
		snprintf(buf, size, "-");
		return;
	}
	for (i = 0; i < s->nver && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%u", i ? "/" : "", s->ver[i].weight);
}

int
top_model_canary(const struct top_svc *s, int delta, char *cmd, size_t cmdlen,
    char *say, size_t saylen)
{
	unsigned w[TOP_VER_MAX];
	size_t i, c, n;
	int left;

	if (s->nver < 2) {
		snprintf(say, saylen, "%s has one version: no canary to move", s->name);
		return -1;
	}
	c = s->nver - 1;
	for (i = 0; i < s->nver; i++)
		w[i] = s->ver[i].weight;
	if (delta > 0) {
		if (w[c] >= 100) {
			snprintf(say, saylen, "%s %s already takes 100%%", s->name, s->ver[c].name);
			return -1;
		}
		/* take from the heaviest other version, point by point */
		for (left = delta; left > 0 && w[c] < 100; left--) {
			size_t h = 0;

			for (i = 1; i < c; i++)
				if (w[i] > w[h])
					h = i;
			if (w[h] == 0)
				break;
			w[h]--;
			w[c]++;
		}
	} else {
		if (w[c] == 0) {
			snprintf(say, saylen, "%s %s already takes 0%%", s->name, s->ver[c].name);
			return -1;
		}
		left = -delta < (int)w[c] ? -delta : (int)w[c];
		w[c] -= (unsigned)left;
		w[0] += (unsigned)left;
	}
	n = (size_t)snprintf(cmd, cmdlen, "weight %s", s->name);
	for (i = 0; i < s->nver && n < cmdlen; i++)
		n += (size_t)snprintf(cmd + n, cmdlen - n, " %s=%u", s->ver[i].name, w[i]);
	if (n >= cmdlen) {
		snprintf(say, saylen, "%s: too many versions", s->name);
		return -1;
	}
	snprintf(say, saylen, "Move %s canary %s %u%% -> %u%% (%s)? [y/n]", s->name,
	    s->ver[c].name, s->ver[c].weight, w[c], cmd + 8 + strlen(s->name));
	return 0;
}
