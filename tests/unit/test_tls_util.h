/* SPDX-License-Identifier: ISC */
/*
 * Fixtures shared by the identity tests (test_pki, test_csr, test_spiffe,
 * test_tlsctx, test_transport_tls): a throw-away CA in a temp directory,
 * identities issued by it, hand-made "bad" leaves signed by its key, and
 * a socketpair handshake pump.  Static functions only: include once per test.
 */
#ifndef TEST_TLS_UTIL_H
#define TEST_TLS_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "pki_int.h"     /* src/: the test signs bad leaves with the CA key */
#include "mesh/csr.h"
#include "mesh/pki.h"
#include "mesh/tlsctx.h"

#define TD "mesh.local"
/* every test uses a different subset of these */
#define TLSU static __attribute__((unused))

struct tca {
	char           dir[64];
	struct pki_ca *ca;
};

/* A CA in a fresh temp dir (removed by tca_close). */
TLSU struct pki_ca *
tca_open(struct tca *t)
{
	char err[256];

	snprintf(t->dir, sizeof(t->dir), "/tmp/meshpki.XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return NULL;
	strcat(t->dir, "/ca");
	t->ca = pki_ca_open(t->dir, "unit", NULL, err, sizeof(err));
	if (t->ca == NULL)
		fprintf(stderr, "tca_open: %s\n", err);
	return t->ca;
}

TLSU void
tca_close(struct tca *t)
{
	char cmd[160];

	pki_ca_free(t->ca);
	t->ca = NULL;
	/* dir is /tmp/meshpki.XXXXXX/ca: remove the parent */
	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(t->dir) - 3), t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "tca_close: cannot remove %s\n", t->dir);
}

/*
 * A sidecar identity for td/svc issued at `now` for ttl seconds and
 * accepted (csr_accept).  With raw != NULL the leaf is not accepted but
 * copied to raw (PKI_CERT_MAX bytes) and *rawlen: for leaves meant to be
 * bad, such as expired ones, that csr_accept would refuse.
 */
/* A bundle of the one root `root`.  0 or -1. */
TLSU int
tbundle_of(struct pki_bundle *b, struct pki_ca *root)
{
	const unsigned char *der;
	char err[128];
	size_t len;

	memset(b, 0, sizeof(*b));
	der = pki_ca_der(root, &len);
	return pki_bundle_add(b, der, len, err, sizeof(err));
}

/* A key for svc and its leaf from ca into leaf (length in leaflen); the key, or NULL
 * (said on stderr, prefixed `who`). */
TLSU struct csr_ident *
tid_request(struct pki_ca *ca, const char *td, const char *svc, time_t now, uint32_t ttl,
    unsigned char *leaf, size_t *leaflen, const char *who)
{
	unsigned char csr[CSR_DER_MAX];
	struct csr_ident *id;
	char err[256];
	int n;

	if ((id = csr_new(err, sizeof(err))) == NULL)
		return NULL;
	n = csr_request(id, svc, csr, sizeof(csr));
	if (n < 0 || pki_issue(ca, csr, (size_t)n, td, svc, ttl, now, leaf, PKI_CERT_MAX,
	    leaflen, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", who, err);
		csr_free(id);
		return NULL;
	}
	return id;
}

TLSU struct csr_ident *
tid_issue(struct pki_ca *ca, const char *td, const char *svc, time_t now, uint32_t ttl,
    unsigned char *raw, size_t *rawlen)
{
	unsigned char leaf[PKI_CERT_MAX];
	const unsigned char *cader;
	size_t leaflen = 0, calen;
	struct csr_ident *id;
	char err[256];

	if ((id = tid_request(ca, td, svc, now, ttl, leaf, &leaflen, "tid_issue")) == NULL)
		return NULL;
	if (raw != NULL) {
		memcpy(raw, leaf, leaflen);
		*rawlen = leaflen;
		return id;
	}
	cader = pki_ca_der(ca, &calen);
	if (csr_accept(id, leaf, leaflen, cader, calen, td, svc, time(NULL),
	    err, sizeof(err)) != 0) {
		fprintf(stderr, "tid_issue: %s\n", err);
		csr_free(id);
		return NULL;
	}
	return id;
}

/*
 * A leaf signed by ca's key for key `sub`, with raw GeneralNames `san`
 * (NULL: none) and CA flag is_ca: the shapes pki_issue never makes.
 * DER length into out, or <0.
 */
TLSU int
tleaf_raw(struct pki_ca *ca, ecc_key *sub, const unsigned char *san, size_t sanlen,
    int is_ca, unsigned char *out, size_t cap)
{
	Cert *c = wc_CertNew(NULL);
	int n;

	if (c == NULL)
		return -1;
	c->sigType = CTC_SHA256wECDSA;
	c->isCA = is_ca;
	c->basicConstSet = 1;
	snprintf(c->subject.commonName, CTC_NAME_SIZE, "bad");
	if (san != NULL) {
		memcpy(c->altNames, san, sanlen);
		c->altNamesSz = (int)sanlen;
	}
	c->daysValid = 1;
	n = wc_SetIssuerBuffer(c, ca->der, (int)ca->derlen);
	if (n == 0)
		n = wc_MakeCert_ex(c, out, (word32)cap, ECC_TYPE, sub, &ca->rng);
	if (n >= 0)
		n = wc_SignCert_ex(c->bodySz, c->sigType, out, (word32)cap, ECC_TYPE, &ca->key,
		    &ca->rng);
	wc_CertFree(c);
	return n;
}

/* A fresh P-256 key (initialised; wc_ecc_free it) and its SEC1 DER. */
TLSU int
tkey_new(struct pki_ca *ca, ecc_key *k, unsigned char *der, size_t *derlen)
{
	int n;

	if (wc_ecc_init(k) != 0 || wc_ecc_make_key_ex(&ca->rng, 32, k, ECC_SECP256R1) != 0)
		return -1;
	n = wc_EccKeyToDer(k, der, 160);
	if (n <= 0)
		return -1;
	*derlen = (size_t)n;
	return 0;
}

/* GeneralNames with the given URIs (each < 120 bytes). */
TLSU size_t
tsan_uris(unsigned char *out, const char *const *uris, size_t n)
{
	size_t off = 2, i, l;

	for (i = 0; i < n; i++) {
		l = strlen(uris[i]);
		out[off++] = 0x86;
		out[off++] = (unsigned char)l;
		memcpy(out + off, uris[i], l);
		off += l;
	}
	out[0] = 0x30;
	out[1] = (unsigned char)(off - 2);
	return off;
}

/* Non-blocking socketpair. */
TLSU int
tpair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	return 0;
}

