/* SPDX-License-Identifier: ISC */
/*
 * status_sum: the summary of a service from its instances' stats files,
 * written through the writer API: requests, success rate (non-5xx share
 * of responses), p50/p95/p99 from the summed histograms within 2% of the
 * exact order statistics, RPS from the rate rings; a pure client is
 * summarised by what it sends; gRPC calls and their OK share; breaker states rank open > half-open >
 * closed; endpoint rows are found by service, version and index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "mesh/stats.h"
#include "mesh/status.h"

static char dir[] = "/tmp/test_status_sum.XXXXXX";
static uint64_t vals[4000];
static size_t nvals;

static int
setup(void **state)
{
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[200];

	stats_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
view_of(const char *name, struct stats_view *v)
{
	char p[200];

	snprintf(p, sizeof(p), "%s/%s.stats", dir, name);
	assert_int_equal(stats_view_read(p, v), STATS_OK);
}

static void
open_file(const char *name)
{
	char p[200];

	snprintf(p, sizeof(p), "%s/%s.stats", dir, name);
	assert_int_equal(stats_open(p), 0);
}

/* n requests on row p, durations lo + i*step us, every k-th a 503 */
static void
traffic(struct stats_peer_rec *p, unsigned n, uint64_t lo, uint64_t step, unsigned k)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		stats_peer_done(p, k != 0 && i % k == k - 1 ? 503 : 200, lo + i * step, 0, 0);
		if (p->dir == STATS_IN)
			vals[nvals++] = lo + i * step;
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
near(uint64_t got, double q)
{
	size_t rank = (size_t)(q * (double)nvals + 0.999999);
	uint64_t exact;

	qsort(vals, nvals, sizeof(vals[0]), cmp_u64);
	exact = vals[rank - 1];
	if ((got > exact ? got - exact : exact - got) * 50 > exact)
		fail_msg("q%.2f: %llu, exact %llu", q, (unsigned long long)got,
		    (unsigned long long)exact);
}

static void
test_summary(void **state)
{
	struct stats_view a, b, c;
	const struct stats_view *vs[4];
	struct status_summary s, t;
	struct stats_peer_rec *p;
	uint64_t now;

	/* api.0: 1000 from web (every 10th a 503), 200 from an unknown
	 * caller; it also calls db (outbound: not in its summary) */
	open_file("api.0");
	traffic(stats_peer(STATS_IN, "web", ""), 1000, 1000, 50, 10);
	traffic(stats_peer(STATS_IN, "", ""), 200, 200, 1, 0);
	traffic(stats_peer(STATS_OUT, "db", "v1"), 500, 90000, 0, 1);
	/* api.1: 800 from web, slower */
	open_file("api.1");
	p = stats_peer(STATS_IN, "web", "");
	traffic(p, 800, 20000, 100, 0);
	/* gateway: calls only */
	open_file("gateway.0");
	traffic(stats_peer(STATS_OUT, "api", "v1"), 30, 5000, 0, 3);
	stats_close();
	now = (uint64_t)time(NULL) + 1;

	view_of("api.0", &a);
	view_of("api.1", &b);
	view_of("gateway.0", &c);

	/* one instance */
	vs[0] = &a;
	status_summary(&s, vs, 1, now);
	assert_int_equal(s.source, STATS_IN);
	assert_int_equal(s.requests, 1200);
	assert_true(s.has_traffic);
	assert_true(s.success_rate > 1100.0 / 1200 - 1e-9 && s.success_rate < 1100.0 / 1200 + 1e-9);
	assert_true(s.rps > 1200.0 / STATUS_RPS_SECONDS - 1e-9 &&
	    s.rps < 1200.0 / STATUS_RPS_SECONDS + 1e-9);

	/* two instances and a missing file: histograms add up */
	vs[1] = NULL;
	vs[2] = &b;
	status_summary(&s, vs, 3, now);
	assert_int_equal(s.requests, 2000);
	assert_true(s.success_rate > 1900.0 / 2000 - 1e-9 && s.success_rate < 1900.0 / 2000 + 1e-9);
	assert_true(s.rps > 2000.0 / STATUS_RPS_SECONDS - 1e-9);
	near(s.p50_us, 0.50);
	near(s.p95_us, 0.95);
	near(s.p99_us, 0.99);
	assert_true(s.p50_us < s.p95_us && s.p95_us <= s.p99_us);

	/* merging per-instance summaries gives the same numbers */
	status_summary(&t, vs, 1, now);
	status_summary(&s, vs + 2, 1, now);
	status_summary_merge(&t, &s);
	status_summary_done(&t);
	assert_int_equal(t.requests, 2000);
	near(t.p99_us, 0.99);

	/* the rate ring's window: nothing 20 s later */
	status_summary(&s, vs, 3, now + 20);
	assert_true(s.rps == 0.0);
	assert_int_equal(s.requests, 2000);

	/* a pure client: what it sends */
	vs[0] = &c;
	status_summary(&s, vs, 1, now);
	assert_int_equal(s.source, STATS_OUT);
	assert_int_equal(s.requests, 30);
	assert_true(s.success_rate > 20.0 / 30 - 1e-9 && s.success_rate < 20.0 / 30 + 1e-9);
	assert_true(s.rps > 3.0 - 1e-9 && s.rps < 3.0 + 1e-9);
	assert_true(s.p50_us >= 4900 && s.p50_us <= 5100);

	/* nothing at all: no traffic, no quantiles */
	status_summary(&s, vs, 0, now);
	assert_false(s.has_traffic);
	assert_int_equal(s.p99_us, 0);
	assert_int_equal(s.requests, 0);

	stats_view_free(&a);
	stats_view_free(&b);
	stats_view_free(&c);
}

