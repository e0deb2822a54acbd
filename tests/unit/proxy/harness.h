/* SPDX-License-Identifier: ISC */
/*
 * harness.h: real downstream connections (conn.c and the fwd state
 * machine) driven on the default libev loop, for test_fwd and test_conn.
 *
 * The client is one end of a socketpair; the other end goes to conn_new()
 * as if a listener had accepted it.  The upstream is a fake app: a
 * loopback listener of this process on a port the kernel picks (upstream.c
 * always connects to 127.0.0.1), served on the same loop.  The sidecar's
 * config is a real pcfg document through pstate_apply(), with no inbound,
 * outbound or listen line, so the fake app's is the only port bound: a
 * client of role ROLE_LISTEN_HTTP for service "api" reaches it as
 * `listen PORT api` would.
 *
 * H_RUN_UNTIL(cond) turns the loop (and reaps closed objects between
 * iterations, as mesh-proxy's prepare watcher does) until cond holds or
 * H_TIMEOUT_S passes; the test then asserts cond.
 *
 * The app and the clients live here, not on a test's stack: their
 * watchers stay on the loop when an assertion leaves a test half-way,
 * and h_after() (each test's teardown) closes whatever is still open so
 * the next test starts from nothing.
 */
#ifndef TEST_HARNESS_H
#define TEST_HARNESS_H

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "mesh/buf.h"
#include "mesh/conn.h"
#include "mesh/container_of.h"
#include "mesh/fwd.h"
#include "mesh/log.h"
#include "mesh/pcfg.h"
#include "mesh/pstate.h"
#include "mesh/transport.h"
#include "mesh/upstream.h"

#define H_TIMEOUT_S 5.0
#define H_UNUSED    __attribute__((unused))

#define H_RUN_UNTIL(cond) do {                                       \
	ev_tstamp t0_ = ev_time();                                       \
	while (!(cond) && ev_time() - t0_ < H_TIMEOUT_S)                 \
		h_step();                                                    \
} while (0)

static ev_timer h_tick;

static void
h_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
}

/* One loop iteration (never blocked longer than the tick), then what
 * mesh-proxy's prepare watcher does before the next one. */
static H_UNUSED void
h_step(void)
{
	ev_run(EV_DEFAULT, EVRUN_ONCE);
	conn_reap();
}

/* Once per test program: what mesh-proxy's main sets up. */
static H_UNUSED int
h_setup(void **state)
{
	signal(SIGPIPE, SIG_IGN);
	log_init("test", getenv("H_DEBUG") != NULL ? LOG_LVL_DEBUG : LOG_LVL_ERROR);
	if (ev_default_loop(EVFLAG_AUTO) == NULL)
		return -1;
	fwd_init();
	ev_timer_init(&h_tick, h_tick_cb, 0.01, 0.01);
	ev_timer_start(EV_DEFAULT, &h_tick);
	return 0;
}

static H_UNUSED int
h_teardown(void **state)
{
	ev_timer_stop(EV_DEFAULT, &h_tick);
	upstream_close_idle();
	conn_reap();
	pstate_free();
	return 0;
}

/*
 * Apply "instance web v1 0", `limits` (lines, may be ""), service api
 * (http) with one endpoint on port, `policy` (a `policy api ...` line or
 * ""), "end".  Fails the test if the sidecar refuses it.
 */
static H_UNUSED void
h_config(const char *limits, uint16_t port, const char *policy)
{
	char doc[1024], err[256];
	struct pcfg *cfg;
	int n;

	n = snprintf(doc, sizeof(doc), "instance web v1 0\n%sservice api http\n"
	    "endpoint api v1 0 %u up\n%send\n", limits, port, policy);
	if (n < 0 || (size_t)n >= sizeof(doc) || (cfg = calloc(1, sizeof(*cfg))) == NULL)
		abort();
	if (pcfg_parse(doc, (size_t)n, cfg, err, sizeof(err)) == -1 ||
	    pstate_apply(cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "h_config: %s\n", err);
		abort();
	}
}

/* Pool buffers held by someone: back to the same number once every
 * connection of a test is gone, or something leaked one. */
static H_UNUSED size_t
h_bufs_held(void)
{
	return buf_pool_allocated() - buf_pool_free();
}

/* The sidecar's upstream for the fake app on port (its pool counters). */
static H_UNUSED struct upstream *
h_upstream(uint16_t port)
{
	return upstream_get(port, transport_mesh());
}

/* ---- the fake app ---------------------------------------------------- */

