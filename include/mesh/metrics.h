/* SPDX-License-Identifier: ISC */
/*
 * metrics: meshd's Prometheus endpoint (`metrics = HOST:PORT` in [mesh]).
 *
 * Three parts, one file each:
 *   metrics.c          render: plain values (struct metrics_inst, one per
 *                      instance, with its sidecar's stats view) -> text
 *                      exposition format 0.0.4.  Pure: no I/O but the FILE.
 *   metrics_collect.c  gather: meshd's state (svc.h, registry.h, mcert.h),
 *                      each sidecar's stats file (stats_view_read()) and
 *                      /proc/PID/statm into metrics_inst values, then render.
 *   metrics_http.c     serve: a tiny HTTP/1.1 server in meshd's libev loop.
 *
 * The families (labels: mesh, service, version, instance = the instance id
 * "api@v1.0", direction = inbound|outbound, peer = the other service or
 * "unknown", peer_version on outbound rows, code = 2xx..5xx,
 * grpc_status = a gRPC status code in decimal):
 *
 *   mesh_requests_total              counter  per peer row and code
 *   mesh_grpc_requests_total         counter  per peer row and grpc_status
 *                                    ("0".."16"), a series per status seen
 *   mesh_request_duration_seconds    histogram per peer row; le 0.0005 .. 60
 *                                    and +Inf (= _count = every observation)
 *   mesh_retries_total               counter  per peer row
 *   mesh_timeouts_total              counter  per peer row
 *   mesh_retry_budget_exhausted_total counter per instance
 *   mesh_refused_total               counter  per instance and reason
 *   mesh_breaker_state               gauge    per upstream endpoint
 *                                    (peer, peer_version, peer_instance):
 *                                    0 closed, 1 half-open, 2 open
 *   mesh_outlier_ejected             gauge    per upstream endpoint, 0/1
 *   mesh_outlier_ejections_total     counter  per upstream endpoint
 *   mesh_tcp_connections_open        gauge    per instance
 *   mesh_tcp_connections_total       counter  per instance
 *   mesh_tls_handshakes_total        counter  per instance, result=ok|failed
 *   mesh_bytes_total                 counter  per instance, dir=received|sent
 *   mesh_cert_expiry_timestamp_seconds gauge  per instance, identity=SPIFFE ID
 *   mesh_process_resident_bytes      gauge    process=app|sidecar per
 *                                    instance, process=meshd (mesh label only)
 *   mesh_instance_up                 gauge    per instance: its endpoint is up
 *   mesh_instance_restarts_total     counter  per instance, process=app|sidecar
 *
 * A family is printed (HELP and TYPE once) only when it has a series, so
 * the output of an empty mesh is short but always valid.  An instance
 * whose stats file is missing or unreadable has no stats series (its
 * meshd-side series remain).  Label values are escaped (\\ \" \n); any
 * other byte below 0x20, 0x7f and every non-ASCII byte become '?', so a
 * damaged stats file cannot make the output invalid UTF-8.
 */
#ifndef MESH_METRICS_H
#define MESH_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "mesh/stats.h"

struct ev_loop;
struct meshd;

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* --- render (metrics.c) ------------------------------------------------- */

/* One instance, as metrics_write() sees it.  Strings are NUL-terminated;
 * rss values in bytes, 0 = no such process (no series). */
struct metrics_inst {
	const char              *service;
	const char              *version;
	const char              *id;            /* "api@v1.0" */
	int                      up;            /* registry endpoint state */
	unsigned                 app_restarts;
	unsigned                 sidecar_restarts;
	int                      has_app;       /* the service has `command` */
	uint64_t                 app_rss;
	uint64_t                 sidecar_rss;
	const char              *identity;      /* SPIFFE ID; NULL: no leaf yet */
	int64_t                  cert_not_after;/* unix seconds, with identity */
	const struct stats_view *stats;         /* NULL: no stats file */
};

/* The `le` bounds of mesh_request_duration_seconds, in microseconds
 * (+Inf follows them). */
#define METRICS_LE_COUNT 16
extern const uint64_t metrics_le_us[METRICS_LE_COUNT];