/* gRPC: calls and the OK share of the same rows as the summary (inbound;
 * outbound for a pure client), added up across instances and merges;
 * none at all: 0 calls. */
static void
test_grpc(void **state)
{
	struct stats_view a, b, c;
	const struct stats_view *vs[3];
	struct status_summary s, t;
	struct stats_peer_rec *p;
	unsigned i;

	(void)state;
	open_file("g.0");
	p = stats_peer(STATS_IN, "web", "");
	for (i = 0; i < 100; i++) {
		stats_peer_done(p, 200, 1000, 0, 0);
		stats_peer_grpc(p, i < 97 ? 0 : 14);
	}
	stats_peer_done(p, 200, 1000, 0, 0);      /* an HTTP/1.1 request */
	p = stats_peer(STATS_OUT, "db", "v1");    /* outbound: not its summary */
	stats_peer_done(p, 200, 1000, 0, 0);
	stats_peer_grpc(p, 13);
	open_file("g.1");
	p = stats_peer(STATS_IN, "web", "");
	for (i = 0; i < 100; i++) {
		stats_peer_done(p, 200, 1000, 0, 0);
		stats_peer_grpc(p, i < 50 ? 0 : 4);
	}
	open_file("gw.0");
	p = stats_peer(STATS_OUT, "g", "v1");
	for (i = 0; i < 4; i++) {
		stats_peer_done(p, 200, 1000, 0, 0);
		stats_peer_grpc(p, i == 0 ? 8 : 0);
	}
	stats_close();
	view_of("g.0", &a);
	view_of("g.1", &b);
	view_of("gw.0", &c);

	vs[0] = &a;
	status_summary(&s, vs, 1, 0);
	assert_int_equal(s.requests, 101);
	assert_int_equal(s.grpc_calls, 100);
	assert_true(s.grpc_success > 0.97 - 1e-9 && s.grpc_success < 0.97 + 1e-9);
	vs[1] = &b;
	status_summary(&s, vs, 2, 0);
	assert_int_equal(s.grpc_calls, 200);
	assert_true(s.grpc_success > 147.0 / 200 - 1e-9 && s.grpc_success < 147.0 / 200 + 1e-9);
	/* merged summaries of versions: the same */
	status_summary(&t, vs, 1, 0);
	status_summary(&s, vs + 1, 1, 0);
	status_summary_merge(&t, &s);
	status_summary_done(&t);
	assert_int_equal(t.grpc_calls, 200);
	assert_true(t.grpc_success > 147.0 / 200 - 1e-9 && t.grpc_success < 147.0 / 200 + 1e-9);
	/* a pure client: what it sends */
	vs[0] = &c;
	status_summary(&s, vs, 1, 0);
	assert_int_equal(s.source, STATS_OUT);
	assert_int_equal(s.grpc_calls, 4);
	assert_true(s.grpc_success > 0.75 - 1e-9 && s.grpc_success < 0.75 + 1e-9);
	status_summary(&s, vs, 0, 0);
	assert_int_equal(s.grpc_calls, 0);
	assert_true(s.grpc_success == 0.0);
	stats_view_free(&a);
	stats_view_free(&b);
	stats_view_free(&c);
}

