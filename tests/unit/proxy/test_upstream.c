/* SPDX-License-Identifier: ISC */
/*
 * test_upstream: the pool of keep-alive connections, against a real
 * loopback listener on the default libev loop.  A released healthy
 * connection is lent again for the same destination (the same socket,
 * no new connect) and only for it; one the peer closed or wrote to while
 * pooled, one released as not reusable or with unread bytes, and one
 * past the pool's bound are closed instead; the idle timeout closes a
 * pooled connection; a stale destination's idle connections go on sweep;
 * a closed upconn is not lent again before upstream_reap.  At most
 * UPSTREAM_OPENING_MAX connections open at once (a transport that is not
 * established yet keeps one opening); past that acquire says EBUSY, and
 * waiters are woken in order as connections go back to the pool or finish
 * opening; a newcomer does not overtake them; a connect whose timer and
 * completion come in the same loop iteration is a connect, not a timeout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/buf.h"
#include "mesh/upstream.h"
#include "test_sock_util.h"

#define POOL_IDLE 30.0

struct owner {
	unsigned          n[UC_EV_IO + 1];   /* events seen, by kind */
	enum upconn_event last;
};

static void
notify(void *o, struct upconn *uc, enum upconn_event ev)
{
	struct owner *w = o;

	w->n[ev]++;
	w->last = ev;
}

static int
setup(void **state)
{
	(void)state;
	buf_pool_init(4096, 64);
	upstream_set_timeouts(1.0, POOL_IDLE);
	return 0;
}

/* Each test leaves no pooled connection behind. */
static int
teardown(void **state)
{
	(void)state;
	upstream_close_idle();
	upstream_reap();
	upstream_set_timeouts(1.0, POOL_IDLE);
	return 0;
}

struct accepting {
	int lfd, fd;
};

static int
accepted(void *arg)
{
	struct accepting *a = arg;

	return (a->fd = sock_accept(a->lfd)) != -1;
}

/* The server's end of the next connection to lfd. */
static int
server_end(int lfd)
{
	struct accepting a = { lfd, -1 };

	assert_true(loop_until(EV_DEFAULT, accepted, &a, 2));
	return a.fd;
}

static int
not_connecting(void *arg)
{
	return ((struct upconn *)arg)->state != UC_CONNECTING;
}

/* A connection lent to w, connected (UC_BUSY). */
static struct upconn *
lend(struct upstream *up, int fresh, struct owner *w)
{
	struct upconn *uc = upstream_acquire(up, fresh, notify, w);

	assert_non_null(uc);
	assert_ptr_equal(uc->up, up);
	if (uc->state == UC_CONNECTING) {
		assert_true(loop_until(EV_DEFAULT, not_connecting, uc, 2));
		assert_int_equal(w->last, UC_EV_CONNECTED);
	}
	assert_int_equal(uc->state, UC_BUSY);
	side_arm(EV_DEFAULT, &uc->s, 0, 0);        /* an owner waiting for nothing */
	return uc;
}

/* fd's peer closed: a read says end of stream (after any bytes), or
 * connection reset (the peer closed with bytes it had not read). */
static int
peer_closed(int fd)
{
	char b[64];
	size_t got = 0;
	int i, r = 0;

	for (i = 0; i < 100 && (r = sock_drain(fd, b, sizeof(b), &got)) == 0; i++)
		loop_settle(EV_DEFAULT, 0.01);
	return r == 1 || (r == -1 && errno == ECONNRESET);
}

/* side_fill on a busy connection until it says something (1 or -1). */
static int
fill(struct upconn *uc)
{
	int i, r = 0;

	for (i = 0; i < 100; i++) {
		uc->s.readable = 1;
		if ((r = side_fill(&uc->s)) != 0)
			break;
		loop_settle(EV_DEFAULT, 0.01);
	}
	return r;
}

/* A byte from the client end reaches this server end: same connection. */
static int
same_connection(struct upconn *uc, int srv)
{
	char b = 0;
	int i;

	assert_int_equal(write(uc->s.tc.fd, "x", 1), 1);
	for (i = 0; i < 100 && read(srv, &b, 1) != 1; i++)
		loop_settle(EV_DEFAULT, 0.01);
	return b == 'x';
}

