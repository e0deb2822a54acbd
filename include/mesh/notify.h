/* SPDX-License-Identifier: ISC */
/*
 * notify: meshd's side of systemd's notify protocol (Type=notify).
 *
 * Everything here is a no-op unless NOTIFY_SOCKET was set when meshd
 * started.  READY=1 and STOPPING=1 are sent by svc.c at the phase changes;
 * this module adds WATCHDOG=1 from the event loop (every half of
 * WATCHDOG_USEC, so a hung loop is what the watchdog catches) and STATUS=
 * with the instance counts whenever they change.
 */
#ifndef MESH_NOTIFY_H
#define MESH_NOTIFY_H

struct meshd;

/* Arm the watchdog timer if systemd asked for one. */
void notify_init(struct meshd *m);
void notify_stop(struct meshd *m);
/* Send STATUS= if the counts changed since the last one. */
void notify_status(struct meshd *m);
/* A reload begins (RELOADING=1, MONOTONIC_USEC=) / ended (READY=1). */
void notify_reloading(struct meshd *m);
void notify_reloaded(struct meshd *m);

#endif
