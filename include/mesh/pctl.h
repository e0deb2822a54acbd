/* SPDX-License-Identifier: ISC */
/*
 * pctl: the sidecar's side of meshd's control socket.
 *
 * On connect: IPC_HELLO "proxy <id> <pid>".  Each IPC_CONFIG is parsed
 * and applied (ident_configure, then pstate_apply); the first config
 * applied on a connection is answered with IPC_READY, or — before the
 * sidecar has ever served — with IPC_FAIL and the message (the caller's
 * on_fatal then exits 1).
 * Identity (ident.h): with a trust_domain in the config, a fresh key's
 * IPC_CSR follows the first config; IPC_READY waits until meshd's
 * IPC_CERT is installed.  The next CSR (a new key each time) goes at
 * csr_renew_delay() — 2/3 of the leaf's lifetime with jitter — or at
 * once on IPC_ROTATE; IPC_CERT_FAIL or a leaf we refuse is retried
 * after 5 s.  Without meshd the sidecar serves on its current leaf; on
 * every new connection it asks once more, so that a restarted meshd
 * knows (and lists) every sidecar's leaf.
 * A later config that cannot be applied is logged and the previous one
 * stays.  When meshd goes away the sidecar keeps serving and reconnects
 * every second, sending HELLO again and accepting the new config.
 * Nothing here blocks: the socket is non-blocking and frames are small.
 */
#ifndef MESH_PCTL_H
#define MESH_PCTL_H

/* Start (connects at once, or retries every second).  on_fatal is called
 * when the first config fails; it is expected not to return. */
void pctl_start(const char *sock_path, const char *instance_id, void (*on_fatal)(void));
/* Disconnect and stop retrying (shutdown). */
void pctl_stop(void);

#endif
