/* SPDX-License-Identifier: ISC */
/*
 * config_table: every key of mesh.ini as one row (name, section, type,
 * bounds, default, target field), and the scalar value parsers.
 *
 * Defaults are written as they would be in the file and go through the
 * same parsers as the file's values, so a default can never be out of its
 * own bounds without a unit test noticing.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/config.h"
#include "config_int.h"

#define US_MS   UINT64_C(1000)
#define US_S    UINT64_C(1000000)
#define US_M    (60 * US_S)
#define US_H    (3600 * US_S)

#define FIELD(type, f)  offsetof(struct type, f), sizeof(((struct type *)0)->f)
#define M(f)            FIELD(conf_mesh, f)
#define S(f)            FIELD(conf_service, f)
#define R(f)            FIELD(conf_route, f)

/* in enum conf_proto's order */
static const char *const proto_names[]   = { "http", "tcp", "http2", "grpc", NULL };
static const char *const restart_names[] = { "on-failure", "always", "never", NULL };
static const char *const lb_names[]      = { "ewma", "round-robin", "least-request", NULL };
static const char *const registry_names[] = { "none", "etcd", NULL };

static conf_parse_fn conf_mesh_name, conf_access_log, conf_metrics, conf_version;
static const char *conf_check_domain(const char *v);
static const char *conf_check_url(const char *v);
static const char *conf_check_health(const char *v);

