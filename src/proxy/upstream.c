/* SPDX-License-Identifier: ISC */
/*
 * upstream: destinations, their pools of keep-alive connections, and the
 * bound on connections opening at once with its queue of waiters (see
 * include/mesh/upstream.h, "Opening").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mesh/container_of.h"
#include "mesh/log.h"
#include "mesh/upstream.h"

#define UPCONN_FREE_MAX 256

static struct upstream *upstreams;
static struct upconn   *uc_free;      /* reusable structs */
static unsigned         uc_nfree;
static struct upconn   *uc_closed;    /* closed this iteration */
static double           connect_timeout = 1.0;
static double           pool_idle = 30.0;
static ev_prepare       wake_w;       /* wakes waiters before the loop blocks */
static int              wake_ready;   /* wake_w initialised */
static int              waking;       /* a woken waiter is being served: it goes first */

static void upconn_io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void upconn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void upstream_wake_cb(struct ev_loop *loop, ev_prepare *w, int revents);

void
upstream_set_timeouts(double connect_s, double pool_idle_s)
{
	connect_timeout = connect_s;
	pool_idle = pool_idle_s;
}

struct upstream *
upstream_get(uint16_t port, const struct transport *t)
{
	return upstream_get_at(epaddr_make(EPADDR_LOOPBACK, port), t);
}

struct upstream *
upstream_get_at(struct epaddr at, const struct transport *t)
{
	struct upstream *up;

	for (up = upstreams; up != NULL; up = up->next)
		if (epaddr_eq(up->addr, at) && up->t == t) {
			up->stale = 0;
			return up;
		}
	if ((up = calloc(1, sizeof(*up))) == NULL)
		return NULL;
	up->addr = at;
	up->t = t;
	up->next = upstreams;
	upstreams = up;
	return up;
}

double
upstream_connect_timeout(const struct upstream *up)
{
	return up->connect_s > 0 ? up->connect_s : connect_timeout;
}

/* Something freed up: let the waiters of up try again before the loop
 * blocks (never from here: the caller may be deep in another owner's
 * handler). */
static void
upstream_kick(struct upstream *up)
{
	if (up->wait_head == NULL)
		return;
	if (!wake_ready) {
		ev_prepare_init(&wake_w, upstream_wake_cb);
		wake_ready = 1;
	}
	ev_prepare_start(EV_DEFAULT, &wake_w);
}

/* Whether upstream_acquire(up, fresh) can serve now. */
static int
upstream_can_serve(const struct upstream *up, int fresh)
{
	return (!fresh && up->idle != NULL) || up->nopening < UPSTREAM_OPENING_MAX;
}

void
upstream_wait(struct upstream *up, struct upwait *w, int fresh)
{
	w->up = up;
	w->next = NULL;
	w->fresh = (uint8_t)(fresh != 0);
	if (up->wait_tail != NULL)
		up->wait_tail->next = w;
	else
		up->wait_head = w;
	up->wait_tail = w;
	up->nwait++;
	upstream_kick(up);
}

void
upstream_unwait(struct upwait *w)
{
	struct upstream *up = w->up;
	struct upwait **pp, *prev = NULL;

	if (up == NULL)
		return;
	for (pp = &up->wait_head; *pp != NULL; prev = *pp, pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			if (up->wait_tail == w)
				up->wait_tail = prev;
			up->nwait--;
			break;
		}
	w->up = NULL;
	w->next = NULL;
	/* the next one may be servable where this one was not (fresh) */
	upstream_kick(up);
}

/* Serve the waiters in order while each can be served; at most as many
 * as waited on entry, so one that queues again cannot loop here. */
static void
upstream_wake_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct upstream *up;
	struct upwait *wt;
	unsigned n;

	ev_prepare_stop(loop, w);
	for (up = upstreams; up != NULL; up = up->next)
		for (n = up->nwait; n > 0 && (wt = up->wait_head) != NULL &&
		    upstream_can_serve(up, wt->fresh); n--) {
			up->wait_head = wt->next;
			if (up->wait_head == NULL)
				up->wait_tail = NULL;
			up->nwait--;
			wt->up = NULL;
			wt->next = NULL;
			waking = 1;
			wt->wake(wt);
			waking = 0;
		}
}

void
upstream_mark_stale(void)
{
	struct upstream *up;

	for (up = upstreams; up != NULL; up = up->next)
		up->stale = 1;
}

