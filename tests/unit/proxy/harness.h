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
 * `listen PORT api` would.  h_config_eps gives "api" several endpoints:
 * up to H_APPS fake apps, and ports that refuse every connection
 * (h_refusing_port: bound, never listening).  The counters of a real stats
 * file (h_stat) show what the sidecar counted, retries included.
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
#include "mesh/stats.h"
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
static char     h_stats_dir[64], h_stats_file[96];

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
	snprintf(h_stats_dir, sizeof(h_stats_dir), "/tmp/mesh-harness.XXXXXX");
	if (mkdtemp(h_stats_dir) == NULL)
		return -1;
	snprintf(h_stats_file, sizeof(h_stats_file), "%s/h.stats", h_stats_dir);
	return stats_open(h_stats_file) == 0 ? 0 : -1;
}

/* A counter of the sidecar's stats file, as meshctl status reads it. */
static H_UNUSED uint64_t
h_stat(enum stat_id id)
{
	struct stats_snapshot snap;

	if (stats_read(h_stats_file, &snap) != STATS_OK)
		abort();
	return snap.v[id];
}

static H_UNUSED int
h_teardown(void **state)
{
	ev_timer_stop(EV_DEFAULT, &h_tick);
	upstream_close_idle();
	conn_reap();
	pstate_free();
	stats_close();
	unlink(h_stats_file);
	rmdir(h_stats_dir);
	return 0;
}

/* The protocol of service api in the next h_config (h_after: "http"). */
static const char *h_api_proto = "http";

/*
 * Apply "instance web v1 0", `limits` (lines, may be ""), service api
 * (h_api_proto) with an endpoint on each of ports[0..n) (instances 0, 1...),
 * `policy` (a `policy api ...` line or ""), "end".  Fails the test if the
 * sidecar refuses it.
 */
static H_UNUSED void
h_config_eps(const char *limits, const uint16_t *ports, size_t neps, const char *policy)
{
	char doc[1024], err[256];
	struct pcfg *cfg;
	size_t i;
	int n;

	n = snprintf(doc, sizeof(doc), "instance web v1 0\n%sservice api %s\n", limits,
	    h_api_proto);
	for (i = 0; i < neps && n > 0 && (size_t)n < sizeof(doc); i++)
		n += snprintf(doc + n, sizeof(doc) - (size_t)n, "endpoint api v1 %zu %u up\n",
		    i, ports[i]);
	if (n > 0 && (size_t)n < sizeof(doc))
		n += snprintf(doc + n, sizeof(doc) - (size_t)n, "%send\n", policy);
	if (n < 0 || (size_t)n >= sizeof(doc) || (cfg = calloc(1, sizeof(*cfg))) == NULL)
		abort();
	if (pcfg_parse(doc, (size_t)n, cfg, err, sizeof(err)) == -1 ||
	    pstate_apply(cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "h_config: %s\n", err);
		abort();
	}
}

/* The same with one endpoint. */
static H_UNUSED void
h_config(const char *limits, uint16_t port, const char *policy)
{
	h_config_eps(limits, &port, 1, policy);
}

/* ---- ports that refuse ------------------------------------------------ */

#define H_REFUSING 3
static int h_refusing[H_REFUSING];   /* 0: free slot */

/* A loopback port bound by this process and never listened on: every
 * connect to it is refused, and no one else can take it meanwhile. */
