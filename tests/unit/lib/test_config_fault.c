/* SPDX-License-Identifier: ISC */
/*
 * config_fault: the fault.* keys of a [route.NAME] — valid values stored,
 * each bad value one FILE:LINE error with its reason, and the
 * cross-checks (a known version, match/version need a fault).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/config.h"
#include "test_config_util.h"

#define HEAD "[service.api]\ncommand = /bin/true\nport = 18080\n" \
             "[service.api@v2]\ncommand = /bin/true\nport = 18090\n[route.api]\n"

static void
test_valid(void **state)
{
	struct mesh_config cfg;
	struct tload t;
	const struct conf_route *r;

	(void)state;
	assert_int_equal(tload(&t, HEAD "fault.delay = 10% 300ms\nfault.abort = 0.5% 503\n"
	    "fault.match = X-Chaos:   1\nfault.version = v2\n", &cfg), 0);
	r = config_route(&cfg, "api");
	assert_non_null(r);
	assert_int_equal(r->fault.delay_permille, 100);
	assert_int_equal(r->fault.delay_us, 300000);
	assert_int_equal(r->fault.abort_permille, 5);
	assert_int_equal(r->fault.abort_status, 503);
	assert_string_equal(r->fault.match_header, "X-Chaos");
	assert_string_equal(r->fault.match_value, "1");
	assert_string_equal(r->fault.version, "v2");
	config_free(&cfg);
	tload_done(&t);

	/* 100% and 0%, and no fault at all */
	assert_int_equal(tload(&t, HEAD "fault.abort = 100% 200\nfault.delay = 0% 1ms\n", &cfg), 0);
	r = config_route(&cfg, "api");
	assert_int_equal(r->fault.abort_permille, 1000);
	assert_int_equal(r->fault.delay_permille, 0);
	config_free(&cfg);
	tload_done(&t);
	assert_int_equal(tload(&t, HEAD "retries = 1\n", &cfg), 0);
	r = config_route(&cfg, "api");
	assert_int_equal(r->fault.abort_permille + r->fault.delay_permille, 0);
	config_free(&cfg);
	tload_done(&t);
}

static void
test_invalid(void **state)
{
	static const struct { const char *line, *want; } bad[] = {
		{ "fault.abort = 120% 503", ":8: fault.abort = 120% 503: share out of range 0%..100%" },
		{ "fault.abort = 5% 99", "status '99' out of range 200..599" },
		{ "fault.abort = 5% 600", "status '600' out of range 200..599" },
		{ "fault.abort = 5%", "want P% STATUS" },
		{ "fault.abort = 503", "want a share first" },
		{ "fault.abort = 5% 503 v2", "want P% STATUS" },
		{ "fault.abort = -5% 503", "want a share first" },
		{ "fault.abort = 10.25% 503", "want a share first" },
		{ "fault.delay = 10% 0ms", "delay out of range 1ms..1h" },
		{ "fault.delay = 10% 2h", "delay out of range 1ms..1h" },
		{ "fault.delay = 10% 300", "'300' is not a duration" },
		{ "fault.delay = 10%", "want P% DURATION" },
		{ "fault.match = x-chaos", "want HEADER: VALUE" },
		{ "fault.match = : 1", "want HEADER: VALUE" },
		{ "fault.match = x chaos: 1", "header name must be" },
		{ "fault.match = x-chaos:", "header value must be" },
		{ "fault.match = x-chaos: a b", "header value must be" },
		{ "fault.version = V_2", "bad version" },
	};
	struct mesh_config cfg;
	struct tload t;
	char text[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), HEAD "%s\nfault.delay = 1%% 1ms\n", bad[i].line);
		if (strncmp(bad[i].line, "fault.delay", 11) == 0)
			snprintf(text, sizeof(text), HEAD "%s\nfault.abort = 1%% 503\n", bad[i].line);
		assert_int_equal(tload(&t, text, &cfg), 1);
		if (strstr(t.errs, bad[i].want) == NULL || strstr(t.errs, "mesh.ini:8: ") == NULL)
			fail_msg("%s: got '%s', want '%s'", bad[i].line, t.errs, bad[i].want);
		tload_done(&t);
	}
}

static void
test_cross_checks(void **state)
{
	struct mesh_config cfg;
	struct tload t;

	(void)state;
	assert_int_equal(tload(&t, HEAD "fault.abort = 5% 503\nfault.version = v3\n", &cfg), 1);
	assert_non_null(strstr(t.errs, ":9: fault.version: service api has no version 'v3'"));
	tload_done(&t);
	assert_int_equal(tload(&t, HEAD "fault.match = x-chaos: 1\nfault.version = v2\n", &cfg), 2);
	assert_non_null(strstr(t.errs, ":8: fault.match: [route.api] has no fault.delay or fault.abort"));
	assert_non_null(strstr(t.errs, ":9: fault.version: [route.api] has no fault.delay or fault.abort"));
	tload_done(&t);
	assert_int_equal(tload(&t, "[service.db]\ncommand = /bin/true\nport = 18080\n"
	    "protocol = tcp\n[route.db]\nfault.abort = 5% 503\n", &cfg), 1);
	assert_non_null(strstr(t.errs, ":6: fault: service db is not http"));
	tload_done(&t);
	/* http2 and grpc carry requests one by one: faults apply */
	assert_int_equal(tload(&t, "[service.pay]\ncommand = /bin/true\nport = 18080\n"
	    "protocol = grpc\n[route.pay]\nfault.abort = 5% 503\n"
	    "[service.web]\nport = 18090\nprotocol = http2\n[route.web]\n"
	    "fault.delay = 1% 10ms\n", &cfg), 0);
	config_free(&cfg);
	tload_done(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_cross_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
