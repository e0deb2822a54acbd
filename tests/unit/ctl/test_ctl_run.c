/* SPDX-License-Identifier: ISC */
/*
 * ctl_run: which identity `meshctl run` calls as (--as forms, the one pure
 * client, the refusals and what they say), and what it reads from meshd's
 * `status --json` for that instance.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl_run.c"

static char path[] = "/tmp/test_ctl_run.XXXXXX";

static void
load(const char *text, struct mesh_config *cfg)
{
	int fd = mkstemp(path);

	assert_true(fd != -1);
	assert_true(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(config_load(path, cfg, stderr), 0);
	unlink(path);
	memcpy(path + strlen(path) - 6, "XXXXXX", 6);
}

/* What ctl_errx() printed during the last call (stderr into a file). */
static char said[1024];
static int saved_fd = -1;
static FILE *said_f;

static void
capture(void)
{
	fflush(stderr);
	said_f = tmpfile();
	assert_non_null(said_f);
	saved_fd = dup(2);
	dup2(fileno(said_f), 2);
}

static void
captured(void)
{
	size_t n;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	rewind(said_f);
	n = fread(said, 1, sizeof(said) - 1, said_f);
	said[n] = '\0';
	fclose(said_f);
}

static const char shop[] =
	"[mesh]\n"
	"name = shop\n"
	"[service.console]\n"
	"upstreams = api, web:21501\n"
	"[service.web]\n"
	"command = ./web\n"
	"port = 21510\n"
	"instances = 2\n"
	"upstreams = api\n"
	"[service.api]\n"
	"command = ./api\n"
	"port = 21520\n"
	"[service.api@v1.5]\n"
	"command = ./api\n"
	"port = 21530\n";

static void
test_as(void **state)
{
	const struct conf_service *sv;
	struct mesh_config cfg;
	unsigned index;

	(void)state;
	load(shop, &cfg);
	assert_int_equal(ctl_run_as(&cfg, "web", &sv, &index), 0);
	assert_string_equal(sv->name, "web");
	assert_int_equal(index, 0);
	assert_int_equal(ctl_run_as(&cfg, "web.1", &sv, &index), 0);
	assert_string_equal(sv->name, "web");
	assert_int_equal(index, 1);
	/* a SERVICE is its first declared version */
	assert_int_equal(ctl_run_as(&cfg, "api", &sv, &index), 0);
	assert_string_equal(sv->version, "v1");
	/* a version with a dot is a version, not an index */
	assert_int_equal(ctl_run_as(&cfg, "api@v1.5", &sv, &index), 0);
	assert_string_equal(sv->version, "v1.5");
	assert_int_equal(index, 0);
	assert_int_equal(ctl_run_as(&cfg, "api@v1.5.0", &sv, &index), 0);
	assert_string_equal(sv->version, "v1.5");
	assert_int_equal(ctl_run_as(&cfg, "api@v1.0", &sv, &index), 0);
	assert_string_equal(sv->version, "v1");

	capture();
	assert_int_equal(ctl_run_as(&cfg, "web.2", &sv, &index), -1);
	captured();
	assert_non_null(strstr(said, "--as web.2: service web has 2 instances in"));
	assert_non_null(strstr(said, "(index 0..1)"));
	capture();
	assert_int_equal(ctl_run_as(&cfg, "nosuch", &sv, &index), -1);
	captured();
	assert_non_null(strstr(said, "has no such service or instance (services: "
	    "console, web, api)"));
	capture();
	assert_int_equal(ctl_run_as(&cfg, "api@v9", &sv, &index), -1);
	assert_int_equal(ctl_run_as(&cfg, "web.", &sv, &index), -1);
	assert_int_equal(ctl_run_as(&cfg, "web.x", &sv, &index), -1);
	assert_int_equal(ctl_run_as(&cfg, "web.99999", &sv, &index), -1);
	captured();
	config_free(&cfg);
}

static void
test_default(void **state)
{
	const struct conf_service *sv;
	struct mesh_config cfg;

	(void)state;
	load(shop, &cfg);
	assert_int_equal(ctl_run_default(&cfg, &sv), 0);
	assert_string_equal(sv->name, "console");
	config_free(&cfg);

	/* none: say what to add, naming the services one can call */
	load("[mesh]\nname = x\n"
	    "[service.web]\ncommand = ./web\nport = 21510\n"
	    "[service.db]\nport = 21540\n"          /* external: callable */
	    "[service.job]\ncommand = ./job\n", &cfg); /* no port: not callable, not pure */
	capture();
	assert_int_equal(ctl_run_default(&cfg, &sv), -1);
	captured();
	assert_non_null(strstr(said, "has no pure-client service to call as: add "
	    "[service.console] with `upstreams = web, db` (no command, no port), "
	    "or pass --as SERVICE"));
	config_free(&cfg);

	/* several: name them, ask for --as */
	load("[mesh]\nname = x\n"
	    "[service.gw]\nupstreams = web\n"
	    "[service.web]\ncommand = ./web\nport = 21510\n"
	    "[service.ops]\nupstreams = web\n", &cfg);
	capture();
	assert_int_equal(ctl_run_default(&cfg, &sv), -1);
	captured();
	assert_non_null(strstr(said, "has 2 pure-client services (gw, ops): pass --as "
	    "one of them"));
	config_free(&cfg);
}

