/* SPDX-License-Identifier: ISC */
/*
 * breaker: a circuit breaker per upstream endpoint (keyed by the
 * endpoint's sidecar inbound address and port, like struct balance_ep), in the
 * caller's sidecar.
 *
 *   CLOSED     traffic flows; `failures` counts consecutive failures.
 *              breaker_failures of them in a row -> OPEN.
 *   OPEN       no traffic until `cooldown` has passed since it opened;
 *              then breaker_allows() says yes once -> HALF_OPEN.
 *   HALF_OPEN  exactly one probe in flight; its success -> CLOSED, its
 *              failure -> OPEN again (a new cooldown); a probe that ends
 *              without a verdict (the client left) lets the next one go.
 *
 * Failure: connect failure or timeout, reset or close before a response
 * head, a 5xx response head (503 from the app included), the route's
 * request timeout.  Success: a response head below 500.  4xx are the
 * caller's problem, not the endpoint's.
 *
 * For the balancer: an endpoint whose breaker_allows() is 0 is not
 * eligible; breaker_gate() has the signature of balance_set_gate() and
 * reads the clock itself.  fwd_route.c calls breaker_begin() on the
 * endpoint it sends to, and fwd.c one of breaker_success/failure/abandon
 * when the attempt ends.  Thresholds travel with each verdict (they are
 * the route's, and a reload may change them).
 *
 * The table holds BREAKER_MAX endpoints for the life of the process
 * (pointers stay valid across reloads); no allocation.  The clock is
 * injectable for the tests.  Single-threaded, like the proxy.
 */
#ifndef MESH_BREAKER_H
#define MESH_BREAKER_H

#include <stdint.h>

#include "mesh/epaddr.h"

#define BREAKER_MAX 1024

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

struct breaker {
	struct epaddr      addr;       /* ro: the key */
	enum breaker_state state;      /* ro */
	uint32_t           failures;   /* ro: consecutive, while CLOSED */
	uint64_t           opened_ms;  /* ro: when it last opened */
	uint32_t           cooldown_ms;/* ro: of the last opening */
	int                probing;    /* ro: a half-open probe is in flight */
	uint64_t           opened;     /* ro: times it opened */
};

/* Nonzero when b may take a request at now_ms (see above). */
int  breaker_allows(const struct breaker *b, uint64_t now_ms);
/* An attempt goes to b: OPEN past its cooldown becomes HALF_OPEN with
 * this attempt as its probe. */
void breaker_begin(struct breaker *b, uint64_t now_ms);
/* The attempt succeeded: -> CLOSED. */
void breaker_success(struct breaker *b);
/* The attempt failed; 1 when this opened the breaker. */
int  breaker_failure(struct breaker *b, uint32_t threshold, uint32_t cooldown_ms,
                     uint64_t now_ms);
/* The attempt ended without a verdict. */
void breaker_abandon(struct breaker *b);
const char *breaker_state_name(enum breaker_state s);

/* The breaker of `at`, created CLOSED on first use; NULL when the
 * table is full (then the endpoint simply has no breaker). */
struct breaker *breaker_get(struct epaddr at);
/* The breaker of at if it exists, else NULL. */
struct breaker *breaker_find(struct epaddr at);
/* balance_set_gate()'s callback: breaker_allows() now, 1 without one. */
int  breaker_gate(struct epaddr at);
/* Milliseconds on the breaker's clock (CLOCK_MONOTONIC unless set). */
uint64_t breaker_now_ms(void);
void breaker_set_clock(uint64_t (*now_ms)(void));
/* Close at's breaker now (`meshctl breaker-reset`): 1 when it was open
 * or half-open, 0 when closed already or unknown. */
int  breaker_reset(struct epaddr at);
/* Forget every breaker (tests). */
void breaker_reset_all(void);

#endif