static void
test_get(void **state)
{
	uint16_t port;
	int lfd = sock_listen(&port);
	struct upstream *up = upstream_get(port, &transport_plain);

	assert_non_null(up);
	assert_int_equal(up->addr.port, port);
	assert_int_equal(up->addr.ip, EPADDR_LOOPBACK);
	assert_ptr_equal(up->t, &transport_plain);
	assert_ptr_equal(upstream_get(port, &transport_plain), up);
	assert_int_equal(up->nidle + up->nbusy, 0);
	close(lfd);
}

/* Released healthy, lent again: the same socket, no new connect. */
static void
test_reuse(void **state)
{
	struct owner w = { 0 };
	uint16_t port;
	int lfd = sock_listen(&port), srv, fd;
	struct upstream *up = upstream_get(port, &transport_plain);
	struct upconn *uc = lend(up, 0, &w), *uc2;

	assert_false(uc->reused);
	assert_int_equal(up->nbusy, 1);
	srv = server_end(lfd);
	fd = uc->s.tc.fd;
	assert_true(same_connection(uc, srv));

	upstream_release(uc, 1);
	assert_int_equal(uc->state, UC_IDLE);
	assert_int_equal(up->nidle, 1);
	assert_int_equal(up->nbusy, 0);
	loop_settle(EV_DEFAULT, 0.05);              /* a quiet pooled one stays */
	assert_int_equal(uc->state, UC_IDLE);

	uc2 = upstream_acquire(up, 0, notify, &w);
	assert_ptr_equal(uc2, uc);
	assert_int_equal(uc2->state, UC_BUSY);
	assert_true(uc2->reused);
	assert_int_equal(uc2->s.tc.fd, fd);
	assert_int_equal(up->nidle, 0);
	assert_int_equal(up->nbusy, 1);
	assert_int_equal(sock_accept(lfd), -1);     /* nothing new connected */
	assert_true(same_connection(uc2, srv));

	upstream_release(uc2, 1);
	close(srv);
	close(lfd);
}

/* `fresh` connects anew even with one in the pool; another destination
 * never gets this one's pooled connection. */
static void
test_fresh_and_other_endpoint(void **state)
{
	struct owner w = { 0 };
	uint16_t p1, p2;
	int l1 = sock_listen(&p1), l2 = sock_listen(&p2), s1, s2, s3;
	struct upstream *u1 = upstream_get(p1, &transport_plain);
	struct upstream *u2 = upstream_get(p2, &transport_plain);
	struct upconn *a, *b, *c;

	assert_ptr_not_equal(u1, u2);
	a = lend(u1, 0, &w);
	s1 = server_end(l1);
	upstream_release(a, 1);
	assert_int_equal(u1->nidle, 1);

	b = lend(u1, 1, &w);
	assert_ptr_not_equal(b, a);
	assert_false(b->reused);
	s2 = server_end(l1);
	assert_int_equal(u1->nidle, 1);

	c = lend(u2, 0, &w);
	assert_ptr_not_equal(c, a);
	assert_false(c->reused);
	s3 = server_end(l2);
	assert_true(same_connection(c, s3));
	assert_int_equal(u1->nidle, 1);

	upstream_close(b);
	upstream_close(c);
	close(s1);
	close(s2);
	close(s3);
	close(l1);
	close(l2);
}

static int
pool_empty(void *arg)
{
	return ((struct upstream *)arg)->nidle == 0;
}

/* The peer closes a pooled connection: it leaves the pool, and the next
 * acquire connects anew. */
static void
test_peer_close_while_idle(void **state)
{
	struct owner w = { 0 };
	uint16_t port;
	int lfd = sock_listen(&port), srv;
	struct upstream *up = upstream_get(port, &transport_plain);
	struct upconn *uc = lend(up, 0, &w), *uc2;

	srv = server_end(lfd);
	upstream_release(uc, 1);
	assert_int_equal(up->nidle, 1);
	memset(&w, 0, sizeof(w));
	close(srv);
	assert_true(loop_until(EV_DEFAULT, pool_empty, up, 2));
	assert_int_equal(uc->state, UC_CLOSED);
	assert_int_equal(up->nbusy, 0);
	assert_int_equal(w.n[UC_EV_IO], 0);         /* nobody owns it: no notify */
	upstream_reap();

	uc2 = lend(up, 0, &w);
	assert_false(uc2->reused);
	srv = server_end(lfd);
	assert_true(same_connection(uc2, srv));
	upstream_close(uc2);
	close(srv);
	close(lfd);
}

