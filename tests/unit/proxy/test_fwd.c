/* SPDX-License-Identifier: ISC */
/*
 * test_fwd: the data path's state machine (src/proxy/fwd*.c) on real
 * connections with a fake app behind them (harness.h): pipelined
 * requests, a client gone mid-body, an app that resets (without and
 * with a route that retries), a pooled connection lost to the keep-alive
 * race, connect failures (retried always, whatever the method, counted
 * as retries; tcp streams too), an inbound sidecar whose app refuses (503
 * app not ready) and the caller that takes that 503 as a connect failure,
 * a sidecar out of descriptors (503 overloaded, not the endpoint's fault).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/resource.h>

#include "harness.h"
#include "mesh/retry.h"

/* A client of api, as the listener of role accepted it, with api's
 * endpoints ports and the route's policy. */
static struct h_client *
api_client_eps(enum conn_role role, const uint16_t *ports, size_t n, const char *policy)
{
	h_config_eps("", ports, n, policy);
	return h_client_open(role, "api");
}

/* The same with the one endpoint port, over http. */
static struct h_client *
api_client(uint16_t port, const char *policy)
{
	return api_client_eps(ROLE_LISTEN_HTTP, &port, 1, policy);
}

/* A client of an inbound http listener whose app is at port. */
static struct h_client *
inbound_client(uint16_t port)
{
	char limits[64];

	snprintf(limits, sizeof(limits), "inbound %u http %u\n", h_free_port(), port);
	h_config(limits, 1, "");
	return h_client_open(ROLE_INBOUND_HTTP, NULL);
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

/* The client leaves: every connection closes. */
static void
client_gone(struct h_client *cl)
{
	h_client_close(cl);
	H_RUN_UNTIL(conn_count() == 0);
	assert_int_equal(conn_count(), 0);
}

/* The pool closes its idle legs: the app sees its connection end. */
static void
pool_drained(struct fake_app *app)
{
	upstream_close_idle();
	H_RUN_UNTIL(app->eofs == 1);
}

/* The end of a test: the client leaves, every connection closes, the
 * pool's idle legs to app (if any) close, every buffer has come back. */
static void
all_gone(struct h_client *cl, struct fake_app *app, size_t held)
{
	client_gone(cl);
	if (app != NULL)
		pool_drained(app);
	assert_int_equal(h_bufs_held(), held);
}

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

	cl = api_client(app->port, "");
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

	client_gone(cl);
	/* a complete exchange leaves its upstream leg in the pool */
	assert_int_equal(h_upstream(app->port)->nidle, 1);
	assert_int_equal(h_upstream(app->port)->nbusy, 0);
	pool_drained(app);
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

	cl = api_client(app->port, "");
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

	cl = api_client(app->port, "");
	ask(cl, "GET /boom HTTP/1.1\r\nhost: api\r\n\r\n", &r);
	assert_int_equal(app->failed, 1);
	assert_int_equal(r.status, 502);
	assert_string_equal(r.mesh_error, "upstream reset");
	assert_false(r.close);
	assert_int_equal(h_upstream(app->port)->nbusy, 0);
	assert_int_equal(h_upstream(app->port)->nidle, 0);

	app->mode = FAKE_ECHO;
	ask(cl, "GET /again HTTP/1.1\r\nhost: api\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "/again");
	assert_int_equal(app->accepted, 2);
	assert_int_equal(conn_count(), 1);

	all_gone(cl, app, held);
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

	app->once = 1;
	cl = api_client(app->port, "policy api retries=1 retry_on=reset backoff_ms=20,20\n");
	ask(cl, "GET /twice HTTP/1.1\r\nhost: api\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "/twice");
	assert_int_equal(app->failed, 1);
	assert_int_equal(app->requests, 2);
	assert_int_equal(app->accepted, 2);

	all_gone(cl, app, held);
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

	cl = api_client(app->port, "");
	ask(cl, "GET /one HTTP/1.1\r\nhost: api\r\n\r\n", &r);
	assert_string_equal(r.body, "/one");
	assert_int_equal(h_upstream(app->port)->nidle, 1);

	app->mode = FAKE_CLOSE;
	app->once = 1;
	ask(cl, "GET /two HTTP/1.1\r\nhost: api\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "/two");
	assert_int_equal(app->requests, 3);     /* /one, /two lost, /two again */
	assert_int_equal(app->accepted, 2);

	client_gone(cl);
	assert_int_equal(h_upstream(app->port)->nbusy, 0);
	pool_drained(app);
	assert_int_equal(h_bufs_held(), held);
}

static const char POST_HELLO[] = "POST /post HTTP/1.1\r\nhost: api\r\n"
    "content-length: 10\r\n\r\nhello-body";

/* Two endpoints, the first (round-robin's first turn) refusing every
 * connection, on a route with the defaults (retries = 0): a POST goes to
 * the other one after the refusal, whole, and the client gets its 200;
 * the stats count one retry.  The next request goes straight to the
 * live one (round-robin's turn), with no retry. */
static void
test_connect_refused_elsewhere(void **state)
{
	size_t held = h_bufs_held();
	uint64_t r0 = h_stat(STAT_RETRIES);
	struct fake_app *app = fake_open(FAKE_ECHO);
	uint16_t ports[2];
	struct h_client *cl;
	struct h_res r;

	ports[0] = h_refusing_port();
	ports[1] = app->port;
	cl = api_client_eps(ROLE_LISTEN_HTTP, ports, 2, "policy api lb=round-robin\n");
	ask(cl, POST_HELLO, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "/post");
	assert_int_equal(app->requests, 1);
	assert_int_equal(app->body_bytes, 10);
	assert_string_equal(app->body, "hello-body");
	assert_int_equal(h_stat(STAT_RETRIES) - r0, 1);
	assert_false(r.close);

	ask(cl, POST_HELLO, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(app->requests, 2);
	assert_int_equal(app->body_bytes, 20);
	assert_int_equal(h_stat(STAT_RETRIES) - r0, 1);

	all_gone(cl, app, held);
}

/* Every endpoint refuses: after RETRY_CONNECT_MIN retries (retries = 0)
 * the client gets the mesh's 502 upstream connect failed, soon; a route
 * with more retries makes that many. */
static void
test_connect_refused_all(void **state)
{
	size_t held = h_bufs_held();
	uint64_t r0 = h_stat(STAT_RETRIES), f0 = h_stat(STAT_REFUSED_UPSTREAM_ERROR);
	uint16_t ports[2];
	struct h_client *cl;
	struct h_res r;
	ev_tstamp t0;

	ports[0] = h_refusing_port();
	ports[1] = h_refusing_port();
	cl = api_client_eps(ROLE_LISTEN_HTTP, ports, 2,
	    "policy api lb=round-robin backoff_ms=5,10\n");
	t0 = ev_time();
	ask(cl, POST_HELLO, &r);
	assert_int_equal(r.status, 502);
	assert_string_equal(r.mesh_error, "upstream connect failed");
	assert_int_equal(h_stat(STAT_RETRIES) - r0, RETRY_CONNECT_MIN);
	assert_int_equal(h_stat(STAT_REFUSED_UPSTREAM_ERROR) - f0, 1);
	assert_true(ev_time() - t0 < 1.0);
	H_RUN_UNTIL(cl->eof);     /* the body never went: the stream is closed */
	assert_true(cl->eof);
	h_client_close(cl);

	cl = api_client_eps(ROLE_LISTEN_HTTP, ports, 2,
	    "policy api lb=round-robin retries=4 backoff_ms=5,10\n");
	ask(cl, "GET /none HTTP/1.1\r\nhost: api\r\n\r\n", &r);
	assert_int_equal(r.status, 502);
	assert_int_equal(h_stat(STAT_RETRIES) - r0, RETRY_CONNECT_MIN + 4);
	assert_false(r.close);    /* a GET: the stream is at a boundary */

	all_gone(cl, NULL, held);
}

/* An inbound sidecar whose app refuses the connection (not listening
 * yet, or just died) answers 503 mesh-error: app not ready, and does not
 * retry itself (its caller does); the app's own mesh-error header never
 * reaches the caller, so no app can pass for its sidecar. */
static void
test_inbound_app_not_ready(void **state)
{
	size_t held = h_bufs_held();
	uint64_t r0 = h_stat(STAT_RETRIES);
	struct fake_app *app;
	struct h_client *cl;
	struct h_res r;

	cl = inbound_client(h_refusing_port());
	ask(cl, "GET /ready HTTP/1.1\r\nhost: api\r\n\r\n", &r);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.mesh_error, "app not ready");
	assert_string_equal(r.body, "app not ready\n");
	assert_false(r.close);
	assert_int_equal(h_stat(STAT_RETRIES) - r0, 0);
	h_client_close(cl);

	app = fake_open(FAKE_NOT_READY);
	cl = inbound_client(app->port);
	ask(cl, "GET /lies HTTP/1.1\r\nhost: api\r\n\r\n", &r);
	assert_int_equal(app->requests, 1);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.mesh_error, "");
	assert_string_equal(r.body, "app not ready\n");

	all_gone(cl, NULL, held);
}

/* The callee's sidecar answers 503 app not ready: the caller takes it as
 * a connect failure of that endpoint and sends the POST, body and all (a
 * route without retries keeps a small body for this), to the other one;
 * one retry counted.  With that endpoint alone, the 503 comes through
 * after RETRY_CONNECT_MIN retries, for the client to retry later. */
static void
test_peer_app_not_ready(void **state)
{
	size_t held = h_bufs_held();
	uint64_t r0 = h_stat(STAT_RETRIES);
	struct fake_app *peer = fake_open(FAKE_NOT_READY);
	struct fake_app *app = fake_open(FAKE_ECHO);
	uint16_t ports[2];
	struct h_client *cl;
	struct h_res r;

	ports[0] = peer->port;
	ports[1] = app->port;
	cl = api_client_eps(ROLE_LISTEN_HTTP, ports, 2, "policy api lb=round-robin\n");
	ask(cl, POST_HELLO, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "/post");
	assert_int_equal(peer->requests, 1);
	assert_int_equal(app->requests, 1);
	assert_int_equal(app->body_bytes, 10);
	assert_string_equal(app->body, "hello-body");
	assert_int_equal(h_stat(STAT_RETRIES) - r0, 1);
	h_client_close(cl);

	cl = api_client(peer->port, "policy api backoff_ms=5,10\n");
	ask(cl, POST_HELLO, &r);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.mesh_error, "app not ready");
	assert_int_equal(peer->requests, 2 + RETRY_CONNECT_MIN);
	assert_int_equal(h_stat(STAT_RETRIES) - r0, 1 + RETRY_CONNECT_MIN);

	all_gone(cl, app, held);
}

/* A tcp service: a connect refused is retried too (nothing of the stream
 * went), the stream then relayed to the live endpoint; with every endpoint
 * refusing, the stream is closed after RETRY_CONNECT_MIN retries. */
static void
test_tcp_connect_refused(void **state)
{
	size_t held = h_bufs_held();
	uint64_t r0 = h_stat(STAT_RETRIES);
	struct fake_app *app = fake_open(FAKE_ECHO);
	uint16_t ports[2];
	struct h_client *cl;
	struct h_res r;

	h_api_proto = "tcp";
	ports[0] = h_refusing_port();
	ports[1] = app->port;
	cl = api_client_eps(ROLE_LISTEN_TCP, ports, 2,
	    "policy api lb=round-robin backoff_ms=5,10\n");
	ask(cl, "GET /opaque HTTP/1.1\r\nhost: api\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "/opaque");
	assert_int_equal(app->accepted, 1);
	assert_int_equal(h_stat(STAT_RETRIES) - r0, 1);
	h_client_close(cl);
	H_RUN_UNTIL(conn_count() == 0);

	ports[1] = h_refusing_port();
	cl = api_client_eps(ROLE_LISTEN_TCP, ports, 2,
	    "policy api lb=round-robin backoff_ms=5,10\n");
	H_RUN_UNTIL(cl->eof);
	assert_true(cl->eof);
	assert_int_equal(cl->len, 0);
	assert_int_equal(h_stat(STAT_RETRIES) - r0, 1 + RETRY_CONNECT_MIN);

	all_gone(cl, NULL, held);
}

/* Use up every descriptor: the soft limit goes down to just above the
 * highest one open, then the holes below it are filled.  Returns how many
 * were taken into fds[] (undo with fds_back). */
static int
fds_exhaust(struct rlimit *saved, int *fds, int max)
{
	struct rlimit low;
	struct dirent *e;
	DIR *d;
	int hi = 0, n = 0, fd;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, saved), 0);
	assert_non_null(d = opendir("/proc/self/fd"));
	while ((e = readdir(d)) != NULL)
		if (atoi(e->d_name) > hi)
			hi = atoi(e->d_name);
	closedir(d);
	low = *saved;
	low.rlim_cur = (rlim_t)hi + 1;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while ((fd = dup(0)) != -1) {
		assert_true(n < max);
		fds[n++] = fd;
	}
	assert_int_equal(errno, EMFILE);
	return n;
}

