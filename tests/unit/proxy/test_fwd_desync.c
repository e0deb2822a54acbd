/* SPDX-License-Identifier: ISC */
/*
 * test_fwd_desync: a misbehaving app behind the sidecar (harness.h's
 * FAKE_RAW answers every request with canned bytes).  Whatever it sends,
 * the client gets one well-framed answer and nothing past it; the upstream
 * leg is never pooled mid-message.  The integration side of the same
 * question is tests/integ/sec_smuggle.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

/* A client of api (one endpoint: app), over http. */
static struct h_client *
api_client(const char *limits, struct fake_app *app)
{
	h_config(limits, app->port, "");
	return h_client_open(ROLE_LISTEN_HTTP, "api");
}

/* cl sends req; a whole response comes into r. */
static void
ask(struct h_client *cl, const char *req, struct h_res *r)
{
	int got = 0;

	h_sends(cl, req);
	H_RUN_UNTIL(got = h_take(cl, r));
	assert_true(got);
}

/* The client leaves; every connection closes, the pool keeps nothing of
 * the misbehaving app, every buffer has come back. */
static void
all_gone(struct h_client *cl, struct fake_app *app, size_t held)
{
	h_client_close(cl);
	H_RUN_UNTIL(conn_count() == 0);
	assert_int_equal(conn_count(), 0);
	assert_int_equal(h_upstream(app->port)->nidle, 0);
	assert_int_equal(h_bufs_held(), held);
}

/* An app that switches a websocket upgrade to h2c: h2c is never offered
 * upstream (http.h), so that 101 is refused, not tunnelled; a 101 for
 * the protocol asked for still is. */
static void
test_101_to_h2c_refused(void **state)
{
	static const char h2c[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
	static const char ws[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
	static const char req[] = "GET /ws HTTP/1.1\r\nhost: api\r\n"
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
	size_t held = h_bufs_held();
	struct fake_app *app = fake_open(FAKE_RAW);
	struct h_client *cl;
	struct h_res r;

	app->raw = h2c;
	app->raw_len = sizeof(h2c) - 1;
	cl = api_client("", app);
	ask(cl, req, &r);
	assert_int_equal(r.status, 502);
	assert_string_equal(r.mesh_error, "unexpected 101 response");
	assert_true(r.close);
	H_RUN_UNTIL(cl->eof);
	assert_true(cl->eof);
	assert_int_equal(cl->len, 0);
	all_gone(cl, app, held);

	app->raw = ws;
	app->raw_len = sizeof(ws) - 1;
	cl = api_client("", app);
	ask(cl, req, &r);
	assert_int_equal(r.status, 101);
	all_gone(cl, app, held);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_101_to_h2c_refused, h_after),
	};

	return cmocka_run_group_tests(tests, h_setup, h_teardown);
}
