/* SPDX-License-Identifier: ISC */
/*
 * fuzz_http_chunked: http_chunked_scan on any bytes gives the same verdict
 * however the input is cut: whole, one byte at a time, and in pieces
 * chosen from the input's hash.  It never accepts more than it is given,
 * stops short only at the end of the body, and the accepted prefix fed
 * alone ends the body the same way.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/http.h"

#define CHECK(cond) do {                                                  \
	if (!(cond)) {                                                    \
		fprintf(stderr, "%s:%d: invariant failed: %s\n",          \
		        __FILE__, __LINE__, #cond);                       \
		abort();                                                  \
	}                                                                 \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct verdict {
	long        n;       /* bytes accepted, or HTTP_ERROR */
	int         done;
	const char *reason;
};

/* Feed buf in pieces of 1 + (hash-driven) bytes; step 0 means whole. */
static struct verdict
feed(const char *buf, size_t len, const struct http_limits *lim, uint32_t seed, int step)
{
	struct http_chunked c;
	struct verdict v = { 0, 0, NULL };
	size_t off = 0;

	http_chunked_init(&c, lim);
	while (off < len && !v.done) {
		size_t n = len - off;
		long r;

		if (step == 1) {
			n = 1;
		} else if (step > 1) {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % (unsigned)step;
			if (n > len - off)
				n = len - off;
		}
		r = http_chunked_scan(&c, buf + off, n, &v.done);
		if (r == HTTP_ERROR) {
			CHECK(c.reason != NULL);
			v.n = HTTP_ERROR;
			v.reason = c.reason;
			/* errors stick */
			CHECK(http_chunked_scan(&c, "0\r\n\r\n", 5, &v.done) == HTTP_ERROR);
			v.done = 0;
			return v;
		}
		CHECK(r >= 0 && (size_t)r <= n);
		CHECK((size_t)r == n || v.done);
		v.n += r;
		off += (size_t)r;
	}
	if (v.done) {
		int d;
		CHECK(http_chunked_scan(&c, buf, len, &d) == 0 && d == 1);
	}
	return v;
}

static void
same(struct verdict x, struct verdict y)
{
	CHECK(x.n == y.n && x.done == y.done);
	CHECK((x.reason == NULL) == (y.reason == NULL));
	if (x.reason != NULL)
		CHECK(strcmp(x.reason, y.reason) == 0);
}

static void
check(const char *buf, size_t len, const struct http_limits *lim, uint32_t h)
{
	struct verdict w = feed(buf, len, lim, h, 0);

	same(w, feed(buf, len, lim, h, 1));
	same(w, feed(buf, len, lim, h, 7));
	same(w, feed(buf, len, lim, h ^ 0x9e3779b9u, 64));
	if (w.done) {
		CHECK(w.n >= 5 && (size_t)w.n <= len);
		CHECK(buf[w.n - 1] == '\n' && buf[w.n - 2] == '\r');
		same(w, feed(buf, (size_t)w.n, lim, h, 0));
	} else if (w.n >= 0) {
		CHECK((size_t)w.n == len);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct http_limits small = { 16, 40, 8 };
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	check((const char *)data, size, NULL, h);
	check((const char *)data, size, &small, h);
	return 0;
}
