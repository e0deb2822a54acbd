/* SPDX-License-Identifier: ISC */
/*
 * test_http_response: response heads (src/lib/http.c, src/lib/http_frame.c) and
 * the helpers of src/lib/http_util.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/http.h"

static struct http_response res;

static const struct http_limits deflim = { 8192, 16384, 100 };

static int
parse_h(const char *s, int head)
{
	return http_parse_response(s, strlen(s), &deflim, head, &res);
}

static void
ok_h(const char *s, int head)
{
	int n = parse_h(s, head);

	if (n != (int)strlen(s))
		fail_msg("%s: got %d (%s)", s, n, res.reason ? res.reason : "-");
}

static void
ok(const char *s)
{
	ok_h(s, 0);
}

static void
refused(const char *s, const char *reason)
{
	int rc = parse_h(s, 0);

	if (rc != HTTP_ERROR)
		fail_msg("%s: got %d, want error %s", s, rc, reason);
	assert_int_equal(res.status, 502);
	assert_string_equal(res.reason, reason);
}

static void
test_simple_200(void **st)
{
	(void)st;
	ok("HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX: y\r\n\r\n");
	assert_int_equal(res.code, 200);
	assert_int_equal(res.minor, 1);
	assert_int_equal(res.phrase_len, 2);
	assert_memory_equal(res.phrase, "OK", 2);
	assert_int_equal(res.nheaders, 2);
	assert_int_equal(res.body, HTTP_BODY_LENGTH);
	assert_int_equal(res.content_length, 12);
	assert_int_equal(res.flags, HTTP_F_KEEPALIVE);
	assert_int_equal(res.status, 0);
}

static void
test_chunked_response(void **st)
{
	(void)st;
	ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	assert_int_equal(res.body, HTTP_BODY_CHUNKED);
	assert_true(res.flags & HTTP_F_KEEPALIVE);
}

static void
test_eof_body(void **st)
{
	(void)st;
	ok("HTTP/1.1 200 OK\r\n\r\n");
	assert_int_equal(res.body, HTTP_BODY_EOF);
	assert_int_equal(res.flags & HTTP_F_KEEPALIVE, 0);
	ok("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n");
	assert_int_equal(res.body, HTTP_BODY_EOF);
	assert_int_equal(res.flags, 0);
}

static void
test_no_body_codes(void **st)
{
	static const char *heads[] = {
		"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\n",
		"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
	};

	(void)st;
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		ok(heads[i]);
		assert_int_equal(res.body, HTTP_BODY_NONE);
		assert_int_equal(res.content_length, 0);
	}
	ok("HTTP/1.1 204 No Content\r\n\r\n");
	assert_true(res.flags & HTTP_F_KEEPALIVE);
}

static void
test_head_response(void **st)
{
	(void)st;
	ok_h("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", 1);
	assert_int_equal(res.body, HTTP_BODY_NONE);
	assert_true(res.flags & HTTP_F_KEEPALIVE);
	ok_h("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 1);
	assert_int_equal(res.body, HTTP_BODY_NONE);
	/* without a length a HEAD response still ends at its head */
	ok_h("HTTP/1.1 200 OK\r\n\r\n", 1);
	assert_int_equal(res.body, HTTP_BODY_NONE);
	assert_true(res.flags & HTTP_F_KEEPALIVE);
}

