/* SPDX-License-Identifier: ISC */
/*
 * test_balance_local: locality in balance.c (issue 16).  With a `host`
 * line, an endpoint on another host is remote: every balancer keeps to
 * the local endpoints of the chosen version while one is eligible, spills
 * to the remote ones when none is (down, ejected, breaker open), and comes
 * back; the split is decided first; without a `host` line all are local.
 * Seeded random source, simulated clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define TEST_T0_US 1000000000ull
#define TEST_SEED  16
#include "test_balance_util.h"

#define NEPS 4
#define BASE 4100

static const struct balancer_ops *const ops[3] = { &balance_rr, &balance_lr, &balance_ewma };

/* api v1: 4100 on host a, 4101 with no host= (this one's), 4102 on b,
 * 4103 on c; the sidecar runs on a. */
static void
world(struct pcfg *cfg, struct pcfg_service *svc, struct pcfg_endpoint *e)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->host, "a");
	svc_init(svc, e, NEPS, BASE);
	strcpy(e[0].host, "a");
	e[2].addr = 0x7f000002u;
	strcpy(e[2].host, "b");
	e[3].addr = 0x0a000003u;
	strcpy(e[3].host, "c");
	cfg->services = svc;
	cfg->nservices = 1;
}

/* Picks by endpoint index over n picks, each exchange ended at once. */
static void
picks(struct balance_service *bs, int n, int count[NEPS])
{
	int i;

	memset(count, 0, NEPS * sizeof(count[0]));
	for (i = 0; i < n; i++) {
		struct balance_ep *bep;
		const struct pcfg_endpoint *ep = balance_pick_ep(bs, NULL, 0, &bep);
		uint64_t t0;

		assert_non_null(ep);
		assert_true(epaddr_eq(bep->addr, balance_ep_addr(ep)));
		count[ep->index]++;
		t0 = balance_start(bep);
		now_us += 1000;
		balance_done(bep, t0, BALANCE_OK);
	}
}

static void
test_local_first_spill_and_back(void **state)
{
	struct pcfg cfg;
	struct pcfg_service svc;
	struct pcfg_endpoint e[NEPS];
	struct balance_service bs;
	int k, c[NEPS];

	(void)state;
	for (k = 0; k < 3; k++) {
		world(&cfg, &svc, e);
		assert_int_equal(balance_service_init_at(&bs, &cfg, &svc, ops[k]), 0);
		assert_true(bs.has_remote);
		picks(&bs, 100, c);
		assert_int_equal(c[0] + c[1], 100);
		assert_true(c[0] > 0 && c[1] > 0);
		/* one local left: it takes everything */
		e[0].up = 0;
		picks(&bs, 40, c);
		assert_int_equal(c[1], 40);
		/* no local one: spill to both remote ones */
		e[1].up = 0;
		picks(&bs, 100, c);
		assert_int_equal(c[2] + c[3], 100);
		assert_true(c[2] > 0 && c[3] > 0);
		/* and back as soon as a local one is up again */
		e[0].up = 1;
		picks(&bs, 50, c);
		assert_int_equal(c[0], 50);
		balance_service_free(&bs);
	}
}

/* The remote addresses are the keys: 127.0.0.2:4102 is not 127.0.0.1:4102. */
static void
test_addr_keys(void **state)
{
	struct pcfg cfg;
	struct pcfg_service svc;
	struct pcfg_endpoint e[NEPS];
	struct balance_service bs;

	(void)state;
	world(&cfg, &svc, e);
	assert_int_equal(balance_service_init_at(&bs, &cfg, &svc, &balance_rr), 0);
	assert_int_equal(bs.all[2]->addr.ip, 0x7f000002u);
	assert_int_equal(bs.all[2]->addr.port, BASE + 2);
	assert_ptr_not_equal(bs.all[2], balance_ep_get(epaddr_make(EPADDR_LOOPBACK, BASE + 2)));
	assert_ptr_equal(bs.all[3], balance_ep_get(epaddr_make(0x0a000003u, BASE + 3)));
	balance_service_free(&bs);
}

static struct epaddr gate_closed[2];

static int
gate(struct epaddr at)
{
	return !epaddr_eq(at, gate_closed[0]) && !epaddr_eq(at, gate_closed[1]);
}