static void
fds_back(const struct rlimit *saved, const int *fds, int n)
{
	while (n > 0)
		close(fds[--n]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, saved), 0);
}

/* No descriptor left for the upstream connection: 503 overloaded at once,
 * counted as such, not retried, and no failure of the endpoint: with a
 * breaker that opens at the first failure, the next request (descriptors
 * back) reaches the app. */
static void
test_connect_no_descriptors(void **state)
{
	size_t held = h_bufs_held();
	uint64_t r0 = h_stat(STAT_RETRIES), o0 = h_stat(STAT_OVERLOADED);
	uint64_t b0 = h_stat(STAT_BREAKER_OPENED);
	struct fake_app *app = fake_open(FAKE_ECHO);
	struct h_client *cl = api_client(app->port,
	    "policy api retries=2 breaker_failures=1 backoff_ms=5,10\n");
	struct rlimit saved;
	int fds[256], n;
	struct h_res r;

	n = fds_exhaust(&saved, fds, 256);
	ask(cl, "GET /one HTTP/1.1\r\nhost: api\r\n\r\n", &r);
	fds_back(&saved, fds, n);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.mesh_error, "overloaded");
	assert_int_equal(app->accepted, 0);
	assert_int_equal(h_stat(STAT_OVERLOADED) - o0, 1);
	assert_int_equal(h_stat(STAT_RETRIES) - r0, 0);
	assert_int_equal(h_stat(STAT_BREAKER_OPENED) - b0, 0);

	ask(cl, "GET /two HTTP/1.1\r\nhost: api\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "/two");

	all_gone(cl, app, held);
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
		cmocka_unit_test_teardown(test_connect_refused_elsewhere, h_after),
		cmocka_unit_test_teardown(test_connect_refused_all, h_after),
		cmocka_unit_test_teardown(test_inbound_app_not_ready, h_after),
		cmocka_unit_test_teardown(test_peer_app_not_ready, h_after),
		cmocka_unit_test_teardown(test_tcp_connect_refused, h_after),
		cmocka_unit_test_teardown(test_connect_no_descriptors, h_after),
	};

	return cmocka_run_group_tests(tests, h_setup, h_teardown);
}