static void
test_switching_protocols(void **st)
{
	(void)st;
	ok("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
	assert_int_equal(res.code, 101);
	assert_int_equal(res.flags, HTTP_F_UPGRADE);
	assert_int_equal(res.body, HTTP_BODY_NONE);
}

static void
test_response_keepalive(void **st)
{
	(void)st;
	ok("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(res.flags, 0);
	ok("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(res.flags, 0);
	ok("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(res.flags, HTTP_F_KEEPALIVE);
}

static void
test_phrase(void **st)
{
	(void)st;
	ok("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(res.phrase_len, 0);
	ok("HTTP/1.1 204\r\n\r\n");
	assert_int_equal(res.code, 204);
	assert_int_equal(res.phrase_len, 0);
	ok("HTTP/1.1 404 Not \tFound \xe2\x9c\x97\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(res.phrase_len, 14);
	refused("HTTP/1.1 200 O\x01K\r\n\r\n", "invalid reason phrase");
}

static void
test_invalid_status_code(void **st)
{
	static const char *bad[] = {
		"HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 099 X\r\n\r\n",
		"HTTP/1.1 600 X\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1  200 OK\r\n\r\n",
		"HTTP/1.1 20x OK\r\n\r\n", "HTTP/1.1 -20 OK\r\n\r\n",
	};

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i], "invalid status code");
}

static void
test_response_version(void **st)
{
	(void)st;
	refused("HTTP/2.0 200 OK\r\n\r\n", "unsupported http version");
	refused("HTTP/1.2 200 OK\r\n\r\n", "unsupported http version");
	refused("HTTP/1.1x 200 OK\r\n\r\n", "invalid http version");
	refused("http/1.1 200 OK\r\n\r\n", "invalid http version");
	refused("ICY 200 OK\r\n\r\n", "invalid http version");
	refused("HTTP/1.1\r\n\r\n", "invalid status line");
	refused("\r\nHTTP/1.1 200 OK\r\n\r\n", "invalid status line");
}

static void
test_response_framing_errors(void **st)
{
	(void)st;
	refused("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
	        "both content-length and transfer-encoding");
	refused("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
	        "duplicate content-length");
	refused("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n", "invalid content-length");
	refused("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid content-length");
	refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	        "unsupported transfer-encoding");
	refused("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	        "transfer-encoding on http/1.0");
	/* checked even where no body follows */
	refused("HTTP/1.1 204 No Content\r\nContent-Length: x\r\n\r\n", "invalid content-length");
}

static void
test_response_syntax_errors(void **st)
{
	(void)st;
	refused("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", "obs-fold");
	refused("HTTP/1.1 200 OK\nX: a\r\n\r\n", "bare lf");
	refused("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", "bare cr");
	refused("HTTP/1.1 200 OK\r\nX : a\r\n\r\n", "whitespace before colon");
	refused("HTTP/1.1 200 OK\r\nX@: a\r\n\r\n", "invalid header name");
}

static void
test_response_limits(void **st)
{
	static char b[600];
	struct http_limits lim = { 40, 200, 3 };
	int n;

	(void)st;
	/* status line: 40 bytes ok, 41 too long */
	n = sprintf(b, "HTTP/1.1 200 %027d\r\n\r\n", 0);
	assert_int_equal(http_parse_response(b, (size_t)n, &lim, 0, &res), n);
	n = sprintf(b, "HTTP/1.1 200 %028d\r\n\r\n", 0);
	assert_int_equal(http_parse_response(b, (size_t)n, &lim, 0, &res), HTTP_ERROR);
	assert_int_equal(res.status, 502);
	assert_string_equal(res.reason, "status line too long");

	n = sprintf(b, "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
	assert_int_equal(http_parse_response(b, (size_t)n, &lim, 0, &res), HTTP_ERROR);
	assert_string_equal(res.reason, "too many headers");

	memset(b, 'x', sizeof(b));
	memcpy(b, "HTTP/1.1 200 OK\r\nA: ", 20);
	assert_int_equal(http_parse_response(b, 201, &lim, 0, &res), HTTP_ERROR);
	assert_int_equal(res.status, 502);
	assert_string_equal(res.reason, "header too large");
	assert_int_equal(http_parse_response(b, 200, &lim, 0, &res), HTTP_INCOMPLETE);
}

static void
test_response_prefixes(void **st)
{
	static const char *heads[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n",
		"HTTP/1.1 204\r\n\r\n",
		"HTTP/1.0 301 Moved\r\nLocation: /x\r\n\r\n",
	};

	(void)st;
	for (size_t k = 0; k < sizeof(heads) / sizeof(heads[0]); k++) {
		size_t n = strlen(heads[k]);

		for (size_t i = 0; i < n; i++) {
			int rc = http_parse_response(heads[k], i, &deflim, 0, &res);
			if (rc != HTTP_INCOMPLETE)
				fail_msg("prefix %zu of %s: %d (%s)", i, heads[k], rc,
				         res.reason ? res.reason : "-");
		}
		ok(heads[k]);
	}
}

static void
test_interim_then_final(void **st)
{
	const char *s = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
	int n;

	(void)st;
	n = parse_h(s, 0);
	assert_int_equal(n, 25);
	assert_int_equal(res.code, 100);
	assert_int_equal(parse_h(s + n, 0), (int)strlen(s) - n - 2);
	assert_int_equal(res.code, 200);
	assert_int_equal(res.content_length, 2);
}

/* ---- http_util ------------------------------------------------------- */

static void
test_header_find(void **st)
{
	struct http_header h[2] = {
		{ "Host", 4, "a", 1 },
		{ "Content-Type", 12, "text/plain", 10 },
	};

	(void)st;
	assert_ptr_equal(http_header_find(h, 2, "content-type"), &h[1]);
	assert_ptr_equal(http_header_find(h, 2, "HOST"), &h[0]);
	assert_null(http_header_find(h, 2, "content"));
	assert_null(http_header_find(h, 2, "hostx"));
	assert_null(http_header_find(h, 0, "host"));
}

static void
test_token_list(void **st)
{
	(void)st;
	assert_true(http_token_list_has("close", 5, "close"));
	assert_true(http_token_list_has("Keep-Alive, Upgrade", 19, "upgrade"));
	assert_true(http_token_list_has(" , ,upgrade\t, ", 14, "upgrade"));
	assert_false(http_token_list_has("upgraded", 8, "upgrade"));
	assert_true(http_upgrade_has_h2c("h2c", 3));
	assert_true(http_upgrade_has_h2c("websocket, H2C/2 ,x", 19));
	assert_true(http_upgrade_has_h2c(" ,h2c\t", 6));
	assert_false(http_upgrade_has_h2c("h2cx, websocket", 15));
	assert_false(http_upgrade_has_h2c("websocket/h2c", 13));
	assert_false(http_upgrade_has_h2c("", 0));
	assert_false(http_token_list_has("xclose", 6, "close"));
	assert_false(http_token_list_has("", 0, "close"));
	assert_false(http_token_list_has("close", 4, "close"));   /* length honoured */
	assert_false(http_token_list_has("a b", 3, "a"));
}

static void
test_status_text(void **st)
{
	(void)st;
	assert_string_equal(http_status_text(200), "OK");
	assert_string_equal(http_status_text(400), "Bad Request");
	assert_string_equal(http_status_text(414), "URI Too Long");
	assert_string_equal(http_status_text(417), "Expectation Failed");
	assert_string_equal(http_status_text(431), "Request Header Fields Too Large");
	assert_string_equal(http_status_text(501), "Not Implemented");
	assert_string_equal(http_status_text(502), "Bad Gateway");
	assert_string_equal(http_status_text(505), "HTTP Version Not Supported");
	assert_string_equal(http_status_text(599), "Internal Server Error");
	assert_string_equal(http_status_text(42), "Unknown");
	assert_string_equal(http_status_text(600), "Unknown");
}

static void
test_authority(void **st)
{
	(void)st;
	assert_true(http_authority_valid("api", 3, 0));
	assert_false(http_authority_valid("api", 3, 1));
	assert_true(http_authority_valid("api:1", 5, 1));
	assert_false(http_authority_valid("", 0, 0));
	assert_false(http_authority_valid(":80", 3, 0));
	assert_true(http_authority_equal("API:80", 6, "api", 3));
	assert_true(http_authority_equal("[::1]", 5, "[::1]:80", 8));
	assert_false(http_authority_equal("api", 3, "ap", 2));
	assert_false(http_authority_equal("api:8080", 8, "api:8081", 8));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_200),
		cmocka_unit_test(test_chunked_response),
		cmocka_unit_test(test_eof_body),
		cmocka_unit_test(test_no_body_codes),
		cmocka_unit_test(test_head_response),
		cmocka_unit_test(test_switching_protocols),
		cmocka_unit_test(test_response_keepalive),
		cmocka_unit_test(test_phrase),
		cmocka_unit_test(test_invalid_status_code),
		cmocka_unit_test(test_response_version),
		cmocka_unit_test(test_response_framing_errors),
		cmocka_unit_test(test_response_syntax_errors),
		cmocka_unit_test(test_response_limits),
		cmocka_unit_test(test_response_prefixes),
		cmocka_unit_test(test_interim_then_final),
		cmocka_unit_test(test_header_find),
		cmocka_unit_test(test_token_list),
		cmocka_unit_test(test_status_text),
		cmocka_unit_test(test_authority),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
