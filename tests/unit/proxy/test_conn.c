/* SPDX-License-Identifier: ISC */
/*
 * test_conn: what src/proxy/conn.c decides for a connection, through
 * real connections (harness.h): its timer (header and idle timeouts)
 * and graceful draining.  Draining cannot be undone: its test runs last.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

#define LIMITS "limit header_timeout_ms 200\nlimit idle_timeout_ms 400\n"

/* Half a request head, then nothing: 408 (mesh-error: header timeout)
 * once header_timeout_ms passes, with connection: close, and the
 * sidecar shuts its side so the client reads the end after it. */
static void
test_header_timeout(void **state)
{
	size_t held = h_bufs_held();
	struct fake_app *app = fake_open(FAKE_ECHO);
	struct h_client *cl;
	struct h_res r;
	ev_tstamp t0;
	int got = 0;

	h_config(LIMITS, app->port, "");
	cl = h_client_open(ROLE_LISTEN_HTTP, "api");
	t0 = ev_time();
	h_sends(cl, "GET /slow HTTP/1.1\r\nhost: a");
	H_RUN_UNTIL(got = h_take(cl, &r));
	assert_true(got);
	assert_true(ev_time() - t0 >= 0.15);
	assert_int_equal(r.status, 408);
	assert_string_equal(r.mesh_error, "header timeout");
	assert_true(r.close);
	H_RUN_UNTIL(cl->eof);
	assert_true(cl->eof);
	assert_int_equal(app->accepted, 0);

	h_client_close(cl);
	H_RUN_UNTIL(conn_count() == 0);
	assert_int_equal(conn_count(), 0);
	assert_int_equal(h_bufs_held(), held);
}

/* A keep-alive connection with nothing more to say is closed after
 * idle_timeout_ms, without a byte. */
static void
test_idle_timeout(void **state)
{
	struct fake_app *app = fake_open(FAKE_ECHO);
	struct h_client *cl;
	struct h_res r;
	ev_tstamp t0;
	int got = 0;

	h_config(LIMITS, app->port, "");
	cl = h_client_open(ROLE_LISTEN_HTTP, "api");
	h_sends(cl, "GET /once HTTP/1.1\r\nhost: api\r\n\r\n");
	H_RUN_UNTIL(got = h_take(cl, &r));
	assert_true(got);
	assert_int_equal(r.status, 200);
	t0 = ev_time();
	H_RUN_UNTIL(cl->eof);
	assert_true(cl->eof);
	assert_true(ev_time() - t0 >= 0.3);
	assert_int_equal(cl->len, 0);
	H_RUN_UNTIL(conn_count() == 0);
	assert_int_equal(conn_count(), 0);
}

/* conn_drain(): an idle connection closes at once; one mid-exchange
 * gets its response, with connection: close, and closes after it. */
static void
test_drain(void **state)
{
	struct fake_app *app = fake_open(FAKE_HOLD);
	struct h_client *idle, *busy;
	struct h_res r;
	int got = 0;

	h_config("", app->port, "");
	idle = h_client_open(ROLE_LISTEN_HTTP, "api");
	busy = h_client_open(ROLE_LISTEN_HTTP, "api");
	h_sends(busy, "GET /late HTTP/1.1\r\nhost: api\r\n\r\n");
	H_RUN_UNTIL(app->bytes > 0);
	assert_int_equal(conn_count(), 2);

	conn_drain();
	assert_true(conn_draining());
	H_RUN_UNTIL(idle->eof);
	assert_true(idle->eof);
	assert_int_equal(idle->len, 0);
	assert_int_equal(conn_count(), 1);
	assert_false(busy->eof);

	fake_release(app);
	H_RUN_UNTIL(got = h_take(busy, &r));
	assert_true(got);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "/late");
	assert_true(r.close);
	H_RUN_UNTIL(busy->eof);
	assert_true(busy->eof);

	h_client_close(busy);
	H_RUN_UNTIL(conn_count() == 0);
	assert_int_equal(conn_count(), 0);
	/* no new connection while draining */
	idle = h_client_open(ROLE_LISTEN_HTTP, "api");
	H_RUN_UNTIL(idle->eof);
	assert_true(idle->eof);
	assert_int_equal(conn_count(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_header_timeout, h_after),
		cmocka_unit_test_teardown(test_idle_timeout, h_after),
		cmocka_unit_test_teardown(test_drain, h_after),
	};

	return cmocka_run_group_tests(tests, h_setup, h_teardown);
}