/* Bytes from the peer on a pooled connection (nobody asked for them):
 * closed, not lent with garbage in front of the next response. */
static void
test_peer_writes_while_idle(void **state)
{
	struct owner w = { 0 };
	uint16_t port;
	int lfd = sock_listen(&port), srv;
	struct upstream *up = upstream_get(port, &transport_plain);
	struct upconn *uc = lend(up, 0, &w);

	srv = server_end(lfd);
	upstream_release(uc, 1);
	assert_int_equal(write(srv, "HTTP/1.1 408\r\n\r\n", 16), 16);
	assert_true(loop_until(EV_DEFAULT, pool_empty, up, 2));
	assert_int_equal(uc->state, UC_CLOSED);
	assert_true(peer_closed(srv));
	close(srv);
	close(lfd);
}

/* Released as not reusable, or with bytes nobody consumed, or after the
 * peer's EOF: closed, never pooled. */
static void
test_release_not_reusable(void **state)
{
	struct owner w = { 0 };
	uint16_t port;
	int lfd = sock_listen(&port), srv;
	struct upstream *up = upstream_get(port, &transport_plain);
	struct upconn *uc;

	uc = lend(up, 0, &w);
	srv = server_end(lfd);
	upstream_release(uc, 0);
	assert_int_equal(uc->state, UC_CLOSED);
	assert_int_equal(up->nidle + up->nbusy, 0);
	assert_true(peer_closed(srv));
	close(srv);

	uc = lend(up, 0, &w);
	srv = server_end(lfd);
	assert_int_equal(write(srv, "left over", 9), 9);
	assert_int_equal(fill(uc), 1);
	assert_true(uc->s.in != NULL && uc->s.in->len > 0);
	upstream_release(uc, 1);
	assert_int_equal(uc->state, UC_CLOSED);
	assert_int_equal(up->nidle, 0);
	assert_true(peer_closed(srv));
	close(srv);

	uc = lend(up, 0, &w);
	srv = server_end(lfd);
	close(srv);
	assert_int_equal(fill(uc), -1);
	assert_true(uc->s.eof);
	upstream_release(uc, 1);
	assert_int_equal(uc->state, UC_CLOSED);
	assert_int_equal(up->nidle, 0);
	upstream_reap();
	close(lfd);
}

/* At most UPSTREAM_POOL_MAX idle per destination; the rest close. */
static void
test_pool_bound(void **state)
{
	enum { N = UPSTREAM_POOL_MAX + 2 };
	struct owner w = { 0 };
	struct upconn *uc[N];
	uint16_t port;
	int lfd = sock_listen(&port), srv[N], i, eof = 0;
	struct upstream *up = upstream_get(port, &transport_plain);

	for (i = 0; i < N; i++) {
		uc[i] = lend(up, 1, &w);
		srv[i] = server_end(lfd);
	}
	assert_int_equal(up->nbusy, N);
	for (i = 0; i < N; i++)
		upstream_release(uc[i], 1);
	assert_int_equal(up->nidle, UPSTREAM_POOL_MAX);
	assert_int_equal(up->nbusy, 0);
	for (i = 0; i < N; i++)
		assert_int_equal(uc[i]->state, i < UPSTREAM_POOL_MAX ? UC_IDLE : UC_CLOSED);
	loop_settle(EV_DEFAULT, 0.02);
	for (i = 0; i < N; i++) {
		char b;

		if (read(srv[i], &b, 1) == 0)
			eof++;
		close(srv[i]);
	}
	assert_int_equal(eof, N - UPSTREAM_POOL_MAX);
	upstream_reap();
	close(lfd);
}

/* A pooled connection closes after the pool idle timeout, not before. */
static void
test_idle_timeout(void **state)
{
	struct owner w = { 0 };
	uint16_t port;
	int lfd = sock_listen(&port), srv;
	struct upstream *up;
	struct upconn *uc;
	ev_tstamp t0;

	upstream_set_timeouts(1.0, 0.5);
	up = upstream_get(port, &transport_plain);
	uc = lend(up, 0, &w);
	srv = server_end(lfd);
	ev_now_update(EV_DEFAULT);
	t0 = ev_now(EV_DEFAULT);
	upstream_release(uc, 1);
	loop_settle(EV_DEFAULT, 0.05);
	assert_int_equal(up->nidle, 1);
	assert_true(loop_until(EV_DEFAULT, pool_empty, up, 3));
	assert_true(ev_now(EV_DEFAULT) - t0 >= 0.49);
	assert_int_equal(uc->state, UC_CLOSED);
	assert_true(peer_closed(srv));
	upstream_reap();
	close(srv);
	close(lfd);
}

