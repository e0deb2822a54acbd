/* SPDX-License-Identifier: ISC */
/*
 * test_http_frame: what a request head means (src/lib/http_frame.c): body
 * framing, Host and target forms, Expect, persistence and upgrade.
 * Syntax and limits are in test_http.c.
 */
#include "test_http_req.h"

/* ---- persistence and upgrade ------------------------------------- */

static void
test_http10(void **st)
{
	(void)st;
	ok("GET / HTTP/1.0\r\n\r\n");
	assert_int_equal(req.minor, 0);
	assert_int_equal(req.flags, 0);
	assert_int_equal(req.authority_len, 0);
	assert_non_null(req.authority);
	ok("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: x\r\n\r\n");
	assert_int_equal(req.flags, HTTP_F_KEEPALIVE);
	assert_field(req.authority, req.authority_len, "x");
	ok("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
	assert_int_equal(req.flags, 0);
}

static void
test_connection_close(void **st)
{
	(void)st;
	ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n");
	assert_int_equal(req.flags & HTTP_F_KEEPALIVE, 0);
	/* several Connection fields make one list */
	ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo\r\nConnection: bar, close\r\n\r\n");
	assert_int_equal(req.flags & HTTP_F_KEEPALIVE, 0);
}

static void
test_upgrade(void **st)
{
	(void)st;
	ok("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n");
	assert_int_equal(req.flags, HTTP_F_KEEPALIVE | HTTP_F_UPGRADE);
	ok("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n");
	assert_int_equal(req.flags & HTTP_F_UPGRADE, 0);
	ok("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n");
	assert_int_equal(req.flags & HTTP_F_UPGRADE, 0);
	/* RFC 9110 7.8: ignored on 1.0 */
	ok("GET /ws HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n");
	assert_int_equal(req.flags & HTTP_F_UPGRADE, 0);
}

/* RFC 9113 3.1: an h2c offer is never an upgrade through the proxy, alone,
 * in a list, with a version, in any case, or in a second Upgrade field */
static void
test_upgrade_h2c_ignored(void **st)
{
	(void)st;
	ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
	   "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
	assert_int_equal(req.flags, HTTP_F_KEEPALIVE);
	ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket, H2C\r\n\r\n");
	assert_int_equal(req.flags & HTTP_F_UPGRADE, 0);
	ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: h2c/2\r\n\r\n");
	assert_int_equal(req.flags & HTTP_F_UPGRADE, 0);
	ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
	   "Upgrade: h2c\r\n\r\n");
	assert_int_equal(req.flags & HTTP_F_UPGRADE, 0);
	/* a name that only starts like it is another protocol */
	ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: h2cx\r\n\r\n");
	assert_int_equal(req.flags & HTTP_F_UPGRADE, HTTP_F_UPGRADE);
}

/* ---- body framing ------------------------------------------------ */

static void
test_content_length(void **st)
{
	(void)st;
	ok("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n");
	assert_int_equal(req.body, HTTP_BODY_LENGTH);
	assert_int_equal(req.content_length, 42);
	ok("POST /x HTTP/1.1\r\nHost: a\r\ncontent-length: 007\r\n\r\n");
	assert_int_equal(req.content_length, 7);
	ok("POST /x HTTP/1.0\r\nContent-Length: 3\r\n\r\n");
	assert_int_equal(req.body, HTTP_BODY_LENGTH);
}

static void
test_content_length_zero(void **st)
{
	(void)st;
	ok("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(req.body, HTTP_BODY_LENGTH);
	assert_int_equal(req.content_length, 0);
}

static void
test_content_length_bounds(void **st)
{
	(void)st;
	ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n");
	assert_true(req.content_length == UINT64_C(9223372036854775807));
	refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n",
	        400, "invalid content-length");
	refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
	        400, "invalid content-length");
}

static void
test_content_length_invalid(void **st)
{
	static const char *bad[] = { "", "+5", "-1", "5 5", "0x10", "5,5", "5, 5", "1e3", "5;", "\xd9\xa5" };

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char b[128];
		snprintf(b, sizeof(b), "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %s\r\n\r\n", bad[i]);
		refused(b, 400, "invalid content-length");
	}
}

static void
test_content_length_duplicate(void **st)
{
	(void)st;
	refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
	        400, "duplicate content-length");
	refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n",
	        400, "duplicate content-length");
}

