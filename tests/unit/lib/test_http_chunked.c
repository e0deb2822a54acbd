/* SPDX-License-Identifier: ISC */
/*
 * test_http_chunked: the chunked body scanner (src/lib/http_chunked.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/http.h"

static const struct http_limits lim = { 64, 128, 100 };

/* Result of feeding s in pieces: body bytes, done, or error reason. */
struct verdict {
	long        n;       /* bytes accepted in total, or HTTP_ERROR */
	int         done;
	const char *reason;
};

/* Feed s split at the offsets chosen by `next` (piece sizes, 0 = rest). */
static struct verdict
feed(const char *s, size_t len, const size_t *pieces, size_t npieces)
{
	struct http_chunked c;
	struct verdict v = { 0, 0, NULL };
	size_t off = 0, k = 0;

	http_chunked_init(&c, &lim);
	while (off < len && !v.done) {
		size_t n = (k < npieces && pieces[k] != 0) ? pieces[k] : len - off;
		long r;

		k++;
		if (n > len - off)
			n = len - off;
		r = http_chunked_scan(&c, s + off, n, &v.done);
		if (r == HTTP_ERROR) {
			v.n = HTTP_ERROR;
			v.reason = c.reason;
			return v;
		}
		assert_true(r >= 0 && (size_t)r <= n);
		/* the scanner stops short only at the end of the body */
		if ((size_t)r < n)
			assert_true(v.done);
		v.n += r;
		off += (size_t)r;
	}
	return v;
}

static struct verdict
whole(const char *s)
{
	return feed(s, strlen(s), NULL, 0);
}

static struct verdict
bytewise_n(const char *s, size_t len)
{
	static size_t ones[4096];

	for (size_t i = 0; i < sizeof(ones) / sizeof(ones[0]); i++)
		ones[i] = 1;
	assert_true(len <= 4096);
	return feed(s, len, ones, len);
}

static struct verdict
bytewise(const char *s)
{
	return bytewise_n(s, strlen(s));
}

static void
complete(const char *s, size_t body_len)
{
	struct verdict a = whole(s), b = bytewise(s);

	if (a.n != (long)body_len || !a.done)
		fail_msg("%s: got %ld done=%d (%s)", s, a.n, a.done, a.reason ? a.reason : "-");
	assert_int_equal(b.n, a.n);
	assert_int_equal(b.done, 1);
}

static void
refused_n(const char *s, size_t len, const char *reason)
{
	struct verdict a = feed(s, len, NULL, 0), b = bytewise_n(s, len);

	if (a.n != HTTP_ERROR)
		fail_msg("%s: got %ld, want %s", s, a.n, reason);
	assert_string_equal(a.reason, reason);
	assert_int_equal(b.n, HTTP_ERROR);
	assert_string_equal(b.reason, reason);
}

static void
refused(const char *s, const char *reason)
{
	refused_n(s, strlen(s), reason);
}

static void
incomplete(const char *s)
{
	struct verdict a = whole(s), b = bytewise(s);

	assert_int_equal(a.n, (long)strlen(s));
	assert_int_equal(a.done, 0);
	assert_int_equal(b.n, (long)strlen(s));
	assert_int_equal(b.done, 0);
}

static void
test_simple(void **st)
{
	(void)st;
	complete("5\r\nhello\r\n0\r\n\r\n", 15);
	complete("0\r\n\r\n", 5);
	complete("1\r\na\r\n2\r\nbc\r\n0\r\n\r\n", 18);
}

static void
test_stops_at_end(void **st)
{
	const char *s = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
	struct http_chunked c;
	int done;

	(void)st;
	http_chunked_init(&c, &lim);
	assert_int_equal(http_chunked_scan(&c, s, strlen(s), &done), 13);
	assert_int_equal(done, 1);
	/* later calls: nothing more belongs to the body */
	assert_int_equal(http_chunked_scan(&c, s + 13, 5, &done), 0);
	assert_int_equal(done, 1);
}

static void
test_hex_sizes(void **st)
{
	char b[256];

	(void)st;
	memset(b, 0, sizeof(b));
	memcpy(b, "1A\r\n", 4);
	memset(b + 4, 'x', 26);
	memcpy(b + 30, "\r\n0\r\n\r\n", 7);
	complete(b, 37);
	memcpy(b, "1a", 2);
	complete(b, 37);
	complete("0005\r\nhello\r\n000\r\n\r\n", 20);
}