/* Stale destinations lose their idle connections on sweep unless a new
 * config named them again; a busy one released to a stale destination
 * closes. */
static void
test_stale(void **state)
{
	struct owner w = { 0 };
	uint16_t p1, p2;
	int l1 = sock_listen(&p1), l2 = sock_listen(&p2), s1, s2, s3;
	struct upstream *u1 = upstream_get(p1, &transport_plain);
	struct upstream *u2 = upstream_get(p2, &transport_plain);
	struct upconn *a = lend(u1, 0, &w), *b = lend(u2, 0, &w), *c;

	s1 = server_end(l1);
	s2 = server_end(l2);
	upstream_release(a, 1);
	upstream_release(b, 1);
	c = lend(u1, 1, &w);
	s3 = server_end(l1);

	upstream_mark_stale();
	assert_ptr_equal(upstream_get(p2, &transport_plain), u2);   /* still named */
	upstream_sweep_stale();
	assert_true(u1->stale);
	assert_false(u2->stale);
	assert_int_equal(u1->nidle, 0);
	assert_int_equal(a->state, UC_CLOSED);
	assert_int_equal(u2->nidle, 1);
	assert_int_equal(b->state, UC_IDLE);

	upstream_release(c, 1);
	assert_int_equal(c->state, UC_CLOSED);
	assert_int_equal(u1->nidle, 0);
	upstream_reap();
	close(s1);
	close(s2);
	close(s3);
	close(l1);
	close(l2);
}

/* A closed upconn's memory is not lent again before upstream_reap (a
 * callback up the stack may still read it). */
static void
test_closed_kept_until_reap(void **state)
{
	struct owner w = { 0 };
	uint16_t port;
	int lfd = sock_listen(&port), s1, s2;
	struct upstream *up = upstream_get(port, &transport_plain);
	struct upconn *a = lend(up, 0, &w), *b;

	s1 = server_end(lfd);
	upstream_close(a);
	assert_int_equal(a->state, UC_CLOSED);
	assert_int_equal(up->nbusy, 0);
	b = lend(up, 0, &w);
	assert_ptr_not_equal(b, a);
	assert_int_equal(a->state, UC_CLOSED);
	s2 = server_end(lfd);
	upstream_close(b);
	upstream_reap();
	close(s1);
	close(s2);
	close(lfd);
}

/* Nothing listens: the failure comes back at once (errno) or through
 * notify (errnum), and the upstream counts nothing busy. */
static void
test_connect_refused(void **state)
{
	struct owner w = { 0 };
	uint16_t port;
	int lfd = sock_listen(&port);
	struct upstream *up;
	struct upconn *uc;

	close(lfd);                                 /* the port is now refused */
	up = upstream_get(port, &transport_plain);
	errno = 0;
	uc = upstream_acquire(up, 0, notify, &w);
	if (uc == NULL) {
		assert_int_equal(errno, ECONNREFUSED);
	} else {
		assert_int_equal(uc->state, UC_CONNECTING);
		assert_true(loop_until(EV_DEFAULT, not_connecting, uc, 2));
		assert_int_equal(w.n[UC_EV_FAILED], 1);
		assert_int_equal(uc->state, UC_CLOSED);
		assert_int_equal(uc->errnum, ECONNREFUSED);
	}
	assert_int_equal(w.n[UC_EV_CONNECTED], 0);
	assert_int_equal(up->nbusy, 0);
	upstream_reap();
}

static int
saw_io(void *arg)
{
	return ((struct owner *)arg)->n[UC_EV_IO] > 0;
}

