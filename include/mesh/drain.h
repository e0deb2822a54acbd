/* SPDX-License-Identifier: ISC */
/*
 * drain: `meshctl restart` without a lost request.  Before an app gets
 * SIGTERM its instance is taken out of service, and a restart of a whole
 * service goes one instance at a time (rolling).
 *
 * One instance, in order:
 *   DRAIN_GRACE    in->draining is set: svc_update() sends its callers a
 *                  document with its endpoint down (svc.h), so no caller
 *                  picks it for a new request; meshd waits DRAIN_GRACE_S s
 *                  for every caller's sidecar to have read and applied it
 *                  (a document goes over a local socket in well under a
 *                  millisecond; the sidecars do not acknowledge it)
 *   DRAIN_FLIGHT   every DRAIN_POLL_S s, the `requests_in_flight` gauge of the
 *                  instance's stats file (stats.h): the requests its
 *                  sidecar is still answering; on to the restart when it
 *                  reads 0, or after DRAIN_WAIT_S s whatever it reads
 *                  (a `tcp` service has no such gauge: the grace only)
 *   DRAIN_RESTART  svc_restart(): the app gets SIGTERM and starts again;
 *                  in->draining is cleared (the endpoint stays down until
 *                  the new app is ready: svc.h); done when the new process
 *                  is ready (svc_ready()), failed when it fails for good or
 *                  is not ready within its ready_timeout (readiness.h)
 * An instance whose endpoint is not up (its app in backoff, FATAL,
 * stopped) skips the drain.  A service's instances go in file order, each
 * after the one before is ready again; one that is not ends the roll and
 * the rest keep their running apps.  With a single instance the service
 * has no endpoint while it restarts: callers get 503 for that time.
 *
 * Progress and the end go to the caller's function (control_cmd.c) and
 * to the log (outlog_event).
 */
#ifndef MESH_DRAIN_H
#define MESH_DRAIN_H

#include <stddef.h>

#include "mesh/meshd_ctx.h"

#define DRAIN_GRACE_S  1.0    /* s: withdrawn -> callers have it */
#define DRAIN_POLL_S   0.05   /* s: between looks at the gauge and the state */
#define DRAIN_WAIT_S   10.0   /* s: requests in flight are waited for at most */

/*
 * What a restart reports: each progress line (done 0), then once the end
 * (done 1, rc 0 every instance restarted and ready, 1 not).  ticket is
 * the caller's, given back as it was.
 */
typedef void drain_fn(struct meshd *m, unsigned long ticket, int done, int rc,
                      const char *line);

/*
 * Restart `what`: an instance by id ("api@v1.0") or name ("api.0"), or
 * every instance of a service ("api", each version).  0 when started
 * (cb is called later, never from inside this call), -1 with why not in
 * why (no such instance or service, meshd stopping, an instance already
 * restarting).
 */
int  drain_restart(struct meshd *m, const char *what, drain_fn *cb,
                   unsigned long ticket, char *why, size_t size);

/* meshd ends: every restart under way is dropped, without a report. */
void drain_free(struct meshd *m);

#endif
