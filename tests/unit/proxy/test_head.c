/* SPDX-License-Identifier: ISC */
/*
 * test_head: heads for the next leg — hop-by-hop headers removed, the
 * origin-form request line, refusals (src/proxy/head.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/buf.h"
#include "mesh/head.h"
#include "mesh/http.h"

static const struct http_limits lim = { 8192, 16384, 100 };

static char *
req_head(const char *in, unsigned opts, struct buf *b)
{
	static struct http_request r;

	assert_true(http_parse_request(in, strlen(in), &lim, &r) > 0);
	b->off = b->len = 0;
	assert_int_equal(head_request(b, &r, opts, NULL), 0);
	buf_append(b, "", 1);
	return buf_head(b);
}

static void
test_request_absolute_to_origin(void **state)
{
	struct buf *b = buf_get();

	assert_string_equal(req_head("GET http://api/x?y=1 HTTP/1.1\r\nHost: api\r\n"
	    "Connection: keep-alive, X-Drop\r\nKeep-Alive: 5\r\nProxy-Connection: x\r\n"
	    "TE: trailers\r\nX-Drop: 1\r\nX-Keep: 2\r\nUpgrade: h2c\r\n\r\n", 0, b),
	    "GET /x?y=1 HTTP/1.1\r\nHost: api\r\nX-Keep: 2\r\n\r\n");
	/* HTTP/1.0 absolute-form without Host: host added from the authority;
	 * it stays 1.0 (no chunked answer) and asks for keep-alive */
	assert_string_equal(req_head("GET http://api.mesh/ HTTP/1.0\r\n\r\n", 0, b),
	    "GET / HTTP/1.0\r\nhost: api.mesh\r\nconnection: keep-alive\r\n\r\n");
	/* ... unless the leg must close */
	assert_string_equal(req_head("GET /a HTTP/1.0\r\nHost: api\r\n\r\n", HEAD_CLOSE, b),
	    "GET /a HTTP/1.0\r\nHost: api\r\nconnection: close\r\n\r\n");
	buf_put(b);
}

static void
test_request_framing_kept(void **state)
{
	struct buf *b = buf_get();

	/* a hostile Connection header cannot remove the framing */
	assert_string_equal(req_head("POST /e HTTP/1.1\r\nHost: api\r\n"
	    "Connection: content-length, host\r\nContent-Length: 3\r\n\r\n", 0, b),
	    "POST /e HTTP/1.1\r\nHost: api\r\nContent-Length: 3\r\n\r\n");
	buf_put(b);
}

static void
test_request_upgrade_expect(void **state)
{
	struct buf *b = buf_get();

	assert_string_equal(req_head("GET /ws HTTP/1.1\r\nHost: api\r\n"
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n", HEAD_UPGRADE, b),
	    "GET /ws HTTP/1.1\r\nHost: api\r\nUpgrade: websocket\r\nconnection: upgrade\r\n\r\n");
	/* an h2c offer is no upgrade (http.h): Upgrade and HTTP2-Settings
	 * never reach the app, named in Connection or not */
	assert_string_equal(req_head("GET /h HTTP/1.1\r\nHost: api\r\nConnection: Upgrade\r\n"
	    "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", 0, b),
	    "GET /h HTTP/1.1\r\nHost: api\r\n\r\n");
	assert_string_equal(req_head("PUT /u HTTP/1.1\r\nHost: api\r\nExpect: 100-continue\r\n"
	    "Content-Length: 1\r\n\r\n", HEAD_NO_EXPECT, b),
	    "PUT /u HTTP/1.1\r\nHost: api\r\nContent-Length: 1\r\n\r\n");
	buf_put(b);
}

static void
test_response(void **state)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n"
	    "Transfer-Encoding: chunked\r\nTrailer: x\r\nX-A: 1\r\n\r\n";
	struct http_response r;
	struct buf *b = buf_get();

	assert_true(http_parse_response(in, sizeof(in) - 1, &lim, 0, &r) > 0);
	assert_int_equal(head_response(b, &r, 0), 0);
	buf_append(b, "", 1);
	assert_string_equal(buf_head(b),
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n");
	b->len = 0;
	assert_int_equal(head_response(b, &r, HEAD_KEEPALIVE), 0);
	buf_append(b, "", 1);
	assert_non_null(strstr(buf_head(b), "connection: keep-alive\r\n\r\n"));
	buf_put(b);
}

static void
test_refusal(void **state)
{
	struct buf *b = buf_get();

	assert_int_equal(head_refusal(b, 503, "no healthy upstream", HEAD_CLOSE), 0);
	buf_append(b, "", 1);
	assert_string_equal(buf_head(b),
	    "HTTP/1.1 503 Service Unavailable\r\nmesh-error: no healthy upstream\r\n"
	    "content-length: 20\r\nconnection: close\r\n\r\nno healthy upstream\n");
	b->len = 0;
	assert_int_equal(head_refusal(b, 404, "no route", 0), 0);
	buf_append(b, "", 1);
	assert_string_equal(buf_head(b),
	    "HTTP/1.1 404 Not Found\r\nmesh-error: no route\r\ncontent-length: 9\r\n\r\nno route\n");
	buf_put(b);
}

/* To a gRPC caller: trailers-only, the status in grpc-status. */
static void
test_refusal_grpc(void **state)
{
	struct buf *b = buf_get();

	assert_int_equal(head_refusal(b, 504, "timeout", HEAD_GRPC), 0);
	buf_append(b, "", 1);
	assert_string_equal(buf_head(b),
	    "HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ngrpc-status: 4\r\n"
	    "grpc-message: timeout\r\nmesh-error: timeout\r\ncontent-length: 0\r\n\r\n");
	b->len = 0;
	assert_int_equal(head_refusal(b, 403, "not allowed", HEAD_GRPC | HEAD_CLOSE), 0);
	buf_append(b, "", 1);
	assert_string_equal(buf_head(b),
	    "HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ngrpc-status: 7\r\n"
	    "grpc-message: not allowed\r\nmesh-error: not allowed\r\ncontent-length: 0\r\n"
	    "connection: close\r\n\r\n");
	b->len = 0;
	assert_int_equal(head_refusal(b, 503, "50% off", HEAD_GRPC), 0);
	buf_append(b, "", 1);
	assert_non_null(strstr(buf_head(b), "grpc-status: 14\r\ngrpc-message: 50%25 off\r\n"));
	buf_put(b);
}

static void
test_no_room_leaves_buffer(void **state)
{
	struct buf *b = buf_get();
	static char fill[16384];

	memset(fill, 'x', sizeof(fill));
	buf_append(b, fill, buf_room(b) - 10);
	assert_int_equal(head_refusal(b, 502, "bad response", 0), -1);
	assert_int_equal(b->len, b->cap - 10);
	buf_put(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_absolute_to_origin),
		cmocka_unit_test(test_request_framing_kept),
		cmocka_unit_test(test_request_upgrade_expect),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_refusal),
		cmocka_unit_test(test_refusal_grpc),
		cmocka_unit_test(test_no_room_leaves_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
