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
 * the leaf PEM followed by the CA PEM (joined mode, pki.h: the leaf, the
 * intermediate, the root).  Keys stay in the sidecars.
 *
 * Rotation: mcert_rotate_begin() marks the instances whose sidecar is
 * connected (control.c sends them IPC_ROTATE); each mark clears when that
 * instance gets a leaf with another serial.
 */
#ifndef MESH_MCERT_H
#define MESH_MCERT_H

#include <stddef.h>
#include <stdio.h>

#include <time.h>

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

/* Joined mode (pki.h) only, else nothing: status's line "ca: intermediate
 * ... under root ..." (json: the member ,"ca":{"mode":"joined",
 * "intermediate":{...},"root":{...}} of "mesh"). */
void mcert_status_ca(FILE *f, int json);

/* `certs` (a table) / `certs --json`: per instance, identity, serial,
 * not-before, not-after.  *out malloc'd.  0 / -1 (out of memory). */
int  mcert_format(const struct meshd *m, int json, char **out, size_t *len);

/* Mark instance in for rotation (its sidecar was sent IPC_ROTATE). */
void mcert_rotate_mark(const struct meshd *m, const struct inst *in);
/* Instances still waiting for their new leaf; their names in buf. */
size_t mcert_rotate_pending(const struct meshd *m, char *buf, size_t size);
/* Forget every mark (the wait ended). */
void mcert_rotate_clear(void);

/*
 * Root rollover (mcert_roll.c; docs/trust.md, "Rotating the root").  The
 * phases, each persisted in <state_dir>/ca/rollover so that a restarted
 * meshd resumes where it stopped:
 *   TRUST  a new root beside the old one (next.key 0600, next.crt); every
 *          sidecar is sent both (IPC_TRUST) and leaves still come from the
 *          old root.  Ends when every running sidecar reported (IPC_IDENT)
 *          that it trusts both; after MCERT_TRUST_MAX_S without that the
 *          rollover is abandoned (bundle back to the old root, next.*
 *          removed): nobody holds a leaf from the new root yet.
 *   SIGN   leaves come from the new root; every attached sidecar is asked
 *          to renew (IPC_ROTATE).  The old root retires once every running
 *          sidecar reported a leaf from the new root, MCERT_GRACE_S after
 *          the last one (handshakes already under way finish), or at the
 *          deadline at the latest: the switch plus cert_ttl, when every
 *          leaf the old root signed has expired.
 *   retired: next.* become ca.* (the old root's files are gone), phase
 *          NONE, every sidecar is sent the new root alone.
 * "Running sidecar": an instance whose sidecar process is PROC_RUNNING or
 * PROC_STOPPING (draining, it still serves); a sidecar that is not running
 * holds no leaf, and one that starts later gets the current bundle at
 * HELLO and a leaf from the current signer.
 */
#define MCERT_TRUST_MAX_S  30
#define MCERT_GRACE_S      2

enum mcert_step {
	MCERT_STEP_IDLE,     /* no rollover */
	MCERT_STEP_WAIT,     /* in progress, nothing changed */
	MCERT_STEP_SIGN,     /* TRUST -> SIGN now: ask every sidecar to renew */
	MCERT_STEP_RETIRED,  /* the old root retired: push the bundle */
	MCERT_STEP_ABORTED,  /* abandoned in TRUST: push the bundle (why says why) */
};

/* `meshctl certs --rotate-root`: make the new root, persist phase TRUST.
 * 0 started (push the bundle to every sidecar), 1 one is already under
 * way, -1 with err. */
int  mcert_roll_begin(struct meshd *m, time_t now, char *err, size_t errlen);
/* mcert_open()'s: take up a rollover found on disk.  0 or -1 with err. */
int  mcert_roll_resume(struct meshd *m, const struct pki_roll *st, char *err, size_t errlen);
enum pki_roll_phase mcert_roll_phase(void);
/* Advance the rollover by what the sidecars reported and the clock. */
enum mcert_step mcert_roll_step(struct meshd *m, time_t now, char *why, size_t size);
/* The instances the current phase waits for: count, names in buf. */
size_t mcert_roll_pending(const struct meshd *m, char *buf, size_t size);
/* 1 in phase SIGN when in's sidecar reported a leaf that is not the one
 * the new root issued it (a CSR was in flight at the switch): ask again. */
int  mcert_roll_stale(const struct meshd *m, const struct inst *in);
/* The IPC_TRUST payload of the current phase (PEM roots), malloc'd. 0 / -1. */
int  mcert_bundle_pem(char **out, size_t *len);
/* in's sidecar said HELLO: nothing is known of what it holds yet. */
void mcert_ident_reset(const struct meshd *m, const struct inst *in);
/* IPC_IDENT "leaf <serial>|- roots <serial>..." from in's sidecar.
 * 0, or -1 if malformed. */
int  mcert_ident_report(const struct meshd *m, const struct inst *in, const char *p,
                        size_t len);

#endif
