/* SPDX-License-Identifier: ISC */
/*
 * test_fwd: the data path's state machine (src/proxy/fwd*.c) on real
 * connections with a fake app behind them (harness.h): pipelined
 * requests, a client gone mid-body, an app that resets (without and
 * with a route that retries), a pooled connection lost to the keep-alive
 * race.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

/* Two requests in one write: both answered, in order, over one upstream
 * connection that the first exchange gave back to the pool. */
static void
test_pipelined(void **state)
{
	size_t held = h_bufs_held();
	struct fake_app *app = fake_open(FAKE_ECHO);
	struct h_client *cl;
	struct h_res r1, r2;
	int got1 = 0, got2 = 0;

	h_config("", app->port, "");
	cl = h_client_open(ROLE_LISTEN_HTTP, "api");
	h_sends(cl, "GET /first HTTP/1.1\r\nhost: api\r\n\r\n"
	    "GET /second HTTP/1.1\r\nhost: api\r\n\r\n");
	H_RUN_UNTIL((got1 = got1 || h_take(cl, &r1)) && (got2 = got2 || h_take(cl, &r2)));
	assert_true(got1 && got2);
	assert_int_equal(r1.status, 200);
	assert_string_equal(r1.body, "/first");
	assert_int_equal(r2.status, 200);
	assert_string_equal(r2.body, "/second");
	assert_int_equal(app->requests, 2);
	assert_int_equal(app->accepted, 1);
	assert_int_equal(conn_count(), 1);          /* keep-alive: still open */
	assert_int_equal(cl->len, 0);               /* and nothing more came */

	h_client_close(cl);
	H_RUN_UNTIL(conn_count() == 0);
	assert_int_equal(conn_count(), 0);
	/* a complete exchange leaves its upstream leg in the pool */
	assert_int_equal(h_upstream(app->port)->nidle, 1);
	assert_int_equal(h_upstream(app->port)->nbusy, 0);
	upstream_close_idle();
	H_RUN_UNTIL(app->eofs == 1);
	assert_int_equal(app->eofs, 1);
	assert_int_equal(h_bufs_held(), held);
}

/* The client leaves in the middle of a request body: the connection
 * closes (once: the count goes to 0, not below), the upstream leg
 * mid-request is closed rather than pooled, every buffer comes back. */
static void
test_client_gone_mid_body(void **state)
{
	static char body[1000];
	size_t held = h_bufs_held();
	struct fake_app *app = fake_open(FAKE_HOLD);
	struct h_client *cl;

	h_config("", app->port, "");
	cl = h_client_open(ROLE_LISTEN_HTTP, "api");
	h_sends(cl, "POST /up HTTP/1.1\r\nhost: api\r\ncontent-length: 100000\r\n\r\n");
	memset(body, 'x', sizeof(body));
	h_send(cl, body, sizeof(body));
	/* the head and this much of the body went up */
	H_RUN_UNTIL(app->bytes > sizeof(body));
	assert_true(app->bytes > sizeof(body));
	assert_int_equal(app->accepted, 1);
	assert_int_equal(conn_count(), 1);
	assert_int_equal(h_upstream(app->port)->nbusy, 1);

	h_client_close(cl);
	H_RUN_UNTIL(conn_count() == 0 && app->eofs == 1);
	assert_int_equal(conn_count(), 0);
	assert_int_equal(app->eofs, 1);
	assert_int_equal(h_upstream(app->port)->nbusy, 0);
	assert_int_equal(h_upstream(app->port)->nidle, 0);
	assert_int_equal(h_bufs_held(), held);
}

/* The app resets the connection on a request: the client gets the
 * mesh's own 502 (mesh-error: upstream reset) and, its stream being at
 * a request boundary, keeps its connection for the next request. */
