/* SPDX-License-Identifier: ISC */
/*
 * metrics: the HTTP/1.1 server of meshd's /metrics (include/mesh/metrics.h).
 *
 * One request per connection, answered with Connection: close: Prometheus
 * scrapes once every few seconds, so a new connection per scrape costs
 * nothing and no idle keep-alive state has to be bounded.
 *
 * A client's states, each with its own deadline on the one timer:
 *   READ    reading the request head (at most METRICS_HEAD_MAX bytes,
 *           within METRICS_READ_TIMEOUT of the accept); the whole head is
 *           parsed by the mesh's strict parser (http.h) as bytes arrive
 *   WRITE   sending the response from its buffer without blocking
 *           (EV_WRITE when the socket is full), within METRICS_WRITE_TIMEOUT
 *   LINGER  response sent and our side shut down; bytes the client still
 *           sends are read and dropped until its EOF or METRICS_LINGER s,
 *           so closing never turns into a reset that loses the response
 * Every exit goes through metrics_client_close().  At METRICS_CLIENTS_MAX
 * clients the accept watcher stops (more wait in the kernel's backlog)
 * and restarts when one closes; on EMFILE and the like it pauses for a
 * second instead of spinning.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "mesh/container_of.h"
#include "mesh/http.h"
#include "mesh/log.h"
#include "mesh/metrics.h"

#define METRICS_LINGER     2.0
#define METRICS_ADDR_MAX   80
#define METRICS_MAX_HEADERS 64

enum metrics_cstate { MC_READ, MC_WRITE, MC_LINGER };

struct metrics_client {
	struct metrics_srv *srv;
	size_t              slot;          /* index in srv->clients */
	int                 fd;
	enum metrics_cstate state;
	ev_io               io;
	ev_timer            timer;         /* the deadline of the state */
	char               *out;           /* the whole response (malloc'd) */
	size_t              outlen, outoff;
	size_t              inlen;
	char                in[METRICS_HEAD_MAX + 1];  /* +1: over the limit is 431 */
};

struct metrics_srv {
	struct ev_loop        *loop;       /* NULL until metrics_srv_start */
	int                    fd;
	unsigned               port;
	ev_io                  accept_io;
	ev_timer               pause;      /* accept paused after EMFILE */
	metrics_render_fn      render;
	void                  *arg;
	struct metrics_client *clients[METRICS_CLIENTS_MAX];
	size_t                 nclients;
	char                   addr[METRICS_ADDR_MAX];
};

static void metrics_client_cb(struct ev_loop *loop, ev_io *w, int revents);

/* HOST:PORT into a socket address; -1 when it is not one. */
static int
metrics_parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	const char *colon = strrchr(addr, ':');
	char host[64], *end;
	unsigned long port;
	size_t hlen;

	if (colon == NULL || (hlen = (size_t)(colon - addr)) >= sizeof(host))
		return -1;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port > 65535)
		return -1;
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (hlen > 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) == 1 ? 0 : -1;
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	*len = sizeof(*sin);
	if (strcmp(host, "localhost") == 0) {
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return 0;
	}
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

struct metrics_srv *
metrics_srv_open(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct metrics_srv *s;
	int one = 1, saved;

	if (strlen(addr) >= METRICS_ADDR_MAX || metrics_parse_addr(addr, &ss, &len) == -1) {
		snprintf(err, errlen, "%s: not an address HOST:PORT", addr);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", addr);
		return NULL;
	}
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	s->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1)
		goto fail;
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(s->fd, (struct sockaddr *)&ss, len) == -1 || listen(s->fd, 64) == -1)
		goto fail;
	len = sizeof(ss);
	if (getsockname(s->fd, (struct sockaddr *)&ss, &len) == 0)
		s->port = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
	return s;
fail:
	saved = errno;
	if (saved == EADDRINUSE)
		snprintf(err, errlen, "%s is already in use", addr);
	else
		snprintf(err, errlen, "%s: %s", addr, strerror(saved));
	if (s->fd != -1)
		close(s->fd);
	free(s);
	return NULL;
}

unsigned
metrics_srv_port(const struct metrics_srv *s)
{
	return s->port;
}

