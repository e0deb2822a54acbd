/* SPDX-License-Identifier: ISC */
/*
 * pki: making certificates — the root, and leaves from CSRs — and reading
 * back what a certificate says.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki_int.h"

#include <wolfssl/wolfcrypt/asn.h>

/* A DER Time, tag and length included, as Cert.beforeDate wants it.
 * RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
static int
pki_asn_time(unsigned char *out, size_t cap, time_t t)
{
	char txt[32];
	struct tm tm;
	size_t n;
	int utc, year, rc;

	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	year = tm.tm_year + 1900;
	utc = year >= 1950 && year < 2050;
	if (utc)
		year %= 100;
	rc = snprintf(txt, sizeof(txt), utc ? "%02d%02d%02d%02d%02d%02dZ" :
	    "%04d%02d%02d%02d%02d%02dZ", year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	if (rc <= 0 || (size_t)rc >= sizeof(txt) || (size_t)rc + 2 > cap)
		return -1;
	n = (size_t)rc;
	out[0] = utc ? ASN_UTC_TIME : ASN_GENERALIZED_TIME;
	out[1] = (unsigned char)n;
	memcpy(out + 2, txt, n);
	return (int)n + 2;
}

int
pki_set_validity(Cert *c, time_t before, time_t after)
{
	c->beforeDateSz = pki_asn_time(c->beforeDate, sizeof(c->beforeDate), before);
	c->afterDateSz = pki_asn_time(c->afterDate, sizeof(c->afterDate), after);
	return c->beforeDateSz > 0 && c->afterDateSz > 0 ? 0 : -1;
}

/* 16 random bytes: positive (top bit clear) and of fixed length (next bit
 * set, so no leading zero byte is trimmed). */
int
pki_set_serial(Cert *c, WC_RNG *rng)
{
	if (wc_RNG_GenerateBlock(rng, c->serial, 16) != 0)
		return -1;
	c->serial[0] = (unsigned char)((c->serial[0] & 0x7f) | 0x40);
	c->serialSz = 16;
	return 0;
}

/* GeneralNames ::= SEQUENCE { [6] IA5String uri }: the raw value wolfSSL
 * puts in the subjectAltName extension. */
static int
pki_uri_san(Cert *c, const char *uri)
{
	unsigned char inner[4], outer[4];
	size_t n = strlen(uri), il, ol, off;

	il = pki_der_len(inner, n);
	ol = pki_der_len(outer, 1 + il + n);
	if (1 + ol + 1 + il + n > sizeof(c->altNames))
		return -1;
	off = 0;
	c->altNames[off++] = ASN_SEQUENCE | ASN_CONSTRUCTED;
	memcpy(c->altNames + off, outer, ol);
	off += ol;
	c->altNames[off++] = ASN_CONTEXT_SPECIFIC | ASN_URI_TYPE;
	memcpy(c->altNames + off, inner, il);
	off += il;
	memcpy(c->altNames + off, uri, n);
	c->altNamesSz = (int)(off + n);
	return 0;
}

/* Encode c for the subject key sub, mark basicConstraints critical, sign
 * with the CA key.  DER length or <0 (a wolfSSL error). */
int
pki_sign(Cert *c, unsigned char *out, size_t cap, ecc_key *sub, ecc_key *ca_key, WC_RNG *rng)
{
	int n = wc_MakeCert_ex(c, out, (word32)cap, ECC_TYPE, sub, rng);

	if (n < 0)
		return n;
	if ((n = pki_der_bc_critical(out, (size_t)c->bodySz, cap)) < 0)
		return ASN_PARSE_E;
	return wc_SignCert_ex(n, c->sigType, out, (word32)cap, ECC_TYPE, ca_key, rng);
}

int
pki_make_root(struct pki_ca *ca, const char *name, time_t now,
    unsigned char *out, size_t cap)
{
	Cert *c;
	int n;

	if ((c = wc_CertNew(NULL)) == NULL)
		return MEMORY_E;
	c->version = 2;
	c->sigType = CTC_SHA256wECDSA;
	c->selfSigned = 1;
	c->isCA = 1;
	c->basicConstSet = 1;
	c->pathLen = 1;          /* a joined host's intermediate, then leaves (jtok.h) */
	c->pathLenSet = 1;
	snprintf(c->subject.commonName, CTC_NAME_SIZE, "meshctl CA %s", name);
	c->subject.commonNameEnc = CTC_UTF8;
	snprintf(c->subject.org, CTC_NAME_SIZE, "meshctl");
	c->subject.orgEnc = CTC_UTF8;
	if (pki_set_serial(c, &ca->rng) != 0 ||
	    pki_set_validity(c, now - PKI_BACKDATE_SEC, now + (time_t)PKI_CA_DAYS * 86400) != 0) {
		n = BAD_FUNC_ARG;
		goto out;
	}
	if ((n = wc_SetKeyUsage(c, "keyCertSign")) != 0 ||
	    (n = wc_SetSubjectKeyIdFromPublicKey_ex(c, ECC_TYPE, &ca->key)) != 0)
		goto out;
	n = pki_sign(c, out, cap, &ca->key, &ca->key, &ca->rng);
out:
	wc_CertFree(c);
	return n;
}

