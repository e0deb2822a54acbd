/* SPDX-License-Identifier: ISC */
/*
 * fwd: the per-exchange state machine of a downstream connection:
 * parse -> route -> balance -> upstream -> relay -> response.
 * The states are enum fwd_state in conn.h; their handlers are in
 * src/proxy/fwd*.c (fwd_int.h lists them) and fwd_run() drives them.
 *
 * Requests on a connection are handled one at a time: the bytes of a
 * pipelined request wait in the input buffer until the previous response
 * is complete, so responses are in order by construction.
 *
 * Every entry point below ends in fwd_run(), the one place that closes a
 * connection a handler left in FWD_CLOSING: callers never see a closed
 * connection come back from a handler half-way.
 */
#ifndef MESH_FWD_H
#define MESH_FWD_H

#include "mesh/conn.h"

/* Once at start-up, before the first connection: installs the breakers
 * as the balancer's gate and seeds the retries' backoff jitter. */
void fwd_init(void);
/* A new connection (FWD_IDLE): start reading, or connect (tcp roles). */
void fwd_begin(struct conn *c);
/* Make every step possible now, then arm the watchers (or close). */
void fwd_run(struct conn *c);
/* The connection's deadline passed (conn.c's timer decided). */
void fwd_timeout(struct conn *c);
/*
 * The exchange is over, complete or cut short: count it, give the
 * upstream connection back (to its pool only after a complete response
 * that leaves it reusable), drop the heads; then -> FWD_IDLE, or
 * FWD_LINGER when the exchange said close.  From conn_close() (the
 * connection already FWD_CLOSED) it only releases.
 */
void fwd_end(struct conn *c);

#endif
