/* SPDX-License-Identifier: ISC */
/*
 * test_weights: `meshctl weight` validation, the route it changes (or
 * creates), the persisted file (atomic, read back, bad lines skipped) and
 * how a reload's new routes meet an override.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/weights.h"

#define OVR_FILE "weights"
#include "test_overrides_util.h"

static const char ini[] =
	"[mesh]\n"
	"name = w\n"
	"[service.web]\n"
	"upstreams = api, db\n"
	"[service.api]\n"
	"port = 21400\n"
	"[service.api@v2]\n"
	"port = 21410\n"
	"[service.api@v3]\n"
	"port = 21420\n"
	"[service.db]\n"
	"port = 21430\n"
	"[service.db@v2]\n"
	"port = 21440\n"
	"[route.api]\n"
	"split = v1:80, v2:20\n"
	"retries = 2\n";

static const struct conf_route *
route(const struct mesh_config *cfg, const char *name)
{
	return config_route(cfg, name);
}

static void
test_parse(void **state)
{
	struct mesh_config cfg;
	struct weight w;
	char why[256];

	(void)state;
	ovr_load(&cfg, ini);
	assert_int_equal(weights_parse(&cfg, "api v1=90 v2=10", &w, why, sizeof(why)), 0);
	assert_string_equal(w.service, "api");
	assert_int_equal(w.nsplit, 3);   /* every version; v3 left out: 0 */
	assert_string_equal(w.split[0].version, "v1");
	assert_int_equal(w.split[0].weight, 90);
	assert_int_equal(w.split[1].weight, 10);
	assert_string_equal(w.split[2].version, "v3");
	assert_int_equal(w.split[2].weight, 0);
	assert_int_equal(weights_parse(&cfg, "api v1=0 v2=100", &w, why, sizeof(why)), 0);

	assert_int_equal(weights_parse(&cfg, "api v1=90 v2=20", &w, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "sum to 110, not 100"));
	assert_int_equal(weights_parse(&cfg, "api v1=90 v9=10", &w, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no version 'v9'"));
	assert_int_equal(weights_parse(&cfg, "nope v1=100", &w, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no service 'nope'"));
	assert_int_equal(weights_parse(&cfg, "api v1=90.5 v2=9.5", &w, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "integer 0..100"));
	assert_int_equal(weights_parse(&cfg, "api v1=-10 v2=110", &w, why, sizeof(why)), -1);
	assert_int_equal(weights_parse(&cfg, "api v1=101", &w, why, sizeof(why)), -1);
	assert_int_equal(weights_parse(&cfg, "api v1=50 v1=50", &w, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "twice"));
	assert_int_equal(weights_parse(&cfg, "api v1", &w, why, sizeof(why)), -1);
	assert_int_equal(weights_parse(&cfg, "api", &w, why, sizeof(why)), -1);
	assert_int_equal(weights_parse(&cfg, "api =100", &w, why, sizeof(why)), -1);
	assert_int_equal(weights_parse(&cfg, "", &w, why, sizeof(why)), -1);
	config_free(&cfg);
}

static void
test_set_save_load(void **state)
{
	struct mesh_config cfg, cfg2;
	struct weights ws = { 0 }, ws2 = { 0 };
	const struct conf_route *r;
	struct weight w;
	char why[256], path[256], *log = NULL;
	size_t loglen = 0;
	FILE *f;

	(void)state;
	ovr_load(&cfg, ini);
	assert_int_equal(weights_parse(&cfg, "api v2=100", &w, why, sizeof(why)), 0);
	assert_int_equal(weights_set(&ws, &cfg, &w), 0);
	r = route(&cfg, "api");
	assert_int_equal(r->nsplit, 3);
	assert_int_equal(r->split[0].weight, 0);
	assert_int_equal(r->split[1].weight, 100);
	assert_int_equal(r->retries, 2);          /* the rest of the route stays */
	/* db has no [route.db]: one is made, with every default */
	assert_null(route(&cfg, "db"));
	assert_int_equal(weights_parse(&cfg, "db v1=30 v2=70", &w, why, sizeof(why)), 0);
	assert_int_equal(weights_set(&ws, &cfg, &w), 0);
	assert_non_null(r = route(&cfg, "db"));
	assert_int_equal(r->nsplit, 2);
	assert_int_equal(r->split[1].weight, 70);
	assert_int_equal(r->breaker_failures, 5);
	assert_int_equal(r->connect_timeout_us, 1000000);
	/* a second weight for api replaces the first */
	assert_int_equal(weights_parse(&cfg, "api v1=50 v3=50", &w, why, sizeof(why)), 0);
	assert_int_equal(weights_set(&ws, &cfg, &w), 0);
	assert_int_equal(ws.n, 2);
	assert_int_equal(route(&cfg, "api")->split[2].weight, 50);

	assert_int_equal(weights_save(&ws, ovr_dir), 0);
	snprintf(path, sizeof(path), "%s/.weights.tmp", ovr_dir);
	assert_int_equal(access(path, F_OK), -1);   /* renamed over, not left */

	/* read back into a fresh config, with a bad line and a stale version */
	snprintf(path, sizeof(path), "%s/weights", ovr_dir);
	assert_non_null(f = fopen(path, "a"));
	fputs("api v1=50 v4=50\n# comment\n\nzzz v1=100\n", f);
	fclose(f);
	ovr_load(&cfg2, ini);
	assert_non_null(f = open_memstream(&log, &loglen));
	weights_load(&ws2, &cfg2, ovr_dir, f);
	fclose(f);
	assert_int_equal(ws2.n, 2);
	assert_int_equal(route(&cfg2, "api")->split[0].weight, 50);
	assert_int_equal(route(&cfg2, "api")->split[2].weight, 50);
	assert_int_equal(route(&cfg2, "db")->split[0].weight, 30);
	assert_non_null(strstr(log, "weights:4: ignored: weight: service api has no version 'v4'"));
	assert_non_null(strstr(log, "weights:7: ignored: weight: no service 'zzz'"));
	free(log);
	weights_free(&ws2);
	config_free(&cfg2);
	weights_free(&ws);
	config_free(&cfg);
	unlink(path);
}

static void
test_reapply(void **state)
{
	struct mesh_config cfg;
	struct weights ws = { 0 };
	struct weight w;
	char why[256], *log = NULL;
	size_t loglen = 0;
	FILE *f;

	(void)state;
	ovr_load(&cfg, ini);
	assert_int_equal(weights_parse(&cfg, "api v1=10 v2=90", &w, why, sizeof(why)), 0);
	assert_int_equal(weights_set(&ws, &cfg, &w), 0);
	assert_int_equal(weights_parse(&cfg, "db v2=100", &w, why, sizeof(why)), 0);
	assert_int_equal(weights_set(&ws, &cfg, &w), 0);

	/* the same file again: both overrides come back on the new routes */
	ovr_swap_routes(&cfg, ini);
	assert_int_equal(weights_reapply(&ws, &cfg, NULL), 0);
	assert_int_equal(route(&cfg, "api")->split[1].weight, 90);
	assert_int_equal(route(&cfg, "db")->split[1].weight, 100);

	/* api's split changed in the file: the file wins, db's override stays */
	{
		char *text = strdup(ini), *p = strstr(text, "v1:80, v2:20");

		memcpy(p, "v1:60, v2:40", 12);
		ovr_swap_routes(&cfg, text);
		free(text);
	}
	assert_non_null(f = open_memstream(&log, &loglen));
	assert_int_equal(weights_reapply(&ws, &cfg, f), 1);
	fclose(f);
	assert_non_null(strstr(log, "route api: the file's split replaces"));
	assert_int_equal(ws.n, 1);
	assert_string_equal(ws.w[0].service, "db");
	assert_int_equal(route(&cfg, "api")->split[0].weight, 60);
	assert_int_equal(route(&cfg, "db")->split[1].weight, 100);
	free(log);
	weights_free(&ws);
	config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_set_save_load),
		cmocka_unit_test(test_reapply),
	};

	return cmocka_run_group_tests(tests, ovr_setup, ovr_teardown);
}