/* A busy connection's events go to its owner, side_event applied. */
static void
test_busy_io_notifies_owner(void **state)
{
	struct owner w = { 0 };
	uint16_t port;
	int lfd = sock_listen(&port), srv;
	struct upstream *up = upstream_get(port, &transport_plain);
	struct upconn *uc = lend(up, 0, &w);

	srv = server_end(lfd);
	side_arm(EV_DEFAULT, &uc->s, 1, 0);
	assert_false(uc->s.readable);
	assert_int_equal(write(srv, "HTTP/1.1 200 OK\r\n", 17), 17);
	assert_true(loop_until(EV_DEFAULT, saw_io, &w, 2));
	assert_int_equal(w.last, UC_EV_IO);
	assert_true(uc->s.readable);
	assert_int_equal(side_fill(&uc->s), 1);
	assert_int_equal(uc->s.in->len, 17);
	upstream_close(uc);
	upstream_reap();
	close(srv);
	close(lfd);
}

/* A transport that is plain TCP but not established until told: its
 * connections stay "opening" after the connect (a TLS handshake). */
static int fake_up;
static struct transport fake_tls;

static int
fake_established(const struct tconn *c)
{
	(void)c;
	return fake_up;
}

static const struct transport *
slow_transport(void)
{
	fake_tls = transport_plain;
	fake_tls.name = "slow";
	fake_tls.established = fake_established;
	fake_up = 0;
	return &fake_tls;
}

struct waiter {
	struct upwait      w;
	struct upstream   *up;
	struct upconn     *uc;     /* what upstream_acquire gave at the wake */
	int                err;
	int                order;  /* 1 + how many were woken before */
	struct owner       o;
};

static int woken;

static void
waiter_wake(struct upwait *w)
{
	struct waiter *x = (struct waiter *)(void *)w;   /* w is the first member */

	assert_null(w->up);
	x->order = ++woken;
	errno = 0;
	x->uc = upstream_acquire(x->up, x->w.fresh, notify, &x->o);
	x->err = errno;
}

static void
wait_on(struct upstream *up, struct waiter *x, int fresh)
{
	memset(x, 0, sizeof(*x));
	x->up = up;
	x->w.wake = waiter_wake;
	upstream_wait(up, &x->w, fresh);
	assert_ptr_equal(x->w.up, up);
}

static int
was_woken(void *arg)
{
	return ((struct waiter *)arg)->order != 0;
}

/* The bound, the queue in order, and the pool handing a connection to the
 * first waiter. */
static void
test_opening_bound(void **state)
{
	static struct upconn *open_[UPSTREAM_OPENING_MAX];
	struct owner w = { 0 };
	struct waiter a, b;
	uint16_t port;
	int lfd = sock_listen(&port), i, srv[UPSTREAM_OPENING_MAX];
	const struct transport *t = slow_transport();
	struct upstream *up = upstream_get(port, t);

	for (i = 0; i < UPSTREAM_OPENING_MAX; i++) {
		open_[i] = lend(up, 0, &w);
		srv[i] = server_end(lfd);
		assert_true(open_[i]->opening);
	}
	assert_int_equal(up->nopening, UPSTREAM_OPENING_MAX);
	errno = 0;
	assert_null(upstream_acquire(up, 0, notify, &w));
	assert_int_equal(errno, EBUSY);

	woken = 0;
	wait_on(up, &a, 0);
	wait_on(up, &b, 0);
	assert_int_equal(up->nwait, 2);
	loop_settle(EV_DEFAULT, 0.05);
	assert_int_equal(woken, 0);                 /* nothing freed up */

	/* the first one finishes its handshake and its exchange: pooled,
	 * then lent to the first waiter (the same socket) */
	fake_up = 1;
	upstream_release(open_[0], 1);
	assert_int_equal(up->nopening, UPSTREAM_OPENING_MAX - 1);
	assert_true(loop_until(EV_DEFAULT, was_woken, &b, 2));
	assert_int_equal(a.order, 1);
	assert_ptr_equal(a.uc, open_[0]);
	assert_true(a.uc->reused);
	/* the second had the slot the first one left: a new connection */
	assert_int_equal(b.order, 2);
	assert_non_null(b.uc);
	assert_false(b.uc->reused);
	assert_int_equal(up->nwait, 0);
	if (b.uc->state == UC_CONNECTING)
		assert_true(loop_until(EV_DEFAULT, not_connecting, b.uc, 2));
	assert_false(b.uc->opening);                /* established at once now */

	upstream_close(a.uc);
	upstream_close(b.uc);
	for (i = 1; i < UPSTREAM_OPENING_MAX; i++)
		upstream_close(open_[i]);
	assert_int_equal(up->nopening, 0);
	upstream_reap();
	for (i = 0; i < UPSTREAM_OPENING_MAX; i++)
		close(srv[i]);
	close(lfd);
}

