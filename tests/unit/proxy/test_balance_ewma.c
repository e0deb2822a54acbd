/* SPDX-License-Identifier: ISC */
/*
 * test_balance_ewma: the default balancer (src/proxy/balance_ewma.c) through
 * the service API, with a simulated clock and a seeded random source.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define TEST_T0_US 1000000
#define TEST_SEED 42
#include "test_balance_util.h"


struct flight {
	struct balance_ep *bep;
	uint64_t           start, end;
};

/*
 * n requests arriving every gap_us, each taking lat_us[k] on the endpoint
 * on port base + k; counts the picks by k.
 */
static void
simulate(struct balance_service *bs, uint16_t base, const uint64_t *lat_us, int n,
         uint64_t gap_us, int *count)
{
	struct flight fl[64];
	size_t nfl = 0, i;
	uint64_t t;
	int r;

	for (r = 0; r < n; r++) {
		const struct pcfg_endpoint *ep;
		struct balance_ep *bep;

		now_us += gap_us;
		for (i = 0; i < nfl;) {
			if (fl[i].end <= now_us) {
				t = now_us;
				now_us = fl[i].end;     /* done at its own time */
				balance_done(fl[i].bep, fl[i].start, BALANCE_OK);
				now_us = t;
				fl[i] = fl[--nfl];
			} else
				i++;
		}
		ep = balance_pick_ep(bs, NULL, 0, &bep);
		assert_non_null(ep);
		assert_non_null(bep);
		assert_int_equal(bep->addr.port, ep->port);
		assert_true(nfl < 64);
		count[ep->port - base]++;
		fl[nfl].bep = bep;
		fl[nfl].start = balance_start(bep);
		fl[nfl].end = now_us + lat_us[ep->port - base];
		nfl++;
	}
	for (i = 0; i < nfl; i++) {
		if (fl[i].end > now_us)
			now_us = fl[i].end;
		balance_done(fl[i].bep, fl[i].start, BALANCE_OK);
	}
}

/* One of three instances 20 ms slower: >= 80% of requests go elsewhere,
 * one at a time and with several in flight. */
static void
test_prefers_faster(void **state)
{
	struct pcfg_endpoint e[3];
	struct pcfg_service svc;
	struct balance_service bs;
	uint64_t lat[3] = { 1000, 1000, 21000 };
	int count[3] = { 0 };

	svc_init(&svc, e, 3, 1000);
	assert_int_equal(balance_service_init(&bs, &svc, &balance_ewma), 0);
	simulate(&bs, 1000, lat, 600, 25000, count);     /* sequential */
	print_message("sequential: %d %d %d\n", count[0], count[1], count[2]);
	assert_true(count[2] * 5 <= 600);
	balance_service_free(&bs);

	memset(count, 0, sizeof(count));
	svc_init(&svc, e, 3, 1010);
	assert_int_equal(balance_service_init(&bs, &svc, &balance_ewma), 0);
	simulate(&bs, 1010, lat, 2000, 300, count);      /* ~4 in flight */
	print_message("concurrent: %d %d %d\n", count[0], count[1], count[2]);
	assert_true(count[2] * 5 <= 2000);
	assert_true(count[0] > 400 && count[1] > 400);
	balance_service_free(&bs);

	/* two endpoints, the second 20 ms slower */
	memset(count, 0, sizeof(count));
	svc_init(&svc, e, 2, 1020);
	lat[1] = 21000;
	assert_int_equal(balance_service_init(&bs, &svc, &balance_ewma), 0);
	simulate(&bs, 1020, lat, 1000, 2000, count);
	print_message("two: %d %d\n", count[0], count[1]);
	assert_true(count[1] * 5 <= 1000);
	balance_service_free(&bs);
}

/* Equal endpoints under concurrency: the (outstanding + 1) factor spreads. */
static void
test_spreads_equal(void **state)
{
	struct pcfg_endpoint e[3];
	struct pcfg_service svc;
	struct balance_service bs;
	uint64_t lat[3] = { 5000, 5000, 5000 };
	int count[3] = { 0 }, i;

	svc_init(&svc, e, 3, 1100);
	assert_int_equal(balance_service_init(&bs, &svc, &balance_ewma), 0);
	simulate(&bs, 1100, lat, 3000, 1000, count);
	print_message("equal: %d %d %d\n", count[0], count[1], count[2]);
	for (i = 0; i < 3; i++)
		assert_true(count[i] >= 600 && count[i] <= 1400);
	balance_service_free(&bs);
}

/* An endpoint without a sample gets traffic at once; a shunned one is
 * tried again once its estimate has decayed. */
static void
test_new_and_recovered(void **state)
{
	struct pcfg_endpoint e[3];
	struct pcfg_service svc;
	struct balance_service bs;
	uint64_t lat[3] = { 5000, 5000, 5000 };
	int count[3] = { 0 };

	svc_init(&svc, e, 2, 1200);
	assert_int_equal(balance_service_init(&bs, &svc, &balance_ewma), 0);
	simulate(&bs, 1200, lat, 200, 10000, count);
	balance_service_free(&bs);

	/* a third instance appears (a reload): it is picked soon */
	memset(count, 0, sizeof(count));
	svc_init(&svc, e, 3, 1200);
	assert_int_equal(balance_service_init(&bs, &svc, &balance_ewma), 0);
	simulate(&bs, 1200, lat, 30, 10000, count);
	print_message("new: %d %d %d\n", count[0], count[1], count[2]);
	assert_true(count[2] > 0);
	balance_service_free(&bs);

	/* a slow one is shunned, then recovers: after a minute of decay it
	 * is tried again and, fast now, takes its share */
	memset(count, 0, sizeof(count));
	svc_init(&svc, e, 2, 1300);
	lat[1] = 200000;
	assert_int_equal(balance_service_init(&bs, &svc, &balance_ewma), 0);
	simulate(&bs, 1300, lat, 100, 250000, count);
	print_message("slow: %d %d\n", count[0], count[1]);
	assert_true(count[1] <= 5);
	memset(count, 0, sizeof(count));
	lat[1] = 5000;
	now_us += 60 * 1000000ull;
	simulate(&bs, 1300, lat, 400, 1000, count);
	print_message("recovered: %d %d\n", count[0], count[1]);
	assert_true(count[1] >= 80);
	balance_service_free(&bs);
}

static void
test_ops(void **state)
{
	assert_ptr_equal(balance_ops(PCFG_LB_EWMA), &balance_ewma);
	assert_ptr_equal(balance_ops(PCFG_LB_ROUND_ROBIN), &balance_rr);
	assert_ptr_equal(balance_ops(PCFG_LB_LEAST_REQUEST), &balance_lr);
	assert_ptr_equal(balance_ops((enum pcfg_lb)77), &balance_ewma);
	assert_string_equal(balance_ewma.name, "ewma");
	assert_int_equal(balance_ewma.pick(NULL, NULL, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_prefers_faster, setup),
		cmocka_unit_test_setup(test_spreads_equal, setup),
		cmocka_unit_test_setup(test_new_and_recovered, setup),
		cmocka_unit_test_setup(test_ops, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
