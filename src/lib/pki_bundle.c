/* SPDX-License-Identifier: ISC */
/*
 * pki_bundle: the roots a sidecar trusts (contract in include/mesh/pki.h).
 * One root normally, two during a root rollover; meshd sends them in
 * IPC_TRUST, the sidecar loads every one into its TLS contexts.
 */
#include <stdio.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn.h>

#include "pki_int.h"

int
pki_bundle_add(struct pki_bundle *b, const unsigned char *der, size_t len,
    char *err, size_t errlen)
{
	struct pki_certinfo ci;
	size_t i;

	if (len == 0 || len > PKI_CERT_MAX || pki_cert_info(der, len, &ci) != 0) {
		snprintf(err, errlen, "a root certificate does not parse");
		return -1;
	}
	if (!ci.is_ca) {
		snprintf(err, errlen, "certificate %s is not a CA", ci.serial);
		return -1;
	}
	for (i = 0; i < b->n; i++)
		if (b->root[i].len == len && memcmp(b->root[i].der, der, len) == 0)
			return 0;
	if (b->n >= PKI_BUNDLE_MAX) {
		snprintf(err, errlen, "more than %d roots", PKI_BUNDLE_MAX);
		return -1;
	}
	memcpy(b->root[b->n].der, der, len);
	b->root[b->n].len = len;
	snprintf(b->root[b->n].serial, sizeof(b->root[b->n].serial), "%s", ci.serial);
	b->n++;
	return 0;
}

static int
pki_bundle_blank(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return 0;
	return 1;
}

int
pki_bundle_from_pem(struct pki_bundle *b, const char *pem, size_t len,
    char *err, size_t errlen)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char end[] = "-----END CERTIFICATE-----";
	unsigned char der[PKI_CERT_MAX];
	const char *p = pem, *lim = pem + len, *s, *e;
	int n;

	b->n = 0;
	while (p < lim) {
		s = memmem(p, (size_t)(lim - p), begin, sizeof(begin) - 1);
		if (s == NULL) {
			if (!pki_bundle_blank(p, (size_t)(lim - p)))
				goto junk;
			break;
		}
		if (!pki_bundle_blank(p, (size_t)(s - p)))
			goto junk;
		e = memmem(s, (size_t)(lim - s), end, sizeof(end) - 1);
		if (e == NULL)
			goto junk;
		e += sizeof(end) - 1;
		if ((n = pki_pem_to_der(s, (size_t)(e - s), der, sizeof(der))) <= 0) {
			snprintf(err, errlen, "root %zu: PEM does not decode", b->n + 1);
			goto fail;
		}
		if (pki_bundle_add(b, der, (size_t)n, err, errlen) == -1)
			goto fail;
		p = e;
	}
	if (b->n == 0) {
		snprintf(err, errlen, "no root certificate");
		return -1;
	}
	return 0;
junk:
	snprintf(err, errlen, "something else than PEM certificates");
fail:
	b->n = 0;
	return -1;
}

int
pki_bundle_to_pem(const struct pki_bundle *b, char *out, size_t cap)
{
	size_t i, off = 0;
	int n;

	if (cap == 0)
		return -1;
	out[0] = '\0';
	for (i = 0; i < b->n; i++) {
		if ((n = pki_der_to_pem(b->root[i].der, b->root[i].len, out + off, cap - off)) < 0)
			return -1;
		off += (size_t)n;
	}
	return (int)off;
}

int
pki_bundle_has_serial(const struct pki_bundle *b, const char *serial)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (strcmp(b->root[i].serial, serial) == 0)
			return 1;
	return 0;
}

void
pki_bundle_serials(const struct pki_bundle *b, char *out, size_t cap)
{
	size_t i, off = 0;

	if (cap == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < b->n && off < cap; i++)
		off += (size_t)snprintf(out + off, cap - off, "%s%s", i ? " " : "", b->root[i].serial);
}

int
pki_bundle_verify(const struct pki_bundle *b, const unsigned char *leaf, size_t len)
{
	WOLFSSL_CERT_MANAGER *cm;
	size_t i;
	int rc = -1;

	if (b->n == 0 || (cm = wolfSSL_CertManagerNew()) == NULL)
		return -1;
	for (i = 0; i < b->n; i++)
		if (wolfSSL_CertManagerLoadCABuffer(cm, b->root[i].der, (long)b->root[i].len,
		    WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
			goto out;
	if (wolfSSL_CertManagerVerifyBuffer(cm, leaf, (long)len, WOLFSSL_FILETYPE_ASN1) ==
	    WOLFSSL_SUCCESS)
		rc = 0;
out:
	wolfSSL_CertManagerFree(cm);
	return rc;
}

int
pki_signing_ca(const unsigned char *der, size_t len)
{
	DecodedCert dc;
	int rc = -1;

	wc_InitDecodedCert(&dc, der, (word32)len, NULL);
	if (wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL) == 0 && dc.isCA && !dc.selfSigned &&
	    (!dc.extKeyUsageSet || (dc.extKeyUsage & KEYUSE_KEY_CERT_SIGN) != 0))
		rc = 0;
	wc_FreeDecodedCert(&dc);
	return rc;
}

int
pki_chain_verify(const struct pki_bundle *b, const unsigned char *leaf, size_t len,
    const unsigned char *inter, size_t interlen)
{
	WOLFSSL_CERT_MANAGER *cm;
	size_t i;
	int rc = -1;

	if (inter == NULL)
		return pki_bundle_verify(b, leaf, len);
	if (b->n == 0 || len == 0 || len > PKI_CERT_MAX || interlen == 0 ||
	    interlen > PKI_CERT_MAX || pki_signing_ca(inter, interlen) != 0)
		return -1;
	/* the intermediate: signed by one of our roots, valid now */
	if (pki_bundle_verify(b, inter, interlen) != 0)
		return -1;
	if ((cm = wolfSSL_CertManagerNew()) == NULL)
		return -1;
	for (i = 0; i < b->n; i++)
		if (wolfSSL_CertManagerLoadCABuffer(cm, b->root[i].der, (long)b->root[i].len,
		    WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
			goto out;
	if (wolfSSL_CertManagerLoadCABuffer(cm, inter, (long)interlen, WOLFSSL_FILETYPE_ASN1) !=
	    WOLFSSL_SUCCESS)
		goto out;
	if (wolfSSL_CertManagerVerifyBuffer(cm, leaf, (long)len, WOLFSSL_FILETYPE_ASN1) ==
	    WOLFSSL_SUCCESS)
		rc = 0;
out:
	wolfSSL_CertManagerFree(cm);
	return rc;
}
