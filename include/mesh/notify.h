/* SPDX-License-Identifier: ISC */
/*
 * notify: meshd's side of systemd's notify protocol (Type=notify).
 *
 * Everything here is a no-op unless NOTIFY_SOCKET was set when meshd
 * started.  meshd.c calls it on svc's reports (svc.h): READY=1 and
 * STOPPING=1 at the phase changes, STATUS= with the instance counts
 * whenever they change; WATCHDOG=1 comes from the event loop (every half
 * of WATCHDOG_USEC, so a hung loop is what the watchdog catches).
 */
#ifndef MESH_NOTIFY_H
#define MESH_NOTIFY_H

struct meshd;

/* Arm the watchdog timer if systemd asked for one. */
void notify_init(struct meshd *m);
void notify_stop(struct meshd *m);
/* Send STATUS= if the counts changed since the last one. */
void notify_status(struct meshd *m);
/* Every instance ready once: STATUS= (if changed), then READY=1. */
void notify_ready(struct meshd *m);
/* meshd began stopping: STOPPING=1. */
void notify_stopping(struct meshd *m);
/* A reload begins (RELOADING=1, MONOTONIC_USEC=) / ended (READY=1). */
void notify_reloading(struct meshd *m);
void notify_reloaded(struct meshd *m);

#endif
