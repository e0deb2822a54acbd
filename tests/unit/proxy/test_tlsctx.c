/* SPDX-License-Identifier: ISC */
/*
 * test_tlsctx: real TLS handshakes over a socketpair between contexts
 * issued by a test CA: mutual verification, SPIFFE checks, `allow`,
 * rejections (other CA, expired, other trust domain, two URI SANs,
 * CA:TRUE leaf), version floor, TLS 1.2 groups, cipher order, resumption, rotation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_tlsctx_util.h"

static struct tca ca1, ca2;
static struct csr_ident *web, *api;   /* good identities from ca1 */

static int
group_setup(void **state)
{
	if (tca_open(&ca1) == NULL || tca_open(&ca2) == NULL)
		return -1;
	web = tid_issue(ca1.ca, TD, "web", time(NULL), 3600, NULL, NULL);
	api = tid_issue(ca1.ca, TD, "api", time(NULL), 3600, NULL, NULL);
	return web != NULL && api != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	csr_free(web);
	csr_free(api);
	tca_close(&ca1);
	tca_close(&ca2);
	return 0;
}

/* A fresh context's trust is already the identity's own CA (none set). */
static struct tlsctx *
mkctx(const struct csr_ident *id, enum tlsctx_prefer p)
{
	return tctx_new(id, p, NULL);
}

static void
test_mutual_ok(void **state)
{
	struct tlsctx *tc = mkctx(web, TLSCTX_PREFER_AUTO), *ts = mkctx(api, TLSCTX_PREFER_AUTO);
	struct spiffe_id peer;
	struct conn c;

	assert_true(tlsctx_ready(tc));
	assert_int_equal(conn_open(&c, tc, ts, NULL), 0);
	assert_string_equal(wolfSSL_get_version(c.cli), "TLSv1.3");
	/* callee sees the caller, caller sees whom it called */
	assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, &peer), 0);
	assert_string_equal(peer.svc, "web");
	assert_string_equal(peer.td, TD);
	assert_int_equal(tlsctx_verify_peer(tc, c.cli, "api", &peer), 0);
	assert_string_equal(peer.svc, "api");
	/* the caller meant to reach db: refused */
	assert_int_equal(tlsctx_verify_peer(tc, c.cli, "db", NULL), TLSCTX_E_WRONG_PEER);
	assert_int_equal(txfer(c.cli, c.srv, "GET / HTTP/1.1\r\n\r\n"), 0);
	assert_int_equal(txfer(c.srv, c.cli, "HTTP/1.1 200 OK\r\n\r\n"), 0);
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(ts);
}

static void
test_allow(void **state)
{
	struct tlsctx *tc = mkctx(web, TLSCTX_PREFER_AUTO), *ts = mkctx(api, TLSCTX_PREFER_AUTO);
	const char *only_admin[] = { "admin" }, *web_admin[] = { "admin", "web" };
	const char *bad[] = { "Not_A_Name" };
	struct conn c;

	assert_int_equal(conn_open(&c, tc, ts, NULL), 0);
	assert_int_equal(tlsctx_set_allow(ts, only_admin, 1), 0);
	assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, NULL), TLSCTX_E_DENIED);
	assert_int_equal(tlsctx_set_allow(ts, web_admin, 2), 0);
	assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, NULL), 0);
	assert_int_equal(tlsctx_set_allow(ts, bad, 1), -1);
	/* the failed call left the list alone */
	assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, NULL), 0);
	assert_int_equal(tlsctx_set_allow(ts, NULL, 0), 0);
	assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, NULL), 0);
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(ts);
}

/* The client presents an identity made by `ca` from `leaf` (and key). */
static struct tlsctx *
mkctx_raw(struct tca *ca, const unsigned char *key, size_t keylen,
    const unsigned char *leaf, size_t leaflen)
{
	struct tlsctx_ident ti = { key, keylen, leaf, leaflen, NULL, 0, NULL, 0 };
	struct tlsctx *t;
	char err[256];

	/* trust ca1 (the mesh), whatever signed the leaf */
	ti.ca = pki_ca_der(ca1.ca, &ti.calen);
	(void)ca;
	t = tlsctx_new(TD, TLSCTX_PREFER_AUTO, err, sizeof(err));
	assert_non_null(t);
	if (tlsctx_set_identity(t, &ti, err, sizeof(err)) != 0)
		fail_msg("set_identity: %s", err);
	return t;
}

