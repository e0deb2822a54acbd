/* SPDX-License-Identifier: ISC */
/*
 * etcd_json: base64 both ways (RFC 4648's vectors, binary bytes, refused
 * input, the output bound); each request body byte for byte; a prefix's
 * range end; the gateway's int64 strings; an error object; range kvs and
 * watch events decoded, with their bounds.
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

static void
test_b64(void **state)
{
	static const char *const v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	char out[64], back[64];
	size_t i;
	long n;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(etcd_json_b64enc(v[i][0], strlen(v[i][0]), out, sizeof(out)),
		    (int)strlen(v[i][1]));
		assert_string_equal(out, v[i][1]);
		n = etcd_json_b64dec(v[i][1], strlen(v[i][1]), back, sizeof(back));
		assert_int_equal(n, (long)strlen(v[i][0]));
		assert_memory_equal(back, v[i][0], (size_t)n);
	}
}

static void
test_b64_binary(void **state)
{
	char in[256], enc[400], dec[256];
	int n, i, len;

	(void)state;
	for (i = 0; i < 256; i++)
		in[i] = (char)i;
	for (len = 0; len <= 256; len += 37) {
		n = etcd_json_b64enc(in, (size_t)len, enc, sizeof(enc));
		assert_true(n >= 0);
		assert_int_equal(etcd_json_b64dec(enc, (size_t)n, dec, sizeof(dec)), len);
		assert_memory_equal(dec, in, (size_t)len);
	}
}

static void
test_b64_refused(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(etcd_json_b64dec("Zm9", 3, out, sizeof(out)), -1);     /* length */
	assert_int_equal(etcd_json_b64dec("Zm9*", 4, out, sizeof(out)), -1);    /* alphabet */
	assert_int_equal(etcd_json_b64dec("Z=9v", 4, out, sizeof(out)), -1);    /* inner pad */
	assert_int_equal(etcd_json_b64dec("Zm9vYmFy", 8, out, 5), -1);          /* no room */
	assert_int_equal(etcd_json_b64dec("Zm9vYmFy", 8, out, 6), 6);
	/* the encoder's bound counts the NUL */
	assert_int_equal(etcd_json_b64enc("foo", 3, out, 4), -1);
	assert_int_equal(etcd_json_b64enc("foo", 3, out, 5), 4);
	assert_int_equal(etcd_json_b64enc("foo", 3, out, 0), -1);
}

static void
test_range_end(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(etcd_json_range_end("/a/", 3, out), 3);
	assert_memory_equal(out, "/a0", 3);
	assert_int_equal(etcd_json_range_end("a\xff", 2, out), 1);
	assert_memory_equal(out, "b", 1);
	/* all 0xff: no end, "\0" means every key from the start */
	assert_int_equal(etcd_json_range_end("\xff\xff", 2, out), 1);
	assert_int_equal(out[0], 0);
}

static void
test_bodies(void **state)
{
	char out[512];

	(void)state;
	assert_true(etcd_json_put(out, sizeof(out), "/m/a", 4, "v", 1, 7587) > 0);
	assert_string_equal(out, "{\"key\":\"L20vYQ==\",\"value\":\"dg==\",\"lease\":\"7587\"}");
	assert_true(etcd_json_del(out, sizeof(out), "/m/a", 4) > 0);
	assert_string_equal(out, "{\"key\":\"L20vYQ==\"}");
	assert_true(etcd_json_range(out, sizeof(out), "/m/", 3, 4097) > 0);
	assert_string_equal(out, "{\"key\":\"L20v\",\"range_end\":\"L20w\",\"limit\":\"4097\"}");
	assert_true(etcd_json_watch(out, sizeof(out), "/m/", 3, 42) > 0);
	assert_string_equal(out, "{\"create_request\":{\"key\":\"L20v\",\"range_end\":\"L20w\","
	    "\"start_revision\":\"42\"}}");
	assert_true(etcd_json_grant(out, sizeof(out), 10) > 0);
	assert_string_equal(out, "{\"TTL\":\"10\"}");
	assert_true(etcd_json_lease(out, sizeof(out), INT64_MAX) > 0);
	assert_string_equal(out, "{\"ID\":\"9223372036854775807\"}");
	/* too small a buffer is -1, never a cut body */
	assert_int_equal(etcd_json_put(out, 20, "/m/a", 4, "v", 1, 1), -1);
	assert_int_equal(etcd_json_lease(out, 8, 123456789), -1);
	assert_int_equal(etcd_json_range(out, sizeof(out), "", 0, 1), -1);
}

