/* SPDX-License-Identifier: ISC */
/*
 * test_http: request head syntax, limits and incremental parsing
 * (src/lib/http.c).
 * What a head means (framing, Host, targets) is in test_http_frame.c;
 * responses in test_http_response.c, chunked bodies in
 * test_http_chunked.c.
 */
#include "test_http_req.h"

/* Every strict prefix of s is HTTP_INCOMPLETE; s itself parses. */
static void
all_prefixes_incomplete(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		int rc = parse_n(s, i);
		if (rc != HTTP_INCOMPLETE)
			fail_msg("prefix %zu of %s: got %d (%s)", i, s, rc,
			         req.reason ? req.reason : "-");
	}
	ok(s);
}

/* ---- basics ---------------------------------------------------------- */

static void
test_simple_get(void **st)
{
	const char *s = "GET /a/b?c=d HTTP/1.1\r\nHost: api\r\nAccept: */*\r\n\r\n";

	(void)st;
	assert_int_equal(parse(s), (int)strlen(s));
	assert_field(req.method, req.method_len, "GET");
	assert_field(req.target, req.target_len, "/a/b?c=d");
	assert_field(req.path, req.path_len, "/a/b?c=d");
	assert_field(req.authority, req.authority_len, "api");
	assert_int_equal(req.minor, 1);
	assert_int_equal(req.nheaders, 2);
	assert_field(req.headers[1].name, req.headers[1].name_len, "Accept");
	assert_field(req.headers[1].value, req.headers[1].value_len, "*/*");
	assert_int_equal(req.body, HTTP_BODY_NONE);
	assert_int_equal(req.flags, HTTP_F_KEEPALIVE);
	assert_int_equal(req.status, 0);
	assert_null(req.reason);
	/* pointers are into the caller's buffer */
	assert_ptr_equal(req.method, s);
}

static void
test_values_trimmed(void **st)
{
	(void)st;
	ok("GET / HTTP/1.1\r\nHost:api\r\nA: \t x y \t\r\nB:\r\nC:   \r\n\r\n");
	assert_field(req.headers[0].value, req.headers[0].value_len, "api");
	assert_field(req.headers[1].value, req.headers[1].value_len, "x y");
	assert_int_equal(req.headers[2].value_len, 0);
	assert_int_equal(req.headers[3].value_len, 0);
	/* obs-text is allowed in values */
	ok("GET / HTTP/1.1\r\nHost: api\r\nX: caf\xc3\xa9\r\n\r\n");
}

static void
test_null_limits_and_empty(void **st)
{
	const char *s = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

	(void)st;
	assert_int_equal(http_parse_request(s, strlen(s), NULL, &req), (int)strlen(s));
	assert_int_equal(parse_n("", 0), HTTP_INCOMPLETE);
}

/* ---- request line ---------------------------------------------------- */

