/* SPDX-License-Identifier: ISC */
/*
 * retry: whether a failed attempt is tried again (the decision table),
 * and the per-service state the traffic policy keeps in the caller's
 * sidecar (retry budget, pending count, the route's policy).
 *
 * A connect failure is the one cause that is always retried, whatever
 * retry_on and `retries` say: the endpoint refused or reset the connection
 * before any byte of the request went, the connect timed out, or the
 * callee's sidecar answered 503 `mesh-error: app not ready` (its app
 * refused it).  Nothing reached an app, so any method may go again, up to
 * RETRY_CONNECT_MIN retries even with `retries = 0` (like Istio's default
 * of 2 retries on connect-failure), and still within the route's timeout
 * and the retry budget.  Every retry, this kind included, counts in
 * retries_done.
 *
 * The decision, in order (the first "no" wins):
 *   RETRY_NO_STARTED  a byte of the response went downstream: never
 *   RETRY_NO_CAUSE    the cause is not in retry_on (reset = reset or close
 *                     before any response byte; a listed status code);
 *                     a connect failure always is
 *   RETRY_NO_LEFT     `retries` retries were made already (for a connect
 *                     failure: the larger of `retries` and
 *                     RETRY_CONNECT_MIN)
 *   RETRY_NO_BODY     the request cannot be sent again as it was (part
 *                     of its body is gone upstream and was not kept)
 *   RETRY_NO_METHOD   not idempotent (GET HEAD OPTIONS PUT DELETE TRACE)
 *                     and its body is unknown or over retry_buffer bytes
 *                     (a chunked body is known once it has all been kept);
 *                     a connect failure is exempt: nothing reached the
 *                     app, so any method may go again
 *   RETRY_NO_TIME     the route's `timeout` leaves no time for the backoff
 *   RETRY_NO_BUDGET   the service's retry budget is spent (counted)
 *   RETRY_GO          retry after the backoff, preferably elsewhere
 */
#ifndef MESH_RETRY_H
#define MESH_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include "mesh/budget.h"
#include "mesh/pcfg.h"

#define RETRY_SERVICES_MAX 256
#define RETRY_CONNECT_MIN  2     /* connect-failure retries allowed even with retries = 0 */

/* RETRY_CAUSE_GRPC: a trailers-only answer whose grpc-status (in
 * `status`) retry_on lists (retry_grpc_listed) */
enum retry_cause { RETRY_CAUSE_CONNECT, RETRY_CAUSE_RESET, RETRY_CAUSE_STATUS,
                   RETRY_CAUSE_GRPC };

enum retry_verdict {
	RETRY_GO,
	RETRY_NO_STARTED,
	RETRY_NO_CAUSE,
	RETRY_NO_LEFT,
	RETRY_NO_BODY,
	RETRY_NO_METHOD,
	RETRY_NO_TIME,
	RETRY_NO_BUDGET,
};

struct retry_attempt {
	enum retry_cause cause;
	int              status;           /* RETRY_CAUSE_STATUS: the code; _GRPC: grpc-status */
	unsigned         retries_done;     /* retries already made */
	int              idempotent;       /* retry_idempotent() of the method */
	int64_t          body_len;         /* request body bytes; -1: unknown */
	int              replayable;       /* head and body can be sent again */
	int              response_started; /* a response byte went downstream */
	uint64_t         now_ms;
	uint64_t         deadline_ms;      /* the route's timeout; 0: none */
	uint32_t         delay_ms;         /* the backoff this retry would wait */
};

/* The per-service state (see above), for the life of the process. */
struct retry_svc {
	char               name[PCFG_NAME_MAX];  /* ro: the key */
	struct pcfg_policy policy;   /* the route's, refreshed at every request */
	struct budget      budget;
	uint32_t           pending;  /* requests between pick and response head */
};

/* The decision; b NULL: no budget.  RETRY_GO withdraws from b. */
enum retry_verdict retry_decide(const struct pcfg_policy *p, const struct retry_attempt *a,
                                struct budget *b);
const char *retry_verdict_name(enum retry_verdict v);
int  retry_idempotent(const char *method, size_t len);
int  retry_status_listed(const struct pcfg_policy *p, int status);
/* 1 when retry_on lists the word of gRPC status code grpc_status:
 * cancelled 1, deadline-exceeded 4, resource-exhausted 8, internal 13,
 * unavailable 14; 0 for any other code (0 OK is never retried). */
int  retry_grpc_listed(const struct pcfg_policy *p, int grpc_status);

/* The state of service `name` with policy p copied in (the budget's
 * limits follow it); created on first use; NULL when the table is full. */
struct retry_svc *retry_svc_get(const char *name, size_t len, const struct pcfg_policy *p);

#endif
