/* SPDX-License-Identifier: ISC */
/*
 * pki: meshd's certificate authority (wolfSSL).
 *
 * The root is an ECDSA P-256 key and a self-signed certificate:
 * CA:TRUE with pathlen 1 (room for a joined host's intermediate) and
 * KeyUsage keyCertSign (both critical), valid ten years.  They live in
 * one directory, normally <state_dir>/ca/:
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
 *
 * Root rollover (docs/trust.md, "Rotating the root") keeps the new root
 * beside the active one until the old one retires:
 *   next.key  PEM, mode 0600    the new root's key (the only other key)
 *   next.crt  PEM, mode 0644
 *   rollover  text, mode 0600   "phase trust|sign|retire", "since T",
 *                               "deadline T" (Unix seconds), one a line
 * Every file is replaced whole (temporary name, fsync, rename).  The
 * state file is written after next.* (so next.* without it are an
 * unfinished start, discarded) and before the promotion, which renames
 * next.crt over ca.crt, then next.key over ca.key (the old root's files
 * go with that), then removes the state file; pki_roll_recover() finishes
 * a promotion a crash interrupted.
 *
 * Joined mode (pki_join.c; a host that `meshctl join`ed another's mesh).
 * The root's key stays on the host that made it; this host holds an
 * intermediate CA signed by that root:
 *   host.key  PEM EC private key (P-256), mode 0600
 *   host.crt  PEM, the intermediate: CA:TRUE, keyCertSign, signed by root.crt
 *   root.crt  PEM, the mesh's root (no key)
 * and no ca.key.  host.crt present means joined mode.  Leaves are then
 * signed by the intermediate (issuer = its subject, notAfter capped at
 * its notAfter), and a sidecar presents leaf + intermediate; peers trust
 * the root alone.  There is no rollover of either here: the root is
 * rotated on the root host, the intermediate by joining again.
 * Roots are made with pathlen 1; one made before joining existed says
 * pathlen 0, and the root host refuses to sign an intermediate under it
 * (pki_issue_ca()).  The constraint is not enforced when verifying
 * (wolfSSL does not, in a handshake or here).
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
#define PKI_BUNDLE_MAX    4                   /* roots trusted at once: 2 in a rollover */

#define PKI_KEY_FILE       "ca.key"
#define PKI_CRT_FILE       "ca.crt"
#define PKI_NEXT_KEY_FILE  "next.key"
#define PKI_NEXT_CRT_FILE  "next.crt"
#define PKI_ROLL_FILE      "rollover"
#define PKI_HOST_KEY_FILE  "host.key"
#define PKI_HOST_CRT_FILE  "host.crt"
#define PKI_ROOT_CRT_FILE  "root.crt"

struct pki_ca;

struct pki_certinfo {
	char   serial[2 * 32 + 1];       /* lower-case hex, as openssl shows it */
	time_t not_before;
	time_t not_after;
	char   uri[SPIFFE_URI_MAX + 1];  /* the first URI SAN, "" if none */
	char   cn[64];                   /* the subject's CN, "" if none (truncated) */
	int    is_ca;
};

/* A trust bundle: the roots a sidecar accepts peers from (1..PKI_BUNDLE_MAX
 * CA certificates, DER, no two alike). */
struct pki_bundle {
	size_t n;
	struct {
		unsigned char der[PKI_CERT_MAX];
		size_t        len;
		char          serial[2 * 32 + 1];
	} root[PKI_BUNDLE_MAX];
};

/* The phases of a root rollover, in order (mcert.h drives them). */
enum pki_roll_phase {
	PKI_ROLL_NONE,     /* one root */
	PKI_ROLL_TRUST,    /* next.* made; sidecars are told to trust both */
	PKI_ROLL_SIGN,     /* leaves come from next; the old root is retiring */
	PKI_ROLL_RETIRE,   /* promoting next.* to ca.* (only seen after a crash) */
};

