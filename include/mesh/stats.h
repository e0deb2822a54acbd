/*
 * stats: a sidecar's counters in a memory-mapped file, read by meshd
 * and meshctl without asking the sidecar anything (DESIGN.md, "Stats
 * without control traffic").
 *
 * Where.  Under meshd the file is <state_dir>/run/stats/<instance-id>.stats:
 * mesh-proxy derives it from the directory of its --control socket
 * (<state_dir>/run/meshd.sock), so no new pcfg line is needed and meshd
 * finds the file from the instance id alone (stats_path()).  With
 * `-c FILE` there is no file unless `--stats PATH` is given.
 *
 * File layout, version 1 (every field little-endian as the host, every
 * u64 naturally aligned; byte offsets):
 *
 *    0  char[8]  magic          "MESHSTAT" (no NUL)
 *    8  u32      version        STATS_VERSION
 *   12  u32      size           bytes of header + counters in use (<= file size)
 *   16  u64      pid            the writing sidecar
 *   24  u64      start_time_ns  CLOCK_REALTIME when the file was created
 *   32  u32      ncounters      u64 counters following the header
 *   36  u32      header_size    offset of counter 0 (STATS_HDR_SIZE = 64)
 *   40  u64[3]   reserved       0
 *   64  u64      counters[ncounters], in enum stat_id order
 *
 * Growth.  New counters are only ever appended to enum stat_id: the
 * writer's ncounters grows, `size` grows, the version does not change,
 * and an older reader keeps reading the prefix it knows (a newer reader
 * sees the ones missing from an older file as 0).  Per-peer counters and
 * histograms (the observability issue) go in sections after the flat
 * counters, located through the reserved header words (0 = absent).  The
 * version is bumped only when an existing field moves or changes meaning;
 * a reader refuses any version but its own.
 *
 * Consistency.  Only the owning sidecar writes, from its one thread, with
 * relaxed __atomic_store_n on naturally aligned u64s; readers use
 * __atomic_load_n, so a value is never torn (counters are not a
 * consistent snapshot of each other, and need not be).  The file is
 * built under a temporary name and renamed into place with its header
 * complete, so a reader never sees a half-written header.  A restarted
 * sidecar replaces the file (counters restart at 0; pid and
 * start_time_ns say so).  The file is left behind at exit so the last
 * values of a stopped sidecar stay readable.
 */
#ifndef MESH_STATS_H
#define MESH_STATS_H

#include <stddef.h>
#include <stdint.h>

#define STATS_MAGIC     "MESHSTAT"
#define STATS_MAGIC_LEN 8
#define STATS_VERSION   1u
#define STATS_HDR_SIZE  64u
#define STATS_MAX_COUNTERS 4096u  /* a reader's bound on ncounters */

/*
 * The counters.  "in" is the inbound side (requests from other sidecars
 * to this instance's app), "out" is the outbound side (requests from this
 * instance's app, through `listen` ports or the HTTP proxy port).
 * Append only; never reorder (the order is the file layout).
 */
