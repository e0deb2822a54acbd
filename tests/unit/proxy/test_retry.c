/* SPDX-License-Identifier: ISC */
/*
 * retry: the decision table row by row (each "no" and its precedence),
 * connect failures retried always, idempotent methods, the budget
 * consulted last, per-service state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/retry.h"

static struct pcfg_policy pol;

static struct retry_attempt
base(void)
{
	struct retry_attempt a;

	memset(&a, 0, sizeof(a));
	a.cause = RETRY_CAUSE_RESET;
	a.idempotent = 1;
	a.body_len = 0;
	a.replayable = 1;
	a.now_ms = 1000;
	a.delay_ms = 10;
	return a;
}

static int
setup(void **state)
{
	(void)state;
	pcfg_policy_default(&pol);
	pol.retries = 2;
	pol.retry_on = PCFG_RETRY_CONNECT | PCFG_RETRY_RESET;
	pol.retry_status[0] = 503;
	pol.nretry_status = 1;
	pol.retry_buffer = 100;
	return 0;
}

static void
test_table(void **state)
{
	static const struct {
		const char        *what;
		enum retry_cause   cause;
		int                status;
		unsigned           done;
		int                idem;
		int64_t            body;
		int                replay, started;
		uint64_t           deadline;
		enum retry_verdict want;
	} rows[] = {
		{ "reset, GET",             RETRY_CAUSE_RESET,   0,   0, 1,   0, 1, 0, 0,    RETRY_GO },
		{ "connect, GET",           RETRY_CAUSE_CONNECT, 0,   1, 1,   0, 1, 0, 0,    RETRY_GO },
		{ "connect, retries used",  RETRY_CAUSE_CONNECT, 0,   2, 1,   0, 1, 0, 0,    RETRY_NO_LEFT },
		{ "connect, response began",RETRY_CAUSE_CONNECT, 0,   0, 1,   0, 1, 1, 0,    RETRY_NO_STARTED },
		{ "connect, body gone",     RETRY_CAUSE_CONNECT, 0,   0, 0,  50, 0, 0, 0,    RETRY_NO_BODY },
		{ "503 listed",             RETRY_CAUSE_STATUS,  503, 0, 1,   0, 1, 0, 0,    RETRY_GO },
		{ "502 not listed",         RETRY_CAUSE_STATUS,  502, 0, 1,   0, 1, 0, 0,    RETRY_NO_CAUSE },
		{ "response started",       RETRY_CAUSE_RESET,   0,   0, 1,   0, 1, 1, 0,    RETRY_NO_STARTED },
		{ "started beats cause",    RETRY_CAUSE_STATUS,  500, 0, 1,   0, 1, 1, 0,    RETRY_NO_STARTED },
		{ "retries used",           RETRY_CAUSE_RESET,   0,   2, 1,   0, 1, 0, 0,    RETRY_NO_LEFT },
		{ "body gone",              RETRY_CAUSE_RESET,   0,   0, 1,  50, 0, 0, 0,    RETRY_NO_BODY },
		{ "POST small body",        RETRY_CAUSE_RESET,   0,   0, 0, 100, 1, 0, 0,    RETRY_GO },
		{ "POST body > buffer",     RETRY_CAUSE_RESET,   0,   0, 0, 101, 1, 0, 0,    RETRY_NO_METHOD },
		{ "POST chunked",           RETRY_CAUSE_STATUS,  503, 0, 0,  -1, 1, 0, 0,    RETRY_NO_METHOD },
		{ "POST connect failure",   RETRY_CAUSE_CONNECT, 0,   0, 0,  -1, 1, 0, 0,    RETRY_GO },
		{ "PUT big body",           RETRY_CAUSE_RESET,   0,   0, 1, 999, 1, 0, 0,    RETRY_GO },
		{ "deadline too close",     RETRY_CAUSE_RESET,   0,   0, 1,   0, 1, 0, 1010, RETRY_NO_TIME },
		{ "deadline far enough",    RETRY_CAUSE_RESET,   0,   0, 1,   0, 1, 0, 1011, RETRY_GO },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct retry_attempt a = base();
		enum retry_verdict v;

		a.cause = rows[i].cause;
		a.status = rows[i].status;
		a.retries_done = rows[i].done;
		a.idempotent = rows[i].idem;
		a.body_len = rows[i].body;
		a.replayable = rows[i].replay;
		a.response_started = rows[i].started;
		a.deadline_ms = rows[i].deadline;
		v = retry_decide(&pol, &a, NULL);
		if (v != rows[i].want)
			fail_msg("%s: %s, want %s", rows[i].what, retry_verdict_name(v),
			    retry_verdict_name(rows[i].want));
	}
}

/* retry_on and `retries` turn the other causes on and off; a connect
 * failure is retried whatever they say, RETRY_CONNECT_MIN times at least,
 * `retries` times when that is more. */
