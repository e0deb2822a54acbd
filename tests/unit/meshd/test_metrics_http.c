/* SPDX-License-Identifier: ISC */
/*
 * metrics: the HTTP server (metrics_http.c) on a private libev loop, with
 * blocking clients in a second thread: GET and HEAD /metrics, a query
 * string, 404, 405 with Allow, a malformed head 400, an oversize head 431,
 * a failing render 500; a client that does not read an 8 MiB response
 * does not stall another; at METRICS_CLIENTS_MAX clients the next one
 * waits until one leaves; the address parser and a taken port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <ev.h>

#include "mesh/metrics.h"

#define BIG (8u << 20)

static struct ev_loop *loop;
static ev_async        done_async;
static unsigned        port;
static int             render_fail;
static int             render_big;     /* the next render is BIG bytes */
static int             renders;

static int
render(FILE *f, void *arg)
{
	(void)arg;
	renders++;
	if (render_fail)
		return -1;
	if (render_big) {
		size_t i;

		render_big = 0;
		for (i = 0; i < BIG / 8; i++)
			fputs("# 45678\n", f);
		return 0;
	}
	fputs("mesh_up 1\n", f);
	return 0;
}

/* The client side runs in a thread: no cmocka assert there (they
 * longjmp); failures show as empty responses, checked in the main thread. */
