/* SPDX-License-Identifier: ISC */
/*
 * ident: the sidecar's mTLS identity (contract in include/mesh/ident.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "mesh/csr.h"
#include "mesh/ident.h"
#include "mesh/log.h"
#include "mesh/pki.h"
#include "mesh/pstate.h"
#include "mesh/tlsctx.h"
#include "mesh/transport_tls.h"

static struct {
	struct tlsctx    *tls;        /* NULL: plain mode */
	char              td[PCFG_TD_MAX];
	struct csr_ident *cur;        /* the installed identity */
	struct csr_ident *pending;    /* key of the CSR meshd has not answered */
	struct pki_bundle trust;      /* the roots of meshd's last IPC_TRUST */
	int               has_trust;  /* else: the CA that came with the leaf */
} ident;

static struct pki_bundle ident_tmp;   /* an IPC_TRUST being parsed */

int ident_enabled(void) { return ident.tls != NULL; }
int ident_ready(void) { return ident.tls != NULL && tlsctx_ready(ident.tls); }

/* Caller side: the service this sidecar's config lists at `at`. */
static const char *
ident_expect(struct epaddr at, void *arg)
{
	const struct pcfg *c = pstate.cfg;
	size_t i, k;

	(void)arg;
	if (c == NULL)
		return NULL;
	for (i = 0; i < c->nservices; i++)
		for (k = 0; k < c->services[i].nendpoints; k++)
			if (c->services[i].endpoints[k].port == at.port &&
			    pcfg_endpoint_addr(&c->services[i].endpoints[k]) == at.ip)
				return c->services[i].name;
	return NULL;
}

/* The tcp inbound refuses a caller at the handshake: there is no request
 * to answer 403 to.  The HTTP inbound (http, http2, grpc) lets every
 * identity of the trust domain finish the handshake and answers per
 * request (ident_allowed). */
static int
ident_handshake_allow(const struct pcfg *cfg)
{
	const char **names = NULL;
	size_t i, n = 0;
	int rc;

	if (cfg->inbound_port != 0 && !pcfg_proto_l7(cfg->inbound_proto) && cfg->nallow > 0) {
		if ((names = calloc(cfg->nallow, sizeof(*names))) == NULL)
			return -1;
		for (i = 0; i < cfg->nallow; i++)
			names[i] = cfg->allow[i];
		n = cfg->nallow;
	}
	rc = tlsctx_set_allow(ident.tls, names, n);
	free(names);
	transport_tls_offer_h2(cfg->inbound_port != 0 && pcfg_proto_h2(cfg->inbound_proto));
	return rc;
}

int
ident_configure(const struct pcfg *cfg, char *err, size_t errlen)
{
	char terr[256];

	if (cfg->trust_domain[0] == '\0') {
		if (ident.tls == NULL)
			return 0;
		snprintf(err, errlen, "config has no trust_domain line, but mTLS is on");
		return -1;
	}
	if (ident.tls == NULL) {
		ident.tls = tlsctx_new(cfg->trust_domain, TLSCTX_PREFER_AUTO, terr, sizeof(terr));
		if (ident.tls == NULL) {
			snprintf(err, errlen, "mTLS context: %s", terr);
			return -1;
		}
		snprintf(ident.td, sizeof(ident.td), "%s", cfg->trust_domain);
		transport_tls_setup(ident.tls, ident_expect, NULL);
		log_info("mTLS between sidecars, trust domain %s", ident.td);
	} else if (strcmp(cfg->trust_domain, ident.td) != 0) {
		snprintf(err, errlen, "trust_domain changed from %s to %s: restart the sidecar",
		    ident.td, cfg->trust_domain);
		return -1;
	}
	if (ident_handshake_allow(cfg) == -1) {
		snprintf(err, errlen, "allow: a name is not a valid SPIFFE service name "
		    "([a-z0-9][a-z0-9-]*), or out of memory");
		return -1;
	}
	return 0;
}

int
ident_request(const char *svc, char *pem, size_t cap, char *err, size_t errlen)
{
	struct csr_ident *id;
	int n;

	if ((id = csr_new(err, errlen)) == NULL)
		return -1;
	if ((n = csr_request_pem(id, svc, pem, cap)) < 0) {
		snprintf(err, errlen, "cannot build a certificate request for %s", svc);
		csr_free(id);
		return -1;
	}
	ident_cancel();
	ident.pending = id;
	return n;
}

void
ident_cancel(void)
{
	csr_free(ident.pending);
	ident.pending = NULL;
}

