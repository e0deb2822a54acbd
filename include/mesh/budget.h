/* SPDX-License-Identifier: ISC */
/*
 * budget: a retry budget per service, as Linkerd and Finagle keep one.
 * Retries may add at most `percent`% of the requests sent over a sliding
 * window of BUDGET_SLOTS one-second slots (~10 s), plus `per_sec` retries
 * per second of window whatever the rate (so a quiet service can still
 * retry).  When all instances fail, retries stay near that share instead
 * of multiplying the load by (1 + retries).
 *
 * Times are the caller's milliseconds (monotonic), so the tests drive the
 * window by hand.  No allocation; one struct per service.
 */
#ifndef MESH_BUDGET_H
#define MESH_BUDGET_H

#include <stdint.h>

#define BUDGET_SLOTS 10

struct budget {
	uint32_t percent;                 /* ro */
	uint32_t per_sec;                 /* ro */
	uint64_t sec[BUDGET_SLOTS];       /* private: the second a slot counts */
	uint32_t requests[BUDGET_SLOTS];  /* private: first attempts in it */
	uint32_t retries[BUDGET_SLOTS];   /* private: retries in it */
};

void budget_init(struct budget *b, uint32_t percent, uint32_t per_sec);
/* Change the limits and keep the counts (a config reload). */
void budget_set(struct budget *b, uint32_t percent, uint32_t per_sec);
/* A first attempt was sent. */
void budget_request(struct budget *b, uint64_t now_ms);
/* 1: a retry may go now, and it is counted; 0: the budget is spent. */
int  budget_withdraw(struct budget *b, uint64_t now_ms);
/* Totals over the window ending now (for tests and status). */
void budget_totals(struct budget *b, uint64_t now_ms, uint64_t *requests, uint64_t *retries);

#endif