static void
test_chunked(void **st)
{
	(void)st;
	ok("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
	assert_int_equal(req.body, HTTP_BODY_CHUNKED);
	ok("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  ChunKed \r\n\r\n");
	assert_int_equal(req.body, HTTP_BODY_CHUNKED);
}

static void
test_cl_and_te(void **st)
{
	(void)st;
	refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	        400, "both content-length and transfer-encoding");
	refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
	        400, "both content-length and transfer-encoding");
	refused("POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\nContent-Length: x\r\n\r\n",
	        400, "both content-length and transfer-encoding");
}

static void
test_te_unsupported(void **st)
{
	static const char *bad[] = { "gzip", "gzip, chunked", "chunked, gzip", "chunked;x=1",
	                             "chunked,", ", chunked", "", "identity", "chunkedx" };

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char b[128];
		snprintf(b, sizeof(b), "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: %s\r\n\r\n", bad[i]);
		refused(b, 501, "unsupported transfer-encoding");
	}
	refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	        501, "unsupported transfer-encoding");
}

static void
test_te_http10(void **st)
{
	(void)st;
	refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
	        400, "transfer-encoding on http/1.0");
}

/* ---- Host and targets -------------------------------------------- */

static void
test_missing_host(void **st)
{
	(void)st;
	refused("GET / HTTP/1.1\r\n\r\n", 400, "missing host");
	refused("GET / HTTP/1.1\r\nHostname: a\r\n\r\n", 400, "missing host");
}

