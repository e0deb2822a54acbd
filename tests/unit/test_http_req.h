/* SPDX-License-Identifier: ISC */
/*
 * test_http_req.h: the request-parsing fixture test_http.c and
 * test_http_frame.c share: one static request, default limits, and
 * ok()/refused() that fail with what the parser said.
 */
#ifndef TEST_HTTP_REQ_H
#define TEST_HTTP_REQ_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/http.h"

static struct http_request req;   /* 4 KiB: not on the stack */

static const struct http_limits deflim = { 8192, 16384, 100 };

static int
parse_n(const char *s, size_t n)
{
	return http_parse_request(s, n, &deflim, &req);
}

static int
parse(const char *s)
{
	return parse_n(s, strlen(s));
}

static int
eq(const char *p, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

#define assert_field(p, n, lit) do {                                        \
	if (!eq((p), (n), (lit)))                                           \
		fail_msg("got \"%.*s\", want \"%s\"", (int)(n), (p), (lit)); \
} while (0)

/* The whole string is one request head. */
static void
ok(const char *s)
{
	int n = parse(s);

	if (n != (int)strlen(s))
		fail_msg("%s: got %d (%s)", s, n, req.reason ? req.reason : "-");
}

static void
refused_n(const char *s, size_t n, int status, const char *reason)
{
	int rc = parse_n(s, n);

	if (rc != HTTP_ERROR)
		fail_msg("%.*s: got %d, want error %d %s", (int)n, s, rc, status, reason);
	assert_int_equal(req.status, status);
	assert_string_equal(req.reason, reason);
}

static void
refused(const char *s, int status, const char *reason)
{
	refused_n(s, strlen(s), status, reason);
}

#endif
