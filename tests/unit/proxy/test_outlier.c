/* SPDX-License-Identifier: ISC */
/*
 * test_outlier: passive outlier ejection (src/proxy/outlier.c) as the balancer
 * sees it: consecutive failures eject, at most half of a service's
 * instances are out, the time grows with each ejection, the endpoint
 * comes back after it.  Simulated clock, seeded random source.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define TEST_T0_US 5000000
#define TEST_SEED 3
#include "test_balance_util.h"
#include "mesh/outlier.h"

static void
svc_init_outlier(struct pcfg_service *svc, struct pcfg_endpoint *e, size_t n, uint16_t base)
{
	svc_init(svc, e, n, base);
	svc->policy.outlier_failures = 3;
	svc->policy.outlier_ejection_ms = 1000;
}

static void
outcome(uint16_t port, enum balance_outcome o, int times)
{
	struct balance_ep *e = balance_ep_get(epaddr_make(EPADDR_LOOPBACK, port));
	int i;

	assert_non_null(e);
	for (i = 0; i < times; i++)
		balance_done(e, balance_start(e), o);
}

/* How many of n picks land on port. */
static int
picks_of(struct balance_service *bs, uint16_t port, int n)
{
	int i, hits = 0;

	for (i = 0; i < n; i++) {
		const struct pcfg_endpoint *ep = balance_pick(bs);

		assert_non_null(ep);
		hits += ep->port == port;
	}
	return hits;
}

static void
test_eject_and_return(void **state)
{
	struct pcfg_endpoint e[3];
	struct pcfg_service svc;
	struct balance_service bs;
	struct balance_ep *a;

	svc_init_outlier(&svc, e, 3, 3000);
	assert_int_equal(balance_service_init(&bs, &svc, &balance_rr), 0);
	a = balance_ep_get(epaddr_make(EPADDR_LOOPBACK, 3000));

	/* failures that are not consecutive do not eject */
	outcome(3000, BALANCE_FAIL, 2);
	outcome(3000, BALANCE_OK, 1);
	outcome(3000, BALANCE_FAIL, 2);
	outcome(3000, BALANCE_ABANDON, 3);     /* no verdict: no reset either */
	assert_true(picks_of(&bs, 3000, 30) > 0);
	assert_int_equal(a->ejections, 0);

	/* the third in a row ejects it, for the base time */
	outcome(3000, BALANCE_FAIL, 1);
	assert_int_equal(picks_of(&bs, 3000, 30), 0);
	assert_int_equal(a->ejections, 1);
	assert_true(outlier_ejected(a, now_us));
	now_us += 999 * 1000;
	assert_int_equal(picks_of(&bs, 3000, 30), 0);
	now_us += 1000;                         /* 1000 ms: back */
	assert_true(picks_of(&bs, 3000, 30) > 0);
	assert_false(outlier_ejected(a, now_us));
	assert_int_equal(a->failures, 0);

	/* ejected again soon: twice the time */
	outcome(3000, BALANCE_FAIL, 3);
	assert_int_equal(picks_of(&bs, 3000, 30), 0);
	assert_int_equal(a->ejections, 2);
	now_us += 1999 * 1000;
	assert_int_equal(picks_of(&bs, 3000, 30), 0);
	now_us += 1000;
	assert_true(picks_of(&bs, 3000, 30) > 0);

	/* healthy for a base period after coming back: the multiplier
	 * steps down */
	now_us += 1000 * 1000;
	outcome(3000, BALANCE_OK, 1);
	assert_int_equal(a->ejections, 1);
	balance_service_free(&bs);
}

/* Never more than half of the instances out (rounded down). */
static void
test_half_cap(void **state)
{
	struct pcfg_endpoint e[4];
	struct pcfg_service svc;
	struct balance_service bs;
	int i, out;

	/* four instances, three failing: two ejected, the third waits */
	svc_init_outlier(&svc, e, 4, 3100);
	assert_int_equal(balance_service_init(&bs, &svc, &balance_lr), 0);
	for (i = 0; i < 3; i++)
		outcome((uint16_t)(3100 + i), BALANCE_FAIL, 3);
	(void)balance_pick(&bs);
	for (out = 0, i = 0; i < 4; i++)
		out += outlier_ejected(bs.all[i], now_us);
	assert_int_equal(out, 2);
	assert_false(outlier_ejected(bs.all[2], now_us));
	assert_true(picks_of(&bs, 3102, 40) > 0);
	/* when the first two come back, the one that waited goes out */
	now_us += 1000 * 1000;
	(void)balance_pick(&bs);
	assert_true(outlier_ejected(bs.all[2], now_us));
	assert_int_equal(picks_of(&bs, 3102, 40), 0);
	balance_service_free(&bs);

	/* three instances: one at most */
	svc_init_outlier(&svc, e, 3, 3200);
	assert_int_equal(balance_service_init(&bs, &svc, &balance_ewma), 0);
	for (i = 0; i < 3; i++)
		outcome((uint16_t)(3200 + i), BALANCE_FAIL, 5);
	(void)balance_pick(&bs);
	for (out = 0, i = 0; i < 3; i++)
		out += outlier_ejected(bs.all[i], now_us);
	assert_int_equal(out, 1);
	balance_service_free(&bs);

	/* a lone instance is never ejected */
	svc_init_outlier(&svc, e, 1, 3300);
	assert_int_equal(balance_service_init(&bs, &svc, &balance_ewma), 0);
	outcome(3300, BALANCE_FAIL, 10);
	assert_int_equal(picks_of(&bs, 3300, 5), 5);
	assert_false(outlier_ejected(bs.all[0], now_us));
	balance_service_free(&bs);
}

/* The multiplier is capped; the policy's zero means the defaults. */
static void
test_cap_and_defaults(void **state)
{
	struct balance_ep e = { .addr = { 0x7f000001u, 3400 } }, f = { .addr = { 0x7f000001u, 3401 } };
	struct balance_ep *eps[2] = { &e, &f };
	int i;

	for (i = 0; i < 15; i++) {
		outlier_record(&e, BALANCE_FAIL, now_us);
		outlier_sweep("api", eps, 2, 1, 1000, now_us);
		assert_true(outlier_ejected(&e, now_us));
		now_us = e.ejected_until_us;
		outlier_sweep("api", eps, 2, 1, 1000, now_us);
		assert_false(outlier_ejected(&e, now_us));
	}
	assert_int_equal(e.ejections, OUTLIER_MAX_MULT);

	/* 0, 0: five failures, 30 s */
	for (i = 0; i < 4; i++)
		outlier_record(&f, BALANCE_FAIL, now_us);
	outlier_sweep("api", eps, 2, 0, 0, now_us);
	assert_false(outlier_ejected(&f, now_us));
	outlier_record(&f, BALANCE_FAIL, now_us);
	outlier_sweep("api", eps, 2, 0, 0, now_us);
	assert_true(outlier_ejected(&f, now_us));
	assert_int_equal(f.ejected_until_us - now_us, 30000000u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_eject_and_return, setup),
		cmocka_unit_test_setup(test_half_cap, setup),
		cmocka_unit_test_setup(test_cap_and_defaults, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
