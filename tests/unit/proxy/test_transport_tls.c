/* SPDX-License-Identifier: ISC */
/*
 * test_transport_tls: the mTLS transport through the transport.h vtable,
 * non-blocking over a socketpair (and loopback TCP for resumption keyed
 * by port): handshake driven by read/writev with EAGAIN + rwant/wwant,
 * peer identity, refusals, coalesced and interrupted writes, records read
 * ahead and reported by pending(), half-close,
 * truncation, a refused resumption forgotten.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>

#include <ev.h>

#include "mesh/transport_tls.h"
#include "test_tls_util.h"

#define TEST_PORT 25011   /* loopback, in this test's assigned range */
#define TEST_PORT_ONCE 25012   /* test_ticket_single_use: an endpoint no refusal has paused */

static struct tca ca1;
static struct csr_ident *web, *api;
static const char *expect_svc = "api";

static const char *
expect_cb(struct epaddr at, void *arg)
{
	return expect_svc;
}

static struct tlsctx *
mkctx(const struct csr_ident *id)
{
	struct tlsctx_ident ti;
	struct tlsctx *t;
	char err[256];

	t = tlsctx_new(TD, TLSCTX_PREFER_AUTO, err, sizeof(err));
	assert_non_null(t);
	tident(id, &ti);
	assert_int_equal(tlsctx_set_identity(t, &ti, err, sizeof(err)), 0);
	return t;
}

/* Both sides share one process, so one tlsctx serves both: the caller
 * presents web ... except that the callee then also is web.  Use two and
 * switch the global one around each call. */
static struct tlsctx *tcli, *tsrv;

static int
group_setup(void **state)
{
	if (tca_open(&ca1) == NULL)
		return -1;
	web = tid_issue(ca1.ca, TD, "web", time(NULL), 3600, NULL, NULL);
	api = tid_issue(ca1.ca, TD, "api", time(NULL), 3600, NULL, NULL);
	if (web == NULL || api == NULL)
		return -1;
	tcli = mkctx(web);
	tsrv = mkctx(api);
	return 0;
}

static int
group_teardown(void **state)
{
	transport_tls_setup(NULL, NULL, NULL);
	tlsctx_free(tcli);
	tlsctx_free(tsrv);
	csr_free(web);
	csr_free(api);
	tca_close(&ca1);
	return 0;
}

static int
open_side(struct tconn *c, int fd, int server)
{
	transport_tls_setup(server ? tsrv : tcli, expect_cb, NULL);
	return tconn_open(c, &transport_tls, fd, server);
}

/* One step of a side, with the right tlsctx installed (the transport
 * asks it for the session cache on the caller side). */
static ssize_t
side_read(struct tconn *c, int server, void *buf, size_t len)
{
	transport_tls_setup(server ? tsrv : tcli, expect_cb, NULL);
	return tconn_read(c, buf, len);
}

static ssize_t
side_writev(struct tconn *c, int server, const struct iovec *iov, int n)
{
	transport_tls_setup(server ? tsrv : tcli, expect_cb, NULL);
	return tconn_writev(c, iov, n);
}

/*
 * Send msg (as iovecs of `chunk` bytes) from a to b and read it back,
 * stepping both sides like a relay would: consume what writev took,
 * retry on EAGAIN, and check every EAGAIN names an event.
 * 0 when b received exactly msg.  *rerr: errno of a failed side, if any.
 */
static int
shuttle(struct tconn *a, int a_srv, struct tconn *b, int b_srv, const unsigned char *msg,
    size_t len, size_t chunk, unsigned char *out, int *rerr)
{
	size_t sent = 0, got = 0;
	struct iovec iov[4];
	ssize_t n;
	int i, k;

	*rerr = 0;
	for (i = 0; i < 100000 && got < len; i++) {
		if (sent < len) {
			for (k = 0; k < 4 && sent + k * chunk < len; k++) {
				size_t off = sent + k * chunk, l = len - off < chunk ? len - off : chunk;

				iov[k].iov_base = (void *)(msg + off);
				iov[k].iov_len = l;
			}
			n = side_writev(a, a_srv, iov, k);
			if (n > 0)
				sent += (size_t)n;
			else if (n == -1 && errno != EAGAIN) {
				*rerr = errno;
				return -1;
			} else if (n == -1)
				assert_true(a->wwant == EV_READ || a->wwant == EV_WRITE);
		}
		n = side_read(b, b_srv, out + got, len - got);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0)
			return -1;
		else if (errno != EAGAIN) {
			*rerr = errno;
			return -1;
		} else
			assert_true(b->rwant == EV_READ || b->rwant == EV_WRITE);
	}
	return got == len && memcmp(msg, out, len) == 0 ? 0 : -1;
}

