/* SPDX-License-Identifier: ISC */
/*
 * fault: the decision — shares over many draws within bounds, each kind
 * drawn apart, the match header (any case of its name, exact value) and
 * the version limit; nothing without a delay or an abort.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/fault.h"

#define HDR(n, v) { n, sizeof(n) - 1, v, sizeof(v) - 1 }

static unsigned
count(const struct pcfg_fault *f, unsigned kind, unsigned n)
{
	struct backoff_rng rng;
	unsigned i, got = 0;

	backoff_seed(&rng, 42);
	for (i = 0; i < n; i++)
		if (fault_draw(f, &rng) & kind)
			got++;
	return got;
}

static void
test_shares(void **state)
{
	struct pcfg_fault f;
	unsigned n;

	memset(&f, 0, sizeof(f));
	f.abort_permille = 100;         /* 10% */
	f.abort_status = 503;
	n = count(&f, FAULT_ABORT, 2000);
	assert_in_range(n, 150, 250);
	assert_int_equal(count(&f, FAULT_DELAY, 2000), 0);
	f.abort_permille = 1000;
	assert_int_equal(count(&f, FAULT_ABORT, 500), 500);
	f.abort_permille = 5;           /* 0.5% */
	assert_in_range(count(&f, FAULT_ABORT, 20000), 50, 150);
	f.abort_permille = 0;
	f.delay_permille = 500;
	f.delay_ms = 300;
	assert_in_range(count(&f, FAULT_DELAY, 2000), 900, 1100);
	assert_int_equal(count(&f, FAULT_ABORT, 2000), 0);
}

static void
test_both_apart(void **state)
{
	struct pcfg_fault f;

	memset(&f, 0, sizeof(f));
	f.abort_permille = 500;
	f.abort_status = 503;
	f.delay_permille = 500;
	f.delay_ms = 10;
	/* independent draws: about a quarter get both */
	assert_in_range(count(&f, FAULT_ABORT, 4000), 1800, 2200);
	assert_in_range(count(&f, FAULT_DELAY, 4000), 1800, 2200);
}

static void
test_applies(void **state)
{
	struct pcfg_fault f;
	struct http_header h[] = { HDR("Host", "api"), HDR("X-Chaos", "1") };
	struct http_header h2[] = { HDR("x-chaos", "10"), HDR("x-chaos", "1") };
	struct http_header h3[] = { HDR("x-chaos", "2") };

	memset(&f, 0, sizeof(f));
	assert_false(fault_applies(&f, "v1", h, 2));     /* nothing to inject */
	f.abort_permille = 100;
	f.abort_status = 503;
	assert_true(fault_applies(&f, "v1", h, 2));
	assert_true(fault_applies(&f, NULL, NULL, 0));
	snprintf(f.match_header, sizeof(f.match_header), "x-chaos");
	snprintf(f.match_value, sizeof(f.match_value), "1");
	assert_true(fault_applies(&f, "v1", h, 2));      /* name in any case */
	assert_true(fault_applies(&f, "v1", h2, 2));     /* a repeated header */
	assert_false(fault_applies(&f, "v1", h3, 1));    /* another value */
	assert_false(fault_applies(&f, "v1", h, 1));     /* no such header */
	snprintf(f.version, sizeof(f.version), "v2");
	assert_false(fault_applies(&f, "v1", h, 2));
	assert_true(fault_applies(&f, "v2", h, 2));
	assert_false(fault_applies(&f, NULL, h, 2));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shares),
		cmocka_unit_test(test_both_apart),
		cmocka_unit_test(test_applies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
