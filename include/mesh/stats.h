/* SPDX-License-Identifier: ISC */
/*
 * stats: a sidecar's counters in a memory-mapped file, read by meshd
 * and meshctl without asking the sidecar anything (docs/architecture.md, "Stats
 * without control traffic").
 *
 * Where.  Under meshd the file is <state_dir>/run/stats/<instance-id>.stats:
 * mesh-proxy derives it from the directory of its --control socket
 * (<state_dir>/run/meshd.sock), so no new pcfg line is needed and meshd
 * finds the file from the instance id alone (stats_path()).  With
 * `-c FILE` there is no file unless `--stats PATH` is given.
 *
 * File layout, version 4 (host byte order, every u64 naturally aligned;
 * byte offsets).  The header:
 *
 *    0  char[8]  magic          "MESHSTAT" (no NUL)
 *    8  u32      version        STATS_VERSION
 *   12  u32      size           bytes in use (<= file size)
 *   16  u64      pid            the writing sidecar
 *   24  u64      start_time_ns  CLOCK_REALTIME when the file was created
 *   32  u32      ncounters      u64 counters at header_size
 *   36  u32      header_size    offset of counter 0 (STATS_HDR_SIZE)
 *   40  u32[2]   peers          offset, capacity of the peer table
 *   48  u32[2]   endpoints      offset, capacity of the endpoint table
 *   56  u32[2]   spans          offset, capacity of the span ring
 *   64  u32[2]   rate           offset, slots of the per-second ring
 *   72  ...      reserved (0) up to STATS_HDR_SIZE
 *
 * then the flat counters (enum stat_id order), then each section at its
 * offset (0 = absent), each record a fixed size given by this header
 * (struct stats_*_rec below are the records, byte for byte).
 *
 * Sections.
 *  - peers: one row per (direction, peer service, peer version) seen,
 *    added on first use and never removed while the sidecar lives:
 *    requests, responses by status class, retries, timeouts, a
 *    log-linear latency histogram (stats_hist_*) of the time from the
 *    request head to the end of the response, and (v3) the gRPC calls
 *    among them by grpc-status.  Inbound rows name the
 *    calling service (from its SPIFFE identity; "" when plain/unknown)
 *    and have no version; outbound rows name the upstream service and
 *    the version the split picked.
 *  - endpoints: one row per upstream endpoint this sidecar balances over
 *    (service, version, index, address, port; the address and the host
 *    name since v4): breaker state, ejected, peak-EWMA latency,
 *    outstanding, counts.  With a registry (issue 16) another host's
 *    instance of the same service, version and index (and, the same
 *    mesh.ini on every host, port) is a row of its own: its address
 *    differs, and its row names its host.  A row whose endpoint left the
 *    config is freed (state STATS_EP_FREE) and may be reused.
 *  - spans: a ring of the last spans this sidecar recorded (tracing);
 *    `spans_written` in the ring header counts every span ever written,
 *    so a reader that remembers it knows what it missed.  Each record
 *    carries a sequence word (odd while being written: a seqlock), so a
 *    reader copies a record and keeps it only if the word was even and
 *    unchanged.  A second small table keeps the slowest spans.
 *    The section, at its offset:
 *       0  u64   spans_written     span n (from 0) is in ring slot
 *                                  n % capacity, its seq 2n+2 once written
 *       8  u32   slow capacity     records of the slowest-spans table
 *      12  u32   slow window (s)   STATS_SLOW_WINDOW_S
 *      16  char[STATS_NAME_LEN] x3 service, version, instance of the
 *                                  writer (stats_identity(); "" unknown)
 *     160  ...   reserved (0) up to STATS_SPANS_HDR
 *     STATS_SPANS_HDR: the ring, `capacity` records, then the slowest-
 *        spans table, `slow capacity` records (seq 0: an empty slot).
 *    The slowest-spans rule: a finished span takes an empty slot, else
 *    the slot of a span that started more than STATS_SLOW_WINDOW_S ago,
 *    else the fastest slot if it is faster than the new span; readers
 *    drop records older than the window.  So the table holds (nearly)
 *    the STATS_SLOW_MAX slowest spans of the last minute: a slow span
 *    pushed out by slower ones does not come back when they age out.
 *  - rate: STATS_RATE_SLOTS one-second slots {second, requests, errors}
 *    of inbound requests (outbound for a sidecar with no inbound), for
 *    "requests per second over the last 10 s" without a sampler.  The
 *    slot of second s is s % slots.  Exactly: every stats_peer_done() on
 *    an inbound row counts; one on an outbound row counts only while the
 *    sidecar has not yet finished any inbound request (so a gateway's
 *    ring shows what it sends, a called service's what it serves; a
 *    service that is both switches to inbound at its first inbound
 *    request).  A NULL row (peer table full) is not counted.  The writer
 *    zeroes `second` before resetting a reused slot and stores it last
 *    (release); a reader keeps a slot only if `second` read the same
 *    before and after its counts.
 *
 * Versions.  A change of a record's size or meaning bumps STATS_VERSION;
 * the header and the sections' places stay, and records only ever grow
 * at their end, so a reader takes the older versions it knows with their
 * smaller records, the missing tail read as 0.  Version 3 added the gRPC
 * counts at the end of a peer row (grpc[]) and the gRPC status at the end
 * of a span record (grpc_status, valid with STATS_SF_GRPC); a version 2
 * file reads as one that saw no gRPC call.  Version 4 added the address
 * and the host name at the end of an endpoint row (addr, host); a version
 * 2 or 3 file's rows read as address 0 (127.0.0.1) and host "" (this
 * host), which is what a single-host sidecar writes.
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
#define STATS_VERSION   4u
#define STATS_VERSION_MIN 2u  /* the oldest a reader still reads */
#define STATS_HDR_SIZE  128u
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
	STAT_OVERLOADED,           /* 503 overloaded: max_pending of a service reached, no
	                            * connection free within the connect timeout, or no
	                            * descriptor for one (upstream.h, fwd_route.c) */
	STAT_REQUESTS_IN_FLIGHT,   /* gauge: inbound HTTP requests being answered now
	                            * (obs.h: obs_begin to obs_end); meshd waits for
	                            * 0 when it drains the instance (drain.h) */
	/* fault injection (fault.h): requests of this sidecar's app it
	 * answered with an injected status / held for an injected delay */
	STAT_FAULTS_ABORT,
	STAT_FAULTS_DELAY,
	/* mirroring (mirror.h): copies sent to a route's mirror, their final
	 * responses by class, failed ones (connect, reset, bad response,
	 * timeout), those drawn but not sent, and the sum of the response
	 * heads' latency in microseconds (the copy's start to its head) */
	STAT_MIRROR_REQUESTS,
	STAT_MIRROR_RESP_2XX,
	STAT_MIRROR_RESP_3XX,
	STAT_MIRROR_RESP_4XX,
	STAT_MIRROR_RESP_5XX,
	STAT_MIRROR_ERRORS,
	STAT_MIRROR_SKIPPED,
	STAT_MIRROR_DURATION_US,
	/* HTTP/2 (h2.h): sessions started (either leg), streams served to
	 * callers, sessions ended for a flood (resets, SETTINGS, PINGs) */
	STAT_H2_SESSIONS,
	STAT_H2_STREAMS,
	STAT_H2_FLOODS,
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
	STATS_ERR_TYPE    = -6,  /* not a regular file (a FIFO would block the reader) */
	STATS_ERR_OWNER   = -7,  /* owned by neither the reader's uid nor root (a root
	                            reader takes any owner's) */
};

