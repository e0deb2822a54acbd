/* SPDX-License-Identifier: ISC */
/*
 * fault: whether the caller's sidecar injects a fault into one request
 * (a route's fault.* keys, mesh.ini(5); struct pcfg_fault).
 *
 * A fault applies to a request when its match header (if any) carries
 * the value and the balancer picked an endpoint of its version (if any);
 * then the delay and the abort are drawn apart, each with its own share,
 * from the caller's random source (no rand()).  The sidecar acts on the
 * result in src/proxy/fwd_fault.c: a delay holds the request on the
 * connection's timer before it goes up, an abort answers the status with
 * `mesh-error: fault injected` and never reaches an upstream.
 */
#ifndef MESH_FAULT_H
#define MESH_FAULT_H

#include <stddef.h>

#include "mesh/backoff.h"
#include "mesh/http.h"
#include "mesh/pcfg.h"

#define FAULT_DELAY 0x1u
#define FAULT_ABORT 0x2u

/* The mesh-error of an injected abort (and its access-log flag FI). */
#define FAULT_REASON "fault injected"

/* Does f concern a request with these headers sent to `version`? */
int      fault_applies(const struct pcfg_fault *f, const char *version,
                       const struct http_header *h, size_t nh);
/* The faults drawn for one request: FAULT_* bits (0: none). */
unsigned fault_draw(const struct pcfg_fault *f, struct backoff_rng *rng);

#endif