/* clang-format off */
static const struct conf_key conf_keys[] = {
	/* [mesh] */
	{ "name",          CONF_KIND_MESH, CONF_T_CUSTOM, 0, 0, NULL, M(name), 0, NULL, conf_mesh_name, NULL },
	{ "state_dir",     CONF_KIND_MESH, CONF_T_STRING, 1, 1024, ".mesh", M(state_dir),
	  offsetof(struct conf_mesh, state_dir_line), NULL, NULL, NULL },
	{ "trust_domain",  CONF_KIND_MESH, CONF_T_STRING, 1, 253, "mesh.local", M(trust_domain), 0,
	  NULL, NULL, conf_check_domain },
	{ "cert_ttl",      CONF_KIND_MESH, CONF_T_DURATION, US_M, 8760 * US_H, "24h", M(cert_ttl_us), 0, NULL, NULL, NULL },
	{ "port_base",     CONF_KIND_MESH, CONF_T_UINT, 1, 65535, "15000", M(port_base), 0, NULL, NULL, NULL },
	{ "metrics",       CONF_KIND_MESH, CONF_T_CUSTOM, 0, 0, NULL, M(metrics),
	  offsetof(struct conf_mesh, metrics_line), NULL, conf_metrics, NULL },
	{ "traces",        CONF_KIND_MESH, CONF_T_STRING, 8, 1024, NULL, M(traces), 0, NULL, NULL, conf_check_url },
	{ "trace_sample",  CONF_KIND_MESH, CONF_T_PERMILLE, 0, 1000, "1%", M(trace_sample_permille), 0, NULL, NULL, NULL },
	{ "access_log",    CONF_KIND_MESH, CONF_T_CUSTOM, 0, 0, "off", M(access_log), 0, NULL, conf_access_log, NULL },
	{ "max_header_bytes", CONF_KIND_MESH, CONF_T_UINT, 1024, 1048576, "16384", M(max_header_bytes), 0, NULL, NULL, NULL },
	{ "max_headers",   CONF_KIND_MESH, CONF_T_UINT, 1, 10000, "100", M(max_headers), 0, NULL, NULL, NULL },
	{ "max_line_bytes", CONF_KIND_MESH, CONF_T_UINT, 256, 1048576, "8192", M(max_line_bytes), 0, NULL, NULL, NULL },
	{ "header_timeout", CONF_KIND_MESH, CONF_T_DURATION, US_MS, US_H, "10s", M(header_timeout_us), 0, NULL, NULL, NULL },
	{ "idle_timeout",  CONF_KIND_MESH, CONF_T_DURATION, US_S, 24 * US_H, "60s", M(idle_timeout_us), 0, NULL, NULL, NULL },
	{ "max_connections", CONF_KIND_MESH, CONF_T_UINT, 1, 1000000, "1024", M(max_connections), 0, NULL, NULL, NULL },
	{ "ready_timeout", CONF_KIND_MESH, CONF_T_DURATION, 100 * US_MS, 24 * US_H, "60s", M(ready_timeout_us), 0, NULL, NULL, NULL },
	/* several hosts (config_registry.c) */
	{ "registry",      CONF_KIND_MESH, CONF_T_ENUM, 0, 0, "none", M(registry),
	  offsetof(struct conf_mesh, registry_line), registry_names, NULL, NULL },
	{ "etcd",          CONF_KIND_MESH, CONF_T_CUSTOM, 0, 0, NULL, M(etcd),
	  offsetof(struct conf_mesh, etcd_line), NULL, config_registry_etcd, NULL },
	{ "etcd_ca",       CONF_KIND_MESH, CONF_T_STRING, 1, 1024, NULL, M(etcd_ca),
	  offsetof(struct conf_mesh, etcd_ca_line), NULL, NULL, NULL },
	{ "etcd_cert",     CONF_KIND_MESH, CONF_T_STRING, 1, 1024, NULL, M(etcd_cert),
	  offsetof(struct conf_mesh, etcd_cert_line), NULL, NULL, NULL },
	{ "etcd_key",      CONF_KIND_MESH, CONF_T_STRING, 1, 1024, NULL, M(etcd_key),
	  offsetof(struct conf_mesh, etcd_key_line), NULL, NULL, NULL },
	{ "host_address",  CONF_KIND_MESH, CONF_T_CUSTOM, 0, 0, NULL, M(host_address),
	  offsetof(struct conf_mesh, host_address_line), NULL, config_registry_address, NULL },
	{ "host_name",     CONF_KIND_MESH, CONF_T_CUSTOM, 0, 0, NULL, M(host_name),
	  offsetof(struct conf_mesh, host_name_line), NULL, config_registry_host_name, NULL },
	{ "registry_ttl",  CONF_KIND_MESH, CONF_T_DURATION, 2 * US_S, 300 * US_S, "10s", M(registry_ttl_us), 0, NULL, NULL, NULL },

	/* [service.NAME] and [service.NAME@VERSION]; env.NAME is handled apart */
	{ "version",       CONF_KIND_SERVICE, CONF_T_CUSTOM, 0, 0, NULL, S(version),
	  offsetof(struct conf_service, version_line), NULL, conf_version, NULL },
	{ "command",       CONF_KIND_SERVICE, CONF_T_STRING, 1, CONF_VALUE_MAX - 1, NULL, S(command), 0, NULL, NULL, NULL },
	{ "port",          CONF_KIND_SERVICE, CONF_T_UINT, 1, 65535, NULL, S(port),
	  offsetof(struct conf_service, port_line), NULL, NULL, NULL },
	{ "instances",     CONF_KIND_SERVICE, CONF_T_UINT, 1, CONF_INSTANCES_MAX, "1", S(instances), 0, NULL, NULL, NULL },
	{ "protocol",      CONF_KIND_SERVICE, CONF_T_ENUM, 0, 0, "http", S(protocol),
	  offsetof(struct conf_service, protocol_line), proto_names, NULL, NULL },
	{ "health",        CONF_KIND_SERVICE, CONF_T_STRING, 1, 256, NULL, S(health),
	  offsetof(struct conf_service, health_line), NULL, NULL, conf_check_health },
	{ "upstreams",     CONF_KIND_SERVICE, CONF_T_CUSTOM, 0, 0, NULL, S(upstreams), 0, NULL, config_list_upstreams, NULL },
	{ "allow",         CONF_KIND_SERVICE, CONF_T_CUSTOM, 0, 0, NULL, S(allow),
	  offsetof(struct conf_service, allow_line), NULL, config_list_allow, NULL },
	{ "outbound",      CONF_KIND_SERVICE, CONF_T_UINT, 1, 65535, NULL, S(outbound),
	  offsetof(struct conf_service, outbound_line), NULL, NULL, NULL },
	{ "restart",       CONF_KIND_SERVICE, CONF_T_ENUM, 0, 0, "on-failure", S(restart), 0, restart_names, NULL, NULL },
	/* no default: 0 takes [mesh]'s (config_ready_timeout()) */
	{ "ready_timeout", CONF_KIND_SERVICE, CONF_T_DURATION, 100 * US_MS, 24 * US_H, NULL, S(ready_timeout_us), 0, NULL, NULL, NULL },

	/* [route.NAME] */
	{ "split",         CONF_KIND_ROUTE, CONF_T_CUSTOM, 0, 0, NULL, R(split),
	  offsetof(struct conf_route, split_line), NULL, config_list_split, NULL },
	{ "timeout",       CONF_KIND_ROUTE, CONF_T_DURATION, 0, US_H, NULL, R(timeout_us), 0, NULL, NULL, NULL },
	{ "connect_timeout", CONF_KIND_ROUTE, CONF_T_DURATION, US_MS, US_M, "1s", R(connect_timeout_us), 0, NULL, NULL, NULL },
	{ "retries",       CONF_KIND_ROUTE, CONF_T_UINT, 0, 10, "0", R(retries), 0, NULL, NULL, NULL },
	{ "retry_on",      CONF_KIND_ROUTE, CONF_T_CUSTOM, 0, 0, "connect-failure", R(retry_on), 0, NULL, config_list_retry_on, NULL },
	{ "backoff",       CONF_KIND_ROUTE, CONF_T_CUSTOM, 0, 0, "25ms, 250ms", R(backoff_base_us), 0, NULL, config_list_backoff, NULL },
	{ "retry_budget",  CONF_KIND_ROUTE, CONF_T_CUSTOM, 0, 0, "20%, 10/s", R(budget_percent), 0, NULL, config_list_budget, NULL },
	{ "lb",            CONF_KIND_ROUTE, CONF_T_ENUM, 0, 0, "ewma", R(lb), 0, lb_names, NULL, NULL },
	{ "breaker.failures", CONF_KIND_ROUTE, CONF_T_UINT, 1, 10000, "5", R(breaker_failures), 0, NULL, NULL, NULL },
	{ "breaker.cooldown", CONF_KIND_ROUTE, CONF_T_DURATION, US_MS, US_H, "5s", R(breaker_cooldown_us), 0, NULL, NULL, NULL },
	{ "breaker.max_pending", CONF_KIND_ROUTE, CONF_T_UINT, 1, 1000000, "1024", R(breaker_max_pending), 0, NULL, NULL, NULL },
	{ "outlier.failures", CONF_KIND_ROUTE, CONF_T_UINT, 1, 10000, "5", R(outlier_failures), 0, NULL, NULL, NULL },
	{ "outlier.ejection", CONF_KIND_ROUTE, CONF_T_DURATION, US_MS, US_H, "30s", R(outlier_ejection_us), 0, NULL, NULL, NULL },
	/* no defaults: a route without them injects nothing (config_fault.c) */
	{ "fault.delay",   CONF_KIND_ROUTE, CONF_T_CUSTOM, 0, 0, NULL, R(fault), 0, NULL, config_fault_delay, NULL },
	{ "fault.abort",   CONF_KIND_ROUTE, CONF_T_CUSTOM, 0, 0, NULL, R(fault), 0, NULL, config_fault_abort, NULL },
	{ "fault.match",   CONF_KIND_ROUTE, CONF_T_CUSTOM, 0, 0, NULL, R(fault), 0, NULL, config_fault_match, NULL },
	{ "fault.version", CONF_KIND_ROUTE, CONF_T_CUSTOM, 0, 0, NULL, R(fault), 0, NULL, config_fault_version, NULL },
	/* no default: a route without it mirrors nothing (config_mirror.c) */
	{ "mirror",        CONF_KIND_ROUTE, CONF_T_CUSTOM, 0, 0, NULL, R(mirror), 0, NULL, config_mirror_key, NULL },
};
/* clang-format on */

