/* SPDX-License-Identifier: ISC */
/*
 * budget: ratio of the window's requests plus the per-second floor,
 * spent -> refused, the window slides (old seconds stop counting).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/budget.h"

static void
test_ratio_only(void **state)
{
	struct budget b;
	unsigned i, ok = 0;

	(void)state;
	budget_init(&b, 20, 0);
	assert_int_equal(budget_withdraw(&b, 1000), 0);    /* nothing sent yet */
	for (i = 0; i < 100; i++)
		budget_request(&b, 1000 + i);
	for (i = 0; i < 50; i++)
		ok += (unsigned)budget_withdraw(&b, 1500);
	assert_int_equal(ok, 20);                           /* 20% of 100 */
	/* 4 requests more: 0.8 retries -> still none; 5: one */
	for (i = 0; i < 4; i++)
		budget_request(&b, 1600);
	assert_int_equal(budget_withdraw(&b, 1600), 0);
	budget_request(&b, 1600);
	assert_int_equal(budget_withdraw(&b, 1600), 1);
	assert_int_equal(budget_withdraw(&b, 1600), 0);
}

static void
test_floor(void **state)
{
	struct budget b;
	unsigned i, ok = 0;

	(void)state;
	budget_init(&b, 0, 2);                    /* 2/s over 10 slots: 20 */
	for (i = 0; i < 30; i++)
		ok += (unsigned)budget_withdraw(&b, 5000);
	assert_int_equal(ok, 20);
}

static void
test_window_slides(void **state)
{
	struct budget b;
	uint64_t rq, rt;
	unsigned i, ok = 0;

	(void)state;
	budget_init(&b, 10, 0);
	for (i = 0; i < 100; i++)
		budget_request(&b, 0);
	for (i = 0; i < 20; i++)
		ok += (unsigned)budget_withdraw(&b, 100);
	assert_int_equal(ok, 10);
	budget_totals(&b, 9999, &rq, &rt);          /* second 9: still in */
	assert_int_equal(rq, 100);
	assert_int_equal(rt, 10);
	budget_totals(&b, 10000, &rq, &rt);         /* second 10: second 0 left */
	assert_int_equal(rq, 0);
	assert_int_equal(rt, 0);
	assert_int_equal(budget_withdraw(&b, 10000), 0);
	/* a steady 10 req/s with 100% failing: retries held near 10% */
	ok = 0;
	for (i = 0; i < 600; i++) {
		uint64_t now = 20000 + (uint64_t)i * 100;

		budget_request(&b, now);
		ok += (unsigned)budget_withdraw(&b, now);
	}
	assert_true(ok >= 54 && ok <= 66);
	/* set keeps the counts, changes the limit */
	budget_set(&b, 50, 0);
	assert_int_equal(b.percent, 50);
	assert_int_equal(budget_withdraw(&b, 79900), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratio_only),
		cmocka_unit_test(test_floor),
		cmocka_unit_test(test_window_slides),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
