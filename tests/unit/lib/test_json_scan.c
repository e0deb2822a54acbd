/* SPDX-License-Identifier: ISC */
/*
 * test_json_scan: the dashboard's JSON reader — tokens and subtrees,
 * lookups by key, path and index, string unescaping (incl. surrogate
 * pairs and truncation), numbers, strict syntax errors, and the bounds:
 * nesting depth and token count, so hostile input costs neither stack
 * nor unbounded memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/json_scan.h"

static int
parse(struct json_doc *d, const char *s)
{
	char err[128];

	return json_scan_parse(d, s, strlen(s), 1000, err, sizeof(err));
}

static void
test_walk(void **state)
{
	static const char doc[] =
	    " {\"mesh\":{\"name\":\"shop\",\"uptime_s\":12,\"running\":true},"
	    "\"services\":[{\"name\":\"api\",\"instances\":[{\"index\":0},{\"index\":1}]},"
	    "{\"name\":\"web\",\"instances\":[]}],\"routes\":[],\"x\":null} ";
	struct json_doc d;
	char buf[32];
	int svcs, e, k, n = 0;

	(void)state;
	assert_int_equal(parse(&d, doc), 0);
	assert_int_equal(json_scan_type(&d, 0), JSON_OBJECT);
	assert_int_equal(d.t[0].n, 4);
	assert_int_equal(d.t[0].next, d.nt);
	assert_int_equal(json_scan_str(&d, json_scan_path(&d, 0, "mesh.name"), buf, sizeof(buf)), 4);
	assert_string_equal(buf, "shop");
	assert_int_equal(json_scan_int(&d, json_scan_path(&d, 0, "mesh.uptime_s"), -1), 12);
	assert_int_equal(json_scan_bool(&d, json_scan_path(&d, 0, "mesh.running"), 0), 1);
	assert_int_equal(json_scan_type(&d, json_scan_key(&d, 0, "x")), JSON_NULL);
	assert_int_equal(json_scan_int(&d, json_scan_key(&d, 0, "x"), 7), 7);
	assert_int_equal(json_scan_key(&d, 0, "nope"), -1);
	assert_int_equal(json_scan_path(&d, 0, "mesh.nope.deeper"), -1);
	svcs = json_scan_key(&d, 0, "services");
	assert_int_equal(json_scan_type(&d, svcs), JSON_ARRAY);
	assert_int_equal(d.t[svcs].n, 2);
	/* siblings skip whole subtrees */
	for (e = json_scan_child(&d, svcs); e != -1; e = json_scan_next(&d, svcs, e))
		n++;
	assert_int_equal(n, 2);
	assert_true(json_scan_streq(&d, json_scan_key(&d, json_scan_elem(&d, svcs, 1), "name"), "web"));
	assert_int_equal(json_scan_elem(&d, svcs, 2), -1);
	assert_int_equal(json_scan_child(&d, json_scan_key(&d, json_scan_elem(&d, svcs, 1), "instances")), -1);
	assert_int_equal(json_scan_int(&d, json_scan_key(&d,
	    json_scan_elem(&d, json_scan_key(&d, json_scan_elem(&d, svcs, 0), "instances"), 1),
	    "index"), -1), 1);
	/* object members: key k, value k + 1 */
	n = 0;
	for (k = json_scan_child(&d, 0); k != -1; k = json_scan_next(&d, 0, k + 1))
		n++;
	assert_int_equal(n, 4);
	/* lookups on the wrong type are -1 / defaults, never a crash */
	assert_int_equal(json_scan_key(&d, svcs, "name"), -1);
	assert_int_equal(json_scan_elem(&d, 0, 0), -1);
	assert_int_equal(json_scan_str(&d, -1, buf, sizeof(buf)), -1);
	assert_string_equal(buf, "");
	assert_int_equal(json_scan_type(&d, 99999), 0);
	json_scan_free(&d);
}

