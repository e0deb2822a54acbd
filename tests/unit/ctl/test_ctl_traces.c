/* SPDX-License-Identifier: ISC */
/*
 * ctl_traces: trees from hand-made spans — a three-service chain given in
 * shuffled order, children in start order, an orphan whose parent is
 * missing, a span naming itself, a parent cycle (every span printed
 * once); the report: grouping by trace, duplicates dropped, most recent
 * first, -n, --service, --slow's order; the text lines and the JSON
 * document (parsed back with json_scan-free checks on its text).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/ctl.h"
#include "mesh/stats.h"

/* span ids are one byte (id), parent one byte (0: root), trace one byte */
static void
mk(struct stats_span_rec *s, uint8_t trace, uint8_t id, uint8_t parent,
    uint64_t start_ms, uint64_t dur_us, int client, const char *svc)
{
	memset(s, 0, sizeof(*s));
	s->trace_id[15] = trace;
	s->span_id[7] = id;
	s->parent_id[7] = parent;
	s->start_ns = 1700000000000000000ull + start_ms * 1000000ull;
	s->duration_us = dur_us;
	s->kind = client ? STATS_SPAN_CLIENT : STATS_SPAN_SERVER;
	s->status = 200;
	s->flags = STATS_SF_SAMPLED;
	snprintf(s->service, sizeof(s->service), "%s", svc);
	strcpy(s->version, "v1");
	snprintf(s->instance, sizeof(s->instance), "%s@v1.0", svc);
	strcpy(s->method, "GET");
	strcpy(s->path, "/x");
}

/* web -> api -> db: client 1 (gateway), server 2 (web), client 3 (web),
 * server 4 (api), client 5 (api), server 6 (db); plus a second call of
 * web (client 7 -> server 8) after the first. */
static void
chain(struct stats_span_rec *s, uint8_t trace, uint64_t t0)
{
	mk(&s[0], trace, 6, 5, t0 + 3, 100, 0, "db");
	mk(&s[1], trace, 3, 2, t0 + 1, 800, 1, "web");
	mk(&s[2], trace, 1, 0, t0 + 0, 1000, 1, "gateway");
	mk(&s[3], trace, 8, 7, t0 + 7, 50, 0, "api");
	mk(&s[4], trace, 5, 4, t0 + 2, 500, 1, "api");
	mk(&s[5], trace, 2, 1, t0 + 0, 900, 0, "web");
	mk(&s[6], trace, 4, 3, t0 + 1, 700, 0, "api");
	mk(&s[7], trace, 7, 2, t0 + 6, 60, 1, "web");
}

