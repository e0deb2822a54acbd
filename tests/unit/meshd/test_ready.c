/* SPDX-License-Identifier: ISC */
/*
 * ready: the TCP readiness probe (src/meshd/ready.c) on a real libev
 * loop against a loopback port: nothing listens -> tries that back off
 * (10 ms, doubling, at most 1 s apart), each failure said with the port;
 * a listener -> the callback once, ready, the probe stopped and its
 * socket closed; ready_stop() -> not ready; a restart probes from scratch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "mesh/ready.h"

#define PORT 21583   /* beside test_svc's 21580..21582 */

static struct ev_loop *loop;
static unsigned calls;

static void
ready_cb(struct ready *r)
{
	assert_int_equal(r->ready, 1);
	assert_ptr_equal(r->arg, &calls);
	calls++;
}

static void
expire_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)revents;
	*(int *)w->data = 1;
}

/* Run the loop for `secs`, or until r is ready. */
static void
run(struct ready *r, double secs)
{
	ev_timer t;
	int expired = 0;

	ev_timer_init(&t, expire_cb, secs, 0.);
	t.data = &expired;
	ev_timer_start(loop, &t);
	while (!expired && !r->ready)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &t);
}

static int
listen_on(uint16_t port)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	assert_true((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static void
test_backoff_then_ready(void **state)
{
	struct ready r;
	int lfd;

	(void)state;
	loop = ev_default_loop(0);
	calls = 0;
	ready_init(&r);
	ready_start(&r, loop, PORT, ready_cb, &calls);
	assert_int_equal(r.running, 1);
	assert_int_equal(r.ready, 0);
	assert_int_equal(r.attempts, 0);          /* the first one after READY_FIRST */
	run(&r, 0.35);
	/* at 10, 30, 70, 150, 310 ms: 5 tries (a loaded machine: fewer) */
	assert_true(r.attempts >= 2 && r.attempts <= 6);
	assert_int_equal(r.ready, 0);
	assert_int_equal(calls, 0);
	assert_non_null(strstr(r.last, "connect to 127.0.0.1:21583: "));
	assert_non_null(strstr(r.last, "refused"));

	lfd = listen_on(PORT);
	run(&r, 3.0);                              /* the next try is <= 1 s away */
	assert_int_equal(r.ready, 1);
	assert_int_equal(r.running, 0);
	assert_int_equal(calls, 1);
	assert_int_equal(r.fd, -1);
	assert_string_equal(r.last, "");
	/* done: no more tries, no second call */
	run(&r, 0.2);
	assert_int_equal(calls, 1);

	ready_stop(&r);
	assert_int_equal(r.ready, 0);
	/* from scratch: ready again, one more call */
	ready_start(&r, loop, PORT, ready_cb, &calls);
	assert_int_equal(r.ready, 0);
	run(&r, 3.0);
	assert_int_equal(r.ready, 1);
	assert_int_equal(calls, 2);
	ready_stop(&r);
	close(lfd);
}

/* A stop in mid-probe leaves nothing armed: the loop has no more work. */
static void
test_stop_disarms(void **state)
{
	struct ready r;

	(void)state;
	loop = ev_default_loop(0);
	calls = 0;
	ready_init(&r);
	ready_stop(&r);                            /* a stopped probe: no-op */
	ready_start(&r, loop, PORT + 1, ready_cb, &calls);
	run(&r, 0.05);
	ready_stop(&r);
	assert_int_equal(r.running, 0);
	assert_int_equal(r.fd, -1);
	assert_int_equal(ev_run(loop, EVRUN_NOWAIT), 0);   /* no active watcher */
	assert_int_equal(calls, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_then_ready),
		cmocka_unit_test(test_stop_disarms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
