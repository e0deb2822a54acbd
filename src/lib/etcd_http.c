/* SPDX-License-Identifier: ISC */
/*
 * etcd_http: one POST to the gateway and its response, on the loop.
 *
 *   IDLE --post--> CONNECTING --connected--> [HANDSHAKE (https)] --> WRITING
 *   WRITING --all sent--> READING --body ended, keep-alive--> KEPT --post--> WRITING
 *   READING --body ended, close--> IDLE
 *   any failure or the deadline --> IDLE, done(err)
 *
 * The deadline (ETCD_CONNECT_TIMEOUT_S while connecting, then
 * ETCD_REQUEST_TIMEOUT_S from the start) covers a whole unary exchange; a
 * stream (the watch) has it until its first object only.  The head is
 * parsed by the strict response parser (http.h); the body goes through
 * etcd_frame, each JSON object to msg() as it completes.  A callback may
 * reset or reuse h: `gen` tells the reader to stop.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mesh/http.h"
#include "etcd_int.h"

static void etcd_http_io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void etcd_http_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

void
etcd_http_init(struct etcd_http *h, struct ev_loop *loop)
{
	memset(h, 0, sizeof(*h));
	h->loop = loop;
	h->fd = -1;
	ev_init(&h->io, etcd_http_io_cb);
	ev_init(&h->timer, etcd_http_timer_cb);
	h->io.data = h->timer.data = h;
}

void
etcd_http_reset(struct etcd_http *h)
{
	ev_io_stop(h->loop, &h->io);
	ev_timer_stop(h->loop, &h->timer);
	if (h->ssl != NULL)
		etcd_tls_session_free(h->ssl);
	h->ssl = NULL;
	if (h->fd != -1)
		close(h->fd);
	h->fd = -1;
	free(h->req);
	h->req = NULL;
	/* not the frame's buffer: a msg() callback may still be reading the
	 * object in it (freed by the next post, or etcd_http_free) */
	h->state = ETCD_HTTP_IDLE;
	h->gen++;
}

void
etcd_http_free(struct etcd_http *h)
{
	etcd_http_reset(h);
	etcd_frame_free(&h->fr);
}

int
etcd_http_busy(const struct etcd_http *h)
{
	return h->state != ETCD_HTTP_IDLE && h->state != ETCD_HTTP_KEPT;
}

static void
etcd_http_want(struct etcd_http *h, int events)
{
	ev_io_stop(h->loop, &h->io);
	ev_io_set(&h->io, h->fd, events);
	ev_io_start(h->loop, &h->io);
}

/* The one way an exchange ends. */
static void
etcd_http_finish(struct etcd_http *h, const char *err)
{
	ev_timer_stop(h->loop, &h->timer);
	if (err == NULL && h->keep) {
		ev_io_stop(h->loop, &h->io);
		free(h->req);
		h->req = NULL;
		etcd_frame_free(&h->fr);
		h->state = ETCD_HTTP_KEPT;
		h->gen++;
	} else {
		etcd_http_reset(h);
	}
	if (h->done != NULL)
		h->done(h, err);
}

/* "URL: POST path: [op: ]what" */
static void
etcd_http_fail(struct etcd_http *h, const char *op, const char *what)
{
	char msg[sizeof(h->err)];

	snprintf(msg, sizeof(msg), "%s: POST %s: %s%s%s", h->ep->url, h->path,
	    op != NULL ? op : "", op != NULL ? ": " : "", what);
	memcpy(h->err, msg, sizeof(h->err));
	etcd_http_finish(h, h->err);
}