/* Build the TLS contexts for identity id with the current trust. */
static int
ident_install(const struct csr_ident *id, char *err, size_t errlen)
{
	struct tlsctx_ident ti;

	ti.key = csr_key_der(id, &ti.keylen);
	ti.leaf = csr_leaf_der(id, &ti.leaflen);
	ti.ca = csr_ca_der(id, &ti.calen);
	ti.inter = csr_inter_der(id, &ti.interlen);
	tlsctx_set_trust(ident.tls, ident.has_trust ? &ident.trust : NULL);
	return tlsctx_set_identity(ident.tls, &ti, err, errlen);
}

int
ident_trust(const char *pem, size_t len, char *err, size_t errlen)
{
	char serials[PKI_BUNDLE_MAX * 66];
	size_t i;
	int same;

	if (pki_bundle_from_pem(&ident_tmp, pem, len, err, errlen) == -1)
		return -1;
	/* meshd sends the bundle at every HELLO: the same roots again change
	 * nothing, and keep the contexts and the session cache */
	same = ident.has_trust && ident_tmp.n == ident.trust.n;
	for (i = 0; same && i < ident_tmp.n; i++)
		same = ident_tmp.root[i].len == ident.trust.root[i].len &&
		    memcmp(ident_tmp.root[i].der, ident.trust.root[i].der, ident_tmp.root[i].len) == 0;
	if (same)
		return 0;
	ident.trust = ident_tmp;
	ident.has_trust = 1;
	pki_bundle_serials(&ident.trust, serials, sizeof(serials));
	/* new connections verify peers against these roots; open ones finish
	 * on the contexts they started with */
	if (ident.tls != NULL && ident.cur != NULL && ident_install(ident.cur, err, errlen) == -1)
		return -1;
	log_info("trusting %zu root(s): %s", ident.trust.n, serials);
	return 0;
}

int
ident_report(char *out, size_t cap)
{
	struct pki_certinfo leaf, ca;
	const unsigned char *der;
	char roots[PKI_BUNDLE_MAX * 66] = "";
	size_t len;

	if (ident.has_trust)
		pki_bundle_serials(&ident.trust, roots, sizeof(roots));
	else if (ident.cur != NULL && (der = csr_ca_der(ident.cur, &len)) != NULL &&
	    pki_cert_info(der, len, &ca) == 0)
		snprintf(roots, sizeof(roots), "%s", ca.serial);
	return snprintf(out, cap, "leaf %s roots %s",
	    ident_info(&leaf) == 0 ? leaf.serial : "-", roots);
}

int
ident_accept(const char *svc, const char *pem, size_t len, char *err, size_t errlen)
{

	if (ident.tls == NULL || ident.pending == NULL) {
		snprintf(err, errlen, "a certificate nobody asked for");
		return -1;
	}
	if (csr_accept_pem(ident.pending, pem, len, ident.td, svc, time(NULL), err, errlen) == -1)
		return -1;
	if (ident_install(ident.pending, err, errlen) == -1)
		return -1;
	/* tlsctx copied the DER: the old key can be wiped now */
	csr_free(ident.cur);
	ident.cur = ident.pending;
	ident.pending = NULL;
	pki_trim();
	return 0;
}

double
ident_renew_delay(time_t now)
{
	uint32_t rnd;

	/* sidecars started together must not all renew together */
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = (uint32_t)getpid() * 2654435761u ^ (uint32_t)now;

	if (ident.cur == NULL)
		return 1.0;
	return csr_renew_delay(csr_not_after(ident.cur), now, rnd);
}

int
ident_info(struct pki_certinfo *out)
{
	const unsigned char *der;
	size_t len;

	if (ident.cur == NULL || (der = csr_leaf_der(ident.cur, &len)) == NULL)
		return -1;
	return pki_cert_info(der, len, out);
}

int
ident_allowed(const char *peer)
{
	const struct pcfg *c = pstate.cfg;
	size_t i;

	if (c == NULL || c->nallow == 0)
		return 1;
	if (peer == NULL)
		return 0;
	for (i = 0; i < c->nallow; i++)
		if (strcmp(c->allow[i], peer) == 0)
			return 1;
	return 0;
}

void
ident_free(void)
{
	ident_cancel();
	csr_free(ident.cur);
	ident.cur = NULL;
	if (ident.tls != NULL) {
		transport_tls_setup(NULL, NULL, NULL);
		tlsctx_free(ident.tls);
		ident.tls = NULL;
	}
}
