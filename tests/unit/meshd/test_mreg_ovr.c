/* SPDX-License-Identifier: ISC */
/*
 * mreg_ovr: the value of a shared override, {"host":..,"line":..}, to
 * JSON and back; every refusal of the strict decoder (not an object, a
 * member missing, unknown or of the wrong type, a bad host name, an empty
 * line, a NUL inside, a line too long to put).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/mreg.h"

static void
test_round_trip(void **state)
{
	char buf[4 * MREG_OVR_LINE_MAX], host[CONF_HOST_NAME_MAX], line[MREG_OVR_LINE_MAX];
	char long_line[MREG_OVR_LINE_MAX + 1];
	int n;

	(void)state;
	n = mreg_ovr_encode("pi-a", "api match \"x: y\" v1=90", buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "{\"host\":\"pi-a\",\"line\":\"api match \\\"x: y\\\" v1=90\"}");
	assert_int_equal(mreg_ovr_decode(buf, (size_t)n, host, sizeof(host), line,
	    sizeof(line)), 0);
	assert_string_equal(host, "pi-a");
	assert_string_equal(line, "api match \"x: y\" v1=90");
	/* too small a buffer, too long a line: -1 */
	assert_int_equal(mreg_ovr_encode("a", "api v1=100", buf, 10), -1);
	memset(long_line, 'x', sizeof(long_line) - 1);
	long_line[sizeof(long_line) - 1] = '\0';
	assert_int_equal(mreg_ovr_encode("a", long_line, buf, sizeof(buf)), -1);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		"", "[]", "not json", "{\"host\":\"a\"}", "{\"line\":\"api off\"}",
		"{\"host\":\"a\",\"line\":\"api off\",\"x\":1}",
		"{\"host\":7,\"line\":\"api off\"}", "{\"host\":\"a\",\"line\":[]}",
		"{\"host\":\"a/b\",\"line\":\"api off\"}", "{\"host\":\"a\",\"line\":\"\"}",
		"{\"host\":\"a\",\"line\":\"api\\u0000off\"}",
	};
	char host[CONF_HOST_NAME_MAX], line[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mreg_ovr_decode(bad[i], strlen(bad[i]), host, sizeof(host), line,
		    sizeof(line)) != -1)
			fail_msg("case %zu (%s) decoded", i, bad[i]);
	/* longer than the caller's buffer */
	{
		const char *j = "{\"host\":\"a\",\"line\":\"api v1=10 v2=90 v3=0\"}";

		assert_int_equal(mreg_ovr_decode(j, strlen(j), host, sizeof(host), line,
		    sizeof(line)), -1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