enum stat_id {
	STAT_CONNECTIONS_TOTAL,  /* connections accepted, all listeners */
	STAT_CONNECTIONS_OPEN,   /* gauge: connections open now */
	STAT_REQUESTS_IN,        /* HTTP request heads read on inbound listeners */
	STAT_REQUESTS_OUT,       /* HTTP request heads read from the app */
	STAT_RESP_IN_2XX,        /* final responses sent to inbound callers, by class */
	STAT_RESP_IN_3XX,        /*   (mesh-generated ones included) */
	STAT_RESP_IN_4XX,
	STAT_RESP_IN_5XX,
	STAT_RESP_OUT_2XX,       /* final responses sent to the app, by class */
	STAT_RESP_OUT_3XX,
	STAT_RESP_OUT_4XX,
	STAT_RESP_OUT_5XX,
	/* Mesh-generated error responses (stats_refusal maps the status),
	 * and refused tcp connections, by reason class: */
	STAT_REFUSED_BAD_REQUEST,    /* 400, 413, 414, 431, 501 and other 4xx/5xx */
	STAT_REFUSED_NO_ROUTE,       /* 404: no such service / route */
	STAT_REFUSED_NO_UPSTREAM,    /* 503: no healthy endpoint, no app */
	STAT_REFUSED_UPSTREAM_ERROR, /* 502: connect failed, reset, bad response */
	STAT_REFUSED_TIMEOUT,        /* 408 header timeout, 504 upstream timeout */
	STAT_REFUSED_NOT_ALLOWED,    /* 403: caller identity not in `allow` */
	STAT_TLS_HANDSHAKES_OK,    /* mTLS handshakes completed, both directions */
	STAT_TLS_HANDSHAKES_FAILED,/* failed, incl. peer certificate refused */
	STAT_BYTES_IN,             /* bytes read from any socket */
	STAT_BYTES_OUT,            /* bytes written to any socket */
	STAT_EJECTIONS,            /* outlier ejections of upstream endpoints (outlier.h) */
	STAT_EJECTED,              /* gauge: upstream endpoints ejected now */
	/* traffic policy (retry.h, budget.h, breaker.h) */
	STAT_RETRIES,              /* retries sent (attempts after the first) */
	STAT_RETRIES_BUDGET_EXHAUSTED, /* retries the policy allowed but the budget refused */
	STAT_TIMEOUTS,             /* requests past the route's `timeout` (504 or close) */
	STAT_BREAKER_OPENED,       /* closed/half-open -> open transitions */
	STAT_BREAKERS_OPEN,        /* gauge: endpoint breakers open or half-open now */
	STAT_OVERLOADED,           /* 503 overloaded: max_pending of a service reached */
	STAT__COUNT
};

/* JSON/metric name of a counter: "requests_in", "responses_in.2xx",
 * "refused.not_allowed"... (a dot separates a group from its member; a
 * counter appended later may join an existing group: status --json
 * gathers a group's members wherever they are in the enum). */
const char *stats_name(enum stat_id id);

/* --- writer (mesh-proxy) --------------------------------------------- */

/*
 * Create the file at path (replacing an old one), map it and start
 * counting.  0, or -1 with a logged message naming the path (the sidecar
 * runs on without stats).  A second call closes the first file.
 */
int  stats_open(const char *path);
/*
 * The sidecar's rule: explicit (--stats) if given, else
 * <dir of control_sock>/stats/<id>.stats when under meshd (the stats
 * directory is created 0750), else nothing.  0 or -1 as stats_open.
 */
int  stats_open_sidecar(const char *control_sock, const char *id, const char *explicit_path);
/* Unmap (the file stays). */
void stats_close(void);
/* Each is a no-op while no file is open. */
void stats_inc(enum stat_id id);
void stats_add(enum stat_id id, uint64_t n);
void stats_gauge_add(enum stat_id id, uint64_t n);
void stats_gauge_sub(enum stat_id id, uint64_t n);  /* floors at 0 */
/* Count a final response status sent downstream: inbound (1) or not. */
void stats_response(int inbound, int status);
/* Count a mesh-generated refusal by its HTTP status (400..504). */
void stats_refusal(int status);

/* --- reader (meshd, meshctl) ------------------------------------------ */

struct stats_snapshot {
	uint32_t version;
	uint32_t ncounters;               /* as the file says */
	uint64_t pid;
	uint64_t start_time_ns;
	uint64_t v[STAT__COUNT];          /* ones the file lacks are 0 */
};

enum stats_err {
	STATS_OK          =  0,
	STATS_ERR_OPEN    = -1,  /* open/fstat/mmap failed: errno says why */
	STATS_ERR_SHORT   = -2,  /* file smaller than its header or its `size` */
	STATS_ERR_MAGIC   = -3,
	STATS_ERR_VERSION = -4,
	STATS_ERR_LAYOUT  = -5,  /* header_size / ncounters / size inconsistent */
};

/* <state_dir>/run/stats/<id>.stats into buf; -1 if it does not fit. */
int         stats_path(char *buf, size_t size, const char *state_dir, const char *id);
/* Read and validate a stats file; STATS_OK or an enum stats_err. */
int         stats_read(const char *path, struct stats_snapshot *snap);
const char *stats_strerror(int err);

#endif
