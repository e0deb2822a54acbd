/* SPDX-License-Identifier: ISC */
/*
 * test_tlsctx_chain: joined mode in real handshakes.  Sidecars holding a
 * leaf from an intermediate (under root A) present leaf + intermediate
 * and are accepted by peers trusting root A alone — another joined host's,
 * or the root host's own sidecars.  Refused, as before: another trust
 * domain, the wrong service, a self-signed leaf, a leaf of an unrelated
 * CA, an intermediate under an untrusted root (same names as the trusted
 * one), a non-CA intermediate, a CA without keyCertSign.  Resumed
 * sessions keep the peer's chain and are checked against the current
 * roots.  An intermediate the server verified once stays in its context
 * until the context is rebuilt (wolfSSL's store).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_tlsctx_util.h"

static struct tca ra, rb;
static struct pki_ca *ia, *ib;
static struct csr_ident *web, *api, *web_root, *api_b;
static struct pki_bundle bA, bB;

static int
group_setup(void **state)
{
	(void)state;
	if (tca_open(&ra) == NULL || tca_open(&rb) == NULL)
		return -1;
	if ((ia = tinter_good(ra.ca)) == NULL || (ib = tinter_good(rb.ca)) == NULL)
		return -1;
	web = tid_issue_chain(ia, TD, "web", time(NULL), 3600, NULL, NULL);
	api = tid_issue_chain(ia, TD, "api", time(NULL), 3600, NULL, NULL);
	api_b = tid_issue_chain(ib, TD, "api", time(NULL), 3600, NULL, NULL);
	web_root = tid_issue(ra.ca, TD, "web", time(NULL), 3600, NULL, NULL);
	assert_int_equal(tbundle_of(&bA, ra.ca), 0);
	assert_int_equal(tbundle_of(&bB, rb.ca), 0);
	return web && api && api_b && web_root ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	csr_free(web);
	csr_free(api);
	csr_free(api_b);
	csr_free(web_root);
	pki_ca_free(ia);
	pki_ca_free(ib);
	tca_close(&ra);
	tca_close(&rb);
	return 0;
}

/* The issuer's subject hash of the peer's leaf, and the chain's length. */
static int
peer_chain(WOLFSSL *ssl, const struct pki_ca *issuer)
{
	WOLFSSL_X509_CHAIN *ch = wolfSSL_get_peer_chain(ssl);
	const unsigned char *der;
	int n;

	assert_non_null(ch);
	n = wolfSSL_get_chain_count(ch);
	if (n >= 2) {
		der = wolfSSL_get_chain_cert(ch, 1);
		assert_int_equal(wolfSSL_get_chain_length(ch, 1), (int)issuer->derlen);
		assert_memory_equal(der, issuer->der, issuer->derlen);
	}
	return n;
}

static void
test_good_chain(void **state)
{
	struct tlsctx *tc = tctx_new(web, TLSCTX_PREFER_AUTO, &bA);
	struct tlsctx *ts = tctx_new(api, TLSCTX_PREFER_AUTO, &bA);
	struct spiffe_id peer;
	struct conn c;

	(void)state;
	assert_int_equal(conn_open(&c, tc, ts, NULL), 0);
	/* both present leaf + intermediate */
	assert_int_equal(peer_chain(c.srv, ia), 2);
	assert_int_equal(peer_chain(c.cli, ia), 2);
	assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, &peer), 0);
	assert_string_equal(peer.svc, "web");
	assert_int_equal(tlsctx_verify_peer(tc, c.cli, "api", &peer), 0);
	/* the caller checks it reached whom it meant */
	assert_int_equal(tlsctx_verify_peer(tc, c.cli, "web", NULL), TLSCTX_E_WRONG_PEER);
	assert_int_equal(txfer(c.cli, c.srv, "ping"), 0);
	conn_close(&c);
	tlsctx_free(tc);
	/* the root host's sidecar (leaf straight from the root) and a joined
	 * host's understand each other */
	tc = tctx_new(web_root, TLSCTX_PREFER_AUTO, &bA);
	assert_int_equal(conn_open(&c, tc, ts, NULL), 0);
	assert_int_equal(peer_chain(c.srv, ia), 1);
	assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, NULL), 0);
	assert_int_equal(tlsctx_verify_peer(tc, c.cli, "api", NULL), 0);
	conn_close(&c);
	tlsctx_free(tc);
	/* without a bundle the identity's root (not the intermediate) is trusted */
	tc = tctx_new(web, TLSCTX_PREFER_AUTO, NULL);
	assert_int_equal(conn_open(&c, tc, ts, NULL), 0);
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(ts);
}

/* tc presents id (key of kid, leaf, optional inter) trusting bc; ts is
 * api trusting bA.  0 when the handshake completes. */
