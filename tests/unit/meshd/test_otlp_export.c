/* SPDX-License-Identifier: ISC */
/*
 * otlp: the exporter against a fake collector on this test's own loop
 * (127.0.0.1:32101): batches of at most OTLP_BATCH_MAX over one
 * keep-alive connection; the queue bound and its drop count; a 500 and a
 * collector that is down drop the batch and count it; reading a real
 * stats file's ring: only what is new, a restarted sidecar's new file
 * from its start, spans overwritten before the read counted lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "mesh/otlp.h"

#define SINK_PORT 32101
#define URL "http://127.0.0.1:32101/v1/traces"

/* The fake collector: one connection at a time, requests in order. */
static struct sink {
	int    lfd, cfd;
	ev_io  lio, cio;
	char   buf[4 << 20];
	size_t len;
	int    accepts, posts;
	size_t spans[32];
	int    status;          /* what it answers */
	char   first_head[512];
} S;

static struct ev_loop *loop;

static size_t
count(const char *s, size_t n, const char *needle)
{
	size_t k = 0, nl = strlen(needle);
	const char *p = s, *e = s + n;

	while ((p = memmem(p, (size_t)(e - p), needle, nl)) != NULL) {
		k++;
		p += nl;
	}
	return k;
}

static void
sink_read_cb(struct ev_loop *l, ev_io *w, int revents)
{
	ssize_t n = read(S.cfd, S.buf + S.len, sizeof(S.buf) - S.len);
	char *end, resp[128];
	size_t hl, clen;
	int k;

	(void)revents;
	if (n <= 0) {
		ev_io_stop(l, w);
		close(S.cfd);
		S.cfd = -1;
		return;
	}
	S.len += (size_t)n;
	while ((end = memmem(S.buf, S.len, "\r\n\r\n", 4)) != NULL) {
		const char *cl = strcasestr(S.buf, "Content-Length:");

		hl = (size_t)(end + 4 - S.buf);
		clen = cl != NULL && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
		if (S.len < hl + clen)
			return;
		if (S.posts == 0)
			snprintf(S.first_head, sizeof(S.first_head), "%.*s", (int)hl, S.buf);
		if (S.posts < 32)
			S.spans[S.posts] = count(S.buf + hl, clen, "\"spanId\"");
		S.posts++;
		k = snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
		    "Content-Length: 2\r\n\r\n{}", S.status);
		assert_int_equal(write(S.cfd, resp, (size_t)k), k);
		memmove(S.buf, S.buf + hl + clen, S.len - hl - clen);
		S.len -= hl + clen;
	}
}

static void
sink_accept_cb(struct ev_loop *l, ev_io *w, int revents)
{
	int fd = accept4(S.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)w;
	(void)revents;
	if (fd == -1)
		return;
	if (S.cfd != -1) {
		ev_io_stop(l, &S.cio);
		close(S.cfd);
	}
	S.cfd = fd;
	S.len = 0;
	S.accepts++;
	ev_io_init(&S.cio, sink_read_cb, fd, EV_READ);
	ev_io_start(l, &S.cio);
}

static void
sink_open(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(SINK_PORT) };
	int one = 1;

	memset(&S, 0, offsetof(struct sink, buf));
	S.len = 0;
	S.cfd = -1;
	S.status = 200;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	S.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(S.lfd != -1);
	setsockopt(S.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(S.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(S.lfd, 8), 0);
	ev_io_init(&S.lio, sink_accept_cb, S.lfd, EV_READ);
	ev_io_start(loop, &S.lio);
}

static void
sink_close(void)
{
	if (S.lfd != -1) {
		ev_io_stop(loop, &S.lio);
		close(S.lfd);
		S.lfd = -1;
	}
	if (S.cfd != -1) {
		ev_io_stop(loop, &S.cio);
		close(S.cfd);
		S.cfd = -1;
	}
}

/* Run the loop until the exporter is idle with nothing queued (5 s at most). */
static void
drain(void)
{
	struct otlp_counters c;
	ev_tstamp until = ev_time() + 5.0;

	for (;;) {
		otlp_counters(&c);
		if ((!otlp_busy() && c.queued == 0) || ev_time() > until)
			break;
		ev_run(loop, EVRUN_ONCE);
	}
}