static void
test_other_ca_rejected(void **state)
{
	unsigned char leaf[PKI_CERT_MAX];
	const unsigned char *key;
	struct csr_ident *evil;
	struct tlsctx *tc, *ts = mkctx(api, TLSCTX_PREFER_AUTO), *tc2;
	size_t leaflen, keylen;
	struct conn c;

	/* right name, wrong CA: as client, then as server */
	evil = tid_issue(ca2.ca, TD, "web", time(NULL), 3600, leaf, &leaflen);
	assert_non_null(evil);
	key = csr_key_der(evil, &keylen);
	tc = mkctx_raw(&ca2, key, keylen, leaf, leaflen);
	assert_int_equal(conn_open(&c, tc, ts, NULL), -1);
	conn_close(&c);
	tc2 = mkctx(web, TLSCTX_PREFER_AUTO);
	assert_int_equal(conn_open(&c, tc2, tc, NULL), -1);
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(tc2);
	tlsctx_free(ts);
	csr_free(evil);
}

static void
test_expired_rejected(void **state)
{
	unsigned char leaf[PKI_CERT_MAX];
	const unsigned char *key;
	struct csr_ident *old;
	struct tlsctx *tc, *ts = mkctx(api, TLSCTX_PREFER_AUTO);
	size_t leaflen, keylen;
	struct conn c;
	char err[256];

	/* issued two hours ago for one hour */
	old = tid_issue(ca1.ca, TD, "web", time(NULL) - 7200, 3600, leaf, &leaflen);
	assert_non_null(old);
	key = csr_key_der(old, &keylen);
	/* csr_accept refuses it ... */
	{
		size_t calen;
		const unsigned char *cader = pki_ca_der(ca1.ca, &calen);

		assert_int_equal(csr_accept(old, leaf, leaflen, cader, calen, TD, "web",
		    time(NULL), err, sizeof(err)), -1);
		assert_non_null(strstr(err, "expired"));
	}
	/* ... and so does the peer if one presents it anyway */
	tc = mkctx_raw(&ca1, key, keylen, leaf, leaflen);
	assert_int_equal(conn_open(&c, tc, ts, NULL), -1);
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(ts);
	csr_free(old);
}

static void
test_other_trust_domain(void **state)
{
	unsigned char leaf[PKI_CERT_MAX];
	const unsigned char *key;
	struct csr_ident *other;
	struct tlsctx *tc, *ts = mkctx(api, TLSCTX_PREFER_AUTO);
	size_t leaflen, keylen;
	struct conn c;

	/* our CA signed it, so the chain is fine: only the SPIFFE check stops it */
	other = tid_issue(ca1.ca, "other.local", "web", time(NULL), 3600, leaf, &leaflen);
	assert_non_null(other);
	key = csr_key_der(other, &keylen);
	tc = mkctx_raw(&ca1, key, keylen, leaf, leaflen);
	assert_int_equal(conn_open(&c, tc, ts, NULL), 0);
	assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, NULL), SPIFFE_E_DOMAIN);
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(ts);
	csr_free(other);
}

/* A hand-made leaf (two URIs, or CA:TRUE) signed by the mesh CA: the
 * connection must not be accepted, by the handshake or by the check. */
static void
bad_leaf(const char *const *uris, size_t nuris, int is_ca, int want)
{
	unsigned char leaf[PKI_CERT_MAX], san[512], key[160];
	struct tlsctx *tc, *ts = mkctx(api, TLSCTX_PREFER_AUTO);
	size_t keylen = 0, sanlen;
	struct conn c;
	ecc_key k;
	int n;

	assert_int_equal(tkey_new(ca1.ca, &k, key, &keylen), 0);
	sanlen = tsan_uris(san, uris, nuris);
	n = tleaf_raw(ca1.ca, &k, san, sanlen, is_ca, leaf, sizeof(leaf));
	assert_true(n > 0);
	tc = mkctx_raw(&ca1, key, keylen, leaf, (size_t)n);
	/* today's wolfSSL lets both through the handshake; either stop is fine */
	if (conn_open(&c, tc, ts, NULL) == 0)
		assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, NULL), want);
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(ts);
	wc_ecc_free(&k);
}

static void
test_two_uris_rejected(void **state)
{
	const char *uris[] = { "spiffe://" TD "/svc/web", "spiffe://" TD "/svc/admin" };

	bad_leaf(uris, 2, 0, SPIFFE_E_MANY_URI);
}

static void
test_ca_leaf_rejected(void **state)
{
	const char *uris[] = { "spiffe://" TD "/svc/web" };

	bad_leaf(uris, 1, 1, SPIFFE_E_CA);
}

