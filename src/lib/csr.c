/* SPDX-License-Identifier: ISC */
/*
 * csr: the sidecar's in-memory key, its CSR, and the leaf meshd returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/random.h>

#include "mesh/csr.h"
#include "mesh/pki.h"
#include "mesh/spiffe.h"

struct csr_ident {
	ecc_key        key;
	WC_RNG         rng;
	int            key_ok;
	int            rng_ok;
	unsigned char  keyder[160];   /* SEC1 ECPrivateKey, for wolfSSL_CTX_use_PrivateKey_buffer */
	size_t         keylen;
	unsigned char *leaf;
	size_t         leaflen;
	unsigned char *ca;
	size_t         calen;
	unsigned char *inter;         /* joined mode: the intermediate; NULL none */
	size_t         interlen;
	time_t         not_after;
};

static void
csr_err(char *err, size_t errlen, const char *msg, const char *svc)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "service %s: %s", svc, msg);
}

struct csr_ident *
csr_new(char *err, size_t errlen)
{
	struct csr_ident *id;
	int n;

	if ((id = calloc(1, sizeof(*id))) == NULL) {
		csr_err(err, errlen, "out of memory", "-");
		return NULL;
	}
	if (wc_InitRng(&id->rng) != 0) {
		csr_err(err, errlen, "cannot seed the random generator", "-");
		goto fail;
	}
	id->rng_ok = 1;
	if (wc_ecc_init(&id->key) != 0)
		goto fail_key;
	id->key_ok = 1;
	if (wc_ecc_make_key_ex(&id->rng, 32, &id->key, ECC_SECP256R1) != 0)
		goto fail_key;
	n = wc_EccKeyToDer(&id->key, id->keyder, sizeof(id->keyder));
	if (n <= 0)
		goto fail_key;
	id->keylen = (size_t)n;
	return id;
fail_key:
	csr_err(err, errlen, "cannot generate a P-256 key", "-");
fail:
	csr_free(id);
	return NULL;
}

void
csr_free(struct csr_ident *id)
{
	if (id == NULL)
		return;
	if (id->key_ok)
		wc_ecc_free(&id->key);
	if (id->rng_ok)
		wc_FreeRng(&id->rng);
	free(id->leaf);
	free(id->ca);
	free(id->inter);
	/* the key's DER copy is the one secret here: wipe it */
	memset(id, 0, sizeof(*id));
	free(id);
}

int
csr_request(struct csr_ident *id, const char *svc, unsigned char *out, size_t cap)
{
	Cert *c;
	int n;

	if ((c = wc_CertNew(NULL)) == NULL)
		return -1;
	c->version = 0;             /* PKCS#10 v1 */
	c->sigType = CTC_SHA256wECDSA;
	snprintf(c->subject.commonName, CTC_NAME_SIZE, "%s", svc);
	c->subject.commonNameEnc = CTC_UTF8;
	n = wc_MakeCertReq_ex(c, out, (word32)cap, ECC_TYPE, &id->key);
	if (n >= 0)
		n = wc_SignCert_ex(c->bodySz, c->sigType, out, (word32)cap, ECC_TYPE,
		    &id->key, &id->rng);
	wc_CertFree(c);
	return n > 0 ? n : -1;
}

int
csr_request_pem(struct csr_ident *id, const char *svc, char *out, size_t cap)
{
	unsigned char der[CSR_DER_MAX];
	int n;

	if ((n = csr_request(id, svc, der, sizeof(der))) < 0 || cap < 2)
		return -1;
	n = wc_DerToPem(der, (word32)n, (byte *)out, (word32)(cap - 1), CERTREQ_TYPE);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	return n;
}

/* 0 when the certificate's public key is ours. */
static int
csr_key_matches(struct csr_ident *id, const unsigned char *der, size_t len)
{
	unsigned char mine[128], theirs[160];
	word32 tl = sizeof(theirs);
	DecodedCert dc;
	int ml, rc = -1;

	ml = wc_EccPublicKeyToDer(&id->key, mine, sizeof(mine), 1);
	wc_InitDecodedCert(&dc, der, (word32)len, NULL);
	if (ml > 0 && wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL) == 0 &&
	    wc_GetPubKeyDerFromCert(&dc, theirs, &tl) == 0 &&
	    tl == (word32)ml && memcmp(mine, theirs, tl) == 0)
		rc = 0;
	wc_FreeDecodedCert(&dc);
	return rc;
}

/* 0 when leaf is signed by ca, or by inter signed by ca, and valid at
 * this moment (wolfSSL uses the system clock): the check the TLS
 * handshake will make. */
static int
csr_chain_ok(const unsigned char *leaf, size_t leaflen, const unsigned char *inter,
    size_t interlen, const unsigned char *ca, size_t calen)
{
	struct pki_bundle *b = calloc(1, sizeof(*b));
	char e[128];
	int rc = -1;

	if (b != NULL && pki_bundle_add(b, ca, calen, e, sizeof(e)) == 0 &&
	    pki_chain_verify(b, leaf, leaflen, inter, interlen) == 0)
		rc = 0;
	free(b);
	return rc;
}

int
csr_accept(struct csr_ident *id, const unsigned char *leaf, size_t leaflen,
    const unsigned char *ca, size_t calen, const char *td, const char *svc,
    time_t now, char *err, size_t errlen)
{
	return csr_accept_chain(id, leaf, leaflen, NULL, 0, ca, calen, td, svc, now, err, errlen);
}

