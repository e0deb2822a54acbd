/* SPDX-License-Identifier: ISC */
/*
 * test_faults: `meshctl fault` values (the config's parsers behind the
 * P%:D forms), the line format, the route an override changes (or
 * creates), --off and --off-all, the persisted file (atomic, read back,
 * bad lines skipped) and how a reload's new routes meet an override.
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

#include "mesh/faults.h"

#define OVR_FILE "faults"
#include "test_overrides_util.h"

static const char ini[] =
	"[mesh]\n"
	"name = f\n"
	"[service.web]\n"
	"upstreams = api, db, tcpd\n"
	"[service.api]\n"
	"port = 21500\n"
	"[service.api@v2]\n"
	"port = 21510\n"
	"[service.db]\n"
	"port = 21520\n"
	"[service.tcpd]\n"
	"port = 21530\n"
	"protocol = tcp\n"
	"[route.api]\n"
	"fault.abort = 10% 503\n"
	"retries = 2\n";

static void
test_opt(void **state)
{
	struct conf_fault f;
	char why[256];

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(faults_opt(&f, "delay", "10%:300ms", why, sizeof(why)), 0);
	assert_int_equal(f.delay_permille, 100);
	assert_int_equal(f.delay_us, 300000);
	assert_int_equal(faults_opt(&f, "abort", "0.5%:503", why, sizeof(why)), 0);
	assert_int_equal(f.abort_permille, 5);
	assert_int_equal(f.abort_status, 503);
	assert_int_equal(faults_opt(&f, "match", "x-chaos: 1", why, sizeof(why)), 0);
	assert_string_equal(f.match_header, "x-chaos");
	assert_string_equal(f.match_value, "1");
	assert_int_equal(faults_opt(&f, "version", "v2", why, sizeof(why)), 0);
	assert_string_equal(f.version, "v2");

	assert_int_equal(faults_opt(&f, "abort", "120%:503", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "abort '120%:503': share out of range"));
	assert_int_equal(faults_opt(&f, "delay", "10%:0ms", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "delay out of range 1ms..1h"));
	assert_int_equal(faults_opt(&f, "abort", "5%:99", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "out of range 200..599"));
	assert_int_equal(faults_opt(&f, "delay", "10% 300ms", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "want P%:DURATION"));
	assert_int_equal(faults_opt(&f, "delay", "10%300ms", why, sizeof(why)), -1);
	assert_int_equal(faults_opt(&f, "delay", "10%:", why, sizeof(why)), -1);
	assert_int_equal(faults_opt(&f, "delay", "x%:1s", why, sizeof(why)), -1);
	assert_int_equal(faults_opt(&f, "delay", "10%:soon", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not a duration"));
	assert_int_equal(faults_opt(&f, "match", "x chaos: 1", why, sizeof(why)), -1);
	assert_int_equal(faults_opt(&f, "version", "V 2", why, sizeof(why)), -1);
	assert_int_equal(faults_opt(&f, "speed", "1", why, sizeof(why)), -1);
	/* what failed left f as it was */
	assert_int_equal(f.delay_us, 300000);
	assert_int_equal(f.abort_status, 503);
}

