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

/* The client leaves; every connection closes, the pool keeps `pooled`
 * legs to the app (none after a misbehaviour), every buffer has come
 * back once the pool is emptied. */
static void
all_gone(struct h_client *cl, struct fake_app *app, size_t held, unsigned pooled)
{
	h_client_close(cl);
	H_RUN_UNTIL(conn_count() == 0);
	assert_int_equal(conn_count(), 0);
	assert_int_equal(h_upstream(app->port)->nidle, pooled);
	upstream_close_idle();
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
	all_gone(cl, app, held, 0);

	app->raw = ws;
	app->raw_len = sizeof(ws) - 1;
	cl = api_client("", app);
	ask(cl, req, &r);
	assert_int_equal(r.status, 101);
	all_gone(cl, app, held, 0);
}

/* An app that sends 1xx after 1xx: they go down one by one until
 * together they pass header_bytes (1024 here: 40 heads of 25 bytes),
 * then the client gets a 502 and the close, and nothing of the rest. */
static void
test_interim_flood(void **state)
{
	static char flood[100 * 25 + 64];
	size_t held = h_bufs_held();
	struct fake_app *app = fake_open(FAKE_RAW);
	struct h_client *cl;
	struct h_res r;
	int i, got;

	for (i = 0; i < 100; i++)
		memcpy(flood + i * 25, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	strcpy(flood + 100 * 25, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
	app->raw = flood;
	app->raw_len = strlen(flood);
	cl = api_client("limit header_bytes 1024\n", app);
	h_sends(cl, "GET /flood HTTP/1.1\r\nhost: api\r\n\r\n");
	for (i = 0; i < 40; i++) {
		got = 0;
		H_RUN_UNTIL(got = h_take(cl, &r));
		assert_true(got);
		assert_int_equal(r.status, 100);
	}
	got = 0;
	H_RUN_UNTIL(got = h_take(cl, &r));
	assert_true(got);
	assert_int_equal(r.status, 502);
	assert_string_equal(r.mesh_error, "too many interim responses");
	assert_true(r.close);
	H_RUN_UNTIL(cl->eof);
	assert_true(cl->eof);
	assert_int_equal(cl->len, 0);
	all_gone(cl, app, held, 0);

	/* within the budget, interim heads and the answer go down whole */
	app->raw = flood + 60 * 25;
	app->raw_len = strlen(flood + 60 * 25);
	cl = api_client("limit header_bytes 1024\n", app);
	h_sends(cl, "GET /few HTTP/1.1\r\nhost: api\r\n\r\n");
	for (i = 0; i < 41; i++) {
		got = 0;
		H_RUN_UNTIL(got = h_take(cl, &r));
		assert_true(got);
		assert_int_equal(r.status, i < 40 ? 100 : 200);
	}
	assert_string_equal(r.body, "ok");
	all_gone(cl, app, held, 1);
}

/* A chunked response whose framing is already broken in the bytes that
 * came with its head: the client gets a clean 502, not the head and then
 * a cut body (or a bare close). */
static void
test_bad_chunked_response(void **state)
{
	static const char junk[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2g\r\nok\r\n0\r\n\r\n";
	static const char overflow[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "10000000000000002\r\nok\r\n0\r\n\r\n";
	const char *raw[] = { junk, overflow };
	size_t held = h_bufs_held();
	struct fake_app *app = fake_open(FAKE_RAW);
	struct h_client *cl;
	struct h_res r;
	size_t i;

	for (i = 0; i < 2; i++) {
		app->raw = raw[i];
		app->raw_len = strlen(raw[i]);
		cl = api_client("", app);
		ask(cl, "GET /c HTTP/1.1\r\nhost: api\r\n\r\n", &r);
		assert_int_equal(r.status, 502);
		assert_string_equal(r.mesh_error, "bad response");
		assert_true(r.close);
		H_RUN_UNTIL(cl->eof);
		assert_true(cl->eof);
		assert_int_equal(cl->len, 0);
		all_gone(cl, app, held, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_101_to_h2c_refused, h_after),
		cmocka_unit_test_teardown(test_interim_flood, h_after),
		cmocka_unit_test_teardown(test_bad_chunked_response, h_after),
	};

	return cmocka_run_group_tests(tests, h_setup, h_teardown);
}
