/* SPDX-License-Identifier: ISC */
/*
 * spiffe: the mesh's workload identities and the checks a sidecar makes on
 * its peer's certificate after the TLS handshake.
 *
 * An identity is the URI spiffe://<trust_domain>/svc/<service>:
 *   trust_domain  1..255 bytes of [a-z0-9.-_] (SPIFFE: lower case only)
 *   service       a mesh service name, [a-z0-9][a-z0-9-]{0,62}
 * and it is the only URI SAN of a leaf certificate.
 *
 * Chain validation alone accepts any certificate our CA signed, so after
 * every handshake (new or resumed) each side calls spiffe_check_*() on the
 * peer's leaf, then the callee applies `allow` (spiffe_allowed()) and the
 * caller compares the service with the one it meant to reach.
 */
#ifndef MESH_SPIFFE_H
#define MESH_SPIFFE_H

#include <stddef.h>

#define SPIFFE_TD_MAX   255
#define SPIFFE_SVC_MAX  63
/* "spiffe://" + trust domain + "/svc/" + service */
#define SPIFFE_URI_MAX  (9 + SPIFFE_TD_MAX + 5 + SPIFFE_SVC_MAX)

struct WOLFSSL_X509;

struct spiffe_id {
	char td[SPIFFE_TD_MAX + 1];    /* trust domain */
	char svc[SPIFFE_SVC_MAX + 1];  /* service name */
};

enum spiffe_err {
	SPIFFE_OK = 0,
	SPIFFE_E_CERT,      /* the certificate does not parse */
	SPIFFE_E_NO_URI,    /* no URI SAN */
	SPIFFE_E_MANY_URI,  /* more than one URI SAN */
	SPIFFE_E_SCHEME,    /* URI is not spiffe:// */
	SPIFFE_E_SYNTAX,    /* malformed trust domain or path, or not /svc/<name> */
	SPIFFE_E_DOMAIN,    /* another trust domain */
	SPIFFE_E_CA,        /* the leaf says CA:TRUE */
};

/* A short English reason for an enum spiffe_err, for logs and mesh-error. */
const char *spiffe_strerror(int err);

/* 1 if s[0..len) is a valid service name / trust domain, else 0. */
int spiffe_valid_service(const char *s, size_t len);
int spiffe_valid_trust_domain(const char *s, size_t len);

/* Parse uri[0..len) (need not be NUL-terminated).  SPIFFE_OK or an error;
 * *out is filled only on success. */
int spiffe_parse(const char *uri, size_t len, struct spiffe_id *out);

/* Write "spiffe://td/svc/svc" into buf.  Its length, or -1 if either name
 * is invalid or buf (cap bytes) is too small. */
int spiffe_format(char *buf, size_t cap, const char *td, const char *svc);

/*
 * Check a peer leaf (DER, or the WOLFSSL_X509 a handshake returned):
 * parses, exactly one URI SAN, scheme spiffe, trust domain == td, path
 * /svc/<service>, not a CA.  Other SAN types are ignored.  It does not
 * check the signature or dates: the TLS chain validation did that.
 * SPIFFE_OK and *out filled, or an error.
 */
int spiffe_check_der(const unsigned char *der, size_t len, const char *td,
                     struct spiffe_id *out);
int spiffe_check_x509(struct WOLFSSL_X509 *x, const char *td, struct spiffe_id *out);

/*
 * `allow`: 1 if service svc may call us.  An empty list (nallow == 0)
 * allows every identity of the mesh, as mesh.ini(5) says of allow.
 */
int spiffe_allowed(const char *svc, const char *const *allow, size_t nallow);

#endif
