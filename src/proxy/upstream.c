/* SPDX-License-Identifier: ISC */
/*
 * upstream: destinations and their pools of keep-alive connections.
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

static void upconn_io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void upconn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

void
upstream_set_timeouts(double connect_s, double pool_idle_s)
{
	connect_timeout = connect_s;
	pool_idle = pool_idle_s;
}

struct upstream *
upstream_get(uint16_t port, const struct transport *t)
{
	struct upstream *up;

	for (up = upstreams; up != NULL; up = up->next)
		if (up->port == port && up->t == t) {
			up->stale = 0;
			return up;
		}
	if ((up = calloc(1, sizeof(*up))) == NULL)
		return NULL;
	up->port = port;
	up->t = t;
	up->next = upstreams;
	upstreams = up;
	return up;
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

static int
upconn_connect(struct upconn *uc)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(uc->up->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
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
		side_arm(EV_DEFAULT, &uc->s, 0, 1);
		ev_timer_init(&uc->timer, upconn_timer_cb,
		    uc->up->connect_s > 0 ? uc->up->connect_s : connect_timeout, 0.);
		ev_timer_start(EV_DEFAULT, &uc->timer);
		return 0;
	}
	uc->state = UC_BUSY;
	ev_timer_init(&uc->timer, upconn_timer_cb, 0., 0.);
	return 0;
}

struct upconn *
upstream_acquire(struct upstream *up, int fresh,
                 void (*notify)(void *, struct upconn *, enum upconn_event), void *owner)
{
	struct upconn *uc;

	if (!fresh && (uc = up->idle) != NULL) {
		pool_unlink(uc);
		ev_timer_stop(EV_DEFAULT, &uc->timer);
		uc->state = UC_BUSY;
		uc->reused = 1;
		uc->s.readable = 0;
	} else {
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
	if (!reusable || up->stale || up->nidle >= UPSTREAM_POOL_MAX || uc->s.eof ||
	    uc->s.err || (uc->s.in != NULL && uc->s.in->len > 0))
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