static void
test_tls12_floor(void **state)
{
	struct tlsctx *ts = mkctx(api, TLSCTX_PREFER_AUTO);
	struct tlsctx_ident ti;
	WOLFSSL_CTX *old;
	struct conn c;

	/* A TLS 1.2-only client with a good identity still gets in, with an
	 * ECDHE-ECDSA AEAD suite ... */
	tident(web, &ti);
	old = wolfSSL_CTX_new(wolfTLSv1_2_client_method());
	assert_non_null(old);
	assert_int_equal(wolfSSL_CTX_use_certificate_buffer(old, ti.leaf, (long)ti.leaflen,
	    WOLFSSL_FILETYPE_ASN1), WOLFSSL_SUCCESS);
	assert_int_equal(wolfSSL_CTX_use_PrivateKey_buffer(old, ti.key, (long)ti.keylen,
	    WOLFSSL_FILETYPE_ASN1), WOLFSSL_SUCCESS);
	assert_int_equal(wolfSSL_CTX_load_verify_buffer(old, ti.ca, (long)ti.calen,
	    WOLFSSL_FILETYPE_ASN1), WOLFSSL_SUCCESS);
	assert_int_equal(tpair(c.sv), 0);
	c.cli = wolfSSL_new(old);
	wolfSSL_set_fd(c.cli, c.sv[0]);
	c.srv = tlsctx_ssl_new(ts, c.sv[1], 1, NULL);
	assert_int_equal(tpump(c.cli, c.srv), 0);
	assert_string_equal(wolfSSL_get_version(c.srv), "TLSv1.2");
	assert_non_null(strstr(wolfSSL_get_cipher_name(c.srv), "ECDHE-ECDSA"));
	assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, NULL), 0);
	conn_close(&c);
	wolfSSL_CTX_free(old);
	/* ... a TLS 1.1 one does not (if this wolfSSL can even speak it) */
#ifndef NO_OLD_TLS
	old = wolfSSL_CTX_new(wolfTLSv1_1_client_method());
	if (old != NULL) {
		assert_int_equal(tpair(c.sv), 0);
		c.cli = wolfSSL_new(old);
		wolfSSL_set_fd(c.cli, c.sv[0]);
		c.srv = tlsctx_ssl_new(ts, c.sv[1], 1, NULL);
		assert_int_equal(tpump(c.cli, c.srv), -1);
		conn_close(&c);
		wolfSSL_CTX_free(old);
	}
#endif
	tlsctx_free(ts);
}

/* A TLS 1.2 client that prefers other curves still gets X25519 or P-256:
 * the groups of the policy hold for 1.2 as for 1.3 (testssl.sh found the
 * 1.2 path taking any curve the client asked for, secp256k1 included). */
static void
test_tls12_groups(void **state)
{
	/* each offer in the client's order of preference; 0 ends it */
	static const word16 offers[][4] = {
		{ WOLFSSL_ECC_SECP384R1, WOLFSSL_ECC_SECP521R1, WOLFSSL_ECC_SECP256R1, 0 },
		{ WOLFSSL_ECC_SECP256K1, WOLFSSL_ECC_X25519, 0 },
		{ WOLFSSL_ECC_BRAINPOOLP256R1, WOLFSSL_ECC_SECP256R1, 0 },
		{ WOLFSSL_ECC_SECP384R1, 0 },
	};
	struct tlsctx *ts = mkctx(api, TLSCTX_PREFER_AUTO);
	struct tlsctx_ident ti;
	WOLFSSL_CTX *old;
	const char *curve;
	struct conn c;
	size_t i, j;

	tident(web, &ti);
	for (i = 0; i < sizeof(offers) / sizeof(offers[0]); i++) {
		old = wolfSSL_CTX_new(wolfTLSv1_2_client_method());
		assert_non_null(old);
		assert_int_equal(wolfSSL_CTX_use_certificate_buffer(old, ti.leaf,
		    (long)ti.leaflen, WOLFSSL_FILETYPE_ASN1), WOLFSSL_SUCCESS);
		assert_int_equal(wolfSSL_CTX_use_PrivateKey_buffer(old, ti.key,
		    (long)ti.keylen, WOLFSSL_FILETYPE_ASN1), WOLFSSL_SUCCESS);
		assert_int_equal(wolfSSL_CTX_load_verify_buffer(old, ti.ca,
		    (long)ti.calen, WOLFSSL_FILETYPE_ASN1), WOLFSSL_SUCCESS);
		/* A curve this wolfSSL lacks (the static build has P-256 and
		 * X25519 alone) can be neither offered nor picked. */
		for (j = 0; offers[i][j] != 0; j++)
			if (wolfSSL_CTX_UseSupportedCurve(old, offers[i][j]) != WOLFSSL_SUCCESS)
				assert_true(offers[i][j] != WOLFSSL_ECC_SECP256R1 &&
				    offers[i][j] != WOLFSSL_ECC_X25519);
		assert_int_equal(tpair(c.sv), 0);
		c.cli = wolfSSL_new(old);
		wolfSSL_set_fd(c.cli, c.sv[0]);
		c.srv = tlsctx_ssl_new(ts, c.sv[1], 1, NULL);
		/* With no common group the handshake may fail; whatever
		 * happens, the server never computes on the client's pick. */
		(void)tpump(c.cli, c.srv);
		curve = wolfSSL_get_curve_name(c.srv);
		if (curve != NULL && strcmp(curve, "SECP256R1") != 0 && strcmp(curve, "X25519") != 0)
			fail_msg("offer %zu: TLS 1.2 key exchange on %s", i, curve);
		/* an offer with one of ours in it must succeed, on ours */
		if (offers[i][1] != 0)
			assert_non_null(curve);
		conn_close(&c);
		wolfSSL_CTX_free(old);
	}
	tlsctx_free(ts);
}

