/* SPDX-License-Identifier: ISC */
/*
 * conn: one downstream connection (a client of this sidecar: the local
 * app on the outbound side, another sidecar on the inbound side) and the
 * exchange it carries.
 *
 * Lifecycle: conn_new() on accept; conn_close() is the one teardown path
 * (it gives back the upstream connection, buffers and the fd, updates the
 * connection count and resumes paused listeners).  Only the loop that runs
 * the handlers calls it: fwd_run() in src/proxy/fwd.c, which every I/O and
 * timer callback ends in, and conn_drain().  A handler that finds the
 * connection finished leaves it in FWD_CLOSING and returns, so no handler
 * down the stack ever works on a closed connection.  The struct itself
 * goes back to a free list only after the current loop iteration (like
 * Redis' freeClientAsync): an upstream callback that still names it reads
 * a closed conn, never freed memory.
 *
 * Timers: one repeating ev_timer per connection.  Activity only stores
 * ev_now() in `active`; the callback computes the deadline of the current
 * state (header timeout from the first byte of a request head, the
 * backoff's end in FWD_BACKOFF, idle timeout otherwise, and never past
 * the route's request `deadline` while an exchange is under way) and
 * either acts or re-arms itself with ev_timer_again() for the time left.
 */
#ifndef MESH_CONN_H
#define MESH_CONN_H

#include <stdint.h>

#include <ev.h>

#include "mesh/buf.h"
#include "mesh/epaddr.h"
#include "mesh/pcfg.h"
#include "mesh/obs.h"
#include "mesh/relay.h"
#include "mesh/replay.h"
#include "mesh/upstream.h"

/* Failed endpoints a retry avoids (the most recent ones). */
#define CONN_FAILED_MAX 3

struct balance_ep;
struct breaker;
struct h2d;
struct retry_svc;

/* What a listener does with its connections. */
enum conn_role {
	ROLE_OUTBOUND,      /* HTTP proxy for the app: route on the authority */
	ROLE_LISTEN_HTTP,   /* `listen PORT SERVICE`, http service: every request to SERVICE */
	ROLE_LISTEN_TCP,    /* `listen PORT SERVICE`, tcp service: opaque relay per connection */
	ROLE_INBOUND_HTTP,  /* from other sidecars, HTTP to the app */
	ROLE_INBOUND_TCP,   /* from other sidecars, opaque to the app */
};

/*
 * The exchange state machine: parse -> route -> balance -> upstream ->
 * relay -> response.  One handler per state in src/proxy/fwd*.c (fwd_int.h
 * says which file holds which), each saying which states it leaves in;
 * fwd_run() in src/proxy/fwd.c runs them.
 */
enum fwd_state {
	FWD_IDLE,      /* between requests, no byte of the next one yet; idle timeout */
	FWD_REQ_HEAD,  /* reading a request head; header timeout from its first byte */
	FWD_CONNECT,   /* routed and balanced; the upstream connection is being set up,
	                  or (uc NULL, `wait` linked) waiting for one: upstream.h,
	                  "Opening"; at most the connect timeout (retry_at) */
	FWD_EXCHANGE,  /* request head and body flowing up; waiting for the response
	                  head (interim 1xx responses are relayed down meanwhile) */
	FWD_RES_BODY,  /* response head sent down, body flowing down; the request
	                  body may still be flowing up (an early response) */
	FWD_TUNNEL,    /* opaque both ways: tcp roles, and after 101 Switching Protocols */
	FWD_REFUSE,    /* writing a response of our own (mesh-error), then IDLE or LINGER */
	FWD_LINGER,    /* our side shut; discarding input until EOF so the peer reads
	                  the last response before any reset (bounded in time) */
	FWD_BACKOFF,   /* an attempt failed and the route retries it: waiting for
	                  the backoff (retry_at), then back to FWD_CONNECT (retry.h) */
	FWD_DELAY,     /* routed and balanced, held by an injected delay (fault.h)
	                  until retry_at, then FWD_CONNECT (or the injected abort) */
	FWD_H2,        /* an HTTP/2 session (h2.h) carries the connection until it ends */
	FWD_CLOSING,   /* finished: fwd_run() closes it before it returns */
	FWD_CLOSED,    /* torn down; waiting for the deferred free */
};

/*
 * conn.x: what is known of the current exchange.  Every bit is here, set
 * and read only by src/proxy/fwd*.c; a new request starts from 0.
 */