static void
test_retry_on_off(void **state)
{
	struct pcfg_policy p;
	struct retry_attempt a = base();

	(void)state;
	pcfg_policy_default(&p);          /* retries = 0 by default */
	assert_int_equal(retry_decide(&p, &a, NULL), RETRY_NO_CAUSE);  /* reset not on */
	p.retries = 1;
	assert_int_equal(retry_decide(&p, &a, NULL), RETRY_NO_CAUSE);
	p.retry_on |= PCFG_RETRY_RESET;
	assert_int_equal(retry_decide(&p, &a, NULL), RETRY_GO);
	a.retries_done = 1;
	assert_int_equal(retry_decide(&p, &a, NULL), RETRY_NO_LEFT);   /* a reset: retries */

	pcfg_policy_default(&p);
	a.cause = RETRY_CAUSE_CONNECT;
	a.idempotent = 0;                 /* a POST: nothing reached the app */
	a.body_len = -1;
	for (a.retries_done = 0; a.retries_done < RETRY_CONNECT_MIN; a.retries_done++)
		assert_int_equal(retry_decide(&p, &a, NULL), RETRY_GO);
	assert_int_equal(retry_decide(&p, &a, NULL), RETRY_NO_LEFT);
	p.retry_on = 0;                   /* retry_on = none */
	a.retries_done = 0;
	assert_int_equal(retry_decide(&p, &a, NULL), RETRY_GO);
	p.retries = 5;
	a.retries_done = 4;
	assert_int_equal(retry_decide(&p, &a, NULL), RETRY_GO);
	a.retries_done = 5;
	assert_int_equal(retry_decide(&p, &a, NULL), RETRY_NO_LEFT);
	/* bounded by the route's timeout like any retry */
	a.retries_done = 0;
	a.deadline_ms = a.now_ms + a.delay_ms;
	assert_int_equal(retry_decide(&p, &a, NULL), RETRY_NO_TIME);
}

/* The budget refuses connect-failure retries too (and they spend it). */
static void
test_budget_connect(void **state)
{
	struct pcfg_policy p;
	struct budget b;
	struct retry_attempt a = base();

	(void)state;
	pcfg_policy_default(&p);
	a.cause = RETRY_CAUSE_CONNECT;
	budget_init(&b, 50, 0);
	budget_request(&b, 1000);
	budget_request(&b, 1000);
	assert_int_equal(retry_decide(&p, &a, &b), RETRY_GO);
	assert_int_equal(retry_decide(&p, &a, &b), RETRY_NO_BUDGET);
}

static void
test_budget_last(void **state)
{
	struct budget b;
	struct retry_attempt a = base();
	unsigned i;

	(void)state;
	budget_init(&b, 50, 0);
	for (i = 0; i < 4; i++)
		budget_request(&b, 1000);
	assert_int_equal(retry_decide(&pol, &a, &b), RETRY_GO);
	assert_int_equal(retry_decide(&pol, &a, &b), RETRY_GO);
	assert_int_equal(retry_decide(&pol, &a, &b), RETRY_NO_BUDGET);
	/* a "no" before the budget does not spend it */
	budget_request(&b, 1000);
	budget_request(&b, 1000);
	a.retries_done = 2;
	assert_int_equal(retry_decide(&pol, &a, &b), RETRY_NO_LEFT);
	a.retries_done = 0;
	assert_int_equal(retry_decide(&pol, &a, &b), RETRY_GO);
}