int
pki_set_root(struct pki_ca *ca, const unsigned char *der, size_t len)
{
	struct pki_certinfo info;
	int n;

	if (pki_cert_info(der, len, &info) != 0)
		return -1;
	free(ca->der);
	free(ca->pem);
	ca->der = malloc(len);
	ca->pem = malloc(PKI_PEM_MAX);
	if (ca->der == NULL || ca->pem == NULL)
		return -1;
	memcpy(ca->der, der, len);
	ca->derlen = len;
	if ((n = pki_der_to_pem(der, len, ca->pem, PKI_PEM_MAX)) < 0)
		return -1;
	ca->pemlen = (size_t)n;
	ca->not_after = info.not_after;
	return 0;
}

/* The public key of a parsed certificate or CSR as SubjectPublicKeyInfo
 * DER, imported into key (initialised by the caller).  0 or -1. */
static int
pki_dc_pubkey(DecodedCert *dc, ecc_key *key)
{
	unsigned char spki[256];
	word32 sz = sizeof(spki), idx = 0;

	if (dc->keyOID != ECDSAk)
		return -1;
	if (wc_GetPubKeyDerFromCert(dc, spki, &sz) != 0)
		return -1;
	if (wc_EccPublicKeyDecode(spki, &idx, key, sz) != 0)
		return -1;
	return wc_ecc_get_curve_id(key->idx) == ECC_SECP256R1 ? 0 : -1;
}

int
pki_root_matches(struct pki_ca *ca, const unsigned char *der, size_t len)
{
	unsigned char mine[128], theirs[128];
	DecodedCert dc;
	ecc_key pub;
	int a, b, rc = -1;

	if (wc_ecc_init(&pub) != 0)
		return -1;
	wc_InitDecodedCert(&dc, der, (word32)len, NULL);
	if (wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL) != 0 || !dc.isCA ||
	    pki_dc_pubkey(&dc, &pub) != 0)
		goto out;
	a = wc_EccPublicKeyToDer(&ca->key, mine, sizeof(mine), 1);
	b = wc_EccPublicKeyToDer(&pub, theirs, sizeof(theirs), 1);
	if (a > 0 && a == b && memcmp(mine, theirs, (size_t)a) == 0)
		rc = 0;
out:
	wc_FreeDecodedCert(&dc);
	wc_ecc_free(&pub);
	return rc;
}

int
pki_issue(struct pki_ca *ca, const unsigned char *csr, size_t csrlen,
    const char *td, const char *svc, uint32_t ttl, time_t now,
    unsigned char *out, size_t cap, size_t *outlen, char *err, size_t errlen)
{
	char uri[SPIFFE_URI_MAX + 1];
	DecodedCert dc;
	ecc_key pub;
	Cert *c = NULL;
	time_t after;
	int n, rc = -1;

	if (spiffe_format(uri, sizeof(uri), td, svc) < 0) {
		pki_err(err, errlen, "service %s: invalid trust domain or service name", svc);
		return -1;
	}
	if (ttl < PKI_TTL_MIN || ttl > PKI_TTL_MAX) {
		pki_err(err, errlen, "service %s: certificate lifetime %us out of range", svc,
		    (unsigned)ttl);
		return -1;
	}
	if (csrlen == 0 || csrlen > PKI_CSR_MAX) {
		pki_err(err, errlen, "service %s: CSR size %zu out of range", svc, csrlen);
		return -1;
	}
	if (wc_ecc_init(&pub) != 0) {
		pki_err(err, errlen, "service %s: cannot initialise a key", svc);
		return -1;
	}
	/* VERIFY checks the CSR's self-signature: the sidecar holds the key. */
	wc_InitDecodedCert(&dc, csr, (word32)csrlen, NULL);
	n = wc_ParseCert(&dc, CERTREQ_TYPE, VERIFY, NULL);
	if (n == ECC_CURVE_OID_E) {
		/* a curve this wolfSSL does not know (it may know P-256 alone) */
		pki_err(err, errlen, "service %s: CSR key is not ECDSA P-256", svc);
		goto out;
	}
	if (n != 0) {
		pki_err(err, errlen, "service %s: CSR rejected: %s", svc, wc_GetErrorString(n));
		goto out;
	}
	if (pki_dc_pubkey(&dc, &pub) != 0) {
		pki_err(err, errlen, "service %s: CSR key is not ECDSA P-256", svc);
		goto out;
	}
	if ((c = wc_CertNew(NULL)) == NULL) {
		pki_err(err, errlen, "service %s: out of memory", svc);
		goto out;
	}
	/* Everything below comes from meshd's records, nothing from the CSR
	 * but its public key. */
	c->version = 2;
	c->sigType = CTC_SHA256wECDSA;
	c->isCA = 0;
	c->basicConstSet = 1;    /* write CA:FALSE explicitly */
	snprintf(c->subject.commonName, CTC_NAME_SIZE, "%s", svc);
	c->subject.commonNameEnc = CTC_UTF8;
	after = now + (time_t)ttl;
	if (after > ca->not_after)
		after = ca->not_after;
	if ((n = wc_SetIssuerBuffer(c, ca->der, (int)ca->derlen)) != 0 ||
	    (n = wc_SetKeyUsage(c, "digitalSignature")) != 0 ||
	    (n = wc_SetExtKeyUsage(c, "serverAuth,clientAuth")) != 0 ||
	    (n = wc_SetSubjectKeyIdFromPublicKey_ex(c, ECC_TYPE, &pub)) != 0 ||
	    (n = wc_SetAuthKeyIdFromPublicKey_ex(c, ECC_TYPE, &ca->key)) != 0 ||
	    (n = pki_uri_san(c, uri)) != 0 ||
	    (n = pki_set_serial(c, &ca->rng)) != 0 ||
	    (n = pki_set_validity(c, now - PKI_BACKDATE_SEC, after)) != 0) {
		pki_err(err, errlen, "service %s: cannot prepare the certificate (%d)", svc, n);
		goto out;
	}
	n = pki_sign(c, out, cap, &pub, &ca->key, &ca->rng);
	if (n < 0) {
		pki_err(err, errlen, "service %s: cannot sign the certificate: %s", svc,
		    wc_GetErrorString(n));
		goto out;
	}
	*outlen = (size_t)n;
	rc = 0;
out:
	wc_CertFree(c);
	wc_FreeDecodedCert(&dc);
	wc_ecc_free(&pub);
	return rc;
}

