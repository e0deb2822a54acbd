/* SPDX-License-Identifier: ISC */
/*
 * control: meshd's side of <state_dir>/run/meshd.sock (Unix stream, mode
 * 0600; a peer must have meshd's uid or be root, by SO_PEERCRED).
 *
 * A connection is typed by its first message:
 *   IPC_HELLO "proxy <id> <pid>"  a sidecar: accepted only from the pid
 *             meshd started for that instance id; answered with IPC_CONFIG
 *             now and on every change; then IPC_READY or IPC_FAIL;
 *             IPC_CSR is answered IPC_CERT (leaf PEM + CA PEM) for that
 *             instance's service, or IPC_CERT_FAIL (mcert.h)
 *   IPC_CMD   a client (meshctl); commands, each answered as below, may
 *             follow each other on one connection:
 *     ping            DONE "0"
 *     status          REPLY <the table>, DONE "0"
 *     status --json   REPLY <one JSON document>, DONE "0"
 *     certs           REPLY <table: instance, identity, serial, not-before,
 *                     not-after>, DONE "0"; `certs --json` the same as JSON
 *     certs --rotate  IPC_ROTATE to every attached sidecar; REPLY <table> +
 *                     DONE "0" once each has a new serial, or REPLY <who
 *                     did not> + DONE "1" after 10 s
 *     certs --rotate-root
 *                     a root rollover (mcert.h; control_roll.c): IPC_TRUST
 *                     with both roots to every sidecar, then leaves from the
 *                     new root, then the old root retired: REPLY <table> +
 *                     DONE "0"; REPLY <why> + DONE "1" when abandoned (a
 *                     sidecar did not take the bundle in) or not done within
 *                     60 s (it goes on).  IPC_TRUST goes to every sidecar
 *                     at HELLO too; IPC_IDENT reports feed the rollover
 *     certs --join-token SECS
 *                     a one-time join token valid SECS (1..86400; mjoin.h):
 *                     REPLY "<token>\n<how to use it>\n" + DONE "0"; DONE
 *                     "1" with why when registry is not etcd or this host
 *                     holds no ca.key (it joined)
 *     down            stops everything (apps, then sidecars); DONE "0";
 *                     then meshd exits 0
 *     wait-ready      LOGLINE for each line of the ring and every new one,
 *                     then DONE "0" when every instance is ready, or REPLY
 *                     <what failed> + DONE "1" (a FATAL instance, an app
 *                     that exited for good, or meshd stopping)
 *     logs            LOGLINE for the ring, then every new line, until the
 *                     client closes
 *     weight SERVICE VERSION=PCT...
 *                     validated against the config (weights.h), applied to
 *                     the route, pushed to the callers' sidecars, saved in
 *                     <state_dir>/weights: REPLY "route S: split ..." +
 *                     DONE "0"; REPLY <why> + DONE "1" (nothing changed,
 *                     or applied but not saved, as the reply says)
 *     fault SERVICE off | SERVICE [delay P%:D] [abort P%:S] [version V]
 *           [match H:V]
 *                     validated against the config (faults.h), applied to
 *                     the route, pushed to the callers' sidecars, saved in
 *                     <state_dir>/faults: REPLY "S: abort 5% 503 (live; ...)"
 *                     + DONE "0"; REPLY <why> + DONE "1" (nothing changed,
 *                     or applied but not saved, as the reply says)
 *     fault-off-all   every fault off (faults_off_all()), pushed, saved:
 *                     REPLY "faults off: S, ..." + DONE "0"
 *     mirror SERVICE VERSION=P% | SERVICE off
 *                     validated against the config (mirrors.h), applied
 *                     to the route, pushed to the callers' sidecars, saved
 *                     in <state_dir>/mirrors: REPLY "S: mirror v2 10%
 *                     (live; ...)" + DONE "0"; REPLY <why> + DONE "1"
 *                     (the dashboard's `m` key sends this form too)
 *     reload          re-read the config file (reload.h): REPLY <report>
 *                     + DONE "0", or REPLY <the file's errors> + DONE "1"
 *     restart INSTANCE
 *                     INSTANCE an id (api@v1.0) or a name (api.0):
 *                     svc_restart() restarts its app (its sidecar without
 *                     a command): REPLY "restarting ..." + DONE "0";
 *                     REPLY <why not> + DONE "1" (unknown, stopping...)
 *     breaker-reset SERVICE [VERSION.INDEX]
 *                     IPC_BREAKER_RESET "SERVICE [VERSION.INDEX]" to every
 *                     attached sidecar that calls SERVICE (pctl.h): REPLY
 *                     "... reset in N caller sidecar(s)" + DONE "0";
 *                     REPLY <why> + DONE "1" for an unknown service/instance
 *     anything else   REPLY "unknown command ..." + DONE "2"
 * Nothing blocks: each connection has a bounded output queue
 * (CONTROL_OUT_MAX); a client that does not read is dropped.
 */
#ifndef MESH_CONTROL_H
#define MESH_CONTROL_H

#include <stddef.h>

#include "mesh/meshd_ctx.h"

#define CONTROL_OUT_MAX (4u << 20)
#define CONTROL_CONNS_MAX 256

struct inst;

/* Bind and listen on m->sock_path (removing a stale socket first). 0 / -1 + err. */
int  control_open(struct meshd *m, char *err, size_t errlen);
/* Answer `down` clients (DONE "0"), close every connection, unlink the socket. */
void control_close(struct meshd *m);

/* Send `in`'s sidecar its document (when it said HELLO). */
void control_push(struct meshd *m, struct inst *in);
/* ...to every sidecar whose service calls `service`. */
void control_push_callers(struct meshd *m, const char *service);
/* ...to every sidecar (a reload applied: reload.h). */
void control_push_all(struct meshd *m);
/* Re-evaluate every `wait-ready` client. */
void control_wait_update(struct meshd *m);
/* outlog's sink: a line for `logs` and `wait-ready` clients. */
void control_line(void *arg, const char *line, size_t len);

#endif