/* <state_dir>/run/stats/<id>.stats into buf; -1 if it does not fit. */
int         stats_path(char *buf, size_t size, const char *state_dir, const char *id);
/* Read and validate a stats file; STATS_OK or an enum stats_err. */
int         stats_read(const char *path, struct stats_snapshot *snap);
const char *stats_strerror(int err);


/* --- latency histograms (log-linear, microseconds) ---------------------
 *
 * Bucket 0 holds 0 us; then every power-of-two range [2^k, 2^(k+1)) us is
 * cut into STATS_HIST_SUB equal sub-buckets (k = 0 .. STATS_HIST_OCTAVES-1;
 * below 32 us some are narrower than 1 us and stay empty), so the middle of a bucket is within
 * 1/(2*STATS_HIST_SUB) ~ 1.6% of any value in it; values from 1 us to
 * 2^26 us (67 s) are kept; larger ones land in the last bucket.
 */
#define STATS_HIST_SUB      32u
#define STATS_HIST_OCTAVES  27u
#define STATS_HIST_BUCKETS  (1u + STATS_HIST_OCTAVES * STATS_HIST_SUB)

unsigned stats_hist_bucket(uint64_t us);
uint64_t stats_hist_lo(unsigned bucket);   /* smallest value in it */
uint64_t stats_hist_hi(unsigned bucket);   /* first value past it */
/* The q-quantile (0 < q <= 1) of counts[STATS_HIST_BUCKETS] in us (the
 * middle of its bucket), 0 when empty. */
