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

#include "test_tlsctx_util.h"

static struct tca ca_old, ca_new;
static struct csr_ident *web_old, *web_new, *api_new;
static struct pki_bundle both, only_new, only_old;

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
	return tctx_new(id, TLSCTX_PREFER_AUTO, b);
}

static void
retrust(struct tlsctx *t, const struct csr_ident *id, const struct pki_bundle *b)
{
	tctx_identity(t, id, b);
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
	conn_keep_session(&c, tc, "127.0.0.1:25101");
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
