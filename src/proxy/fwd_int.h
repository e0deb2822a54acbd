/* SPDX-License-Identifier: ISC */
/*
 * fwd_int.h: what the fwd_*.c files share (include/mesh/fwd.h is the
 * module's contract).  The state machine is split along the data path:
 * fwd_request.c (parse), fwd_route.c (route, balance, upstream),
 * fwd_response.c (relay, response), fwd_retry.c (retries), and fwd.c (the
 * helpers, teardown, refusals and the loop that runs the handlers).
 */
#ifndef MESH_FWD_INT_H
#define MESH_FWD_INT_H

#include <stdint.h>

#include "mesh/backoff.h"
#include "mesh/balance.h"
#include "mesh/conn.h"
#include "mesh/http.h"
#include "mesh/retry.h"
#include "mesh/upstream.h"

/* conn.x flags private to the fwd_*.c files (conn.h has the shared ones) */
#define X_NOBODY      0x1000u  /* the request has no body: the stream is clean at once */
#define X_UP_KEEP     0x2000u  /* the upstream said its leg may persist */
#define X_REQ_ABANDON 0x4000u  /* the upstream stopped taking the request body */
#define X_IDEMPOTENT  0x8000u  /* GET HEAD OPTIONS PUT DELETE TRACE (retry.h) */
#define X_PENDING     0x10000u /* counted in rsvc->pending (max_pending) */
#define X_INTERIM     0x20000u /* a 1xx went (or is going) downstream: no retry */
#define X_REPLAY      0x40000u /* a retry: uhead, then the kept body (replay.h), go first */

/* the retries' random source (backoff jitter), seeded once */
extern struct backoff_rng fwd_rng;

/* fwd.c: helpers, teardown, the refusal, the run loop */
uint64_t fwd_now_ms(void);
int fwd_tcp_role(const struct conn *c);
int fwd_inbound(const struct conn *c);
struct buf *fwd_dhead(struct conn *c);
void fwd_pending_leave(struct conn *c);
void fwd_balanced(struct conn *c, enum balance_outcome o);
void fwd_replay_end(struct conn *c);
void fwd_linger(struct conn *c);
void fwd_refuse(struct conn *c, int code, const char *reason, int close);
void fwd_finish(struct conn *c);
void fwd_notify(void *owner, struct upconn *uc, enum upconn_event ev);

/* fwd_request.c: parse -> the request starts */
void fwd_head(struct conn *c);

/* fwd_route.c: route -> balance -> upstream */
void fwd_connected(struct conn *c);
void fwd_connect(struct conn *c, int fresh);
int fwd_balance(struct conn *c, struct balance_service *bs, const char **reason);
int fwd_pick(struct conn *c, const struct http_request *req, const char **reason);

/* fwd_retry.c: retries */
int fwd_retry(struct conn *c, enum retry_cause cause, int status);
void fwd_retry_go(struct conn *c);
void fwd_upstream_lost(struct conn *c);

/* fwd_response.c: relay -> response */
void fwd_exchange(struct conn *c);

#endif
