/* SPDX-License-Identifier: ISC */
/*
 * ctl_tap_fmt: which tapped records to show and how (include/mesh/ctl_tap.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mesh/ctl_tap.h"
#include "mesh/json_esc.h"
#include "mesh/otlp_json.h"
#include "mesh/trace.h"

int
ctl_tap_match(const struct ctl_tap_filter *f, const struct stats_span_rec *s)
{
	if (f->path != NULL &&
	    strncmp(s->path, f->path, strnlen(f->path, sizeof(s->path))) != 0)
		return 0;
	if ((f->status_lo != 0 || f->status_hi != 0) &&
	    (s->status < f->status_lo || s->status > f->status_hi))
		return 0;
	return 1;
}

/* An append-only cursor over buf[0..size): never past the end, always
 * NUL-terminated; len counts what was written. */
struct ctl_tap_out {
	char  *buf;
	size_t size, len;
};

static void ctl_tap_put(struct ctl_tap_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
ctl_tap_put(struct ctl_tap_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len + 1 >= o->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n < o->size - o->len ? (size_t)n : o->size - o->len - 1;
}

/* A record's string field, printable: control bytes become '?'. */
static void
ctl_tap_text(struct ctl_tap_out *o, const char *s, size_t max)
{
	size_t i, n = strnlen(s, max);

	for (i = 0; i < n && o->len + 1 < o->size; i++)
		o->buf[o->len++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	o->buf[o->len] = '\0';
}

static void
ctl_tap_jstr(struct ctl_tap_out *o, const char *key, const char *s, size_t max)
{
	ctl_tap_put(o, ",\"%s\":", key);
	if (o->len + 1 < o->size)
		o->len += json_esc(o->buf + o->len, o->size - o->len, s, strnlen(s, max), NULL);
}

/* The two ends of the arrow: caller and callee (ctl_tap.h). */
static void
ctl_tap_ends(const struct stats_span_rec *s, char *from, char *to, size_t size)
{
	const char *inst = s->instance[0] != '\0' ? s->instance : s->service;

	if (s->kind == STATS_SPAN_CLIENT) {
		snprintf(from, size, "%.*s", (int)sizeof(s->instance), inst);
		if (s->peer[0] == '\0')   /* no such service: what the app asked for */
			snprintf(to, size, "%.*s", (int)sizeof(s->authority),
			    s->authority[0] != '\0' ? s->authority : "?");
		else if (s->upstream[0] == '\0')   /* refused before an endpoint was picked */
			snprintf(to, size, "%.*s", (int)sizeof(s->peer), s->peer);
		else
			snprintf(to, size, "%.*s@%.*s", (int)sizeof(s->peer), s->peer,
			    (int)sizeof(s->upstream), s->upstream);
	} else {
		snprintf(from, size, "%.*s", (int)sizeof(s->peer), s->peer[0] != '\0' ? s->peer : "?");
		snprintf(to, size, "%.*s", (int)sizeof(s->instance), inst);
	}
}

static void
ctl_tap_latency(char *buf, size_t size, uint64_t us)
{
	if (us < 1000)
		snprintf(buf, size, "%" PRIu64 "us", us);
	else if (us < 1000000)
		snprintf(buf, size, "%.1fms", (double)us / 1e3);
	else
		snprintf(buf, size, "%.2fs", (double)us / 1e6);
}

static void
ctl_tap_line_text(struct ctl_tap_out *o, const struct stats_span_rec *s, const char *tid)
{
	char from[2 * STATS_NAME_LEN + 2], to[2 * STATS_NAME_LEN + 2], ends[sizeof(from) * 2 + 4];
	char when[32], lat[32], flags[32];
	time_t sec = (time_t)(s->start_ns / 1000000000u);
	struct tm tm;

	if (localtime_r(&sec, &tm) == NULL || strftime(when, sizeof(when), "%H:%M:%S", &tm) == 0)
		snprintf(when, sizeof(when), "??:??:??");
	ctl_tap_ends(s, from, to, sizeof(from));
	snprintf(ends, sizeof(ends), "%s -> %s", from, to);
	ctl_tap_latency(lat, sizeof(lat), s->duration_us);
	ctl_tap_put(o, "%s.%03u  %-3s  ", when, (unsigned)(s->start_ns / 1000000u % 1000u),
	    s->kind == STATS_SPAN_CLIENT ? "out" : "in");
	/* the names came from the records: printable only */
	ctl_tap_text(o, ends, sizeof(ends));
	ctl_tap_put(o, "%*s  ", strlen(ends) < 30 ? (int)(30 - strlen(ends)) : 0, "");
	ctl_tap_text(o, s->method, sizeof(s->method));
	ctl_tap_put(o, " ");
	ctl_tap_text(o, s->path, sizeof(s->path));
	if (s->status != 0)
		ctl_tap_put(o, "  %u", s->status);
	else
		ctl_tap_put(o, "  ---");
	if (s->flags & STATS_SF_GRPC)
		ctl_tap_put(o, "  grpc=%u", s->grpc_status);
	ctl_tap_put(o, "  %s  retries=%u  trace=%s", lat, s->retries, tid);
	otlp_json_flags(flags, sizeof(flags), s->flags);
	if (flags[0] != '\0')
		ctl_tap_put(o, "  flags=%s", flags);
}

static void
ctl_tap_line_json(struct ctl_tap_out *o, const struct stats_span_rec *s, const char *tid)
{
	char from[2 * STATS_NAME_LEN + 2], to[2 * STATS_NAME_LEN + 2], when[32], flags[32];
	time_t sec = (time_t)(s->start_ns / 1000000000u);
	struct tm tm;
	size_t i, k;

	if (gmtime_r(&sec, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(when, sizeof(when), "1970-01-01T00:00:00");
	ctl_tap_ends(s, from, to, sizeof(from));
	ctl_tap_put(o, "{\"time\":\"%s.%03uZ\",\"direction\":\"%s\"", when,
	    (unsigned)(s->start_ns / 1000000u % 1000u),
	    s->kind == STATS_SPAN_CLIENT ? "out" : "in");
	ctl_tap_jstr(o, "caller", from, sizeof(from));
	ctl_tap_jstr(o, "callee", to, sizeof(to));
	ctl_tap_jstr(o, "service", s->service, sizeof(s->service));
	ctl_tap_jstr(o, "instance", s->instance, sizeof(s->instance));
	ctl_tap_jstr(o, "version", s->version, sizeof(s->version));
	ctl_tap_jstr(o, "method", s->method, sizeof(s->method));
	ctl_tap_jstr(o, "authority", s->authority, sizeof(s->authority));
	ctl_tap_jstr(o, "path", s->path, sizeof(s->path));
	if (s->status != 0)
		ctl_tap_put(o, ",\"status\":%u", s->status);
	else
		ctl_tap_put(o, ",\"status\":null");
	ctl_tap_put(o, ",\"duration_ms\":%.3f,\"retries\":%u", (double)s->duration_us / 1e3,
	    s->retries);
	if (tid[0] == '-')
		ctl_tap_put(o, ",\"trace_id\":null");
	else
		ctl_tap_put(o, ",\"trace_id\":\"%s\"", tid);
	/* "UH,UF" -> ["UH","UF"] */
	otlp_json_flags(flags, sizeof(flags), s->flags);
	ctl_tap_put(o, ",\"flags\":[");
	for (i = 0; flags[i] != '\0'; i = k + (flags[k] == ',')) {
		for (k = i; flags[k] != '\0' && flags[k] != ','; k++)
			;
		ctl_tap_put(o, "%s\"%.*s\"", i == 0 ? "" : ",", (int)(k - i), flags + i);
	}
	if (s->flags & STATS_SF_GRPC)
		ctl_tap_put(o, "],\"grpc_status\":%u}", s->grpc_status);
	else
		ctl_tap_put(o, "],\"grpc_status\":null}");
}

size_t
ctl_tap_format(char *buf, size_t size, const struct stats_span_rec *s, int json)
{
	struct ctl_tap_out o = { buf, size, 0 };
	char tid[2 * 16 + 1];

	if (size == 0)
		return 0;
	buf[0] = '\0';
	if (trace_id_zero(s->trace_id, sizeof(s->trace_id)))
		snprintf(tid, sizeof(tid), "-");
	else
		trace_hex(tid, s->trace_id, sizeof(s->trace_id));
	if (json)
		ctl_tap_line_json(&o, s, tid);
	else
		ctl_tap_line_text(&o, s, tid);
	return o.len;
}