/* Drive both handshakes to the end.  0 if both completed, -1 if either
 * failed (the other then usually fails too, or waits: bounded). */
TLSU int
tpump(WOLFSSL *cli, WOLFSSL *srv)
{
	int cdone = 0, sdone = 0, i, r, e;

	for (i = 0; i < 200 && !(cdone && sdone); i++) {
		if (!cdone) {
			r = wolfSSL_connect(cli);
			if (r == WOLFSSL_SUCCESS)
				cdone = 1;
			else if ((e = wolfSSL_get_error(cli, r)) != WOLFSSL_ERROR_WANT_READ &&
			    e != WOLFSSL_ERROR_WANT_WRITE)
				return -1;
		}
		if (!sdone) {
			r = wolfSSL_accept(srv);
			if (r == WOLFSSL_SUCCESS)
				sdone = 1;
			else if ((e = wolfSSL_get_error(srv, r)) != WOLFSSL_ERROR_WANT_READ &&
			    e != WOLFSSL_ERROR_WANT_WRITE)
				return -1;
		}
	}
	return cdone && sdone ? 0 : -1;
}

/* Move one message from `from` to `to` (and process post-handshake
 * messages such as TLS 1.3 session tickets on the way).  0 or -1. */
TLSU int
txfer(WOLFSSL *from, WOLFSSL *to, const char *msg)
{
	char buf[256];
	int n, i;

	if (wolfSSL_write(from, msg, (int)strlen(msg)) != (int)strlen(msg))
		return -1;
	for (i = 0; i < 50; i++) {
		n = wolfSSL_read(to, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			return strcmp(buf, msg) == 0 ? 0 : -1;
		}
		if (wolfSSL_get_error(to, n) != WOLFSSL_ERROR_WANT_READ)
			return -1;
	}
	return -1;
}

TLSU void
tident(const struct csr_ident *id, struct tlsctx_ident *ti)
{
	ti->key = csr_key_der(id, &ti->keylen);
	ti->leaf = csr_leaf_der(id, &ti->leaflen);
	ti->ca = csr_ca_der(id, &ti->calen);
	ti->inter = csr_inter_der(id, &ti->interlen);
}

/* A DER UTCTime of t, tag and length included, into out (>= 15 bytes). */
TLSU int
tasn_time(unsigned char *out, time_t t)
{
	char txt[64];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || snprintf(txt, sizeof(txt), "%02d%02d%02d%02d%02d%02dZ",
	    tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec) != 13)
		return -1;
	memcpy(out + 2, txt, 13);
	out[0] = 0x17;
	out[1] = 13;
	return 15;
}

/*
 * An intermediate CA under root, as `meshctl join` makes one: a fresh
 * key, subject "meshctl intermediate" (the same for every one: names must
 * not decide anything), CA:TRUE pathlen 0 when is_ca (else CA:FALSE),
 * keyUsage ku, valid nb..na, signed by root's key.  A struct pki_ca that
 * pki_issue() signs leaves with, chaining to root (pki_ca_root_der).
 */