static void
test_duplicate_host(void **st)
{
	(void)st;
	refused("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, "duplicate host");
	refused("GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n", 400, "duplicate host");
}

static void
test_invalid_host(void **st)
{
	static const char *bad[] = { "", "a b", "user@api", "api:", "api:0", "api:65536",
	                             "api:123456", "api:8o", "[::1", "[]", "[:]", "[1.2.3.4]",
	                             "a,b", "api:80:80", "a/b", "%61pi", "[::1]x", "[::g]" };

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char b[128];
		snprintf(b, sizeof(b), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", bad[i]);
		refused(b, 400, "invalid host");
	}
}

static void
test_valid_host(void **st)
{
	static const char *good[] = { "api", "API.mesh:80", "127.0.0.1:8080", "[::1]",
	                              "[::1]:8080", "[::ffff:127.0.0.1]", "a-b_c~d.e", "x:65535" };

	(void)st;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char b[128];
		snprintf(b, sizeof(b), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", good[i]);
		ok(b);
		assert_field(req.authority, req.authority_len, good[i]);
	}
}

static void
test_absolute_form(void **st)
{
	(void)st;
	ok("GET http://api/users?x=1 HTTP/1.1\r\nHost: api\r\n\r\n");
	assert_int_equal(req.flags, HTTP_F_KEEPALIVE | HTTP_F_ABSOLUTE);
	assert_field(req.authority, req.authority_len, "api");
	assert_field(req.path, req.path_len, "/users?x=1");
	assert_field(req.target, req.target_len, "http://api/users?x=1");
	ok("GET HTTP://Api.Mesh:8080/ HTTP/1.1\r\nHost: api.mesh:8080\r\n\r\n");
	assert_field(req.authority, req.authority_len, "Api.Mesh:8080");
	assert_field(req.path, req.path_len, "/");
	ok("GET http://[::1]:9/x HTTP/1.1\r\nHost: [::1]:9\r\n\r\n");
	assert_field(req.authority, req.authority_len, "[::1]:9");
}

static void
test_absolute_no_path(void **st)
{
	(void)st;
	ok("GET http://api HTTP/1.1\r\nHost: api\r\n\r\n");
	assert_field(req.path, req.path_len, "/");
	assert_field(req.authority, req.authority_len, "api");
	ok("OPTIONS http://api:8080 HTTP/1.1\r\nHost: api:8080\r\n\r\n");
	assert_field(req.path, req.path_len, "*");
}

static void
test_absolute_host_agreement(void **st)
{
	(void)st;
	ok("GET http://api/ HTTP/1.1\r\nHost: api:80\r\n\r\n");
	ok("GET http://api:80/ HTTP/1.1\r\nHost: API\r\n\r\n");
	ok("GET http://api:080/ HTTP/1.1\r\nHost: api\r\n\r\n");
	refused("GET http://api/ HTTP/1.1\r\nHost: web\r\n\r\n", 400, "host disagrees with target");
	refused("GET http://api:8080/ HTTP/1.1\r\nHost: api\r\n\r\n", 400, "host disagrees with target");
	refused("GET http://api/ HTTP/1.1\r\nHost: api:81\r\n\r\n", 400, "host disagrees with target");
	refused("GET http://api/ HTTP/1.1\r\n\r\n", 400, "missing host");
	/* 1.0 need not send Host: the target names the authority */
	ok("GET http://api/x HTTP/1.0\r\n\r\n");
	assert_field(req.authority, req.authority_len, "api");
}

static void
test_absolute_invalid(void **st)
{
	(void)st;
	refused("GET https://api/ HTTP/1.1\r\nHost: api\r\n\r\n", 400, "unsupported scheme");
	refused("GET ftp://api/ HTTP/1.1\r\nHost: api\r\n\r\n", 400, "unsupported scheme");
	refused("GET http:/api/ HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
	refused("GET http:api HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
	refused("GET http:// HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
	refused("GET http:///x HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
	refused("GET http://u:p@api/ HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
	refused("GET http://api?q=1 HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
	refused("GET http://api:99999/ HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
	refused("GET 1http://api/ HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
}

static void
test_connect(void **st)
{
	(void)st;
	ok("CONNECT api:443 HTTP/1.1\r\nHost: api:443\r\nContent-Length: 5\r\n\r\n");
	assert_int_equal(req.flags, HTTP_F_CONNECT);
	assert_int_equal(req.body, HTTP_BODY_NONE);
	assert_field(req.authority, req.authority_len, "api:443");
	assert_int_equal(req.path_len, 0);
	refused("CONNECT api HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
	refused("CONNECT / HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
	refused("CONNECT http://api:80/ HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
	refused("CONNECT api:443 HTTP/1.1\r\nHost: web:443\r\n\r\n", 400, "host disagrees with target");
	/* authority-form without CONNECT */
	refused("GET api:443 HTTP/1.1\r\nHost: api\r\n\r\n", 400, "unsupported scheme");
	refused("GET 127.0.0.1:443 HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
}

static void
test_asterisk(void **st)
{
	(void)st;
	ok("OPTIONS * HTTP/1.1\r\nHost: api\r\n\r\n");
	assert_field(req.path, req.path_len, "*");
	refused("GET * HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
	refused("OPTIONS *x HTTP/1.1\r\nHost: api\r\n\r\n", 400, "invalid request target");
}

/* ---- Expect ------------------------------------------------------ */

static void
test_expect(void **st)
{
	(void)st;
	ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
	assert_int_equal(req.flags, HTTP_F_KEEPALIVE | HTTP_F_CONTINUE);
	ok("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n\r\n");
	assert_true(req.flags & HTTP_F_CONTINUE);
	ok("POST / HTTP/1.1\r\nHost: a\r\nExpect:\r\n\r\n");
	assert_false(req.flags & HTTP_F_CONTINUE);
	refused("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417, "unsupported expectation");
	refused("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, foo\r\n\r\n", 417,
	        "unsupported expectation");
	refused("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nExpect: 100-continue\r\n\r\n",
	        417, "unsupported expectation");
	/* RFC 9110 10.1.1: ignored on 1.0 */
	ok("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");
	assert_false(req.flags & HTTP_F_CONTINUE);
	ok("POST / HTTP/1.0\r\nExpect: whatever\r\n\r\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http10),
		cmocka_unit_test(test_connection_close),
		cmocka_unit_test(test_upgrade),
		cmocka_unit_test(test_upgrade_h2c_ignored),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_content_length_zero),
		cmocka_unit_test(test_content_length_bounds),
		cmocka_unit_test(test_content_length_invalid),
		cmocka_unit_test(test_content_length_duplicate),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_cl_and_te),
		cmocka_unit_test(test_te_unsupported),
		cmocka_unit_test(test_te_http10),
		cmocka_unit_test(test_missing_host),
		cmocka_unit_test(test_duplicate_host),
		cmocka_unit_test(test_invalid_host),
		cmocka_unit_test(test_valid_host),
		cmocka_unit_test(test_absolute_form),
		cmocka_unit_test(test_absolute_no_path),
		cmocka_unit_test(test_absolute_host_agreement),
		cmocka_unit_test(test_absolute_invalid),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_asterisk),
		cmocka_unit_test(test_expect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