static void
test_cipher_order(void **state)
{
	struct tlsctx *tc = mkctx(web, TLSCTX_PREFER_AES), *ts = mkctx(api, TLSCTX_PREFER_CHACHA);
	struct conn c;

	/* the server's order decides */
	assert_int_equal(conn_open(&c, tc, ts, NULL), 0);
	assert_string_equal(wolfSSL_get_cipher_name(c.cli), "TLS13-CHACHA20-POLY1305-SHA256");
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(ts);
	tc = mkctx(web, TLSCTX_PREFER_CHACHA);
	ts = mkctx(api, TLSCTX_PREFER_AES);
	assert_int_equal(conn_open(&c, tc, ts, NULL), 0);
	assert_string_equal(wolfSSL_get_cipher_name(c.cli), "TLS13-AES128-GCM-SHA256");
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(ts);
	/* AUTO is one of the two, consistent with the detection */
	assert_ptr_equal(tlsctx_cipher_list(TLSCTX_PREFER_AUTO),
	    tlsctx_cipher_list(tlsctx_aes_fast() ? TLSCTX_PREFER_AES : TLSCTX_PREFER_CHACHA));
}

static void
test_resumption(void **state)
{
	struct tlsctx *tc = mkctx(web, TLSCTX_PREFER_AUTO), *ts = mkctx(api, TLSCTX_PREFER_AUTO);
	struct spiffe_id peer;
	struct conn c;

	assert_int_equal(conn_open(&c, tc, ts, "127.0.0.1:25001"), 0);
	assert_int_equal(wolfSSL_session_reused(c.cli), 0);
	/* a request and a response: the TLS 1.3 ticket rides along */
	conn_keep_session(&c, tc, "127.0.0.1:25001");

	/* a pooled reconnect to the same endpoint resumes ... */
	assert_int_equal(conn_open(&c, tc, ts, "127.0.0.1:25001"), 0);
	assert_int_equal(wolfSSL_session_reused(c.cli), 1);
	/* ... and both sides still know exactly who the peer is */
	assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, &peer), 0);
	assert_string_equal(peer.svc, "web");
	assert_int_equal(tlsctx_verify_peer(tc, c.cli, "api", &peer), 0);
	assert_int_equal(tlsctx_verify_peer(tc, c.cli, "db", NULL), TLSCTX_E_WRONG_PEER);
	assert_int_equal(txfer(c.cli, c.srv, "again"), 0);
	conn_close(&c);

	/* another endpoint has no session; a forgotten one neither */
	assert_int_equal(conn_open(&c, tc, ts, "127.0.0.1:25002"), 0);
	assert_int_equal(wolfSSL_session_reused(c.cli), 0);
	conn_close(&c);
	tlsctx_session_forget(tc, "127.0.0.1:25001");
	assert_int_equal(conn_open(&c, tc, ts, "127.0.0.1:25001"), 0);
	assert_int_equal(wolfSSL_session_reused(c.cli), 0);
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(ts);
}

