/* SPDX-License-Identifier: ISC */
/*
 * test_relay: relay_pump between two real sockets on a real libev loop,
 * driven the way the forwarder drives it (read while the flow is not done
 * and the source has room, write while the destination is blocked).
 * Bodies arrive intact and in order whatever their framing (length,
 * chunked, to EOF); bytes past a body's end stay in the source's buffer
 * for the next message; a destination that stops reading stops the
 * reading of the source with one buffer held, and the transfer resumes;
 * a tunnel passes a half-close on while the other direction still flows;
 * a truncated body, a reset source and a closed destination are told
 * apart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mesh/buf.h"
#include "mesh/relay.h"
#include "test_sock_util.h"

#define BUFSZ 4096

static const struct http_limits lim = { 8192, 16384, 100 };

/* One direction: src's bytes to dst. */
struct dir {
	struct side       *src, *dst;
	struct flow        f;
	struct buf        *head;
	enum relay_result  r;
	uint8_t            on;       /* this direction runs */
	uint8_t            ended;    /* r is final (not RELAY_AGAIN) */
};

/* The relay's two sides a and b; pa and pb: the peers' ends (the
 * client's, the upstream's).  A peer writer and reader move test bytes
 * through pa and pb while the loop runs. */
struct rig {
	struct ev_loop *loop;
	struct side     a, b;
	int             pa, pb;
	struct dir      ab, ba;
	size_t          live_max;   /* most pool buffers held at once */

	ev_io           wio;        /* writes wdata to pa */
	const char     *wdata;
	size_t          wlen, woff;
	ev_io           rio;        /* reads pb into rdata */
	char           *rdata;
	size_t          rmax, rgot;
	int             reof;
};

static size_t
live_bufs(void)
{
	return buf_pool_allocated() - buf_pool_free();
}

static int
wants_read(const struct rig *g, const struct side *s)
{
	const struct dir *d = s == &g->a ? &g->ab : &g->ba;

	return d->on && !d->ended && !d->f.done && side_has_room(s);
}

static int
wants_write(const struct rig *g, const struct side *s)
{
	const struct dir *d = s == &g->b ? &g->ab : &g->ba;

	return d->on && !d->ended && s->wblocked;
}

static void
dir_pump(struct dir *d)
{
	if (!d->on || d->ended)
		return;
	d->r = relay_pump(d->src, d->dst, &d->f, d->head, 1);
	d->ended = d->r != RELAY_AGAIN;
}

static void
rig_pump(struct rig *g)
{
	dir_pump(&g->ab);
	dir_pump(&g->ba);
	if (live_bufs() > g->live_max)
		g->live_max = live_bufs();
	side_arm(g->loop, &g->a, wants_read(g, &g->a), wants_write(g, &g->a));
	side_arm(g->loop, &g->b, wants_read(g, &g->b), wants_write(g, &g->b));
}

static void
side_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct rig *g = w->data;

	side_event(w == &g->a.io ? &g->a : &g->b, revents);
	rig_pump(g);
}

static void
writer_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct rig *g = w->data;
	ssize_t n;

	while (g->woff < g->wlen) {
		n = write(g->pa, g->wdata + g->woff, g->wlen - g->woff);
		if (n == -1) {
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
			return;
		}
		g->woff += (size_t)n;
	}
	ev_io_stop(loop, w);
}

static void
reader_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct rig *g = w->data;
	int r = sock_drain(g->pb, g->rdata, g->rmax, &g->rgot);

	assert_int_not_equal(r, -1);
	if (r == 1) {
		g->reof = 1;
		ev_io_stop(loop, w);
	}
}

