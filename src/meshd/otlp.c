/* SPDX-License-Identifier: ISC */
/*
 * otlp: meshd's span exporter (otlp.h): once a second, every instance's
 * span ring into one bounded queue, the queue to the collector in
 * batches, one POST in flight.
 *
 * One exporter per meshd, so its state is this file's (like stats.c's
 * writer).  A batch is encoded and taken off the queue when it is sent:
 * its spans are counted exported on a 2xx, dropped otherwise; they are
 * never sent twice.  A failing collector is logged when it starts
 * failing and when it is back, not once a second.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/log.h"
#include "mesh/meshd_ctx.h"
#include "mesh/metrics.h"
#include "mesh/otlp.h"

/* Where the exporter is in one instance's ring. */
struct otlp_src {
	char     id[REG_ID_MAX];
	uint64_t pid, start_time_ns;   /* the sidecar the cursor belongs to */
	uint64_t cursor;
};

static struct otlp {
	int                    open;
	struct meshd          *m;           /* NULL under tests */
	struct ev_loop        *loop;
	ev_timer               tick;
	struct otlp_queue      q;
	struct otlp_http       http;
	struct otlp_buf        json;
	const struct stats_span_rec *batch[OTLP_BATCH_MAX];
	struct stats_span_rec  scratch[32]; /* reads that the full queue drops */
	size_t                 inflight;    /* spans of the POST in flight */
	int                    failing;     /* the last batch failed */
	char                   mesh_name[CONF_NAME_MAX];
	struct otlp_src       *src;
	size_t                 nsrc, srccap;
	struct otlp_counters   c;
} O;

static void otlp_send(void);

static void
otlp_done(struct otlp_http *h, int status, const char *err)
{
	size_t n = O.inflight;

	(void)h;
	O.inflight = 0;
	if (status >= 200 && status < 300) {
		O.c.exported += n;
		O.c.batches++;
		if (O.failing)
			log_info("traces: collector %s accepts spans again", O.http.where);
		O.failing = 0;
		otlp_send();    /* what queued meanwhile, at once */
		return;
	}
	O.c.dropped += n;
	O.c.failures++;
	if (!O.failing) {
		if (status != 0)
			log_warnx("traces: collector %s%s answered %d; dropping spans until "
			    "it accepts them", O.http.where, O.http.path, status);
		else
			log_warnx("traces: %s; dropping spans until the collector accepts them",
			    err != NULL ? err : "collector unreachable");
	}
	O.failing = 1;
}

/* Encode the oldest batch, take it off the queue, POST it. */
static void
otlp_send(void)
{
	size_t n;

	if (!O.open || O.q.len == 0 || otlp_http_busy(&O.http))
		return;
	n = otlp_queue_peek(&O.q, O.batch, OTLP_BATCH_MAX);
	if (otlp_json_encode(&O.json, O.batch, n, O.mesh_name[0] != '\0' ?
	    O.mesh_name : NULL) == -1) {
		log_warnx("traces: out of memory encoding %zu spans; dropped", n);
		otlp_queue_pop(&O.q, n);
		O.c.dropped += n;
		return;
	}
	otlp_queue_pop(&O.q, n);
	O.inflight = n;
	if (otlp_http_post(&O.http, O.json.p, O.json.len, otlp_done) == -1) {
		/* cannot happen: checked idle above; never lose count */
		O.c.dropped += n;
		O.inflight = 0;
	}
}

void
otlp_flush(void)
{
	otlp_send();
}

int
otlp_busy(void)
{
	return O.open && otlp_http_busy(&O.http);
}

size_t
otlp_enqueue(const struct stats_span_rec *s, size_t n)
{
	size_t k;

	if (!O.open)
		return 0;
	k = otlp_queue_push(&O.q, s, n);
	O.c.dropped += n - k;
	return k;
}

static struct otlp_src *
otlp_src_find(const char *id)
{
	struct otlp_src *s;
	size_t i;

	for (i = 0; i < O.nsrc; i++)
		if (strcmp(O.src[i].id, id) == 0)
			return &O.src[i];
	if (O.nsrc == O.srccap) {
		size_t cap = O.srccap != 0 ? 2 * O.srccap : 16;

		if ((s = realloc(O.src, cap * sizeof(*s))) == NULL)
			return NULL;
		O.src = s;
		O.srccap = cap;
	}
	s = &O.src[O.nsrc++];
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id);
	return s;
}

