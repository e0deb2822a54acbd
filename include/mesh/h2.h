/* SPDX-License-Identifier: ISC */
/*
 * h2: HTTP/2 through the sidecar (RFC 9113, framing by libnghttp2), with
 * the same per-request policy as HTTP/1.1: each stream is routed,
 * balanced, retried, timed and observed on its own, so a gRPC client's
 * one long-lived connection is spread over every instance.
 *
 * Where it starts.  A connection of an HTTP role (conn.h) whose first
 * bytes are the HTTP/2 connection preface ("PRI * HTTP/2.0...") becomes
 * an HTTP/2 session (h2c with prior knowledge, what gRPC clients speak;
 * between sidecars the same over mTLS, ALPN h2).  HTTP/1.1 keeps working
 * on the same ports.  The connection then stays in FWD_H2 until it ends.
 *
 * Legs.  Outbound and listen roles open HTTP/2 sessions to the balanced
 * endpoint's sidecar (mTLS), a few per endpoint (h2_int.h), each carrying
 * many streams; an inbound sidecar opens h2c sessions to its app when
 * the service says `protocol = http2` or `grpc`.  HTTP/2 reaches only
 * such services: an HTTP/2 request for an HTTP/1.1 service is refused
 * (505, `mesh-error: service speaks HTTP/1.1`), there is no translation.
 *
 * Flow control is end to end: a stream's received bytes are given back
 * to its sender's window only when the other leg has taken them, so a
 * slow reader holds back its writer and each stream holds at most about
 * one window (H2_STREAM_WINDOW) per direction, plus what a retry keeps.
 *
 * Refusals to a gRPC caller (content-type application/grpc) are
 * trailers-only responses with grpc-status (grpc.h), grpc-message and
 * mesh-error; to other callers a status with mesh-error, as HTTP/1.1.
 */
#ifndef MESH_H2_H
#define MESH_H2_H

#include <stddef.h>

struct conn;

/* The connection preface every HTTP/2 client sends first. */
#define H2_PREFACE     "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24

/* 1: p starts with the preface; 0: it cannot; -1: too short to tell. */
int  h2_preface(const char *p, size_t n);
/* Take over c (FWD_IDLE, the preface in c->d.in) -> FWD_H2, or
 * FWD_CLOSING when out of memory. */
void h2_adopt(struct conn *c);
/* FWD_H2's handler (fwd_run). */
void h2_run(struct conn *c);
/* The idle timer fired (conn.h's idle timeout, FWD_H2). */
void h2_timeout(struct conn *c);
/* Graceful stop: GOAWAY now, the streams under way finish. */
void h2_drain(struct conn *c);
/* Teardown from fwd_end() (conn_close). */
void h2_end(struct conn *c);
/* Close every upstream session (shutdown). */
void h2_close_idle(void);

#endif