/* pa-a over AF_UNIX, or over loopback TCP (tcp_a); b-pb over AF_UNIX. */
static void
rig_open(struct rig *g, int tcp_a)
{
	int sa[2], sb[2];

	memset(g, 0, sizeof(*g));
	g->loop = EV_DEFAULT;
	if (tcp_a)
		sock_tcp_pair(sa);
	else
		sock_pair(sa);
	sock_pair(sb);
	assert_int_equal(side_open(&g->a, &transport_plain, sa[0], 1, side_cb), 0);
	assert_int_equal(side_open(&g->b, &transport_plain, sb[0], 0, side_cb), 0);
	g->a.io.data = g->b.io.data = g;
	g->pa = sa[1];
	g->pb = sb[1];
	g->ab.src = g->ba.dst = &g->a;
	g->ab.dst = g->ba.src = &g->b;
	ev_io_init(&g->wio, writer_cb, g->pa, EV_WRITE);
	ev_io_init(&g->rio, reader_cb, g->pb, EV_READ);
	g->wio.data = g->rio.data = g;
	g->live_max = live_bufs();
}

static void
rig_start(struct rig *g, struct dir *d, enum relay_kind kind, uint64_t length)
{
	assert_int_equal(flow_start(&d->f, kind, length, &lim, d->src), 0);
	d->on = 1;
	rig_pump(g);
}

/* The peer writes these bytes to pa as fast as a reads them. */
static void
rig_write(struct rig *g, const char *p, size_t n)
{
	g->wdata = p;
	g->wlen = n;
	g->woff = 0;
	ev_io_start(g->loop, &g->wio);
}

/* The peer reads pb into out (up to max bytes) while the loop runs. */
static void
rig_read(struct rig *g, char *out, size_t max)
{
	g->rdata = out;
	g->rmax = max;
	ev_io_start(g->loop, &g->rio);
}

static void
rig_close(struct rig *g)
{
	ev_io_stop(g->loop, &g->wio);
	ev_io_stop(g->loop, &g->rio);
	side_close(g->loop, &g->a);
	side_close(g->loop, &g->b);
	buf_put(g->ab.head);
	if (g->pa != -1)
		close(g->pa);
	if (g->pb != -1)
		close(g->pb);
}