TLSU struct pki_ca *
tinter_new(struct pki_ca *root, int is_ca, const char *ku, time_t nb, time_t na)
{
	unsigned char der[PKI_CERT_MAX];
	struct pki_ca *ca;
	Cert *c;
	int n = -1;

	if ((ca = pki_ca_alloc("test", NULL, 0)) == NULL)
		return NULL;
	if (wc_ecc_make_key_ex(&ca->rng, 32, &ca->key, ECC_SECP256R1) != 0 ||
	    (c = wc_CertNew(NULL)) == NULL)
		goto fail;
	c->version = 2;
	c->sigType = CTC_SHA256wECDSA;
	c->isCA = is_ca;
	c->basicConstSet = 1;
	c->pathLen = 0;
	c->pathLenSet = is_ca;
	snprintf(c->subject.commonName, CTC_NAME_SIZE, "meshctl intermediate");
	c->subject.commonNameEnc = CTC_UTF8;
	c->serial[0] = 0x41;
	if (wc_RNG_GenerateBlock(&ca->rng, c->serial + 1, 15) == 0)
		c->serialSz = 16;
	c->beforeDateSz = tasn_time(c->beforeDate, nb);
	c->afterDateSz = tasn_time(c->afterDate, na);
	if (wc_SetIssuerBuffer(c, root->der, (int)root->derlen) == 0 &&
	    wc_SetKeyUsage(c, ku) == 0 &&
	    wc_SetSubjectKeyIdFromPublicKey_ex(c, ECC_TYPE, &ca->key) == 0 &&
	    wc_SetAuthKeyIdFromPublicKey_ex(c, ECC_TYPE, &root->key) == 0 &&
	    (n = wc_MakeCert_ex(c, der, sizeof(der), ECC_TYPE, &ca->key, &ca->rng)) >= 0)
		n = wc_SignCert_ex(c->bodySz, c->sigType, der, sizeof(der), ECC_TYPE, &root->key,
		    &ca->rng);
	wc_CertFree(c);
	if (n <= 0 || pki_set_root(ca, der, (size_t)n) != 0)
		goto fail;
	ca->root = malloc(root->derlen);
	ca->rootpem = malloc(PKI_PEM_MAX);
	if (ca->root == NULL || ca->rootpem == NULL)
		goto fail;
	memcpy(ca->root, root->der, root->derlen);
	ca->rootlen = root->derlen;
	if ((n = pki_der_to_pem(ca->root, ca->rootlen, ca->rootpem, PKI_PEM_MAX)) < 0)
		goto fail;
	ca->rootpemlen = (size_t)n;
	return ca;
fail:
	fprintf(stderr, "tinter_new: cannot make the intermediate\n");
	pki_ca_free(ca);
	return NULL;
}

/* A good intermediate under root, valid from an hour ago for a day. */
TLSU struct pki_ca *
tinter_good(struct pki_ca *root)
{
	time_t now = time(NULL);

	return tinter_new(root, 1, "keyCertSign,cRLSign", now - 3600, now + 86400);
}

/*
 * A sidecar identity issued by the intermediate inter and accepted with
 * its chain (csr_accept_chain): what a sidecar on a joined host holds.
 * With raw != NULL, as tid_issue: the leaf copied out, not accepted.
 */
TLSU struct csr_ident *
tid_issue_chain(struct pki_ca *inter, const char *td, const char *svc, time_t now,
    uint32_t ttl, unsigned char *raw, size_t *rawlen)
{
	unsigned char leaf[PKI_CERT_MAX];
	const unsigned char *rootder;
	size_t leaflen = 0, rootlen;
	struct csr_ident *id;
	char err[256];

	if ((id = tid_request(inter, td, svc, now, ttl, leaf, &leaflen,
	    "tid_issue_chain")) == NULL)
		return NULL;
	if (raw != NULL) {
		memcpy(raw, leaf, leaflen);
		*rawlen = leaflen;
		return id;
	}
	rootder = pki_ca_root_der(inter, &rootlen);
	if (csr_accept_chain(id, leaf, leaflen, inter->der, inter->derlen, rootder, rootlen, td,
	    svc, time(NULL), err, sizeof(err)) != 0) {
		fprintf(stderr, "tid_issue_chain: %s\n", err);
		csr_free(id);
		return NULL;
	}
	return id;
}

/* Write a joined host's files for inter into dir (made 0700): host.key
 * (0600), host.crt, root.crt.  0 or -1. */
TLSU int
tjoin_write(const char *dir, struct pki_ca *inter)
{
	unsigned char kder[256];
	char pem[PKI_PEM_MAX], path[256];
	const char *rp;
	size_t rl;
	FILE *f;
	int kn, n;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return -1;
	kn = wc_EccKeyToDer(&inter->key, kder, sizeof(kder));
	n = kn > 0 ? wc_DerToPem(kder, (word32)kn, (byte *)pem, sizeof(pem), ECC_PRIVATEKEY_TYPE) : -1;
	snprintf(path, sizeof(path), "%s/host.key", dir);
	if (n <= 0 || (f = fopen(path, "w")) == NULL)
		return -1;
	fwrite(pem, 1, (size_t)n, f);
	fclose(f);
	if (chmod(path, 0600) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/host.crt", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fwrite(inter->pem, 1, inter->pemlen, f);
	fclose(f);
	rp = pki_ca_root_pem(inter, &rl);
	snprintf(path, sizeof(path), "%s/root.crt", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fwrite(rp, 1, rl, f);
	fclose(f);
	return 0;
}

#endif
