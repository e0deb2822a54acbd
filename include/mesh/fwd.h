/* SPDX-License-Identifier: ISC */
/*
 * fwd: the per-exchange state machine of a downstream connection:
 * parse -> route -> balance -> upstream -> relay -> response.
 * The states are enum fwd_state in conn.h, one handler each here.
 *
 * Requests on a connection are handled one at a time: the bytes of a
 * pipelined request wait in the input buffer until the previous response
 * is complete, so responses are in order by construction.
 */
#ifndef MESH_FWD_H
#define MESH_FWD_H

#include "mesh/conn.h"

/* A new connection (FWD_IDLE): start reading, or connect (tcp roles). */
void fwd_begin(struct conn *c);
/* Make every step possible now, then arm the watchers for the rest. */
void fwd_run(struct conn *c);
/* The connection's deadline passed (conn.c's timer decided). */
void fwd_timeout(struct conn *c);
/* Release what the current exchange holds (conn_close calls it). */
void fwd_end(struct conn *c);

#endif