enum conn_xflag {
	X_KEEPALIVE   = 1u << 0,   /* the client wants the connection kept */
	X_HEAD        = 1u << 1,   /* HEAD request: the response has no body */
	X_UPGRADE     = 1u << 2,   /* the request asks for an upgrade */
	X_CONTINUE    = 1u << 3,   /* Expect: 100-continue, answered by this sidecar */
	X_CLOSE       = 1u << 4,   /* close after the current response */
	X_RES_STARTED = 1u << 5,   /* a final response head has been queued downstream */
	X_REQ_DONE    = 1u << 6,   /* the whole request went up */
	X_RES_DONE    = 1u << 7,   /* the whole response went down */
	X_RETRIED     = 1u << 8,   /* already retried once on a fresh connection */
	X_HTTP10      = 1u << 9,   /* the client spoke HTTP/1.0 */
	X_NOBODY      = 1u << 10,  /* the request has no body: the stream is clean at once */
	X_UP_KEEP     = 1u << 11,  /* the upstream said its leg may persist */
	X_REQ_ABANDON = 1u << 12,  /* the upstream stopped taking the request body */
	X_IDEMPOTENT  = 1u << 13,  /* GET HEAD OPTIONS PUT DELETE TRACE (retry.h) */
	X_PENDING     = 1u << 14,  /* counted in rsvc->pending (max_pending) */
	X_INTERIM     = 1u << 15,  /* a 1xx went (or is going) downstream: no retry */
	X_REPLAY      = 1u << 16,  /* a retry: uhead, then the kept body (replay.h), go first */
	X_FAULT_DELAY = 1u << 17,  /* an injected delay was drawn (fault.h) */
	X_FAULT_ABORT = 1u << 18,  /* an injected abort was drawn: answer fault_status */
	X_MIRROR      = 1u << 19,  /* a copy goes to the route's mirror once the request
	                              went up whole (mirror.h) */
	X_GRPC        = 1u << 20,  /* the app calls with gRPC's content-type: the
	                              mesh's refusals are gRPC-shaped (grpc.h) */
};

/* Fields marked `fwd:` belong to the exchange state machine
 * (src/proxy/fwd*.c); conn.c only allocates, times and closes. */
struct conn {
	struct side       d;            /* the downstream side */
	ev_timer          timer;        /* private: see above */
	enum fwd_state    state;        /* fwd; conn.c sets the first and the last */
	enum conn_role    role;         /* ro */
	unsigned          x;            /* fwd: enum conn_xflag bits */
	struct upconn    *uc;           /* fwd: the upstream connection, or NULL */
	struct upstream  *up;           /* fwd: where uc goes */
	struct upwait     wait;         /* fwd: FWD_CONNECT waiting for a connection to up */
	struct flow       req;          /* fwd: request body, downstream -> upstream */
	struct flow       res;          /* fwd: response body, upstream -> downstream */
	struct buf       *uhead;        /* fwd: request head for the upstream */
	uint32_t          uhead_len;    /* fwd: its full length (to resend on retry) */
	struct buf       *dhead;        /* fwd: response head(s) for the downstream */
	ev_tstamp         active;       /* last activity */
	ev_tstamp         head_start;   /* first byte of the current request head */
	struct balance_ep *bep;         /* fwd: the balanced endpoint of the exchange */
	uint64_t          bstart;       /* fwd: balance_start() of the exchange */
	struct retry_svc *rsvc;         /* fwd: the called service's policy state, or NULL */
	struct breaker   *brk;          /* fwd: the breaker of the current attempt, or NULL */
	ev_tstamp         deadline;     /* fwd: the route's timeout for the request; 0: none */
	ev_tstamp         retry_at;     /* fwd: FWD_BACKOFF: when the retry goes;
	                                   FWD_DELAY: when the delayed request goes;
	                                   FWD_CONNECT waiting: when it gives up */
	uint32_t          fault_delay_ms; /* fwd: X_FAULT_DELAY: how long */
	uint16_t          fault_status; /* fwd: X_FAULT_ABORT: the status to answer */
	int64_t           body_len;     /* fwd: request body bytes; -1: unknown (chunked) */
	uint32_t          tries;        /* fwd: retries made for the current request */
	uint32_t          interim;      /* fwd: bytes of the 1xx heads of the exchange
	                                   (together they get header_bytes) */
	struct epaddr     failed[CONN_FAILED_MAX]; /* fwd: endpoints of the last failed
	                                   attempts, most recent first (avoided) */
	uint8_t           nfailed;      /* fwd: entries in failed[] */
	uint16_t          port;         /* ro: the listener's port (for logs) */
	struct obs        obs;          /* fwd: what is observed of the exchange (obs.h) */
	struct replay     replay;       /* fwd: the request body kept for a retry (replay.h) */
	char              service[PCFG_NAME_MAX]; /* ro: listen roles: the upstream service */
	struct h2d       *h2;           /* fwd: FWD_H2: the session (h2.h), else NULL */
	uint8_t           started;      /* fwd: an HTTP/1.1 request was read: no preface now */
	struct conn      *prev, *next;  /* private: live list / free list */
};

/* Take an accepted, non-blocking socket.  Closes fd on failure. */
void conn_new(int fd, enum conn_role role, uint16_t port, const char *service);
/* The one teardown path (see above: fwd_run() and conn_drain() only). */
void conn_close(struct conn *c);
/* Recompute the timer after a state change that shortens the deadline. */
void conn_timer_update(struct conn *c);
/* Number of live connections. */
unsigned conn_count(void);
/* Graceful stop: close idle connections now; the others close after their
 * current exchange (the fwd handlers check conn_draining()). */
void conn_drain(void);
int  conn_draining(void);
/* Reclaim closed conns and upconns (called once per loop iteration). */
void conn_reap(void);

#endif
