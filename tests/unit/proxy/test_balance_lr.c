/* SPDX-License-Identifier: ISC */
/*
 * test_balance_lr: least-request (src/proxy/balance_lr.c), and what every
 * balancer gets from balance.c: the retry's excluded endpoint and the
 * gate (circuit breakers).  Seeded random source, simulated clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define TEST_T0_US 1000000
#define TEST_SEED 7
#include "test_balance_util.h"

/* The busiest endpoint loses every pair it is drawn in. */
static void
test_lr_avoids_busy(void **state)
{
	struct balance_ep a = { .addr = { 0x7f000001u, 1 }, .outstanding = 10 };
	struct balance_ep b = { .addr = { 0x7f000001u, 2 }, .outstanding = 0 };
	struct balance_ep c = { .addr = { 0x7f000001u, 3 }, .outstanding = 1 };
	struct balance_ep *eps[3] = { &a, &b, &c };
	int i, count[3] = { 0 };

	for (i = 0; i < 300; i++)
		count[balance_lr.pick(NULL, eps, 3)]++;
	assert_int_equal(count[0], 0);
	assert_true(count[1] >= 150);          /* b wins (a,b) and (b,c) */
	assert_true(count[2] > 0);             /* c wins (a,c) */
	for (i = 0; i < 10; i++)
		assert_int_equal(balance_lr.pick(NULL, eps, 2), 1);
	assert_int_equal(balance_lr.pick(NULL, eps, 1), 0);
	assert_int_equal(balance_lr.pick(NULL, eps, 0), -1);
}

/* Requests that stay in flight spread evenly over equal endpoints. */
static void
test_lr_spreads(void **state)
{
	struct pcfg_endpoint e[4];
	struct pcfg_service svc;
	struct balance_service bs;
	struct balance_ep *held[400];
	uint64_t start[400];
	int i, count[4] = { 0 };

	svc_init(&svc, e, 4, 2000);
	assert_int_equal(balance_service_init(&bs, &svc, &balance_lr), 0);
	for (i = 0; i < 400; i++) {
		const struct pcfg_endpoint *ep = balance_pick_ep(&bs, NULL, 0, &held[i]);

		assert_non_null(ep);
		count[ep->port - 2000]++;
		start[i] = balance_start(held[i]);
	}
	print_message("lr: %d %d %d %d\n", count[0], count[1], count[2], count[3]);
	for (i = 0; i < 4; i++)
		assert_true(count[i] >= 90 && count[i] <= 110);
	for (i = 0; i < 400; i++)
		balance_done(held[i], start[i], BALANCE_ABANDON);
	for (i = 0; i < 4; i++)
		assert_int_equal(bs.all[i]->outstanding, 0);
	balance_service_free(&bs);
}

/* A retry avoids the endpoint that failed, unless nothing else is left. */
static void
test_exclude(void **state)
{
	const struct balancer_ops *ops[3] = { &balance_lr, &balance_ewma, &balance_rr };
	struct pcfg_endpoint e[2];
	struct pcfg_service svc;
	struct balance_service bs;
	struct balance_ep *bep;
	struct epaddr avoid[1];
	int i, k;

	for (k = 0; k < 3; k++) {
		svc_init(&svc, e, 2, (uint16_t)(2100 + 10 * k));
		assert_int_equal(balance_service_init(&bs, &svc, ops[k]), 0);
		avoid[0] = balance_ep_addr(&e[0]);
		for (i = 0; i < 20; i++) {
			assert_int_equal(balance_pick_ep(&bs, avoid, 1, &bep)->port, e[1].port);
			assert_int_equal(bep->addr.port, e[1].port);
		}
		e[1].up = 0;
		assert_int_equal(balance_pick_ep(&bs, avoid, 1, &bep)->port, e[0].port);
		e[0].up = 0;
		assert_null(balance_pick_ep(&bs, avoid, 1, &bep));
		assert_null(bep);
		balance_service_free(&bs);
	}
}

/* Two failed endpoints of three are both avoided (a second retry does not
 * go back to the first one that failed); with all three avoided any of
 * them is taken rather than none. */
static void
test_exclude_several(void **state)
{
	const struct balancer_ops *ops[3] = { &balance_lr, &balance_ewma, &balance_rr };
	struct pcfg_endpoint e[3];
	struct pcfg_service svc;
	struct balance_service bs;
	struct balance_ep *bep;
	struct epaddr avoid[3];
	int i, k, seen[3];

	for (k = 0; k < 3; k++) {
		svc_init(&svc, e, 3, (uint16_t)(2400 + 10 * k));
		assert_int_equal(balance_service_init(&bs, &svc, ops[k]), 0);
		avoid[0] = balance_ep_addr(&e[2]);
		avoid[1] = balance_ep_addr(&e[0]);
		for (i = 0; i < 30; i++)
			assert_int_equal(balance_pick_ep(&bs, avoid, 2, &bep)->port, e[1].port);
		avoid[2] = balance_ep_addr(&e[1]);
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < 60; i++)
			seen[balance_pick_ep(&bs, avoid, 3, &bep)->port - e[0].port]++;
		assert_true(seen[0] + seen[1] + seen[2] == 60);
		assert_true(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
		balance_service_free(&bs);
	}
}

static uint16_t gate_closed;

static int
gate(struct epaddr at)
{
	return at.port != gate_closed;
}

/* Every balancer skips what the gate refuses; all refused is a 503. */
static void
test_gate(void **state)
{
	const struct balancer_ops *ops[3] = { &balance_lr, &balance_ewma, &balance_rr };
	struct pcfg_endpoint e[3];
	struct pcfg_service svc;
	struct balance_service bs;
	int i, k;

	balance_set_gate(gate);
	for (k = 0; k < 3; k++) {
		svc_init(&svc, e, 3, (uint16_t)(2200 + 10 * k));
		gate_closed = e[1].port;
		assert_int_equal(balance_service_init(&bs, &svc, ops[k]), 0);
		for (i = 0; i < 50; i++)
			assert_int_not_equal(balance_pick(&bs)->port, e[1].port);
		e[0].up = e[2].up = 0;
		assert_null(balance_pick(&bs));
		balance_service_free(&bs);
	}
	balance_set_gate(NULL);
}

/* The split sees the gate too: a canary whose endpoints are all refused
 * gives its share to the others. */
static void
test_gate_split(void **state)
{
	struct pcfg_endpoint e[2] = { { "v1", 0, 2300, 1, 0, "" }, { "v2", 0, 2301, 1, 0, "" } };
	struct pcfg_split sp[2] = { { "v1", 50 }, { "v2", 50 } };
	struct pcfg_service svc = { .name = "api", .endpoints = e, .nendpoints = 2,
	                            .splits = sp, .nsplits = 2 };
	struct balance_service bs;
	int i;

	pcfg_policy_default(&svc.policy);
	balance_set_gate(gate);
	gate_closed = 2301;
	assert_int_equal(balance_service_init(&bs, &svc, &balance_ewma), 0);
	for (i = 0; i < 20; i++)
		assert_int_equal(balance_pick(&bs)->port, 2300);
	balance_service_free(&bs);
	balance_set_gate(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_lr_avoids_busy, setup),
		cmocka_unit_test_setup(test_lr_spreads, setup),
		cmocka_unit_test_setup(test_exclude, setup),
		cmocka_unit_test_setup(test_exclude_several, setup),
		cmocka_unit_test_setup(test_gate, setup),
		cmocka_unit_test_setup(test_gate_split, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