#define NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))
_Static_assert(NKEYS <= CONF_KEYS_MAX, "grow CONF_KEYS_MAX (the seen[] map)");

const struct conf_key *
config_table_keys(size_t *n)
{
	*n = NKEYS;
	return conf_keys;
}

const char *
config_kind_name(enum conf_kind kind)
{
	switch (kind) {
	case CONF_KIND_MESH:    return "[mesh]";
	case CONF_KIND_SERVICE: return "[service.NAME]";
	case CONF_KIND_ROUTE:   return "[route.NAME]";
	default:                return "no section";
	}
}

/* ---- scalar parsers (durations: config_duration.c) ------------------------ */

/* Digits only (no sign, no blanks), at most 10 of them.  0 or -1. */
static int
conf_parse_uint(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9') {
		if (++n > 10)
			return -1;
		v = v * 10 + (uint64_t)(*s++ - '0');
	}
	if (n == 0)
		return -1;
	*end = s;
	*out = v;
	return 0;
}

static int
conf_all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static void
conf_store_uint(void *p, size_t size, uint64_t v)
{
	switch (size) {
	case 1: *(uint8_t *)p = (uint8_t)v; break;
	case 2: *(uint16_t *)p = (uint16_t)v; break;
	case 4: *(uint32_t *)p = (uint32_t)v; break;
	default: *(uint64_t *)p = v; break;
	}
}

