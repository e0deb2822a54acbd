/* SPDX-License-Identifier: ISC */
/*
 * config_mirror: the mirror key of a [route.NAME] — a valid value stored,
 * 0% and no key mirror nothing, each bad value one FILE:LINE error with
 * its reason, and the cross-checks (the route's own service, a known
 * version, http).
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
	assert_int_equal(tload(&t, HEAD "mirror = api@v2   10%\n", &cfg), 0);
	assert_non_null(r = config_route(&cfg, "api"));
	assert_string_equal(r->mirror.service, "api");
	assert_string_equal(r->mirror.version, "v2");
	assert_int_equal(r->mirror.permille, 100);
	assert_int_equal(r->mirror.line, 8);
	config_free(&cfg);
	tload_done(&t);

	assert_int_equal(tload(&t, HEAD "mirror = api@v2 0.5%\n", &cfg), 0);
	assert_int_equal(config_route(&cfg, "api")->mirror.permille, 5);
	config_free(&cfg);
	tload_done(&t);
	assert_int_equal(tload(&t, HEAD "mirror = api@v2 100%\n", &cfg), 0);
	assert_int_equal(config_route(&cfg, "api")->mirror.permille, 1000);
	config_free(&cfg);
	tload_done(&t);
	/* 0% is allowed: it mirrors nothing */
	assert_int_equal(tload(&t, HEAD "mirror = api@v2 0%\n", &cfg), 0);
	assert_int_equal(config_route(&cfg, "api")->mirror.permille, 0);
	config_free(&cfg);
	tload_done(&t);
	/* no key: nothing */
	assert_int_equal(tload(&t, HEAD "retries = 1\n", &cfg), 0);
	r = config_route(&cfg, "api");
	assert_int_equal(r->mirror.line, 0);
	assert_int_equal(r->mirror.permille, 0);
	config_free(&cfg);
	tload_done(&t);
}

static void
test_invalid(void **state)
{
	static const struct { const char *line, *want; } bad[] = {
		{ "mirror = api@v2 120%", ":8: mirror = api@v2 120%: share out of range 0%..100%" },
		{ "mirror = api@v2 10.25%", "want a share" },
		{ "mirror = api@v2 10", "want a share" },
		{ "mirror = api@v2 -5%", "want a share" },
		{ "mirror = api@v2", "want SERVICE@VERSION P%" },
		{ "mirror = api 10%", "'api' names no version" },
		{ "mirror = api@ 10%", "bad version ''" },
		{ "mirror = API@v2 10%", "bad service name 'API'" },
		{ "mirror = api@V_2 10%", "bad version 'V_2'" },
		{ "mirror = api@v2 10% 20%", "want a share" },
	};
	struct mesh_config cfg;
	struct tload t;
	char text[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), HEAD "%s\n", bad[i].line);
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
	assert_int_equal(tload(&t, HEAD "mirror = nosuch@v9 10%\n", &cfg), 1);
	assert_non_null(strstr(t.errs, ":8: mirror: no service named 'nosuch'"));
	tload_done(&t);
	assert_int_equal(tload(&t, HEAD "mirror = api@v3 10%\n", &cfg), 1);
	assert_non_null(strstr(t.errs, ":8: mirror: service api has no version 'v3'"));
	tload_done(&t);
	assert_int_equal(tload(&t, HEAD "[service.web]\ncommand = /bin/true\nport = 18081\n"
	    "[route.web]\nmirror = api@v2 10%\n", &cfg), 1);
	assert_non_null(strstr(t.errs, ":12: mirror: [route.web] mirrors to a version of web"));
	tload_done(&t);
	assert_int_equal(tload(&t, "[service.db]\ncommand = /bin/true\nport = 18080\n"
	    "protocol = tcp\n[route.db]\nmirror = db@v1 5%\n", &cfg), 1);
	assert_non_null(strstr(t.errs, ":6: mirror: service db is not http"));
	tload_done(&t);
	/* the copies are HTTP/1.1 requests: not for an HTTP/2 service yet */
	assert_int_equal(tload(&t, "[service.pay]\ncommand = /bin/true\nport = 18080\n"
	    "protocol = grpc\n[service.pay@v2]\nport = 18082\nprotocol = grpc\n"
	    "[route.pay]\nmirror = pay@v2 5%\n", &cfg), 1);
	assert_non_null(strstr(t.errs, "mirror: service pay is grpc: mirroring copies "
	    "HTTP/1.1 requests only"));
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