static void
test_tree_chain(void **state)
{
	struct stats_span_rec s[8];
	struct ctl_traces_node nd[8];
	static const uint8_t order[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const unsigned depth[8] = { 0, 1, 2, 3, 4, 5, 2, 3 };
	size_t i;

	(void)state;
	chain(s, 1, 0);
	/* the tree walks children by start time: sort the input like the
	 * report does (by start) first */
	{
		struct stats_span_rec t;
		size_t a, b;

		for (a = 0; a < 8; a++)
			for (b = a + 1; b < 8; b++)
				if (s[b].start_ns < s[a].start_ns ||
				    (s[b].start_ns == s[a].start_ns && s[b].span_id[7] < s[a].span_id[7])) {
					t = s[a];
					s[a] = s[b];
					s[b] = t;
				}
	}
	assert_int_equal(ctl_traces_tree(s, 8, nd), 8);
	for (i = 0; i < 8; i++) {
		assert_int_equal(nd[i].span->span_id[7], order[i]);
		assert_int_equal(nd[i].depth, depth[i]);
		assert_int_equal(nd[i].orphan, 0);
		if (i == 0)
			assert_int_equal(nd[i].parent, -1);
		else
			assert_memory_equal(nd[nd[i].parent].span->span_id, nd[i].span->parent_id, 8);
	}
}

static void
test_tree_orphans_and_cycles(void **state)
{
	struct stats_span_rec s[6];
	struct ctl_traces_node nd[6];
	int seen[256] = { 0 };
	size_t i;

	(void)state;
	mk(&s[0], 1, 10, 99, 0, 10, 0, "api");    /* orphan: 99 is not here */
	mk(&s[1], 1, 11, 10, 1, 10, 1, "api");    /* its child */
	mk(&s[2], 1, 12, 12, 2, 10, 0, "web");    /* names itself */
	mk(&s[3], 1, 13, 14, 3, 10, 0, "db");     /* 13 <-> 14: a cycle */
	mk(&s[4], 1, 14, 13, 4, 10, 1, "db");
	mk(&s[5], 1, 15, 0, 5, 10, 1, "gateway"); /* a real root */
	assert_int_equal(ctl_traces_tree(s, 6, nd), 6);
	for (i = 0; i < 6; i++)
		seen[nd[i].span->span_id[7]]++;
	for (i = 10; i <= 15; i++)
		assert_int_equal(seen[i], 1);
	/* the orphan first (by start), flagged, its child under it */
	assert_int_equal(nd[0].span->span_id[7], 10);
	assert_true(nd[0].orphan);
	assert_int_equal(nd[0].depth, 0);
	assert_int_equal(nd[1].span->span_id[7], 11);
	assert_int_equal(nd[1].depth, 1);
	assert_false(nd[1].orphan);
	/* the self-parented span is a root of its own, flagged orphan */
	assert_int_equal(nd[2].span->span_id[7], 12);
	assert_true(nd[2].orphan);
	/* the real root is not an orphan */
	assert_int_equal(nd[3].span->span_id[7], 15);
	assert_false(nd[3].orphan);
	/* the cycle comes last, broken at its earliest span */
	assert_int_equal(nd[4].span->span_id[7], 13);
	assert_true(nd[4].orphan);
	assert_int_equal(nd[5].span->span_id[7], 14);
	assert_int_equal(nd[5].depth, 1);
	assert_int_equal(ctl_traces_tree(s, 0, nd), 0);
}

static char *
report(struct stats_span_rec *s, size_t n, const struct ctl_traces_query *q, long *shown)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	*shown = ctl_traces_report(f, s, n, q);
	fclose(f);
	return text;
}

static void
test_report_text(void **state)
{
	struct stats_span_rec s[20];
	struct ctl_traces_query q = { .count = 10, .mesh = "shop" };
	char *t, *a, *b;
	long shown;

	(void)state;
	chain(s, 1, 0);            /* older trace */
	chain(s + 8, 2, 1000);     /* newer trace */
	s[16] = s[3];              /* a duplicate (ring and slow table) */
	mk(&s[17], 3, 1, 0, 500, 5000, 0, "lonely");
	s[17].status = 503;
	s[17].retries = 2;
	s[17].flags |= STATS_SF_UF | STATS_SF_UT;
	strcpy(s[17].path, "/bad\x01path");
	s[17].flags |= STATS_SF_GRPC;
	s[17].grpc_status = 14;
	t = report(s, 18, &q, &shown);
	assert_int_equal(shown, 3);
	/* most recent first: trace 2, then 3, then 1 */
	a = strstr(t, "trace 00000000000000000000000000000002");
	b = strstr(t, "trace 00000000000000000000000000000003");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a < b);
	assert_true(b < strstr(t, "trace 00000000000000000000000000000001"));
	/* the duplicate is gone: 8 spans */
	assert_non_null(strstr(t, "trace 00000000000000000000000000000001  "
	    "2023-11-14 22:13:20.000 UTC  7.050 ms  8 spans\n"));
	assert_non_null(strstr(t, "\n  gateway@v1.0  client  GET /x  -> ?  200  1.000 ms\n"
	    "    web@v1.0  server  GET /x  <- ?  200  0.900 ms\n"));
	assert_non_null(strstr(t, "\n  lonely@v1.0  server  GET /bad?path  <- ?  503  grpc=14  "
	    "5.000 ms  retries=2  flags=UF,UT\n"));
	free(t);

	/* -n 1: only the newest; --service db: traces 1 and 2 only */
	q.count = 1;
	t = report(s, 18, &q, &shown);
	assert_int_equal(shown, 1);
	assert_non_null(strstr(t, "trace 00000000000000000000000000000002"));
	free(t);
	q.count = 10;
	q.service = "lonely";
	t = report(s, 18, &q, &shown);
	assert_int_equal(shown, 1);
	assert_non_null(strstr(t, "trace 00000000000000000000000000000003"));
	free(t);
	q.service = "nosuch";
	t = report(s, 18, &q, &shown);
	assert_int_equal(shown, 0);
	free(t);

	/* --slow: by the longest span: trace 3 (5 ms) first */
	q.service = NULL;
	q.slow = 1;
	t = report(s, 18, &q, &shown);
	assert_int_equal(shown, 3);
	assert_true(strstr(t, "trace 00000000000000000000000000000003") == t);
	free(t);
}

