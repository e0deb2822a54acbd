/* SPDX-License-Identifier: ISC */
/*
 * fuzz_http_request: http_parse_request never reads outside its input and
 * keeps its contract on any bytes:
 *  - the result is > 0 (at most the input and header_bytes), INCOMPLETE,
 *    or ERROR with a status and reason from the documented set;
 *  - on success every field points into the consumed head (or to a
 *    static "", "/" or "*"), and parsing the consumed prefix alone gives
 *    the same head; a shorter prefix is INCOMPLETE;
 *  - a prefix of any input is INCOMPLETE or the same verdict;
 *  - limits only ever add refusals: a head accepted with small limits is
 *    accepted, identically, with large ones.
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

static const struct http_limits big = { 8192, 16384, 100 };
static const struct http_limits small = { 48, 200, 6 };

static struct http_request a, b;

static int
inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && p + n <= buf + len;
}

static int
static_or_inside(const char *p, size_t n, const char *buf, size_t len)
{
	if (inside(p, n, buf, len))
		return 1;
	/* not in the input: must be one of the parser's static strings */
	return n == 0 || (n == 1 && (*p == '/' || *p == '*'));
}

static void
same_head(const struct http_request *x, const struct http_request *y)
{
	CHECK(x->method == y->method && x->method_len == y->method_len);
	CHECK(x->target == y->target && x->target_len == y->target_len);
	CHECK(x->path_len == y->path_len && memcmp(x->path, y->path, x->path_len) == 0);
	CHECK(x->authority == y->authority && x->authority_len == y->authority_len);
	CHECK(x->minor == y->minor && x->nheaders == y->nheaders);
	CHECK(x->body == y->body && x->content_length == y->content_length);
	CHECK(x->flags == y->flags);
	for (size_t i = 0; i < x->nheaders; i++) {
		CHECK(x->headers[i].name == y->headers[i].name);
		CHECK(x->headers[i].name_len == y->headers[i].name_len);
		CHECK(x->headers[i].value == y->headers[i].value);
		CHECK(x->headers[i].value_len == y->headers[i].value_len);
	}
}

static void
valid_error(const struct http_request *r)
{
	CHECK(r->reason != NULL && r->reason[0] != '\0');
	CHECK(r->status == 400 || r->status == 414 || r->status == 417 ||
	      r->status == 431 || r->status == 501 || r->status == 505);
}

/* A prefix gives INCOMPLETE or the verdict of the whole (rc/ref). */
static void
prefix_agrees(const char *buf, size_t n, const struct http_limits *lim,
              int rc, const struct http_request *ref)
{
	int p = http_parse_request(buf, n, lim, &b);

	if (p == HTTP_INCOMPLETE)
		return;
	CHECK(p == rc);
	if (p == HTTP_ERROR) {
		CHECK(b.status == ref->status && strcmp(b.reason, ref->reason) == 0);
	} else {
		same_head(ref, &b);
	}
}

static int
check(const char *buf, size_t len, const struct http_limits *lim, uint32_t h)
{
	int rc = http_parse_request(buf, len, lim, &a);
	size_t r;

	CHECK(rc == HTTP_INCOMPLETE || rc == HTTP_ERROR || rc > 0);
	if (rc == HTTP_INCOMPLETE) {
		CHECK(len <= lim->header_bytes);
		return rc;
	}
	if (rc == HTTP_ERROR) {
		valid_error(&a);
		if (len > 0) {
			prefix_agrees(buf, len - 1, lim, rc, &a);
			prefix_agrees(buf, h % len, lim, rc, &a);
		}
		return rc;
	}

	r = (size_t)rc;
	CHECK(r <= len && r <= lim->header_bytes);
	CHECK(a.status == 0 && a.reason == NULL);
	CHECK(a.nheaders <= lim->max_headers && a.nheaders <= HTTP_MAX_HEADERS);
	CHECK(a.minor == 0 || a.minor == 1);
	CHECK(inside(a.method, a.method_len, buf, r) && a.method_len > 0);
	CHECK(inside(a.target, a.target_len, buf, r) && a.target_len > 0);
	CHECK(static_or_inside(a.path, a.path_len, buf, r));
	CHECK(static_or_inside(a.authority, a.authority_len, buf, r));
	CHECK(a.minor == 0 || a.authority_len > 0);
	for (size_t i = 0; i < a.nheaders; i++) {
		CHECK(inside(a.headers[i].name, a.headers[i].name_len, buf, r));
		CHECK(a.headers[i].name_len > 0);
		CHECK(inside(a.headers[i].value, a.headers[i].value_len, buf, r));
		CHECK(memchr(a.headers[i].value, '\r', a.headers[i].value_len) == NULL);
		CHECK(memchr(a.headers[i].value, '\n', a.headers[i].value_len) == NULL);
		CHECK(memchr(a.headers[i].value, '\0', a.headers[i].value_len) == NULL);
	}
	CHECK(a.body != HTTP_BODY_EOF);
	CHECK(a.body != HTTP_BODY_CHUNKED || a.minor == 1);
	CHECK(a.body == HTTP_BODY_LENGTH || a.content_length == 0);
	CHECK(a.content_length <= INT64_MAX);
	if (a.flags & HTTP_F_CONNECT)
		CHECK(a.body == HTTP_BODY_NONE && !(a.flags & HTTP_F_KEEPALIVE));
	CHECK(buf[r - 1] == '\n' && buf[r - 2] == '\r');

	/* the consumed prefix alone: same head; shorter: incomplete */
	CHECK(http_parse_request(buf, r, lim, &b) == rc);
	same_head(&a, &b);
	CHECK(http_parse_request(buf, r - 1, lim, &b) == HTTP_INCOMPLETE);
	CHECK(http_parse_request(buf, h % r, lim, &b) == HTTP_INCOMPLETE);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	uint32_t h = 2166136261u;
	int rs, rb;
	static struct http_request s;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;

	rs = check(buf, size, &small, h);
	if (rs > 0)
		s = a;
	rb = check(buf, size, &big, h);
	if (rs > 0) {
		CHECK(rb == rs);
		same_head(&s, &a);
	}
	return 0;
}
