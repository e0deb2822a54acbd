/* SPDX-License-Identifier: ISC */
/*
 * adopt: a meshd that starts where another one died (SIGKILL, OOM, a
 * crash) takes over the children that one left instead of replacing
 * them: nothing that serves traffic is restarted or duplicated.
 *
 * At start-up (meshd.c), with the lock held:
 *   adopt_scan()      reads run/pids (state.h: the leftovers) and run/spec
 *                     (what the dead meshd would start);
 *   adopt_port_free() is the ports' is_free (ports.h): a port a running
 *                     leftover holds counts as free, so the automatic
 *                     ports come out as they did for the dead meshd;
 *   adopt_start()     after svc_init(): each leftover that still runs with
 *                     its recorded start time, whose instance id is in the
 *                     config and whose run/spec line has the fingerprint
 *                     this config gives it (the sidecar: mesh-proxy's path,
 *                     the socket, its ports; the app: command, directory,
 *                     ports, env.*) is adopted; every other one is stopped
 *                     as before (state_left_stop()).  run/spec is rewritten.
 *
 * An adopted process is a struct proc (svc.h) in RUNNING with its pid,
 * its log files (run/logs/<pid>.*) followed from where the dead meshd
 * stopped reading, and no restart counted.  meshd is not its parent, so
 * no SIGCHLD: its exit is seen on a pidfd (pidfd_open(2)), or by polling
 * its start time every ADOPT_POLL_S where there is none, and handed to
 * svc as an ev_child event with the status ADOPT_STATUS (unknown: only a
 * parent learns it).  Stopping, restarting and `down` then work as for
 * any child.
 *
 * An adopted sidecar keeps serving; it counts as ready at once when its
 * listeners are bound (so no caller is told its endpoint went down), and
 * re-attaches on its own (pctl.h: it retries every second): its HELLO is
 * checked against the adopted pid like any other.  `wait-ready` waits for
 * that HELLO; one that does not come within ADOPT_ATTACH_S gets the
 * treatment of a sidecar that failed (svc_proxy_failed(): SIGTERM, then
 * the restart policy).  An adopted app whose port accepts a connection
 * counts as ready at once; its probes (health =) carry on as usual.
 */
#ifndef MESH_ADOPT_H
#define MESH_ADOPT_H

#include <stdint.h>

#include "mesh/meshd_ctx.h"

#define ADOPT_POLL_S   0.1     /* no pidfd: how often a start time is looked at */
#define ADOPT_ATTACH_S 10.0    /* an adopted sidecar's HELLO, at the latest */
#define ADOPT_STATUS   (255 << 8)   /* wait status reported for an adopted exit */

struct inst;

/* Read what a dead meshd left.  0, or -1 out of memory (then meshd
 * stops every leftover, as state_reap_locked() does). */
int  adopt_scan(struct meshd *m);
/* ports.h is_free: free now, or held by a running leftover of the dead
 * meshd (by its run/spec).  arg unused. */
int  adopt_port_free(uint16_t port, void *arg);
/* Adopt what matches, stop the rest, write run/spec.  The number adopted. */
int  adopt_start(struct meshd *m);
/* A sidecar said HELLO (control.c). */
void adopt_attached(struct inst *in);
/* 1 while in's adopted sidecar has not said HELLO yet. */
int  adopt_waiting(const struct inst *in);
/* 1 while any adopted sidecar has not (control.c: wait-ready waits). */
int  adopt_pending(const struct meshd *m);
/* Stop watching (meshd exits; the processes are svc's to stop). */
void adopt_free(struct meshd *m);

#endif