/* A kept connection the server has not closed (nor sent junk on). */
static int
etcd_http_alive(struct etcd_http *h)
{
	char c;
	ssize_t n = recv(h->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

int
etcd_http_post(struct etcd_http *h, const struct etcd_ep *ep, const char *path,
    const char *body, size_t len, int stream)
{
	size_t cap = len + sizeof(h->head);
	int n, one = 1;

	if (etcd_http_busy(h))
		return -1;
	if (h->state == ETCD_HTTP_KEPT && (h->ep != ep || !etcd_http_alive(h)))
		etcd_http_reset(h);
	free(h->req);
	if ((h->req = malloc(cap)) == NULL)
		return -1;
	n = snprintf(h->req, cap, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: meshd/"
	    MESH_VERSION "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
	    path, ep->hostport, len);
	if (n < 0 || (size_t)n + len > cap) {
		free(h->req);
		h->req = NULL;
		return -1;
	}
	memcpy(h->req + n, body, len);
	h->req_len = (size_t)n + len;
	h->sent = 0;
	h->ep = ep;
	snprintf(h->path, sizeof(h->path), "%s", path);
	h->stream = stream;
	h->head_len = 0;
	h->status = 0;
	h->keep = 0;
	h->got = 0;
	etcd_frame_free(&h->fr);
	memset(&h->fr, 0, sizeof(h->fr));
	ev_timer_set(&h->timer, ETCD_REQUEST_TIMEOUT_S, 0.);
	ev_timer_start(h->loop, &h->timer);
	if (h->state == ETCD_HTTP_KEPT) {
		h->state = ETCD_HTTP_WRITING;
		etcd_http_want(h, EV_WRITE);
		return 0;
	}
	h->fd = socket(ep->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd == -1) {
		snprintf(h->err, sizeof(h->err), "%s: socket: %s", ep->url, strerror(errno));
	} else {
		(void)setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(h->fd, (const struct sockaddr *)&ep->addr, ep->addr_len) == 0 ||
		    errno == EINPROGRESS) {
			h->state = ETCD_HTTP_CONNECTING;
			ev_timer_stop(h->loop, &h->timer);
			ev_timer_set(&h->timer, ETCD_CONNECT_TIMEOUT_S, 0.);
			ev_timer_start(h->loop, &h->timer);
			etcd_http_want(h, EV_WRITE);
			return 0;
		}
		snprintf(h->err, sizeof(h->err), "%s: connect: %s", ep->url, strerror(errno));
	}
	/* done must not run inside post(): report from the loop */
	if (h->fd != -1)
		close(h->fd);
	h->fd = -1;
	h->state = ETCD_HTTP_CONNECTING;
	ev_timer_stop(h->loop, &h->timer);
	ev_timer_set(&h->timer, 0., 0.);
	ev_timer_start(h->loop, &h->timer);
	return 0;
}

static void
etcd_http_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct etcd_http *h = w->data;

	if (h->state == ETCD_HTTP_CONNECTING && h->fd == -1) {
		etcd_http_finish(h, h->err);
	} else if (h->state == ETCD_HTTP_CONNECTING) {
		etcd_http_fail(h, NULL, "connect timed out");
	} else {
		char what[64];

		snprintf(what, sizeof(what), "no response within %.0f s", ETCD_REQUEST_TIMEOUT_S);
		etcd_http_fail(h, NULL, what);
	}
}

static long
etcd_http_io(struct etcd_http *h, int wr, void *buf, size_t n)
{
	int ev = 0;
	long r;

	if (h->ssl == NULL)
		return wr ? (long)send(h->fd, buf, n, MSG_NOSIGNAL) : (long)read(h->fd, buf, n);
	r = wr ? etcd_tls_write(h->ssl, buf, n, &ev, h->err, sizeof(h->err)) :
	    etcd_tls_read(h->ssl, buf, n, &ev, h->err, sizeof(h->err));
	if (r == -1 && errno == EAGAIN)
		etcd_http_want(h, ev);
	return r;
}

static void
etcd_http_write(struct etcd_http *h)
{
	long n;

	while (h->sent < h->req_len) {
		n = etcd_http_io(h, 1, h->req + h->sent, h->req_len - h->sent);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0) {
			etcd_http_fail(h, "write",
			    h->ssl != NULL ? h->err : strerror(errno));
			return;
		}
		h->sent += (size_t)n;
	}
	h->state = ETCD_HTTP_READING;
	etcd_http_want(h, EV_READ);
}

static int
etcd_http_obj(void *arg, const char *json, size_t len)
{
	struct etcd_http *h = arg;
	unsigned gen = h->gen;

	if (h->stream && !h->got)
		ev_timer_stop(h->loop, &h->timer);   /* the stream is open */
	h->got++;
	if (h->msg != NULL)
		h->msg(h, h->status, json, len);
	return gen != h->gen;
}

/* Body bytes: 1 the response ended or h was reset by a callback, 0 more. */
static int
etcd_http_body(struct etcd_http *h, const char *p, size_t n)
{
	unsigned gen = h->gen;
	int rc = etcd_frame_feed(&h->fr, p, n, etcd_http_obj, h);

	if (gen != h->gen || rc == 2)
		return 1;
	if (rc == -1) {
		etcd_http_fail(h, NULL, h->fr.err);
		return 1;
	}
	if (rc == 1) {
		etcd_http_finish(h, NULL);
		return 1;
	}
	return 0;
}