static void
test_breaker(void **state)
{
	struct stats_ep_rec *e;
	struct stats_view v;

	assert_int_equal(status_ep_worse(STATS_EP_CLOSED, STATS_EP_OPEN), STATS_EP_OPEN);
	assert_int_equal(status_ep_worse(STATS_EP_OPEN, STATS_EP_HALF_OPEN), STATS_EP_OPEN);
	assert_int_equal(status_ep_worse(STATS_EP_HALF_OPEN, STATS_EP_CLOSED), STATS_EP_HALF_OPEN);
	assert_int_equal(status_ep_worse(STATS_EP_FREE, STATS_EP_CLOSED), STATS_EP_CLOSED);
	assert_int_equal(status_ep_worse(STATS_EP_CLOSED, STATS_EP_FREE), STATS_EP_CLOSED);
	assert_string_equal(status_ep_state(STATS_EP_HALF_OPEN), "half-open");
	assert_null(status_ep_state(STATS_EP_FREE));

	open_file("web.0");
	stats_ep("api", "v1", 0, 0, 15000, NULL);
	e = stats_ep("api", "v1", 1, 0, 15001, NULL);
	stats_ep_put32(e, &e->state, STATS_EP_HALF_OPEN);
	stats_ep("api", "v2", 0, 0, 15002, NULL);
	stats_close();
	view_of("web.0", &v);
	assert_null(status_ep_find(&v, "api", "v1", 2, NULL));
	assert_null(status_ep_find(&v, "db", "v1", 0, NULL));
	assert_int_equal(status_ep_find(&v, "api", "v1", 1, NULL)->state, STATS_EP_HALF_OPEN);
	assert_int_equal(status_ep_find(&v, "api", "v2", 0, NULL)->port, 15002);
	stats_view_free(&v);
}

/*
 * Several hosts (issue 16): a caller balances over this host's api@v1.0
 * (host a at 10.0.0.1) and host b's (10.0.0.2), same port.  Host b's row
 * is open; this host's instance must not show it, and host b's shows
 * it when asked by host, address and port.
 */
static void
test_breaker_hosts(void **state)
{
	struct status_here a = { "a", 0x0a000001u }, none = { "", 0 };
	const struct stats_ep_rec *r;
	struct stats_ep_rec *e;
	struct stats_view v;

	(void)state;
	open_file("web.0");
	e = stats_ep("api", "v1.0", 0, 0x0a000002u, 15001, "b");
	stats_ep_put32(e, &e->state, STATS_EP_OPEN);
	stats_ep_put32(e, &e->ejected, 1);
	stats_ep("api", "v1.0", 0, 0x0a000001u, 15001, "a");
	/* an older sidecar's row (no host, 127.0.0.1) of another instance */
	stats_ep("api", "v1.0", 1, 0, 15003, NULL);
	stats_close();
	view_of("web.0", &v);
	assert_int_equal(v.neps, 3);
	assert_non_null(r = status_ep_find(&v, "api", "v1.0", 0, &a));
	assert_int_equal(r->state, STATS_EP_CLOSED);
	assert_string_equal(r->host, "a");
	assert_non_null(r = status_ep_find(&v, "api", "v1.0", 1, &a));
	assert_int_equal(r->port, 15003);
	/* without a registry neither host's row is "this host's" */
	assert_null(status_ep_find(&v, "api", "v1.0", 0, &none));
	assert_non_null(r = status_ep_find_at(&v, "api", "v1.0", 0, "b", 0x0a000002u, 15001));
	assert_int_equal(r->state, STATS_EP_OPEN);
	assert_int_equal(r->ejected, 1);
	assert_null(status_ep_find_at(&v, "api", "v1.0", 0, "b", 0x0a000002u, 15002));
	assert_null(status_ep_find_at(&v, "api", "v1.0", 0, "c", 0x0a000002u, 15001));
	assert_null(status_ep_find_at(&v, "api", "v1.0", 0, "b", 0x0a000003u, 15001));
	stats_view_free(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_grpc),
		cmocka_unit_test(test_breaker),
		cmocka_unit_test(test_breaker_hosts),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
