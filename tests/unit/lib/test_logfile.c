/* SPDX-License-Identifier: ISC */
/*
 * test_logfile: one line of log/mesh.log, formatted and parsed back; what
 * the parser refuses; the caps on names and texts; which lines a filter
 * selects.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh/logfile.h"

#define T0 1796588462123LL   /* 2026-12-06T20:21:02.123Z */

static char buf[LOGFILE_LINE_MAX];

static void
test_format(void **state)
{
	size_t n;

	(void)state;
	n = logfile_format(buf, T0, "api.0", "listening on 8200", 17);
	assert_int_equal(n, strlen("2026-12-06T20:21:02.123Z api.0 | listening on 8200\n"));
	assert_memory_equal(buf, "2026-12-06T20:21:02.123Z api.0 | listening on 8200\n", n);
	/* the epoch, an empty text */
	n = logfile_format(buf, 5, "meshd", "", 0);
	assert_memory_equal(buf, "1970-01-01T00:00:00.005Z meshd | \n", n);
	/* no name, a time before 1970 or past 9999: nothing */
	assert_int_equal(logfile_format(buf, T0, "", "x", 1), 0);
	assert_int_equal(logfile_format(buf, -1, "a", "x", 1), 0);
	assert_int_equal(logfile_format(buf, 253402300800000LL, "a", "x", 1), 0);
}

static void
test_round_trip(void **state)
{
	static const char *const texts[] = { "", "x", "a | b | c", "  leading", "tab\there" };
	struct logfile_line l;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		n = logfile_format(buf, T0 + (int64_t)i, "api@v2.1~proxy", texts[i], strlen(texts[i]));
		assert_true(n > 0);
		assert_int_equal(logfile_parse(buf, n, &l), 0);
		assert_int_equal(l.ms, T0 + (int64_t)i);
		assert_int_equal(l.name_len, strlen("api@v2.1~proxy"));
		assert_memory_equal(l.name, "api@v2.1~proxy", l.name_len);
		assert_int_equal(l.text_len, strlen(texts[i]));
		assert_memory_equal(l.text, texts[i], l.text_len);
		/* without its newline too */
		assert_int_equal(logfile_parse(buf, n - 1, &l), 0);
	}
	/* a leap day, the last millisecond of 9999 */
	n = logfile_format(buf, 1709208000999LL, "a", "t", 1);
	assert_memory_equal(buf, "2024-02-29T12:00:00.999Z", LOGFILE_TIME_LEN);
	assert_int_equal(logfile_parse(buf, n, &l), 0);
	assert_int_equal(l.ms, 1709208000999LL);
	n = logfile_format(buf, 253402300799999LL, "a", "t", 1);
	assert_int_equal(logfile_parse(buf, n, &l), 0);
	assert_int_equal(l.ms, 253402300799999LL);
}

/* The stamp is computed without time_t (32 bits on armhf): across the
 * whole range, every 1,000,003 s or so, it reads back the same and, where
 * this host's time_t reaches, says what gmtime says. */
static void
test_stamp_range(void **state)
{
	char want[32];
	struct logfile_line l;
	struct tm tm;
	time_t sec;
	int64_t ms;
	size_t n;

	(void)state;
	for (ms = 0; ms < 253402300800000LL; ms += 1000003001LL) {
		n = logfile_format(buf, ms, "a", "t", 1);
		assert_true(n > 0);
		assert_int_equal(logfile_parse(buf, n, &l), 0);
		assert_true(l.ms == ms);
		sec = (time_t)(ms / 1000);
		if ((int64_t)sec != ms / 1000 || gmtime_r(&sec, &tm) == NULL)
			continue;   /* past a 32-bit time_t */
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
		assert_memory_equal(buf, want, 19);
	}
	/* the edges of a day, a year, a leap year */
	n = logfile_format(buf, 951868799999LL, "a", "t", 1);
	assert_memory_equal(buf, "2000-02-29T23:59:59.999Z", LOGFILE_TIME_LEN);
	n = logfile_format(buf, 4107542400000LL, "a", "t", 1);
	assert_memory_equal(buf, "2100-03-01T00:00:00.000Z", LOGFILE_TIME_LEN);
	n = logfile_format(buf, 0, "a", "t", 1);
	assert_memory_equal(buf, "1970-01-01T00:00:00.000Z", LOGFILE_TIME_LEN);
	assert_int_equal(logfile_format(buf, 253402300800000LL, "a", "t", 1), 0);
	assert_int_equal(logfile_format(buf, -1, "a", "t", 1), 0);
}

/* What would break a line is replaced: the result always parses back. */
static void
test_sanitised(void **state)
{
	struct logfile_line l;
	size_t n;

	(void)state;
	n = logfile_format(buf, T0, "a b\tc", "one\ntwo\rthree\0four", 18);
	assert_int_equal(logfile_parse(buf, n, &l), 0);
	assert_memory_equal(l.name, "a_b_c", 5);
	assert_int_equal(l.text_len, 18);
	assert_memory_equal(l.text, "one two three four", 18);
	assert_null(memchr(buf, '\n', n - 1));
}