/* The one teardown path of a client. */
static void
metrics_client_close(struct metrics_client *c)
{
	struct metrics_srv *s = c->srv;

	ev_io_stop(s->loop, &c->io);
	ev_timer_stop(s->loop, &c->timer);
	close(c->fd);
	free(c->out);
	s->clients[c->slot] = NULL;
	s->nclients--;
	free(c);
	if (s->fd != -1 && !ev_is_active(&s->pause))
		ev_io_start(s->loop, &s->accept_io);
}

static void
metrics_client_deadline(struct metrics_client *c, double secs)
{
	ev_timer_stop(c->srv->loop, &c->timer);
	ev_timer_set(&c->timer, secs, 0.);
	ev_timer_start(c->srv->loop, &c->timer);
}

static void
metrics_client_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct metrics_client *c = container_of(w, struct metrics_client, timer);

	(void)loop;
	(void)revents;
	if (c->state != MC_LINGER)
		log_debug("metrics %s: client dropped: %s timed out", c->srv->addr,
		    c->state == MC_READ ? "request" : "response");
	metrics_client_close(c);
}

/* Set the response: status, extra header lines, body (len bytes); the
 * body is left out for HEAD.  0 / -1 (out of memory). */
static int
metrics_respond(struct metrics_client *c, int status, const char *extra,
    const char *type, const char *body, size_t len, int head_only)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%sConnection: close\r\n\r\n", status,
	    http_status_text(status), type, len, extra);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	if (head_only)
		len = 0;
	if ((c->out = malloc((size_t)n + len)) == NULL)
		return -1;
	memcpy(c->out, head, (size_t)n);
	if (len != 0)
		memcpy(c->out + n, body, len);
	c->outlen = (size_t)n + len;
	c->outoff = 0;
	return 0;
}

static int
metrics_respond_text(struct metrics_client *c, int status, const char *extra,
    const char *text, int head_only)
{
	return metrics_respond(c, status, extra, "text/plain; charset=utf-8", text,
	    strlen(text), head_only);
}

/* GET or HEAD /metrics: the render's body, or 500. */
static int
metrics_respond_metrics(struct metrics_client *c, int head_only)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f;
	int rc = -1;

	if ((f = open_memstream(&body, &len)) != NULL) {
		rc = c->srv->render(f, c->srv->arg);
		if (fclose(f) != 0)
			rc = -1;
	}
	if (rc == 0 && len > METRICS_BODY_MAX)
		rc = -1;
	if (rc == 0)
		rc = metrics_respond(c, 200, "", METRICS_CONTENT_TYPE, body, len, head_only);
	else {
		log_warnx("metrics %s: cannot render the metrics", c->srv->addr);
		rc = metrics_respond_text(c, 500, "", "cannot render the metrics\n", head_only);
	}
	free(body);
	return rc;
}

/* The head is complete (or refused): choose the response. */
static int
metrics_dispatch(struct metrics_client *c, int parsed, const struct http_request *req)
{
	int head_only;
	size_t plen;

	if (parsed == HTTP_ERROR) {
		char text[128];

		snprintf(text, sizeof(text), "%s\n", req->reason != NULL ? req->reason : "bad request");
		return metrics_respond_text(c, req->status, "", text, 0);
	}
	head_only = req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0;
	if (!head_only && !(req->method_len == 3 && memcmp(req->method, "GET", 3) == 0))
		return metrics_respond_text(c, 405, "Allow: GET, HEAD\r\n",
		    "only GET and HEAD\n", 0);
	/* the path without a query string */
	for (plen = 0; plen < req->path_len && req->path[plen] != '?'; plen++)
		;
	if (plen != strlen("/metrics") || memcmp(req->path, "/metrics", plen) != 0)
		return metrics_respond_text(c, 404, "", "not found: try /metrics\n", head_only);
	return metrics_respond_metrics(c, head_only);
}

