/* SPDX-License-Identifier: ISC */
/*
 * test_ctl_tap: `meshctl tap`'s pieces (include/mesh/ctl_tap.h):
 * - the filter: path prefix (query included), status range, both;
 * - the line, text and JSON: inbound "caller -> instance", outbound
 *   "instance -> service@version.index", an unknown caller, a refusal
 *   before an endpoint was picked, no such service, no status, flags,
 *   no trace, control bytes (never reach the terminal; valid JSON);
 * - open/poll against real stats files (written with the sidecar's
 *   writer): the lease file appears, only records after the open are
 *   shown, only the service's files, in start order, the filter applied,
 *   the callback's stop honoured, a ring that wrapped counted as lost, a
 *   restarted sidecar's new file read from its start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mesh/ctl_tap.h"
#include "mesh/stats.h"

static void
rec(struct stats_span_rec *s, int client, const char *path, unsigned status, uint64_t start_ms)
{
	memset(s, 0, sizeof(*s));
	s->kind = client ? STATS_SPAN_CLIENT : STATS_SPAN_SERVER;
	s->start_ns = (uint64_t)time(NULL) * 1000000000ull + start_ms * 1000000ull;
	s->duration_us = 3200;
	s->status = status;
	strcpy(s->service, "api");
	strcpy(s->version, "v1");
	strcpy(s->instance, "api@v1.0");
	strcpy(s->method, "GET");
	strcpy(s->authority, "api");
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (client) {
		strcpy(s->peer, "db");
		strcpy(s->upstream, "v2.1");
	} else
		strcpy(s->peer, "web");
}

static void
test_filter(void **state)
{
	struct ctl_tap_filter any = { NULL, 0, 0 }, users = { "/users", 0, 0 };
	struct ctl_tap_filter s5xx = { NULL, 500, 599 }, both = { "/users?", 404, 404 };
	struct stats_span_rec s;

	rec(&s, 0, "/users/7?x=1", 503, 0);
	assert_true(ctl_tap_match(&any, &s));
	assert_true(ctl_tap_match(&users, &s));
	assert_true(ctl_tap_match(&s5xx, &s));
	assert_false(ctl_tap_match(&both, &s));
	s.status = 200;
	assert_false(ctl_tap_match(&s5xx, &s));
	s.status = 0;                       /* never answered */
	assert_false(ctl_tap_match(&s5xx, &s));
	assert_true(ctl_tap_match(&any, &s));
	rec(&s, 0, "/user", 404, 0);
	assert_false(ctl_tap_match(&users, &s));   /* a prefix of the prefix */
	rec(&s, 0, "/users?id=3", 404, 0);
	assert_true(ctl_tap_match(&both, &s));
	s.status = 599;
	assert_true(ctl_tap_match(&s5xx, &s));
	s.status = 600;
	assert_false(ctl_tap_match(&s5xx, &s));
}

/* The line without its time (the text time is local) */
static const char *
after_time(const char *line)
{
	assert_int_equal(line[2], ':');
	assert_int_equal(line[8], '.');
	return line + 12;
}