static int
client_connect_rcvbuf(int rcvbuf)
{
	struct sockaddr_in sin;
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (rcvbuf != 0)   /* before connect, so the window stays small */
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
client_connect(void)
{
	return client_connect_rcvbuf(0);
}

/* Read until EOF (or the 5 s timeout) into a malloc'd NUL-terminated string. */
static char *
client_read_all(int fd, size_t *len)
{
	size_t cap = BIG + 4096, n = 0;
	char *buf = malloc(cap + 1);
	ssize_t r;

	*len = 0;
	if (buf == NULL || fd == -1)
		return buf != NULL ? (buf[0] = '\0', buf) : NULL;
	while (n < cap && (r = read(fd, buf + n, cap - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	*len = n;
	return buf;
}

static char *
exchange(const char *req, size_t *len)
{
	int fd = client_connect();
	char *r;

	if (fd != -1 && write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		fd = -1;
	}
	r = client_read_all(fd, len);
	if (fd != -1)
		close(fd);
	return r;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
async_cb(struct ev_loop *l, ev_async *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(l, EVBREAK_ALL);
}

static void
guard_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	fprintf(stderr, "test_metrics_http: the client thread took more than 30 s\n");
	ev_break(l, EVBREAK_ALL);
}

static void *
thread_main(void *arg)
{
	void (**fn)(void) = arg;

	(*fn)();
	ev_async_send(loop, &done_async);
	return NULL;
}

/* Serve on a new loop while fn runs in a thread. */
static void
serve_while(void (*fn)(void))
{
	struct metrics_srv *s;
	pthread_t th;
	ev_timer guard;
	char err[256];

	loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(loop);
	s = metrics_srv_open("127.0.0.1:0", err, sizeof(err));
	assert_non_null(s);
	port = metrics_srv_port(s);
	assert_true(port != 0);
	metrics_srv_start(s, loop, render, NULL);
	ev_async_init(&done_async, async_cb);
	ev_async_start(loop, &done_async);
	ev_timer_init(&guard, guard_cb, 30., 0.);
	ev_timer_start(loop, &guard);
	assert_int_equal(pthread_create(&th, NULL, thread_main, &fn), 0);
	ev_run(loop, 0);
	pthread_join(th, NULL);
	ev_timer_stop(loop, &guard);
	ev_async_stop(loop, &done_async);
	metrics_srv_close(s);
	ev_loop_destroy(loop);
	loop = NULL;
}

/* cmocka's asserts must run in the main thread: the client thread only
 * records what it saw. */
static char  *res[8];
static size_t reslen[8];
static double took[8];

static void
clear(void)
{
	size_t i;

	for (i = 0; i < 8; i++) {
		free(res[i]);
		res[i] = NULL;
	}
}

static void
requests_fn(void)
{
	char big[10000];

	res[0] = exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &reslen[0]);
	res[1] = exchange("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &reslen[1]);
	res[2] = exchange("GET /metrics?name[]=a HTTP/1.0\r\n\r\n", &reslen[2]);
	res[3] = exchange("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", &reslen[3]);
	res[4] = exchange("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
	    &reslen[4]);
	res[5] = exchange("GARBAGE\r\n\r\n", &reslen[5]);
	snprintf(big, sizeof(big), "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: %09000d\r\n\r\n", 0);
	res[6] = exchange(big, &reslen[6]);
	render_fail = 1;
	res[7] = exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &reslen[7]);
	render_fail = 0;
}

static void
test_requests(void **state)
{
	size_t i;

	(void)state;
	serve_while(requests_fn);
	for (i = 0; i < 8; i++)
		assert_non_null(res[i]);
	assert_string_equal(res[0], "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
	    "Content-Length: 10\r\nConnection: close\r\n\r\nmesh_up 1\n");
	assert_string_equal(res[1], "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
	    "Content-Length: 10\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(res[2], "\r\n\r\nmesh_up 1\n"));
	assert_true(strncmp(res[3], "HTTP/1.1 404 ", 13) == 0);
	assert_true(strncmp(res[4], "HTTP/1.1 405 ", 13) == 0);
	assert_non_null(strstr(res[4], "\r\nAllow: GET, HEAD\r\n"));
	assert_true(strncmp(res[5], "HTTP/1.1 400 ", 13) == 0);
	assert_true(strncmp(res[6], "HTTP/1.1 431 ", 13) == 0);
	assert_true(strncmp(res[7], "HTTP/1.1 500 ", 13) == 0);
	clear();
}

/* A reads nothing of its 8 MiB while B is served whole. */
static void
slow_reader_fn(void)
{
	const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	int a = client_connect_rcvbuf(4096);
	double t0;
	char c;

	render_big = 1;
	if (a == -1 || write(a, req, strlen(req)) != (ssize_t)strlen(req))
		return;
	/* once a's response has begun (its render is done), the server has
	 * filled a's socket and waits for it: b is timed from here */
	if (recv(a, &c, 1, MSG_PEEK) != 1) {
		close(a);
		return;
	}
	usleep(100 * 1000);
	t0 = now();
	res[0] = exchange(req, &reslen[0]);
	took[0] = now() - t0;
	res[1] = client_read_all(a, &reslen[1]);
	close(a);
}

static void
test_slow_reader(void **state)
{
	(void)state;
	serve_while(slow_reader_fn);
	assert_non_null(res[0]);
	assert_non_null(res[1]);
	assert_non_null(strstr(res[0], "\r\n\r\nmesh_up 1\n"));
	assert_true(took[0] < 2.0);
	assert_true(strncmp(res[1], "HTTP/1.1 200 ", 13) == 0);
	assert_true(reslen[1] > BIG);
	assert_non_null(strstr(res[1], "Content-Length: 8388608\r\n"));
	clear();
}

/* METRICS_CLIENTS_MAX idle clients: the next waits until one leaves. */
static void
max_clients_fn(void)
{
	const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	int idle[METRICS_CLIENTS_MAX], fd, i;
	char c;

	for (i = 0; i < METRICS_CLIENTS_MAX; i++)
		idle[i] = client_connect();
	usleep(200 * 1000);
	fd = client_connect();        /* completes in the kernel's backlog */
	if (fd == -1 || write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		return;
	{
		struct timeval tv = { 0, 500 * 1000 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		took[0] = read(fd, &c, 1);   /* -1: nothing within 0.5 s */
		tv.tv_sec = 5;
		tv.tv_usec = 0;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	close(idle[0]);
	res[0] = client_read_all(fd, &reslen[0]);
	close(fd);
	for (i = 1; i < METRICS_CLIENTS_MAX; i++)
		close(idle[i]);
}

static void
test_max_clients(void **state)
{
	(void)state;
	serve_while(max_clients_fn);
	assert_true(took[0] < 0);
	assert_non_null(res[0]);
	assert_true(strncmp(res[0], "HTTP/1.1 200 ", 13) == 0);
	clear();
}

static void
test_open_errors(void **state)
{
	struct metrics_srv *a, *b;
	char err[256], addr[64];

	(void)state;
	assert_null(metrics_srv_open("127.0.0.1", err, sizeof(err)));
	assert_string_equal(err, "127.0.0.1: not an address HOST:PORT");
	assert_null(metrics_srv_open("nohost:80", err, sizeof(err)));
	assert_null(metrics_srv_open("127.0.0.1:70000", err, sizeof(err)));
	assert_null(metrics_srv_open("127.0.0.1:", err, sizeof(err)));
	a = metrics_srv_open("localhost:0", err, sizeof(err));
	assert_non_null(a);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", metrics_srv_port(a));
	b = metrics_srv_open(addr, err, sizeof(err));
	assert_null(b);
	assert_non_null(strstr(err, " is already in use"));
	assert_true(strncmp(err, addr, strlen(addr)) == 0);
	metrics_srv_close(a);
	b = metrics_srv_open("[::1]:0", err, sizeof(err));
	if (b != NULL)   /* a host without IPv6 loopback cannot bind it */
		metrics_srv_close(b);
	metrics_srv_close(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_slow_reader),
		cmocka_unit_test(test_max_clients),
		cmocka_unit_test(test_open_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