/* A closed opening connection frees its slot; a newcomer does not take it
 * ahead of the waiter; a waiter that leaves is not woken. */
static void
test_opening_close_and_unwait(void **state)
{
	static struct upconn *open_[UPSTREAM_OPENING_MAX];
	struct owner w = { 0 };
	struct waiter a, b;
	uint16_t port;
	int lfd = sock_listen(&port), i, srv[UPSTREAM_OPENING_MAX];
	struct upstream *up = upstream_get(port, slow_transport());

	for (i = 0; i < UPSTREAM_OPENING_MAX; i++) {
		open_[i] = lend(up, 0, &w);
		srv[i] = server_end(lfd);
	}
	woken = 0;
	wait_on(up, &a, 0);
	wait_on(up, &b, 0);
	upstream_unwait(&a.w);
	assert_null(a.w.up);
	assert_int_equal(up->nwait, 1);
	upstream_unwait(&a.w);                      /* twice: a no-op */

	upstream_close(open_[0]);
	assert_int_equal(up->nopening, UPSTREAM_OPENING_MAX - 1);
	/* before the loop runs, the slot is the waiter's */
	errno = 0;
	assert_null(upstream_acquire(up, 0, notify, &w));
	assert_int_equal(errno, EBUSY);
	assert_true(loop_until(EV_DEFAULT, was_woken, &b, 2));
	assert_int_equal(a.order, 0);
	assert_int_equal(b.order, 1);
	assert_non_null(b.uc);
	assert_int_equal(up->nopening, UPSTREAM_OPENING_MAX);

	upstream_close(b.uc);
	for (i = 1; i < UPSTREAM_OPENING_MAX; i++)
		upstream_close(open_[i]);
	assert_int_equal(up->nopening, 0);
	assert_int_equal(up->nbusy, 0);
	upstream_reap();
	for (i = 0; i < UPSTREAM_OPENING_MAX; i++)
		close(srv[i]);
	close(lfd);
}

/* The connect finished, but the loop was busy past the connect timeout:
 * the timer and the socket's writability come in the same iteration, the
 * timer first.  That is a connect. */
static void
test_connect_late_loop(void **state)
{
	struct owner w = { 0 };
	uint16_t port;
	int lfd = sock_listen(&port), srv;
	struct upstream *up = upstream_get(port, &transport_plain);
	struct upconn *uc;
	struct pollfd p;

	upstream_set_timeouts(0.001, POOL_IDLE);
	ev_now_update(EV_DEFAULT);
	uc = upstream_acquire(up, 0, notify, &w);
	assert_non_null(uc);
	if (uc->state == UC_CONNECTING) {
		p.fd = uc->s.tc.fd;
		p.events = POLLOUT;
		assert_int_equal(poll(&p, 1, 1000), 1);   /* connected... */
		usleep(20000);                             /* ...and the timer is past */
		assert_true(loop_until(EV_DEFAULT, not_connecting, uc, 2));
	}
	assert_int_equal(w.n[UC_EV_TIMEOUT], 0);
	assert_int_equal(uc->state, UC_BUSY);
	srv = server_end(lfd);
	upstream_close(uc);
	upstream_reap();
	close(srv);
	close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_get, teardown),
		cmocka_unit_test_teardown(test_reuse, teardown),
		cmocka_unit_test_teardown(test_fresh_and_other_endpoint, teardown),
		cmocka_unit_test_teardown(test_peer_close_while_idle, teardown),
		cmocka_unit_test_teardown(test_peer_writes_while_idle, teardown),
		cmocka_unit_test_teardown(test_release_not_reusable, teardown),
		cmocka_unit_test_teardown(test_pool_bound, teardown),
		cmocka_unit_test_teardown(test_idle_timeout, teardown),
		cmocka_unit_test_teardown(test_stale, teardown),
		cmocka_unit_test_teardown(test_closed_kept_until_reap, teardown),
		cmocka_unit_test_teardown(test_connect_refused, teardown),
		cmocka_unit_test_teardown(test_busy_io_notifies_owner, teardown),
		cmocka_unit_test_teardown(test_opening_bound, teardown),
		cmocka_unit_test_teardown(test_opening_close_and_unwait, teardown),
		cmocka_unit_test_teardown(test_connect_late_loop, teardown),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