/* "N%" or, with tenths, "N.D%": v in percent or in permille. */
static int
conf_parse_percent(const char *s, int tenths, uint64_t *v)
{
	const char *e;
	uint64_t n;

	if (conf_parse_uint(s, &e, &n) == -1)
		return -1;
	if (tenths) {
		n *= 10;
		if (*e == '.' && e[1] >= '0' && e[1] <= '9') {
			n += (uint64_t)(e[1] - '0');
			e += 2;
		}
	}
	if (strcmp(e, "%") != 0)
		return -1;
	*v = n;
	return 0;
}

/*
 * Parse value for key k into obj.  0, or -1 with why filled.
 */
static int
conf_set(struct conf_ctx *ctx, const struct conf_key *k, const char *value,
         void *obj, char *why, size_t whysz)
{
	char *field = (char *)obj + k->off;
	char lo[32], hi[32];
	const char *e, *reason;
	uint64_t v;
	size_t i;

	switch (k->type) {
	case CONF_T_STRING:
		v = strlen(value);
		if (v < k->min || v > k->max) {
			snprintf(why, whysz, "length must be %" PRIu64 "..%" PRIu64,
			    k->min, k->max);
			return -1;
		}
		if (k->check != NULL && (reason = k->check(value)) != NULL) {
			snprintf(why, whysz, "%s", reason);
			return -1;
		}
		free(*(char **)field);
		*(char **)field = strdup(value);
		if (*(char **)field == NULL) {
			snprintf(why, whysz, "out of memory");
			return -1;
		}
		return 0;
	case CONF_T_UINT:
		if (conf_parse_uint(value, &e, &v) == -1 || *e != '\0') {
			snprintf(why, whysz, "not a number");
			return -1;
		}
		if (v < k->min || v > k->max) {
			snprintf(why, whysz, "out of range %" PRIu64 "..%" PRIu64,
			    k->min, k->max);
			return -1;
		}
		conf_store_uint(field, k->size, v);
		return 0;
	case CONF_T_DURATION:
		if (config_parse_duration(value, &v) == -1) {
			snprintf(why, whysz, conf_all_digits(value) ?
			    "a duration needs a unit (us, ms, s, m, h)" :
			    "not a duration (e.g. 250ms, 2s, 1h)");
			return -1;
		}
		if (v < k->min || v > k->max) {
			config_fmt_duration(k->min, lo, sizeof(lo));
			config_fmt_duration(k->max, hi, sizeof(hi));
			snprintf(why, whysz, "out of range %s..%s", lo, hi);
			return -1;
		}
		*(uint64_t *)field = v;
		return 0;
	case CONF_T_PERCENT:
	case CONF_T_PERMILLE:
		if (conf_parse_percent(value, k->type == CONF_T_PERMILLE, &v) == -1) {
			snprintf(why, whysz, k->type == CONF_T_PERMILLE ?
			    "not a percentage (e.g. 1%%, 0.5%%)" :
			    "not a percentage (e.g. 20%%)");
			return -1;
		}
		if (v < k->min || v > k->max) {
			snprintf(why, whysz, "out of range 0%%..100%%");
			return -1;
		}
		*(unsigned *)field = (unsigned)v;
		return 0;
	case CONF_T_ENUM:
		for (i = 0; k->names[i] != NULL; i++)
			if (strcmp(value, k->names[i]) == 0) {
				*(int *)field = (int)i;
				return 0;
			}
		i = (size_t)snprintf(why, whysz, "want one of");
		for (size_t j = 0; k->names[j] != NULL && i < whysz; j++)
			i += (size_t)snprintf(why + i, whysz - i, "%s %s",
			    j ? "," : "", k->names[j]);
		return -1;
	case CONF_T_CUSTOM:
		return k->parse(ctx, k, value, obj, why, whysz);
	}
	return -1;
}

/* ---- custom scalars -------------------------------------------------------- */

