/* SPDX-License-Identifier: ISC */
/*
 * pcfg, observability lines: `trace <permille>` and `access_log json |
 * file <path>` parsed, refused with a line number, absent by default,
 * formatted (the path %XX-encoded where a document needs it) and parsed
 * back; and meshd's registry sending trace_sample and an access_log path
 * made absolute against the config file's directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mesh/config.h"
#include "mesh/pcfg.h"
#include "mesh/ports.h"
#include "mesh/registry.h"

static int
parse(const char *body, struct pcfg *c, char *err, size_t errlen)
{
	char doc[8192];

	snprintf(doc, sizeof(doc), "instance api v1 0\n%send\n", body);
	return pcfg_parse(doc, strlen(doc), c, err, errlen);
}

static void
test_parse(void **state)
{
	struct pcfg c;
	char err[256];

	(void)state;
	assert_int_equal(parse("", &c, err, sizeof(err)), 0);
	assert_int_equal(c.trace_permille, 0);
	assert_int_equal(c.access_log, PCFG_ACCESS_OFF);
	assert_string_equal(c.access_log_path, "");
	pcfg_free(&c);

	assert_int_equal(parse("trace 10\naccess_log json\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.trace_permille, 10);
	assert_int_equal(c.access_log, PCFG_ACCESS_JSON);
	pcfg_free(&c);

	assert_int_equal(parse("trace 0\naccess_log file /var/log/mesh/a%20b%23c%25d%0A\xc3\xa9.log\n",
	    &c, err, sizeof(err)), 0);
	assert_int_equal(c.trace_permille, 0);
	assert_int_equal(c.access_log, PCFG_ACCESS_FILE);
	assert_string_equal(c.access_log_path, "/var/log/mesh/a b#c%d\n\xc3\xa9.log");
	pcfg_free(&c);

	assert_int_equal(parse("trace 1000\naccess_log file /x%2fy%2F\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.trace_permille, 1000);
	assert_string_equal(c.access_log_path, "/x/y/");
	pcfg_free(&c);
}

static void
test_errors(void **state)
{
	static const struct { const char *body, *msg; } cases[] = {
		{ "trace 1001\n", "line 2: trace: out of range: '1001'" },
		{ "trace -1\n", "line 2: trace: not a number" },
		{ "trace\n", "line 2: expected 'trace <permille>'" },
		{ "trace 1 2\n", "line 2: expected 'trace <permille>'" },
		{ "trace 5\ntrace 5\n", "line 3: duplicate 'trace'" },
		{ "access_log\n", "line 2: expected 'access_log json' or 'access_log file <path>'" },
		{ "access_log off\n", "line 2: expected 'access_log json' or" },
		{ "access_log json x\n", "line 2: expected 'access_log json' or" },
		{ "access_log file\n", "line 2: expected 'access_log json' or" },
		{ "access_log json\naccess_log file /a\n", "line 3: duplicate 'access_log'" },
		{ "access_log file a.log\n", "line 2: access_log: path 'a.log' is not absolute" },
		{ "access_log file %2Fa%G0\n", "line 2: access_log: bad %XX escape" },
		{ "access_log file /a%2\n", "line 2: access_log: bad %XX escape" },
		{ "access_log file /a%\n", "line 2: access_log: bad %XX escape" },
		{ "access_log file /a%00b\n", "line 2: access_log: NUL in path" },
		{ "access_log file /a\x01\n", "line 2: access_log: byte 0x01 in path is not %XX-encoded" },
		{ "access_log file /a\x7f\n", "line 2: access_log: byte 0x7f in path is not %XX-encoded" },
	};
	struct pcfg c;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse(cases[i].body, &c, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", cases[i].body);
		if (strstr(err, cases[i].msg) == NULL)
			fail_msg("%s: got '%s', want '%s'", cases[i].body, err, cases[i].msg);
	}
	/* before instance, as every line */
	assert_int_equal(pcfg_parse("trace 5\ninstance a v1 0\nend\n", 28, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 1: 'trace' before 'instance'"));
}

static void
test_long_path(void **state)
{
	char body[6000], path[PCFG_PATH_MAX + 1];
	struct pcfg c;
	char err[256];

	(void)state;
	/* the longest path fits, encoded, even when every byte is escaped */
	memset(path, 'p', PCFG_PATH_MAX - 1);
	path[0] = '/';
	path[PCFG_PATH_MAX - 1] = '\0';
	snprintf(body, sizeof(body), "access_log file %s\n", path);
	assert_int_equal(parse(body, &c, err, sizeof(err)), 0);
	assert_int_equal(strlen(c.access_log_path), PCFG_PATH_MAX - 1);
	pcfg_free(&c);
	memset(path + 1, ' ', PCFG_PATH_MAX - 2);
	{
		struct pcfg d;
		char *doc;
		size_t len;

		memset(&d, 0, sizeof(d));
		strcpy(d.service, "api");
		strcpy(d.version, "v1");
		pcfg_limits_default(&d.limits);
		d.access_log = PCFG_ACCESS_FILE;
		memcpy(d.access_log_path, path, PCFG_PATH_MAX);
		assert_int_equal(pcfg_format(&d, &doc, &len), 0);
		assert_int_equal(pcfg_parse(doc, len, &c, err, sizeof(err)), 0);
		assert_string_equal(c.access_log_path, path);
		pcfg_free(&c);
		free(doc);
	}
	/* one byte more is refused */
	path[0] = '/';
	memset(path + 1, 'p', PCFG_PATH_MAX - 1);
	path[PCFG_PATH_MAX] = '\0';
	snprintf(body, sizeof(body), "access_log file %s\n", path);
	assert_int_equal(parse(body, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2: access_log: path longer than"));
}

static void
test_format_round_trip(void **state)
{
	static const char *const paths[] = {
		"/tmp/access.log",
		"/tmp/with space/and#hash/100%/tab\there/nl\nx/\x7f/\xc3\xa9\xff",
		"/",
	};
	struct pcfg a, b;
	char err[256], *doc;
	size_t len, i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		memset(&a, 0, sizeof(a));
		strcpy(a.service, "api");
		strcpy(a.version, "v1");
		pcfg_limits_default(&a.limits);
		a.trace_permille = (unsigned)(i * 400);
		a.access_log = PCFG_ACCESS_FILE;
		strcpy(a.access_log_path, paths[i]);
		assert_int_equal(pcfg_format(&a, &doc, &len), 0);
		if (i == 1)
			assert_non_null(strstr(doc, "\naccess_log file /tmp/with%20space/and%23hash/"
			    "100%25/tab%09here/nl%0Ax/%7F/\xc3\xa9\xff\n"));
		if (i == 0)
			assert_null(strstr(doc, "\ntrace "));    /* 0: absent */
		assert_int_equal(pcfg_parse(doc, len, &b, err, sizeof(err)), 0);
		assert_int_equal(b.trace_permille, a.trace_permille);
		assert_int_equal(b.access_log, PCFG_ACCESS_FILE);
		assert_string_equal(b.access_log_path, paths[i]);
		pcfg_free(&b);
		free(doc);
	}
	a.access_log = PCFG_ACCESS_JSON;
	a.trace_permille = 1000;
	assert_int_equal(pcfg_format(&a, &doc, &len), 0);
	assert_non_null(strstr(doc, "\ntrace 1000\naccess_log json\n"));
	assert_int_equal(pcfg_parse(doc, len, &b, err, sizeof(err)), 0);
	assert_int_equal(b.access_log, PCFG_ACCESS_JSON);
	assert_string_equal(b.access_log_path, "");
	pcfg_free(&b);
	free(doc);
}

/* --- meshd's side: registry_document ------------------------------------- */

static int
all_free(uint16_t port, void *arg)
{
	(void)port;
	(void)arg;
	return 1;
}

/* The document of the first instance of a mesh whose [mesh] section has
 * the lines `mesh` (the file lives in a fresh directory, returned in dir). */
static char *
document(const char *mesh, char *dir)
{
	char path[256], ini[1024], *doc;
	struct mesh_config cfg;
	struct registry reg;
	struct ports_fixed *fixed;
	struct ports_alloc a;
	size_t n, len;
	FILE *fp;

	strcpy(dir, "/tmp/test_pcfg_obs.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mesh.ini", dir);
	snprintf(ini, sizeof(ini), "[mesh]\nport_base = 35500\n%s"
	    "[service.web]\nport = 35600\nupstreams = api\n"
	    "[service.api]\nport = 35610\n", mesh);
	assert_non_null(fp = fopen(path, "w"));
	fputs(ini, fp);
	fclose(fp);
	assert_int_equal(config_load(path, &cfg, stderr), 0);
	unlink(path);
	assert_int_equal(ports_fixed_collect(&cfg, &fixed, &n), 0);
	ports_alloc_init(&a, cfg.mesh.port_base, fixed, n, all_free, NULL);
	assert_int_equal(registry_init(&reg, &cfg, &a, stderr), 0);
	assert_int_equal(registry_document(&reg, &reg.inst[0], &doc, &len), 0);
	registry_free(&reg);
	free(fixed);
	config_free(&cfg);
	return doc;   /* the caller removes dir */
}

static void
test_registry(void **state)
{
	char dir[64], want[512], *real, *doc;
	struct pcfg c;
	char err[256];

	(void)state;
	/* defaults: trace_sample = 1%, access_log = off */
	doc = document("", dir);
	assert_non_null(strstr(doc, "\ntrace 10\n"));
	assert_null(strstr(doc, "access_log"));
	free(doc);
	rmdir(dir);

	doc = document("trace_sample = 0%\naccess_log = json\n", dir);
	assert_null(strstr(doc, "trace"));
	assert_non_null(strstr(doc, "\naccess_log json\n"));
	assert_int_equal(pcfg_parse(doc, strlen(doc), &c, err, sizeof(err)), 0);
	assert_int_equal(c.access_log, PCFG_ACCESS_JSON);
	pcfg_free(&c);
	free(doc);
	rmdir(dir);

	/* a relative PATH is the config file's directory's; spaces survive */
	doc = document("trace_sample = 25%\naccess_log = logs/access log.json\n", dir);
	assert_non_null(real = realpath(dir, NULL));
	rmdir(dir);
	assert_non_null(strstr(doc, "\ntrace 250\n"));
	assert_int_equal(pcfg_parse(doc, strlen(doc), &c, err, sizeof(err)), 0);
	assert_int_equal(c.trace_permille, 250);
	assert_int_equal(c.access_log, PCFG_ACCESS_FILE);
	snprintf(want, sizeof(want), "%s/logs/access log.json", real);
	assert_string_equal(c.access_log_path, want);
	assert_non_null(strstr(doc, "/logs/access%20log.json\n"));
	pcfg_free(&c);
	free(doc);
	free(real);

	doc = document("access_log = /var/log/mesh.log\n", dir);
	assert_non_null(strstr(doc, "\naccess_log file /var/log/mesh.log\n"));
	free(doc);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_path),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_registry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
