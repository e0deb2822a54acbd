/* SPDX-License-Identifier: ISC */
/*
 * conn: downstream connections: allocation from a free list, the one
 * teardown path, the idle/header timer, graceful draining.  Both
 * callbacks hand the connection to fwd (fwd_run, fwd_timeout), which
 * closes it when a handler finished it.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/container_of.h"
#include "mesh/conn.h"
#include "mesh/fwd.h"
#include "mesh/h2.h"
#include "mesh/listener.h"
#include "mesh/log.h"
#include "mesh/pstate.h"
#include "mesh/stats.h"

#define CONN_FREE_MAX 1024

static struct conn *live;        /* doubly linked */
static struct conn *free_list;
static unsigned     nfree;
static struct conn *closed;      /* closed in this loop iteration */
static unsigned     nlive;
static int          draining;

static void conn_io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

unsigned conn_count(void) { return nlive; }
int conn_draining(void) { return draining; }

/* The deadline of the current state. */
static ev_tstamp
conn_state_deadline(const struct conn *c)
{
	ev_tstamp d, idle = c->active + pstate.lim.idle_timeout_ms / 1000.0;

	switch (c->state) {
	case FWD_REQ_HEAD:
		return c->head_start + pstate.lim.header_timeout_ms / 1000.0;
	case FWD_LINGER:
		return c->head_start;
	case FWD_BACKOFF:
	case FWD_DELAY:
		d = c->retry_at;
		break;
	case FWD_CONNECT:
		d = c->wait.up != NULL ? c->retry_at : idle;
		break;
	case FWD_EXCHANGE:
	case FWD_RES_BODY:
		d = idle;
		break;
	default:
		return idle;
	}
	/* the route's timeout covers the whole request, retries included */
	return c->deadline != 0 && c->deadline < d ? c->deadline : d;
}

/*
 * Until the downstream transport is established, every byte of a
 * handshake dribbled slowly would count as activity and push the idle
 * timeout back for ever: the mTLS handshake has the header timeout from
 * the accept (head_start, set by conn_new), as a request head has from its
 * first byte.  (A tcp role is already in FWD_CONNECT or FWD_TUNNEL then.)
 */
static ev_tstamp
conn_deadline(const struct conn *c)
{
	ev_tstamp d = conn_state_deadline(c), hs;

	if (c->state == FWD_LINGER || tconn_established(&c->d.tc))
		return d;
	hs = c->head_start + pstate.lim.header_timeout_ms / 1000.0;
	return hs < d ? hs : d;
}

void
conn_timer_update(struct conn *c)
{
	ev_tstamp left = conn_deadline(c) - ev_now(EV_DEFAULT);

	c->timer.repeat = left > 0.001 ? left : 0.001;
	ev_timer_again(EV_DEFAULT, &c->timer);
}

void
conn_new(int fd, enum conn_role role, uint16_t port, const char *service)
{
	const struct transport *t;
	struct conn *c;

	if (draining) {
		close(fd);
		return;
	}
	if ((c = free_list) != NULL) {
		free_list = c->next;
		nfree--;
	} else if ((c = malloc(sizeof(*c))) == NULL) {
		log_warnx("port %u: out of memory for a connection", port);
		close(fd);
		return;
	}
	memset(c, 0, sizeof(*c));
	t = (role == ROLE_INBOUND_HTTP || role == ROLE_INBOUND_TCP) ? transport_mesh()
	                                                            : &transport_plain;
	if (side_open(&c->d, t, fd, 1, conn_io_cb) == -1) {
		log_warnx("port %u: %s transport refused a connection", port, t->name);
		c->next = free_list;
		free_list = c;
		nfree++;
		return;
	}
	c->role = role;
	c->port = port;
	if (service != NULL)
		snprintf(c->service, sizeof(c->service), "%s", service);
	c->active = ev_now(EV_DEFAULT);
	c->head_start = c->active;   /* the handshake's clock (conn_deadline) */
	/* Loopback clients usually write right after connecting. */
	c->d.readable = 1;
	ev_init(&c->timer, conn_timer_cb);
	c->state = FWD_IDLE;
	conn_timer_update(c);
	c->next = live;
	if (live != NULL)
		live->prev = c;
	live = c;
	stats_inc(STAT_CONNECTIONS_TOTAL);
	stats_gauge_add(STAT_CONNECTIONS_OPEN, 1);
	if (++nlive >= pstate.lim.connections)
		listener_pause_all();
	fwd_begin(c);
}

void
conn_close(struct conn *c)
{
	if (c->state == FWD_CLOSED)
		return;
	/* first, so fwd_end() only releases and starts no next state */
	c->state = FWD_CLOSED;
	fwd_end(c);
	side_close(EV_DEFAULT, &c->d);
	ev_timer_stop(EV_DEFAULT, &c->timer);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		live = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = closed;
	closed = c;
	stats_gauge_sub(STAT_CONNECTIONS_OPEN, 1);
	if (--nlive < pstate.lim.connections)
		listener_resume_all();
}

void
conn_reap(void)
{
	struct conn *c;

	while ((c = closed) != NULL) {
		closed = c->next;
		if (nfree < CONN_FREE_MAX) {
			c->next = free_list;
			free_list = c;
			nfree++;
		} else {
			free(c);
		}
	}
	upstream_reap();
}

void
conn_drain(void)
{
	struct conn *c, *next;

	draining = 1;
	for (c = live; c != NULL; c = next) {
		next = c->next;
		if (c->state == FWD_IDLE && (c->d.in == NULL || c->d.in->len == 0))
			conn_close(c);
		else if (c->state == FWD_H2) {
			h2_drain(c);
			fwd_run(c);
		}
	}
}

static void
conn_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = container_of(w, struct conn, d.io);

	side_event(&c->d, revents);
	c->active = ev_now(loop);
	fwd_run(c);
}

static void
conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = container_of(w, struct conn, timer);
	ev_tstamp left = conn_deadline(c) - ev_now(loop);

	if (left > 0.001) {
		w->repeat = left;
		ev_timer_again(loop, w);
		return;
	}
	fwd_timeout(c);
}