static void
pair_open(struct tconn *c, struct tconn *s, int sv[2])
{
	assert_int_equal(tpair(sv), 0);
	assert_int_equal(open_side(c, sv[0], 0), 0);
	assert_int_equal(open_side(s, sv[1], 1), 0);
}

static void
test_roundtrip(void **state)
{
	static unsigned char big[300000], out[300000];
	const unsigned char req[] = "GET /users HTTP/1.1\r\nHost: api\r\n\r\n";
	struct tconn c, s;
	int sv[2], err, bufsz = 4096;
	size_t i;

	pair_open(&c, &s, sv);
	assert_string_equal(transport_tls.name, "tls");
	assert_null(transport_tls_peer(&c));       /* not verified yet */
	assert_int_equal(shuttle(&c, 0, &s, 1, req, sizeof(req) - 1, 7, out, &err), 0);
	assert_string_equal(transport_tls_peer(&s), "web");
	assert_string_equal(transport_tls_peer(&c), "api");
	/* a body far bigger than the socket buffer: writes stop on
	 * WANT_WRITE and resume with the same leading bytes */
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + i / 251);
	assert_int_equal(shuttle(&s, 1, &c, 0, big, sizeof(big), 5000, out, &err), 0);
	assert_int_equal(shuttle(&s, 1, &c, 0, big, sizeof(big), 70000, out, &err), 0);
	tconn_close(&c);
	tconn_close(&s);
	assert_int_equal(c.fd, -1);
}

static void
test_pending(void **state)
{
	const unsigned char msg[] = "0123456789abcdef";
	unsigned char out[32];
	struct tconn c, s;
	int sv[2], err;

	pair_open(&c, &s, sv);
	assert_int_equal(shuttle(&c, 0, &s, 1, msg, 4, 4, out, &err), 0);
	/* one record of 16 bytes read 4 at a time: the rest is pending */
	assert_int_equal(shuttle(&c, 0, &s, 1, msg, 4, 4, out, &err), 0);
	{
		struct iovec iov = { (void *)msg, 16 };

		assert_int_equal(side_writev(&c, 0, &iov, 1), 16);
	}
	assert_int_equal(side_read(&s, 1, out, 4), 4);
	assert_int_equal(tconn_pending(&s), 12);
	assert_int_equal(side_read(&s, 1, out, 32), 12);
	assert_int_equal(tconn_pending(&s), 0);
	tconn_close(&c);
	tconn_close(&s);
}

static int
readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

/*
 * Three records in the socket: the first read takes them all
 * (read-ahead), each later one is served while the socket stays quiet,
 * with pending() saying so; then a record and a close_notify.  The relay relies
 * on this: epoll cannot see bytes already read.
 */
static void
test_read_ahead(void **state)
{
	const unsigned char msg[] = "ping";
	unsigned char out[64];
	struct tconn c, s;
	struct iovec iov = { (void *)"one", 3 };
	int sv[2], err, i;

	pair_open(&c, &s, sv);
	assert_int_equal(shuttle(&c, 0, &s, 1, msg, 4, 4, out, &err), 0);
	assert_int_equal(tconn_pending(&s), 0);
	assert_int_equal(side_writev(&c, 0, &iov, 1), 3);
	iov = (struct iovec){ (void *)"two", 3 };
	assert_int_equal(side_writev(&c, 0, &iov, 1), 3);
	iov = (struct iovec){ (void *)"three", 5 };
	assert_int_equal(side_writev(&c, 0, &iov, 1), 5);
	assert_int_equal(side_read(&s, 1, out, sizeof(out)), 3);
	assert_memory_equal(out, "one", 3);
	assert_false(readable(s.fd));              /* all of it is in user space */
	assert_true(tconn_pending(&s) > 0);
	assert_int_equal(side_read(&s, 1, out, sizeof(out)), 3);
	assert_memory_equal(out, "two", 3);
	assert_true(tconn_pending(&s) > 0);
	assert_int_equal(side_read(&s, 1, out, sizeof(out)), 5);
	assert_memory_equal(out, "three", 5);
	assert_int_equal(tconn_pending(&s), 0);
	assert_int_equal(side_read(&s, 1, out, sizeof(out)), -1);
	assert_int_equal(errno, EAGAIN);
	/* a record and the close_notify behind it, read at once */
	iov = (struct iovec){ (void *)"four", 4 };
	assert_int_equal(side_writev(&c, 0, &iov, 1), 4);
	assert_int_equal(tconn_shutdown(&c), 0);
	assert_int_equal(side_read(&s, 1, out, sizeof(out)), 4);
	assert_true(tconn_pending(&s) > 0);
	assert_int_equal(side_read(&s, 1, out, sizeof(out)), 0);
	/* and the other way, a reply split over many small writes */
	for (i = 0; i < 20; i++) {
		iov = (struct iovec){ (void *)"x", 1 };
		assert_int_equal(side_writev(&s, 1, &iov, 1), 1);
	}
	for (i = 0; i < 20; i++) {
		assert_int_equal(side_read(&c, 0, out, sizeof(out)), 1);
		assert_int_equal(tconn_pending(&c) > 0, i < 19);
	}
	assert_int_equal(side_read(&c, 0, out, sizeof(out)), -1);
	assert_int_equal(errno, EAGAIN);
	tconn_close(&c);
	tconn_close(&s);
}