static void
test_parse_format(void **state)
{
	struct mesh_config cfg;
	struct fault_ovr o, back;
	char why[256], line[FAULTS_LINE_MAX], desc[256];

	(void)state;
	ovr_load(&cfg, ini);
	assert_int_equal(faults_parse(&cfg, "api delay 10%:300ms abort 0.5%:503 "
	    "version v2 match x-chaos:1", &o, why, sizeof(why)), 0);
	assert_string_equal(o.service, "api");
	assert_int_equal(o.off, 0);
	assert_int_equal(o.fault.delay_line, 0);
	faults_format(&o, line, sizeof(line));
	assert_string_equal(line, "api delay 10%:300ms abort 0.5%:503 version v2 match x-chaos:1");
	assert_int_equal(faults_parse(&cfg, line, &back, why, sizeof(why)), 0);
	assert_memory_equal(&back, &o, sizeof(o));
	faults_describe(&o.fault, desc, sizeof(desc));
	assert_string_equal(desc, "abort 0.5% 503, delay 10% 300ms, version v2, match x-chaos: 1");

	assert_int_equal(faults_parse(&cfg, "db off", &o, why, sizeof(why)), 0);
	assert_int_equal(o.off, 1);
	faults_format(&o, line, sizeof(line));
	assert_string_equal(line, "db off");
	faults_describe(&o.fault, desc, sizeof(desc));
	assert_string_equal(desc, "none");

	assert_int_equal(faults_parse(&cfg, "nope abort 5%:503", &o, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no service 'nope'"));
	assert_int_equal(faults_parse(&cfg, "api abort 5%:503 version v9", &o, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no version 'v9'"));
	assert_int_equal(faults_parse(&cfg, "tcpd abort 5%:503", &o, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not http"));
	assert_int_equal(faults_parse(&cfg, "api version v2", &o, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "want a delay or an abort"));
	assert_int_equal(faults_parse(&cfg, "api abort 5%:503 abort 6%:503", &o, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "twice"));
	assert_int_equal(faults_parse(&cfg, "api abort", &o, why, sizeof(why)), -1);
	assert_int_equal(faults_parse(&cfg, "api off abort 5%:503", &o, why, sizeof(why)), -1);
	assert_int_equal(faults_parse(&cfg, "api speed 5", &o, why, sizeof(why)), -1);
	assert_int_equal(faults_parse(&cfg, "api", &o, why, sizeof(why)), -1);
	assert_int_equal(faults_parse(&cfg, "", &o, why, sizeof(why)), -1);
	config_free(&cfg);
}

static void
test_set_off(void **state)
{
	struct mesh_config cfg;
	struct faults fs = { 0 };
	struct fault_ovr o;
	const struct conf_route *r;
	char why[256], names[128] = "";

	(void)state;
	ovr_load(&cfg, ini);
	/* a live fault replaces the file's whole fault; the rest stays */
	assert_int_equal(faults_parse(&cfg, "api delay 100%:1s", &o, why, sizeof(why)), 0);
	assert_int_equal(faults_set(&fs, &cfg, &o), 0);
	r = config_route(&cfg, "api");
	assert_int_equal(r->fault.delay_us, 1000000);
	assert_int_equal(r->fault.abort_permille, 0);
	assert_int_equal(r->retries, 2);
	assert_int_equal(fs.f[0].file.abort_permille, 100);   /* the file's, kept */
	/* db has no [route.db]: one is made, with every default */
	assert_null(config_route(&cfg, "db"));
	assert_int_equal(faults_parse(&cfg, "db abort 50%:500", &o, why, sizeof(why)), 0);
	assert_int_equal(faults_set(&fs, &cfg, &o), 0);
	assert_non_null(r = config_route(&cfg, "db"));
	assert_int_equal(r->fault.abort_status, 500);
	assert_int_equal(r->breaker_failures, 5);
	assert_int_equal(fs.n, 2);
	/* --off where the file has no fault: the override is forgotten */
	assert_int_equal(faults_parse(&cfg, "db off", &o, why, sizeof(why)), 0);
	assert_int_equal(faults_set(&fs, &cfg, &o), 0);
	assert_int_equal(fs.n, 1);
	assert_null(faults_find(&fs, "db"));
	assert_false(faults_active(&config_route(&cfg, "db")->fault));
	/* --off where the file has one: an off override suspends it */
	assert_int_equal(faults_parse(&cfg, "api off", &o, why, sizeof(why)), 0);
	assert_int_equal(faults_set(&fs, &cfg, &o), 0);
	assert_int_equal(fs.n, 1);
	assert_true(faults_find(&fs, "api")->off);
	assert_false(faults_active(&config_route(&cfg, "api")->fault));
	/* nothing in force: --off-all finds nothing */
	assert_int_equal(faults_off_all(&fs, &cfg, names, sizeof(names)), 0);
	/* two faults in force: --off-all turns both off */
	assert_int_equal(faults_parse(&cfg, "api abort 1%:503", &o, why, sizeof(why)), 0);
	assert_int_equal(faults_set(&fs, &cfg, &o), 0);
	assert_int_equal(faults_parse(&cfg, "db abort 1%:503", &o, why, sizeof(why)), 0);
	assert_int_equal(faults_set(&fs, &cfg, &o), 0);
	assert_int_equal(faults_off_all(&fs, &cfg, names, sizeof(names)), 2);
	assert_string_equal(names, "api, db");
	assert_false(faults_active(&config_route(&cfg, "api")->fault));
	assert_false(faults_active(&config_route(&cfg, "db")->fault));
	assert_int_equal(fs.n, 1);             /* api off (its file has one) */
	assert_true(fs.f[0].off);
	faults_free(&fs);
	config_free(&cfg);
}

static void
test_save_load(void **state)
{
	struct mesh_config cfg, cfg2;
	struct faults fs = { 0 }, fs2 = { 0 };
	struct fault_ovr o;
	char why[256], path[256], *log = NULL;
	size_t loglen = 0;
	FILE *f;

	(void)state;
	ovr_load(&cfg, ini);
	assert_int_equal(faults_parse(&cfg, "api abort 100%:503 version v2", &o, why, sizeof(why)), 0);
	assert_int_equal(faults_set(&fs, &cfg, &o), 0);
	assert_int_equal(faults_parse(&cfg, "db delay 10%:250ms", &o, why, sizeof(why)), 0);
	assert_int_equal(faults_set(&fs, &cfg, &o), 0);
	assert_int_equal(faults_save(&fs, ovr_dir), 0);
	snprintf(path, sizeof(path), "%s/.faults.tmp", ovr_dir);
	assert_int_equal(access(path, F_OK), -1);   /* renamed over, not left */

	/* read back into a fresh config, with bad lines */
	snprintf(path, sizeof(path), "%s/faults", ovr_dir);
	assert_non_null(f = fopen(path, "a"));
	fputs("api abort 120%:503\n# comment\n\nzzz abort 5%:503\ntcpd delay 1%:1s\n", f);
	fclose(f);
	ovr_load(&cfg2, ini);
	assert_non_null(f = open_memstream(&log, &loglen));
	faults_load(&fs2, &cfg2, ovr_dir, f);
	fclose(f);
	assert_int_equal(fs2.n, 2);
	assert_int_equal(config_route(&cfg2, "api")->fault.abort_permille, 1000);
	assert_string_equal(config_route(&cfg2, "api")->fault.version, "v2");
	assert_int_equal(config_route(&cfg2, "db")->fault.delay_us, 250000);
	assert_non_null(strstr(log, "faults:4: ignored: fault: api: abort '120%:503': share out of range"));
	assert_non_null(strstr(log, "faults:7: ignored: fault: no service 'zzz'"));
	assert_non_null(strstr(log, "faults:8: ignored: fault: service tcpd is not http"));
	free(log);
	faults_free(&fs2);
	config_free(&cfg2);
	faults_free(&fs);
	config_free(&cfg);
	unlink(path);
}

static void
test_reapply(void **state)
{
	struct mesh_config cfg;
	struct faults fs = { 0 };
	struct fault_ovr o;
	char why[256], *log = NULL, *text;
	size_t loglen = 0;
	FILE *f;

	(void)state;
	ovr_load(&cfg, ini);
	assert_int_equal(faults_parse(&cfg, "api off", &o, why, sizeof(why)), 0);
	assert_int_equal(faults_set(&fs, &cfg, &o), 0);
	assert_int_equal(faults_parse(&cfg, "db abort 5%:502", &o, why, sizeof(why)), 0);
	assert_int_equal(faults_set(&fs, &cfg, &o), 0);

	/* the same file again: both overrides come back on the new routes */
	ovr_swap_routes(&cfg, ini);
	assert_int_equal(faults_reapply(&fs, &cfg, NULL), 0);
	assert_false(faults_active(&config_route(&cfg, "api")->fault));
	assert_int_equal(config_route(&cfg, "db")->fault.abort_status, 502);

	/* api's fault changed in the file: the file wins, db's override stays */
	text = strdup(ini);
	memcpy(strstr(text, "10% 503"), "20% 503", 7);
	ovr_swap_routes(&cfg, text);
	free(text);
	assert_non_null(f = open_memstream(&log, &loglen));
	assert_int_equal(faults_reapply(&fs, &cfg, f), 1);
	fclose(f);
	assert_non_null(strstr(log, "route api: the file's fault replaces"));
	assert_int_equal(fs.n, 1);
	assert_string_equal(fs.f[0].service, "db");
	assert_int_equal(config_route(&cfg, "api")->fault.abort_permille, 200);
	assert_int_equal(config_route(&cfg, "db")->fault.abort_status, 502);
	faults_free(&fs);
	config_free(&cfg);
	free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opt),
		cmocka_unit_test(test_parse_format),
		cmocka_unit_test(test_set_off),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_reapply),
	};

	return cmocka_run_group_tests(tests, ovr_setup, ovr_teardown);
}
