/* SPDX-License-Identifier: ISC */
/*
 * health: the readiness probe (see include/mesh/health.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mesh/container_of.h"
#include "mesh/health.h"


void
health_init(struct health *h)
{
	memset(h, 0, sizeof(*h));
	h->fd = -1;
}

static void
health_close(struct health *h)
{
	if (h->fd != -1) {
		ev_io_stop(h->loop, &h->io);
		close(h->fd);
		h->fd = -1;
	}
	h->phase = HEALTH_IDLE;
	h->len = 0;
}

static void
health_arm(struct health *h, double after)
{
	ev_timer_stop(h->loop, &h->timer);
	ev_timer_set(&h->timer, after, 0.);
	ev_timer_start(h->loop, &h->timer);
}

/* One probe finished: ok or not.  Decide the next. */
static void
health_done(struct health *h, int ok, const char *why)
{
	int was = h->healthy;

	health_close(h);
	if (ok) {
		h->fails = 0;
		h->last[0] = '\0';
		h->healthy = 1;
	} else {
		snprintf(h->last, sizeof(h->last), "%s", why);
		if (++h->fails >= HEALTH_FAILS)
			h->healthy = 0;
	}
	health_arm(h, h->healthy ? HEALTH_SLOW : HEALTH_FAST);
	if (was != h->healthy && h->cb != NULL)
		h->cb(h, h->healthy);
}

static void
health_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct health *h = container_of(w, struct health, io);
	char req[512];
	ssize_t n;
	int err = 0, code;
	socklen_t sl = sizeof(err);

	(void)loop;
	(void)revents;
	if (h->phase == HEALTH_CONNECTING) {
		if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1 || err != 0) {
			char why[96];

			snprintf(why, sizeof(why), "connect: %s", strerror(err ? err : errno));
			health_done(h, 0, why);
			return;
		}
		n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
		    "User-Agent: meshd-health\r\nConnection: close\r\n\r\n", h->path, h->port);
		/* a small request on a fresh socket: one write fits the buffer */
		if (n < 0 || (size_t)n >= sizeof(req) ||
		    send(h->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
			health_done(h, 0, "cannot send the request");
			return;
		}
		ev_io_stop(h->loop, &h->io);
		ev_io_set(&h->io, h->fd, EV_READ);
		ev_io_start(h->loop, &h->io);
		h->phase = HEALTH_READING;
		return;
	}
	n = read(h->fd, h->buf + h->len, sizeof(h->buf) - 1 - h->len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		h->len += (size_t)n;
	h->buf[h->len] = '\0';
	if (n > 0 && memchr(h->buf, '\n', h->len) == NULL && h->len < sizeof(h->buf) - 1)
		return;
	if (sscanf(h->buf, "HTTP/1.%*1[01] %3d", &code) == 1) {
		char why[96];

		if (code >= 200 && code <= 299) {
			health_done(h, 1, NULL);
			return;
		}
		snprintf(why, sizeof(why), "GET %s: status %d", h->path, code);
		health_done(h, 0, why);
		return;
	}
	health_done(h, 0, "no HTTP status line");
}

static void
health_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct health *h = container_of(w, struct health, timer);
	struct sockaddr_in sin;

	(void)loop;
	(void)revents;
	if (h->phase != HEALTH_IDLE) {
		health_done(h, 0, "timed out");
		return;
	}
	if ((h->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		health_done(h, 0, "socket failed");
		return;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(h->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(h->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS) {
		char why[96];

		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		health_done(h, 0, why);
		return;
	}
	h->phase = HEALTH_CONNECTING;
	ev_io_init(&h->io, health_io_cb, h->fd, EV_WRITE);
	ev_io_start(h->loop, &h->io);
	health_arm(h, HEALTH_TIMEOUT);
}

void
health_start(struct health *h, struct ev_loop *loop, uint16_t port,
    const char *path, health_fn *cb, void *arg)
{
	health_stop(h);
	h->loop = loop;
	h->port = port;
	h->path = path;
	h->cb = cb;
	h->arg = arg;
	h->healthy = 0;
	h->fails = 0;
	h->last[0] = '\0';
	h->running = 1;
	ev_timer_init(&h->timer, health_timer_cb, HEALTH_FIRST, 0.);
	ev_timer_start(loop, &h->timer);
}

void
health_stop(struct health *h)
{
	if (!h->running)
		return;
	health_close(h);
	ev_timer_stop(h->loop, &h->timer);
	h->running = 0;
	h->healthy = 0;
}
