/* SPDX-License-Identifier: ISC */
/*
 * test_tls_rahead: the read-ahead receive path (src/proxy/tls_rahead.c)
 * over a socketpair, with a reader that asks as wolfSSL does (a 5-byte
 * header, then the body, taking short answers): records split at every
 * byte boundary, several records in one read, nothing stranded in user
 * space while the socket is quiet, connections sharing the scratch, and
 * the errors wolfSSL must see.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "mesh/buf.h"
#include "mesh/tls_rahead.h"

/* A record reader with wolfSSL's manners: it keeps what it got across
 * calls and asks only for what it still needs. */
struct reader {
	unsigned char rec[5 + 20000];
	size_t        have;
};

static size_t
rec_need(const struct reader *r)
{
	if (r->have < 5)
		return 5 - r->have;
	return 5 + ((size_t)r->rec[3] << 8 | r->rec[4]) - r->have;
}

/* One "wolfSSL call": 1 with a whole record in r->rec, 0 when the socket
 * would block, or the callback's error.  Parks afterwards, as the
 * transport does. */
static int
read_record(struct tls_rahead *ra, struct reader *r)
{
	int n, rc = 1;

	while (rec_need(r) > 0) {
		n = tls_rahead_recv(ra, (char *)r->rec + r->have, (int)rec_need(r));
		if (n == WOLFSSL_CBIO_ERR_WANT_READ) {
			rc = 0;
			break;
		}
		if (n < 0) {
			rc = n;
			break;
		}
		assert_true(n > 0 && (size_t)n <= sizeof(r->rec) - r->have);
		r->have += (size_t)n;
	}
	(void)tls_rahead_park(ra);
	return rc;
}

static size_t
mk_record(unsigned char *p, size_t body, unsigned char seed)
{
	size_t i;

	p[0] = 23;
	p[1] = 3;
	p[2] = 3;
	p[3] = (unsigned char)(body >> 8);
	p[4] = (unsigned char)body;
	for (i = 0; i < body; i++)
		p[5 + i] = (unsigned char)(seed + i * 7);
	return 5 + body;
}

static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
}

static void
put(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		assert_true(w > 0);
		p += w;
		n -= (size_t)w;
	}
}

static int
sock_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

static size_t
live_bufs(void)
{
	return buf_pool_allocated() - buf_pool_free();
}

static int
setup(void **state)
{
	buf_pool_init(16384, 8);
	return 0;
}

/* Three records of 1, 300 and 5000 bytes, the stream cut at every byte:
 * the reader is driven only when the socket is readable or the read-ahead
 * says a record waits (the relay's rule), and still gets every record. */
static void
test_split_every_byte(void **state)
{
	static unsigned char stream[3 * 5 + 1 + 300 + 5000];
	size_t total = 0, cut, off[4];
	int sv[2];

	off[0] = 0;
	total += mk_record(stream + total, 1, 1);
	off[1] = total;
	total += mk_record(stream + total, 300, 2);
	off[2] = total;
	total += mk_record(stream + total, 5000, 3);
	off[3] = total;
	for (cut = 0; cut <= total; cut++) {
		struct tls_rahead ra;
		struct reader r = { .have = 0 };
		int got = 0, rounds, rc;

		pair(sv);
		tls_rahead_init(&ra, sv[0]);
		ra.greedy = 1;
		put(sv[1], stream, cut);
		for (rounds = 0; rounds < 4 * 3 + 4 && got < 3; rounds++) {
			if (rounds == 3)
				put(sv[1], stream + cut, total - cut);
			if (!sock_readable(sv[0]) && tls_rahead_pending(&ra) == 0) {
				/* quiet socket, nothing whole read ahead: a
				 * partial record at most, never a whole one */
				assert_true(tls_rahead_buffered(&ra) <
				    off[got + 1] - off[got]);
				continue;
			}
			while ((rc = read_record(&ra, &r)) == 1) {
				assert_memory_equal(r.rec, stream + off[got], off[got + 1] - off[got]);
				r.have = 0;
				got++;
			}
			assert_int_equal(rc, 0);
		}
		assert_int_equal(got, 3);
		assert_int_equal(tls_rahead_buffered(&ra), 0);
		assert_int_equal(live_bufs(), 0);
		tls_rahead_release(&ra);
		close(sv[0]);
		close(sv[1]);
	}
}