static const char status_doc[] =
	"{\"mesh\":{\"name\":\"shop\"},\"services\":["
	"{\"name\":\"console\",\"version\":\"v1\",\"instances\":["
	"{\"index\":0,\"name\":\"console.0\",\"id\":\"console@v1.0\",\"state\":\"ready\","
	"\"proxy_pid\":10,\"proxy_ready\":true,\"app_port\":null,\"inbound_port\":null,"
	"\"outbound_port\":15003,\"listeners\":[{\"port\":21501,\"upstream\":\"web\"},"
	"{\"port\":70000,\"upstream\":\"bad\"}]}]},"
	"{\"name\":\"web\",\"version\":\"v1\",\"instances\":["
	"{\"index\":0,\"name\":\"web.0\",\"id\":\"web@v1.0\",\"state\":\"starting\","
	"\"proxy_pid\":11,\"proxy_ready\":false,\"outbound_port\":15005,\"listeners\":[]},"
	"{\"index\":1,\"name\":\"web.1\",\"id\":\"web@v1.1\",\"state\":\"running\","
	"\"proxy_pid\":12,\"outbound_port\":15007,\"listeners\":[]}]}]}";

static void
test_find(void **state)
{
	struct ctl_run_inst in;
	struct json_doc d;
	char err[128];

	(void)state;
	assert_int_equal(json_scan_parse(&d, status_doc, strlen(status_doc), 1000,
	    err, sizeof(err)), 0);
	assert_int_equal(ctl_run_find(&d, "console@v1.0", &in), 0);
	assert_string_equal(in.name, "console.0");
	assert_true(in.ready);
	assert_int_equal(in.outbound_port, 15003);
	/* a port out of range is no listener */
	assert_int_equal(in.nlisteners, 1);
	assert_string_equal(in.listeners[0].upstream, "web");
	assert_int_equal(in.listeners[0].port, 21501);
	/* a sidecar that has not said READY */
	assert_int_equal(ctl_run_find(&d, "web@v1.0", &in), 0);
	assert_false(in.ready);
	assert_string_equal(in.state, "starting");
	/* no proxy_ready (an older meshd): the state says it */
	assert_int_equal(ctl_run_find(&d, "web@v1.1", &in), 0);
	assert_true(in.ready);
	assert_int_equal(in.outbound_port, 15007);
	assert_int_equal(ctl_run_find(&d, "web@v1.2", &in), -1);
	assert_int_equal(ctl_run_find(&d, "web.0", &in), -1);   /* ids, not names */
	json_scan_free(&d);
}

/* The environment ctl_run() execs with: the app's, without PORT. */
static void
test_env(void **state)
{
	const struct conf_service *sv;
	struct mesh_config cfg;
	struct ctl_run_inst in;
	unsigned index;
	char **env;
	size_t i;
	int port = 0, proxy = 0, up = 0;

	(void)state;
	load(shop, &cfg);
	assert_int_equal(ctl_run_as(&cfg, "web.1", &sv, &index), 0);
	memset(&in, 0, sizeof(in));
	in.outbound_port = 15007;
	in.listeners[0].upstream = "db";
	in.listeners[0].port = 5433;
	in.nlisteners = 1;
	unsetenv("PORT");
	assert_non_null(env = ctl_run_env(sv, index, &in));
	for (i = 0; env[i] != NULL; i++) {
		port += strncmp(env[i], "PORT=", 5) == 0;
		proxy += strcmp(env[i], "http_proxy=http://127.0.0.1:15007") == 0;
		up += strcmp(env[i], "MESH_UPSTREAM_DB=127.0.0.1:5433") == 0;
		if (strncmp(env[i], "MESH_INSTANCE=", 14) == 0)
			assert_string_equal(env[i], "MESH_INSTANCE=1");
	}
	assert_int_equal(port, 0);
	assert_int_equal(proxy, 1);
	assert_int_equal(up, 1);
	appenv_free(env);
	config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_as),
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