static void
upstream_drain_idle(struct upstream *up)
{
	while (up->idle != NULL)
		upstream_close(up->idle);
}

void
upstream_sweep_stale(void)
{
	struct upstream *up;

	for (up = upstreams; up != NULL; up = up->next)
		if (up->stale)
			upstream_drain_idle(up);
}

void
upstream_close_idle(void)
{
	struct upstream *up;

	for (up = upstreams; up != NULL; up = up->next)
		upstream_drain_idle(up);
}

static struct upconn *
upconn_alloc(void)
{
	struct upconn *uc = uc_free;

	if (uc != NULL) {
		uc_free = uc->next;
		uc_nfree--;
	} else if ((uc = malloc(sizeof(*uc))) == NULL) {
		return NULL;
	}
	memset(uc, 0, sizeof(*uc));
	return uc;
}

static void
pool_unlink(struct upconn *uc)
{
	struct upconn **pp;

	for (pp = &uc->up->idle; *pp != NULL; pp = &(*pp)->next)
		if (*pp == uc) {
			*pp = uc->next;
			uc->up->nidle--;
			return;
		}
}

/* A new connection counts as opening until its transport is established. */
static void
upconn_opening(struct upconn *uc)
{
	if (!tconn_established(&uc->s.tc)) {
		uc->opening = 1;
		uc->up->nopening++;
	}
}

static void
upconn_opened(struct upconn *uc)
{
	if (!uc->opening)
		return;
	uc->opening = 0;
	uc->up->nopening--;
	upstream_kick(uc->up);
}

/*
 * Another host (issue 16) can vanish without closing anything (power, a
 * pulled cable): data sent to it and not acknowledged fails the
 * connection after UPSTREAM_USER_TIMEOUT_MS instead of waiting for an
 * answer that never comes, and an idle pooled connection is probed
 * (keepalive) so a dead one is found before a request is put on it.
 * Loopback never loses a segment: nothing to set there.
 */
static void
upconn_remote_opts(int fd)
{
	int one = 1, idle = UPSTREAM_KEEPIDLE_S, intvl = UPSTREAM_KEEPINTVL_S;
	int cnt = UPSTREAM_KEEPCNT;
	unsigned ut = UPSTREAM_USER_TIMEOUT_MS;

	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut));
}

static int
upconn_connect(struct upconn *uc)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((uc->up->addr.ip >> 24) != 127)
		upconn_remote_opts(fd);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(uc->up->addr.port);
	sin.sin_addr.s_addr = htonl(uc->up->addr.ip);
	if (side_open(&uc->s, uc->up->t, fd, 0, upconn_io_cb) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		if (errno != EINPROGRESS) {
			int e = errno;

			tconn_close(&uc->s.tc);
			errno = e;
			return -1;
		}
		uc->state = UC_CONNECTING;
		uc->opening = 1;
		uc->up->nopening++;
		side_arm(EV_DEFAULT, &uc->s, 0, 1);
		ev_timer_init(&uc->timer, upconn_timer_cb,
		    uc->up->connect_s > 0 ? uc->up->connect_s : connect_timeout, 0.);
		ev_timer_start(EV_DEFAULT, &uc->timer);
		return 0;
	}
	uc->state = UC_BUSY;
	upconn_opening(uc);
	ev_timer_init(&uc->timer, upconn_timer_cb, 0., 0.);
	return 0;
}

struct upconn *
upstream_acquire(struct upstream *up, int fresh,
                 void (*notify)(void *, struct upconn *, enum upconn_event), void *owner)
{
	struct upconn *uc;
	/* waiters go first, except the one being woken */
	int queued = up->wait_head != NULL && !waking;

	if (!fresh && !queued && (uc = up->idle) != NULL) {
		pool_unlink(uc);
		ev_timer_stop(EV_DEFAULT, &uc->timer);
		uc->state = UC_BUSY;
		uc->reused = 1;
		uc->s.readable = 0;
	} else {
		if (queued || up->nopening >= UPSTREAM_OPENING_MAX) {
			errno = EBUSY;
			return NULL;
		}
		if ((uc = upconn_alloc()) == NULL)
			return NULL;
		uc->up = up;
		if (upconn_connect(uc) == -1) {
			int e = errno;

			uc->state = UC_CLOSED;
			uc->next = uc_closed;
			uc_closed = uc;
			errno = e;
			return NULL;
		}
	}
	up->nbusy++;
	uc->notify = notify;
	uc->owner = owner;
	return uc;
}

