/* SPDX-License-Identifier: ISC */
/*
 * test_balance_rr: round-robin over endpoints that are up, and the
 * version split in front of it (src/proxy/balance.c, src/proxy/balance_rr.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/balance.h"

static void
test_rr_skips_down(void **state)
{
	struct pcfg_endpoint e[3] = {
		{ "v1", 0, 1, 1, 0, "" }, { "v1", 1, 2, 0, 0, "" }, { "v1", 2, 3, 1, 0, "" },
	};
	struct pcfg_service svc = { .name = "api", .endpoints = e, .nendpoints = 3 };
	struct balance_service bs;
	_Alignas(8) unsigned char st[BALANCE_STATE_MAX];
	unsigned seen;
	int i;

	assert_int_equal(balance_service_init(&bs, &svc, &balance_rr), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(balance_pick(&bs)->port, 1);
		assert_int_equal(balance_pick(&bs)->port, 3);
	}
	e[1].up = 1;                       /* back: the turn goes on over three */
	seen = 0;
	for (i = 0; i < 3; i++)
		seen |= 1u << balance_pick(&bs)->port;
	assert_int_equal(seen, 0xe);
	e[0].up = e[1].up = e[2].up = 0;
	assert_null(balance_pick(&bs));
	balance_service_free(&bs);
	balance_rr.init(st);
	assert_int_equal(balance_rr.pick(st, NULL, 0), -1);
}

static void
count_picks(struct balance_service *bs, int n, int *v1, int *v2)
{
	int i;

	*v1 = *v2 = 0;
	for (i = 0; i < n; i++) {
		const struct pcfg_endpoint *ep = balance_pick(bs);

		assert_non_null(ep);
		if (strcmp(ep->version, "v1") == 0)
			(*v1)++;
		else
			(*v2)++;
	}
}

static void
test_split_weights(void **state)
{
	struct pcfg_endpoint e[3] = {
		{ "v1", 0, 10, 1, 0, "" }, { "v1", 1, 11, 1, 0, "" }, { "v2", 0, 20, 1, 0, "" },
	};
	struct pcfg_split sp[2] = { { "v1", 90 }, { "v2", 10 } };
	struct pcfg_service svc = { .name = "api", .endpoints = e, .nendpoints = 3,
	                            .splits = sp, .nsplits = 2 };
	struct balance_service bs;
	int v1, v2, i, seen10 = 0, seen11 = 0;

	assert_int_equal(balance_service_init(&bs, &svc, &balance_rr), 0);
	assert_int_equal(bs.nversions, 2);
	count_picks(&bs, 100, &v1, &v2);
	assert_int_equal(v1, 90);          /* smooth WRR: exact per cycle */
	assert_int_equal(v2, 10);
	/* within v1, round-robin over its two instances */
	for (i = 0; i < 20; i++) {
		const struct pcfg_endpoint *ep = balance_pick(&bs);

		seen10 += ep->port == 10;
		seen11 += ep->port == 11;
	}
	assert_true(seen10 >= 8 && seen11 >= 8);

	/* the canary all down: everything to v1 */
	e[2].up = 0;
	count_picks(&bs, 50, &v1, &v2);
	assert_int_equal(v1, 50);
	/* v1 all down, v2 up: v2 has weight, so it takes everything */
	e[0].up = e[1].up = 0;
	e[2].up = 1;
	count_picks(&bs, 10, &v1, &v2);
	assert_int_equal(v2, 10);
	balance_service_free(&bs);
}

static void
test_split_zero_and_default(void **state)
{
	struct pcfg_endpoint e[2] = { { "v1", 0, 10, 1, 0, "" }, { "v2", 0, 20, 1, 0, "" } };
	struct pcfg_split sp[1] = { { "v1", 100 } };
	struct pcfg_service svc = { .name = "api", .endpoints = e, .nendpoints = 2 };
	struct balance_service bs;
	int v1, v2;

	/* no split line: versions weigh the same */
	assert_int_equal(balance_service_init(&bs, &svc, &balance_rr), 0);
	count_picks(&bs, 10, &v1, &v2);
	assert_int_equal(v1, 5);
	assert_int_equal(v2, 5);
	balance_service_free(&bs);

	/* a version the split does not name gets nothing */
	svc.splits = sp;
	svc.nsplits = 1;
	assert_int_equal(balance_service_init(&bs, &svc, &balance_rr), 0);
	count_picks(&bs, 10, &v1, &v2);
	assert_int_equal(v1, 10);
	e[0].up = 0;                       /* ... even when v1 is down: 503 */
	assert_null(balance_pick(&bs));
	balance_service_free(&bs);
}

static void
test_no_endpoints(void **state)
{
	struct pcfg_service svc = { .name = "api" };
	struct balance_service bs;

	assert_int_equal(balance_service_init(&bs, &svc, &balance_rr), 0);
	assert_null(balance_pick(&bs));
	balance_service_free(&bs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rr_skips_down),
		cmocka_unit_test(test_split_weights),
		cmocka_unit_test(test_split_zero_and_default),
		cmocka_unit_test(test_no_endpoints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