enum fake_mode {
	FAKE_ECHO,   /* answer each request head with 200 and its path as the body */
	FAKE_RESET,  /* reset the connection (RST) a request head came on */
	FAKE_CLOSE,  /* close it (FIN) instead, the request unanswered */
	FAKE_HOLD,   /* take every byte, answer nothing (fake_release: answer now) */
};

#define FAKE_LEGS 8

struct fake_leg {
	struct fake_app *app;
	int              fd;      /* -1: free slot */
	ev_io            w;
	char             in[16384];
	size_t           len;
};

struct fake_app {
	int             fd;
	uint16_t        port;
	ev_io           w;
	enum fake_mode  mode;
	unsigned        accepted;   /* connections from the sidecar */
	unsigned        requests;   /* request heads seen (ECHO, RESET) */
	unsigned        eofs;       /* connections the sidecar closed */
	unsigned        failed;     /* connections FAKE_RESET or FAKE_CLOSE ended */
	int             once;       /* after one of those, FAKE_ECHO */
	uint64_t        bytes;      /* bytes received, heads and bodies */
	struct fake_leg legs[FAKE_LEGS];
};

static void
fake_leg_close(struct fake_leg *l, int reset)
{
	struct linger lg = { 1, 0 };

	ev_io_stop(EV_DEFAULT, &l->w);
	if (reset)
		(void)setsockopt(l->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(l->fd);
	l->fd = -1;
	l->len = 0;
}

/* Answer the complete request heads in l->in; 0 when the leg is gone. */
static int
fake_serve(struct fake_leg *l)
{
	struct fake_app *a = l->app;
	char out[512], path[128];
	const char *end, *sp;
	size_t hl, pl;
	int n;

	while ((end = memmem(l->in, l->len, "\r\n\r\n", 4)) != NULL) {
		hl = (size_t)(end - l->in) + 4;
		a->requests++;
		if (a->mode == FAKE_RESET || a->mode == FAKE_CLOSE) {
			a->failed++;
			fake_leg_close(l, a->mode == FAKE_RESET);
			if (a->once)
				a->mode = FAKE_ECHO;
			return 0;
		}
		sp = memchr(l->in, ' ', hl);
		pl = 0;
		if (sp != NULL)
			while (sp[1 + pl] != ' ' && pl < sizeof(path) - 1 && 1 + pl < hl)
				pl++;
		memcpy(path, sp != NULL ? sp + 1 : "", pl);
		path[pl] = '\0';
		n = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\ncontent-length: %zu\r\n\r\n%s",
		    pl, path);
		if (write(l->fd, out, (size_t)n) != n)
			abort();
		memmove(l->in, l->in + hl, l->len - hl);
		l->len -= hl;
	}
	return 1;
}

static void
fake_leg_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fake_leg *l = container_of(w, struct fake_leg, w);
	ssize_t n;

	n = read(l->fd, l->in + l->len, sizeof(l->in) - l->len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		l->app->eofs++;
		fake_leg_close(l, 0);
		return;
	}
	l->app->bytes += (uint64_t)n;
	l->len += (size_t)n;
	if (l->app->mode != FAKE_HOLD)
		(void)fake_serve(l);
	else if (l->len == sizeof(l->in))
		l->len = 0;   /* a body too large to keep: nobody answers it */
}

