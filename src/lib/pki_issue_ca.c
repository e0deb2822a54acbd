/* SPDX-License-Identifier: ISC */
/*
 * pki_issue_ca: a joined host's intermediate CA (pki.h, jtok.h) — signed
 * by the root from the host's CSR, and checked by the host when it comes
 * back.
 */
#include <stdio.h>
#include <string.h>

#include "pki_int.h"

#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn.h>

struct pki_ca *
pki_ca_load_root(const char *dir, char *err, size_t errlen)
{
	struct pki_ca *ca;
	int created = 0;

	err[0] = '\0';
	ca = pki_ca_get(dir, &pki_files_active, "", 0, &created, err, errlen);
	if (ca == NULL && err[0] == '\0')
		pki_err(err, errlen, "%s/%s: no root CA key on this host", dir, PKI_KEY_FILE);
	return ca;
}

/* The CSR's key (P-256 only), its self-signature checked.  0 or -1. */
static int
pki_csr_key(const unsigned char *csr, size_t csrlen, ecc_key *pub, char *err, size_t errlen)
{
	unsigned char spki[256];
	word32 sz = sizeof(spki), idx = 0;
	DecodedCert dc;
	int n, rc = -1;

	wc_InitDecodedCert(&dc, csr, (word32)csrlen, NULL);
	n = wc_ParseCert(&dc, CERTREQ_TYPE, VERIFY, NULL);
	if (n == ECC_CURVE_OID_E || (n == 0 && dc.keyOID != ECDSAk)) {
		pki_err(err, errlen, "CSR key is not ECDSA P-256");
		goto out;
	}
	if (n != 0) {
		pki_err(err, errlen, "CSR rejected: %s", wc_GetErrorString(n));
		goto out;
	}
	if (wc_GetPubKeyDerFromCert(&dc, spki, &sz) != 0 ||
	    wc_EccPublicKeyDecode(spki, &idx, pub, sz) != 0 ||
	    wc_ecc_get_curve_id(pub->idx) != ECC_SECP256R1) {
		pki_err(err, errlen, "CSR key is not ECDSA P-256");
		goto out;
	}
	rc = 0;
out:
	wc_FreeDecodedCert(&dc);
	return rc;
}

/* The root's pathlen: -1 when unlimited, else its value. */
static int
pki_root_pathlen(const struct pki_ca *ca)
{
	DecodedCert dc;
	int pl = -1;

	wc_InitDecodedCert(&dc, ca->der, (word32)ca->derlen, NULL);
	if (wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL) == 0 && dc.pathLengthSet)
		pl = dc.pathLength;
	wc_FreeDecodedCert(&dc);
	return pl;
}

int
pki_issue_ca(struct pki_ca *ca, const unsigned char *csr, size_t csrlen,
    const char *host, const char *mesh, time_t now,
    unsigned char *out, size_t cap, size_t *outlen, char *err, size_t errlen)
{
	ecc_key pub;
	Cert *c = NULL;
	time_t after;
	int n, rc = -1;

	if (csrlen == 0 || csrlen > PKI_CSR_MAX) {
		pki_err(err, errlen, "CSR size %zu out of range", csrlen);
		return -1;
	}
	if (pki_root_pathlen(ca) == 0) {
		pki_err(err, errlen, "the root CA allows no intermediate (pathlen 0, made "
		    "before joining existed): run `meshctl certs --rotate-root` on the root host");
		return -1;
	}
	after = now + PKI_CA_CHILD_MAX_S;
	if (after > ca->not_after)
		after = ca->not_after;
	if (after <= now) {
		pki_err(err, errlen, "the root CA has expired");
		return -1;
	}
	if (wc_ecc_init(&pub) != 0) {
		pki_err(err, errlen, "cannot initialise a key");
		return -1;
	}
	if (pki_csr_key(csr, csrlen, &pub, err, errlen) != 0)
		goto out;
	if ((c = wc_CertNew(NULL)) == NULL) {
		pki_err(err, errlen, "out of memory");
		goto out;
	}
	/* the CSR gives its key, nothing else: the names are the root's word */
	c->version = 2;
	c->sigType = CTC_SHA256wECDSA;
	c->isCA = 1;
	c->basicConstSet = 1;
	c->pathLen = 0;          /* it signs leaves only */
	c->pathLenSet = 1;
	snprintf(c->subject.commonName, CTC_NAME_SIZE, "%s intermediate", host);
	c->subject.commonNameEnc = CTC_UTF8;
	snprintf(c->subject.org, CTC_NAME_SIZE, "%s", mesh);
	c->subject.orgEnc = CTC_UTF8;
	if ((n = wc_SetIssuerBuffer(c, ca->der, (int)ca->derlen)) != 0 ||
	    (n = wc_SetKeyUsage(c, "keyCertSign,cRLSign")) != 0 ||
	    (n = wc_SetSubjectKeyIdFromPublicKey_ex(c, ECC_TYPE, &pub)) != 0 ||
	    (n = wc_SetAuthKeyIdFromPublicKey_ex(c, ECC_TYPE, &ca->key)) != 0 ||
	    (n = pki_set_serial(c, &ca->rng)) != 0 ||
	    (n = pki_set_validity(c, now - PKI_BACKDATE_SEC, after)) != 0) {
		pki_err(err, errlen, "cannot prepare the certificate (%d)", n);
		goto out;
	}
	if ((n = pki_sign(c, out, cap, &pub, &ca->key, &ca->rng)) < 0) {
		pki_err(err, errlen, "cannot sign the certificate: %s", wc_GetErrorString(n));
		goto out;
	}
	*outlen = (size_t)n;
	rc = 0;
out:
	wc_CertFree(c);
	wc_ecc_free(&pub);
	return rc;
}

