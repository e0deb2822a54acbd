/* SPDX-License-Identifier: ISC */
/*
 * pki internals shared by pki.c (files) and pki_issue.c (certificates).
 * Not a public contract: see include/mesh/pki.h.
 */
#ifndef MESH_PKI_INT_H
#define MESH_PKI_INT_H

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/random.h>

#include <sys/types.h>

#include "mesh/pki.h"

struct pki_ca {
	ecc_key        key;       /* the root key, P-256 */
	WC_RNG         rng;
	int            key_ok;    /* key/rng initialised: free them */
	int            rng_ok;
	unsigned char *der;       /* root certificate */
	size_t         derlen;
	char          *pem;       /* the same, PEM, NUL-terminated */
	size_t         pemlen;
	time_t         not_after; /* leaves never outlive the root */
	/* joined mode (pki_join.c): der/pem are host.crt, an intermediate,
	 * and these its root (root.crt); NULL when der is a root itself */
	unsigned char *root;
	size_t         rootlen;
	char          *rootpem;
	size_t         rootpemlen;
};

void pki_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The two files of a root in the CA directory (pki.h names them). */
struct pki_files {
	const char *key;
	const char *crt;
};
extern const struct pki_files pki_files_active;   /* ca.key, ca.crt */
extern const struct pki_files pki_files_next;     /* next.key, next.crt */

/* A struct pki_ca with its random generator and an empty key, both
 * initialised.  NULL with err naming dir. */
struct pki_ca *pki_ca_alloc(const char *dir, char *err, size_t errlen);

/* Open or (may_create) create the root in dir's files fn.  NULL with err
 * set, or with err empty when !may_create and there is none. */
struct pki_ca *pki_ca_get(const char *dir, const struct pki_files *fn, const char *name,
                          int may_create, int *created, char *err, size_t errlen);
/* The CA directory, checked (pki.c).  An fd, -2 when missing and !create,
 * -1 with err. */
int pki_dir_open(const char *dir, int create, char *err, size_t errlen);
/* A whole small file below dirfd: its length, 0 when missing, -1 with err.
 * must_be_private: refuse one anybody but us may read. */
ssize_t pki_file_read(int dirfd, const char *dir, const char *name, int must_be_private,
                      char *buf, size_t cap, char *err, size_t errlen);
/* Replace name whole (temporary file, fsync, rename).  0 or -1 with err. */
int pki_file_write(int dirfd, const char *dir, const char *name, mode_t mode,
                   const void *data, size_t len, char *err, size_t errlen);

/* Make and sign the self-signed root for ca->key.  DER length or <0. */
int pki_make_root(struct pki_ca *ca, const char *name, time_t now,
                  unsigned char *out, size_t cap);
/* Keep a copy of the root (DER and PEM) and its notAfter.  0 or -1. */
int pki_set_root(struct pki_ca *ca, const unsigned char *der, size_t len);
/* 0 when der is a CA certificate whose public key is ca->key's. */
int pki_root_matches(struct pki_ca *ca, const unsigned char *der, size_t len);

/* 0 when der is an intermediate CA certificate allowed to sign
 * certificates: CA:TRUE, keyCertSign if it has a keyUsage at all, and not
 * self-signed (a root is no intermediate) (pki_bundle.c). */
int pki_signing_ca(const unsigned char *der, size_t len);
/* pki_issue.c's steps, for pki_issue_ca.c: validity (notBefore, notAfter),
 * a random serial, and sign c (for subject key sub) with ca_key.  0 / DER
 * length, or <0. */
int pki_set_validity(Cert *c, time_t before, time_t after);
int pki_set_serial(Cert *c, WC_RNG *rng);
int pki_sign(Cert *c, unsigned char *out, size_t cap, ecc_key *sub, ecc_key *ca_key,
             WC_RNG *rng);

/* DER of wolfSSL's kind `type` (CERT_TYPE, ECC_PRIVATEKEY_TYPE, ...) as
 * PEM into out, NUL-terminated; its length or -1. */
int pki_der_to_pem_as(const unsigned char *der, size_t len, char *out, size_t cap, int type);

/* Encode a DER length (< 65536) at out: 1 to 3 bytes, the count returned. */
size_t pki_der_len(unsigned char *out, size_t n);

/* Mark basicConstraints critical in the TBSCertificate tbs[0..len) (cap
 * bytes of room), before signing.  The new length, or -1. */
int pki_der_bc_critical(unsigned char *tbs, size_t len, size_t cap);

#endif