/* An open breaker or an ejection makes a local endpoint unusable too. */
static void
test_spill_on_breaker_and_ejection(void **state)
{
	struct pcfg cfg;
	struct pcfg_service svc;
	struct pcfg_endpoint e[NEPS];
	struct balance_service bs;
	int k, c[NEPS];

	(void)state;
	for (k = 0; k < 3; k++) {
		world(&cfg, &svc, e);
		assert_int_equal(balance_service_init_at(&bs, &cfg, &svc, ops[k]), 0);
		gate_closed[0] = balance_ep_addr(&e[0]);
		gate_closed[1] = epaddr_make(0, 0);
		balance_set_gate(gate);
		picks(&bs, 30, c);
		assert_int_equal(c[1], 30);
		/* e1 ejected (e0's breaker open): remote only */
		bs.all[1]->ejected_until_us = now_us + 5000000;
		picks(&bs, 60, c);
		assert_int_equal(c[2] + c[3], 60);
		/* the ejection ends, the breaker closes: local again */
		now_us += 6000000;
		balance_set_gate(NULL);
		picks(&bs, 60, c);
		assert_int_equal(c[0] + c[1], 60);
		assert_true(c[0] > 0 && c[1] > 0);
		balance_service_free(&bs);
	}
}

/* A retry avoids within the local set; a local endpoint that just failed
 * is still taken rather than a remote one when it is the only local one. */
static void
test_retry_within_set(void **state)
{
	struct pcfg cfg;
	struct pcfg_service svc;
	struct pcfg_endpoint e[NEPS];
	struct balance_service bs;
	struct balance_ep *bep;
	struct epaddr avoid[1];
	int i, k;

	(void)state;
	for (k = 0; k < 3; k++) {
		world(&cfg, &svc, e);
		assert_int_equal(balance_service_init_at(&bs, &cfg, &svc, ops[k]), 0);
		avoid[0] = balance_ep_addr(&e[0]);
		for (i = 0; i < 20; i++)
			assert_int_equal(balance_pick_ep(&bs, avoid, 1, &bep)->index, 1);
		e[1].up = 0;
		for (i = 0; i < 20; i++)
			assert_int_equal(balance_pick_ep(&bs, avoid, 1, &bep)->index, 0);
		balance_service_free(&bs);
	}
}

/* The split first: v1 has only remote endpoints, v2 a local one; each
 * keeps its share, v1's going to its remote endpoints. */
static void
test_split_first(void **state)
{
	struct pcfg cfg;
	struct pcfg_service svc;
	struct pcfg_endpoint e[NEPS];
	struct pcfg_split sp[2] = { { "v1", 50 }, { "v2", 50 } };
	struct balance_service bs;
	int c[NEPS];

	(void)state;
	world(&cfg, &svc, e);
	strcpy(e[0].host, "b");          /* v1: 4100 b, 4102 b, 4103 c */
	strcpy(e[1].version, "v2");      /* v2: 4101, local */
	svc.splits = sp;
	svc.nsplits = 2;
	assert_int_equal(balance_service_init_at(&bs, &cfg, &svc, &balance_rr), 0);
	picks(&bs, 100, c);
	assert_int_equal(c[1], 50);
	assert_int_equal(c[0] + c[2] + c[3], 50);
	assert_true(c[0] > 0 && c[2] > 0 && c[3] > 0);
	balance_service_free(&bs);
}

/* No `host` line (or balance_service_init): every endpoint is local. */
static void
test_no_host_all_local(void **state)
{
	struct pcfg cfg;
	struct pcfg_service svc;
	struct pcfg_endpoint e[NEPS];
	struct balance_service bs;
	int i, c[NEPS];

	(void)state;
	world(&cfg, &svc, e);
	cfg.host[0] = '\0';
	assert_int_equal(balance_service_init_at(&bs, &cfg, &svc, &balance_rr), 0);
	assert_false(bs.has_remote);
	picks(&bs, 100, c);
	for (i = 0; i < NEPS; i++)
		assert_int_equal(c[i], 25);
	balance_service_free(&bs);
	world(&cfg, &svc, e);
	assert_int_equal(balance_service_init(&bs, &svc, &balance_rr), 0);
	assert_false(bs.has_remote);
	picks(&bs, 100, c);
	for (i = 0; i < NEPS; i++)
		assert_int_equal(c[i], 25);
	balance_service_free(&bs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_local_first_spill_and_back, setup),
		cmocka_unit_test_setup(test_addr_keys, setup),
		cmocka_unit_test_setup(test_spill_on_breaker_and_ejection, setup),
		cmocka_unit_test_setup(test_retry_within_set, setup),
		cmocka_unit_test_setup(test_split_first, setup),
		cmocka_unit_test_setup(test_no_host_all_local, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
