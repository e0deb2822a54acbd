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

/* 0 when leaf is signed by ca and valid at this moment (wolfSSL uses the
 * system clock), the same check the TLS handshake will make. */
static int
csr_chain_ok(const unsigned char *leaf, size_t leaflen, const unsigned char *ca, size_t calen)
{
	WOLFSSL_CERT_MANAGER *cm;
	int rc = -1;

	if ((cm = wolfSSL_CertManagerNew()) == NULL)
		return -1;
	if (wolfSSL_CertManagerLoadCABuffer(cm, ca, (long)calen, WOLFSSL_FILETYPE_ASN1) ==
	    WOLFSSL_SUCCESS &&
	    wolfSSL_CertManagerVerifyBuffer(cm, leaf, (long)leaflen, WOLFSSL_FILETYPE_ASN1) ==
	    WOLFSSL_SUCCESS)
		rc = 0;
	wolfSSL_CertManagerFree(cm);
	return rc;
}

int
csr_accept(struct csr_ident *id, const unsigned char *leaf, size_t leaflen,
    const unsigned char *ca, size_t calen, const char *td, const char *svc,
    time_t now, char *err, size_t errlen)
{
	struct pki_certinfo info, cainfo;
	struct spiffe_id sid;
	unsigned char *l, *c;
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
	if (info.not_after <= now || csr_chain_ok(leaf, leaflen, ca, calen) != 0) {
		csr_err(err, errlen, "the leaf from meshd is expired or not signed by its CA", svc);
		return -1;
	}
	l = malloc(leaflen);
	c = malloc(calen);
	if (l == NULL || c == NULL) {
		free(l);
		free(c);
		csr_err(err, errlen, "out of memory", svc);
		return -1;
	}
	memcpy(l, leaf, leaflen);
	memcpy(c, ca, calen);
	free(id->leaf);
	free(id->ca);
	id->leaf = l;
	id->leaflen = leaflen;
	id->ca = c;
	id->calen = calen;
	id->not_after = info.not_after;
	return 0;
}

int
csr_accept_pem(struct csr_ident *id, const char *pem, size_t len, const char *td,
    const char *svc, time_t now, char *err, size_t errlen)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	unsigned char leaf[PKI_CERT_MAX], ca[PKI_CERT_MAX];
	const char *first, *second;
	int ll, cl;

	first = memmem(pem, len, begin, sizeof(begin) - 1);
	second = first == NULL ? NULL : memmem(first + 1, len - (size_t)(first + 1 - pem),
	    begin, sizeof(begin) - 1);
	if (second == NULL || memmem(second + 1, len - (size_t)(second + 1 - pem),
	    begin, sizeof(begin) - 1) != NULL) {
		csr_err(err, errlen, "expected a leaf and a CA certificate from meshd", svc);
		return -1;
	}
	ll = pki_pem_to_der(first, (size_t)(second - first), leaf, sizeof(leaf));
	cl = pki_pem_to_der(second, len - (size_t)(second - pem), ca, sizeof(ca));
	if (ll <= 0 || cl <= 0) {
		csr_err(err, errlen, "certificate PEM from meshd does not decode", svc);
		return -1;
	}
	return csr_accept(id, leaf, (size_t)ll, ca, (size_t)cl, td, svc, now, err, errlen);
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