static void
parse(struct json_doc *d, const char *s)
{
	char err[128];

	assert_int_equal(json_scan_parse(d, s, strlen(s), 1000, err, sizeof(err)), 0);
}

static void
test_i64_and_error(void **state)
{
	struct json_doc d;
	char msg[64];

	(void)state;
	parse(&d, "{\"a\":\"123\",\"b\":45,\"c\":\"-7\",\"d\":\"x1\",\"e\":\"99999999999999999999\","
	    "\"f\":true}");
	assert_int_equal(etcd_json_i64(&d, json_scan_key(&d, 0, "a"), -1), 123);
	assert_int_equal(etcd_json_i64(&d, json_scan_key(&d, 0, "b"), -1), 45);
	assert_int_equal(etcd_json_i64(&d, json_scan_key(&d, 0, "c"), -1), -7);
	assert_int_equal(etcd_json_i64(&d, json_scan_key(&d, 0, "d"), -1), -1);
	assert_int_equal(etcd_json_i64(&d, json_scan_key(&d, 0, "e"), -1), -1);
	assert_int_equal(etcd_json_i64(&d, json_scan_key(&d, 0, "f"), -1), -1);
	assert_int_equal(etcd_json_i64(&d, json_scan_key(&d, 0, "none"), -1), -1);
	assert_int_equal(etcd_json_error(&d, msg, sizeof(msg)), 0);
	json_scan_free(&d);
	parse(&d, "{\"error\":\"etcdserver: requested lease not found\","
	    "\"message\":\"etcdserver: requested lease not found\",\"code\":5}");
	assert_int_equal(etcd_json_error(&d, msg, sizeof(msg)), 5);
	assert_string_equal(msg, "etcdserver: requested lease not found");
	json_scan_free(&d);
}

struct seen {
	char   line[8][160];
	int    n, stop_at;
};

static int
record(void *arg, const struct etcd_kv *kv)
{
	struct seen *s = arg;

	snprintf(s->line[s->n++], sizeof(s->line[0]), "%s %.*s=%.*s@%lld",
	    kv->del ? "del" : "put", (int)kv->key_len, kv->key, (int)kv->value_len,
	    kv->value, (long long)kv->mod_rev);
	return s->n == s->stop_at;
}

