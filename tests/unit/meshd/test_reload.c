/* SPDX-License-Identifier: ISC */
/*
 * test_reload: the diff a reload applies (routes, limits) and the one it
 * only reports ("restart needed for: ..."), and a file with errors that
 * changes nothing.  No sidecar is attached (ninst 0): the pushes are
 * tested by tests/integ/policy_reload.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mesh/meshd_ctx.h"
#include "mesh/reload.h"
#include "mesh/weights.h"

static char dir[] = "/tmp/test_reload.XXXXXX";
static struct meshd m;

static const char base[] =
	"[mesh]\n"
	"name = r\n"
	"max_connections = 100\n"
	"[service.web]\n"
	"upstreams = api\n"
	"[service.api]\n"
	"port = 21500\n"
	"[service.api@v2]\n"
	"port = 21510\n"
	"[route.api]\n"
	"split = v1:90, v2:10\n";

static void
put(const char *text)
{
	FILE *f;

	assert_non_null(f = fopen(m.config_path, "w"));
	fputs(text, f);
	fclose(f);
}

/* reload_run's return, its report in *out (malloc'd) */
static int
run(char **out)
{
	size_t len = 0;
	FILE *f;
	int rc;

	*out = NULL;
	assert_non_null(f = open_memstream(out, &len));
	rc = reload_run(&m, f);
	fclose(f);
	return rc;
}

static char *
subst(const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);
	char *s;

	assert_non_null(p);
	assert_non_null(s = malloc(strlen(text) + strlen(to) + 1));
	sprintf(s, "%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
	return s;
}

static void
test_routes_and_limits(void **state)
{
	char *text, *t2, *out;
	const struct conf_route *r;

	(void)state;
	text = subst(base, "v1:90, v2:10", "v1:50, v2:50\nretries = 3");
	t2 = subst(text, "max_connections = 100", "max_connections = 200");
	put(t2);
	assert_int_equal(run(&out), 0);
	assert_non_null(strstr(out, "route api: split v1=50 v2=50\n"));
	assert_non_null(strstr(out, "limits: changed"));
	assert_null(strstr(out, "restart needed"));
	r = config_route(&m.cfg, "api");
	assert_int_equal(r->split[0].weight, 50);
	assert_int_equal(r->retries, 3);
	assert_int_equal(m.cfg.mesh.max_connections, 200);
	free(out);
	free(t2);
	free(text);
	put(base);
	assert_int_equal(run(&out), 0);
	assert_int_equal(config_route(&m.cfg, "api")->retries, 0);
	free(out);
}

/* the registry keys are read once, at start */
static void
test_registry_needs_restart(void **state)
{
	char *text, *out;

	(void)state;
	text = subst(base, "name = r\n", "name = r\nregistry = etcd\n"
	    "etcd = http://127.0.0.1:2379\nhost_address = 127.0.0.1\nhost_name = a\n");
	put(text);
	assert_int_equal(run(&out), 0);
	assert_non_null(strstr(out, "restart needed for: [mesh] registry\n"));
	assert_int_equal(m.cfg.mesh.registry, CONF_REGISTRY_NONE);
	free(out);
	free(text);
	put(base);
	assert_int_equal(run(&out), 0);
	assert_null(strstr(out, "restart needed"));
	free(out);
}

static void
test_restart_needed(void **state)
{
	char *text, *t2, *t3, *out;
	const struct conf_service *before = config_service(&m.cfg, "api", "v1");

	(void)state;
	text = subst(base, "port = 21500", "port = 21501");
	t2 = subst(text, "name = r\n", "name = r\nport_base = 21600\n");
	t3 = subst(t2, "split = v1:90, v2:10", "split = v1:80, v2:20\n[service.extra]\nport = 21520");
	put(t3);
	assert_int_equal(run(&out), 0);
	assert_non_null(strstr(out, "restart needed for: [mesh] port_base, "
	    "service api@v1 (port), service extra@v1 (added)\n"));
	assert_non_null(strstr(out, "route api: split v1=80 v2=20\n"));   /* applied all the same */
	/* the services are the ones the mesh started with */
	assert_ptr_equal(config_service(&m.cfg, "api", "v1"), before);
	assert_int_equal(before->port, 21500);
	assert_null(config_service(&m.cfg, "extra", NULL));
	free(out);
	free(t3);
	free(t2);
	free(text);
	put(base);
	assert_int_equal(run(&out), 0);
	free(out);
}

static void
test_errors_change_nothing(void **state)
{
	char *text, *out;

	(void)state;
	text = subst(base, "v1:90, v2:10", "v1:10, v2:90\nretries = many");
	put(text);
	assert_int_equal(run(&out), 1);
	assert_non_null(strstr(out, "mesh.ini:12: "));
	assert_non_null(strstr(out, "nothing changed"));
	assert_int_equal(config_route(&m.cfg, "api")->split[0].weight, 90);
	free(out);
	free(text);
	put(base);
}

static void
test_weight_meets_reload(void **state)
{
	struct weight w;
	char why[128], *text, *out;

	(void)state;
	assert_int_equal(weights_parse(&m.cfg, "api v1=0 v2=100", &w, why, sizeof(why)), 0);
	assert_int_equal(weights_set(&m.weights, &m.cfg, &w), 0);
	assert_int_equal(run(&out), 0);            /* same file: the weight stays */
	assert_int_equal(config_route(&m.cfg, "api")->split[1].weight, 100);
	free(out);
	text = subst(base, "v1:90, v2:10", "v1:70, v2:30");
	put(text);
	assert_int_equal(run(&out), 0);            /* the file's split changed: it wins */
	assert_non_null(strstr(out, "route api: the file's split replaces"));
	assert_int_equal(config_route(&m.cfg, "api")->split[1].weight, 30);
	assert_int_equal(m.weights.n, 0);
	free(out);
	free(text);
	put(base);
	assert_int_equal(run(&out), 0);
	free(out);
}

static int
setup(void **state)
{
	char path[512];

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(m.config_path, sizeof(m.config_path), "%s/mesh.ini", dir);
	put(base);
	if (config_load(m.config_path, &m.cfg, stderr) != 0)
		return -1;
	/* where a dropped weight's file is rewritten */
	snprintf(path, sizeof(path), "%s", m.cfg.mesh.state_dir);
	return mkdir(path, 0700);
}

static int
teardown(void **state)
{
	char cmd[512];

	(void)state;
	weights_free(&m.weights);
	config_free(&m.cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_and_limits),
		cmocka_unit_test(test_restart_needed),
		cmocka_unit_test(test_registry_needs_restart),
		cmocka_unit_test(test_errors_change_nothing),
		cmocka_unit_test(test_weight_meets_reload),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
