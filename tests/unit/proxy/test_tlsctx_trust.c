/* SPDX-License-Identifier: ISC */
/*
 * test_tlsctx_trust: the trust bundle of a root rollover in real
 * handshakes.  With {old, new} both sides accept leaves from either root
 * (client and server contexts alike); with {new} alone a leaf from the
 * old root is refused, while a connection opened before goes on; a
 * resumed session whose peer's root left the bundle is refused
 * (TLSCTX_E_UNTRUSTED); without a bundle the identity's own CA is the
 * one root (as before rollovers existed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_tls_util.h"

static struct tca ca_old, ca_new;
static struct csr_ident *web_old, *web_new, *api_new;
static struct pki_bundle both, only_new, only_old;

struct conn {
	int      sv[2];
	WOLFSSL *cli, *srv;
};

static void
bundle(struct pki_bundle *b, struct pki_ca *x, struct pki_ca *y)
{
	const unsigned char *der;
	char err[128];
	size_t len;

	memset(b, 0, sizeof(*b));
	der = pki_ca_der(x, &len);
	assert_int_equal(pki_bundle_add(b, der, len, err, sizeof(err)), 0);
	if (y != NULL) {
		der = pki_ca_der(y, &len);
		assert_int_equal(pki_bundle_add(b, der, len, err, sizeof(err)), 0);
	}
}

static int
group_setup(void **state)
{
	if (tca_open(&ca_old) == NULL || tca_open(&ca_new) == NULL)
		return -1;
	web_old = tid_issue(ca_old.ca, TD, "web", time(NULL), 3600, NULL, NULL);
	web_new = tid_issue(ca_new.ca, TD, "web", time(NULL), 3600, NULL, NULL);
	api_new = tid_issue(ca_new.ca, TD, "api", time(NULL), 3600, NULL, NULL);
	bundle(&both, ca_old.ca, ca_new.ca);
	bundle(&only_new, ca_new.ca, NULL);
	bundle(&only_old, ca_old.ca, NULL);
	return web_old != NULL && web_new != NULL && api_new != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	csr_free(web_old);
	csr_free(web_new);
	csr_free(api_new);
	tca_close(&ca_old);
	tca_close(&ca_new);
	return 0;
}

/* A context for id trusting b (NULL: the identity's own CA). */
static struct tlsctx *
mkctx(const struct csr_ident *id, const struct pki_bundle *b)
{
	struct tlsctx_ident ti;
	struct tlsctx *t;
	char err[256];

	t = tlsctx_new(TD, TLSCTX_PREFER_AUTO, err, sizeof(err));
	assert_non_null(t);
	tident(id, &ti);
	tlsctx_set_trust(t, b);
	if (tlsctx_set_identity(t, &ti, err, sizeof(err)) != 0)
		fail_msg("set_identity: %s", err);
	return t;
}

static void
retrust(struct tlsctx *t, const struct csr_ident *id, const struct pki_bundle *b)
{
	struct tlsctx_ident ti;
	char err[256];

	tident(id, &ti);
	tlsctx_set_trust(t, b);
	if (tlsctx_set_identity(t, &ti, err, sizeof(err)) != 0)
		fail_msg("set_identity: %s", err);
}

static int
conn_open(struct conn *c, struct tlsctx *tc, struct tlsctx *ts, const char *endpoint)
{
	assert_int_equal(tpair(c->sv), 0);
	c->cli = tlsctx_ssl_new(tc, c->sv[0], 0, endpoint);
	c->srv = tlsctx_ssl_new(ts, c->sv[1], 1, NULL);
	assert_non_null(c->cli);
	assert_non_null(c->srv);
	return tpump(c->cli, c->srv);
}

static void
conn_close(struct conn *c)
{
	wolfSSL_free(c->cli);
	wolfSSL_free(c->srv);
	close(c->sv[0]);
	close(c->sv[1]);
}

