/* SPDX-License-Identifier: ISC */
/*
 * etcd_frame: a watch stream as the gateway sends it (one object per
 * chunk, a chunk extension, objects split across chunks, two in one,
 * braces and escaped quotes inside strings, trailers) gives the same
 * objects whatever the read boundaries: every split into two reads and
 * one byte at a time.  A Content-Length body; the bound on an object;
 * broken framing and junk refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "etcd_int.h"

struct got {
	char   text[4096];
	size_t len;
	int    n, stop_after;
};

static int
collect(void *arg, const char *json, size_t len)
{
	struct got *g = arg;

	assert_true(g->len + len + 1 < sizeof(g->text));
	memcpy(g->text + g->len, json, len);
	g->len += len;
	g->text[g->len++] = '|';
	g->text[g->len] = '\0';
	g->n++;
	return g->stop_after != 0 && g->n == g->stop_after;
}

static const char o1[] = "{\"result\":{\"created\":true}}";
static const char o2[] = "{\"result\":{\"events\":[{\"kv\":{\"key\":\"e30=\"}}],\"s\":\"}{\\\"\"}}";
static const char o3[] = "{\"x\":[1,{\"y\":\"]\"}]}";

/* The chunked stream: o1 alone (with an extension), o2 cut in two
 * chunks, "\n" then o3 with whitespace, the last chunk and a trailer. */
static size_t
stream(char *out)
{
	size_t n = 0, h = sizeof(o2) / 2;

	n += (size_t)sprintf(out + n, "%zx;name=v\r\n%s\n\r\n", sizeof(o1), o1);
	n += (size_t)sprintf(out + n, "%zx\r\n%.*s\r\n", h, (int)h, o2);
	n += (size_t)sprintf(out + n, "%zX\r\n%s\r\n", sizeof(o2) - 1 - h, o2 + h);
	n += (size_t)sprintf(out + n, "%zx\r\n\n %s \r\n", sizeof(o3) + 2, o3);
	n += (size_t)sprintf(out + n, "0\r\nGrpc-Status: 0\r\n\r\n");
	return n;
}

static const char want[] =
    "{\"result\":{\"created\":true}}|"
    "{\"result\":{\"events\":[{\"kv\":{\"key\":\"e30=\"}}],\"s\":\"}{\\\"\"}}|"
    "{\"x\":[1,{\"y\":\"]\"}]}|";

static void
test_chunked_every_split(void **state)
{
	char buf[1024];
	size_t n = stream(buf), cut;
	struct etcd_frame f;
	struct got g;

	(void)state;
	memset(&f, 0, sizeof(f));
	for (cut = 0; cut <= n; cut++) {
		memset(&g, 0, sizeof(g));
		etcd_frame_init(&f, 1, 0, 1024);
		assert_int_equal(etcd_frame_feed(&f, buf, cut, collect, &g), cut == n ? 1 : 0);
		if (cut < n)
			assert_int_equal(etcd_frame_feed(&f, buf + cut, n - cut, collect, &g), 1);
		assert_string_equal(g.text, want);
		assert_true(f.done);
	}
	etcd_frame_free(&f);
}

static void
test_chunked_byte_by_byte(void **state)
{
	char buf[1024];
	size_t n = stream(buf), i;
	struct etcd_frame f;
	struct got g;
	int rc = 0;

	(void)state;
	memset(&f, 0, sizeof(f));
	memset(&g, 0, sizeof(g));
	etcd_frame_init(&f, 1, 0, 1024);
	for (i = 0; i < n; i++) {
		rc = etcd_frame_feed(&f, buf + i, 1, collect, &g);
		assert_int_equal(rc, i + 1 == n ? 1 : 0);
	}
	assert_string_equal(g.text, want);
	etcd_frame_free(&f);
}

static void
test_length(void **state)
{
	static const char body[] = "{\"header\":{\"revision\":\"2\"}}";
	static const char after[] = "{\"header\":{\"revision\":\"2\"}}XYZ";
	struct etcd_frame f;
	struct got g;

	(void)state;
	memset(&f, 0, sizeof(f));
	memset(&g, 0, sizeof(g));
	etcd_frame_init(&f, 0, sizeof(body) - 1, 1024);
	assert_int_equal(etcd_frame_feed(&f, after, 10, collect, &g), 0);
	assert_int_equal(g.n, 0);
	/* bytes past the length are not the body's: not looked at */
	assert_int_equal(etcd_frame_feed(&f, after + 10, sizeof(after) - 1 - 10, collect, &g), 1);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.text, "{\"header\":{\"revision\":\"2\"}}|");
	/* a body that ends inside its object */
	etcd_frame_init(&f, 0, 5, 1024);
	assert_int_equal(etcd_frame_feed(&f, body, sizeof(body) - 1, collect, &g), -1);
	assert_string_equal(f.err, "body ended inside a JSON object");
	/* an empty body ends at once */
	etcd_frame_init(&f, 0, 0, 1024);
	assert_true(f.done);
	etcd_frame_free(&f);
}

static void
test_stop(void **state)
{
	char buf[1024];
	size_t n = stream(buf);
	struct etcd_frame f;
	struct got g;

	(void)state;
	memset(&f, 0, sizeof(f));
	memset(&g, 0, sizeof(g));
	g.stop_after = 1;
	etcd_frame_init(&f, 1, 0, 1024);
	assert_int_equal(etcd_frame_feed(&f, buf, n, collect, &g), 2);
	assert_int_equal(g.n, 1);
	etcd_frame_free(&f);
}

static void
feed_fails(const char *s, size_t max, const char *why)
{
	struct etcd_frame f;
	struct got g;

	memset(&f, 0, sizeof(f));
	memset(&g, 0, sizeof(g));
	etcd_frame_init(&f, 1, 0, max);
	assert_int_equal(etcd_frame_feed(&f, s, strlen(s), collect, &g), -1);
	assert_string_equal(f.err, why);
	/* and stays failed */
	assert_int_equal(etcd_frame_feed(&f, "0\r\n\r\n", 5, collect, &g), -1);
	etcd_frame_free(&f);
}

static void
test_refused(void **state)
{
	(void)state;
	feed_fails("x\r\n", 1024, "invalid chunk size");
	feed_fails("\r\n", 1024, "invalid chunk size");
	feed_fails("5\n{}{}{", 1024, "invalid chunk size");
	feed_fails("5\r{}{}{", 1024, "bare cr in chunk line");
	feed_fails("2\r\n{}XY", 1024, "missing crlf after chunk data");
	feed_fails("1ffffffffffffffff\r\n", 1024, "chunk size too large");
	feed_fails("3\r\n[1]\r\n", 1024, "junk between JSON objects");
	feed_fails("4\r\n{\"a\"\r\n0\r\n\r\n", 1024, "body ended inside a JSON object");
	/* an object of 9 bytes with room for 8 */
	feed_fails("9\r\n{\"a\":123}\r\n", 8, "response object too large");
}

static void
test_depth(void **state)
{
	char s[128];
	int i, n;

	(void)state;
	n = sprintf(s, "%x\r\n", (unsigned)JSON_SCAN_DEPTH + 1);
	for (i = 0; i <= (int)JSON_SCAN_DEPTH; i++)
		s[n++] = '{';
	s[n] = '\0';
	feed_fails(s, 1024, "response nested too deep");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunked_every_split),
		cmocka_unit_test(test_chunked_byte_by_byte),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_depth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