static void
test_wrong_callee(void **state)
{
	const unsigned char req[] = "GET / HTTP/1.1\r\n\r\n";
	unsigned char out[64];
	struct tconn c, s;
	int sv[2], err;

	/* the caller meant to reach db, and api answered */
	expect_svc = "db";
	pair_open(&c, &s, sv);
	assert_int_equal(shuttle(&c, 0, &s, 1, req, sizeof(req) - 1, 64, out, &err), -1);
	expect_svc = "api";
	assert_int_equal(err, EACCES);
	/* every later call says the same */
	assert_int_equal(side_read(&c, 0, out, sizeof(out)), -1);
	assert_int_equal(errno, EACCES);
	assert_null(transport_tls_peer(&c));
	tconn_close(&c);
	tconn_close(&s);
	/* and nobody expected at a port at all */
	expect_svc = NULL;
	pair_open(&c, &s, sv);
	assert_int_equal(shuttle(&c, 0, &s, 1, req, sizeof(req) - 1, 64, out, &err), -1);
	assert_int_equal(err, EACCES);
	expect_svc = "api";
	tconn_close(&c);
	tconn_close(&s);
}

static void
test_caller_not_allowed(void **state)
{
	const char *allow[] = { "admin" };
	const unsigned char req[] = "GET / HTTP/1.1\r\n\r\n";
	unsigned char out[64];
	struct tconn c, s;
	int sv[2], err;

	assert_int_equal(tlsctx_set_allow(tsrv, allow, 1), 0);
	pair_open(&c, &s, sv);
	assert_int_equal(shuttle(&c, 0, &s, 1, req, sizeof(req) - 1, 64, out, &err), -1);
	assert_int_equal(err, EACCES);
	assert_null(transport_tls_peer(&s));
	tconn_close(&c);
	tconn_close(&s);
	assert_int_equal(tlsctx_set_allow(tsrv, NULL, 0), 0);
}

static void
test_half_close_and_truncation(void **state)
{
	const unsigned char req[] = "ping", resp[] = "pong";
	unsigned char out[16];
	struct tconn c, s;
	int sv[2], err, i;
	ssize_t n = -1;

	pair_open(&c, &s, sv);
	assert_int_equal(shuttle(&c, 0, &s, 1, req, 4, 4, out, &err), 0);
	/* caller is done sending: the callee reads a clean end ... */
	assert_int_equal(tconn_shutdown(&c), 0);
	for (i = 0; i < 10 && n != 0; i++)
		n = side_read(&s, 1, out, sizeof(out));
	assert_int_equal(n, 0);
	/* ... and can still answer */
	assert_int_equal(shuttle(&s, 1, &c, 0, resp, 4, 4, out, &err), 0);
	tconn_close(&c);
	tconn_close(&s);

	/* closing an open connection says goodbye: the peer reads an end */
	pair_open(&c, &s, sv);
	assert_int_equal(shuttle(&c, 0, &s, 1, req, 4, 4, out, &err), 0);
	tconn_close(&c);
	assert_int_equal(side_read(&s, 1, out, sizeof(out)), 0);
	tconn_close(&s);

	/* the peer vanishes without close_notify: an error, not an end */
	pair_open(&c, &s, sv);
	assert_int_equal(shuttle(&c, 0, &s, 1, req, 4, 4, out, &err), 0);
	assert_int_equal(shutdown(sv[0], SHUT_RDWR), 0);   /* FIN behind the transport's back */
	n = side_read(&s, 1, out, sizeof(out));
	assert_int_equal(n, -1);
	assert_int_equal(errno, ECONNRESET);
	/* and stays so */
	assert_int_equal(side_read(&s, 1, out, sizeof(out)), -1);
	assert_int_equal(errno, ECONNRESET);
	tconn_close(&c);   /* its goodbye hits a dead socket: no SIGPIPE, no error */
	tconn_close(&s);
}