/* Several records in the socket: one readv takes them all; the rest are
 * served without the socket (its fd is gone), and the pool buffer goes
 * back once drained. */
static void
test_many_records_one_read(void **state)
{
	unsigned char stream[4 * (5 + 100)];
	struct tls_rahead ra;
	struct reader r = { .have = 0 };
	size_t total = 0, i;
	int sv[2];

	for (i = 0; i < 4; i++)
		total += mk_record(stream + total, 100, (unsigned char)i);
	pair(sv);
	put(sv[1], stream, total);
	tls_rahead_init(&ra, sv[0]);
	ra.greedy = 1;
	assert_int_equal(read_record(&ra, &r), 1);
	assert_memory_equal(r.rec, stream, 105);
	assert_false(sock_readable(sv[0]));          /* all of it was read */
	assert_int_equal(tls_rahead_buffered(&ra), total - 105);
	assert_int_equal(tls_rahead_pending(&ra), total - 105);
	assert_int_equal(live_bufs(), 1);            /* parked */
	ra.fd = -1;                                  /* a readv now fails */
	for (i = 1; i < 4; i++) {
		r.have = 0;
		assert_int_equal(read_record(&ra, &r), 1);
		assert_memory_equal(r.rec, stream + i * 105, 105);
	}
	assert_int_equal(tls_rahead_pending(&ra), 0);
	assert_int_equal(live_bufs(), 0);            /* given back when drained */
	tls_rahead_release(&ra);
	close(sv[0]);
	close(sv[1]);
}

/* Not greedy (writes drive a handshake): exactly what was asked. */
static void
test_not_greedy_reads_exactly(void **state)
{
	unsigned char stream[2 * (5 + 10)];
	struct tls_rahead ra;
	struct reader r = { .have = 0 };
	size_t total = 0;
	int sv[2];

	total += mk_record(stream, 10, 1);
	total += mk_record(stream + total, 10, 2);
	pair(sv);
	put(sv[1], stream, total);
	tls_rahead_init(&ra, sv[0]);
	assert_int_equal(read_record(&ra, &r), 1);
	assert_int_equal(tls_rahead_buffered(&ra), 0);
	assert_true(sock_readable(sv[0]));           /* the second stays in the kernel */
	tls_rahead_release(&ra);
	close(sv[0]);
	close(sv[1]);
}

/* Two connections: A's bytes left in the scratch by a call that did not
 * park survive B's read, moved to A's own buffer. */
static void
test_two_connections_share_scratch(void **state)
{
	unsigned char sa[2 * 55], sb[2 * 55];
	struct tls_rahead a, b;
	char dst[8];
	struct reader r = { .have = 0 };
	int pa[2], pb[2];

	mk_record(sa, 50, 10);
	mk_record(sa + 55, 50, 11);
	mk_record(sb, 50, 20);
	mk_record(sb + 55, 50, 21);
	pair(pa);
	pair(pb);
	put(pa[1], sa, sizeof(sa));
	put(pb[1], sb, sizeof(sb));
	tls_rahead_init(&a, pa[0]);
	tls_rahead_init(&b, pb[0]);
	a.greedy = b.greedy = 1;
	assert_int_equal(tls_rahead_recv(&a, dst, 5), 5);      /* no park */
	assert_memory_equal(dst, sa, 5);
	assert_int_equal(read_record(&b, &r), 1);
	assert_memory_equal(r.rec, sb, 55);
	assert_int_equal(tls_rahead_buffered(&a), sizeof(sa) - 5);
	r.have = 5;
	memcpy(r.rec, sa, 5);
	assert_int_equal(read_record(&a, &r), 1);
	assert_memory_equal(r.rec, sa, 55);
	r.have = 0;
	assert_int_equal(read_record(&a, &r), 1);
	assert_memory_equal(r.rec, sa + 55, 55);
	r.have = 0;
	assert_int_equal(read_record(&b, &r), 1);
	assert_memory_equal(r.rec, sb + 55, 55);
	tls_rahead_release(&a);
	tls_rahead_release(&b);
	assert_int_equal(live_bufs(), 0);
	close(pa[0]);
	close(pa[1]);
	close(pb[0]);
	close(pb[1]);
}