int
csr_accept_chain(struct csr_ident *id, const unsigned char *leaf, size_t leaflen,
    const unsigned char *inter, size_t interlen, const unsigned char *ca, size_t calen,
    const char *td, const char *svc, time_t now, char *err, size_t errlen)
{
	struct pki_certinfo info, cainfo;
	struct spiffe_id sid;
	unsigned char *l, *c, *im = NULL;
	int rc;

	if (leaflen == 0 || leaflen > PKI_CERT_MAX || calen == 0 || calen > PKI_CERT_MAX ||
	    pki_cert_info(leaf, leaflen, &info) != 0 || pki_cert_info(ca, calen, &cainfo) != 0) {
		csr_err(err, errlen, "certificate from meshd does not parse", svc);
		return -1;
	}
	if (!cainfo.is_ca) {
		csr_err(err, errlen, "the CA certificate from meshd is not a CA", svc);
		return -1;
	}
	if (inter != NULL && (interlen == 0 || interlen > PKI_CERT_MAX ||
	    pki_cert_info(inter, interlen, &cainfo) != 0 || !cainfo.is_ca)) {
		csr_err(err, errlen, "the intermediate CA certificate from meshd is not a CA", svc);
		return -1;
	}
	if (csr_key_matches(id, leaf, leaflen) != 0) {
		csr_err(err, errlen, "the leaf from meshd is not for our key", svc);
		return -1;
	}
	if ((rc = spiffe_check_der(leaf, leaflen, td, &sid)) != SPIFFE_OK) {
		csr_err(err, errlen, spiffe_strerror(rc), svc);
		return -1;
	}
	if (strcmp(sid.svc, svc) != 0) {
		csr_err(err, errlen, "the leaf from meshd names another service", svc);
		return -1;
	}
	if (info.not_after <= now ||
	    csr_chain_ok(leaf, leaflen, inter, interlen, ca, calen) != 0) {
		csr_err(err, errlen, inter != NULL ? "the leaf from meshd is expired or does not "
		    "chain through its intermediate to its root" : "the leaf from meshd is "
		    "expired or not signed by its CA", svc);
		return -1;
	}
	l = malloc(leaflen);
	c = malloc(calen);
	if (inter != NULL)
		im = malloc(interlen);
	if (l == NULL || c == NULL || (inter != NULL && im == NULL)) {
		free(l);
		free(c);
		free(im);
		csr_err(err, errlen, "out of memory", svc);
		return -1;
	}
	memcpy(l, leaf, leaflen);
	memcpy(c, ca, calen);
	if (im != NULL)
		memcpy(im, inter, interlen);
	free(id->leaf);
	free(id->ca);
	free(id->inter);
	id->leaf = l;
	id->leaflen = leaflen;
	id->ca = c;
	id->calen = calen;
	id->inter = im;
	id->interlen = im != NULL ? interlen : 0;
	id->not_after = info.not_after;
	return 0;
}

/* The certificates of an IPC_CERT payload: where each PEM block starts
 * (at most max); how many there are. */
static size_t
csr_pem_blocks(const char *pem, size_t len, const char **at, size_t max)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	const char *p = pem;
	size_t n = 0;

	while ((p = memmem(p, len - (size_t)(p - pem), begin, sizeof(begin) - 1)) != NULL) {
		if (n < max)
			at[n] = p;
		n++;
		p++;
	}
	return n;
}

int
csr_accept_pem(struct csr_ident *id, const char *pem, size_t len, const char *td,
    const char *svc, time_t now, char *err, size_t errlen)
{
	unsigned char der[3][PKI_CERT_MAX];
	const char *at[4];
	size_t n, i, end;
	int dl[3];

	/* leaf + CA, or (joined mode) leaf + intermediate + root */
	n = csr_pem_blocks(pem, len, at, 4);
	if (n != 2 && n != 3) {
		csr_err(err, errlen, "expected a leaf and a CA certificate from meshd "
		    "(joined mode: leaf, intermediate, root)", svc);
		return -1;
	}
	for (i = 0; i < n; i++) {
		end = i + 1 < n ? (size_t)(at[i + 1] - pem) : len;
		dl[i] = pki_pem_to_der(at[i], end - (size_t)(at[i] - pem), der[i], sizeof(der[i]));
		if (dl[i] <= 0) {
			csr_err(err, errlen, "certificate PEM from meshd does not decode", svc);
			return -1;
		}
	}
	if (n == 2)
		return csr_accept(id, der[0], (size_t)dl[0], der[1], (size_t)dl[1], td, svc, now,
		    err, errlen);
	return csr_accept_chain(id, der[0], (size_t)dl[0], der[1], (size_t)dl[1], der[2],
	    (size_t)dl[2], td, svc, now, err, errlen);
}

const unsigned char *
csr_key_der(const struct csr_ident *id, size_t *len)
{
	*len = id->keylen;
	return id->keyder;
}

const unsigned char *
csr_leaf_der(const struct csr_ident *id, size_t *len)
{
	*len = id->leaflen;
	return id->leaf;
}

const unsigned char *
csr_ca_der(const struct csr_ident *id, size_t *len)
{
	*len = id->calen;
	return id->ca;
}

const unsigned char *
csr_inter_der(const struct csr_ident *id, size_t *len)
{
	*len = id->interlen;
	return id->inter;
}

time_t
csr_not_after(const struct csr_ident *id)
{
	return id->not_after;
}

double
csr_renew_delay(time_t not_after, time_t now, uint32_t rnd)
{
	double left = difftime(not_after, now), d;

	if (left <= 1.5)
		return 1;
	d = left * 2.0 / 3.0 - (left / 15.0) * ((double)rnd / 4294967296.0);
	return d < 1 ? 1 : d;
}
