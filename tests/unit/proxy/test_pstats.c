/* SPDX-License-Identifier: ISC */
/*
 * test_pstats: the endpoint rows of the sidecar's stats file
 * (src/proxy/pstats.c) as `meshctl status` reads them back, for a
 * caller of a three-instance service whose instance 2 always fails:
 *
 * - the rows are copies made by pstats_sync() (twice a second, and after
 *   every config apply), not live: an ejection shows in the row only
 *   after the next pass, while the outlier counters move at once; so a
 *   reader that looks right after an ejection must allow for one pass
 *   (include/mesh/pstats.h, PSTATS_INTERVAL_S; policy_ewma.sh waits);
 * - after the pass each row holds the endpoint's ejection, peak-EWMA and
 *   counts;
 * - re-applying the config (what meshd does on every endpoint up or
 *   down) keeps one row per endpoint, in place, with the ejection, the
 *   EWMA and the counts: the live state is per port and survives it;
 * - an endpoint that leaves the config loses its row; back, it gets one
 *   row again, from the same live state.
 *
 * Simulated clock; a real pcfg document through pstate_apply(); the file
 * is read with stats_view_read(), as meshd does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ev.h>

#include "mesh/balance.h"
#include "mesh/log.h"
#include "mesh/pcfg.h"
#include "mesh/pstate.h"
#include "mesh/pstats.h"
#include "mesh/route.h"
#include "mesh/stats.h"
#include "mesh/upstream.h"

#define STATS_TEST_DIR "/tmp/test_pstats.XXXXXX"
#include "test_stats_util.h"

#define PORT0 41101u          /* endpoint ports: never connected to */
#define RTT_US 700u           /* every good exchange takes this long */

static uint64_t clock_us = 10000000u;

static uint64_t
test_clock(void)
{
	return clock_us;
}

static int
group_setup(void **state)
{
	(void)poke;          /* the fixture's, for corrupt files: none here */
	log_init("test", getenv("H_DEBUG") != NULL ? LOG_LVL_DEBUG : LOG_LVL_ERROR);
	if (ev_default_loop(EVFLAG_AUTO) == NULL)
		return -1;
	balance_set_clock(test_clock);
	balance_seed(7);
	if (setup(state) == -1)
		return -1;
	return stats_open(path);
}

static int
group_teardown(void **state)
{
	upstream_close_idle();
	pstate_free();
	balance_set_clock(NULL);
	return teardown(state);
}

/* Apply the caller's document: service flaky, instances 0-2 of v1 on
 * PORT0 + i for each i whose bit is set in `which`. */
static void
apply(unsigned which)
{
	char doc[1024], err[256];
	struct pcfg *cfg;
	size_t n;
	unsigned i;

	n = (size_t)snprintf(doc, sizeof(doc), "instance gateway v1 0\nservice flaky http\n");
	for (i = 0; i < 3; i++)
		if (which & (1u << i))
			n += (size_t)snprintf(doc + n, sizeof(doc) - n, "endpoint flaky v1 %u %u up\n",
			    i, PORT0 + i);
	n += (size_t)snprintf(doc + n, sizeof(doc) - n,
	    "policy flaky outlier_failures=3 outlier_ejection_ms=30000\nend\n");
	assert_true(n < sizeof(doc));
	cfg = calloc(1, sizeof(*cfg));
	assert_non_null(cfg);
	if (pcfg_parse(doc, n, cfg, err, sizeof(err)) == -1 ||
	    pstate_apply(cfg, err, sizeof(err)) == -1)
		fail_msg("apply: %s", err);
}

/* One exchange through the balancer, as fwd does it: instance 2 answers
 * 502, the others a 200 after RTT_US.  The instance picked. */
static unsigned
exchange(void)
{
	struct balance_service *bs = route_service(&pstate.rt, "flaky", 5);
	const struct pcfg_endpoint *ep;
	struct balance_ep *bep;
	uint64_t t0;

	assert_non_null(bs);
	ep = balance_pick(bs);
	assert_non_null(ep);
	bep = balance_ep_get(balance_ep_addr(ep));
	assert_non_null(bep);
	t0 = balance_start(bep);
	clock_us += RTT_US;
	balance_done(bep, t0, ep->index == 2 ? BALANCE_FAIL : BALANCE_OK);
	return ep->index;
}

/* The rows of the file as meshd reads them: flaky's by index (NULL for
 * none); every row of the file is one of flaky's, at most one each. */
struct rows {
	struct stats_view           v;
	const struct stats_ep_rec  *ep[3];
};

static void
rows_read(struct rows *r)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	assert_int_equal(stats_view_read(path, &r->v), STATS_OK);
	for (i = 0; i < r->v.neps; i++) {
		const struct stats_ep_rec *e = &r->v.eps[i];

		assert_string_equal(e->service, "flaky");
		assert_string_equal(e->version, "v1");
		assert_in_range(e->index, 0, 2);
		assert_null(r->ep[e->index]);          /* no duplicate row */
		assert_int_equal(e->port, PORT0 + e->index);
		r->ep[e->index] = e;
	}
}