static void
test_caps(void **state)
{
	char *name = malloc(LOGFILE_NAME_MAX + 50), *text = malloc(LOGFILE_TEXT_MAX + 50);
	struct logfile_line l;
	size_t n;

	(void)state;
	memset(name, 'n', LOGFILE_NAME_MAX + 49);
	name[LOGFILE_NAME_MAX + 49] = '\0';
	memset(text, 't', LOGFILE_TEXT_MAX + 50);
	n = logfile_format(buf, T0, name, text, LOGFILE_TEXT_MAX + 50);
	assert_int_equal(n, LOGFILE_LINE_MAX);
	assert_int_equal(logfile_parse(buf, n, &l), 0);
	assert_int_equal(l.name_len, LOGFILE_NAME_MAX);
	assert_int_equal(l.text_len, LOGFILE_TEXT_MAX);
	free(name);
	free(text);
}

static void
test_bad_lines(void **state)
{
	static const char *const bad[] = {
		"",
		"garbage",
		"2026-12-06T20:21:02.123Z",
		"2026-12-06T20:21:02.123Z api.0",
		"2026-12-06T20:21:02.123Z api.0 |",
		"2026-12-06T20:21:02.123Z api.0 - text",
		"2026-12-06T20:21:02.123Z  | text",            /* no name */
		"2026-12-06 20:21:02.123Z api.0 | text",
		"2026-12-06T20:21:02.123 api.0 | text",
		"2026-13-06T20:21:02.123Z api.0 | text",        /* month 13 */
		"2026-02-29T20:21:02.123Z api.0 | text",        /* not a leap year */
		"2026-12-06T24:21:02.123Z api.0 | text",
		"2026-12-06T20:60:02.123Z api.0 | text",
		"2026-12-06T20:21:02.1x3Z api.0 | text",
		"+026-12-06T20:21:02.123Z api.0 | text",
		"2026-12-06T20:21:02.123Z api.0 | two\nlines",
		"2026-12-06T20:21:02.123Z api.0 | cr\r",
		"2026-12-06T20:21:02.123Z ap\x01i | text",
	};
	struct logfile_line l;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (logfile_parse(bad[i], strlen(bad[i]), &l) != -1)
			fail_msg("parsed: \"%s\"", bad[i]);
	/* a NUL inside */
	assert_int_equal(logfile_parse("2026-12-06T20:21:02.123Z a | x\0y", 32, &l), -1);
	/* over the line cap */
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "2026-12-06T20:21:02.123Z a | ", 29);
	assert_int_equal(logfile_parse(buf, sizeof(buf), &l), -1);
}

static int
matches(const char *name, const char *text, const char *const *sel, size_t nsel, int64_t since)
{
	struct logfile_filter f = { sel, nsel, since };
	struct logfile_line l;
	size_t n = logfile_format(buf, T0, name, text, strlen(text));

	assert_int_equal(logfile_parse(buf, n, &l), 0);
	return logfile_match(&f, &l);
}

static void
test_match(void **state)
{
	const char *svc[] = { "api" }, *inst[] = { "api.0" }, *car[] = { "api.0~proxy" };
	const char *md[] = { "meshd" }, *two[] = { "web", "api@v2.1" };

	(void)state;
	/* no selector: everything */
	assert_true(matches("meshd", "hello", NULL, 0, 0));
	/* a service: its instances, versions, sidecars; not another's */
	assert_true(matches("api.0", "x", svc, 1, 0));
	assert_true(matches("api@v2.3", "x", svc, 1, 0));
	assert_true(matches("api.1~proxy", "x", svc, 1, 0));
	assert_false(matches("apix.0", "x", svc, 1, 0));
	assert_false(matches("web.0", "x", svc, 1, 0));
	assert_false(matches("meshd", "starting", svc, 1, 0));
	/* meshd about one of them */
	assert_true(matches("meshd", "api.1: started (pid 42)", svc, 1, 0));
	assert_true(matches("meshd", "api.0~proxy: stopped", svc, 1, 0));
	assert_false(matches("meshd", "api: not an instance", svc, 1, 0));
	assert_false(matches("meshd", "web.0: started", svc, 1, 0));
	/* an instance: it and its sidecar */
	assert_true(matches("api.0", "x", inst, 1, 0));
	assert_true(matches("api.0~proxy", "x", inst, 1, 0));
	assert_false(matches("api.1", "x", inst, 1, 0));
	assert_false(matches("api.00", "x", inst, 1, 0));
	assert_true(matches("meshd", "api.0: sidecar ready", inst, 1, 0));
	assert_false(matches("meshd", "api.1: sidecar ready", inst, 1, 0));
	/* the sidecar alone */
	assert_true(matches("api.0~proxy", "x", car, 1, 0));
	assert_false(matches("api.0", "x", car, 1, 0));
	/* meshd */
	assert_true(matches("meshd", "anything", md, 1, 0));
	assert_false(matches("api.0", "x", md, 1, 0));
	/* several */
	assert_true(matches("web.0", "x", two, 2, 0));
	assert_true(matches("api@v2.1", "x", two, 2, 0));
	assert_false(matches("api@v2.0", "x", two, 2, 0));
	/* since: at or after */
	assert_true(matches("a.0", "x", NULL, 0, T0));
	assert_false(matches("a.0", "x", NULL, 0, T0 + 1));
	assert_false(matches("api.0", "x", svc, 1, T0 + 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_stamp_range),
		cmocka_unit_test(test_sanitised),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