static void
test_invalid_target(void **st)
{
	(void)st;
	refused("GET x HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
	refused("GET /a#frag HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
	refused("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
	refused("GET /a\tb HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
	refused_n("GET /a\0 HTTP/1.1\r\nHost: api\r\n\r\n", 30, 400, "invalid request target");
	/* raw delimiters some clients send are accepted */
	ok("GET /a|b{c}?x=\"y\" HTTP/1.1\r\nHost: api\r\n\r\n");
}

static void
test_version_505(void **st)
{
	(void)st;
	refused("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505, "unsupported http version");
	refused("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "unsupported http version");
	refused("GET / HTTP/0.9\r\n\r\n", 505, "unsupported http version");
	refused("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "unsupported http version");
}

static void
test_version_400(void **st)
{
	(void)st;
	refused("GET /\r\n", 400, "missing http version");
	refused("GET / http/1.1\r\nHost: a\r\n\r\n", 400, "invalid http version");
	refused("GET / HTTP/1\r\nHost: a\r\n\r\n", 400, "invalid http version");
	refused("GET / HTTP/1.1x\r\nHost: a\r\n\r\n", 400, "invalid http version");
	refused("GET / HTTP/11.1\r\nHost: a\r\n\r\n", 400, "invalid http version");
	refused("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, "invalid http version");
	refused("GET / \r\nHost: a\r\n\r\n", 400, "invalid http version");
}

static void
test_request_line_spaces(void **st)
{
	(void)st;
	refused("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid request target");
	refused("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid http version");
	refused(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid request line");
	refused("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid method");
	refused("GET\r\n\r\n", 400, "invalid method");
}

static void
test_invalid_method(void **st)
{
	(void)st;
	refused("G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid method");
	refused("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid method");
	/* early: the rest of the line need not have arrived */
	refused("\x16\x03\x01\x02", 400, "invalid request line");
	refused("G{", 400, "invalid method");
	/* methods are case-sensitive tokens; unknown ones are fine here */
	ok("get / HTTP/1.1\r\nHost: a\r\n\r\n");
	ok("M-SEARCH! / HTTP/1.1\r\nHost: a\r\n\r\n");
}

/* ---- line endings and field syntax ----------------------------------- */

static void
test_bare_lf(void **st)
{
	(void)st;
	refused("GET / HTTP/1.1\nHost: a\r\n\r\n", 400, "bare lf");
	refused("GET / HTTP/1.1\r\nHost: a\n\r\n", 400, "bare lf");
	refused("GET / HTTP/1.1\r\nHost: a\r\n\n", 400, "bare lf");
	refused("GET /\n", 400, "bare lf");
	refused("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bare lf");
	refused("GET / HTTP/1.1\r\nX\n: a\r\n\r\n", 400, "bare lf");
}

static void
test_bare_cr(void **st)
{
	(void)st;
	refused("GET / HTTP/1.1\rHost: a\r\n\r\n", 400, "bare cr");
	refused("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400, "bare cr");
	refused("GET / HTTP/1.1\r\nHost: a\r\n\rX", 400, "bare cr");
	refused("GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bare cr");
	refused("GET / HTTP/1.1\r\nX\rY: a\r\n\r\n", 400, "bare cr");
	/* a CR at the end of the input might still be a CRLF */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r"), HTTP_INCOMPLETE);
	assert_int_equal(parse("GET / HTTP/1.1\r"), HTTP_INCOMPLETE);
}

static void
test_obs_fold(void **st)
{
	(void)st;
	refused("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", 400, "obs-fold");
	refused("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n", 400, "obs-fold");
	refused("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400, "whitespace after start line");
	/* decided at the first byte of the line */
	refused("GET / HTTP/1.1\r\nHost: a\r\n ", 400, "obs-fold");
}

static void
test_whitespace_before_colon(void **st)
{
	(void)st;
	refused("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "whitespace before colon");
	refused("GET / HTTP/1.1\r\nHost: a\r\nX\t: b\r\n\r\n", 400, "whitespace before colon");
	refused("GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n", 400, "whitespace before colon");
}

static void
test_invalid_header_name(void **st)
{
	(void)st;
	refused("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400, "invalid header name");
	refused("GET / HTTP/1.1\r\nHost: a\r\nX(y): b\r\n\r\n", 400, "invalid header name");
	refused("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400, "invalid header name");
	refused("GET / HTTP/1.1\r\nHost: a\r\nX/Y: b\r\n\r\n", 400, "invalid header name");
	refused("GET / HTTP/1.1\r\nHost: a\r\nCaf\xc3\xa9: b\r\n\r\n", 400, "invalid header name");
}

static void
test_invalid_header_value(void **st)
{
	static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";

	(void)st;
	refused_n(nul, sizeof(nul) - 1, 400, "invalid header value");
	refused("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n", 400, "invalid header value");
	refused("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", 400, "invalid header value");
	refused("GET / HTTP/1.1\r\nHost: a\r\nX: \x1b[31m\r\n\r\n", 400, "invalid header value");
}

static void
test_leading_crlf(void **st)
{
	const char *s = "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";

	(void)st;
	assert_int_equal(parse(s), (int)strlen(s));
	assert_ptr_equal(req.method, s + 2);
	refused("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid request line");
	refused("\r\rGET", 400, "bare cr");
	assert_int_equal(parse("\r"), HTTP_INCOMPLETE);
	assert_int_equal(parse("\r\n"), HTTP_INCOMPLETE);
	assert_int_equal(parse("\r\n\r"), HTTP_INCOMPLETE);
}

/* ---- limits ---------------------------------------------------------- */

/* "GET /aaa...a HTTP/1.1" of exactly n bytes (n >= 16) into b. */
static size_t
long_line(char *b, size_t n)
{
	size_t t = n - 13;   /* "GET " + " HTTP/1.1" */

	memcpy(b, "GET /", 5);
	memset(b + 5, 'a', t - 1);
	memcpy(b + 4 + t, " HTTP/1.1", 9);
	return n;
}

static void
test_line_limit_boundary(void **st)
{
	static char b[512];
	struct http_limits lim = { 100, 4096, 10 };
	size_t n;

	(void)st;
	n = long_line(b, 100);
	memcpy(b + n, "\r\nHost: a\r\n\r\n", 13);
	assert_int_equal(http_parse_request(b, n + 13, &lim, &req), (int)n + 13);
	/* exactly line_bytes without its CRLF yet: might still be fine */
	assert_int_equal(http_parse_request(b, n, &lim, &req), HTTP_INCOMPLETE);
	assert_int_equal(http_parse_request(b, n + 1, &lim, &req), HTTP_INCOMPLETE);

	n = long_line(b, 101);
	memcpy(b + n, "\r\nHost: a\r\n\r\n", 13);
	assert_int_equal(http_parse_request(b, n + 13, &lim, &req), HTTP_ERROR);
	assert_int_equal(req.status, 414);
	assert_string_equal(req.reason, "request line too long");
}

static void
test_line_limit_incomplete(void **st)
{
	static char b[512];
	struct http_limits lim = { 100, 4096, 10 };

	(void)st;
	memcpy(b, "GET /", 5);
	memset(b + 5, 'a', 200);
	/* 100 bytes without CRLF: still incomplete; 101: already too long */
	assert_int_equal(http_parse_request(b, 100, &lim, &req), HTTP_INCOMPLETE);
	assert_int_equal(http_parse_request(b, 101, &lim, &req), HTTP_ERROR);
	assert_int_equal(req.status, 414);
	/* a long method too */
	memset(b, 'G', 200);
	assert_int_equal(http_parse_request(b, 101, &lim, &req), HTTP_ERROR);
	assert_int_equal(req.status, 414);
}

/* A request with `extra` filler bytes in one header, total exactly n. */
static size_t
sized_request(char *b, size_t n)
{
	const char *head = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
	size_t h = strlen(head), fill = n - h - 4;

	memcpy(b, head, h);
	memset(b + h, 'x', fill);
	memcpy(b + h + fill, "\r\n\r\n", 4);
	return n;
}

static void
test_header_bytes_boundary(void **st)
{
	static char b[1024];
	struct http_limits lim = { 100, 300, 10 };

	(void)st;
	sized_request(b, 300);
	assert_int_equal(http_parse_request(b, 300, &lim, &req), 300);
	/* with more bytes after it (a body): still fine */
	b[300] = 'Z';
	assert_int_equal(http_parse_request(b, 301, &lim, &req), 300);

	sized_request(b, 301);
	assert_int_equal(http_parse_request(b, 301, &lim, &req), HTTP_ERROR);
	assert_int_equal(req.status, 431);
	assert_string_equal(req.reason, "header too large");
	/* incomplete, and already over */
	assert_int_equal(http_parse_request(b, 300, &lim, &req), HTTP_INCOMPLETE);
	memset(b + 200, 'x', 200);
	assert_int_equal(http_parse_request(b, 301, &lim, &req), HTTP_ERROR);
	assert_int_equal(req.status, 431);
}

static void
test_header_bytes_counts_leading_crlf(void **st)
{
	const char *s = "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
	struct http_limits lim = { 100, (uint32_t)strlen(s), 10 };

	(void)st;
	assert_int_equal(http_parse_request(s, strlen(s), &lim, &req), (int)strlen(s));
	lim.header_bytes--;
	assert_int_equal(http_parse_request(s, strlen(s), &lim, &req), HTTP_ERROR);
	assert_int_equal(req.status, 431);
}

static size_t
many_headers(char *b, size_t nh)
{
	size_t n = (size_t)sprintf(b, "GET / HTTP/1.1\r\nHost: a\r\n");

	for (size_t i = 1; i < nh; i++)
		n += (size_t)sprintf(b + n, "X%zu: %zu\r\n", i, i);
	n += (size_t)sprintf(b + n, "\r\n");
	return n;
}

static void
test_max_headers_boundary(void **st)
{
	static char b[8192];
	struct http_limits lim = { 100, 8192, 10 };
	size_t n;

	(void)st;
	n = many_headers(b, 10);
	assert_int_equal(http_parse_request(b, n, &lim, &req), (int)n);
	assert_int_equal(req.nheaders, 10);
	n = many_headers(b, 11);
	assert_int_equal(http_parse_request(b, n, &lim, &req), HTTP_ERROR);
	assert_int_equal(req.status, 431);
	assert_string_equal(req.reason, "too many headers");
	/* at the first byte of the 11th field, before its line is complete */
	n = many_headers(b, 10) - 2;
	memcpy(b + n, "Y", 1);
	assert_int_equal(http_parse_request(b, n + 1, &lim, &req), HTTP_ERROR);
	assert_int_equal(req.status, 431);
	assert_int_equal(http_parse_request(b, n, &lim, &req), HTTP_INCOMPLETE);
}

static void
test_max_headers_capped(void **st)
{
	static char b[16384];
	struct http_limits lim = { 100, 16384, 1000 };
	size_t n;

	(void)st;
	n = many_headers(b, HTTP_MAX_HEADERS);
	assert_int_equal(http_parse_request(b, n, &lim, &req), (int)n);
	n = many_headers(b, HTTP_MAX_HEADERS + 1);
	assert_int_equal(http_parse_request(b, n, &lim, &req), HTTP_ERROR);
	assert_int_equal(req.status, 431);
}

static void
test_zero_limits(void **st)
{
	struct http_limits lim = { 0, 16384, 0 };

	(void)st;
	assert_int_equal(http_parse_request("G", 1, &lim, &req), HTTP_ERROR);
	assert_int_equal(req.status, 414);
	lim.line_bytes = 100;
	assert_int_equal(http_parse_request("GET / HTTP/1.0\r\n\r\n", 18, &lim, &req), 18);
	assert_int_equal(http_parse_request("GET / HTTP/1.0\r\nX", 17, &lim, &req), HTTP_ERROR);
	assert_int_equal(req.status, 431);
}

static void
test_header_bytes_over_int_max(void **st)
{
	struct http_limits lim = { 8192, UINT32_MAX, 100 };
	const char *s = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

	(void)st;
	assert_int_equal(http_parse_request(s, strlen(s), &lim, &req), (int)strlen(s));
}

/* ---- incremental and pipelined --------------------------------------- */

static void
test_prefixes_get(void **st)
{
	(void)st;
	all_prefixes_incomplete("GET /a?b=c HTTP/1.1\r\nHost: api\r\nAccept: */*\r\nX:\r\n\r\n");
	all_prefixes_incomplete("\r\nGET / HTTP/1.0\r\n\r\n");
}

static void
test_prefixes_post(void **st)
{
	(void)st;
	all_prefixes_incomplete("POST /echo HTTP/1.1\r\nHost: api:8080\r\nTransfer-Encoding: chunked\r\n"
	                        "Expect: 100-continue\r\nConnection: keep-alive\r\n\r\n");
	all_prefixes_incomplete("PUT http://api/x HTTP/1.1\r\nHost: api\r\nContent-Length: 10\r\n\r\n");
	all_prefixes_incomplete("CONNECT api:443 HTTP/1.1\r\nHost: api:443\r\n\r\n");
	all_prefixes_incomplete("OPTIONS * HTTP/1.1\r\nHost: api\r\n\r\n");
}

/* Every prefix of a refused request is incomplete or the same refusal. */
static void
test_prefixes_of_errors(void **st)
{
	static const char *bad[] = {
		"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
		"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
		"GET /\r\n\r\n",
	};

	(void)st;
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		size_t n = strlen(bad[k]);
		int status;
		const char *reason;

		assert_int_equal(parse(bad[k]), HTTP_ERROR);
		status = req.status;
		reason = req.reason;
		for (size_t i = 0; i < n; i++) {
			int rc = parse_n(bad[k], i);
			if (rc == HTTP_ERROR) {
				assert_int_equal(req.status, status);
				assert_string_equal(req.reason, reason);
			} else {
				assert_int_equal(rc, HTTP_INCOMPLETE);
			}
		}
	}
}

static void
test_pipelined(void **st)
{
	const char *a = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
	const char *s = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: b\r\n\r\n";
	int n;

	(void)st;
	n = parse(s);
	assert_int_equal(n, (int)strlen(a));
	assert_field(req.path, req.path_len, "/1");
	assert_int_equal(parse(s + n), (int)strlen(s) - n);
	assert_field(req.path, req.path_len, "/2");
	assert_field(req.authority, req.authority_len, "b");
	/* the second head is not looked at: even garbage after the first */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n\x01\x02\n\r"), (int)strlen(a) - 1);
}

static void
test_body_not_examined(void **st)
{
	static const char s[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n\0\r\n\n";

	(void)st;
	assert_int_equal(parse_n(s, sizeof(s) - 1), (int)sizeof(s) - 5);
	assert_int_equal(req.content_length, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_get),
		cmocka_unit_test(test_values_trimmed),
		cmocka_unit_test(test_null_limits_and_empty),
		cmocka_unit_test(test_invalid_target),
		cmocka_unit_test(test_version_505),
		cmocka_unit_test(test_version_400),
		cmocka_unit_test(test_request_line_spaces),
		cmocka_unit_test(test_invalid_method),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_bare_cr),
		cmocka_unit_test(test_obs_fold),
		cmocka_unit_test(test_whitespace_before_colon),
		cmocka_unit_test(test_invalid_header_name),
		cmocka_unit_test(test_invalid_header_value),
		cmocka_unit_test(test_leading_crlf),
		cmocka_unit_test(test_line_limit_boundary),
		cmocka_unit_test(test_line_limit_incomplete),
		cmocka_unit_test(test_header_bytes_boundary),
		cmocka_unit_test(test_header_bytes_counts_leading_crlf),
		cmocka_unit_test(test_max_headers_boundary),
		cmocka_unit_test(test_max_headers_capped),
		cmocka_unit_test(test_zero_limits),
		cmocka_unit_test(test_header_bytes_over_int_max),
		cmocka_unit_test(test_prefixes_get),
		cmocka_unit_test(test_prefixes_post),
		cmocka_unit_test(test_prefixes_of_errors),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_body_not_examined),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