static void
test_format_text(void **state)
{
	char b[CTL_TAP_LINE_MAX];
	struct stats_span_rec s;
	size_t n;

	rec(&s, 0, "/users", 200, 0);
	memset(s.trace_id, 0xab, sizeof(s.trace_id));
	n = ctl_tap_format(b, sizeof(b), &s, 0);
	assert_int_equal(n, strlen(b));
	assert_string_equal(after_time(b), "  in   web -> api@v1.0                 GET /users  200  3.2ms"
	    "  retries=0  trace=abababababababababababababababab");

	rec(&s, 1, "/q", 503, 0);
	s.retries = 2;
	s.duration_us = 999;
	s.flags = STATS_SF_UF | STATS_SF_UT;
	ctl_tap_format(b, sizeof(b), &s, 0);
	assert_string_equal(after_time(b), "  out  api@v1.0 -> db@v2.1             GET /q  503  999us"
	    "  retries=2  trace=-  flags=UF,UT");
	s.flags |= STATS_SF_GRPC;
	s.grpc_status = 14;
	ctl_tap_format(b, sizeof(b), &s, 0);
	assert_string_equal(after_time(b), "  out  api@v1.0 -> db@v2.1             GET /q  503  grpc=14"
	    "  999us  retries=2  trace=-  flags=UF,UT");

	/* refused before an endpoint, no such service, unknown caller */
	s.upstream[0] = '\0';
	s.duration_us = 1500000;
	s.flags = STATS_SF_UH;
	ctl_tap_format(b, sizeof(b), &s, 0);
	assert_non_null(strstr(b, "  out  api@v1.0 -> db  "));
	assert_non_null(strstr(b, "  1.50s  "));
	s.peer[0] = '\0';
	strcpy(s.authority, "nosuch:80");
	ctl_tap_format(b, sizeof(b), &s, 0);
	assert_non_null(strstr(b, "api@v1.0 -> nosuch:80  "));
	rec(&s, 0, "/x\x1b[2J\r\n", 0, 0);
	s.peer[0] = '\0';
	ctl_tap_format(b, sizeof(b), &s, 0);
	assert_non_null(strstr(b, "  in   ? -> api@v1.0"));
	assert_non_null(strstr(b, "GET /x?[2J??  ---  "));
	assert_null(strchr(b, '\x1b'));

	/* cut to the buffer, still a string */
	assert_int_equal(ctl_tap_format(b, 20, &s, 0), 19);
	assert_int_equal(strlen(b), 19);
	assert_int_equal(ctl_tap_format(b, 0, &s, 0), 0);
}

static void
test_format_json(void **state)
{
	char b[CTL_TAP_LINE_MAX];
	struct stats_span_rec s;
	time_t t = 1700000000;

	rec(&s, 1, "/a\"b\x01", 502, 0);
	s.start_ns = (uint64_t)t * 1000000000ull + 123456789ull;
	s.retries = 1;
	s.flags = STATS_SF_UR | STATS_SF_SAMPLED;
	s.trace_id[15] = 1;
	ctl_tap_format(b, sizeof(b), &s, 1);
	assert_string_equal(b, "{\"time\":\"2023-11-14T22:13:20.123Z\",\"direction\":\"out\","
	    "\"caller\":\"api@v1.0\",\"callee\":\"db@v2.1\",\"service\":\"api\","
	    "\"instance\":\"api@v1.0\",\"version\":\"v1\",\"method\":\"GET\",\"authority\":\"api\","
	    "\"path\":\"/a\\\"b\\u0001\",\"status\":502,\"duration_ms\":3.200,\"retries\":1,"
	    "\"trace_id\":\"00000000000000000000000000000001\",\"flags\":[\"UR\"],"
	    "\"grpc_status\":null}");
	rec(&s, 0, "/", 0, 0);
	s.flags = STATS_SF_UH | STATS_SF_NR;
	ctl_tap_format(b, sizeof(b), &s, 1);
	assert_non_null(strstr(b, "\"direction\":\"in\",\"caller\":\"web\",\"callee\":\"api@v1.0\""));
	assert_non_null(strstr(b, "\"status\":null"));
	assert_non_null(strstr(b, "\"trace_id\":null,\"flags\":[\"UH\",\"NR\"],"
	    "\"grpc_status\":null}"));
	/* a gRPC call: its status, 0 included */
	s.flags |= STATS_SF_GRPC;
	s.grpc_status = 14;
	ctl_tap_format(b, sizeof(b), &s, 1);
	assert_non_null(strstr(b, "\"flags\":[\"UH\",\"NR\"],\"grpc_status\":14}"));
	s.grpc_status = 0;
	ctl_tap_format(b, sizeof(b), &s, 1);
	assert_non_null(strstr(b, ",\"grpc_status\":0}"));
}

/* ---- open / poll against real files ----------------------------------- */

static char dir[] = "/tmp/test_ctl_tap.XXXXXX";
static char stats_dir[4200];

struct got {
	char     path[16][128];
	unsigned n, stop_at;
};

static int
collect(void *arg, const struct stats_span_rec *s)
{
	struct got *g = arg;

	if (g->n < 16)
		snprintf(g->path[g->n], sizeof(g->path[0]), "%s", s->path);
	g->n++;
	return g->stop_at != 0 && g->n >= g->stop_at;
}

/* Open (replacing) the stats file of instance id of service svc. */
static void
sidecar(const char *id, const char *svc)
{
	char p[4400], ver[8];

	snprintf(p, sizeof(p), "%s/%s.stats", stats_dir, id);
	snprintf(ver, sizeof(ver), "v1");
	assert_int_equal(stats_open(p), 0);
	stats_identity(svc, ver, id);
}

