/* SPDX-License-Identifier: ISC */
/*
 * fwd_int.h: what the fwd_*.c files share (include/mesh/fwd.h is the
 * module's contract).  The state machine is split along the data path,
 * one file per step, with the handlers of its states:
 *   fwd_request.c   parse                      FWD_IDLE, FWD_REQ_HEAD
 *   fwd_route.c     route, balance, upstream   FWD_CONNECT (fwd_notify's events)
 *   fwd_response.c  relay, response            FWD_EXCHANGE, FWD_RES_BODY
 *   fwd_retry.c     retries                    FWD_BACKOFF (fwd_timeout's)
 *   fwd_fault.c     injected faults            FWD_DELAY (and fwd_timeout's)
 *   fwd_mirror.c    the mirror's draw and copy (no state: mirror.c runs it)
 *   fwd.c           the run loop, teardown,    FWD_TUNNEL, FWD_REFUSE,
 *                   refusals, shared helpers   FWD_LINGER, FWD_CLOSING
 *
 * A handler never closes the connection: when it is finished it sets
 * FWD_CLOSING and returns; fwd_run() closes it.  So after calling another
 * handler, a handler has nothing to re-check but the state it expects.
 */
#ifndef MESH_FWD_INT_H
#define MESH_FWD_INT_H

#include <stdint.h>

#include "mesh/backoff.h"
#include "mesh/balance.h"
#include "mesh/conn.h"
#include "mesh/fwd.h"
#include "mesh/http.h"
#include "mesh/retry.h"
#include "mesh/upstream.h"

/*
 * The reason an inbound sidecar gives (503) when its app refused the
 * connection or dropped it before any byte of the request went: the app
 * is not listening yet, or just died.  The caller's sidecar takes a 503
 * with this mesh-error as a connect failure of that endpoint (retry.h).
 * An app's own mesh-error header never leaves its sidecar (head.h).
 */
#define FWD_APP_NOT_READY "app not ready"

/* the retries' random source (backoff jitter), seeded by fwd_init() */
extern struct backoff_rng fwd_rng;

/* fwd.c: helpers, teardown, the refusal, the run loop */
uint64_t fwd_now_ms(void);
int fwd_tcp_role(const struct conn *c);
int fwd_inbound(const struct conn *c);
struct buf *fwd_dhead(struct conn *c);
void fwd_pending_leave(struct conn *c);
void fwd_balanced(struct conn *c, enum balance_outcome o);
void fwd_replay_end(struct conn *c);
void fwd_refuse(struct conn *c, int code, const char *reason, int close);
void fwd_refuse_relayed(struct conn *c, int code, const char *reason);
void fwd_notify(void *owner, struct upconn *uc, enum upconn_event ev);

/* fwd_request.c: parse -> the request starts */
void fwd_head(struct conn *c);

/* fwd_route.c: route -> balance -> upstream */
void fwd_connected(struct conn *c);
void fwd_connect(struct conn *c, int fresh);
void fwd_wait_expired(struct conn *c);
void fwd_connect_failed(struct conn *c, int err, int timeout);
int fwd_balance(struct conn *c, struct balance_service *bs, const char **reason);
int fwd_pick(struct conn *c, const struct http_request *req, const char **reason);

/* fwd_retry.c: retries */
int fwd_unsent(const struct conn *c);
int fwd_retry(struct conn *c, enum retry_cause cause, int status);
void fwd_retry_go(struct conn *c);
void fwd_upstream_lost(struct conn *c);

/* fwd_fault.c: injected faults (fault.h) */
void fwd_fault_decide(struct conn *c, const struct balance_service *bs,
                      const struct http_request *req);
void fwd_fault_abort(struct conn *c);
void fwd_fault_delay(struct conn *c);
void fwd_fault_wait(struct conn *c);
void fwd_fault_go(struct conn *c);

/* fwd_mirror.c: mirrored requests (mirror.h) */
void fwd_mirror_decide(struct conn *c, const struct balance_service *bs);
uint64_t fwd_mirror_buffer(const struct conn *c, uint64_t max);
void fwd_mirror_go(struct conn *c);

/* fwd_response.c: relay -> response */
void fwd_exchange(struct conn *c);

#endif