static void
test_extensions(void **st)
{
	(void)st;
	complete("5;name=val\r\nhello\r\n0;x\r\n\r\n", 26);
	complete("5 ;a=\"q s\"\t;b\r\nhello\r\n0\r\n\r\n", 27);
	refused("5 x\r\nhello\r\n0\r\n\r\n", "invalid chunk size");
	refused_n("5;a\0b\r\n", 7, "invalid chunk extension");
	refused("5;a\x01" "b\r\n", "invalid chunk extension");
	refused("5;a\nhello", "bare lf");
}

static void
test_trailers(void **st)
{
	(void)st;
	complete("2\r\nhi\r\n0\r\nX-Sum: 12\r\nY:\r\n\r\n", 27);
	refused("0\r\nX: a\r\n b\r\n\r\n", "obs-fold");
	refused("0\r\n X: a\r\n\r\n", "obs-fold");
	refused("0\r\nX : a\r\n\r\n", "whitespace before colon");
	refused("0\r\n: a\r\n\r\n", "invalid trailer");
	refused("0\r\nX(: a\r\n\r\n", "invalid trailer");
	refused("0\r\nX: a\x7f\r\n\r\n", "invalid trailer");
	refused("0\r\nX: a\nY: b\r\n\r\n", "bare lf");
	refused("0\r\nX: a\rY: b\r\n\r\n", "bare cr");
	refused("0\r\n\rX", "bare cr");
	refused("0\r\n\n", "bare lf");
}

static void
test_invalid_size(void **st)
{
	(void)st;
	refused("\r\n", "invalid chunk size");
	refused("x\r\n", "invalid chunk size");
	refused("-1\r\n", "invalid chunk size");
	refused("+1\r\n", "invalid chunk size");
	refused("0x5\r\n", "invalid chunk size");
	refused(" 5\r\n", "invalid chunk size");
	refused(";x\r\n", "invalid chunk size");
	refused("5\nhello", "bare lf");
	refused("5\rhello", "bare cr");
	refused("5\r\nhello\r\n\r\n", "invalid chunk size");
}

static void
test_size_overflow(void **st)
{
	(void)st;
	incomplete("7fffffffffffffff\r\n");
	incomplete("000000000000000f\r\n");
	refused("8000000000000000\r\n", "chunk size too large");
	refused("ffffffffffffffff\r\n", "chunk size too large");
	refused("10000000000000000\r\n", "chunk size too large");
	/* 17 digits even when small: bounded digits */
	refused("00000000000000001\r\n", "chunk size too large");
}

static void
test_data_crlf(void **st)
{
	(void)st;
	refused("5\r\nhelloX\r\n0\r\n\r\n", "missing crlf after chunk data");
	refused("5\r\nhello\n0\r\n\r\n", "missing crlf after chunk data");
	refused("5\r\nhello\rX", "bare cr");
	refused("5\r\nhello world\r\n", "missing crlf after chunk data");
}

static void
test_line_limit(void **st)
{
	char b[256];

	(void)st;
	/* size line of exactly line_max (64) bytes, CRLF not counted */
	memset(b, 0, sizeof(b));
	memcpy(b, "1;", 2);
	memset(b + 2, 'e', 62);
	memcpy(b + 64, "\r\nz\r\n0\r\n\r\n", 10);
	complete(b, 74);
	memset(b, 0, sizeof(b));
	memcpy(b, "1;", 2);
	memset(b + 2, 'e', 63);
	memcpy(b + 65, "\r\nz\r\n0\r\n\r\n", 10);
	refused(b, "chunk line too long");
	/* too long even before the line ends */
	b[66] = '\0';
	memset(b + 2, 'e', 64);
	refused(b, "chunk line too long");
}