/*
 * Every family above for mesh `mesh` with instances in[0..n), then the
 * registered extras (metrics_extra_add).  meshd_rss 0: no meshd series.
 * Returns 0, or -1 when f reported a write error.
 */
int  metrics_write(FILE *f, const char *mesh, const struct metrics_inst *in, size_t n,
                   uint64_t meshd_rss);

/* Helpers for metrics_write() and for extras, so every writer gets the
 * format right.  metrics_family: "# HELP name help\n# TYPE name type\n"
 * (type: counter, gauge, histogram).  metrics_label: `name="value"` with
 * the value escaped, preceded by ',' unless first. */
void metrics_family(FILE *f, const char *name, const char *type, const char *help);
void metrics_label(FILE *f, int first, const char *name, const char *value);
/* A label value of at most max bytes (a stats record's NUL-padded field
 * may fill it without a NUL), escaped as the header above says. */
void metrics_escape(FILE *f, const char *value, size_t max);

/*
 * Extras: meshd-level numbers that other modules own (e.g. the OTLP
 * exporter's spans exported/dropped).  fn writes whole families (use
 * metrics_family + metrics_label), labelled at least mesh="<mesh>";
 * it runs on meshd's loop for every scrape, so it must not block.  At most
 * METRICS_EXTRA_MAX; 0, or -1 when full.  Removing an unknown (fn, arg)
 * is a no-op.  Names must not clash with the families above.
 */
#define METRICS_EXTRA_MAX 8
typedef void (*metrics_extra_fn)(FILE *f, const char *mesh, void *arg);
int  metrics_extra_add(metrics_extra_fn fn, void *arg);
void metrics_extra_remove(metrics_extra_fn fn, void *arg);

/* --- gather (metrics_collect.c) --------------------------------------- */

/* Resident set of pid from /proc/PID/statm (pages x page size); 0 when
 * unreadable or pid <= 0. */
uint64_t metrics_rss(pid_t pid);

/* A metrics_render_fn: the whole /metrics body for meshd (a struct
 * meshd *), reading every sidecar's stats file now.  0, or -1 (a write
 * error, out of memory). */
int  metrics_render_meshd(FILE *f, void *meshd);

/* --- serve (metrics_http.c) -------------------------------------------- */

#define METRICS_CLIENTS_MAX   16      /* concurrent clients; more wait in the backlog */
#define METRICS_HEAD_MAX      8192    /* request head bytes; more: 431 */
#define METRICS_READ_TIMEOUT  10.0    /* s to send the whole request head */
#define METRICS_WRITE_TIMEOUT 30.0    /* s to take the whole response */
#define METRICS_BODY_MAX      (64u << 20)  /* a body past this is a 500 */

/*
 * The render callback: write the body to f; 0, or -1 (the client gets a
 * 500).  Called once per GET or HEAD /metrics.
 */
typedef int (*metrics_render_fn)(FILE *f, void *arg);

struct metrics_srv;

/*
 * Bind and listen on addr ("HOST:PORT"; HOST an IPv4 address, [IPv6] or
 * localhost = 127.0.0.1), close-on-exec, no watcher yet: meshd binds
 * before it assigns automatic ports, so those skip the metrics port.
 * NULL with the reason in err ("127.0.0.1:9901: Address already in use").
 */
struct metrics_srv *metrics_srv_open(const char *addr, char *err, size_t errlen);
/* Serve on loop: GET and HEAD /metrics (200, the render's body,
 * Content-Type METRICS_CONTENT_TYPE), another path 404, another method
 * 405, a bad head 400/431/..., each answered with Connection: close.
 * Nothing blocks: requests are read and responses written without
 * blocking, a client past its timeout is dropped. */
void metrics_srv_start(struct metrics_srv *s, struct ev_loop *loop,
                       metrics_render_fn render, void *arg);
/* The bound port (tests bind port 0). */
unsigned metrics_srv_port(const struct metrics_srv *s);
/* Close the listener and every client; NULL is a no-op. */
void metrics_srv_close(struct metrics_srv *s);

#endif