static void
test_upstream_reset(void **state)
{
	size_t held = h_bufs_held();
	struct fake_app *app = fake_open(FAKE_RESET);
	struct h_client *cl;
	struct h_res r;
	int got = 0;

	h_config("", app->port, "");
	cl = h_client_open(ROLE_LISTEN_HTTP, "api");
	h_sends(cl, "GET /boom HTTP/1.1\r\nhost: api\r\n\r\n");
	H_RUN_UNTIL(got = h_take(cl, &r));
	assert_true(got);
	assert_int_equal(app->failed, 1);
	assert_int_equal(r.status, 502);
	assert_string_equal(r.mesh_error, "upstream reset");
	assert_false(r.close);
	assert_int_equal(h_upstream(app->port)->nbusy, 0);
	assert_int_equal(h_upstream(app->port)->nidle, 0);

	app->mode = FAKE_ECHO;
	h_sends(cl, "GET /again HTTP/1.1\r\nhost: api\r\n\r\n");
	got = 0;
	H_RUN_UNTIL(got = h_take(cl, &r));
	assert_true(got);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "/again");
	assert_int_equal(app->accepted, 2);
	assert_int_equal(conn_count(), 1);

	h_client_close(cl);
	H_RUN_UNTIL(conn_count() == 0);
	assert_int_equal(conn_count(), 0);
	upstream_close_idle();
	H_RUN_UNTIL(app->eofs == 1);
	assert_int_equal(h_bufs_held(), held);
}

/* The same reset on a route that retries resets: after the backoff (the
 * connection's timer) the request goes again and the client gets the
 * app's answer, not the refusal. */
static void
test_upstream_reset_retried(void **state)
{
	size_t held = h_bufs_held();
	struct fake_app *app = fake_open(FAKE_RESET);
	struct h_client *cl;
	struct h_res r;
	int got = 0;

	app->once = 1;
	h_config("", app->port, "policy api retries=1 retry_on=reset backoff_ms=20,20\n");
	cl = h_client_open(ROLE_LISTEN_HTTP, "api");
	h_sends(cl, "GET /twice HTTP/1.1\r\nhost: api\r\n\r\n");
	H_RUN_UNTIL(got = h_take(cl, &r));
	assert_true(got);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "/twice");
	assert_int_equal(app->failed, 1);
	assert_int_equal(app->requests, 2);
	assert_int_equal(app->accepted, 2);

	h_client_close(cl);
	H_RUN_UNTIL(conn_count() == 0);
	assert_int_equal(conn_count(), 0);
	upstream_close_idle();
	H_RUN_UNTIL(app->eofs == 1);
	assert_int_equal(h_bufs_held(), held);
}

/* The app closes a pooled connection just as a request comes on it (the
 * keep-alive race): lost before any response byte, the request goes once
 * more on a fresh connection and the client never sees the failure. */
static void
test_pooled_lost(void **state)
{
	size_t held = h_bufs_held();
	struct fake_app *app = fake_open(FAKE_ECHO);
	struct h_client *cl;
	struct h_res r;
	int got = 0;

	h_config("", app->port, "");
	cl = h_client_open(ROLE_LISTEN_HTTP, "api");
	h_sends(cl, "GET /one HTTP/1.1\r\nhost: api\r\n\r\n");
	H_RUN_UNTIL(got = h_take(cl, &r));
	assert_true(got);
	assert_string_equal(r.body, "/one");
	assert_int_equal(h_upstream(app->port)->nidle, 1);

	app->mode = FAKE_CLOSE;
	app->once = 1;
	h_sends(cl, "GET /two HTTP/1.1\r\nhost: api\r\n\r\n");
	got = 0;
	H_RUN_UNTIL(got = h_take(cl, &r));
	assert_true(got);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "/two");
	assert_int_equal(app->requests, 3);     /* /one, /two lost, /two again */
	assert_int_equal(app->accepted, 2);

	h_client_close(cl);
	H_RUN_UNTIL(conn_count() == 0);
	assert_int_equal(conn_count(), 0);
	assert_int_equal(h_upstream(app->port)->nbusy, 0);
	upstream_close_idle();
	H_RUN_UNTIL(app->eofs == 1);
	assert_int_equal(h_bufs_held(), held);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_pipelined, h_after),
		cmocka_unit_test_teardown(test_client_gone_mid_body, h_after),
		cmocka_unit_test_teardown(test_upstream_reset, h_after),
		cmocka_unit_test_teardown(test_upstream_reset_retried, h_after),
		cmocka_unit_test_teardown(test_pooled_lost, h_after),
	};

	return cmocka_run_group_tests(tests, h_setup, h_teardown);
}