static void
test_trailer_limit(void **st)
{
	char b[512];
	size_t n;

	(void)st;
	/* trailer section of exactly trailer_max (128) bytes with its CRLF */
	memset(b, 0, sizeof(b));
	memcpy(b, "0\r\nX: ", 6);
	n = 3 + 128 - 4;                     /* where the field's CRLF starts */
	memset(b + 6, 'v', n - 6);
	memcpy(b + n, "\r\n\r\n", 4);
	complete(b, n + 4);
	memset(b, 0, sizeof(b));
	memcpy(b, "0\r\nX: ", 6);
	memset(b + 6, 'v', n - 5);
	memcpy(b + n + 1, "\r\n\r\n", 4);
	refused(b, "trailer too large");
}

static void
test_incomplete(void **st)
{
	(void)st;
	incomplete("5\r\nhel");
	incomplete("5\r\nhello\r");
	incomplete("5\r\nhello\r\n0\r\n\r");
	incomplete("5;ext");
	incomplete("0\r\nX: y\r\n");
	incomplete("");
}

static void
test_error_sticks(void **st)
{
	struct http_chunked c;
	int done;

	(void)st;
	http_chunked_init(&c, NULL);
	assert_int_equal(http_chunked_scan(&c, "zz", 2, &done), HTTP_ERROR);
	assert_string_equal(c.reason, "invalid chunk size");
	assert_int_equal(http_chunked_scan(&c, "0\r\n\r\n", 5, &done), HTTP_ERROR);
	assert_int_equal(done, 0);
}

static void
test_defaults(void **st)
{
	struct http_chunked c;

	(void)st;
	http_chunked_init(&c, NULL);
	assert_int_equal(c.line_max, 8192);
	assert_int_equal(c.trailer_max, 16384);
	http_chunked_init(&c, &lim);
	assert_int_equal(c.line_max, 64);
	assert_int_equal(c.trailer_max, 128);
}

static void
test_large_chunk_many_calls(void **st)
{
	static char data[4096];
	struct http_chunked c;
	int done = 0;
	long total = 0;

	(void)st;
	memset(data, 'd', sizeof(data));
	http_chunked_init(&c, &lim);
	assert_int_equal(http_chunked_scan(&c, "100000\r\n", 8, &done), 8);   /* 1 MiB */
	for (int i = 0; i < 256; i++) {
		long r = http_chunked_scan(&c, data, sizeof(data), &done);
		assert_int_equal(r, (long)sizeof(data));
		total += r;
	}
	assert_int_equal(total, 1 << 20);
	assert_int_equal(http_chunked_scan(&c, "\r\n0\r\n\r\nX", 8, &done), 7);
	assert_int_equal(done, 1);
}

/* Same verdict for 2000 random ways of cutting each body. */
static void
test_random_splits(void **st)
{
	static const char *bodies[] = {
		"5\r\nhello\r\n0\r\n\r\n",
		"a;x=y\r\n0123456789\r\n3\r\nabc\r\n0\r\nT: v\r\nU: w\r\n\r\nNEXT",
		"1\r\n\r\r\n1\r\n\n\r\n0\r\n\r\n",
		"5\r\nhelloX\r\n",
		"3\r\nabc\r\n0\r\nX : y\r\n\r\n",
		"4\r\nabcd\r\n0\r\n",
	};
	uint32_t seed = 12345;

	(void)st;
	for (size_t k = 0; k < sizeof(bodies) / sizeof(bodies[0]); k++) {
		struct verdict ref = whole(bodies[k]);
		size_t len = strlen(bodies[k]);

		for (int it = 0; it < 2000; it++) {
			size_t pieces[64];
			struct verdict v;

			for (size_t i = 0; i < 64; i++) {
				seed = seed * 1103515245u + 12345u;
				pieces[i] = 1 + (seed >> 16) % 7;
			}
			v = feed(bodies[k], len, pieces, 64);
			assert_int_equal(v.n, ref.n);
			assert_int_equal(v.done, ref.done);
			if (ref.reason != NULL)
				assert_string_equal(v.reason, ref.reason);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_stops_at_end),
		cmocka_unit_test(test_hex_sizes),
		cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_trailers),
		cmocka_unit_test(test_invalid_size),
		cmocka_unit_test(test_size_overflow),
		cmocka_unit_test(test_data_crlf),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_trailer_limit),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_error_sticks),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_large_chunk_many_calls),
		cmocka_unit_test(test_random_splits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
