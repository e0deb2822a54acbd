/* SPDX-License-Identifier: ISC */
/*
 * csr: a sidecar's identity, kept in memory only.
 *
 * Lifecycle of one identity (a renewal makes a fresh one, so every leaf
 * has its own key):
 *   csr_new()       generate an ECDSA P-256 key
 *   csr_request()   a DER (or PEM) CSR for meshd; the subject CN it
 *                   carries is a hint for logs, meshd ignores it
 *   csr_accept()    take the leaf + CA meshd sent: the leaf must hold our
 *                   public key, chain to that CA, carry exactly our
 *                   SPIFFE ID and be valid now; else it is refused
 *   csr_key_der()/csr_leaf_der()/csr_ca_der()  feed tlsctx_set_identity()
 *   csr_free()      wipes the key
 * The private key never touches disk: csr_key_der() exposes it only to
 * load it into a WOLFSSL_CTX in the same process.
 *
 * Renewal: csr_renew_delay() says when to ask for the next leaf.
 */
#ifndef MESH_CSR_H
#define MESH_CSR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CSR_DER_MAX 1024   /* a P-256 CSR is ~250 bytes */

struct csr_ident;

/* NULL on failure (no entropy, no memory), with the reason in err. */
struct csr_ident *csr_new(char *err, size_t errlen);
void              csr_free(struct csr_ident *id);

/* The CSR for service svc (a log hint only).  Length, or -1. */
int csr_request(struct csr_ident *id, const char *svc, unsigned char *out, size_t cap);
int csr_request_pem(struct csr_ident *id, const char *svc, char *out, size_t cap);

/*
 * Accept the leaf meshd issued, and the CA bundle (one root) to trust.
 * td/svc: the identity we expect.  now: the current time.
 * 0, or -1 with the reason in err (the identity is then unchanged).
 */
int csr_accept(struct csr_ident *id, const unsigned char *leaf, size_t leaflen,
               const unsigned char *ca, size_t calen, const char *td,
               const char *svc, time_t now, char *err, size_t errlen);
/* The same in joined mode (pki.h): leaf signed by inter, an intermediate
 * CA signed by ca, the root to trust.  inter NULL: csr_accept(). */
int csr_accept_chain(struct csr_ident *id, const unsigned char *leaf, size_t leaflen,
                     const unsigned char *inter, size_t interlen,
                     const unsigned char *ca, size_t calen, const char *td,
                     const char *svc, time_t now, char *err, size_t errlen);
/* The same, from the IPC_CERT payload: "leaf PEM" then "CA PEM", or (joined
 * mode) "leaf PEM", "intermediate PEM", "root PEM". */
int csr_accept_pem(struct csr_ident *id, const char *pem, size_t len,
                   const char *td, const char *svc, time_t now,
                   char *err, size_t errlen);

/* What was accepted; NULL / 0 before csr_accept(). Owned by id. */
const unsigned char *csr_key_der(const struct csr_ident *id, size_t *len);
const unsigned char *csr_leaf_der(const struct csr_ident *id, size_t *len);
const unsigned char *csr_ca_der(const struct csr_ident *id, size_t *len);
/* The intermediate to present after the leaf: NULL (len 0) when none. */
const unsigned char *csr_inter_der(const struct csr_ident *id, size_t *len);
time_t               csr_not_after(const struct csr_ident *id);

/*
 * Seconds from now until a renewal should start for a leaf that expires
 * at not_after: two thirds of the remaining lifetime, minus a jitter of up
 * to 1/15 of it (so between 60% and 66.7%), so that sidecars started
 * together do not all ask meshd at once.  rnd: any random 32-bit value.
 * Counted from the time the leaf arrived, not from its notBefore, which
 * is backdated.  Never less than 1.
 */
double csr_renew_delay(time_t not_after, time_t now, uint32_t rnd);

#endif