struct pki_roll {
	enum pki_roll_phase phase;
	time_t              since;     /* the phase began */
	time_t              deadline;  /* SIGN: every old-root leaf has expired by then */
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

/* ---- a joined host's intermediate CA (pki_issue_ca.c; jtok.h) ---- */

#define PKI_CA_CHILD_MAX_S (365 * 86400)   /* an intermediate's longest life */

/* The root in dir (ca.key + ca.crt), never creating one.  NULL with err
 * (none: "no root CA key on this host"). */
struct pki_ca *pki_ca_load_root(const char *dir, char *err, size_t errlen);
/*
 * Sign an intermediate CA for host from csr (DER; ECDSA P-256, its
 * self-signature checked): subject CN "<host> intermediate", O <mesh>;
 * CA:TRUE pathlen 0 and keyUsage keyCertSign, cRLSign (critical); valid
 * from now - PKI_BACKDATE_SEC for the root's remaining life, at most
 * PKI_CA_CHILD_MAX_S; a random serial.  Refused when the root itself has
 * pathlen 0 (roots made before joining existed).  DER into out; 0 or -1
 * with err.
 */
int pki_issue_ca(struct pki_ca *ca, const unsigned char *csr, size_t csrlen,
                 const char *host, const char *mesh, time_t now,
                 unsigned char *out, size_t cap, size_t *outlen, char *err, size_t errlen);
/* The joining host's check of what came back: cert (DER) is a CA for the
 * private key keyder (SEC1 DER), signed by root (DER, a CA) and valid
 * now.  0, or -1 with err. */
int pki_ca_child_check(const unsigned char *cert, size_t len, const unsigned char *root,
                       size_t rootlen, const unsigned char *keyder, size_t keylen,
                       char *err, size_t errlen);
/* A PEM certificate request to DER; its length or -1. */
int pki_csr_pem_to_der(const char *pem, size_t len, unsigned char *out, size_t cap);
/* An EC private key (SEC1 DER) as PEM "EC PRIVATE KEY"; length or -1. */
int pki_key_to_pem(const unsigned char *der, size_t len, char *out, size_t cap);

/* ---- trust bundles (pki_bundle.c) ---- */

/* Add a root (a DER CA certificate).  Already there: 0, nothing changes.
 * -1 with err when it does not parse, is no CA, or the bundle is full. */
int pki_bundle_add(struct pki_bundle *b, const unsigned char *der, size_t len,
                   char *err, size_t errlen);
/* Replace b by the CA certificates of pem (1..PKI_BUNDLE_MAX, nothing
 * but whitespace around them): the IPC_TRUST payload.  0, or -1 with err
 * and b emptied. */
int pki_bundle_from_pem(struct pki_bundle *b, const char *pem, size_t len,
                        char *err, size_t errlen);
/* The roots as PEM, one after the other, NUL-terminated; length or -1. */
int pki_bundle_to_pem(const struct pki_bundle *b, char *out, size_t cap);
/* 1 if the root with this serial (pki_certinfo's hex) is in b. */
int pki_bundle_has_serial(const struct pki_bundle *b, const char *serial);
/* The serials, space-separated, in b's order ("" when empty). */
void pki_bundle_serials(const struct pki_bundle *b, char *out, size_t cap);
/* 0 when leaf (DER) is signed by one of b's roots and valid now, -1 not. */
int pki_bundle_verify(const struct pki_bundle *b, const unsigned char *leaf, size_t len);

/* 0 when leaf (DER) chains to one of b's roots and is valid now: signed
 * by a root directly (inter NULL), or by inter, a CA certificate (with
 * keyCertSign when it has a keyUsage) that a root of b signed and that
 * is valid now.  -1 not. */
int pki_chain_verify(const struct pki_bundle *b, const unsigned char *leaf, size_t len,
                     const unsigned char *inter, size_t interlen);

/* ---- joined mode (pki_join.c), in the CA directory dir ---- */

/* 1 when dir holds host.crt (joined mode), 0 not. */
int pki_joined(const char *dir);
/* Load host.key, host.crt and root.crt, checked: host.crt parses, is a
 * CA (keyCertSign), holds host.key's public key, is signed by root.crt
 * and is not self-signed, both are valid now; host.key is private
 * (as ca.key); no ca.key beside them.  NULL with err naming the file. */
struct pki_ca *pki_ca_open_joined(const char *dir, char *err, size_t errlen);
/* 1 when ca is an intermediate (pki_ca_open_joined), 0 a root. */
int pki_ca_is_inter(const struct pki_ca *ca);
/* The root above ca: root.crt for an intermediate, else ca's own
 * certificate.  DER / PEM (NUL-terminated); owned by ca. */
const unsigned char *pki_ca_root_der(const struct pki_ca *ca, size_t *len);
const char          *pki_ca_root_pem(const struct pki_ca *ca, size_t *len);

/* ---- rollover files (pki_roll.c), all in the CA directory dir ---- */

/* Open the new root (next.*), creating it when create and neither file
 * exists (*created = 1).  name: as pki_ca_open's.  NULL with err set, or
 * with err empty when !create and there is none. */
struct pki_ca *pki_ca_open_next(const char *dir, const char *name, int create, int *created,
                                char *err, size_t errlen);
/* The state file: 1 read into *st, 0 none, -1 with err (unreadable or
 * malformed). */
int pki_roll_read(const char *dir, struct pki_roll *st, char *err, size_t errlen);
/* Write it (phase NONE removes it).  0 or -1 with err. */
int pki_roll_write(const char *dir, const struct pki_roll *st, char *err, size_t errlen);
/* Remove next.* (a rollover abandoned before any leaf came from it). */
int pki_roll_discard(const char *dir, char *err, size_t errlen);
/* Retire the old root: state RETIRE, next.crt -> ca.crt, next.key ->
 * ca.key, state removed, the directory synced.  0 or -1 with err (run
 * again: every step may be repeated). */
int pki_roll_promote(const char *dir, char *err, size_t errlen);
/* At start, before pki_ca_open(): finish a promotion a crash interrupted,
 * drop next.* left without a state file.  *st: the rollover to resume
 * (phase NONE: none).  0, or -1 with err. */
int pki_roll_recover(const char *dir, struct pki_roll *st, char *err, size_t errlen);

/*
 * Drop wolfSSL's fixed-point ECC tables (FP_ECC: Debian's build caches a
 * precomputed table of ~800 KB per curve point it multiplies twice — the
 * generator, the CA key — which took a sidecar from 2.5 to 7 MB).  Called
 * by meshd after issuing, and by a sidecar after a certificate change or
 * TLS_TRIM_IDLE_S after its last handshake (transport_tls.c): connections
 * are pooled, so handshakes come rarely or in bursts; a burst shares the
 * tables, and an idle sidecar keeping four of them would cost megabytes.
 * Then, whatever wolfSSL is built with, malloc_trim(0): the memory a burst
 * of handshakes freed goes back to the kernel.
 */
void pki_trim(void);

#endif