static void
span(struct stats_span_rec *s, unsigned i)
{
	memset(s, 0, sizeof(*s));
	s->trace_id[0] = 1;
	s->span_id[0] = (uint8_t)(i + 1);
	s->span_id[1] = (uint8_t)(i >> 8);
	s->start_ns = 1700000000000000000ull + i;
	s->duration_us = 10;
	s->kind = STATS_SPAN_SERVER;
	s->status = 200;
	s->flags = STATS_SF_SAMPLED;
	snprintf(s->service, sizeof(s->service), "svc%u", i % 3);
	snprintf(s->instance, sizeof(s->instance), "svc%u@v1.0", i % 3);
	strcpy(s->version, "v1");
	strcpy(s->method, "GET");
	strcpy(s->path, "/");
}

static struct stats_span_rec many[5000];

static int
setup(void **state)
{
	char err[512];

	(void)state;
	loop = EV_DEFAULT;
	sink_open();
	if (otlp_open(loop, URL, "test", err, sizeof(err)) == -1) {
		fprintf(stderr, "otlp_open: %s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	otlp_stop();
	sink_close();
	return 0;
}

static void
test_batches(void **state)
{
	struct otlp_counters c;
	unsigned i;

	(void)state;
	for (i = 0; i < 1300; i++)
		span(&many[i], i);
	assert_int_equal(otlp_enqueue(many, 1300), 1300);
	otlp_flush();
	assert_true(otlp_busy());
	drain();
	otlp_counters(&c);
	assert_int_equal(c.exported, 1300);
	assert_int_equal(c.dropped, 0);
	assert_int_equal(c.batches, 3);
	assert_int_equal(c.failures, 0);
	assert_int_equal(c.queued, 0);
	assert_int_equal(S.posts, 3);
	assert_int_equal(S.spans[0], OTLP_BATCH_MAX);
	assert_int_equal(S.spans[1], OTLP_BATCH_MAX);
	assert_int_equal(S.spans[2], 1300 - 2 * OTLP_BATCH_MAX);
	assert_int_equal(S.accepts, 1);     /* one keep-alive connection */
	assert_non_null(strstr(S.first_head, "POST /v1/traces HTTP/1.1\r\n"));
	assert_non_null(strstr(S.first_head, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(S.first_head, "\r\nHost: 127.0.0.1:32101\r\n"));

	/* a collector that closed the kept connection: a new one, no loss */
	ev_io_stop(loop, &S.cio);
	close(S.cfd);
	S.cfd = -1;
	otlp_enqueue(many, 10);
	otlp_flush();
	drain();
	otlp_counters(&c);
	assert_int_equal(c.exported, 1310);
	assert_int_equal(S.accepts, 2);
}

static void
test_queue_full(void **state)
{
	struct otlp_counters c;
	unsigned i;

	(void)state;
	for (i = 0; i < 5000; i++)
		span(&many[i], i);
	assert_int_equal(otlp_enqueue(many, 5000), OTLP_QUEUE_MAX);
	otlp_counters(&c);
	assert_int_equal(c.dropped, 5000 - OTLP_QUEUE_MAX);
	assert_int_equal(c.queued, OTLP_QUEUE_MAX);
	otlp_flush();
	drain();
	otlp_counters(&c);
	assert_int_equal(c.exported, OTLP_QUEUE_MAX);
	assert_int_equal(c.batches, OTLP_QUEUE_MAX / OTLP_BATCH_MAX);
	assert_int_equal(c.dropped, 5000 - OTLP_QUEUE_MAX);
}

static void
test_collector_errors(void **state)
{
	struct otlp_counters c;

	(void)state;
	span(&many[0], 0);
	S.status = 500;
	otlp_enqueue(many, 1);
	otlp_flush();
	drain();
	otlp_counters(&c);
	assert_int_equal(c.exported, 0);
	assert_int_equal(c.dropped, 1);
	assert_int_equal(c.failures, 1);

	/* down: connection refused, reported from the loop, counted */
	sink_close();
	otlp_enqueue(many, 7);
	otlp_flush();
	drain();
	otlp_counters(&c);
	assert_int_equal(c.dropped, 8);
	assert_int_equal(c.failures, 2);
	assert_false(otlp_busy());

	/* back: accepted again */
	sink_open();
	otlp_enqueue(many, 3);
	otlp_flush();
	drain();
	otlp_counters(&c);
	assert_int_equal(c.exported, 3);
	assert_int_equal(c.dropped, 8);
}

static void
test_bad_urls(void **state)
{
	struct otlp_http h;
	char err[512];

	(void)state;
	assert_int_equal(otlp_http_init(&h, loop, "https://127.0.0.1/v1/traces", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "https is not supported"));
	assert_int_equal(otlp_http_init(&h, loop, "http://127.0.0.1:0/", err, sizeof(err)), -1);
	assert_int_equal(otlp_http_init(&h, loop, "http://127.0.0.1:99999/", err, sizeof(err)), -1);
	assert_int_equal(otlp_http_init(&h, loop, "http:///v1", err, sizeof(err)), -1);
	assert_int_equal(otlp_http_init(&h, loop, "http://[::1/", err, sizeof(err)), -1);
	assert_int_equal(otlp_http_init(&h, loop, "http://[::1]:4318", err, sizeof(err)), 0);
	assert_string_equal(h.where, "[::1]:4318");
	assert_string_equal(h.path, "/v1/traces");     /* no path: the OTLP one */
	assert_int_equal(otlp_http_init(&h, loop, "http://localhost", err, sizeof(err)), 0);
	assert_string_equal(h.where, "localhost:80");
	assert_int_equal(otlp_http_init(&h, loop, "http://127.0.0.1:4318/x?y=1", err, sizeof(err)), 0);
	assert_string_equal(h.path, "/x?y=1");
}

/* ---- reading a sidecar's ring ----------------------------------------- */

static char dir[] = "/tmp/test_otlp_export.XXXXXX";

static void
write_spans(unsigned n)
{
	struct stats_span_rec s;
	unsigned i;

	for (i = 0; i < n; i++) {
		span(&s, i);
		stats_span(&s);
	}
}

static void
test_collect(void **state)
{
	struct otlp_counters c;
	char path[4200], sub[4200];

	(void)state;
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/run", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/run/stats", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(stats_path(path, sizeof(path), dir, "api@v1.0"), 0);

	/* no file yet: nothing, no harm */
	otlp_collect(dir, "api@v1.0");
	otlp_counters(&c);
	assert_int_equal(c.queued, 0);

	assert_int_equal(stats_open(path), 0);
	stats_identity("api", "v1", "api@v1.0");
	write_spans(3);
	otlp_collect(dir, "api@v1.0");
	otlp_counters(&c);
	assert_int_equal(c.queued, 3);
	otlp_collect(dir, "api@v1.0");       /* nothing new */
	otlp_counters(&c);
	assert_int_equal(c.queued, 3);
	write_spans(2);
	otlp_collect(dir, "api@v1.0");
	otlp_counters(&c);
	assert_int_equal(c.queued, 5);

	/* records a tap left (no SAMPLED flag) are no traces: not exported */
	{
		struct stats_span_rec s;

		span(&s, 7);
		s.flags = STATS_SF_UF;
		stats_span(&s);
		stats_span(&s);
		otlp_collect(dir, "api@v1.0");
		otlp_counters(&c);
		assert_int_equal(c.queued, 5);
		assert_int_equal(c.lost, 0);
	}

	/* more than the ring holds between two reads: the rest is lost */
	write_spans(STATS_SPANS_MAX + 44);
	otlp_collect(dir, "api@v1.0");
	otlp_counters(&c);
	assert_int_equal(c.queued, 5 + STATS_SPANS_MAX);
	assert_int_equal(c.lost, 44);

	/* the sidecar restarts: a new file that has more spans (310) than our
	 * cursor (305) had seen is still read from its start, nothing lost */
	stats_close();
	usleep(2000);
	assert_int_equal(stats_open(path), 0);
	write_spans(STATS_SPANS_MAX + 54);
	otlp_collect(dir, "api@v1.0");
	otlp_counters(&c);
	assert_int_equal(c.queued, 5 + 2 * STATS_SPANS_MAX);
	assert_int_equal(c.lost, 44);

	/* and they go out */
	otlp_flush();
	drain();
	otlp_counters(&c);
	assert_int_equal(c.exported, 5 + 2 * STATS_SPANS_MAX);
	stats_close();
	snprintf(sub, sizeof(sub), "rm -rf '%s'", dir);
	assert_int_equal(system(sub), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collector_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_urls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collect, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