/* The response head in h->head: 1 parsed (rest fed), 0 more, -1 failed. */
static int
etcd_http_head(struct etcd_http *h)
{
	struct http_response *res = malloc(sizeof(*res));
	int rc;

	if (res == NULL) {
		etcd_http_fail(h, NULL, "out of memory");
		return -1;
	}
	rc = http_parse_response(h->head, h->head_len, NULL, 0, res);
	if (rc == HTTP_INCOMPLETE) {
		free(res);
		return 0;
	}
	if (rc == HTTP_ERROR || res->body == HTTP_BODY_EOF || res->code < 200) {
		char what[96];

		snprintf(what, sizeof(what), "bad response: %s", rc == HTTP_ERROR ?
		    res->reason : res->code < 200 ? "an interim status" : "no length");
		free(res);
		etcd_http_fail(h, NULL, what);
		return -1;
	}
	h->status = res->code;
	h->keep = (res->flags & HTTP_F_KEEPALIVE) != 0 && !h->stream;
	etcd_frame_init(&h->fr, res->body == HTTP_BODY_CHUNKED,
	    res->body == HTTP_BODY_LENGTH ? res->content_length : 0, ETCD_RESP_MAX);
	free(res);
	if (h->fr.done) {
		etcd_http_finish(h, NULL);
		return -1;
	}
	return etcd_http_body(h, h->head + rc, h->head_len - (size_t)rc) ? -1 : 1;
}

static void
etcd_http_read(struct etcd_http *h)
{
	char buf[16384];
	long n;
	int i;

	/* bounded per wakeup: a fast stream does not starve the loop */
	for (i = 0; i < 64; i++) {
		if (h->status == 0)
			n = etcd_http_io(h, 0, h->head + h->head_len, sizeof(h->head) - h->head_len);
		else
			n = etcd_http_io(h, 0, buf, sizeof(buf));
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n == -1) {
			etcd_http_fail(h, "read",
			    h->ssl != NULL ? h->err : strerror(errno));
			return;
		}
		if (n == 0) {
			etcd_http_fail(h, NULL, h->status == 0 ?
			    "closed without a response" : "closed in the middle of the response");
			return;
		}
		if (h->status == 0) {
			h->head_len += (size_t)n;
			if (etcd_http_head(h) != 0)
				return;
			if (h->head_len == sizeof(h->head)) {
				etcd_http_fail(h, NULL, "response head too large");
				return;
			}
		} else if (etcd_http_body(h, buf, (size_t)n)) {
			return;
		}
	}
}

static void
etcd_http_handshake(struct etcd_http *h)
{
	int ev = 0, rc = etcd_tls_handshake(h->ssl, &ev, h->err, sizeof(h->err));

	if (rc == 1) {
		h->state = ETCD_HTTP_WRITING;
		etcd_http_write(h);
	} else if (rc == 0) {
		etcd_http_want(h, ev);
	} else {
		char what[sizeof(h->err)];

		memcpy(what, h->err, sizeof(what));
		etcd_http_fail(h, "TLS", what);
	}
}

static void
etcd_http_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct etcd_http *h = w->data;
	int e = 0;
	socklen_t el = sizeof(e);

	switch (h->state) {
	case ETCD_HTTP_CONNECTING:
		if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &e, &el) == -1)
			e = errno;
		if (e != 0) {
			etcd_http_fail(h, "connect", strerror(e));
			return;
		}
		ev_timer_stop(h->loop, &h->timer);
		ev_timer_set(&h->timer, ETCD_REQUEST_TIMEOUT_S, 0.);
		ev_timer_start(h->loop, &h->timer);
		if (h->ep->tls) {
			if (h->tls == NULL ||
			    (h->ssl = etcd_tls_session(h->tls, h->fd, h->ep->host)) == NULL) {
				etcd_http_fail(h, "TLS", h->tls == NULL ?
				    "no CA given for an https endpoint" : "no session (out of memory)");
				return;
			}
			h->state = ETCD_HTTP_HANDSHAKE;
			etcd_http_handshake(h);
			return;
		}
		h->state = ETCD_HTTP_WRITING;
		etcd_http_write(h);
		break;
	case ETCD_HTTP_HANDSHAKE:
		etcd_http_handshake(h);
		break;
	case ETCD_HTTP_WRITING:
		etcd_http_write(h);
		break;
	case ETCD_HTTP_READING:
		etcd_http_read(h);
		break;
	default:
		ev_io_stop(h->loop, &h->io);
		break;
	}
}
