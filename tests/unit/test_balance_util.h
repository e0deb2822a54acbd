/* SPDX-License-Identifier: ISC */
/*
 * test_balance_util.h: the fixture the balancer and outlier tests share: a
 * clock the test moves (now_us), a seeded random source, no breaker gate,
 * and a service of n "v1" endpoints on ports base.. that are all up.
 * Define TEST_T0_US and TEST_SEED before including it.
 */
#ifndef TEST_BALANCE_UTIL_H
#define TEST_BALANCE_UTIL_H

#include <string.h>

#include "mesh/balance.h"

static uint64_t now_us = TEST_T0_US;

static uint64_t
fake_clock(void)
{
	return now_us;
}

static int
setup(void **state)
{
	(void)state;
	balance_set_clock(fake_clock);
	balance_set_gate(NULL);
	balance_seed(TEST_SEED);
	return 0;
}

static void
svc_init(struct pcfg_service *svc, struct pcfg_endpoint *e, size_t n, uint16_t base)
{
	size_t i;

	memset(svc, 0, sizeof(*svc));
	strcpy(svc->name, "api");
	for (i = 0; i < n; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		strcpy(e[i].version, "v1");
		e[i].index = (unsigned)i;
		e[i].port = (uint16_t)(base + i);
		e[i].up = 1;
	}
	svc->endpoints = e;
	svc->nendpoints = n;
	pcfg_policy_default(&svc->policy);
}

#endif