uint64_t stats_hist_quantile(const uint64_t *counts, double q);
/* Observations <= us (bucket edges exact; a bucket straddling us counts
 * as above it): for Prometheus `le` buckets. */
uint64_t stats_hist_le(const uint64_t *counts, uint64_t us);

/* --- sections: records -------------------------------------------------- */

#define STATS_NAME_LEN   48u   /* service, version, instance: NUL-padded */
#define STATS_GRPC_CODES 17u   /* gRPC status codes 0 OK .. 16 UNAUTHENTICATED */
#define STATS_PEERS_MAX  64u
#define STATS_EPS_MAX    128u
#define STATS_SPANS_MAX  256u
#define STATS_SLOW_MAX   16u
#define STATS_RATE_SLOTS 16u
#define STATS_SPANS_HDR  192u  /* the span section's header (see above) */
#define STATS_SLOW_WINDOW_S 60u

/* STATS_MIRROR rows are the copies a sidecar sent to a route's mirror
 * (src/proxy/mirror.c): service and version of the mirror target, the
 * copy's status and latency; status 0 when no response came (a failed
 * or timed-out copy).  They never feed the rate ring, and readers that
 * sum a sidecar's traffic (status, top) leave them out. */
enum stats_dir { STATS_OUT = 0, STATS_IN = 1, STATS_MIRROR = 2 };

/* "outbound", "inbound", "mirror" ("outbound" for an unknown value):
 * the direction label of metrics and status --json. */
const char *stats_dir_name(uint32_t dir);

struct stats_peer_rec {
	uint32_t used;                      /* 1 once the row is filled */
	uint32_t dir;                       /* enum stats_dir */
	char     service[STATS_NAME_LEN];   /* peer service ("" unknown caller) */
	char     version[STATS_NAME_LEN];   /* outbound: version picked; inbound: "" */
	uint64_t requests;
	uint64_t responses[4];              /* 2xx 3xx 4xx 5xx */
	uint64_t retries;
	uint64_t timeouts;
	uint64_t duration_sum_us;
	uint64_t hist[STATS_HIST_BUCKETS];
	/* v3: gRPC calls that ended with grpc-status i (obs_grpc(); a code
	 * past 16 counts as 2 UNKNOWN).  Their sum is the row's gRPC calls,
	 * a subset of `requests`; 0 everywhere for a row with none. */
	uint64_t grpc[STATS_GRPC_CODES];
};

#define STATS_EP_LOOPBACK 0x7f000001u   /* 127.0.0.1, host order */

enum stats_ep_state {
	STATS_EP_FREE = 0, STATS_EP_CLOSED, STATS_EP_OPEN, STATS_EP_HALF_OPEN
};

