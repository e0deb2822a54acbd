/* SPDX-License-Identifier: ISC */
/*
 * mcert: meshd's side of the mesh identities — the CA (pki.h) under
 * <state_dir>/ca/, issuing each sidecar its leaf, and what `meshctl
 * certs` and status show about them.
 *
 * The CSR flow: a sidecar that passed HELLO (control.c checked by
 * SO_PEERCRED that it is the process meshd started for that instance)
 * sends IPC_CSR with a PEM request; mcert_issue() signs a leaf for
 * spiffe://<trust_domain>/svc/<that instance's service>, valid cert_ttl,
 * ignoring every name in the request, and returns the IPC_CERT payload:
 * the leaf PEM followed by the CA PEM.  Keys stay in the sidecars.
 *
 * Rotation: mcert_rotate_begin() marks the instances whose sidecar is
 * connected (control.c sends them IPC_ROTATE); each mark clears when that
 * instance gets a leaf with another serial.
 */
#ifndef MESH_MCERT_H
#define MESH_MCERT_H

#include <stddef.h>
#include <stdio.h>

#include "mesh/meshd_ctx.h"
#include "mesh/pki.h"

struct inst;

/* Open or create the CA in <state_dir>/ca (before any sidecar starts).
 * 0, or -1 with an actionable message naming the file in err. */
int  mcert_open(struct meshd *m, char *err, size_t errlen);
void mcert_close(void);

/* IPC_CSR from in's sidecar: the IPC_CERT payload in *out (malloc'd,
 * *outlen bytes).  0, or -1 with the reason in err (sent as IPC_CERT_FAIL). */
int  mcert_issue(struct meshd *m, struct inst *in, const char *csr_pem, size_t len,
                 char **out, size_t *outlen, char *err, size_t errlen);

/* The leaf last issued to instance `in` (NULL: none yet). */
const struct pki_certinfo *mcert_info(const struct meshd *m, const struct inst *in);

/* {"spiffe_id","serial","not_before","not_after"} of ci (times ISO 8601
 * UTC), or null: the "cert" member of an instance in status --json. */
void mcert_json(FILE *f, const struct pki_certinfo *ci);

/* `certs` (a table) / `certs --json`: per instance, identity, serial,
 * not-before, not-after.  *out malloc'd.  0 / -1 (out of memory). */
int  mcert_format(const struct meshd *m, int json, char **out, size_t *len);

/* Mark instance in for rotation (its sidecar was sent IPC_ROTATE). */
void mcert_rotate_mark(const struct meshd *m, const struct inst *in);
/* Instances still waiting for their new leaf; their names in buf. */
size_t mcert_rotate_pending(const struct meshd *m, char *buf, size_t size);
/* Forget every mark (the wait ended). */
void mcert_rotate_clear(void);

#endif