static void
span_now(const char *path, unsigned status, uint64_t ms)
{
	struct stats_span_rec s;

	rec(&s, 0, path, status, ms);
	stats_span(&s);
}

static void
test_poll(void **state)
{
	struct ctl_tap_filter f = { "/u", 0, 0 };
	struct got g;
	struct ctl_tap t;
	struct stat st;
	char err[256], lease[4400], cmd[4300];
	unsigned i;

	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	assert_non_null(mkdtemp(dir));
	snprintf(stats_dir, sizeof(stats_dir), "%s/run", dir);
	assert_int_equal(mkdir(stats_dir, 0700), 0);
	snprintf(stats_dir, sizeof(stats_dir), "%s/run/stats", dir);
	assert_int_equal(mkdir(stats_dir, 0700), 0);

	/* before the tap: api@v1.1 has two old records, db one */
	sidecar("db@v1.0", "db");
	span_now("/u/db", 200, 0);
	stats_close();
	sidecar("api@v1.1", "api");
	span_now("/u/old1", 200, 0);
	span_now("/u/old2", 200, 0);

	assert_int_equal(ctl_tap_open(&t, dir, "api", &f, err, sizeof(err)), 0);
	snprintf(lease, sizeof(lease), "%s/run/tap/api", dir);
	assert_int_equal(stat(lease, &st), 0);
	assert_int_equal(t.nfiles, 1);
	memset(&g, 0, sizeof(g));
	assert_int_equal(ctl_tap_poll(&t, collect, &g, err, sizeof(err)), 0);

	/* new records, out of start order; one the filter drops */
	span_now("/u/b", 200, 20);
	span_now("/x", 500, 5);
	span_now("/u/a", 404, 10);
	assert_int_equal(ctl_tap_poll(&t, collect, &g, err, sizeof(err)), 2);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.path[0], "/u/a");
	assert_string_equal(g.path[1], "/u/b");
	assert_int_equal(ctl_tap_poll(&t, collect, &g, err, sizeof(err)), 0);

	/* the callback stops the poll */
	memset(&g, 0, sizeof(g));
	g.stop_at = 1;
	span_now("/u/c", 200, 30);
	span_now("/u/d", 200, 31);
	assert_int_equal(ctl_tap_poll(&t, collect, &g, err, sizeof(err)), 1);
	assert_string_equal(g.path[0], "/u/c");

	/* a ring that wrapped between two polls */
	for (i = 0; i < STATS_SPANS_MAX + 10; i++)
		span_now("/w", 200, 40);
	memset(&g, 0, sizeof(g));
	assert_int_equal(ctl_tap_poll(&t, collect, &g, err, sizeof(err)), 0);
	assert_int_equal(t.lost, 10);
	t.lost = 0;

	/* the sidecar restarts (a new file, made after the tap started) and
	 * a second instance appears: both read from their start at the
	 * next rescan */
	stats_close();
	usleep(1000);
	sidecar("api@v1.1", "api");
	span_now("/u/new1", 200, 50);
	stats_close();
	sidecar("api@v1.0", "api");
	span_now("/u/new0", 200, 51);
	t.scan_ms -= 2 * CTL_TAP_SCAN_MS;
	memset(&g, 0, sizeof(g));
	assert_int_equal(ctl_tap_poll(&t, collect, &g, err, sizeof(err)), 2);
	assert_int_equal(t.nfiles, 2);
	assert_string_equal(g.path[0], "/u/new1");
	assert_string_equal(g.path[1], "/u/new0");
	assert_int_equal(t.lost, 0);

	/* the lease is touched again when due */
	t.touch_ms -= 2 * CTL_TAP_TOUCH_MS;
	assert_int_equal(unlink(lease), 0);
	assert_int_equal(ctl_tap_poll(&t, collect, &g, err, sizeof(err)), 0);
	assert_int_equal(stat(lease, &st), 0);
	ctl_tap_close(&t);
	stats_close();

	/* a state dir with no run/: the lease cannot be taken */
	assert_int_equal(ctl_tap_open(&t, "/nonexistent/state", "api", NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/state/run/tap/api"));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_format_text),
		cmocka_unit_test(test_format_json),
		cmocka_unit_test(test_poll),
	};

	setenv("TZ", "UTC", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