int
pki_ca_child_check(const unsigned char *cert, size_t len, const unsigned char *root,
    size_t rootlen, const unsigned char *keyder, size_t keylen, char *err, size_t errlen)
{
	unsigned char mine[128], theirs[160];
	word32 tl = sizeof(theirs), idx = 0;
	struct pki_certinfo ci, ri;
	WOLFSSL_CERT_MANAGER *cm;
	DecodedCert dc;
	ecc_key key;
	int ml = -1, ok;

	if (pki_cert_info(cert, len, &ci) != 0 || pki_cert_info(root, rootlen, &ri) != 0) {
		pki_err(err, errlen, "the certificate or the root does not parse");
		return -1;
	}
	if (!ci.is_ca || !ri.is_ca) {
		pki_err(err, errlen, "%s is not a CA certificate", ci.is_ca ? "the root" : "the certificate");
		return -1;
	}
	if (wc_ecc_init(&key) != 0)
		return -1;
	if (wc_EccPrivateKeyDecode(keyder, &idx, &key, (word32)keylen) == 0)
		ml = wc_EccPublicKeyToDer(&key, mine, sizeof(mine), 1);
	wc_ecc_free(&key);
	wc_InitDecodedCert(&dc, cert, (word32)len, NULL);
	ok = ml > 0 && wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL) == 0 &&
	    wc_GetPubKeyDerFromCert(&dc, theirs, &tl) == 0 && tl == (word32)ml &&
	    memcmp(mine, theirs, tl) == 0;
	wc_FreeDecodedCert(&dc);
	if (!ok) {
		pki_err(err, errlen, "the certificate is not for our key");
		return -1;
	}
	ok = 0;
	if ((cm = wolfSSL_CertManagerNew()) != NULL) {
		ok = wolfSSL_CertManagerLoadCABuffer(cm, root, (long)rootlen,
		    WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS &&
		    wolfSSL_CertManagerVerifyBuffer(cm, cert, (long)len,
		    WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS;
		wolfSSL_CertManagerFree(cm);
	}
	if (!ok) {
		pki_err(err, errlen, "the certificate is not signed by the root, or not valid now");
		return -1;
	}
	return 0;
}

int
pki_key_to_pem(const unsigned char *der, size_t len, char *out, size_t cap)
{
	return pki_der_to_pem_as(der, len, out, cap, ECC_PRIVATEKEY_TYPE);
}

int
pki_csr_pem_to_der(const char *pem, size_t len, unsigned char *out, size_t cap)
{
	int n;

	if (len > PKI_PEM_MAX)
		return -1;
	n = wc_CertPemToDer((const unsigned char *)pem, (int)len, out, (int)cap, CERTREQ_TYPE);
	return n > 0 ? n : -1;
}
