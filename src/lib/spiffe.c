/* SPDX-License-Identifier: ISC */
/*
 * spiffe: parse and check spiffe://<trust_domain>/svc/<service> identities.
 */
#include <limits.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>

#include "mesh/spiffe.h"

static const char spiffe_scheme[] = "spiffe://";
static const char spiffe_svc_path[] = "/svc/";

const char *
spiffe_strerror(int err)
{
	switch (err) {
	case SPIFFE_OK:         return "ok";
	case SPIFFE_E_CERT:     return "peer certificate does not parse";
	case SPIFFE_E_NO_URI:   return "peer certificate has no URI SAN";
	case SPIFFE_E_MANY_URI: return "peer certificate has more than one URI SAN";
	case SPIFFE_E_SCHEME:   return "peer URI SAN is not a spiffe:// ID";
	case SPIFFE_E_SYNTAX:   return "peer SPIFFE ID is malformed";
	case SPIFFE_E_DOMAIN:   return "peer SPIFFE ID is from another trust domain";
	case SPIFFE_E_CA:       return "peer leaf certificate is a CA";
	}
	return "unknown SPIFFE error";
}

int
spiffe_valid_service(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > SPIFFE_SVC_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c == '-' && i > 0);
		if (!ok)
			return 0;
	}
	return 1;
}

int
spiffe_valid_trust_domain(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > SPIFFE_TD_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == '_';
		if (!ok)
			return 0;
	}
	return 1;
}

int
spiffe_parse(const char *uri, size_t len, struct spiffe_id *out)
{
	size_t n = sizeof(spiffe_scheme) - 1, p = sizeof(spiffe_svc_path) - 1;
	const char *td, *slash, *svc;
	size_t tdlen, svclen;

	/* The scheme is case-insensitive in RFC 3986 but SPIFFE requires it
	 * in lower case; anything else is another scheme to us. */
	if (len < n || memcmp(uri, spiffe_scheme, n) != 0)
		return SPIFFE_E_SCHEME;
	td = uri + n;
	slash = memchr(td, '/', len - n);
	if (slash == NULL)
		return SPIFFE_E_SYNTAX;
	tdlen = (size_t)(slash - td);
	if (!spiffe_valid_trust_domain(td, tdlen))
		return SPIFFE_E_SYNTAX;
	if ((size_t)(uri + len - slash) < p || memcmp(slash, spiffe_svc_path, p) != 0)
		return SPIFFE_E_SYNTAX;
	svc = slash + p;
	svclen = (size_t)(uri + len - svc);
	/* The service check also refuses '/', '?', '#', '%' and NUL, so no
	 * extra segment, query, fragment or escape gets through. */
	if (!spiffe_valid_service(svc, svclen))
		return SPIFFE_E_SYNTAX;
	memcpy(out->td, td, tdlen);
	out->td[tdlen] = '\0';
	memcpy(out->svc, svc, svclen);
	out->svc[svclen] = '\0';
	return SPIFFE_OK;
}

int
spiffe_format(char *buf, size_t cap, const char *td, const char *svc)
{
	size_t tdlen = strlen(td), svclen = strlen(svc), need;

	if (!spiffe_valid_trust_domain(td, tdlen) || !spiffe_valid_service(svc, svclen))
		return -1;
	need = sizeof(spiffe_scheme) - 1 + tdlen + sizeof(spiffe_svc_path) - 1 + svclen;
	if (need + 1 > cap)
		return -1;
	memcpy(buf, spiffe_scheme, sizeof(spiffe_scheme) - 1);
	memcpy(buf + sizeof(spiffe_scheme) - 1, td, tdlen);
	memcpy(buf + sizeof(spiffe_scheme) - 1 + tdlen, spiffe_svc_path,
	    sizeof(spiffe_svc_path) - 1);
	memcpy(buf + need - svclen, svc, svclen);
	buf[need] = '\0';
	return (int)need;
}

int
spiffe_check_der(const unsigned char *der, size_t len, const char *td,
    struct spiffe_id *out)
{
	DecodedCert dc;
	DNS_entry *e, *uri = NULL;
	struct spiffe_id id;
	int nuri = 0, rc;

	if (der == NULL || len == 0 || len > INT_MAX)
		return SPIFFE_E_CERT;
	wc_InitDecodedCert(&dc, der, (word32)len, NULL);
	/* NO_VERIFY: the handshake already validated the chain; here we only
	 * read what the certificate claims. */
	if (wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL) != 0) {
		rc = SPIFFE_E_CERT;
		goto out;
	}
	for (e = dc.altNames; e != NULL; e = e->next) {
		if (e->type == ASN_URI_TYPE) {
			nuri++;
			uri = e;
		}
	}
	if (nuri == 0) {
		rc = SPIFFE_E_NO_URI;
		goto out;
	}
	if (nuri > 1) {
		rc = SPIFFE_E_MANY_URI;
		goto out;
	}
	if (dc.isCA) {
		rc = SPIFFE_E_CA;
		goto out;
	}
	if (uri->len < 0) {
		rc = SPIFFE_E_SYNTAX;
		goto out;
	}
	if ((rc = spiffe_parse(uri->name, (size_t)uri->len, &id)) != SPIFFE_OK)
		goto out;
	if (strcmp(id.td, td) != 0) {
		rc = SPIFFE_E_DOMAIN;
		goto out;
	}
	if (out != NULL)
		*out = id;
	rc = SPIFFE_OK;
out:
	wc_FreeDecodedCert(&dc);
	return rc;
}

int
spiffe_check_x509(struct WOLFSSL_X509 *x, const char *td, struct spiffe_id *out)
{
	const unsigned char *der;
	int len = 0;

	if (x == NULL)
		return SPIFFE_E_CERT;
	der = wolfSSL_X509_get_der(x, &len);
	if (der == NULL || len <= 0)
		return SPIFFE_E_CERT;
	return spiffe_check_der(der, (size_t)len, td, out);
}

int
spiffe_allowed(const char *svc, const char *const *allow, size_t nallow)
{
	size_t i;

	if (nallow == 0)
		return 1;
	for (i = 0; i < nallow; i++)
		if (allow[i] != NULL && strcmp(allow[i], svc) == 0)
			return 1;
	return 0;
}
