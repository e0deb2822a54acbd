/* SPDX-License-Identifier: ISC */
/*
 * otlp: meshd's exporter of the sidecars' spans to an OpenTelemetry
 * collector, OTLP/HTTP with JSON bodies ([mesh] traces = http://...).
 *
 * The sidecars export nothing: each records its finished spans in the
 * ring of its stats file (stats.h).  Once a second meshd reads what each
 * instance's ring gained since the last look (one cursor per instance; a
 * sidecar restarted with another pid or start time starts its cursor
 * again), appends it to one bounded queue, and POSTs the queue to the
 * collector in batches of at most OTLP_BATCH_MAX spans, one request in
 * flight, each request one ExportTraceServiceRequest (otlp_json_encode).
 *
 * Nothing here blocks meshd's loop: the HTTP client is non-blocking
 * (connect and the whole exchange have timeouts, otlp_http.c), the only
 * blocking call is resolving a host name once at start (a numeric address
 * or "localhost" is not looked up).  Spans are dropped, and counted, when
 * the queue is full or a batch fails (collector down, timeout, a status
 * other than 2xx): no retry, so a dead collector costs one connect
 * attempt a second and a bounded amount of memory.  A restarted meshd
 * exports again what is still in the rings (a collector may see a span
 * twice; it never sees a made-up one).
 */
#ifndef MESH_OTLP_H
#define MESH_OTLP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <ev.h>

#include "mesh/otlp_json.h"
#include "mesh/stats.h"

#define OTLP_BATCH_MAX     512u     /* spans per POST */
#define OTLP_QUEUE_MAX     4096u    /* spans waiting to be sent */
#define OTLP_TICK_S        1.0      /* how often the rings are read */
#define OTLP_CONNECT_TIMEOUT_S 2.0
#define OTLP_REQUEST_TIMEOUT_S 10.0 /* connect to the end of the response head */

struct meshd;

/* The exporter's counts since meshd started (for /metrics). */
struct otlp_counters {
	uint64_t exported;   /* spans the collector accepted (2xx) */
	uint64_t dropped;    /* spans dropped: queue full or a failed batch */
	uint64_t lost;       /* spans overwritten in a ring before meshd read them */
	uint64_t batches;    /* POSTs answered 2xx */
	uint64_t failures;   /* POSTs failed (no connection, timeout, non-2xx) */
	uint64_t queued;     /* gauge: spans waiting now */
};

/*
 * Start exporting for m when m->cfg.mesh.traces is set (else 0 at once):
 * after the loop exists, before it runs.  -1 with a message in err when the
 * URL cannot be used (a host that does not resolve); meshd runs on without
 * the exporter then.
 */
int  otlp_start(struct meshd *m, char *err, size_t errlen);
/* Stop and free everything (spans still queued are not sent). */
void otlp_stop(void);
/* A copy of the counts; all zero while the exporter never started. */
void otlp_counters(struct otlp_counters *c);

/* --- the pieces otlp_start() joins, for tests ---------------------------- */

/* Open the exporter on loop for url (no timer, no stats files). 0 / -1. */
int    otlp_open(struct ev_loop *loop, const char *url, const char *mesh_name,
                 char *err, size_t errlen);
/* Queue n spans; the ones that do not fit are counted dropped.  Returns
 * how many were queued. */
size_t otlp_enqueue(const struct stats_span_rec *s, size_t n);
/* Read what the ring of instance `id` under state_dir gained since the
 * last call for that id, into the queue. */
void   otlp_collect(const char *state_dir, const char *id);
/* Send one batch now if the queue holds spans and nothing is in flight
 * (after a 2xx the next batch follows at once). */
void   otlp_flush(void);
/* 1 while a POST is in flight. */
int    otlp_busy(void);

/* --- the bounded queue (otlp_queue.c) ------------------------------------ */

struct otlp_queue {
	struct stats_span_rec *r;      /* private: ring of cap records */
	size_t                 cap;    /* ro */
	size_t                 head;   /* private: index of the oldest */
	size_t                 len;    /* ro: records queued */
};

int    otlp_queue_init(struct otlp_queue *q, size_t cap);
void   otlp_queue_free(struct otlp_queue *q);
/* Contiguous free room at the tail (0 when full); fill it, then commit. */
struct stats_span_rec *otlp_queue_room(struct otlp_queue *q, size_t *room);
void   otlp_queue_commit(struct otlp_queue *q, size_t n);
/* Copy in as many of s[0..n) as fit; returns that count. */
size_t otlp_queue_push(struct otlp_queue *q, const struct stats_span_rec *s, size_t n);
/* Pointers to the oldest min(max, len) records, in order; valid until the
 * next pop or push.  Returns the count. */
size_t otlp_queue_peek(const struct otlp_queue *q, const struct stats_span_rec **out,
                       size_t max);
void   otlp_queue_pop(struct otlp_queue *q, size_t n);

/* --- the HTTP/1.1 client (otlp_http.c) ----------------------------------- */

enum otlp_http_state {
	OTLP_HTTP_IDLE,        /* no connection */
	OTLP_HTTP_CONNECTING,  /* non-blocking connect in progress */
	OTLP_HTTP_WRITING,     /* request head and body being written */
	OTLP_HTTP_READING,     /* waiting for the response head, then its body */
	OTLP_HTTP_KEPT,        /* idle keep-alive connection, reusable */
	OTLP_HTTP_FAILING,     /* failed at once: done runs from the loop next */
};

struct otlp_http;
/* The end of a POST: status 100..599, or 0 with err saying why not. */
typedef void otlp_http_done_fn(struct otlp_http *h, int status, const char *err);

struct otlp_http {
	struct ev_loop        *loop;       /* ro */
	enum otlp_http_state   state;      /* ro */
	int                    fd;         /* private */
	ev_io                  io;         /* private */
	ev_timer               timer;      /* private: connect / request deadline */
	struct sockaddr_storage addr;      /* private: the collector */
	socklen_t              addr_len;
	char                   where[300]; /* ro: "host:port" for messages */
	char                   host[280];  /* private: Host header */
	char                   path[1024]; /* private: request target */
	char                   head[1600]; /* private: request head */
	size_t                 head_len;
	const char            *body;       /* private: caller's, until done */
	size_t                 body_len;
	size_t                 sent;       /* private: of head + body */
	char                   resp[8192]; /* private: response head */
	size_t                 resp_len;
	int                    status;     /* private */
	int64_t                left;       /* private: body bytes to discard, -1 until EOF */
	int                    keep;       /* private: connection reusable */
	char                   err[512];   /* private: why it failed */
	otlp_http_done_fn     *done;       /* private */
	void                  *arg;        /* rw: the caller's */
};

/*
 * Parse url (http://host[:port][/path], host a name, an IPv4 address or
 * [IPv6]; no path: /v1/traces) and resolve host.  0, or -1 with err.
 */
int  otlp_http_init(struct otlp_http *h, struct ev_loop *loop, const char *url,
                    char *err, size_t errlen);
/*
 * POST body[0..len) (kept by the caller until done runs) as
 * application/json.  done runs from the loop, never from inside this
 * call.  -1 when a POST is in flight already.
 */
int  otlp_http_post(struct otlp_http *h, const char *body, size_t len,
                    otlp_http_done_fn *done);
/* 1 while a POST is in flight (a new one would be refused). */
int  otlp_http_busy(const struct otlp_http *h);
/* Abort what is in flight (done does not run) and close. */
void otlp_http_close(struct otlp_http *h);

#endif