static void
put(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static int
ab_ended(void *arg)
{
	return ((struct rig *)arg)->ab.ended;
}

static int
ba_ended(void *arg)
{
	return ((struct rig *)arg)->ba.ended;
}

static int
ab_ended_and_written(void *arg)
{
	struct rig *g = arg;

	return g->ab.ended && g->woff == g->wlen;
}

static int
ab_ended_and_read(void *arg)
{
	struct rig *g = arg;

	return g->ab.ended && g->rgot == g->rmax;
}

static int
setup(void **state)
{
	(void)state;
	buf_pool_init(BUFSZ, 64);
	return 0;
}

/* A Content-Length body far larger than a buffer arrives whole and in
 * order; the request pipelined behind it is neither sent nor lost. */
static void
test_length_intact(void **state)
{
	static const char next[] = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t blen = 64 * BUFSZ + 17, got = 0, live0 = live_bufs();
	char *in = malloc(blen + sizeof(next) - 1), *out = malloc(blen + 1), rest[64];
	struct rig g;

	sock_pattern(in, blen, 1);
	memcpy(in + blen, next, sizeof(next) - 1);
	rig_open(&g, 0);
	rig_read(&g, out, blen + 1);
	rig_start(&g, &g.ab, RELAY_LENGTH, blen);
	rig_write(&g, in, blen + sizeof(next) - 1);
	assert_true(loop_until(g.loop, ab_ended_and_written, &g, 10));
	assert_int_equal(g.ab.r, RELAY_DONE);
	assert_true(g.ab.f.done);
	assert_int_equal(g.ab.f.sent, blen);
	assert_int_equal(sock_drain(g.pb, out, blen + 1, &g.rgot), 0);
	assert_int_equal(g.rgot, blen);
	assert_memory_equal(out, in, blen);
	/* what came after the body: in a's buffer, or not read yet */
	if (g.a.in != NULL) {
		memcpy(rest, buf_head(g.a.in), g.a.in->len);
		got = g.a.in->len;
	}
	assert_int_equal(sock_drain(g.a.tc.fd, rest, sizeof(rest), &got), 0);
	assert_int_equal(got, sizeof(next) - 1);
	assert_memory_equal(rest, next, got);
	/* one buffer for the direction, whatever the body size */
	assert_true(g.live_max - live0 <= 1);
	rig_close(&g);
	free(in);
	free(out);
}

/* b cannot take more, a's buffer is full, and bytes wait in a's socket. */
static int
stalled(void *arg)
{
	struct rig *g = arg;

	return g->b.wblocked && g->a.in != NULL && !side_has_room(&g->a) &&
	    sock_unread(g->a.tc.fd) > 0;
}

static int
pa_has_pong(void *arg)
{
	return sock_unread(((struct rig *)arg)->pa) >= 4;
}

/* A destination that stops reading: the source's buffer fills and the
 * relay stops reading the source even when it is readable, with one
 * buffer held; once the destination reads again everything arrives. */
static void
test_backpressure(void **state)
{
	size_t blen = 1 << 20, live0 = live_bufs(), inlen, unread;
	uint64_t sent;
	char *in = malloc(blen), *out = malloc(blen);
	int sndbuf = 32768;                         /* far below the body, whatever the sysctls */
	struct rig g;

	sock_pattern(in, blen, 2);
	rig_open(&g, 0);
	assert_int_equal(setsockopt(g.pa, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	assert_int_equal(setsockopt(g.b.tc.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	rig_start(&g, &g.ab, RELAY_LENGTH, blen);
	rig_write(&g, in, blen);
	assert_true(loop_until(g.loop, stalled, &g, 10));
	loop_settle(g.loop, 0.05);                  /* let the client block too */

	assert_false(g.ab.ended);
	assert_true(g.b.wblocked);
	assert_non_null(g.a.in);
	assert_false(side_has_room(&g.a));
	assert_true(g.woff < blen);                 /* the client is blocked too */
	unread = sock_unread(g.a.tc.fd);
	assert_true(unread > 0);
	assert_int_equal(g.ab.f.sent + g.a.in->len + unread, g.woff);
	assert_int_equal(live_bufs() - live0, 1);
	assert_true(g.live_max - live0 <= 1);

	/* readable and allowed to read: still nothing is read */
	inlen = g.a.in->len;
	sent = g.ab.f.sent;
	g.a.readable = 1;
	assert_int_equal(relay_pump(&g.a, &g.b, &g.ab.f, NULL, 1), RELAY_AGAIN);
	assert_int_equal(g.a.in->len, inlen);
	assert_int_equal(g.ab.f.sent, sent);
	assert_int_equal(sock_unread(g.a.tc.fd), unread);

	rig_read(&g, out, blen);
	assert_true(loop_until(g.loop, ab_ended_and_read, &g, 20));
	assert_int_equal(g.ab.r, RELAY_DONE);
	assert_int_equal(g.woff, blen);
	assert_memory_equal(out, in, blen);
	assert_true(g.live_max - live0 <= 1);
	rig_close(&g);
	free(in);
	free(out);
}

static const char chunked[] =
	"5\r\nhello\r\n"
	"1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n"
	"0\r\nX-Trailer: 1\r\n\r\n";

/* A chunked body is relayed as is and ends after the trailers; the
 * request behind it stays in the source's buffer. */
static void
test_chunked(void **state)
{
	static const char next[] = "GET /next HTTP/1.1\r\n\r\n";
	char in[256], out[256];
	size_t clen = sizeof(chunked) - 1;
	struct rig g;

	memcpy(in, chunked, clen);
	memcpy(in + clen, next, sizeof(next));
	rig_open(&g, 0);
	rig_start(&g, &g.ab, RELAY_CHUNKED, 0);
	put(g.pa, in);
	assert_true(loop_until(g.loop, ab_ended, &g, 5));
	assert_int_equal(g.ab.r, RELAY_DONE);
	assert_int_equal(sock_drain(g.pb, out, sizeof(out), &g.rgot), 0);
	assert_int_equal(g.rgot, clen);
	assert_memory_equal(out, chunked, clen);
	assert_non_null(g.a.in);
	assert_int_equal(g.a.in->len, sizeof(next) - 1);
	assert_memory_equal(buf_head(g.a.in), next, sizeof(next) - 1);
	rig_close(&g);
}

static int
a_drained(void *arg)
{
	struct rig *g = arg;

	return g->ab.ended || sock_unread(g->a.tc.fd) == 0;
}

/* One byte per read: the end is found only at the very last byte. */
static void
test_chunked_bytewise(void **state)
{
	size_t i, clen = sizeof(chunked) - 1;
	char out[256];
	struct rig g;

	rig_open(&g, 0);
	rig_start(&g, &g.ab, RELAY_CHUNKED, 0);
	for (i = 0; i < clen; i++) {
		assert_false(g.ab.ended);
		assert_int_equal(write(g.pa, chunked + i, 1), 1);
		assert_true(loop_until(g.loop, a_drained, &g, 5));
	}
	assert_true(loop_until(g.loop, ab_ended, &g, 5));
	assert_int_equal(g.ab.r, RELAY_DONE);
	assert_int_equal(sock_drain(g.pb, out, sizeof(out), &g.rgot), 0);
	assert_int_equal(g.rgot, clen);
	assert_memory_equal(out, chunked, clen);
	rig_close(&g);
}

static void
test_chunked_bad(void **state)
{
	struct rig g;

	rig_open(&g, 0);
	rig_start(&g, &g.ab, RELAY_CHUNKED, 0);
	put(g.pa, "zz\r\nhello\r\n0\r\n\r\n");
	assert_true(loop_until(g.loop, ab_ended, &g, 5));
	assert_int_equal(g.ab.r, RELAY_BAD);
	rig_close(&g);
}

/* `head` goes out first, then the body bytes that came with the head
 * (approved by flow_start), then the rest from the socket. */
static void
test_head_and_early_bytes(void **state)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
	char out[128];
	struct rig g;

	rig_open(&g, 0);
	g.a.in = buf_get();
	assert_int_equal(buf_append(g.a.in, "hello", 5), 5);
	g.ab.head = buf_get();
	assert_int_equal(buf_append(g.ab.head, head, sizeof(head) - 1), sizeof(head) - 1);
	assert_int_equal(flow_start(&g.ab.f, RELAY_LENGTH, 10, &lim, &g.a), 0);
	assert_int_equal(g.ab.f.ready, 5);
	assert_false(g.ab.f.done);
	g.ab.on = 1;
	rig_pump(&g);
	put(g.pa, "world");
	assert_true(loop_until(g.loop, ab_ended, &g, 5));
	assert_int_equal(g.ab.r, RELAY_DONE);
	assert_int_equal(g.ab.head->len, 0);
	assert_int_equal(g.ab.f.sent, 10);
	assert_int_equal(sock_drain(g.pb, out, sizeof(out), &g.rgot), 0);
	assert_int_equal(g.rgot, sizeof(head) - 1 + 10);
	assert_memory_equal(out, head, sizeof(head) - 1);
	assert_memory_equal(out + sizeof(head) - 1, "helloworld", 10);
	rig_close(&g);
}

/* A body to EOF ends when the source closes; the destination stays open
 * (whether to close it is the forwarder's call, not the relay's). */
static void
test_eof_body(void **state)
{
	char out[64];
	struct rig g;

	rig_open(&g, 0);
	rig_start(&g, &g.ab, RELAY_EOF, 0);
	put(g.pa, "until the end");
	assert_int_equal(shutdown(g.pa, SHUT_WR), 0);
	assert_true(loop_until(g.loop, ab_ended, &g, 5));
	assert_int_equal(g.ab.r, RELAY_DONE);
	assert_true(g.a.eof);
	assert_false(g.b.shut);
	assert_int_equal(sock_drain(g.pb, out, sizeof(out), &g.rgot), 0);   /* no EOF */
	assert_int_equal(g.rgot, 13);
	assert_memory_equal(out, "until the end", 13);
	rig_close(&g);
}

/* A Content-Length body cut short: RELAY_SRC_EOF, after the bytes that
 * did come were passed on. */
static void
test_length_truncated(void **state)
{
	static const char part[] = "some of a hundred-byte body";
	char out[64];
	struct rig g;

	rig_open(&g, 0);
	rig_start(&g, &g.ab, RELAY_LENGTH, 100);
	put(g.pa, part);
	assert_int_equal(shutdown(g.pa, SHUT_WR), 0);
	assert_true(loop_until(g.loop, ab_ended, &g, 5));
	assert_int_equal(g.ab.r, RELAY_SRC_EOF);
	assert_false(g.ab.f.done);
	assert_int_equal(g.ab.f.sent, sizeof(part) - 1);
	assert_int_equal(sock_drain(g.pb, out, sizeof(out), &g.rgot), 0);
	assert_int_equal(g.rgot, sizeof(part) - 1);
	assert_memory_equal(out, part, sizeof(part) - 1);
	rig_close(&g);
}

/* A tunnel: the client's half-close reaches the upstream as a shutdown
 * while the upstream can still answer; its own close then reaches the
 * client. */
static void
test_tunnel_half_close(void **state)
{
	char out[64];
	size_t got = 0;
	struct rig g;

	rig_open(&g, 0);
	rig_start(&g, &g.ab, RELAY_TUNNEL, 0);
	rig_start(&g, &g.ba, RELAY_TUNNEL, 0);
	put(g.pa, "ping");
	assert_int_equal(shutdown(g.pa, SHUT_WR), 0);
	assert_true(loop_until(g.loop, ab_ended, &g, 5));
	assert_int_equal(g.ab.r, RELAY_DONE);
	assert_true(g.b.shut);
	assert_false(g.ba.ended);
	assert_int_equal(sock_drain(g.pb, out, sizeof(out), &got), 1);      /* EOF */
	assert_int_equal(got, 4);
	assert_memory_equal(out, "ping", 4);

	put(g.pb, "pong");
	assert_true(loop_until(g.loop, pa_has_pong, &g, 5));
	assert_false(g.ba.ended);
	assert_false(g.a.shut);
	got = 0;
	assert_int_equal(sock_drain(g.pa, out, sizeof(out), &got), 0);      /* no EOF yet */
	assert_int_equal(got, 4);
	assert_memory_equal(out, "pong", 4);

	assert_int_equal(shutdown(g.pb, SHUT_WR), 0);
	assert_true(loop_until(g.loop, ba_ended, &g, 5));
	assert_int_equal(g.ba.r, RELAY_DONE);
	assert_true(g.a.shut);
	got = 0;
	assert_int_equal(sock_drain(g.pa, out, sizeof(out), &got), 1);
	assert_int_equal(got, 0);
	rig_close(&g);
}

/* Writing to a destination that went away: RELAY_DST_ERR with the
 * errno on the destination side. */
static void
test_dst_closed(void **state)
{
	struct rig g;

	rig_open(&g, 0);
	close(g.pb);
	g.pb = -1;
	rig_start(&g, &g.ab, RELAY_LENGTH, 10);
	put(g.pa, "0123456789");
	assert_true(loop_until(g.loop, ab_ended, &g, 5));
	assert_int_equal(g.ab.r, RELAY_DST_ERR);
	assert_true(g.b.err);
	assert_int_equal(g.b.errnum, EPIPE);
	assert_false(g.a.err);
	rig_close(&g);
}

/* A source reset (TCP RST): RELAY_SRC_ERR, not a clean end. */
static void
test_src_reset(void **state)
{
	struct linger lg = { 1, 0 };
	struct rig g;

	rig_open(&g, 1);
	rig_start(&g, &g.ab, RELAY_EOF, 0);
	assert_int_equal(setsockopt(g.pa, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	close(g.pa);
	g.pa = -1;
	assert_true(loop_until(g.loop, ab_ended, &g, 5));
	assert_int_equal(g.ab.r, RELAY_SRC_ERR);
	assert_true(g.a.err);
	assert_int_equal(g.a.errnum, ECONNRESET);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_length_intact),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_chunked_bytewise),
		cmocka_unit_test(test_chunked_bad),
		cmocka_unit_test(test_head_and_early_bytes),
		cmocka_unit_test(test_eof_body),
		cmocka_unit_test(test_length_truncated),
		cmocka_unit_test(test_tunnel_half_close),
		cmocka_unit_test(test_dst_closed),
		cmocka_unit_test(test_src_reset),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