static void
test_report_orphan_text(void **state)
{
	struct stats_span_rec s[3];
	struct ctl_traces_query q = { .count = 10 };
	long shown;
	char *t;

	(void)state;
	mk(&s[0], 9, 10, 0x99, 0, 10, 0, "api");
	mk(&s[1], 9, 11, 10, 1, 10, 1, "api");
	strcpy(s[1].peer, "db");
	strcpy(s[1].upstream, "v1.0");
	/* no such service: the authority it asked for stands in */
	mk(&s[2], 9, 12, 10, 2, 10, 1, "api");
	strcpy(s[2].authority, "nosuch");
	s[2].status = 404;
	s[2].flags |= STATS_SF_NR;
	t = report(s, 3, &q, &shown);
	assert_int_equal(shown, 1);
	assert_non_null(strstr(t, "\n  api@v1.0  server  GET /x  <- ?  200  0.010 ms"
	    "  (parent 0000000000000099 not in the rings)\n"
	    "    api@v1.0  client  GET /x  -> db(v1.0)  200  0.010 ms\n"
	    "    api@v1.0  client  GET /x  -> nosuch  404  0.010 ms  flags=NR\n"));
	free(t);
}

static int
starts(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) == 0)
		return 1;
	fprintf(stderr, "got:  %.*s\nwant: %s\n", (int)strlen(prefix), s, prefix);
	return 0;
}

static void
test_report_json(void **state)
{
	struct stats_span_rec s[9];
	struct ctl_traces_query q = { .count = 10, .json = 1, .mesh = "shop" };
	long shown;
	char *t;

	(void)state;
	chain(s, 1, 0);
	mk(&s[8], 1, 20, 0x77, 9, 10, 0, "x\"y");
	s[8].flags |= STATS_SF_GRPC;       /* a gRPC call that ended OK */
	t = report(s, 9, &q, &shown);
	assert_int_equal(shown, 1);
	assert_true(starts(t, "{\"mesh\":\"shop\",\"running\":true,\"order\":\"recent\",\"traces\":"
	    "[{\"trace_id\":\"00000000000000000000000000000001\",\"start_ns\":1700000000000000000,"
	    "\"duration_us\":9010,\"roots\":2,\"spans\":[{"));
	assert_non_null(strstr(t, "{\"span_id\":\"0000000000000001\",\"parent_id\":null,"
	    "\"depth\":0,\"orphan\":false,\"service\":\"gateway\",\"version\":\"v1\","
	    "\"instance\":\"gateway@v1.0\",\"kind\":\"client\",\"method\":\"GET\","
	    "\"authority\":\"\",\"path\":\"/x\",\"peer\":\"\",\"upstream\":\"\",\"status\":200,"
	    "\"start_ns\":1700000000000000000,\"duration_us\":1000,\"retries\":0,\"flags\":[],"
	    "\"sampled\":true,\"grpc_status\":null}"));
	assert_non_null(strstr(t, "{\"span_id\":\"0000000000000006\",\"parent_id\":\"0000000000000005\","
	    "\"depth\":5,\"orphan\":false,\"service\":\"db\""));
	assert_non_null(strstr(t, "\"parent_id\":\"0000000000000077\",\"depth\":0,\"orphan\":true,"
	    "\"service\":\"x\\\"y\""));
	assert_non_null(strstr(t, "\"flags\":[],\"sampled\":true,\"grpc_status\":0}]}"));
	assert_true(strlen(t) > 6);
	assert_string_equal(t + strlen(t) - 6, "}]}]}\n");
	free(t);

	/* nothing to show: still one document */
	t = report(s, 0, &q, &shown);
	assert_int_equal(shown, 0);
	assert_string_equal(t, "{\"mesh\":\"shop\",\"running\":true,\"order\":\"recent\",\"traces\":[]}\n");
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_chain),
		cmocka_unit_test(test_tree_orphans_and_cycles),
		cmocka_unit_test(test_report_text),
		cmocka_unit_test(test_report_orphan_text),
		cmocka_unit_test(test_report_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