void
otlp_collect(const char *state_dir, const char *id)
{
	struct stats_snapshot snap;
	struct stats_span_rec *dst;
	struct otlp_src *src;
	char path[4096];
	size_t room, keep;
	long got;
	int guard;

	if (!O.open || (src = otlp_src_find(id)) == NULL ||
	    stats_path(path, sizeof(path), state_dir, id) == -1 ||
	    stats_read(path, &snap) != STATS_OK)
		return;     /* no file (yet): nothing recorded */
	if (snap.pid != src->pid || snap.start_time_ns != src->start_time_ns) {
		/* a new sidecar, a new ring: read it from its start */
		src->pid = snap.pid;
		src->start_time_ns = snap.start_time_ns;
		src->cursor = 0;
	}
	/* bounded: the ring holds STATS_SPANS_MAX, read in pieces */
	for (guard = 0; guard < 2 * (int)STATS_SPANS_MAX; guard++) {
		if ((dst = otlp_queue_room(&O.q, &room)) == NULL) {
			dst = O.scratch;
			room = sizeof(O.scratch) / sizeof(O.scratch[0]);
		}
		got = stats_spans_read(path, &src->cursor, dst, room, &O.c.lost, 0);
		if (got <= 0)
			break;
		/* records a tap left in the ring are no traces (stats.h) */
		keep = stats_spans_traced(dst, (size_t)got);
		if (dst == O.scratch)
			O.c.dropped += (uint64_t)keep;
		else
			otlp_queue_commit(&O.q, keep);
		if ((size_t)got < room)
			break;
	}
}

static void
otlp_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct meshd *m = O.m;
	size_t i;

	(void)loop;
	(void)w;
	(void)revents;
	if (m == NULL)
		return;
	for (i = 0; i < m->reg.ninst; i++)
		otlp_collect(m->cfg.mesh.state_dir, m->reg.inst[i].id);
	otlp_send();
}

int
otlp_open(struct ev_loop *loop, const char *url, const char *mesh_name,
    char *err, size_t errlen)
{
	otlp_stop();
	memset(&O, 0, sizeof(O));
	if (otlp_http_init(&O.http, loop, url, err, errlen) == -1)
		return -1;
	if (otlp_queue_init(&O.q, OTLP_QUEUE_MAX) == -1) {
		snprintf(err, errlen, "out of memory for the span queue");
		return -1;
	}
	O.loop = loop;
	if (mesh_name != NULL)
		snprintf(O.mesh_name, sizeof(O.mesh_name), "%s", mesh_name);
	O.open = 1;
	return 0;
}

/* The exporter's numbers on /metrics (metrics.h extras). */
static void
otlp_metrics(FILE *f, const char *mesh, void *arg)
{
	static const struct {
		const char *name, *type, *help;
		size_t      off;
	} fam[] = {
		{ "mesh_trace_spans_exported_total", "counter",
		  "Spans the OTLP collector accepted.", offsetof(struct otlp_counters, exported) },
		{ "mesh_trace_spans_dropped_total", "counter",
		  "Spans dropped: export queue full or a batch failed.",
		  offsetof(struct otlp_counters, dropped) },
		{ "mesh_trace_spans_lost_total", "counter",
		  "Spans overwritten in a sidecar's ring before meshd read them.",
		  offsetof(struct otlp_counters, lost) },
		{ "mesh_trace_export_failures_total", "counter",
		  "Export requests that failed (no connection, timeout, non-2xx).",
		  offsetof(struct otlp_counters, failures) },
		{ "mesh_trace_export_queue_spans", "gauge",
		  "Spans waiting to be exported.", offsetof(struct otlp_counters, queued) },
	};
	struct otlp_counters c;
	size_t i;

	(void)arg;
	otlp_counters(&c);
	for (i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		uint64_t v;

		memcpy(&v, (const char *)&c + fam[i].off, sizeof(v));
		metrics_family(f, fam[i].name, fam[i].type, fam[i].help);
		fputs(fam[i].name, f);
		fputc('{', f);
		metrics_label(f, 1, "mesh", mesh);
		fprintf(f, "} %llu\n", (unsigned long long)v);
	}
}

int
otlp_start(struct meshd *m, char *err, size_t errlen)
{
	if (m->cfg.mesh.traces == NULL)
		return 0;
	if (otlp_open(m->loop, m->cfg.mesh.traces, m->cfg.mesh.name, err, errlen) == -1)
		return -1;
	O.m = m;
	ev_timer_init(&O.tick, otlp_tick_cb, OTLP_TICK_S, OTLP_TICK_S);
	ev_timer_start(m->loop, &O.tick);
	(void)metrics_extra_add(otlp_metrics, NULL);
	log_info("traces: exporting spans to %s%s (OTLP/HTTP JSON)", O.http.where, O.http.path);
	return 0;
}

void
otlp_stop(void)
{
	if (!O.open)
		return;
	metrics_extra_remove(otlp_metrics, NULL);
	if (O.m != NULL)
		ev_timer_stop(O.loop, &O.tick);
	otlp_http_close(&O.http);
	otlp_queue_free(&O.q);
	otlp_buf_free(&O.json);
	free(O.src);
	O.src = NULL;
	O.nsrc = O.srccap = 0;
	O.open = 0;
	O.m = NULL;
}

void
otlp_counters(struct otlp_counters *c)
{
	*c = O.c;
	c->queued = O.open ? O.q.len : 0;
}