/* 3 failures, then traffic until instance 2 is out; its ejection is in
 * the gateway's counters at once. */
static void
eject_instance_2(void)
{
	struct stats_snapshot s;
	unsigned i, hits[3] = { 0, 0, 0 };

	for (i = 0; i < 60; i++)
		hits[exchange()]++;
	assert_int_equal(hits[2], 3);
	assert_int_equal(hits[0] + hits[1], 57);
	assert_int_equal(stats_read(path, &s), STATS_OK);
	assert_int_equal(s.v[STAT_EJECTIONS], 1);
	assert_int_equal(s.v[STAT_EJECTED], 1);
}

static void
test_rows_are_copies_made_by_a_pass(void **state)
{
	struct rows r;
	unsigned i;

	(void)state;
	apply(7);
	rows_read(&r);
	assert_int_equal(r.v.neps, 3);
	for (i = 0; i < 3; i++) {
		assert_non_null(r.ep[i]);
		assert_int_equal(r.ep[i]->state, STATS_EP_CLOSED);
		assert_int_equal(r.ep[i]->ejected, 0);
		assert_int_equal(r.ep[i]->ewma_us, 0);
		assert_int_equal(r.ep[i]->requests, 0);
	}
	stats_view_free(&r.v);

	eject_instance_2();
	/* no pass yet: the rows are still the copies of before the traffic
	 * (what policy_ewma.sh's status --json saw 1 run in 3) */
	rows_read(&r);
	for (i = 0; i < 3; i++) {
		assert_int_equal(r.ep[i]->ejected, 0);
		assert_int_equal(r.ep[i]->ewma_us, 0);
		assert_int_equal(r.ep[i]->requests, 0);
	}
	stats_view_free(&r.v);

	/* the pass the timer makes within PSTATS_INTERVAL_S */
	pstats_sync();
	rows_read(&r);
	assert_int_equal(r.ep[2]->ejected, 1);
	assert_int_equal(r.ep[2]->ejections, 1);
	assert_int_equal(r.ep[2]->requests, 3);
	assert_int_equal(r.ep[2]->failures, 3);
	assert_int_equal(r.ep[0]->ejected, 0);
	assert_int_equal(r.ep[1]->ejected, 0);
	assert_int_equal(r.ep[0]->requests + r.ep[1]->requests, 57);
	for (i = 0; i < 2; i++)
		if (r.ep[i]->requests > 0)
			assert_int_equal(r.ep[i]->ewma_us, RTT_US);
	stats_view_free(&r.v);
}

/* Continues from the state the test above leaves (instance 2 ejected). */
static void
test_rows_survive_a_config_apply(void **state)
{
	struct stats_ep_rec *row[3];
	struct rows r;
	uint64_t req[3];
	unsigned i;

	(void)state;
	for (i = 0; i < 3; i++)
		row[i] = stats_ep("flaky", "v1", i, 0, (uint16_t)(PORT0 + i), NULL);
	rows_read(&r);
	assert_int_equal(r.ep[2]->ejected, 1);
	for (i = 0; i < 3; i++)
		req[i] = r.ep[i]->requests;
	stats_view_free(&r.v);

	/* meshd pushes the same document again (an endpoint of another
	 * service went up or down): rows, ejection and EWMA stay */
	apply(7);
	rows_read(&r);
	assert_int_equal(r.v.neps, 3);
	assert_int_equal(r.ep[2]->ejected, 1);
	assert_int_equal(r.ep[2]->ejections, 1);
	for (i = 0; i < 3; i++) {
		assert_ptr_equal(stats_ep("flaky", "v1", i, 0, (uint16_t)(PORT0 + i), NULL), row[i]);
		assert_int_equal(r.ep[i]->requests, req[i]);
	}
	for (i = 0; i < 2; i++)
		if (req[i] > 0)
			assert_int_equal(r.ep[i]->ewma_us, RTT_US);
	stats_view_free(&r.v);

	/* and the balancer still keeps instance 2 out */
	for (i = 0; i < 30; i++)
		assert_int_not_equal(exchange(), 2);
}

static void
test_row_freed_and_back(void **state)
{
	struct rows r;

	(void)state;
	apply(3);            /* instance 2 left the config */
	rows_read(&r);
	assert_int_equal(r.v.neps, 2);
	assert_null(r.ep[2]);
	stats_view_free(&r.v);

	apply(7);            /* back: one row, from the same live state */
	rows_read(&r);
	assert_int_equal(r.v.neps, 3);
	assert_non_null(r.ep[2]);
	assert_int_equal(r.ep[2]->ejected, 1);
	assert_int_equal(r.ep[2]->failures, 3);
	stats_view_free(&r.v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_are_copies_made_by_a_pass),
		cmocka_unit_test(test_rows_survive_a_config_apply),
		cmocka_unit_test(test_row_freed_and_back),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
