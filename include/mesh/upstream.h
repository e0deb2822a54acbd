/* SPDX-License-Identifier: ISC */
/*
 * upstream: connections from the proxy to a destination — another
 * sidecar's inbound port (mesh transport) or the local app (plain) —
 * pooled and reused with keep-alive.
 *
 * An `upstream` is one destination (IPv4 address and port over a transport).  It
 * lives as long as the process (a handful per sidecar); when a config no
 * longer names it, it is marked stale: its idle connections close and
 * busy ones close instead of returning to the pool.
 *
 * An `upconn` moves through:
 *   UC_CONNECTING  non-blocking connect in progress; connect timeout runs
 *   UC_BUSY        lent to one owner, who gets every event through notify
 *   UC_IDLE        in the pool (at most UPSTREAM_POOL_MAX per upstream),
 *                  closed after the pool idle timeout or if the peer
 *                  closes or sends anything
 *   UC_CLOSED      torn down; its memory is reused only after the current
 *                  loop iteration, so a callback up the stack holding it
 *                  reads a closed object, never freed memory
 *
 * Opening.  A new connection is "opening" from its connect until its
 * transport is established (tconn_established(): the TCP connect for
 * plain, the mTLS handshake for the mesh transport).  At most
 * UPSTREAM_OPENING_MAX connections of one upstream are opening at once:
 * a burst of requests (a caller's max_pending is 1024) would otherwise
 * start as many handshakes together, each slower than the connect
 * timeout allows, and a callee's accept queue would drop the rest.  An
 * owner that finds no pooled connection and no free slot gets EBUSY and
 * may wait (upstream_wait): waiters are woken in order, from the loop's
 * prepare phase, when a connection goes back to the pool or an opening
 * one is established or closed; a woken waiter calls upstream_acquire
 * again.  The owner bounds the wait (fwd: the connect timeout).
 */
#ifndef MESH_UPSTREAM_H
#define MESH_UPSTREAM_H

#include <stdint.h>

#include <ev.h>

#include "mesh/epaddr.h"
#include "mesh/relay.h"
#include "mesh/transport.h"

#define UPSTREAM_POOL_MAX 32
#define UPSTREAM_OPENING_MAX 32
/* Connections to other hosts (not 127/8): unacknowledged data fails the
 * connection after this long; idle ones are probed from KEEPIDLE_S on,
 * every KEEPINTVL_S, dead after KEEPCNT unanswered probes. */
#define UPSTREAM_USER_TIMEOUT_MS 5000u
#define UPSTREAM_KEEPIDLE_S      5
#define UPSTREAM_KEEPINTVL_S     2
#define UPSTREAM_KEEPCNT         3

enum upconn_state { UC_CONNECTING, UC_BUSY, UC_IDLE, UC_CLOSED };

/* What notify reports to the owner. */
enum upconn_event {
	UC_EV_CONNECTED,  /* now UC_BUSY */
	UC_EV_FAILED,     /* connect failed; errnum says why; the upconn is closed */
	UC_EV_TIMEOUT,    /* connect timed out; the upconn is closed */
	UC_EV_IO,         /* an event on a busy connection (side_event already applied) */
};

/* An owner waiting for a connection to an upstream (see "Opening"). */
struct upwait {
	struct upstream *up;                /* ro: where it waits; NULL: not waiting */
	struct upwait   *next;              /* private */
	uint8_t          fresh;             /* ro: wants a new connection */
	void           (*wake)(struct upwait *w);  /* rw: called unlinked (up NULL) */
};

struct upstream {
	struct epaddr           addr;       /* ro: where it connects */
	const struct transport *t;          /* ro */
	struct upconn          *idle;       /* private: pool, most recent first */
	unsigned                nidle;      /* ro */
	unsigned                nbusy;      /* ro: connecting or lent */
	unsigned                nopening;   /* ro: connecting or handshaking */
	struct upwait          *wait_head;  /* private: FIFO of waiters */
	struct upwait          *wait_tail;  /* private */
	unsigned                nwait;      /* ro */
	uint8_t                 stale;      /* ro */
	double                  connect_s;  /* rw: connect timeout of new connections
	                                       (the route's); 0: upstream_set_timeouts' */
	struct upstream        *next;       /* private */
};

struct upconn {
	struct side        s;          /* rw for the owner while UC_BUSY */
	ev_timer           timer;      /* private */
	enum upconn_state  state;      /* ro */
	uint8_t            reused;     /* ro: taken from the pool (may have gone stale) */
	uint8_t            opening;    /* private: counted in up->nopening */
	int                errnum;     /* ro: why a connect failed */
	struct upstream   *up;         /* ro */
	void             (*notify)(void *owner, struct upconn *uc, enum upconn_event ev);
	void              *owner;
	struct upconn     *next;       /* private: pool / free list */
};

/* Timeouts in seconds for new connects and for idle pooled connections. */
void upstream_set_timeouts(double connect_s, double pool_idle_s);

/* The destination `at` over t, created on first use; NULL only when
 * out of memory.  Clears `stale`. */
struct upstream *upstream_get_at(struct epaddr at, const struct transport *t);
/* The same at 127.0.0.1:port (the app leg). */
struct upstream *upstream_get(uint16_t port, const struct transport *t);
/* Mark every upstream stale (before a config is applied; upstream_get
 * revives the ones still named), then close idle connections of those
 * still stale. */
void upstream_mark_stale(void);
void upstream_sweep_stale(void);

/*
 * A connection for one owner: pooled (UC_BUSY at once, reused=1) unless
 * `fresh`, else a new one (UC_CONNECTING, or UC_BUSY when the connect
 * finished at once).  NULL with errno set when the connect failed at once,
 * or EBUSY: no pooled connection, UPSTREAM_OPENING_MAX are opening, or
 * others wait already (then upstream_wait, or give up).
 */
struct upconn *upstream_acquire(struct upstream *up, int fresh,
                                void (*notify)(void *, struct upconn *, enum upconn_event),
                                void *owner);
/* Queue w (not waiting yet; w->wake set) behind up's waiters.  Its wake
 * comes from the prepare phase, unlinked; it then calls upstream_acquire,
 * which serves it first. */
void upstream_wait(struct upstream *up, struct upwait *w, int fresh);
/* Leave the queue (a no-op when w waits nowhere). */
void upstream_unwait(struct upwait *w);
/* The connect timeout of new connections to up, in seconds. */
double upstream_connect_timeout(const struct upstream *up);
/* Give a busy connection back: to the pool when reusable (idle, nothing
 * unread, not stale, pool not full), otherwise closed. */
void upstream_release(struct upconn *uc, int reusable);
/* Close now (any state but UC_CLOSED).  The owner is not notified. */
void upstream_close(struct upconn *uc);
/* Close every idle connection (shutdown). */
void upstream_close_idle(void);
/* Reclaim closed upconns (called once per loop iteration). */
void upstream_reap(void);

#endif
