/* SPDX-License-Identifier: ISC */
/*
 * obs: what the sidecar observes of one HTTP exchange — the per-peer
 * counters and latency histogram of the stats file, the span of the
 * trace it belongs to, and the access-log line.
 *
 * The fwd*.c handlers call, in this order, on the exchange's struct obs
 * (embedded in its struct conn, so nothing is allocated per request):
 *   obs_begin     the request head is parsed: start time, trace context
 *                 (traceparent, else B3, else a new trace if sampled);
 *                 inbound, the requests_in_flight gauge goes up (and
 *                 down at obs_end)
 *   obs_route     outbound: the called service is known
 *   obs_upstream  an attempt goes to endpoint <version>.<index>
 *   obs_status    the final status going downstream (an upstream's, or
 *                 a refusal's, whose reason sets a flag: obs_refusal)
 *   obs_grpc      a gRPC call: the grpc-status it ended with (see below)
 *   obs_end       the exchange is over (complete or aborted): counts it,
 *                 records the span, writes the access-log line
 *
 * Tracing (trace.h).  A sampled request gets a new span id at each hop;
 * the head sent upstream carries `traceparent` with it (obs_traceparent),
 * replacing the one received.  A request that came with an unsampled
 * context is forwarded untouched and records no span.  One that came with
 * no context gets one from the first sidecar it meets, sampled when the
 * `trace` draw says so, and unsampled (flags 00) otherwise — so the hops
 * after it follow that decision instead of starting traces of their own
 * in the middle of the request.  With `trace 0` nothing is added.
 *
 * gRPC.  An exchange is a gRPC call when obs_grpc() was called between
 * obs_begin and obs_end; obs_begin forgets any earlier one.  obs_end then
 * counts the call in its peer row by status (stats_peer_grpc(): 0..16, any
 * other value as 2 UNKNOWN), sets STATS_SF_GRPC and grpc_status in the
 * span/tap record, and the access-log line has "grpc_status":N (null for
 * an exchange that is not a gRPC call).  The HTTP status is counted as
 * always, beside it (a gRPC call usually ends 200 whatever its status).
 *
 * Tap (src/proxy/ptap_int.h).  While `meshctl tap` holds a lease on this
 * sidecar's service, every exchange keeps its details and obs_end writes
 * its record to the span ring even when it is not sampled; such a record
 * has no STATS_SF_SAMPLED flag and no span id (it is not a trace span).
 */
#ifndef MESH_OBS_H
#define MESH_OBS_H

#include <stdint.h>

#include "mesh/http.h"
#include "mesh/stats.h"
#include "mesh/trace.h"

struct obs {
	uint64_t start_ns;          /* CLOCK_MONOTONIC at obs_begin */
	uint64_t start_real_ns;     /* CLOCK_REALTIME (the span's start) */
	uint32_t flags;             /* STATS_SF_* */
	uint16_t status;            /* final status sent downstream; 0: none */
	int8_t   grpc;              /* gRPC status 0..16; OBS_GRPC_NONE: no gRPC call */
	uint8_t  active;            /* between obs_begin and obs_end */
	uint8_t  inbound;
	uint8_t  record;            /* a span is recorded */
	uint8_t  tap;               /* tapped at obs_begin: a tap-only record too */
	uint8_t  detail;            /* method/authority/path are kept */
	uint8_t  trace_id[16];
	uint8_t  span_id[8];
	uint8_t  parent_id[8];
	char     traceparent[TRACE_PARENT_LEN + 1];   /* "" : forward untouched */
	char     peer[STATS_NAME_LEN];      /* caller (inbound) or called service */
	char     peer_version[STATS_NAME_LEN];
	char     upstream[STATS_NAME_LEN];  /* "<version>.<index>" */
	char     method[16];
	char     authority[64];
	char     path[128];
};

/* The sidecar's settings: who it is, the trace sample (per mille), and
 * whether an access log is written (then details are kept always). */
void obs_configure(const char *service, const char *version, unsigned index,
                   unsigned sample_permille, int access_log);

void obs_begin(struct obs *o, const struct http_request *req, int inbound,
               const char *caller);
void obs_route(struct obs *o, const char *service);
void obs_upstream(struct obs *o, const char *version, unsigned index);
void obs_status(struct obs *o, int status);
void obs_refusal(struct obs *o, int status, const char *reason);
/*
 * The exchange is a gRPC call that ended with grpc-status grpc_status:
 * the value of the grpc-status trailer (or of the header of a
 * trailers-only response, the mesh's own refusals included) sent
 * downstream.  0..16 are kept as they are; anything else (negative, or
 * past 16) is recorded as 2 UNKNOWN, as a gRPC client reads a status it
 * does not know.  The last call before obs_end wins; a no-op outside
 * obs_begin .. obs_end.  Not calling it: the exchange is no gRPC call.
 */
#define OBS_GRPC_NONE (-1)
void obs_grpc(struct obs *o, int grpc_status);
/* The value for the upstream's traceparent header, or NULL: leave it. */
const char *obs_traceparent(const struct obs *o);
/* retries: attempts after the first; bytes: request/response body bytes. */
void obs_end(struct obs *o, unsigned retries, uint64_t bytes_in, uint64_t bytes_out);

#endif
