/* SPDX-License-Identifier: ISC */
/*
 * trace: W3C Trace Context (and B3 as input) for the sidecar's spans.
 *
 * Every hop records a span: the caller's sidecar a client span, the
 * callee's a server span.  Each forwards `traceparent:
 * 00-<trace-id>-<its own span id>-<flags>` so the next hop's span names
 * it as parent; `tracestate` passes through untouched.  A request that
 * arrives with no (valid) context starts a trace in the first sidecar,
 * sampled with probability trace_sample (per mille); an unsampled trace
 * still propagates (flags 00) but records no span.
 *
 * Input precedence: a valid `traceparent` (version 00, or a higher
 * version parsed as 00's prefix per the spec); else B3 (`b3: T-S[-F[-P]]`
 * single header, or X-B3-TraceId / X-B3-SpanId / X-B3-Sampled; a 64-bit
 * B3 trace id is left-padded with zeros); else none.  All-zero ids and
 * malformed values are "none", never an error to the client.
 *
 * Pure functions, no allocation; randomness from a caller-seeded state.
 */
#ifndef MESH_TRACE_H
#define MESH_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define TRACE_PARENT_LEN 55   /* "00-" 32 "-" 16 "-" 2 */

struct trace_ctx {
	uint8_t trace_id[16];
	uint8_t span_id[8];     /* the parent's span id as received */
	int     sampled;
	int     valid;          /* a context came in */
	int     sample_deferred; /* B3 without a sampling state (sampled is 0):
	                          * the receiver decides, e.g. trace_sample() */
};

/* Parse a traceparent value (n bytes, not NUL-terminated); 0 or -1. */
int  trace_parse_traceparent(const char *v, size_t n, struct trace_ctx *t);
/* Parse a single `b3` header value; 0 or -1 ("0" alone = not sampled, no ids: -1). */
int  trace_parse_b3(const char *v, size_t n, struct trace_ctx *t);
/* Multi-header B3: trace id, span id, sampled ("1"/"0"/"true"/"false"/"d",
 * or NULL when the header is absent: sample_deferred). */
int  trace_parse_b3_multi(const char *tid, size_t tn, const char *sid, size_t sn,
                          const char *sampled, size_t smn, struct trace_ctx *t);

/* xorshift-style generator: seed once (e.g. from getrandom), then ids. */
struct trace_rng { uint64_t s[2]; };
void trace_rng_seed(struct trace_rng *r, uint64_t seed);
void trace_new_id(struct trace_rng *r, uint8_t *out, size_t n);  /* never all zero */
/* 1 with probability permille/1000. */
int  trace_sample(struct trace_rng *r, unsigned permille);

/* An id of n bytes that is all zero (W3C: invalid, "none"). */
int  trace_id_zero(const uint8_t *b, size_t n);
/* Lower-case hex of n bytes into out[2n + 1], NUL-terminated. */
void trace_hex(char *out, const uint8_t *b, size_t n);

/* "00-<trace>-<span>-<01|00>" into out[TRACE_PARENT_LEN + 1]. */
void trace_format(char *out, const uint8_t trace_id[16], const uint8_t span_id[8], int sampled);

#endif
