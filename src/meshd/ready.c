/* SPDX-License-Identifier: ISC */
/*
 * ready: the TCP readiness probe (see include/mesh/ready.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mesh/container_of.h"
#include "mesh/ready.h"

static void ready_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

void
ready_init(struct ready *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	ev_timer_init(&r->timer, ready_timer_cb, READY_FIRST, 0.);
}

static void
ready_close(struct ready *r)
{
	if (r->fd == -1)
		return;
	ev_io_stop(r->loop, &r->io);
	close(r->fd);
	r->fd = -1;
}

static void
ready_arm(struct ready *r, double after)
{
	ev_timer_stop(r->loop, &r->timer);
	ev_timer_set(&r->timer, after, 0.);
	ev_timer_start(r->loop, &r->timer);
}

/* One attempt ended: done on success, else the next one after the delay,
 * which then doubles. */
static void
ready_done(struct ready *r, int err)
{
	ready_close(r);
	if (err == 0) {
		ev_timer_stop(r->loop, &r->timer);
		r->running = 0;
		r->ready = 1;
		r->last[0] = '\0';
		if (r->cb != NULL)
			r->cb(r);
		return;
	}
	snprintf(r->last, sizeof(r->last), "connect to 127.0.0.1:%u: %s", r->port,
	    err == ETIMEDOUT ? "no answer" : strerror(err));
	ready_arm(r, r->delay);
	r->delay *= 2;
	if (r->delay > READY_MAX)
		r->delay = READY_MAX;
}

static void
ready_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ready *r = container_of(w, struct ready, io);
	socklen_t sl = sizeof(int);
	int err = 0;

	(void)loop;
	(void)revents;
	if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
		err = errno;
	ready_done(r, err);
}

static void
ready_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ready *r = container_of(w, struct ready, timer);
	struct sockaddr_in sin;

	(void)loop;
	(void)revents;
	if (r->fd != -1) {
		/* the attempt's deadline: a connect that hangs (full backlog) */
		ready_done(r, ETIMEDOUT);
		return;
	}
	r->attempts++;
	if ((r->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		ready_done(r, errno);
		return;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(r->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(r->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
		ready_done(r, 0);
		return;
	}
	if (errno != EINPROGRESS) {
		ready_done(r, errno);
		return;
	}
	ev_io_init(&r->io, ready_io_cb, r->fd, EV_WRITE);
	ev_io_start(r->loop, &r->io);
	ready_arm(r, READY_MAX);
}

void
ready_start(struct ready *r, struct ev_loop *loop, uint16_t port, ready_fn *cb,
    void *arg)
{
	ready_stop(r);
	r->loop = loop;
	r->port = port;
	r->cb = cb;
	r->arg = arg;
	r->ready = 0;
	r->attempts = 0;
	r->last[0] = '\0';
	r->delay = 2 * READY_FIRST;
	r->running = 1;
	ready_arm(r, READY_FIRST);
}

void
ready_stop(struct ready *r)
{
	r->ready = 0;
	if (!r->running)
		return;
	ready_close(r);
	ev_timer_stop(r->loop, &r->timer);
	r->running = 0;
}