static int
conf_mesh_name(struct conf_ctx *ctx, const struct conf_key *k, const char *v,
               void *obj, char *why, size_t whysz)
{
	struct conf_mesh *m = obj;
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || v[i] == '-' || v[i] == '_' ||
		    v[i] == '.'))
			break;
	if (v[i] != '\0' || i >= sizeof(m->name)) {
		snprintf(why, whysz, "want 1..%zu of [A-Za-z0-9._-]",
		    sizeof(m->name) - 1);
		return -1;
	}
	memcpy(m->name, v, i + 1);
	return 0;
}

static int
conf_version(struct conf_ctx *ctx, const struct conf_key *k, const char *v,
             void *obj, char *why, size_t whysz)
{
	struct conf_service *svc = obj;

	if (!config_valid_version(v)) {
		snprintf(why, whysz, "bad version (want [a-z0-9][a-z0-9.-]{0,31})");
		return -1;
	}
	if (ctx->version_at && strcmp(v, svc->version) != 0) {
		snprintf(why, whysz, "disagrees with [service.%s@%s]", svc->name,
		    svc->version);
		return -1;
	}
	snprintf(svc->version, sizeof(svc->version), "%s", v);
	return 0;
}

/* off | json | PATH (made absolute against the file's dir after parsing) */
static int
conf_access_log(struct conf_ctx *ctx, const struct conf_key *k, const char *v,
                void *obj, char *why, size_t whysz)
{
	struct conf_mesh *m = obj;

	free(m->access_log_path);
	m->access_log_path = NULL;
	if (strcmp(v, "off") == 0) {
		m->access_log = CONF_ACCESS_OFF;
	} else if (strcmp(v, "json") == 0) {
		m->access_log = CONF_ACCESS_JSON;
	} else {
		if (strlen(v) > 1024) {
			snprintf(why, whysz, "path longer than 1024 bytes");
			return -1;
		}
		m->access_log = CONF_ACCESS_PATH;
		m->access_log_path = strdup(v);
		if (m->access_log_path == NULL) {
			snprintf(why, whysz, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* HOST:PORT with HOST an IPv4 address, [IPv6] or localhost. */
static int
conf_metrics(struct conf_ctx *ctx, const struct conf_key *k, const char *v,
             void *obj, char *why, size_t whysz)
{
	struct conf_mesh *m = obj;
	const char *colon = strrchr(v, ':'), *e;
	char host[64];
	unsigned char addr[16];
	uint64_t port;
	size_t hlen;

	if (colon == NULL || conf_parse_uint(colon + 1, &e, &port) == -1 ||
	    *e != '\0' || port < 1 || port > 65535) {
		snprintf(why, whysz, "want HOST:PORT with PORT 1..65535");
		return -1;
	}
	hlen = (size_t)(colon - v);
	if (hlen >= sizeof(host)) {
		snprintf(why, whysz, "host too long");
		return -1;
	}
	memcpy(host, v, hlen);
	host[hlen] = '\0';
	if (!(strcmp(host, "localhost") == 0 || inet_pton(AF_INET, host, addr) == 1 ||
	    (hlen > 2 && host[0] == '[' && host[hlen - 1] == ']' &&
	    (host[hlen - 1] = '\0', inet_pton(AF_INET6, host + 1, addr) == 1)))) {
		snprintf(why, whysz, "host must be an IP address or localhost");
		return -1;
	}
	free(m->metrics);
	m->metrics = strdup(v);
	m->metrics_port = (uint16_t)port;
	if (m->metrics == NULL) {
		snprintf(why, whysz, "out of memory");
		return -1;
	}
	return 0;
}

static const char *
conf_check_domain(const char *v)
{
	for (; *v != '\0'; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= '0' && *v <= '9') ||
		    *v == '.' || *v == '-' || *v == '_'))
			return "want lowercase letters, digits, '.', '-', '_'";
	return NULL;
}

static const char *
conf_check_url(const char *v)
{
	if (strncmp(v, "http://", 7) != 0)
		return "want an http:// URL (OTLP/HTTP JSON)";
	for (; *v != '\0'; v++)
		if (*v == ' ' || *v == '\t')
			return "blank in URL";
	return NULL;
}

static const char *
conf_check_health(const char *v)
{
	if (v[0] != '/')
		return "want a path starting with '/'";
	for (; *v != '\0'; v++)
		if (*v <= ' ' || *v == 0x7f)
			return "blank or control character in path";
	return NULL;
}

int
conf_proto_l7(enum conf_proto p)
{
	return p == CONF_PROTO_HTTP || p == CONF_PROTO_HTTP2 || p == CONF_PROTO_GRPC;
}

const char *
conf_proto_name(enum conf_proto p)
{
	return (unsigned)p < sizeof(proto_names) / sizeof(proto_names[0]) - 1 ?
	    proto_names[p] : "http";
}

/* ---- the table's entry points ------------------------------------------- */

void
config_table_defaults(struct conf_ctx *ctx, enum conf_kind kind, void *obj)
{
	char why[256];
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (k->kind != kind || k->def == NULL)
			continue;
		if (conf_set(ctx, k, k->def, obj, why, sizeof(why)) == -1)
			config_error(ctx, 0, "internal: default %s = %s: %s",
			    k->name, k->def, why);
	}
}

static void
conf_bad(struct conf_ctx *ctx, const char *name, const char *value,
         const char *raw, const char *why)
{
	if (strcmp(value, raw) != 0)
		config_error(ctx, ctx->lineno, "%s = %s (from '%s'): %s", name,
		    value, raw, why);
	else
		config_error(ctx, ctx->lineno, "%s = %s: %s", name, value, why);
}

void
config_table_apply(struct conf_ctx *ctx, const char *name, const char *value,
                   const char *raw)
{
	const struct conf_key *k = NULL;
	char why[512];
	size_t i;

	if (ctx->kind == CONF_KIND_SERVICE && strncmp(name, "env.", 4) == 0) {
		config_list_env(ctx, name + 4, value);
		return;
	}
	for (i = 0; i < NKEYS && k == NULL; i++)
		if (strcmp(conf_keys[i].name, name) == 0 &&
		    conf_keys[i].kind == ctx->kind)
			k = &conf_keys[i];
	if (k == NULL) {
		size_t off = 0;

		/* every section the key is valid in ("[mesh] or [service.NAME]") */
		why[0] = '\0';
		for (i = 0; i < NKEYS; i++)
			if (strcmp(conf_keys[i].name, name) == 0 && off < sizeof(why))
				off += (size_t)snprintf(why + off, sizeof(why) - off, "%s%s",
				    off > 0 ? " or " : "", config_kind_name(conf_keys[i].kind));
		if (off > 0)
			config_error(ctx, ctx->lineno, "%s = %s: key belongs in %s, "
			    "not in [%s]", name, raw, why, ctx->section);
		else
			config_error(ctx, ctx->lineno, "%s = %s: unknown key in [%s]",
			    name, raw, ctx->section);
		return;
	}
	i = (size_t)(k - conf_keys);
	if (ctx->seen[i] != 0) {
		config_error(ctx, ctx->lineno, "%s = %s: duplicate key (first at "
		    "line %d)", name, raw, ctx->seen[i]);
		return;
	}
	ctx->seen[i] = ctx->lineno;
	if (value[0] == '\0') {
		config_error(ctx, ctx->lineno, "%s: empty value", name);
		return;
	}
	if (conf_set(ctx, k, value, ctx->obj, why, sizeof(why)) == -1) {
		conf_bad(ctx, name, value, raw, why);
		return;
	}
	if (k->line_off != 0)
		*(int *)((char *)ctx->obj + k->line_off) = ctx->lineno;
}

void
config_table_free(enum conf_kind kind, void *obj)
{
	struct conf_mesh *m = obj;
	struct conf_service *s = obj;
	struct conf_route *r = obj;
	size_t i;

	switch (kind) {
	case CONF_KIND_MESH:
		free(m->state_dir);
		free(m->trust_domain);
		free(m->metrics);
		free(m->traces);
		free(m->access_log_path);
		free(m->etcd);
		free(m->etcd_ca);
		free(m->etcd_cert);
		free(m->etcd_key);
		break;
	case CONF_KIND_SERVICE:
		free(s->command);
		free(s->health);
		free(s->upstreams);
		free(s->allow);
		for (i = 0; i < s->nenv; i++) {
			free(s->env[i].key);
			free(s->env[i].value);
		}
		free(s->env);
		break;
	case CONF_KIND_ROUTE:
		free(r->split);
		break;
	default:
		break;
	}
}