static int
try_ident(const struct csr_ident *kid, const unsigned char *leaf, size_t leaflen,
    const struct pki_ca *inter, const struct pki_bundle *bc)
{
	struct tlsctx_ident ti;
	struct tlsctx *tc, *ts;
	char err[256];
	struct conn c;
	int rc;

	tc = tlsctx_new(TD, TLSCTX_PREFER_AUTO, err, sizeof(err));
	assert_non_null(tc);
	tident(kid, &ti);
	ti.leaf = leaf;
	ti.leaflen = leaflen;
	ti.inter = inter != NULL ? inter->der : NULL;
	ti.interlen = inter != NULL ? inter->derlen : 0;
	ti.ca = pki_ca_der(ra.ca, &ti.calen);
	tlsctx_set_trust(tc, bc);
	if (tlsctx_set_identity(tc, &ti, err, sizeof(err)) != 0)
		fail_msg("set_identity: %s", err);
	ts = tctx_new(api, TLSCTX_PREFER_AUTO, &bA);
	rc = conn_open(&c, tc, ts, NULL);
	if (rc == 0)
		rc = tlsctx_verify_peer(ts, c.srv, NULL, NULL) == 0 ? 0 : -2;
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(ts);
	return rc;
}

static void
test_refusals(void **state)
{
	unsigned char leaf[PKI_CERT_MAX], san[160];
	const char *uri[] = { "spiffe://" TD "/svc/web" };
	struct pki_ca *noca, *nosign, *self;
	struct csr_ident *id;
	size_t len = 0, sl;
	time_t now = time(NULL);
	int n;

	(void)state;
	/* the good one passes through this path too */
	assert_non_null(id = tid_issue_chain(ia, TD, "web", now, 3600, leaf, &len));
	assert_int_equal(try_ident(id, leaf, len, ia, &bA), 0);
	/* the leaf without its intermediate */
	assert_int_not_equal(try_ident(id, leaf, len, NULL, &bA), 0);
	/* the right leaf with an intermediate under another root */
	assert_int_not_equal(try_ident(id, leaf, len, ib, &bA), 0);
	csr_free(id);
	/* another trust domain: the handshake passes, the SPIFFE check not */
	assert_non_null(id = tid_issue_chain(ia, "other.test", "web", now, 3600, leaf, &len));
	assert_int_equal(try_ident(id, leaf, len, ia, &bA), -2);
	csr_free(id);
	/* a leaf of an intermediate under an unrelated root (same names) */
	assert_non_null(id = tid_issue_chain(ib, TD, "web", now, 3600, leaf, &len));
	assert_int_not_equal(try_ident(id, leaf, len, ib, &bB), 0);
	csr_free(id);
	/* a leaf straight from the unrelated root */
	assert_non_null(id = tid_issue(rb.ca, TD, "web", now, 3600, leaf, &len));
	assert_int_not_equal(try_ident(id, leaf, len, NULL, &bB), 0);
	csr_free(id);
	/* a non-CA intermediate, signed by the trusted root */
	assert_non_null(noca = tinter_new(ra.ca, 0, "digitalSignature", now - 60, now + 3600));
	assert_non_null(id = tid_issue_chain(noca, TD, "web", now, 3600, leaf, &len));
	assert_int_not_equal(try_ident(id, leaf, len, noca, &bA), 0);
	csr_free(id);
	/* a CA that may not sign certificates */
	assert_non_null(nosign = tinter_new(ra.ca, 1, "digitalSignature", now - 60, now + 3600));
	assert_non_null(id = tid_issue_chain(nosign, TD, "web", now, 3600, leaf, &len));
	assert_int_not_equal(try_ident(id, leaf, len, nosign, &bA), 0);
	csr_free(id);
	/* a self-signed leaf with the right SPIFFE ID: a CA of its own */
	assert_non_null(self = pki_ca_alloc("test", NULL, 0));
	sl = tsan_uris(san, uri, 1);
	assert_int_equal(wc_ecc_make_key_ex(&self->rng, 32, &self->key, ECC_SECP256R1), 0);
	n = pki_make_root(self, "web", now, leaf, sizeof(leaf));
	assert_true(n > 0);
	assert_int_equal(pki_set_root(self, leaf, (size_t)n), 0);
	/* signed by its own key, for its own key, CA:FALSE */
	n = tleaf_raw(self, &self->key, san, sl, 0, leaf, sizeof(leaf));
	assert_true(n > 0);
	{
		struct tlsctx_ident ti;
		struct tlsctx *tc, *ts;
		unsigned char kder[160];
		struct conn c;
		char err[256];
		int kn = wc_EccKeyToDer(&self->key, kder, sizeof(kder));

		assert_true(kn > 0);
		memset(&ti, 0, sizeof(ti));
		ti.key = kder;
		ti.keylen = (size_t)kn;
		ti.leaf = leaf;
		ti.leaflen = (size_t)n;
		ti.ca = pki_ca_der(ra.ca, &ti.calen);
		tc = tlsctx_new(TD, TLSCTX_PREFER_AUTO, err, sizeof(err));
		assert_non_null(tc);
		tlsctx_set_trust(tc, &bA);
		if (tlsctx_set_identity(tc, &ti, err, sizeof(err)) != 0)
			fail_msg("set_identity: %s", err);
		ts = tctx_new(api, TLSCTX_PREFER_AUTO, &bA);
		assert_int_not_equal(conn_open(&c, tc, ts, NULL), 0);
		conn_close(&c);
		tlsctx_free(tc);
		tlsctx_free(ts);
	}
	pki_ca_free(self);
	pki_ca_free(noca);
	pki_ca_free(nosign);
}