static int
pki_dc_time(const byte *p, int len, time_t *out)
{
	const byte *date;
	byte fmt;
	int dlen;
	struct tm tm;

	if (p == NULL || wc_GetDateInfo(p, len, &date, &fmt, &dlen) != 0)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if (wc_GetDateAsCalendarTime(date, dlen, fmt, &tm) != 0)
		return -1;
	*out = timegm(&tm);
	return 0;
}

int
pki_cert_info(const unsigned char *der, size_t len, struct pki_certinfo *out)
{
	static const char hex[] = "0123456789abcdef";
	DecodedCert dc;
	DNS_entry *e;
	int i, rc = -1;

	if (len == 0 || len > PKI_CERT_MAX * 4)
		return -1;
	memset(out, 0, sizeof(*out));
	wc_InitDecodedCert(&dc, der, (word32)len, NULL);
	if (wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL) != 0)
		goto out;
	for (i = 0; i < dc.serialSz && i < 32; i++) {
		out->serial[2 * i] = hex[dc.serial[i] >> 4];
		out->serial[2 * i + 1] = hex[dc.serial[i] & 15];
	}
	if (pki_dc_time(dc.beforeDate, dc.beforeDateLen, &out->not_before) != 0 ||
	    pki_dc_time(dc.afterDate, dc.afterDateLen, &out->not_after) != 0)
		goto out;
	for (e = dc.altNames; e != NULL; e = e->next) {
		if (e->type == ASN_URI_TYPE && e->len > 0 && (size_t)e->len < sizeof(out->uri)) {
			memcpy(out->uri, e->name, (size_t)e->len);
			out->uri[e->len] = '\0';
			break;
		}
	}
	if (dc.subjectCN != NULL && dc.subjectCNLen > 0) {
		size_t n = (size_t)dc.subjectCNLen < sizeof(out->cn) - 1 ?
		    (size_t)dc.subjectCNLen : sizeof(out->cn) - 1;

		memcpy(out->cn, dc.subjectCN, n);
		out->cn[n] = '\0';
	}
	out->is_ca = dc.isCA;
	rc = 0;
out:
	wc_FreeDecodedCert(&dc);
	return rc;
}

int
pki_der_to_pem_as(const unsigned char *der, size_t len, char *out, size_t cap, int type)
{
	int n;

	if (cap < 2 || len > PKI_CERT_MAX * 4)
		return -1;
	n = wc_DerToPem(der, (word32)len, (byte *)out, (word32)(cap - 1), type);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	return n;
}

int
pki_der_to_pem(const unsigned char *der, size_t len, char *out, size_t cap)
{
	return pki_der_to_pem_as(der, len, out, cap, CERT_TYPE);
}

int
pki_pem_to_der(const char *pem, size_t len, unsigned char *out, size_t cap)
{
	int n;

	if (len > PKI_PEM_MAX * 4)
		return -1;
	n = wc_CertPemToDer((const unsigned char *)pem, (int)len, out, (int)cap, CERT_TYPE);
	return n > 0 ? n : -1;
}
