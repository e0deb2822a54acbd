/* SPDX-License-Identifier: ISC */
/*
 * ident: mesh-proxy's mTLS identity under meshd (docs/architecture.md, "Identity").
 *
 * Mode.  A sidecar started by meshd (--control) speaks mTLS to other
 * sidecars: the first config with a trust_domain line turns it on, for
 * good (ident_configure).  From then on transport_mesh() is the TLS
 * transport and no byte goes to or comes from another sidecar until an
 * identity is installed.  `mesh-proxy -c FILE` never calls
 * ident_configure() and stays plain (a debugging mode).
 *
 * Identity.  ident_request() makes a fresh ECDSA P-256 key in memory and
 * the PEM CSR for it (pctl sends it as IPC_CSR); ident_accept() takes
 * meshd's IPC_CERT for that key, checks it (csr.h) and installs it
 * (tlsctx_set_identity): new connections present it, open ones keep the
 * leaf they started with.  Keys never touch disk.  One request is
 * outstanding at a time; a newer request replaces an older one.
 *
 * Trust.  meshd's IPC_TRUST names the roots to accept peers from (two
 * during a root rollover, docs/trust.md); ident_trust() installs them for
 * new connections, server and client side alike.  Before the first
 * IPC_TRUST the CA that came with the leaf is the one root.  After each
 * change the sidecar tells meshd what it holds (ident_report, IPC_IDENT).
 *
 * Checks.  Every sidecar-to-sidecar handshake verifies the chain and the
 * peer's SPIFFE ID (transport_tls.h).  The caller checks the callee is the
 * service the config lists at that port (ident_expect).  The callee
 * applies `allow`: an HTTP inbound per request (ident_allowed, 403 in
 * src/proxy/fwd_route.c), a tcp inbound at the handshake (the connection
 * is closed).
 */
#ifndef MESH_IDENT_H
#define MESH_IDENT_H

#include <stddef.h>
#include <time.h>

#include "mesh/pcfg.h"
#include "mesh/pki.h"

/*
 * Apply cfg's identity lines (before pstate_apply, so that upstreams are
 * made with the right transport).  Turns mTLS on at the first trust
 * domain; afterwards the trust domain may not change (-1).  Updates the
 * tcp inbound's handshake-time `allow`.  0, or -1 with err.
 */
int ident_configure(const struct pcfg *cfg, char *err, size_t errlen);
/* 1 once mTLS is on (then transport_mesh() is TLS). */
int ident_enabled(void);
/* 1 once a leaf is installed. */
int ident_ready(void);

/* A new key and its CSR as PEM for service svc, kept as the pending
 * request.  Length, or -1 with err. */
int ident_request(const char *svc, char *pem, size_t cap, char *err, size_t errlen);
/* Install meshd's answer (leaf PEM then CA PEM; joined mode: leaf,
 * intermediate, root, and the leaf is presented with the intermediate) to
 * the pending request.
 * 0, or -1 with err (the current identity stays). */
int ident_accept(const char *svc, const char *pem, size_t len, char *err, size_t errlen);
/* IPC_TRUST: the roots (PEM certificates) to trust from now on.  With an
 * identity installed, new TLS contexts are built at once.  0, or -1 with
 * err (the previous trust stays). */
int ident_trust(const char *pem, size_t len, char *err, size_t errlen);
/* The IPC_IDENT payload: "leaf <serial>|- roots <serial>...".  Its
 * length (snprintf's). */
int ident_report(char *out, size_t cap);
/* Drop the pending request (its answer can no longer come). */
void ident_cancel(void);
/* Seconds until the next renewal should start (csr_renew_delay: 2/3 of
 * the leaf's remaining lifetime, with jitter). */
double ident_renew_delay(time_t now);
/* The installed leaf's serial, dates and SPIFFE ID; -1 before any. */
int ident_info(struct pki_certinfo *out);

/* HTTP inbound, per request: 1 if service `peer` (the verified caller) may
 * call this instance by the current config's `allow` list. */
int ident_allowed(const char *peer);

/* Free everything (shutdown). */
void ident_free(void);

#endif