static void
fake_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fake_app *a = container_of(w, struct fake_app, w);
	int fd, i;

	if ((fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
		return;
	for (i = 0; i < FAKE_LEGS && a->legs[i].fd != -1; i++)
		;
	if (i == FAKE_LEGS)
		abort();
	a->accepted++;
	a->legs[i].app = a;
	a->legs[i].fd = fd;
	a->legs[i].len = 0;
	ev_io_init(&a->legs[i].w, fake_leg_cb, fd, EV_READ);
	ev_io_start(loop, &a->legs[i].w);
}

static struct fake_app h_app;

/* The test's one fake app (h_after closes it). */
static H_UNUSED struct fake_app *
fake_open(enum fake_mode mode)
{
	struct fake_app *a = &h_app;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int i;

	memset(a, 0, sizeof(*a));
	a->mode = mode;
	for (i = 0; i < FAKE_LEGS; i++)
		a->legs[i].fd = -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd == -1 || bind(a->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(a->fd, 16) == -1 || getsockname(a->fd, (struct sockaddr *)&sin, &len) == -1)
		abort();
	a->port = ntohs(sin.sin_port);
	ev_io_init(&a->w, fake_accept_cb, a->fd, EV_READ);
	ev_io_start(EV_DEFAULT, &a->w);
	return a;
}

/* A FAKE_HOLD app becomes FAKE_ECHO and answers what it holds. */
static H_UNUSED void
fake_release(struct fake_app *a)
{
	int i;

	a->mode = FAKE_ECHO;
	for (i = 0; i < FAKE_LEGS; i++)
		if (a->legs[i].fd != -1)
			(void)fake_serve(&a->legs[i]);
}

static void
fake_close(struct fake_app *a)
{
	int i;

	for (i = 0; i < FAKE_LEGS; i++)
		if (a->legs[i].fd != -1)
			fake_leg_close(&a->legs[i], 0);
	ev_io_stop(EV_DEFAULT, &a->w);
	close(a->fd);
	a->fd = -1;
}

/* ---- the client ------------------------------------------------------- */

struct h_client {
	int    fd;          /* 0: free slot (fd 0 is stdin's) */
	ev_io  w;
	char   in[65536];   /* what the sidecar sent, not yet taken */
	size_t len;
	int    eof;         /* the sidecar closed (or reset) the connection */
};

static void
h_client_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct h_client *cl = container_of(w, struct h_client, w);
	ssize_t n;

	n = read(cl->fd, cl->in + cl->len, sizeof(cl->in) - cl->len);
	if (n > 0) {
		cl->len += (size_t)n;
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	cl->eof = 1;
	ev_io_stop(loop, w);
}

#define H_CLIENTS 4
static struct h_client h_clients[H_CLIENTS];

/* A connection as the listener of `role` would have accepted it. */
static H_UNUSED struct h_client *
h_client_open(enum conn_role role, const char *service)
{
	struct h_client *cl = h_clients;
	int sv[2];

	while (cl->fd != 0)
		if (++cl == h_clients + H_CLIENTS)
			abort();
	memset(cl, 0, sizeof(*cl));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	cl->fd = sv[1];
	ev_io_init(&cl->w, h_client_cb, cl->fd, EV_READ);
	ev_io_start(EV_DEFAULT, &cl->w);
	conn_new(sv[0], role, 0, service);
	return cl;
}

/* The client goes away (its end of the socketpair closes). */
static H_UNUSED void
h_client_close(struct h_client *cl)
{
	ev_io_stop(EV_DEFAULT, &cl->w);
	close(cl->fd);
	cl->fd = 0;
}

/* Small writes only: they fit the socket buffer at once. */
static H_UNUSED void
h_send(struct h_client *cl, const void *p, size_t n)
{
	if (write(cl->fd, p, n) != (ssize_t)n)
		abort();
}

static H_UNUSED void
h_sends(struct h_client *cl, const char *s)
{
	h_send(cl, s, strlen(s));
}

struct h_res {
	int    status;
	char   mesh_error[128];   /* "" when the response has none */
	int    close;             /* connection: close */
	char   body[256];
	size_t body_len;
};

/* Take one complete response (content-length framed) off the front of
 * what the client received: 1, or 0 when it is not all there yet. */
static H_UNUSED int
h_take(struct h_client *cl, struct h_res *r)
{
	const char *end, *line, *eol;
	size_t hl, clen = 0, total;

	if ((end = memmem(cl->in, cl->len, "\r\n\r\n", 4)) == NULL)
		return 0;
	hl = (size_t)(end - cl->in) + 4;
	memset(r, 0, sizeof(*r));
	r->status = atoi(cl->in + 9);
	for (line = (const char *)memchr(cl->in, '\n', hl) + 1; line < cl->in + hl - 2;
	    line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(cl->in + hl - line));
		if (strncasecmp(line, "content-length:", 15) == 0)
			clen = strtoul(line + 15, NULL, 10);
		else if (strncasecmp(line, "mesh-error: ", 12) == 0)
			snprintf(r->mesh_error, sizeof(r->mesh_error), "%.*s",
			    (int)(eol - 1 - (line + 12)), line + 12);
		else if (strncasecmp(line, "connection: close", 17) == 0)
			r->close = 1;
	}
	total = hl + clen;
	if (cl->len < total || clen >= sizeof(r->body))
		return 0;
	memcpy(r->body, cl->in + hl, clen);
	r->body_len = clen;
	memmove(cl->in, cl->in + total, cl->len - total);
	cl->len -= total;
	return 1;
}

/* Each test's teardown: close what the test left open, then let the
 * sidecar close its side, so the next test starts with no connection. */
static H_UNUSED int
h_after(void **state)
{
	int i;

	for (i = 0; i < H_CLIENTS; i++)
		if (h_clients[i].fd != 0)
			h_client_close(&h_clients[i]);
	if (h_app.fd > 0)
		fake_close(&h_app);
	H_RUN_UNTIL(conn_count() == 0);
	upstream_close_idle();
	conn_reap();
	return conn_count() == 0 ? 0 : -1;
}

#endif