/* wolfSSL's conventions: nothing there -> WANT_READ with EAGAIN; the
 * peer's FIN -> CONN_CLOSE, after the bytes read ahead are served;
 * a closed connection gives its buffer back. */
static void
test_errors_and_eof(void **state)
{
	unsigned char stream[2 * 25];
	struct tls_rahead ra;
	struct reader r = { .have = 0 };
	char dst[8];
	int sv[2];

	mk_record(stream, 20, 1);
	mk_record(stream + 25, 20, 2);
	pair(sv);
	tls_rahead_init(&ra, sv[0]);
	ra.greedy = 1;
	errno = 0;
	assert_int_equal(tls_rahead_recv(&ra, dst, 5), WOLFSSL_CBIO_ERR_WANT_READ);
	assert_int_equal(errno, EAGAIN);
	put(sv[1], stream, sizeof(stream));
	close(sv[1]);
	assert_int_equal(read_record(&ra, &r), 1);
	assert_int_equal(tls_rahead_pending(&ra), 25);
	r.have = 0;
	assert_int_equal(read_record(&ra, &r), 1);
	assert_memory_equal(r.rec, stream + 25, 25);
	assert_int_equal(tls_rahead_recv(&ra, dst, 5), WOLFSSL_CBIO_ERR_CONN_CLOSE);
	tls_rahead_release(&ra);
	close(sv[0]);

	/* closed with bytes read ahead: the buffer goes back */
	pair(sv);
	put(sv[1], stream, sizeof(stream));
	tls_rahead_init(&ra, sv[0]);
	ra.greedy = 1;
	r.have = 0;
	assert_int_equal(read_record(&ra, &r), 1);
	assert_int_equal(live_bufs(), 1);
	tls_rahead_release(&ra);
	assert_int_equal(live_bufs(), 0);
	assert_int_equal(tls_rahead_buffered(&ra), 0);
	close(sv[0]);
	close(sv[1]);
}

/* A bulk stream of full-size records: leftovers always fit one pool
 * buffer, and a readv serves about one record. */
static void
test_bulk_full_records(void **state)
{
	static unsigned char stream[6 * (5 + 16401)];
	static unsigned char got[sizeof(stream)];
	struct tls_rahead ra;
	struct reader r = { .have = 0 };
	size_t total = 0, in = 0, sent = 0, i;
	int sv[2], rounds, rc;

	for (i = 0; i < 6; i++)
		total += mk_record(stream + total, 16401, (unsigned char)i);
	pair(sv);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	tls_rahead_init(&ra, sv[0]);
	ra.greedy = 1;
	for (rounds = 0; rounds < 1000 && in < total; rounds++) {
		if (sent < total) {
			ssize_t w = write(sv[1], stream + sent, total - sent);

			if (w > 0)
				sent += (size_t)w;
		}
		while ((rc = read_record(&ra, &r)) == 1) {
			memcpy(got + in, r.rec, r.have);
			in += r.have;
			r.have = 0;
		}
		assert_int_equal(rc, 0);
	}
	assert_int_equal(in, total);
	assert_memory_equal(got, stream, total);
	assert_int_equal(live_bufs(), 0);
	tls_rahead_release(&ra);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_every_byte),
		cmocka_unit_test(test_many_records_one_read),
		cmocka_unit_test(test_not_greedy_reads_exactly),
		cmocka_unit_test(test_two_connections_share_scratch),
		cmocka_unit_test(test_errors_and_eof),
		cmocka_unit_test(test_bulk_full_records),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