/* A ticket outlives a short leaf: the resumed connection is refused. */
static void
test_resumed_expired(void **state)
{
	struct csr_ident *brief;
	struct tlsctx *tc = mkctx(web, TLSCTX_PREFER_AUTO), *ts;
	struct conn c;

	/* issued 6 s ago for 10 s: four seconds left (room for a loaded machine) */
	brief = tid_issue(ca1.ca, TD, "api", time(NULL) - 6, 10, NULL, NULL);
	assert_non_null(brief);
	ts = mkctx(brief, TLSCTX_PREFER_AUTO);
	assert_int_equal(conn_open(&c, tc, ts, "127.0.0.1:25003"), 0);
	assert_int_equal(tlsctx_verify_peer(tc, c.cli, "api", NULL), 0);
	conn_keep_session(&c, tc, "127.0.0.1:25003");
	sleep(5);
	assert_int_equal(conn_open(&c, tc, ts, "127.0.0.1:25003"), 0);
	assert_int_equal(wolfSSL_session_reused(c.cli), 1);
	assert_int_equal(tlsctx_verify_peer(tc, c.cli, "api", NULL), TLSCTX_E_EXPIRED);
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(ts);
	csr_free(brief);
}

/* Serial of the leaf the peer presented on this connection. */
static void
peer_serial(WOLFSSL *ssl, char *out)
{
	WOLFSSL_X509_CHAIN *ch = wolfSSL_get_peer_chain(ssl);
	struct pki_certinfo ci;

	assert_non_null(ch);
	assert_int_equal(pki_cert_info(wolfSSL_get_chain_cert(ch, 0),
	    (size_t)wolfSSL_get_chain_length(ch, 0), &ci), 0);
	strcpy(out, ci.serial);
}

static void
test_rotation(void **state)
{
	struct tlsctx *tc = mkctx(web, TLSCTX_PREFER_AUTO), *ts = mkctx(api, TLSCTX_PREFER_AUTO);
	struct csr_ident *api2 = tid_issue(ca1.ca, TD, "api", time(NULL), 3600, NULL, NULL);
	struct tlsctx_ident ti;
	char s1[80], s2[80], err[256];
	struct conn a, b;

	assert_non_null(api2);
	assert_int_equal(conn_open(&a, tc, ts, NULL), 0);
	peer_serial(a.cli, s1);
	/* renew the server's leaf while connection a is open */
	tident(api2, &ti);
	assert_int_equal(tlsctx_set_identity(ts, &ti, err, sizeof(err)), 0);
	/* a finishes on the old leaf (its context outlives the swap) */
	assert_int_equal(txfer(a.cli, a.srv, "still here"), 0);
	assert_int_equal(txfer(a.srv, a.cli, "me too"), 0);
	/* a new connection gets the new leaf */
	assert_int_equal(conn_open(&b, tc, ts, NULL), 0);
	peer_serial(b.cli, s2);
	assert_string_not_equal(s1, s2);
	assert_int_equal(tlsctx_verify_peer(tc, b.cli, "api", NULL), 0);
	conn_close(&b);
	assert_int_equal(txfer(a.cli, a.srv, "bye"), 0);
	conn_close(&a);
	/* a broken identity is refused and the current one stays */
	ti.keylen = 10;
	assert_int_equal(tlsctx_set_identity(ts, &ti, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "private key"));
	assert_int_equal(conn_open(&b, tc, ts, NULL), 0);
	conn_close(&b);
	tlsctx_free(tc);
	tlsctx_free(ts);
	csr_free(api2);
}

static void
test_no_identity(void **state)
{
	struct tlsctx *t;
	char err[128];

	assert_null(tlsctx_new("Bad Domain", TLSCTX_PREFER_AUTO, err, sizeof(err)));
	assert_non_null(strstr(err, "trust domain"));
	t = tlsctx_new(TD, TLSCTX_PREFER_AUTO, err, sizeof(err));
	assert_non_null(t);
	assert_false(tlsctx_ready(t));
	assert_null(tlsctx_ssl_new(t, 0, 1, NULL));
	tlsctx_free(t);
	assert_string_equal(tlsctx_strerror(TLSCTX_E_DENIED), "caller not allowed");
	assert_non_null(strstr(tlsctx_strerror(TLSCTX_E_EXPIRED), "expired"));
	assert_string_equal(tlsctx_strerror(SPIFFE_E_CA), "peer leaf certificate is a CA");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutual_ok),
		cmocka_unit_test(test_allow),
		cmocka_unit_test(test_other_ca_rejected),
		cmocka_unit_test(test_expired_rejected),
		cmocka_unit_test(test_other_trust_domain),
		cmocka_unit_test(test_two_uris_rejected),
		cmocka_unit_test(test_ca_leaf_rejected),
		cmocka_unit_test(test_tls12_floor),
		cmocka_unit_test(test_tls12_groups),
		cmocka_unit_test(test_cipher_order),
		cmocka_unit_test(test_resumption),
		cmocka_unit_test(test_resumed_expired),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_no_identity),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