static H_UNUSED uint16_t
h_refusing_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int i;

	for (i = 0; i < H_REFUSING && h_refusing[i] != 0; i++)
		;
	if (i == H_REFUSING)
		abort();
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h_refusing[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h_refusing[i] == -1 || bind(h_refusing[i], (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(h_refusing[i], (struct sockaddr *)&sin, &len) == -1)
		abort();
	return ntohs(sin.sin_port);
}

/* A loopback port free right now (for a listener the config opens). */
static H_UNUSED uint16_t
h_free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		abort();
	close(fd);
	return ntohs(sin.sin_port);
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
	FAKE_ECHO,   /* answer each request with 200 and its path as the body */
	FAKE_RESET,  /* reset the connection (RST) a request head came on */
	FAKE_CLOSE,  /* close it (FIN) instead, the request unanswered */
	FAKE_HOLD,   /* take every byte, answer nothing (fake_release: answer now) */
	FAKE_NOT_READY, /* answer as a sidecar whose app refused: 503 mesh-error:
	                   app not ready, then close (the body unread) */
	FAKE_RAW,    /* answer each request head with the bytes of `raw`, as
	                they are (a misbehaving app), the body unread */
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
	unsigned        requests;   /* request heads seen (not HOLD) */
	unsigned        eofs;       /* connections the sidecar closed */
	unsigned        failed;     /* requests FAKE_RESET, FAKE_CLOSE, FAKE_NOT_READY ended */
	int             once;       /* after one of those, FAKE_ECHO */
	uint64_t        bytes;      /* bytes received, heads and bodies */
	uint64_t        body_bytes; /* bytes of the bodies of the requests answered 200 */
	char            body[64];   /* the start of the last such body */
	const char     *raw;        /* FAKE_RAW: the answer, raw_len bytes */
	size_t          raw_len;
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

/* The content-length of a request head of hl bytes (0 when none). */
static size_t
fake_body_len(const char *p, size_t hl)
{
	const char *line = p, *eol;

	while ((eol = memchr(line, '\n', (size_t)(p + hl - line))) != NULL) {
		if (strncasecmp(line, "content-length:", 15) == 0)
			return strtoul(line + 15, NULL, 10);
		line = eol + 1;
	}
	return 0;
}

/* Answer the complete requests in l->in (a content-length body is waited
 * for, up to what fits in l->in); 0 when the leg is gone. */
static int
fake_serve(struct fake_leg *l)
{
	static const char not_ready[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "mesh-error: app not ready\r\ncontent-length: 14\r\nconnection: close\r\n"
	    "\r\napp not ready\n";
	struct fake_app *a = l->app;
	char out[512], path[128];
	const char *end, *sp;
	size_t hl, pl, bl;
	int n;

	while ((end = memmem(l->in, l->len, "\r\n\r\n", 4)) != NULL) {
		hl = (size_t)(end - l->in) + 4;
		bl = fake_body_len(l->in, hl);
		if (a->mode == FAKE_ECHO && l->len < hl + bl && hl + bl <= sizeof(l->in))
			return 1;
		a->requests++;
		if (a->mode == FAKE_RAW) {
			if (write(l->fd, a->raw, a->raw_len) != (ssize_t)a->raw_len)
				abort();
			memmove(l->in, l->in + hl, l->len - hl);
			l->len -= hl;
			continue;
		}
		if (a->mode == FAKE_RESET || a->mode == FAKE_CLOSE || a->mode == FAKE_NOT_READY) {
			a->failed++;
			if (a->mode == FAKE_NOT_READY &&
			    write(l->fd, not_ready, sizeof(not_ready) - 1) != sizeof(not_ready) - 1)
				abort();
			fake_leg_close(l, a->mode == FAKE_RESET);
			if (a->once)
				a->mode = FAKE_ECHO;
			return 0;
		}
		if (bl > l->len - hl)
			bl = l->len - hl;
		a->body_bytes += bl;
		snprintf(a->body, sizeof(a->body), "%.*s", (int)bl, l->in + hl);
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
		hl += bl;
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

#define H_APPS 2
static struct fake_app h_apps[H_APPS];

/* A fake app of the test, H_APPS at most (h_after closes them). */
static H_UNUSED struct fake_app *
fake_open(enum fake_mode mode)
{
	struct fake_app *a = h_apps;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int i;

	while (a->fd > 0)
		if (++a == h_apps + H_APPS)
			abort();

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
	for (i = 0; i < H_APPS; i++)
		if (h_apps[i].fd > 0)
			fake_close(&h_apps[i]);
	for (i = 0; i < H_REFUSING; i++)
		if (h_refusing[i] != 0) {
			close(h_refusing[i]);
			h_refusing[i] = 0;
		}
	H_RUN_UNTIL(conn_count() == 0);
	upstream_close_idle();
	conn_reap();
	h_api_proto = "http";
	return conn_count() == 0 ? 0 : -1;
}

#endif
