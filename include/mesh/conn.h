/* SPDX-License-Identifier: ISC */
/*
 * conn: one downstream connection (a client of this sidecar: the local
 * app on the outbound side, another sidecar on the inbound side) and the
 * exchange it carries.
 *
 * Lifecycle: conn_new() on accept; conn_close() is the one teardown path
 * (it gives back the upstream connection, buffers and the fd, updates the
 * connection count and resumes paused listeners); the struct itself goes
 * back to a free list only after the current loop iteration (like Redis'
 * freeClientAsync), so no callback up the stack ever touches freed memory.
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
#include "mesh/pcfg.h"
#include "mesh/obs.h"
#include "mesh/relay.h"
#include "mesh/replay.h"
#include "mesh/upstream.h"

struct balance_ep;
struct breaker;
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
 * The exchange state machine (src/fwd.c has one handler per state).
 * parse -> route -> balance -> upstream -> relay -> response.
 */
enum fwd_state {
	FWD_IDLE,      /* between requests, no byte of the next one yet; idle timeout */
	FWD_REQ_HEAD,  /* reading a request head; header timeout from its first byte */
	FWD_CONNECT,   /* routed and balanced; the upstream connection is being set up */
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
	FWD_CLOSED,    /* torn down; waiting for the deferred free */
};

/* Exchange flags (conn.x) */
#define X_KEEPALIVE   0x0001u  /* the client wants the connection kept */
#define X_HEAD        0x0002u  /* HEAD request: the response has no body */
#define X_UPGRADE     0x0004u  /* the request asks for an upgrade */
#define X_CONTINUE    0x0008u  /* Expect: 100-continue, answered by this sidecar */
#define X_CLOSE       0x0010u  /* close after the current response */
#define X_RES_STARTED 0x0020u  /* a final response head has been queued downstream */
#define X_REQ_DONE    0x0040u  /* the whole request went up */
#define X_RES_DONE    0x0080u  /* the whole response went down */
#define X_RETRIED     0x0100u  /* already retried once on a fresh connection */
#define X_HTTP10      0x0200u  /* the client spoke HTTP/1.0 */

struct conn {
	struct side       d;            /* the downstream side */
	ev_timer          timer;        /* private: see above */
	enum fwd_state    state;        /* ro outside fwd.c */
	enum conn_role    role;         /* ro */
	unsigned          x;            /* fwd.c: X_* flags of the current exchange */
	struct upconn    *uc;           /* fwd.c: the upstream connection, or NULL */
	struct upstream  *up;           /* fwd.c: where uc goes */
	struct flow       req;          /* fwd.c: request body, downstream -> upstream */
	struct flow       res;          /* fwd.c: response body, upstream -> downstream */
	struct buf       *uhead;        /* fwd.c: request head for the upstream */
	uint32_t          uhead_len;    /* fwd.c: its full length (to resend on retry) */
	struct buf       *dhead;        /* fwd.c: response head(s) for the downstream */
	ev_tstamp         active;       /* last activity */
	ev_tstamp         head_start;   /* first byte of the current request head */
	struct balance_ep *bep;         /* fwd.c: the balanced endpoint of the exchange */
	uint64_t          bstart;       /* fwd.c: balance_start() of the exchange */
	struct retry_svc *rsvc;         /* fwd.c: the called service's policy state, or NULL */
	struct breaker   *brk;          /* fwd.c: the breaker of the current attempt, or NULL */
	ev_tstamp         deadline;     /* fwd.c: the route's timeout for the request; 0: none */
	ev_tstamp         retry_at;     /* fwd.c: FWD_BACKOFF: when the retry goes */
	int64_t           body_len;     /* fwd.c: request body bytes; -1: unknown (chunked) */
	uint32_t          tries;        /* fwd.c: retries made for the current request */
	uint16_t          failed_port;  /* fwd.c: endpoint of the last failed attempt (avoided) */
	uint16_t          port;         /* ro: the listener's port (for logs) */
	struct obs        obs;          /* fwd.c: what is observed of the exchange (obs.h) */
	struct replay     replay;       /* fwd.c: the request body kept for a retry (replay.h) */
	char              service[PCFG_NAME_MAX]; /* ro: listen roles: the upstream service */
	struct conn      *prev, *next;  /* private: live list / free list */
};

/* Take an accepted, non-blocking socket.  Closes fd on failure. */
void conn_new(int fd, enum conn_role role, uint16_t port, const char *service);
/* The one teardown path. */
void conn_close(struct conn *c);
/* Recompute the timer after a state change that shortens the deadline. */
void conn_timer_update(struct conn *c);
/* Number of live connections. */
unsigned conn_count(void);
/* Graceful stop: close idle connections now; the others close after their
 * current exchange (fwd.c checks conn_draining()). */
void conn_drain(void);
int  conn_draining(void);
/* Reclaim closed conns and upconns (called once per loop iteration). */
void conn_reap(void);

#endif
