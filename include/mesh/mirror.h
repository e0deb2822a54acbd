/* SPDX-License-Identifier: ISC */
/*
 * mirror: fire-and-forget copies of requests (a route's `mirror` key,
 * mesh.ini(5); struct pcfg_mirror), in the caller's sidecar.
 *
 * fwd_mirror.c draws each request of a mirrored route (mirror_draw) and,
 * once the request went up whole, hands its head and kept body
 * (replay.h) to mirror_send().  A copy lives in one of MIRROR_MAX fixed
 * slots, never in the client's connection: it copies the head (Host gets
 * `-shadow`, mirror_host) and the body into pooled buffers of its own,
 * takes a pooled upstream connection to an endpoint of the mirror's
 * version, sends, reads the response head (status and latency go to the
 * mirror.* counters of stats.h), drains the body and gives the connection
 * back.  It never retries, never touches the breaker, outlier or balancer
 * state (the breaker is only read: an open one skips the copy), and is cut
 * after its timeout.  Nothing the copy does reaches the client's
 * connection, so the client may leave at any time.
 *
 * Skipped (mirror.skipped): no free slot, no endpoint of the version up
 * with its breaker closed, a body that did not fit the retry buffer, or
 * more than MIRROR_BODY_BUFS buffers of bodies in flight.
 */
#ifndef MESH_MIRROR_H
#define MESH_MIRROR_H

#include <stddef.h>
#include <stdint.h>

#include "mesh/backoff.h"
#include "mesh/balance.h"
#include "mesh/pcfg.h"
#include "mesh/replay.h"

#define MIRROR_MAX         64    /* copies in flight at once */
#define MIRROR_BODY_BUFS   256   /* pooled body buffers of all the copies */
#define MIRROR_TIMEOUT_MS  10000 /* a copy's limit on a route without timeout */
#define MIRROR_SUFFIX      "-shadow"

/* Does this request get a copy?  m->permille of them (0: none). */
int  mirror_draw(const struct pcfg_mirror *m, struct backoff_rng *rng);

/*
 * The request head (hlen bytes, as it went up: request line, headers,
 * blank line) into out (outsz bytes) with MIRROR_SUFFIX after the host
 * name of the Host header (before its port): the copy's head.  Its
 * length, or -1 when it does not fit or has no Host header.
 */
long mirror_host(char *out, size_t outsz, const char *head, size_t hlen);

/*
 * Start a copy of a request to bs->svc's version m->version: head (hlen
 * bytes, Host not yet rewritten), body the kept body (NULL: none),
 * timeout_ms its limit (0: MIRROR_TIMEOUT_MS), head_req for a HEAD
 * request (its response has no body).  Counted as sent or skipped;
 * nothing is reported back.
 */
void mirror_send(const struct balance_service *bs, const struct pcfg_mirror *m,
                 const char *head, size_t hlen, const struct replay *body,
                 uint32_t timeout_ms, uint32_t connect_ms, int head_req);

/* Copies in flight now (tests). */
unsigned mirror_inflight(void);

#endif
