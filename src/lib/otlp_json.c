/* SPDX-License-Identifier: ISC */
/*
 * otlp_json: spans as one OTLP/HTTP JSON ExportTraceServiceRequest
 * (otlp.h says which fields).  OTLP's JSON mapping differs from plain
 * proto3 JSON on purpose: trace and span ids are hex, not base64; enums
 * are integers; 64-bit integers (times, intValue) are decimal strings.
 *
 * Span records are fixed-size and NUL-padded; a field that fills its
 * array has no NUL, so every string is read with its array's size.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/json_esc.h"
#include "mesh/otlp_json.h"
#include "mesh/trace.h"

#define OTLP_KIND_SERVER 2
#define OTLP_KIND_CLIENT 3
#define OTLP_STATUS_ERROR 2

/* String fields of a record: pointer and array size. */
#define FIELD(s, f) (s)->f, sizeof((s)->f)

void
otlp_buf_reset(struct otlp_buf *b)
{
	b->len = 0;
	b->oom = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

void
otlp_buf_free(struct otlp_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static int
otlp_buf_grow(struct otlp_buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->oom)
		return -1;
	if (b->len + more + 1 <= b->cap)
		return 0;
	cap = b->cap != 0 ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

static void
otlp_put(struct otlp_buf *b, const char *s, size_t n)
{
	if (otlp_buf_grow(b, n) == -1)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
otlp_puts(struct otlp_buf *b, const char *s)
{
	otlp_put(b, s, strlen(s));
}

static void otlp_printf(struct otlp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
otlp_printf(struct otlp_buf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* every format here is a number or an id: it fits */
	if (n > 0)
		otlp_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A JSON string of s[0..strnlen(s, max)); every field is at most a few
 * hundred bytes, 6 bytes each escaped at worst. */
static void
otlp_str(struct otlp_buf *b, const char *s, size_t max)
{
	char tmp[6 * 256 + 3];

	otlp_put(b, tmp, json_esc(tmp, sizeof(tmp), s, strnlen(s, max), NULL));
}

static void
otlp_hex(struct otlp_buf *b, const uint8_t *id, size_t n)
{
	char hex[2 * 16 + 1];

	trace_hex(hex, id, n);
	otlp_put(b, "\"", 1);
	otlp_put(b, hex, 2 * n);
	otlp_put(b, "\"", 1);
}

/* ,{"key":"K","value":{"stringValue":"V"}} unless V is empty; *first
 * says whether a comma goes before. */
static void
otlp_attr_str(struct otlp_buf *b, int *first, const char *key, const char *v, size_t max)
{
	if (strnlen(v, max) == 0)
		return;
	otlp_puts(b, *first ? "{\"key\":\"" : ",{\"key\":\"");
	*first = 0;
	otlp_puts(b, key);
	otlp_puts(b, "\",\"value\":{\"stringValue\":");
	otlp_str(b, v, max);
	otlp_puts(b, "}}");
}

static void
otlp_attr_int(struct otlp_buf *b, int *first, const char *key, uint64_t v)
{
	otlp_puts(b, *first ? "{\"key\":\"" : ",{\"key\":\"");
	*first = 0;
	otlp_puts(b, key);
	otlp_printf(b, "\",\"value\":{\"intValue\":\"%" PRIu64 "\"}}", v);
}

void
otlp_json_flags(char *out, size_t size, uint32_t flags)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ STATS_SF_UH, "UH" }, { STATS_SF_UF, "UF" }, { STATS_SF_UO, "UO" },
		{ STATS_SF_UT, "UT" }, { STATS_SF_NR, "NR" }, { STATS_SF_UR, "UR" },
		{ STATS_SF_FI, "FI" }, { STATS_SF_DI, "DI" },
	};
	size_t i, len = 0;

	if (size == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int k;

		if (!(flags & names[i].bit))
			continue;
		k = snprintf(out + len, size - len, "%s%s", len != 0 ? "," : "", names[i].name);
		if (k < 0 || (size_t)k >= size - len)
			return;
		len += (size_t)k;
	}
}

/* "METHOD /path" without the query, bounded by the record's arrays. */
static void
otlp_span_name(struct otlp_buf *b, const struct stats_span_rec *s)
{
	char name[sizeof(s->method) + 1 + sizeof(s->path) + 1];
	size_t m = strnlen(s->method, sizeof(s->method));
	size_t p = strnlen(s->path, sizeof(s->path));
	const char *q = memchr(s->path, '?', p);

	if (q != NULL)
		p = (size_t)(q - s->path);
	memcpy(name, s->method, m);
	name[m] = ' ';
	memcpy(name + m + 1, s->path, p);
	name[m + 1 + p] = '\0';
	otlp_str(b, m == 0 && p == 0 ? "request" : name, sizeof(name));
}

static void
otlp_span_attrs(struct otlp_buf *b, const struct stats_span_rec *s)
{
	char path[sizeof(s->path) + 1], flags[32];
	const char *query = NULL;
	int first = 1;

	memcpy(path, s->path, sizeof(s->path));
	path[sizeof(s->path)] = '\0';
	if ((query = strchr(path, '?')) != NULL)
		path[query++ - path] = '\0';
	otlp_puts(b, ",\"attributes\":[");
	otlp_attr_str(b, &first, "http.request.method", FIELD(s, method));
	if (s->status != 0)
		otlp_attr_int(b, &first, "http.response.status_code", s->status);
	otlp_attr_str(b, &first, "url.path", path, sizeof(path));
	if (query != NULL)
		otlp_attr_str(b, &first, "url.query", query, sizeof(path));
	otlp_attr_str(b, &first, "server.address", FIELD(s, authority));
	otlp_attr_str(b, &first, "mesh.peer", FIELD(s, peer));
	otlp_attr_str(b, &first, "mesh.upstream", FIELD(s, upstream));
	otlp_attr_int(b, &first, "mesh.retries", s->retries);
	otlp_json_flags(flags, sizeof(flags), s->flags);
	otlp_attr_str(b, &first, "mesh.flags", flags, sizeof(flags));
	if (s->flags & STATS_SF_GRPC) {
		otlp_attr_str(b, &first, "rpc.system", "grpc", sizeof("grpc"));
		otlp_attr_int(b, &first, "rpc.grpc.status_code", s->grpc_status);
	}
	otlp_puts(b, "]");
}

/* An error span: no status or a 5xx; a gRPC call's status as OpenTelemetry
 * reads it (a client any status but OK; a server only those that say the
 * server failed: UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL,
 * UNAVAILABLE, DATA_LOSS). */
static int
otlp_span_error(const struct stats_span_rec *s)
{
	if (s->status == 0 || s->status >= 500)
		return 1;
	if (!(s->flags & STATS_SF_GRPC) || s->grpc_status == 0)
		return 0;
	if (s->kind == STATS_SPAN_CLIENT)
		return 1;
	switch (s->grpc_status) {
	case 2: case 4: case 12: case 13: case 14: case 15:
		return 1;
	}
	return 0;
}

static void
otlp_span(struct otlp_buf *b, const struct stats_span_rec *s)
{
	otlp_puts(b, "{\"traceId\":");
	otlp_hex(b, s->trace_id, sizeof(s->trace_id));
	otlp_puts(b, ",\"spanId\":");
	otlp_hex(b, s->span_id, sizeof(s->span_id));
	if (!trace_id_zero(s->parent_id, sizeof(s->parent_id))) {
		otlp_puts(b, ",\"parentSpanId\":");
		otlp_hex(b, s->parent_id, sizeof(s->parent_id));
	}
	otlp_puts(b, ",\"name\":");
	otlp_span_name(b, s);
	otlp_printf(b, ",\"kind\":%d", s->kind == STATS_SPAN_CLIENT ? OTLP_KIND_CLIENT :
	    OTLP_KIND_SERVER);
	otlp_printf(b, ",\"startTimeUnixNano\":\"%" PRIu64 "\"", s->start_ns);
	otlp_printf(b, ",\"endTimeUnixNano\":\"%" PRIu64 "\"",
	    s->start_ns + s->duration_us * 1000u);
	otlp_span_attrs(b, s);
	if (otlp_span_error(s))
		otlp_printf(b, ",\"status\":{\"code\":%d}", OTLP_STATUS_ERROR);
	otlp_puts(b, "}");
}

/* Same resource: service, version and instance. */
static int
otlp_same_resource(const struct stats_span_rec *a, const struct stats_span_rec *b)
{
	return strncmp(a->service, b->service, sizeof(a->service)) == 0 &&
	    strncmp(a->version, b->version, sizeof(a->version)) == 0 &&
	    strncmp(a->instance, b->instance, sizeof(a->instance)) == 0;
}

static void
otlp_resource(struct otlp_buf *b, const struct stats_span_rec *s, const char *mesh_name)
{
	int first = 1;

	otlp_puts(b, "{\"resource\":{\"attributes\":[");
	otlp_attr_str(b, &first, "service.name", FIELD(s, service));
	otlp_attr_str(b, &first, "service.version", FIELD(s, version));
	otlp_attr_str(b, &first, "service.instance.id", FIELD(s, instance));
	if (mesh_name != NULL)
		otlp_attr_str(b, &first, "service.namespace", mesh_name, strlen(mesh_name) + 1);
	otlp_puts(b, "]},\"scopeSpans\":[{\"scope\":{\"name\":\"" OTLP_SCOPE_NAME
	    "\",\"version\":\"" MESH_VERSION "\"},\"spans\":[");
}

int
otlp_json_encode(struct otlp_buf *b, const struct stats_span_rec *const *spans,
    size_t n, const char *mesh_name)
{
	size_t i, j, k;
	int first_res = 1;

	otlp_buf_reset(b);
	otlp_puts(b, "{\"resourceSpans\":[");
	/*
	 * One resource per instance, in the order instances first appear.
	 * Quadratic in n, which is at most a batch (OTLP_BATCH_MAX): cheaper
	 * than sorting a copy, and nothing to allocate.
	 */
	for (i = 0; i < n; i++) {
		int first_span = 1;

		for (j = 0; j < i; j++)
			if (otlp_same_resource(spans[j], spans[i]))
				break;
		if (j < i)
			continue;   /* this instance's group was written already */
		if (!first_res)
			otlp_puts(b, ",");
		first_res = 0;
		otlp_resource(b, spans[i], mesh_name);
		for (k = i; k < n; k++) {
			if (!otlp_same_resource(spans[i], spans[k]))
				continue;
			if (!first_span)
				otlp_puts(b, ",");
			first_span = 0;
			otlp_span(b, spans[k]);
		}
		otlp_puts(b, "]}]}");
	}
	otlp_puts(b, "]}");
	return b->oom ? -1 : 0;
}
