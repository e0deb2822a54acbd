/* SPDX-License-Identifier: ISC */
/*
 * test_config_values: durations, ${VAR} expansion and the key table
 * itself (src/lib/config_table.c, src/lib/config_expand.c).
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
#include "config_int.h"

/* ---- durations ------------------------------------------------------------ */

static void
test_duration_ok(void **state)
{
	static const struct { const char *s; uint64_t us; } ok[] = {
		{ "0s", 0 }, { "5us", 5 }, { "250ms", 250000 }, { "2s", 2000000 },
		{ "1m", 60000000 }, { "1h", UINT64_C(3600000000) },
		{ "24h", UINT64_C(86400000000) }, { "007ms", 7000 },
		{ "18446744073709551615us", UINT64_MAX },
	};
	uint64_t us;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		us = 1;
		assert_int_equal(config_parse_duration(ok[i].s, &us), 0);
		assert_true(us == ok[i].us);
	}
}

static void
test_duration_bad(void **state)
{
	static const char *const bad[] = {
		"5", "", "s", "ms", "5 s", " 5s", "5s ", "5sec", "5S", "-1s", "+1s",
		"1.5s", "1d", "5ss", "1h1m", "0x10s", "18446744073709551616us",
		"5124095576030432h",   /* overflows once multiplied */
	};
	uint64_t us = 42;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (config_parse_duration(bad[i], &us) != -1)
			fail_msg("'%s' parsed", bad[i]);
		assert_true(us == 42);
	}
}

static void
test_duration_fmt(void **state)
{
	static const struct { uint64_t us; const char *s; } cases[] = {
		{ 0, "0us" }, { 1, "1us" }, { 1000, "1ms" }, { 1500, "1500us" },
		{ 2000000, "2s" }, { 90000000, "90s" }, { 60000000, "1m" },
		{ UINT64_C(3600000000), "1h" }, { UINT64_C(5400000000), "90m" },
	};
	char buf[32];
	uint64_t back;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_fmt_duration(cases[i].us, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].s);
		assert_int_equal(config_parse_duration(buf, &back), 0);
		assert_true(back == cases[i].us);
	}
}

/* ---- ${VAR} ------------------------------------------------------------------ */

struct xctx {
	struct conf_ctx ctx;
	char            out[64];
};

static int
expand(struct xctx *x, const char *in)
{
	memset(x, 0, sizeof(*x));
	x->ctx.path = "t.ini";
	x->ctx.lineno = 7;
	return config_expand(&x->ctx, "key", in, x->out, sizeof(x->out));
}

/* The one message expand() kept; frees it. */
static void
assert_msg(struct xctx *x, const char *want)
{
	assert_int_equal(x->ctx.nerr, 1);
	assert_int_equal(x->ctx.nmsgs, 1);
	assert_int_equal(x->ctx.msgs[0].line, 7);
	assert_string_equal(x->ctx.msgs[0].text, want);
	free(x->ctx.msgs[0].text);
	free(x->ctx.msgs);
}

static int
setup_env(void **state)
{
	setenv("MT_A", "alpha", 1);
	setenv("MT_EMPTY", "", 1);
	setenv("MT_REF", "${MT_A}", 1);
	unsetenv("MT_UNSET");
	return 0;
}

static void
test_expand_ok(void **state)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "plain", "plain" },
		{ "", "" },
		{ "${MT_A}", "alpha" },
		{ "x${MT_A}y${MT_A}", "xalphayalpha" },
		{ "${MT_UNSET:-def}", "def" },
		{ "${MT_UNSET:-}", "" },
		{ "${MT_UNSET:-a b:c}", "a b:c" },
		{ "${MT_EMPTY:-def}", "def" },      /* empty counts as unset, as in sh */
		{ "${MT_EMPTY}", "" },
		{ "${MT_A:-def}", "alpha" },
		{ "--port $PORT", "--port $PORT" }, /* for the shell */
		{ "$", "$" },
		{ "a$$b", "a$$b" },
		{ "${MT_REF}", "${MT_A}" },         /* never expanded twice */
		{ "$${MT_A}", "$alpha" },
	};
	struct xctx x;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (expand(&x, ok[i].in) != 0)
			fail_msg("'%s' failed: %s", ok[i].in, x.ctx.msgs[0].text);
		assert_string_equal(x.out, ok[i].out);
		assert_int_equal(x.ctx.nerr, 0);
	}
}

static void
test_expand_errors(void **state)
{
	struct xctx x;

	assert_int_equal(expand(&x, "a ${MT_UNSET} b"), -1);
	assert_msg(&x, "key = a ${MT_UNSET} b: environment variable MT_UNSET is not set");
	assert_int_equal(expand(&x, "${MT_A"), -1);
	assert_msg(&x, "key = ${MT_A: '${' without '}'");
	assert_int_equal(expand(&x, "${"), -1);
	assert_msg(&x, "key = ${: '${' without '}'");
	assert_int_equal(expand(&x, "${}"), -1);
	assert_msg(&x, "key = ${}: bad variable name in '${}'");
	assert_int_equal(expand(&x, "${9X}"), -1);
	assert_msg(&x, "key = ${9X}: bad variable name in '${9X}'");
	assert_int_equal(expand(&x, "${MT_A:x}"), -1);
	assert_msg(&x, "key = ${MT_A:x}: bad '${MT_A:x}' (want ${VAR} or ${VAR:-default})");
	assert_int_equal(expand(&x, "${MT_A-x}"), -1);
	assert_msg(&x, "key = ${MT_A-x}: bad '${MT_A-x}' (want ${VAR} or ${VAR:-default})");
	assert_int_equal(expand(&x, "${MT A}"), -1);
	assert_msg(&x, "key = ${MT A}: bad '${MT A}' (want ${VAR} or ${VAR:-default})");
}

