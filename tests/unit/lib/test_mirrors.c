/* SPDX-License-Identifier: ISC */
/*
 * test_mirrors: `meshctl mirror` values (VERSION=P% through the file's
 * own mirror parser, and what it refuses), the line format, the route an
 * override changes (or creates), off, the persisted file (read back, bad
 * lines skipped) and how a reload's new routes meet an override.
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

#include "mesh/mirrors.h"

#define OVR_FILE "mirrors"
#include "test_overrides_util.h"

static const char ini[] =
	"[mesh]\n"
	"name = m\n"
	"[service.web]\n"
	"upstreams = api, db, tcpd, rpc\n"
	"[service.api]\n"
	"port = 21600\n"
	"[service.api@v2]\n"
	"port = 21610\n"
	"[service.api@v3]\n"
	"port = 21615\n"
	"[service.db]\n"
	"port = 21620\n"
	"[service.tcpd]\n"
	"port = 21630\n"
	"protocol = tcp\n"
	"[service.rpc]\n"
	"port = 21640\n"
	"protocol = grpc\n"
	"[route.api]\n"
	"mirror = api@v2 5%\n";

/* line parsed against cfg: 0, or -1 with why holding the reason */
static int
parse(const struct mesh_config *cfg, const char *line, struct mirror_ovr *o, char *why)
{
	why[0] = '\0';
	return mirrors_parse(cfg, line, o, why, 256);
}

static void
test_parse_format(void **state)
{
	struct mesh_config cfg;
	struct mirror_ovr o;
	char why[256], buf[MIRRORS_LINE_MAX], desc[64];

	(void)state;
	ovr_load(&cfg, ini);
	assert_int_equal(parse(&cfg, "api v3=10%", &o, why), 0);
	assert_string_equal(o.service, "api");
	assert_string_equal(o.mirror.service, "api");
	assert_string_equal(o.mirror.version, "v3");
	assert_int_equal(o.mirror.permille, 100);
	assert_int_equal(o.mirror.line, 0);
	assert_int_equal(o.off, 0);
	assert_int_equal(mirrors_format(&o, buf, sizeof(buf)), strlen("api v3=10%"));
	assert_string_equal(buf, "api v3=10%");
	mirrors_describe(&o.mirror, desc, sizeof(desc));
	assert_string_equal(desc, "mirror v3 10%");
	assert_int_equal(parse(&cfg, "api\tv2=0.5%", &o, why), 0);
	mirrors_format(&o, buf, sizeof(buf));
	assert_string_equal(buf, "api v2=0.5%");
	assert_int_equal(parse(&cfg, "api off", &o, why), 0);
	assert_int_equal(o.off, 1);
	mirrors_format(&o, buf, sizeof(buf));
	assert_string_equal(buf, "api off");
	mirrors_describe(&o.mirror, desc, sizeof(desc));
	assert_string_equal(desc, "no mirror");

	/* refused, each with its reason */
	assert_int_equal(parse(&cfg, "api v9=10%", &o, why), -1);
	assert_non_null(strstr(why, "has no version 'v9'"));
	assert_int_equal(parse(&cfg, "api v2=120%", &o, why), -1);
	assert_non_null(strstr(why, "share out of range 0%..100%"));
	assert_int_equal(parse(&cfg, "api v2=10", &o, why), -1);
	assert_non_null(strstr(why, "want VERSION=P%"));
	assert_int_equal(parse(&cfg, "api v2", &o, why), -1);
	assert_non_null(strstr(why, "want VERSION=P%"));
	assert_int_equal(parse(&cfg, "api =10%", &o, why), -1);
	assert_int_equal(parse(&cfg, "api V2=10%", &o, why), -1);
	assert_non_null(strstr(why, "bad version"));
	assert_int_equal(parse(&cfg, "api v2=10% v3=5%", &o, why), -1);
	assert_int_equal(parse(&cfg, "api off now", &o, why), -1);
	assert_int_equal(parse(&cfg, "api", &o, why), -1);
	assert_int_equal(parse(&cfg, "", &o, why), -1);
	assert_non_null(strstr(why, "no service named"));
	assert_int_equal(parse(&cfg, "zzz v2=10%", &o, why), -1);
	assert_non_null(strstr(why, "no service 'zzz'"));
	assert_int_equal(parse(&cfg, "tcpd v1=10%", &o, why), -1);
	assert_non_null(strstr(why, "not http"));
	assert_int_equal(parse(&cfg, "rpc v1=10%", &o, why), -1);
	assert_non_null(strstr(why, "rpc is grpc: mirroring copies HTTP/1.1 requests only"));
	config_free(&cfg);
}

