/* SPDX-License-Identifier: ISC */
/*
 * appenv: the environment of a caller in the mesh (an app meshd starts, a
 * command `meshctl run` runs): what is set, what is replaced, what is
 * dropped, and in which order env.* keys win.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/appenv.h"

/* The value of KEY in env, NULL when absent; fails on a key set twice. */
static const char *
get(char **env, const char *key)
{
	size_t kl = strlen(key), i;
	const char *v = NULL;

	for (i = 0; env[i] != NULL; i++)
		if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=') {
			if (v != NULL)
				fail_msg("%s set twice", key);
			v = env[i] + kl + 1;
		}
	return v;
}

static void
test_app(void **state)
{
	static const struct appenv_listener ls[] = {
		{ "db", 5433 }, { "auth", 0 }, { "user-store", 5440 },
	};
	struct conf_env kv[] = { { (char *)"FOO", (char *)"bar" },
	    { (char *)"MESH_INSTANCE", (char *)"override" } };
	struct appenv_spec s;
	char **env;

	(void)state;
	setenv("http_proxy", "http://elsewhere:3128", 1);
	setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
	setenv("KEEP_ME", "yes", 1);
	memset(&s, 0, sizeof(s));
	s.service = "api";
	s.version = "v2";
	s.index = 1;
	s.app_port = 9091;
	s.outbound_port = 15001;
	s.listeners = ls;
	s.nlisteners = 3;
	s.env = kv;
	s.nenv = 2;
	assert_non_null(env = appenv_build(&s));
	assert_string_equal(get(env, "PORT"), "9091");
	assert_string_equal(get(env, "MESH_SERVICE"), "api");
	assert_string_equal(get(env, "MESH_VERSION"), "v2");
	/* env.* keys come last and win */
	assert_string_equal(get(env, "MESH_INSTANCE"), "override");
	assert_string_equal(get(env, "FOO"), "bar");
	/* the caller's own proxy is replaced, not duplicated */
	assert_string_equal(get(env, "http_proxy"), "http://127.0.0.1:15001");
	assert_string_equal(get(env, "HTTP_PROXY"), "http://127.0.0.1:15001");
	assert_string_equal(get(env, "no_proxy"), APPENV_NO_PROXY);
	assert_string_equal(get(env, "NO_PROXY"), APPENV_NO_PROXY);
	assert_string_equal(get(env, "MESH_UPSTREAM_DB"), "127.0.0.1:5433");
	assert_string_equal(get(env, "MESH_UPSTREAM_USER_STORE"), "127.0.0.1:5440");
	assert_null(get(env, "MESH_UPSTREAM_AUTH"));
	assert_string_equal(get(env, "KEEP_ME"), "yes");
	assert_null(get(env, "NOTIFY_SOCKET"));
	appenv_free(env);
	unsetenv("http_proxy");
	unsetenv("NOTIFY_SOCKET");
	unsetenv("KEEP_ME");
}

/* A caller (meshctl run): no app port, so no PORT, even inherited. */
static void
test_caller(void **state)
{
	struct appenv_spec s;
	char **env;

	(void)state;
	setenv("PORT", "8080", 1);
	memset(&s, 0, sizeof(s));
	s.service = "console";
	s.version = "v1";
	s.outbound_port = 15000;
	assert_non_null(env = appenv_build(&s));
	/* an inherited PORT stays: it is the caller's own, not the mesh's */
	assert_string_equal(get(env, "PORT"), "8080");
	assert_string_equal(get(env, "MESH_INSTANCE"), "0");
	assert_string_equal(get(env, "http_proxy"), "http://127.0.0.1:15000");
	appenv_free(env);
	unsetenv("PORT");
}

static void
test_inherit(void **state)
{
	char **env;

	(void)state;
	setenv("WATCHDOG_USEC", "1000", 1);
	setenv("LISTEN_FDS", "2", 1);
	setenv("SOMETHING", "x=y", 1);
	assert_non_null(env = appenv_inherit());
	assert_null(get(env, "WATCHDOG_USEC"));
	assert_null(get(env, "LISTEN_FDS"));
	assert_string_equal(get(env, "SOMETHING"), "x=y");
	assert_null(get(env, "http_proxy"));
	appenv_free(env);
	unsetenv("WATCHDOG_USEC");
	unsetenv("LISTEN_FDS");
	unsetenv("SOMETHING");
}

static void
test_upstream_key(void **state)
{
	char buf[CONF_NAME_MAX + 16], small[16];

	(void)state;
	assert_int_equal(appenv_upstream_key("order-db2", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "MESH_UPSTREAM_ORDER_DB2");
	assert_int_equal(appenv_upstream_key("toolongforthis", small, sizeof(small)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_app),
		cmocka_unit_test(test_caller),
		cmocka_unit_test(test_inherit),
		cmocka_unit_test(test_upstream_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