static void
test_methods(void **state)
{
	(void)state;
	assert_true(retry_idempotent("GET", 3));
	assert_true(retry_idempotent("HEAD", 4));
	assert_true(retry_idempotent("OPTIONS", 7));
	assert_true(retry_idempotent("PUT", 3));
	assert_true(retry_idempotent("DELETE", 6));
	assert_true(retry_idempotent("TRACE", 5));
	assert_false(retry_idempotent("POST", 4));
	assert_false(retry_idempotent("PATCH", 5));
	assert_false(retry_idempotent("get", 3));
	assert_false(retry_idempotent("GETX", 3 + 1));
	assert_true(retry_status_listed(&pol, 503));
	assert_false(retry_status_listed(&pol, 500));
}

/* retry_on's gRPC words against grpc-status codes: each word its own code,
 * nothing else ever (0 OK, 2 UNKNOWN, out-of-range values). */
static void
test_grpc_listed(void **state)
{
	static const struct { unsigned bit; int code; } t[] = {
		{ PCFG_RETRY_CANCELLED, 1 }, { PCFG_RETRY_DEADLINE_EXCEEDED, 4 },
		{ PCFG_RETRY_RESOURCE_EXHAUSTED, 8 }, { PCFG_RETRY_INTERNAL, 13 },
		{ PCFG_RETRY_UNAVAILABLE, 14 },
	};
	struct pcfg_policy p;
	size_t i, j;
	int code;

	(void)state;
	pcfg_policy_default(&p);
	for (code = -1; code <= 100; code++)
		assert_false(retry_grpc_listed(&p, code));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		p.retry_on = t[i].bit;
		for (j = 0; j < sizeof(t) / sizeof(t[0]); j++)
			assert_int_equal(retry_grpc_listed(&p, t[j].code), i == j);
		assert_false(retry_grpc_listed(&p, 0));
		assert_false(retry_grpc_listed(&p, 2));
	}
	/* every word, and the HTTP words alongside, still none for OK */
	p.retry_on = PCFG_RETRY_CONNECT | PCFG_RETRY_RESET | PCFG_RETRY_UNAVAILABLE |
	    PCFG_RETRY_RESOURCE_EXHAUSTED | PCFG_RETRY_CANCELLED |
	    PCFG_RETRY_DEADLINE_EXCEEDED | PCFG_RETRY_INTERNAL;
	assert_true(retry_grpc_listed(&p, 14));
	assert_false(retry_grpc_listed(&p, 0));
	assert_false(retry_grpc_listed(&p, 7));
	/* an HTTP status code in retry_on is not a gRPC one */
	pcfg_policy_default(&p);
	p.retry_status[0] = 14;   /* never written by a parser, but keep apart */
	p.nretry_status = 1;
	assert_false(retry_grpc_listed(&p, 14));
}

static void
test_svc_table(void **state)
{
	struct pcfg_policy p;
	struct retry_svc *a, *b;

	(void)state;
	pcfg_policy_default(&p);
	a = retry_svc_get("api", 3, &p);
	assert_non_null(a);
	assert_string_equal(a->name, "api");
	assert_int_equal(a->budget.percent, 20);
	a->pending = 3;
	p.budget_percent = 40;
	b = retry_svc_get("api-x", 3, &p);       /* by length: "api" again */
	assert_ptr_equal(a, b);
	assert_int_equal(b->pending, 3);
	assert_int_equal(b->budget.percent, 40);
	assert_int_equal(b->policy.budget_percent, 40);
	b = retry_svc_get("db", 2, &p);
	assert_ptr_not_equal(a, b);
	assert_null(retry_svc_get("", 0, &p));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_retry_on_off),
		cmocka_unit_test(test_budget_last),
		cmocka_unit_test(test_budget_connect),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_grpc_listed),
		cmocka_unit_test(test_svc_table),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
