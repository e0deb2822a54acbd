/* SPDX-License-Identifier: ISC */
/*
 * pki: meshd's certificate authority (wolfSSL).
 *
 * The root is an ECDSA P-256 key and a self-signed certificate:
 * CA:TRUE with pathlen 0 and KeyUsage keyCertSign (both critical), valid
 * ten years.  They live in one directory, normally <state_dir>/ca/:
 *   ca.key   PEM "EC PRIVATE KEY", mode 0600   the only key on disk
 *   ca.crt   PEM certificate, mode 0644        what `openssl verify -CAfile` takes
 * The directory is created 0700.  A start refuses, naming the file, when
 * ca.key is not a regular file owned by us or any group/other permission
 * bit is set on it, or the directory is writable by group or others.
 *
 * Leaves are issued from a DER CSR.  The CSR proves possession of the key
 * (its signature is checked) and contributes its public key; every name in
 * it is ignored.  The leaf carries what meshd knows about the peer:
 *   subject CN=<service>
 *   SAN     exactly one URI spiffe://<trust_domain>/svc/<service>
 *   basicConstraints CA:FALSE (critical)
 *   keyUsage digitalSignature (critical)
 *   extendedKeyUsage serverAuth, clientAuth
 *   notBefore = now - PKI_BACKDATE_SEC (clock skew between processes is
 *   nil on one host, but a stepped clock is not), notAfter = now + ttl,
 *   capped at the root's notAfter.
 * Serials are 16 random bytes.  Not thread-safe: one meshd loop owns it.
 */
#ifndef MESH_PKI_H
#define MESH_PKI_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mesh/spiffe.h"

#define PKI_BACKDATE_SEC  300
#define PKI_CA_DAYS       3650
#define PKI_TTL_MIN       10                  /* seconds; tests use short TTLs */
#define PKI_TTL_MAX       (366u * 24 * 3600)
#define PKI_CERT_MAX      4096                /* DER bytes: ours are ~600 */
#define PKI_CSR_MAX       4096
#define PKI_PEM_MAX       (PKI_CERT_MAX * 2)  /* base64 + headers fit */

struct pki_ca;

struct pki_certinfo {
	char   serial[2 * 32 + 1];       /* lower-case hex, as openssl shows it */
	time_t not_before;
	time_t not_after;
	char   uri[SPIFFE_URI_MAX + 1];  /* the first URI SAN, "" if none */
	int    is_ca;
};

/*
 * Open the CA in dir: load ca.key + ca.crt, or create both when neither
 * exists (then *created = 1).  name becomes the root's subject CN
 * ("meshctl CA <name>", truncated to 63 bytes).  NULL on failure with
 * an actionable message naming the file in err (errlen bytes).
 */
struct pki_ca *pki_ca_open(const char *dir, const char *name, int *created,
                           char *err, size_t errlen);
void           pki_ca_free(struct pki_ca *ca);

/*
 * For `meshctl check`: the same checks as pki_ca_open() without creating
 * anything.  1 with the root's info when a usable CA is there, 0 when
 * there is none yet (the first start makes it), -1 with err set when a
 * start would refuse.
 */
int pki_ca_check(const char *dir, struct pki_certinfo *root, char *err, size_t errlen);

/* The root certificate, DER and PEM (NUL-terminated); owned by ca. */
const unsigned char *pki_ca_der(const struct pki_ca *ca, size_t *len);
const char          *pki_ca_pem(const struct pki_ca *ca, size_t *len);

/*
 * Issue a leaf for spiffe://td/svc/svc from csr (DER, at most PKI_CSR_MAX)
 * valid ttl seconds from now (PKI_TTL_MIN..PKI_TTL_MAX).  Writes DER into
 * out (cap bytes; PKI_CERT_MAX is enough) and its length to *outlen.
 * 0, or -1 with the reason in err.
 */
int pki_issue(struct pki_ca *ca, const unsigned char *csr, size_t csrlen,
              const char *td, const char *svc, uint32_t ttl, time_t now,
              unsigned char *out, size_t cap, size_t *outlen,
              char *err, size_t errlen);

/* Serial, validity, first URI SAN and CA flag of a DER certificate.
 * 0, or -1 if it does not parse. */
int pki_cert_info(const unsigned char *der, size_t len, struct pki_certinfo *out);

/* Certificate DER <-> PEM.  Output length (PEM NUL-terminated), or -1. */
int pki_der_to_pem(const unsigned char *der, size_t len, char *out, size_t cap);
int pki_pem_to_der(const char *pem, size_t len, unsigned char *out, size_t cap);

/*
 * Drop wolfSSL's fixed-point ECC tables (FP_ECC: Debian's build caches a
 * precomputed table of ~800 KB per curve point it multiplies twice — the
 * generator, the CA key — which took a sidecar from 2.5 to 7 MB).  Called
 * (by meshd after issuing, by the sidecar after a handshake) when a handshake or a certificate operation ends: connections are
 * pooled, so handshakes are rare and a cold table costs little, while
 * every sidecar keeping four of them costs megabytes.
 */
void pki_trim(void);

#endif
