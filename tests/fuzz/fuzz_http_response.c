/* SPDX-License-Identifier: ISC */
/*
 * fuzz_http_response: http_parse_response on any bytes, as a response to
 * GET and to HEAD, keeps its contract:
 *  - > 0 (at most the input and header_bytes), INCOMPLETE, or ERROR
 *    with status 502 and a reason;
 *  - on success fields point into the consumed head, the consumed prefix
 *    alone parses the same, a shorter prefix is INCOMPLETE;
 *  - a prefix of any input is INCOMPLETE or the same verdict;
 *  - the body rules: HEAD, 1xx, 204, 304 have none; EOF is never
 *    persistent; 101 is UPGRADE; and the HEAD verdict differs from the
 *    GET one only in the body.
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

static const struct http_limits lim = { 64, 300, 8 };

static struct http_response a, b, g;

static int
inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && p + n <= buf + len;
}

static void
same_head(const struct http_response *x, const struct http_response *y)
{
	CHECK(x->code == y->code && x->minor == y->minor);
	CHECK(x->phrase == y->phrase && x->phrase_len == y->phrase_len);
	CHECK(x->nheaders == y->nheaders);
	CHECK(x->body == y->body && x->content_length == y->content_length);
	CHECK(x->flags == y->flags);
	for (size_t i = 0; i < x->nheaders; i++) {
		CHECK(x->headers[i].name == y->headers[i].name);
		CHECK(x->headers[i].value == y->headers[i].value);
		CHECK(x->headers[i].value_len == y->headers[i].value_len);
	}
}

static void
prefix_agrees(const char *buf, size_t n, int head, int rc, const struct http_response *ref)
{
	int p = http_parse_response(buf, n, &lim, head, &b);

	if (p == HTTP_INCOMPLETE)
		return;
	CHECK(p == rc);
	if (p == HTTP_ERROR)
		CHECK(b.status == 502 && strcmp(b.reason, ref->reason) == 0);
	else
		same_head(ref, &b);
}

static int
check(const char *buf, size_t len, int head, uint32_t h)
{
	int rc = http_parse_response(buf, len, &lim, head, &a);
	size_t r;

	CHECK(rc == HTTP_INCOMPLETE || rc == HTTP_ERROR || rc > 0);
	if (rc == HTTP_INCOMPLETE) {
		CHECK(len <= lim.header_bytes);
		return rc;
	}
	if (rc == HTTP_ERROR) {
		CHECK(a.status == 502 && a.reason != NULL && a.reason[0] != '\0');
		if (len > 0) {
			prefix_agrees(buf, len - 1, head, rc, &a);
			prefix_agrees(buf, h % len, head, rc, &a);
		}
		return rc;
	}

	r = (size_t)rc;
	CHECK(r <= len && r <= lim.header_bytes);
	CHECK(a.code >= 100 && a.code <= 599);
	CHECK(a.minor == 0 || a.minor == 1);
	CHECK(inside(a.phrase, a.phrase_len, buf, r));
	CHECK(a.nheaders <= lim.max_headers);
	for (size_t i = 0; i < a.nheaders; i++) {
		CHECK(inside(a.headers[i].name, a.headers[i].name_len, buf, r));
		CHECK(inside(a.headers[i].value, a.headers[i].value_len, buf, r));
	}
	if (head || a.code < 200 || a.code == 204 || a.code == 304)
		CHECK(a.body == HTTP_BODY_NONE);
	if (a.body == HTTP_BODY_EOF)
		CHECK(!(a.flags & HTTP_F_KEEPALIVE));
	CHECK(!!(a.flags & HTTP_F_UPGRADE) == (a.code == 101));
	CHECK(a.body == HTTP_BODY_LENGTH || a.content_length == 0);
	CHECK(buf[r - 1] == '\n' && buf[r - 2] == '\r');

	CHECK(http_parse_response(buf, r, &lim, head, &b) == rc);
	same_head(&a, &b);
	CHECK(http_parse_response(buf, r - 1, &lim, head, &b) == HTTP_INCOMPLETE);
	CHECK(http_parse_response(buf, h % r, &lim, head, &b) == HTTP_INCOMPLETE);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	uint32_t h = 2166136261u;
	int rg, rh;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;

	rg = check(buf, size, 0, h);
	g = a;
	rh = check(buf, size, 1, h);
	CHECK(rg == rh);
	if (rg > 0) {
		CHECK(g.code == a.code && g.nheaders == a.nheaders);
		CHECK((g.flags & HTTP_F_UPGRADE) == (a.flags & HTTP_F_UPGRADE));
	} else if (rg == HTTP_ERROR) {
		CHECK(strcmp(g.reason, a.reason) == 0);
	}
	return 0;
}
