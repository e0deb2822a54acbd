/* SPDX-License-Identifier: ISC */
/*
 * breaker: closed -> open after N consecutive failures (a success in
 * between resets the count), open refuses until the cooldown, exactly
 * one half-open probe, its success closes, its failure re-opens, an
 * abandoned probe lets the next one through; the table and the gate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/breaker.h"

/* An endpoint on 127.0.0.1 */
#define LO(port) epaddr_make(EPADDR_LOOPBACK, (uint16_t)(port))

static uint64_t fake_now;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

static void
test_states(void **state)
{
	struct breaker *b;

	(void)state;
	breaker_reset_all();
	b = breaker_get(LO(21001));
	assert_non_null(b);
	assert_int_equal(b->state, BREAKER_CLOSED);
	assert_true(breaker_allows(b, 0));
	/* two failures, a success, then 2 more: still closed (3 needed) */
	assert_int_equal(breaker_failure(b, 3, 1000, 10), 0);
	assert_int_equal(breaker_failure(b, 3, 1000, 11), 0);
	breaker_success(b);
	assert_int_equal(breaker_failure(b, 3, 1000, 12), 0);
	assert_int_equal(breaker_failure(b, 3, 1000, 13), 0);
	assert_int_equal(b->state, BREAKER_CLOSED);
	assert_int_equal(breaker_failure(b, 3, 1000, 100), 1);
	assert_int_equal(b->state, BREAKER_OPEN);
	assert_string_equal(breaker_state_name(b->state), "open");
	assert_false(breaker_allows(b, 100));
	assert_false(breaker_allows(b, 1099));
	/* a straggler failing while open changes nothing */
	assert_int_equal(breaker_failure(b, 3, 1000, 500), 0);
	assert_int_equal(b->opened_ms, 100);
	/* cooldown over: one probe */
	assert_true(breaker_allows(b, 1100));
	breaker_begin(b, 1100);
	assert_int_equal(b->state, BREAKER_HALF_OPEN);
	assert_false(breaker_allows(b, 1100));
	assert_false(breaker_allows(b, 5000));
	/* the probe fails: open again, a new cooldown */
	assert_int_equal(breaker_failure(b, 3, 1000, 1200), 1);
	assert_int_equal(b->state, BREAKER_OPEN);
	assert_false(breaker_allows(b, 2199));
	assert_true(breaker_allows(b, 2200));
	breaker_begin(b, 2200);
	/* abandoned probe: the next may go */
	breaker_abandon(b);
	assert_int_equal(b->state, BREAKER_HALF_OPEN);
	assert_true(breaker_allows(b, 2201));
	breaker_begin(b, 2201);
	assert_false(breaker_allows(b, 2201));
	breaker_success(b);
	assert_int_equal(b->state, BREAKER_CLOSED);
	assert_true(breaker_allows(b, 2202));
	assert_int_equal(b->opened, 2);
	/* closed: a begin does not make a probe */
	breaker_begin(b, 3000);
	assert_false(b->probing);
}

static void
test_table_and_gate(void **state)
{
	struct breaker *a, *b;
	unsigned i;

	(void)state;
	breaker_reset_all();
	breaker_set_clock(fake_clock);
	fake_now = 1000;
	assert_null(breaker_find(LO(30000)));
	assert_true(breaker_gate(LO(30000)));         /* no breaker: allowed */
	a = breaker_get(LO(30000));
	b = breaker_get(LO(30001));
	assert_ptr_equal(breaker_get(LO(30000)), a);
	assert_ptr_not_equal(a, b);
	assert_int_equal(breaker_failure(a, 1, 500, fake_now), 1);
	assert_false(breaker_gate(LO(30000)));
	assert_true(breaker_gate(LO(30001)));
	fake_now = 1500;
	assert_true(breaker_gate(LO(30000)));
	assert_int_equal(breaker_now_ms(), 1500);
	for (i = 0; i < BREAKER_MAX; i++)
		breaker_get(LO((uint16_t)(1 + i)));
	assert_null(breaker_get(LO(60000)));          /* full: no breaker */
	assert_ptr_equal(breaker_get(LO(30000)), a);  /* existing ones stay */
	breaker_set_clock(NULL);
	assert_true(breaker_now_ms() > 0);
	breaker_reset_all();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_table_and_gate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
