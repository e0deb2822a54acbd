/* SPDX-License-Identifier: ISC */
/*
 * What test_tlsctx and test_tlsctx_trust share on top of test_tls_util.h:
 * a context for an identity (with a trust bundle or, NULL, the identity's
 * own CA), re-identifying a context, a handshaken client/server pair
 * over a socketpair, and a session kept for resumption.
 */
#ifndef TEST_TLSCTX_UTIL_H
#define TEST_TLSCTX_UTIL_H

#include "test_tls_util.h"

struct conn {
	int      sv[2];
	WOLFSSL *cli, *srv;
};

/* Give t the trust b (NULL: the identity's own CA) and the identity id. */
static void
tctx_identity(struct tlsctx *t, const struct csr_ident *id, const struct pki_bundle *b)
{
	struct tlsctx_ident ti;
	char err[256];

	tident(id, &ti);
	tlsctx_set_trust(t, b);
	if (tlsctx_set_identity(t, &ti, err, sizeof(err)) != 0)
		fail_msg("set_identity: %s", err);
}

/* A context in TD preferring p, for id trusting b (NULL: id's own CA). */
static struct tlsctx *
tctx_new(const struct csr_ident *id, enum tlsctx_prefer p, const struct pki_bundle *b)
{
	struct tlsctx *t;
	char err[256];

	t = tlsctx_new(TD, p, err, sizeof(err));
	assert_non_null(t);
	tctx_identity(t, id, b);
	return t;
}

/* A connection from tc to ts; 0 if both handshakes completed. */
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

/* A request and a response over c (the TLS 1.3 ticket rides along); tc
 * keeps the session for endpoint, and c closes. */
static void
conn_keep_session(struct conn *c, struct tlsctx *tc, const char *endpoint)
{
	assert_int_equal(txfer(c->cli, c->srv, "ping"), 0);
	assert_int_equal(txfer(c->srv, c->cli, "pong"), 0);
	tlsctx_session_save(tc, c->cli, endpoint);
	conn_close(c);
}

#endif