/* Bounded: the output never overruns, and too long is an error. */
static void
test_expand_bounded(void **state)
{
	struct xctx x;
	char big[200];

	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(expand(&x, big), -1);
	assert_msg(&x, "key: value longer than 63 bytes after ${} expansion");

	setenv("MT_LONG", big, 1);
	assert_int_equal(expand(&x, "${MT_LONG}"), -1);
	assert_msg(&x, "key: value longer than 63 bytes after ${} expansion");
	assert_int_equal(expand(&x, "${MT_UNSET:-0123456789012345678901234567890123456789012345678901234567890123}"), -1);
	assert_msg(&x, "key: value longer than 63 bytes after ${} expansion");

	/* 63 bytes fit exactly */
	big[63] = '\0';
	assert_int_equal(expand(&x, big), 0);
	assert_int_equal(strlen(x.out), 63);
	unsetenv("MT_LONG");
}

/* ---- the table ------------------------------------------------------------- */

/* Names unique within a section (ready_timeout is a [mesh] and a
 * [service] key: two rows), every row complete, every default within its
 * own bounds. */
static void
test_table_rows(void **state)
{
	const struct conf_key *keys;
	size_t n, i, j;

	keys = config_table_keys(&n);
	assert_true(n > 30 && n <= CONF_KEYS_MAX);
	for (i = 0; i < n; i++) {
		const struct conf_key *k = &keys[i];

		assert_non_null(k->name);
		assert_true(k->kind == CONF_KIND_MESH || k->kind == CONF_KIND_SERVICE ||
		    k->kind == CONF_KIND_ROUTE);
		for (j = 0; j < i; j++)
			if (strcmp(keys[j].name, k->name) == 0 && keys[j].kind == k->kind)
				fail_msg("key %s twice in %s", k->name, config_kind_name(k->kind));
		if (k->type == CONF_T_ENUM)
			assert_non_null(k->names);
		if (k->type == CONF_T_CUSTOM)
			assert_non_null(k->parse);
		if (k->type == CONF_T_UINT || k->type == CONF_T_DURATION)
			assert_true(k->min <= k->max);
		if (k->type == CONF_T_UINT)
			assert_true(k->size == 1 || k->size == 2 || k->size == 4 || k->size == 8);
		assert_true(k->line_off == 0 || k->line_off >= CONF_NAME_MAX);
	}
}

static void
test_table_defaults_parse(void **state)
{
	static const enum conf_kind kinds[] = {
		CONF_KIND_MESH, CONF_KIND_SERVICE, CONF_KIND_ROUTE,
	};
	struct conf_ctx ctx;
	struct conf_mesh m;
	struct conf_service s;
	struct conf_route r;
	void *objs[] = { &m, &s, &r };
	size_t i;

	for (i = 0; i < 3; i++) {
		memset(&ctx, 0, sizeof(ctx));
		memset(&m, 0, sizeof(m));
		memset(&s, 0, sizeof(s));
		memset(&r, 0, sizeof(r));
		ctx.path = "t.ini";
		config_table_defaults(&ctx, kinds[i], objs[i]);
		if (ctx.nerr != 0)
			fail_msg("%s", ctx.msgs[0].text);
		config_table_free(kinds[i], objs[i]);
	}
}

/* Every key has an entry in man/mesh.ini.5 (tests run from the top dir). */
static void
test_table_documented(void **state)
{
	const struct conf_key *keys;
	char *man, want[128];
	size_t n, i, len = 0;
	FILE *f = fopen("man/mesh.ini.5", "r");

	if (f == NULL)
		f = fopen("../../man/mesh.ini.5", "r");
	assert_non_null(f);
	man = calloc(1, 1 << 20);
	assert_non_null(man);
	len = fread(man, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_true(len > 0);
	keys = config_table_keys(&n);
	for (i = 0; i < n; i++) {
		/* each key's entry: a tagged paragraph headed by the key in bold */
		snprintf(want, sizeof(want), "\n.TP\n.B %s\n", keys[i].name);
		if (strstr(man, want) == NULL)
			fail_msg("man/mesh.ini.5 lacks an entry for %s", keys[i].name);
	}
	free(man);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_ok),
		cmocka_unit_test(test_duration_bad),
		cmocka_unit_test(test_duration_fmt),
		cmocka_unit_test_setup(test_expand_ok, setup_env),
		cmocka_unit_test_setup(test_expand_errors, setup_env),
		cmocka_unit_test_setup(test_expand_bounded, setup_env),
		cmocka_unit_test(test_table_rows),
		cmocka_unit_test(test_table_defaults_parse),
		cmocka_unit_test(test_table_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