static void
test_strings(void **state)
{
	struct json_doc d;
	char buf[64], small[4];

	(void)state;
	assert_int_equal(parse(&d, "[\"a\\\"b\\\\c\\/\\n\\t\", \"\\u00e9\\u20ac\", "
	    "\"\\ud83d\\ude00\", \"\\ud800x\", \"abcdef\"]"), 0);
	json_scan_str(&d, json_scan_elem(&d, 0, 0), buf, sizeof(buf));
	assert_string_equal(buf, "a\"b\\c/\n\t");
	json_scan_str(&d, json_scan_elem(&d, 0, 1), buf, sizeof(buf));
	assert_string_equal(buf, "\xc3\xa9\xe2\x82\xac");
	json_scan_str(&d, json_scan_elem(&d, 0, 2), buf, sizeof(buf));
	assert_string_equal(buf, "\xf0\x9f\x98\x80");
	json_scan_str(&d, json_scan_elem(&d, 0, 3), buf, sizeof(buf));
	assert_string_equal(buf, "\xef\xbf\xbdx");    /* a lone surrogate: U+FFFD */
	assert_int_equal(json_scan_str(&d, json_scan_elem(&d, 0, 4), small, sizeof(small)), 3);
	assert_string_equal(small, "abc");
	assert_true(json_scan_streq(&d, json_scan_elem(&d, 0, 1), "\xc3\xa9\xe2\x82\xac"));
	assert_false(json_scan_streq(&d, json_scan_elem(&d, 0, 4), "abcde"));
	assert_false(json_scan_streq(&d, json_scan_elem(&d, 0, 4), "abcdefg"));
	json_scan_free(&d);
}

static void
test_numbers(void **state)
{
	struct json_doc d;

	(void)state;
	assert_int_equal(parse(&d, "[0, -1, 3.5, 1e3, -2.5E-1, 12345678901234]"), 0);
	assert_int_equal(json_scan_int(&d, json_scan_elem(&d, 0, 1), 0), -1);
	assert_true(json_scan_num(&d, json_scan_elem(&d, 0, 2), 0) == 3.5);
	assert_int_equal(json_scan_int(&d, json_scan_elem(&d, 0, 3), 0), 1000);
	assert_true(json_scan_num(&d, json_scan_elem(&d, 0, 4), 0) == -0.25);
	assert_int_equal(json_scan_int(&d, json_scan_elem(&d, 0, 5), 0), 12345678901234LL);
	json_scan_free(&d);
}

static void
test_errors(void **state)
{
	static const char *bad[] = {
		"", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{1:2}", "[1 2]", "01",
		"1.", "-", "1e", "tru", "nul", "\"abc", "\"a\x01\"", "\"\\x\"", "\"\\u12g4\"",
		"[}", "{]", "[1]]", "{} {}", "[\"a\"\"b\"]", "+1", ".5", "[1,,2]",
	};
	struct json_doc d;
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (json_scan_parse(&d, bad[i], strlen(bad[i]), 1000, err, sizeof(err)) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_non_null(strstr(err, "offset "));
		assert_null(d.t);
		assert_int_equal(d.nt, 0);
	}
}

static void
test_bounds(void **state)
{
	char deep[256], err[128], *many;
	struct json_doc d;
	size_t i, n;

	(void)state;
	/* JSON_SCAN_DEPTH levels parse; one more is refused */
	for (n = 0; n < JSON_SCAN_DEPTH; n++)
		deep[n] = '[';
	for (i = 0; i < JSON_SCAN_DEPTH; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	assert_int_equal(parse(&d, deep), 0);
	json_scan_free(&d);
	memset(deep, '[', JSON_SCAN_DEPTH + 1);
	memset(deep + JSON_SCAN_DEPTH + 1, ']', JSON_SCAN_DEPTH + 1);
	deep[2 * (JSON_SCAN_DEPTH + 1)] = '\0';
	assert_int_equal(json_scan_parse(&d, deep, strlen(deep), 1000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "deep"));
	/* a million nested brackets: refused at once, no recursion */
	many = malloc(1000001);
	assert_non_null(many);
	memset(many, '[', 1000000);
	many[1000000] = '\0';
	assert_int_equal(json_scan_parse(&d, many, 1000000, 1000, err, sizeof(err)), -1);
	/* the token cap */
	n = 0;
	many[n++] = '[';
	for (i = 0; i < 2000; i++) {
		many[n++] = '1';
		many[n++] = ',';
	}
	many[n - 1] = ']';
	many[n] = '\0';
	assert_int_equal(json_scan_parse(&d, many, n, 1000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many tokens"));
	assert_int_equal(json_scan_parse(&d, many, n, 2001, err, sizeof(err)), 0);
	assert_int_equal(d.t[0].n, 2000);
	json_scan_free(&d);
	free(many);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