static void
test_server_refuses_other_root(void **state)
{
	/* the callee's chain is under root B: a caller trusting A refuses */
	struct tlsctx *tc = tctx_new(web, TLSCTX_PREFER_AUTO, &bA);
	struct tlsctx *ts = tctx_new(api_b, TLSCTX_PREFER_AUTO, &bB);
	struct conn c;

	(void)state;
	assert_int_not_equal(conn_open(&c, tc, ts, NULL), 0);
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(ts);
}

static void
test_resumed_chain(void **state)
{
	struct tlsctx *tc = tctx_new(web, TLSCTX_PREFER_AUTO, &bA);
	struct tlsctx *ts = tctx_new(api, TLSCTX_PREFER_AUTO, &bA);
	struct conn c;

	(void)state;
	assert_int_equal(conn_open(&c, tc, ts, "127.0.0.1:25201"), 0);
	conn_keep_session(&c, tc, "127.0.0.1:25201");
	assert_int_equal(conn_open(&c, tc, ts, "127.0.0.1:25201"), 0);
	assert_int_equal(wolfSSL_session_reused(c.cli), 1);
	/* the chain came back with the session, on both sides */
	assert_int_equal(peer_chain(c.srv, ia), 2);
	assert_int_equal(peer_chain(c.cli, ia), 2);
	assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, NULL), 0);
	assert_int_equal(tlsctx_verify_peer(tc, c.cli, "api", NULL), 0);
	/* the root leaves the bundle: the resumed chain no longer passes */
	tlsctx_set_trust(ts, &bB);
	assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, NULL), TLSCTX_E_UNTRUSTED);
	tlsctx_set_trust(tc, &bB);
	assert_int_equal(tlsctx_verify_peer(tc, c.cli, "api", NULL), TLSCTX_E_UNTRUSTED);
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(ts);
}

/* web's context presenting its leaf without the intermediate */
static struct tlsctx *
leaf_only(const struct csr_ident *id)
{
	struct tlsctx_ident ti;
	struct tlsctx *t;
	char err[256];

	assert_non_null(t = tlsctx_new(TD, TLSCTX_PREFER_AUTO, err, sizeof(err)));
	tident(id, &ti);
	ti.inter = NULL;
	ti.interlen = 0;
	tlsctx_set_trust(t, &bA);
	if (tlsctx_set_identity(t, &ti, err, sizeof(err)) != 0)
		fail_msg("set_identity: %s", err);
	return t;
}

static void
test_learned_intermediate(void **state)
{
	struct tlsctx *bare = leaf_only(web), *tc = tctx_new(web, TLSCTX_PREFER_AUTO, &bA);
	struct tlsctx *ts = tctx_new(api, TLSCTX_PREFER_AUTO, &bA);
	struct conn c;

	(void)state;
	/* a leaf without its intermediate does not reach the root ... */
	assert_int_not_equal(conn_open(&c, bare, ts, NULL), 0);
	conn_close(&c);
	/* ... until the server verified that intermediate in a full chain:
	 * wolfSSL keeps it in the context's store (tlsctx.h) */
	assert_int_equal(conn_open(&c, tc, ts, NULL), 0);
	conn_close(&c);
	assert_int_equal(conn_open(&c, bare, ts, NULL), 0);
	conn_close(&c);
	/* new contexts (a renewal, a trust change) start without it */
	tctx_identity(ts, api, &bA);
	assert_int_not_equal(conn_open(&c, bare, ts, NULL), 0);
	conn_close(&c);
	tlsctx_free(bare);
	tlsctx_free(tc);
	tlsctx_free(ts);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_chain),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_server_refuses_other_root),
		cmocka_unit_test(test_resumed_chain),
		cmocka_unit_test(test_learned_intermediate),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