static void
test_no_identity(void **state)
{
	struct tlsctx *empty;
	struct tconn c;
	char err[64];
	int sv[2];

	empty = tlsctx_new(TD, TLSCTX_PREFER_AUTO, err, sizeof(err));
	assert_non_null(empty);
	assert_int_equal(tpair(sv), 0);
	transport_tls_setup(empty, expect_cb, NULL);
	assert_int_equal(tconn_open(&c, &transport_tls, sv[0], 0), -1);
	tconn_close(&c);      /* safe after a failed open; closes the fd */
	close(sv[1]);
	transport_tls_setup(NULL, NULL, NULL);
	tlsctx_free(empty);
	/* transport_tls_peer on a plain connection */
	c.t = &transport_plain;
	c.priv = NULL;
	assert_null(transport_tls_peer(&c));
}

/* A loopback listener on port, its address in *sin; -1 when the port is
 * taken (the test then has nothing to learn and skips). */
static int
test_listen(unsigned short port, struct sockaddr_in *sin)
{
	int lfd, one = 1;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	(void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)sin, sizeof(*sin)) == -1) {
		close(lfd);
		return -1;
	}
	assert_int_equal(listen(lfd, 4), 0);
	return lfd;
}

/* Loopback TCP: the caller's session is cached under 127.0.0.1:<port>. */
static void
test_resumption_by_port(void **state)
{
	const unsigned char req[] = "GET / HTTP/1.1\r\n\r\n", resp[] = "HTTP/1.1 200 OK\r\n\r\n";
	struct sockaddr_in sin;
	unsigned char out[64];
	struct tconn c, s;
	int lfd, cfd, afd, err, round, r;
	WOLFSSL *probe;

	if ((lfd = test_listen(TEST_PORT, &sin)) == -1)
		skip();   /* the port is taken: nothing to learn here */
	for (round = 0; round < 2; round++) {
		cfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		assert_int_equal(open_side(&c, cfd, 0), 0);    /* before connect, as upstream.c does */
		r = connect(cfd, (struct sockaddr *)&sin, sizeof(sin));
		assert_true(r == 0 || errno == EINPROGRESS);
		afd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		assert_true(afd >= 0);
		assert_int_equal(open_side(&s, afd, 1), 0);
		assert_int_equal(shuttle(&c, 0, &s, 1, req, sizeof(req) - 1, 64, out, &err), 0);
		assert_int_equal(shuttle(&s, 1, &c, 0, resp, sizeof(resp) - 1, 64, out, &err), 0);
		assert_string_equal(transport_tls_peer(&s), "web");
		tconn_close(&c);
		tconn_close(&s);
		/* after the first round a session waits for this endpoint */
		probe = tlsctx_ssl_new(tcli, -1, 0, NULL);
		assert_non_null(probe);
		assert_int_equal(tlsctx_session_resume(tcli, probe, "127.0.0.1:25011"), 1);
		wolfSSL_free(probe);
	}
	close(lfd);
}

/* One connection over loopback TCP from tcli to tsrv: the caller sends a
 * request and the callee answers.  0 when both went through; -1 when
 * the callee refused, and then the caller has read its end. */
static int
tcp_round(int lfd, const struct sockaddr_in *sin, int *resumed)
{
	const unsigned char req[] = "GET / HTTP/1.1\r\n\r\n", resp[] = "HTTP/1.1 200 OK\r\n\r\n";
	unsigned char out[64];
	struct tconn c, s;
	int cfd, afd, err, r, i;

	cfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_int_equal(open_side(&c, cfd, 0), 0);
	r = connect(cfd, (const struct sockaddr *)sin, sizeof(*sin));
	assert_true(r == 0 || errno == EINPROGRESS);
	afd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	assert_true(afd >= 0);
	assert_int_equal(open_side(&s, afd, 1), 0);
	r = shuttle(&c, 0, &s, 1, req, sizeof(req) - 1, 64, out, &err);
	*resumed = transport_tls_resumed(&c);
	assert_int_equal(transport_tls_resumed(&s), 0);   /* callee side: never */
	if (r == 0)
		r = shuttle(&s, 1, &c, 0, resp, sizeof(resp) - 1, 64, out, &err);
	else {
		/* the callee refused and goes: the caller reads its end */
		assert_int_equal(err, EACCES);
		tconn_close(&s);
		for (i = 0; i < 100 && side_read(&c, 0, out, sizeof(out)) == -1 &&
		    errno == EAGAIN; i++)
			(void)poll(&(struct pollfd){ .fd = cfd, .events = POLLIN }, 1, 10);
		tconn_close(&c);
		return -1;
	}
	tconn_close(&c);
	tconn_close(&s);
	return r;
}

