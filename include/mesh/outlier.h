/* SPDX-License-Identifier: ISC */
/*
 * outlier: passive outlier ejection in the caller's sidecar.
 *
 * An endpoint that fails `outlier_failures` times in a row (connect
 * failure, reset before a response, a 5xx response: BALANCE_FAIL) is
 * ejected for outlier_ejection_ms x its ejection count (the count grows by
 * one per ejection, capped at OUTLIER_MAX_MULT, and shrinks by one per
 * base period it then stays healthy).  Ejected endpoints are skipped by
 * every balancer; after the time they come back with a clean slate.
 *
 * Never more than half of a service's instances (rounded down) are
 * ejected at once: an endpoint over the threshold while the cap is
 * reached waits, and is ejected at the first pick after a slot frees.
 * The decision is taken when the service is picked from (outlier_sweep),
 * because only the service knows its policy and its instance count.
 */
#ifndef MESH_OUTLIER_H
#define MESH_OUTLIER_H

#include <stddef.h>
#include <stdint.h>

#include "mesh/balance.h"

#define OUTLIER_MAX_MULT 10u

/* Record an outcome (balance_done calls this). */
void outlier_record(struct balance_ep *e, enum balance_outcome o, uint64_t now_us);
/*
 * Bring back endpoints whose time is over, then eject those at or over the
 * threshold, within the half cap.  eps: all of one service's endpoints
 * (`service` names it in the log).
 * failures/ejection_ms 0: the defaults (5, 30000).
 */
void outlier_sweep(const char *service, struct balance_ep *const *eps, size_t n,
                   uint32_t failures, uint32_t ejection_ms, uint64_t now_us);
/* Ejected at now_us. */
int  outlier_ejected(const struct balance_ep *e, uint64_t now_us);

#endif
