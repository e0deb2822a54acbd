/* SPDX-License-Identifier: ISC */
/*
 * pstats: the endpoint rows of the sidecar's stats file (stats.h), kept
 * in step with the live balancer, outlier and breaker state.
 *
 * The request path only touches its balance_ep and breaker; twice a
 * second (and after every config change) pstats_sync() copies each
 * upstream endpoint's breaker state, ejection, peak-EWMA latency,
 * outstanding count and totals into its row, and frees the rows of
 * endpoints that left the config.  So `meshctl status`, the dashboard
 * and /metrics see a breaker open or an ejection within half a second.
 */
#ifndef MESH_PSTATS_H
#define MESH_PSTATS_H

#include <ev.h>

#define PSTATS_INTERVAL_S 0.5

void pstats_start(struct ev_loop *loop);
void pstats_stop(struct ev_loop *loop);
void pstats_sync(void);

#endif