static void
test_both_roots(void **state)
{
	/* mid-rollover: web still on the old root, api already on the new */
	struct tlsctx *tc = mkctx(web_old, &both), *ts = mkctx(api_new, &both);
	struct spiffe_id peer;
	struct conn c;

	assert_int_equal(conn_open(&c, tc, ts, NULL), 0);
	assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, &peer), 0);
	assert_string_equal(peer.svc, "web");
	assert_int_equal(tlsctx_verify_peer(tc, c.cli, "api", &peer), 0);
	assert_int_equal(txfer(c.cli, c.srv, "ping"), 0);
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(ts);
}

static void
test_one_root_refuses_the_other(void **state)
{
	struct tlsctx *tc, *ts;
	struct conn c;

	/* before a rollover: api trusts its own CA alone; web's old-root
	 * leaf is refused (and the other way round) */
	tc = mkctx(web_old, NULL);
	ts = mkctx(api_new, NULL);
	assert_int_not_equal(conn_open(&c, tc, ts, NULL), 0);
	conn_close(&c);
	tlsctx_free(ts);
	/* the client side checks the bundle too */
	ts = mkctx(api_new, &both);
	assert_int_not_equal(conn_open(&c, tc, ts, NULL), 0);
	conn_close(&c);
	tlsctx_free(tc);
	tc = mkctx(web_old, &both);
	assert_int_equal(conn_open(&c, tc, ts, NULL), 0);
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(ts);
}

static void
test_retired_root(void **state)
{
	struct tlsctx *tc = mkctx(web_old, &both), *ts = mkctx(api_new, &both);
	struct conn open, c;

	/* a connection opened during the rollover ... */
	assert_int_equal(conn_open(&open, tc, ts, NULL), 0);
	/* ... the old root retires on the server: new connections from an
	 * old-root leaf fail, the open one goes on */
	retrust(ts, api_new, &only_new);
	assert_int_not_equal(conn_open(&c, tc, ts, NULL), 0);
	conn_close(&c);
	assert_int_equal(txfer(open.cli, open.srv, "still here"), 0);
	assert_int_equal(txfer(open.srv, open.cli, "yes"), 0);
	conn_close(&open);
	/* web renewed from the new root: in again */
	retrust(tc, web_new, &only_new);
	assert_int_equal(conn_open(&c, tc, ts, NULL), 0);
	assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, NULL), 0);
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(ts);
}

static void
test_resumed_untrusted(void **state)
{
	struct tlsctx *tc = mkctx(web_new, &both), *ts = mkctx(api_new, &both);
	struct conn c;

	assert_int_equal(conn_open(&c, tc, ts, "127.0.0.1:25101"), 0);
	assert_int_equal(txfer(c.cli, c.srv, "ping"), 0);
	assert_int_equal(txfer(c.srv, c.cli, "pong"), 0);
	tlsctx_session_save(tc, c.cli, "127.0.0.1:25101");
	conn_close(&c);
	assert_int_equal(conn_open(&c, tc, ts, "127.0.0.1:25101"), 0);
	assert_int_equal(wolfSSL_session_reused(c.cli), 1);
	assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, NULL), 0);
	/* the peer's root leaves the bundle: its resumed session no longer
	 * passes (the leaf's own dates would) */
	tlsctx_set_trust(ts, &only_old);
	assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, NULL), TLSCTX_E_UNTRUSTED);
	assert_string_equal(tlsctx_strerror(TLSCTX_E_UNTRUSTED),
	    "resumed session of a certificate from a retired root");
	tlsctx_set_trust(ts, &only_new);
	assert_int_equal(tlsctx_verify_peer(ts, c.srv, NULL, NULL), 0);
	conn_close(&c);
	tlsctx_free(tc);
	tlsctx_free(ts);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_roots),
		cmocka_unit_test(test_one_root_refuses_the_other),
		cmocka_unit_test(test_retired_root),
		cmocka_unit_test(test_resumed_untrusted),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