static void
test_kvs(void **state)
{
	static const char range[] = "{\"header\":{\"revision\":\"9\"},\"kvs\":["
	    "{\"key\":\"L20vYQ==\",\"create_revision\":\"2\",\"mod_revision\":\"3\",\"value\":\"dg==\"},"
	    "{\"key\":\"L20vYg==\",\"mod_revision\":\"4\"}],\"count\":\"2\"}";
	static const char watch[] = "{\"result\":{\"header\":{\"revision\":\"5\"},\"events\":["
	    "{\"kv\":{\"key\":\"L20vYQ==\",\"mod_revision\":\"5\",\"value\":\"dw==\"}},"
	    "{\"type\":\"DELETE\",\"kv\":{\"key\":\"L20vYQ==\",\"mod_revision\":\"6\"}}]}}";
	char *scratch = malloc(ETCD_KEY_MAX + ETCD_VALUE_MAX + 2), err[128];
	struct json_doc d;
	struct seen s;

	(void)state;
	memset(&s, 0, sizeof(s));
	parse(&d, range);
	assert_int_equal(etcd_json_kvs(&d, json_scan_key(&d, 0, "kvs"), 0, scratch, record, &s,
	    err, sizeof(err)), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.line[0], "put /m/a=v@3");
	assert_string_equal(s.line[1], "put /m/b=@4");    /* an empty value is left out */
	/* a callback that says stop */
	memset(&s, 0, sizeof(s));
	s.stop_at = 1;
	assert_int_equal(etcd_json_kvs(&d, json_scan_key(&d, 0, "kvs"), 0, scratch, record, &s,
	    err, sizeof(err)), -1);
	json_scan_free(&d);

	memset(&s, 0, sizeof(s));
	parse(&d, watch);
	assert_int_equal(etcd_json_kvs(&d, json_scan_path(&d, 0, "result.events"), 1, scratch,
	    record, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.line[0], "put /m/a=w@5");
	assert_string_equal(s.line[1], "del /m/a=@6");
	json_scan_free(&d);

	/* no events at all is fine; kvs that is not an array is not */
	assert_int_equal(etcd_json_kvs(&d, -1, 1, scratch, record, &s, err, sizeof(err)), 0);
	parse(&d, "{\"kvs\":{}}");
	assert_int_equal(etcd_json_kvs(&d, json_scan_key(&d, 0, "kvs"), 0, scratch, record, &s,
	    err, sizeof(err)), -1);
	json_scan_free(&d);
	free(scratch);
}

static void
test_kvs_bounds(void **state)
{
	char *scratch = malloc(ETCD_KEY_MAX + ETCD_VALUE_MAX + 2), err[128];
	size_t big = ETCD_VALUE_MAX + 3, keyl = ETCD_KEY_MAX + 1;
	char *raw = malloc(big), *doc = malloc(big * 2 + 256);
	struct json_doc d;
	struct seen s;
	int n;

	(void)state;
	memset(raw, 'x', big);
	/* a value over ETCD_VALUE_MAX */
	n = sprintf(doc, "{\"kvs\":[{\"key\":\"L20vYQ==\",\"value\":\"");
	n += etcd_json_b64enc(raw, big, doc + n, big * 2);
	strcpy(doc + n, "\"}]}");
	memset(&s, 0, sizeof(s));
	assert_int_equal(json_scan_parse(&d, doc, strlen(doc), 100, err, sizeof(err)), 0);
	assert_int_equal(etcd_json_kvs(&d, json_scan_key(&d, 0, "kvs"), 0, scratch, record, &s,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not base64 or over"));
	json_scan_free(&d);
	/* a key over ETCD_KEY_MAX */
	n = sprintf(doc, "{\"kvs\":[{\"key\":\"");
	n += etcd_json_b64enc(raw, keyl, doc + n, big * 2);
	strcpy(doc + n, "\"}]}");
	assert_int_equal(json_scan_parse(&d, doc, strlen(doc), 100, err, sizeof(err)), 0);
	assert_int_equal(etcd_json_kvs(&d, json_scan_key(&d, 0, "kvs"), 0, scratch, record, &s,
	    err, sizeof(err)), -1);
	json_scan_free(&d);
	/* a value of exactly ETCD_VALUE_MAX is fine */
	n = sprintf(doc, "{\"kvs\":[{\"key\":\"L20vYQ==\",\"value\":\"");
	n += etcd_json_b64enc(raw, ETCD_VALUE_MAX, doc + n, big * 2);
	strcpy(doc + n, "\"}]}");
	assert_int_equal(json_scan_parse(&d, doc, strlen(doc), 100, err, sizeof(err)), 0);
	assert_int_equal(etcd_json_kvs(&d, json_scan_key(&d, 0, "kvs"), 0, scratch, record, &s,
	    err, sizeof(err)), 0);
	assert_int_equal(s.n, 1);
	json_scan_free(&d);
	free(raw);
	free(doc);
	free(scratch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_b64_binary),
		cmocka_unit_test(test_b64_refused),
		cmocka_unit_test(test_range_end),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_i64_and_error),
		cmocka_unit_test(test_kvs),
		cmocka_unit_test(test_kvs_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
