/* SPDX-License-Identifier: ISC */
/*
 * ready: the default readiness probe of an app that meshd starts with a
 * `port` and no `health =`: the app is ready once 127.0.0.1:<port>
 * accepts a TCP connection.
 *
 * A non-blocking connect on meshd's loop, closed at once when it
 * succeeds.  The first attempt goes READY_FIRST after ready_start(),
 * each later one after twice the last delay, at most READY_MAX; an
 * attempt that neither connects nor fails within READY_MAX (a full
 * backlog) counts as failed.  The probe ends at the first success: it
 * says when an app starts listening, not whether it keeps doing so (its
 * exit is what svc watches after that).  The callback runs once, on that
 * success.
 */
#ifndef MESH_READY_H
#define MESH_READY_H

#include <stdint.h>
#include <ev.h>

#define READY_FIRST 0.010   /* s: the first attempt, then doubling... */
#define READY_MAX   1.0     /* ...up to this; also one attempt's deadline */

struct ready;
typedef void ready_fn(struct ready *r);

struct ready {
	struct ev_loop *loop;      /* private */
	ev_timer        timer;     /* private: the next attempt, or its deadline */
	ev_io           io;        /* private */
	int             fd;        /* private: -1 between attempts */
	double          delay;     /* private: until the next attempt */
	uint16_t        port;      /* ro */
	int             running;   /* ro: between start and the success or stop */
	int             ready;     /* ro: accepted a connection since ready_start */
	unsigned        attempts;  /* ro: since ready_start */
	char            last[96];  /* ro: why the last attempt failed ("" none) */
	ready_fn       *cb;        /* ro */
	void           *arg;       /* rw: the owner's */
};

void ready_init(struct ready *r);
/* Probe 127.0.0.1:port from scratch (not ready, no attempt yet). */
void ready_start(struct ready *r, struct ev_loop *loop, uint16_t port,
                 ready_fn *cb, void *arg);
/* Stop probing; `ready` goes back to 0.  Safe on a stopped probe. */
void ready_stop(struct ready *r);

#endif