/*
 * A session the callee no longer honours.  In a mesh: enough other
 * handshakes evict it from the callee's session cache (wolfSSL's, one
 * small table per process), the ticket still resumes but the caller's
 * chain is gone, and the callee refuses; offered again, that session
 * would be refused on every reconnect.  Here the callee refuses the
 * resumed connection for a reason that is quicker to arrange (`allow`):
 * the caller forgets the session all the same, and its next connections
 * are full handshakes.
 */
static void
test_refused_resumption_forgotten(void **state)
{
	const char *allow[] = { "admin" };
	struct sockaddr_in sin;
	int lfd, resumed;
	WOLFSSL *probe;

	if ((lfd = test_listen(TEST_PORT, &sin)) == -1)
		skip();

	/* a session for the endpoint, resumed at once */
	assert_int_equal(tcp_round(lfd, &sin, &resumed), 0);
	assert_int_equal(tcp_round(lfd, &sin, &resumed), 0);
	assert_int_equal(resumed, 1);

	assert_int_equal(tlsctx_set_allow(tsrv, allow, 1), 0);
	assert_int_equal(tcp_round(lfd, &sin, &resumed), -1);
	assert_int_equal(resumed, 1);
	assert_int_equal(tlsctx_set_allow(tsrv, NULL, 0), 0);
	probe = tlsctx_ssl_new(tcli, -1, 0, NULL);
	assert_non_null(probe);
	assert_int_equal(tlsctx_session_resume(tcli, probe, "127.0.0.1:25011"), 0);
	wolfSSL_free(probe);

	/* full handshakes for a while (TLSCTX_RESUME_PAUSE_NS), even with a
	 * new ticket saved: the retry of a refused request must not be
	 * refused in turn */
	assert_int_equal(tcp_round(lfd, &sin, &resumed), 0);
	assert_int_equal(resumed, 0);
	assert_int_equal(tcp_round(lfd, &sin, &resumed), 0);
	assert_int_equal(resumed, 0);
	close(lfd);
}

/*
 * A ticket is used once: the connect that offers it takes it out of the
 * cache, so a burst of connects does not all offer it (the callee's cache
 * would lose its chain to the burst's own sessions).  The next connect is
 * a full handshake, and the ticket that one brings back is offered after.
 */
static void
test_ticket_single_use(void **state)
{
	struct sockaddr_in sin;
	int lfd, resumed;
	WOLFSSL *a, *b;

	if ((lfd = test_listen(TEST_PORT_ONCE, &sin)) == -1)
		skip();

	assert_int_equal(tcp_round(lfd, &sin, &resumed), 0);
	a = tlsctx_ssl_new(tcli, -1, 0, NULL);
	b = tlsctx_ssl_new(tcli, -1, 0, NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(tlsctx_session_resume(tcli, a, "127.0.0.1:25012"), 1);
	assert_int_equal(tlsctx_session_resume(tcli, b, "127.0.0.1:25012"), 0);
	wolfSSL_free(a);
	wolfSSL_free(b);

	assert_int_equal(tcp_round(lfd, &sin, &resumed), 0);
	assert_int_equal(resumed, 0);
	assert_int_equal(tcp_round(lfd, &sin, &resumed), 0);
	assert_int_equal(resumed, 1);
	assert_int_equal(tcp_round(lfd, &sin, &resumed), 0);
	assert_int_equal(resumed, 1);   /* the ticket the last one brought back */
	close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_read_ahead),
		cmocka_unit_test(test_wrong_callee),
		cmocka_unit_test(test_caller_not_allowed),
		cmocka_unit_test(test_half_close_and_truncation),
		cmocka_unit_test(test_no_identity),
		cmocka_unit_test(test_resumption_by_port),
		cmocka_unit_test(test_refused_resumption_forgotten),
		cmocka_unit_test(test_ticket_single_use),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