static void
test_set_off(void **state)
{
	struct mesh_config cfg;
	struct mirrors ms = { 0 };
	struct mirror_ovr o;
	char why[256];

	(void)state;
	ovr_load(&cfg, ini);
	/* over the file's mirror: replaced, the file's kept aside */
	assert_int_equal(parse(&cfg, "api v3=50%", &o, why), 0);
	assert_int_equal(mirrors_set(&ms, &cfg, &o), 0);
	assert_int_equal(ms.n, 1);
	assert_string_equal(config_route(&cfg, "api")->mirror.version, "v3");
	assert_int_equal(config_route(&cfg, "api")->mirror.permille, 500);
	assert_int_equal(ms.m[0].file.permille, 50);
	/* off suspends the file's: kept as an override */
	assert_int_equal(parse(&cfg, "api off", &o, why), 0);
	assert_int_equal(mirrors_set(&ms, &cfg, &o), 0);
	assert_int_equal(ms.n, 1);
	assert_int_equal(ms.m[0].off, 1);
	assert_int_equal(ms.m[0].file.permille, 50);   /* still the file's */
	assert_int_equal(config_route(&cfg, "api")->mirror.permille, 0);
	assert_non_null(mirrors_find(&ms, "api"));
	/* a service without a route gets one; off there is forgotten */
	assert_null(config_route(&cfg, "db"));
	assert_int_equal(parse(&cfg, "db v1=100%", &o, why), 0);
	assert_int_equal(mirrors_set(&ms, &cfg, &o), 0);
	assert_int_equal(config_route(&cfg, "db")->mirror.permille, 1000);
	assert_int_equal(ms.n, 2);
	assert_int_equal(parse(&cfg, "db off", &o, why), 0);
	assert_int_equal(mirrors_set(&ms, &cfg, &o), 0);
	assert_int_equal(config_route(&cfg, "db")->mirror.permille, 0);
	assert_int_equal(ms.n, 1);
	assert_null(mirrors_find(&ms, "db"));
	mirrors_free(&ms);
	config_free(&cfg);
}

static void
test_save_load(void **state)
{
	struct mesh_config cfg, cfg2;
	struct mirrors ms = { 0 }, ms2 = { 0 };
	struct mirror_ovr o;
	char why[256], path[256], *log = NULL;
	size_t loglen = 0;
	FILE *f;

	(void)state;
	ovr_load(&cfg, ini);
	assert_int_equal(parse(&cfg, "api off", &o, why), 0);
	assert_int_equal(mirrors_set(&ms, &cfg, &o), 0);
	assert_int_equal(parse(&cfg, "db v1=2.5%", &o, why), 0);
	assert_int_equal(mirrors_set(&ms, &cfg, &o), 0);
	assert_int_equal(mirrors_save(&ms, ovr_dir), 0);
	snprintf(path, sizeof(path), "%s/.mirrors.tmp", ovr_dir);
	assert_int_equal(access(path, F_OK), -1);

	snprintf(path, sizeof(path), "%s/mirrors", ovr_dir);
	assert_non_null(f = fopen(path, "a"));
	fputs("api v2=120%\n# comment\n\nzzz v1=5%\napi v9=1%\n", f);
	fclose(f);
	ovr_load(&cfg2, ini);
	assert_non_null(f = open_memstream(&log, &loglen));
	mirrors_load(&ms2, &cfg2, ovr_dir, f);
	fclose(f);
	assert_int_equal(ms2.n, 2);
	assert_int_equal(config_route(&cfg2, "api")->mirror.permille, 0);
	assert_int_equal(ms2.m[0].off, 1);
	assert_int_equal(config_route(&cfg2, "db")->mirror.permille, 25);
	assert_non_null(strstr(log, "mirrors:4: ignored: mirror: api: 'v2=120%': share out of range"));
	assert_non_null(strstr(log, "mirrors:7: ignored: mirror: no service 'zzz'"));
	assert_non_null(strstr(log, "mirrors:8: ignored: mirror: service api has no version 'v9'"));
	free(log);
	mirrors_free(&ms2);
	config_free(&cfg2);
	mirrors_free(&ms);
	config_free(&cfg);
	unlink(path);
}

static void
test_reapply(void **state)
{
	struct mesh_config cfg;
	struct mirrors ms = { 0 };
	struct mirror_ovr o;
	char why[256], *log = NULL, *text;
	size_t loglen = 0;
	FILE *f;

	(void)state;
	ovr_load(&cfg, ini);
	assert_int_equal(parse(&cfg, "api v3=20%", &o, why), 0);
	assert_int_equal(mirrors_set(&ms, &cfg, &o), 0);
	assert_int_equal(parse(&cfg, "db v1=1%", &o, why), 0);
	assert_int_equal(mirrors_set(&ms, &cfg, &o), 0);

	/* the same file again: both come back on the new routes */
	ovr_swap_routes(&cfg, ini);
	assert_int_equal(mirrors_reapply(&ms, &cfg, NULL), 0);
	assert_string_equal(config_route(&cfg, "api")->mirror.version, "v3");
	assert_int_equal(config_route(&cfg, "db")->mirror.permille, 10);

	/* api's mirror key changed in the file: the file wins, db's stays */
	text = strdup(ini);
	memcpy(strstr(text, "api@v2 5%"), "api@v2 7%", 9);
	ovr_swap_routes(&cfg, text);
	free(text);
	assert_non_null(f = open_memstream(&log, &loglen));
	assert_int_equal(mirrors_reapply(&ms, &cfg, f), 1);
	fclose(f);
	assert_non_null(strstr(log, "route api: the file's mirror replaces the one set by "
	    "`meshctl mirror`"));
	assert_int_equal(ms.n, 1);
	assert_string_equal(ms.m[0].service, "db");
	assert_int_equal(config_route(&cfg, "api")->mirror.permille, 70);
	assert_string_equal(config_route(&cfg, "api")->mirror.version, "v2");
	mirrors_free(&ms);
	config_free(&cfg);
	free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format),
		cmocka_unit_test(test_set_off),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_reapply),
	};

	return cmocka_run_group_tests(tests, ovr_setup, ovr_teardown);
}
