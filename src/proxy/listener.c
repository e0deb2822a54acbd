/* SPDX-License-Identifier: ISC */
/*
 * listener: listening sockets, accept, connection limit and fd exhaustion.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mesh/container_of.h"
#include "mesh/listener.h"
#include "mesh/log.h"

#define ACCEPT_BATCH   64     /* accepts per event: fairness with other watchers */
#define BACKOFF_S      0.1    /* retry after EMFILE and friends */

static struct listener *listeners;
static int              paused;   /* the connection limit is reached */

static void listener_accept_cb(struct ev_loop *loop, ev_io *w, int revents);
static void listener_retry_cb(struct ev_loop *loop, ev_timer *w, int revents);

struct listener *listener_first(void) { return listeners; }

struct listener *
listener_find(uint32_t addr, uint16_t port)
{
	struct listener *l;

	for (l = listeners; l != NULL; l = l->next)
		if (l->addr == addr && l->port == port)
			return l;
	return NULL;
}

struct listener *
listener_open(uint32_t addr, uint16_t port, enum conn_role role, const char *service,
              const char *what, char *err, size_t errlen)
{
	struct sockaddr_in sin;
	struct listener *l;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(addr);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 || listen(fd, 511) == -1)
		goto fail;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		goto fail;
	l->fd = fd;
	l->addr = addr;
	l->port = port;
	l->role = role;
	snprintf(l->service, sizeof(l->service), "%s", service != NULL ? service : "");
	ev_io_init(&l->io, listener_accept_cb, fd, EV_READ);
	ev_timer_init(&l->retry, listener_retry_cb, BACKOFF_S, 0.);
	if (!paused)
		ev_io_start(EV_DEFAULT, &l->io);
	l->next = listeners;
	listeners = l;
	return l;
fail:
	snprintf(err, errlen, "cannot listen on " EPADDR_FMT " (%s): %s",
	    EPADDR_ARGS(epaddr_make(addr, port)), what, strerror(errno));
	if (fd != -1)
		close(fd);
	return NULL;
}

void
listener_close(struct listener *l)
{
	struct listener **pp;

	for (pp = &listeners; *pp != NULL; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	ev_io_stop(EV_DEFAULT, &l->io);
	ev_timer_stop(EV_DEFAULT, &l->retry);
	close(l->fd);
	free(l);
}

void
listener_pause_all(void)
{
	struct listener *l;

	if (paused)
		return;
	paused = 1;
	for (l = listeners; l != NULL; l = l->next)
		ev_io_stop(EV_DEFAULT, &l->io);
	log_warnx("connection limit reached: not accepting until a connection closes");
}

void
listener_resume_all(void)
{
	struct listener *l;

	if (!paused)
		return;
	paused = 0;
	for (l = listeners; l != NULL; l = l->next)
		if (!l->backoff)
			ev_io_start(EV_DEFAULT, &l->io);
}

static void
listener_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listener *l = container_of(w, struct listener, io);
	int i, fd, one = 1;

	for (i = 0; i < ACCEPT_BATCH && !paused; i++) {
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				if (ev_now(loop) - l->warned_at >= 10.) {
					log_warn("port %u: accept (pausing %.0f ms at a time)",
					    l->port, BACKOFF_S * 1000);
					l->warned_at = ev_now(loop);
				}
				ev_io_stop(loop, &l->io);
				l->backoff = 1;
				/* set again: a fired one-shot timer keeps a stale offset */
				ev_timer_set(&l->retry, BACKOFF_S, 0.);
				ev_timer_start(loop, &l->retry);
				return;
			}
			log_warn("port %u: accept", l->port);
			return;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* conn_new may pause every listener, this one included. */
		conn_new(fd, l->role, l->port, l->service);
	}
}

static void
listener_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct listener *l = container_of(w, struct listener, retry);

	l->backoff = 0;
	if (!paused)
		ev_io_start(loop, &l->io);
}
