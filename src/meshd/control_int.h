/* SPDX-License-Identifier: ISC */
/*
 * control_int.h: what control.c (the socket, connections, the sidecars'
 * side) and control_cmd.c (the commands of meshctl clients) share.
 */
#ifndef MESH_CONTROL_INT_H
#define MESH_CONTROL_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

#include "mesh/control.h"
#include "mesh/ipc.h"

enum conn_kind { CONN_NEW, CONN_PROXY, CONN_CLIENT };
enum conn_wait { WAIT_NONE, WAIT_LOGS, WAIT_READY, WAIT_DOWN, WAIT_ROTATE, WAIT_ROTATE_ROOT,
                 WAIT_RESTART };

#define CONTROL_ROTATE_S 10.0   /* `certs --rotate`: how long to wait for new leaves */
#define CONTROL_FRAME_S 10.0    /* a new peer's first message, and any frame begun,
                                 * must be whole within this */
#define CONTROL_ACCEPT_RETRY_S 0.1 /* accept paused this long on EMFILE and friends */
#define CONTROL_ROLL_WAIT_S 60.0 /* `certs --rotate-root`: how long a client waits */

struct conn {
	struct control *ctl;
	struct conn    *next;
	int             fd;
	ev_io           rio, wio;
	ev_timer        frame;      /* CONTROL_FRAME_S: the first message, a partial frame */
	struct ipc_reader rd;
	unsigned char  *out;
	size_t          outlen, outcap;
	enum conn_kind  kind;
	enum conn_wait  wait;
	struct inst    *inst;       /* CONN_PROXY */
	pid_t           peer_pid;
	unsigned long   ticket;     /* WAIT_RESTART: its restart (control_restart.c) */
	int             dead;
};

struct control {
	struct meshd *m;
	int           fd;
	ev_io         accept;
	ev_timer      accept_retry; /* accept paused: out of descriptors */
	ev_tstamp     accept_warned;
	ev_prepare    reaper;
	struct conn  *conns;        /* live and dead; dead ones freed by the reaper */
	size_t        nconns;
	ev_timer      rotate;       /* `certs --rotate` deadline */
	ev_timer      ready;        /* `wait-ready`: the next ready_timeout to pass */
};


void control_send(struct conn *c, uint16_t type, const void *p, size_t len);
void control_send_str(struct conn *c, uint16_t type, const char *s);
/* A command's end: msg as its one IPC_REPLY (none when NULL), then
 * IPC_DONE with the exit code meshctl takes (0 ok, 1 failed, 2 usage). */
void control_answer(struct conn *c, int code, const char *msg);
void control_ring_cb(void *arg, const char *line, size_t len);
void control_rotate_update(struct meshd *m, int expired);
void control_rotate_cb(struct ev_loop *loop, ev_timer *w, int revents);
void control_cmd(struct conn *c, const char *cmd);
/* control_restart.c: `restart [--wait] INSTANCE|SERVICE` (drain.h) */
void control_restart(struct conn *c, const char *args);
/* control_fault.c: `fault LINE`, `fault-off-all` (faults.h) */
void control_fault(struct conn *c, const char *args);
void control_fault_off_all(struct conn *c);
/* After a live override changed (faults, mirrors): rc is its _save()'s;
 * on failure REPLY "applied, but not persisted: <state_dir>/NAME: ..." +
 * DONE "1" are sent and -1 returned (the change is in force anyway). */
int  control_persisted(struct conn *c, const struct meshd *m, int rc, const char *name);
/* control_mirror.c: `mirror SERVICE VERSION=P%|off` (mirrors.h) */
void control_mirror(struct conn *c, const char *args);
/* control_roll.c: the root rollover (mcert.h) */
void control_trust(struct conn *c);                          /* at HELLO */
void control_ident(struct conn *c, const char *p, size_t len); /* IPC_IDENT */
void control_rotate_root(struct conn *c);                    /* certs --rotate-root */
/* control_join.c: `certs --join-token SECS` (mjoin.h) */
void control_join_token(struct conn *c, const char *args);

#endif