void
upstream_close(struct upconn *uc)
{
	if (uc->state == UC_CLOSED)
		return;
	upconn_opened(uc);
	if (uc->state == UC_IDLE)
		pool_unlink(uc);
	else
		uc->up->nbusy--;
	ev_timer_stop(EV_DEFAULT, &uc->timer);
	side_close(EV_DEFAULT, &uc->s);
	uc->state = UC_CLOSED;
	uc->notify = NULL;
	uc->owner = NULL;
	uc->next = uc_closed;
	uc_closed = uc;
}

void
upstream_release(struct upconn *uc, int reusable)
{
	struct upstream *up = uc->up;

	if (uc->state != UC_BUSY)
		return upstream_close(uc);
	if (uc->opening && tconn_established(&uc->s.tc))
		upconn_opened(uc);
	/* the pool may hold one more per waiter: they take them next */
	if (!reusable || up->stale || up->nidle >= UPSTREAM_POOL_MAX + up->nwait ||
	    uc->opening || uc->s.eof || uc->s.err || (uc->s.in != NULL && uc->s.in->len > 0) ||
	    tconn_pending(&uc->s.tc) > 0)
		/* bytes past the response (read ahead by TLS, where the idle
		 * watcher cannot see them) are a peer closing or misbehaving */
		return upstream_close(uc);
	up->nbusy--;
	side_trim(&uc->s);
	uc->state = UC_IDLE;
	uc->notify = NULL;
	uc->owner = NULL;
	uc->next = up->idle;
	up->idle = uc;
	up->nidle++;
	/* While pooled, readability means the peer closed (or misbehaved). */
	side_arm(EV_DEFAULT, &uc->s, 1, 0);
	ev_timer_set(&uc->timer, pool_idle, 0.);
	ev_timer_start(EV_DEFAULT, &uc->timer);
	upstream_kick(up);
}

void
upstream_reap(void)
{
	struct upconn *uc;

	while ((uc = uc_closed) != NULL) {
		uc_closed = uc->next;
		if (uc_nfree < UPCONN_FREE_MAX) {
			uc->next = uc_free;
			uc_free = uc;
			uc_nfree++;
		} else {
			free(uc);
		}
	}
}

static void
upconn_connected(struct upconn *uc)
{
	int err = 0;
	socklen_t len = sizeof(err);

	ev_timer_stop(EV_DEFAULT, &uc->timer);
	if (getsockopt(uc->s.tc.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		void (*notify)(void *, struct upconn *, enum upconn_event) = uc->notify;
		void *owner = uc->owner;

		uc->errnum = err;
		upstream_close(uc);
		notify(owner, uc, UC_EV_FAILED);
		return;
	}
	uc->state = UC_BUSY;
	uc->s.wblocked = 0;
	if (tconn_established(&uc->s.tc))
		upconn_opened(uc);
	uc->notify(uc->owner, uc, UC_EV_CONNECTED);
}

static void
upconn_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct upconn *uc = container_of(w, struct upconn, s.io);

	switch (uc->state) {
	case UC_CONNECTING:
		upconn_connected(uc);
		break;
	case UC_BUSY:
		side_event(&uc->s, revents);
		uc->notify(uc->owner, uc, UC_EV_IO);
		/* the owner's reads and writes drive a TLS handshake */
		if (uc->state == UC_BUSY && uc->opening && tconn_established(&uc->s.tc))
			upconn_opened(uc);
		break;
	case UC_IDLE:
		upstream_close(uc);
		break;
	case UC_CLOSED:
		break;
	}
}

static void
upconn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct upconn *uc = container_of(w, struct upconn, timer);
	void (*notify)(void *, struct upconn *, enum upconn_event) = uc->notify;
	void *owner = uc->owner;
	enum upconn_state st = uc->state;
	struct pollfd pfd = { .fd = uc->s.tc.fd, .events = POLLOUT };

	/* libev runs expired timers before the I/O of the same iteration: a
	 * connect that finished while the loop was busy (a burst of requests
	 * to parse) is not a timeout */
	if (st == UC_CONNECTING && poll(&pfd, 1, 0) == 1) {
		upconn_connected(uc);
		return;
	}
	upstream_close(uc);
	if (st == UC_CONNECTING) {
		uc->errnum = ETIMEDOUT;
		notify(owner, uc, UC_EV_TIMEOUT);
	}
}