static void
metrics_client_write(struct metrics_client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_stop(c->srv->loop, &c->io);
			ev_io_set(&c->io, c->fd, EV_WRITE);
			ev_io_start(c->srv->loop, &c->io);
			return;
		}
		if (n == -1) {
			metrics_client_close(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	/* all sent: end our side, then drain until the client's EOF */
	free(c->out);
	c->out = NULL;
	shutdown(c->fd, SHUT_WR);
	c->state = MC_LINGER;
	ev_io_stop(c->srv->loop, &c->io);
	ev_io_set(&c->io, c->fd, EV_READ);
	ev_io_start(c->srv->loop, &c->io);
	metrics_client_deadline(c, METRICS_LINGER);
}

static void
metrics_client_read(struct metrics_client *c)
{
	static const struct http_limits lim = {
		METRICS_HEAD_MAX, METRICS_HEAD_MAX, METRICS_MAX_HEADERS
	};
	struct http_request req;
	ssize_t n;
	int rc;

	n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		metrics_client_close(c);   /* gone before a whole request */
		return;
	}
	c->inlen += (size_t)n;
	memset(&req, 0, sizeof(req));
	rc = http_parse_request(c->in, c->inlen, &lim, &req);
	if (rc == HTTP_INCOMPLETE && c->inlen < sizeof(c->in))
		return;
	if (rc == HTTP_INCOMPLETE) {   /* the parser's limit should have said so */
		rc = HTTP_ERROR;
		req.status = 431;
		req.reason = "header too large";
	}
	if (metrics_dispatch(c, rc, &req) == -1) {
		metrics_client_close(c);
		return;
	}
	c->state = MC_WRITE;
	metrics_client_deadline(c, METRICS_WRITE_TIMEOUT);
	metrics_client_write(c);
}

static void
metrics_client_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct metrics_client *c = container_of(w, struct metrics_client, io);
	char sink[1024];
	ssize_t n;

	(void)loop;
	(void)revents;
	switch (c->state) {
	case MC_READ:
		metrics_client_read(c);
		break;
	case MC_WRITE:
		metrics_client_write(c);
		break;
	case MC_LINGER:
		n = read(c->fd, sink, sizeof(sink));
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			metrics_client_close(c);
		break;
	}
}

static void
metrics_accept_one(struct metrics_srv *s, int fd)
{
	struct metrics_client *c;
	size_t i;

	for (i = 0; i < METRICS_CLIENTS_MAX && s->clients[i] != NULL; i++)
		;
	if (i == METRICS_CLIENTS_MAX || (c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->srv = s;
	c->slot = i;
	c->fd = fd;
	c->state = MC_READ;
	s->clients[i] = c;
	s->nclients++;
	ev_io_init(&c->io, metrics_client_cb, fd, EV_READ);
	ev_io_start(s->loop, &c->io);
	ev_timer_init(&c->timer, metrics_client_timeout_cb, METRICS_READ_TIMEOUT, 0.);
	ev_timer_start(s->loop, &c->timer);
}

static void
metrics_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct metrics_srv *s = container_of(w, struct metrics_srv, accept_io);
	int fd;

	(void)revents;
	while (s->nclients < METRICS_CLIENTS_MAX) {
		fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1) {
			metrics_accept_one(s, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		/* EMFILE, ENFILE, ENOBUFS, ENOMEM: pause rather than spin */
		log_warn("metrics %s: accept (paused 1 s)", s->addr);
		ev_io_stop(loop, &s->accept_io);
		ev_timer_set(&s->pause, 1.0, 0.);
		ev_timer_start(loop, &s->pause);
		return;
	}
	ev_io_stop(loop, &s->accept_io);   /* full: metrics_client_close restarts it */
}

static void
metrics_pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct metrics_srv *s = container_of(w, struct metrics_srv, pause);

	(void)revents;
	if (s->nclients < METRICS_CLIENTS_MAX)
		ev_io_start(loop, &s->accept_io);
}

void
metrics_srv_start(struct metrics_srv *s, struct ev_loop *loop,
    metrics_render_fn render, void *arg)
{
	s->loop = loop;
	s->render = render;
	s->arg = arg;
	ev_io_init(&s->accept_io, metrics_accept_cb, s->fd, EV_READ);
	ev_timer_init(&s->pause, metrics_pause_cb, 1.0, 0.);
	ev_io_start(loop, &s->accept_io);
}

void
metrics_srv_close(struct metrics_srv *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->loop != NULL) {
		ev_io_stop(s->loop, &s->accept_io);
		ev_timer_stop(s->loop, &s->pause);
		close(s->fd);
		s->fd = -1;   /* metrics_client_close must not restart accepting */
		for (i = 0; i < METRICS_CLIENTS_MAX; i++)
			if (s->clients[i] != NULL)
				metrics_client_close(s->clients[i]);
	} else
		close(s->fd);
	free(s);
}