struct stats_ep_rec {
	uint32_t state;                     /* enum stats_ep_state (breaker) */
	uint32_t ejected;                   /* 1 while outlier-ejected */
	char     service[STATS_NAME_LEN];
	char     version[STATS_NAME_LEN];
	uint32_t index;                     /* instance index */
	uint32_t port;                      /* its sidecar inbound port */
	uint64_t ewma_us;                   /* peak-EWMA latency, 0 unseen */
	uint64_t outstanding;
	uint64_t requests;                  /* exchanges finished on it */
	uint64_t failures;                  /* of them failed (BALANCE_FAIL) */
	uint64_t ejections;                 /* times ejected */
	uint64_t breaker_opened;            /* times its breaker opened */
	/* v4: where the endpoint is (pcfg.h, struct pcfg_endpoint): IPv4,
	 * host byte order, 0 = 127.0.0.1 as in the pcfg (the writer stores
	 * STATS_EP_LOOPBACK for 0, an older file's rows read as 0); the host
	 * it runs on, "" = this host (no registry, or no host= given).
	 * Rows are keyed on (service, version, index, addr, port). */
	uint32_t addr;
	uint32_t reserved;                  /* 0 */
	char     host[STATS_NAME_LEN];
};

enum stats_span_kind { STATS_SPAN_CLIENT = 1, STATS_SPAN_SERVER = 2 };

/* Span flags (Envoy-like response flags as bits) */
#define STATS_SF_UH 0x01u   /* no healthy upstream */
#define STATS_SF_UF 0x02u   /* upstream connect failure */
#define STATS_SF_UO 0x04u   /* overflow: breaker max_pending */
#define STATS_SF_UT 0x08u   /* upstream timeout */
#define STATS_SF_NR 0x10u   /* no route */
#define STATS_SF_UR 0x20u   /* upstream reset */
#define STATS_SF_FI 0x40u   /* fault injected: an abort (fault.h) */
#define STATS_SF_DI 0x100u  /* delay injected (fault.h) */
#define STATS_SF_GRPC 0x200u /* a gRPC call: grpc_status holds its status */
/*
 * STATS_SF_SAMPLED: the span belongs to a sampled trace (the traceparent
 * flag).  A record without it is tap-only: the sidecar wrote it because
 * `meshctl tap` held a lease on its service (src/proxy/ptap_int.h), not
 * because the request was traced.  It has no span id, never enters the
 * slowest-spans table, and no reader may take it for a trace (traces,
 * the OTLP exporter, the dashboard keep stats_spans_traced()'s only).
 */
#define STATS_SF_SAMPLED 0x80u

struct stats_span_rec {
	uint64_t seq;                       /* seqlock word (writer-private) */
	uint8_t  trace_id[16];
	uint8_t  span_id[8];
	uint8_t  parent_id[8];              /* all zero: a root span */
	uint64_t start_ns;                  /* CLOCK_REALTIME */
	uint64_t duration_us;
	uint32_t kind;                      /* enum stats_span_kind */
	uint32_t status;                    /* HTTP status sent downstream */
	uint32_t retries;
	uint32_t flags;                     /* STATS_SF_* */
	char     service[STATS_NAME_LEN];   /* this sidecar's service */
	char     version[STATS_NAME_LEN];
	char     instance[STATS_NAME_LEN];  /* this sidecar's instance id */
	char     peer[STATS_NAME_LEN];      /* client: upstream; server: caller */
	char     upstream[STATS_NAME_LEN];  /* client: "<version>.<index>" served it */
	char     method[16];
	char     authority[64];
	char     path[128];                 /* truncated, query included */
	uint32_t grpc_status;               /* v3: 0..16 with STATS_SF_GRPC, else 0 */
	uint32_t reserved;                  /* 0 */
};

struct stats_rate_rec {
	uint64_t second;                    /* CLOCK_REALTIME seconds of the slot */
	uint64_t requests;
	uint64_t errors;                    /* 5xx sent downstream */
};

/* --- sections: writer (mesh-proxy; each a no-op with no file) ---------- */

/* Who this sidecar is (span records and the file's identity). */
void stats_identity(const char *service, const char *version, const char *instance);
/* The row of (dir, service, version), added if new; NULL when the table
 * is full or no file is open (then the per-peer numbers are not kept;
 * the flat counters still are).  Callers cache it: rows never move. */
struct stats_peer_rec *stats_peer(enum stats_dir dir, const char *service, const char *version);
/* One finished request on row p (may be NULL): status sent downstream,
 * duration, retries taken, timed out.  Also feeds the rate ring. */
void stats_peer_done(struct stats_peer_rec *p, int status, uint64_t duration_us,
                     unsigned retries, int timed_out);
/* One finished gRPC call on row p (may be NULL) with grpc-status code
 * (outside 0..16: 2 UNKNOWN); besides its stats_peer_done(). */
void stats_peer_grpc(struct stats_peer_rec *p, int code);
/* The code a status is counted under: code itself if 0..16, else 2. */
unsigned stats_grpc_code(int code);
/* An upstream endpoint's row (found or taken from the free ones) by
 * (service, version, index, addr, port; addr 0 is STATS_EP_LOOPBACK);
 * host (NULL: "") is stored, and
 * updated on a found row.  NULL when full.  stats_ep_free() when it
 * leaves the config. */
struct stats_ep_rec *stats_ep(const char *service, const char *version,
                              unsigned index, uint32_t addr, uint16_t port,
                              const char *host);
void stats_ep_free(struct stats_ep_rec *e);
/* Store one field of an endpoint row (relaxed atomic store). */
void stats_ep_put(struct stats_ep_rec *e, uint64_t *field, uint64_t v);
void stats_ep_put32(struct stats_ep_rec *e, uint32_t *field, uint32_t v);
/* Record a finished span (copied; seq is set here). */
void stats_span(const struct stats_span_rec *s);

/* --- sections: reader --------------------------------------------------- */

/* A consistent-enough copy of a whole file (malloc'd arrays). */
struct stats_view {
	struct stats_snapshot  snap;        /* header + flat counters */
	struct stats_peer_rec *peers;       /* used rows only */
	size_t                 npeers;
	struct stats_ep_rec   *eps;         /* non-free rows only */
	size_t                 neps;
	struct stats_rate_rec  rate[STATS_RATE_SLOTS];
	uint64_t               spans_written;
	/* the writer's stats_identity(), "" when unknown */
	char                   service[STATS_NAME_LEN];
	char                   version[STATS_NAME_LEN];
	char                   instance[STATS_NAME_LEN];
};
/* STATS_OK or an enum stats_err; stats_view_free() after STATS_OK. */
int  stats_view_read(const char *path, struct stats_view *v);
void stats_view_free(struct stats_view *v);
/* Requests (and 5xx errors) per second over the `seconds` whole seconds
 * before now_s, from the rate ring (seconds <= STATS_RATE_SLOTS - 1). */
double stats_view_rps(const struct stats_view *v, uint64_t now_s, unsigned seconds,
                      double *errors_per_s);
/*
 * Spans of a file: copies those written after *cursor (0: all still in
 * the ring) into out[0..max), oldest first, and advances *cursor;
 * *lost += spans overwritten before they could be read.  slow: the
 * slowest-spans table instead (cursor ignored).  Returns the count, or
 * an enum stats_err (< 0).
 * Precisely: *cursor is the number of spans of the file seen so far; it
 * becomes the number of the first span not yet returned (max reached)
 * or spans_written.  Cursor 0, or one beyond spans_written (the sidecar
 * restarted with a new file), reads what the ring holds and counts
 * nothing lost.  A span overwritten while being read counts as lost.
 * The slow table comes slowest first, records older than
 * STATS_SLOW_WINDOW_S left out; a returned record's seq is even and
 * non-zero.  cursor and lost may be NULL.
 */
long stats_spans_read(const char *path, uint64_t *cursor, struct stats_span_rec *out,
                      size_t max, uint64_t *lost, int slow);
/* Keep the trace spans (STATS_SF_SAMPLED) of s[0..n), in order, at its
 * front: tap-only records are dropped.  Returns how many are left. */
size_t stats_spans_traced(struct stats_span_rec *s, size_t n);
/*
 * What a tapper needs of a file before reading its ring: the writer
 * (pid, start time), its identity and spans_written.  STATS_OK or an
 * enum stats_err; a file with no span section has written 0.
 */
struct stats_spans_head {
	uint64_t pid;
	uint64_t start_time_ns;
	uint64_t written;
	char     service[STATS_NAME_LEN];
	char     version[STATS_NAME_LEN];
	char     instance[STATS_NAME_LEN];
};
int  stats_spans_head(const char *path, struct stats_spans_head *h);


#endif
