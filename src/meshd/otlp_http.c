/* SPDX-License-Identifier: ISC */
/*
 * otlp_http: the exporter's HTTP/1.1 client, one POST at a time, on
 * meshd's loop, never blocking it (otlp.h).
 *
 *   IDLE --post--> CONNECTING --writable--> WRITING --all sent--> READING
 *   READING --head + body read, reusable--> KEPT --post--> WRITING
 *   READING --otherwise--> IDLE (closed)
 *   any failure or the deadline --> IDLE (closed), done(0, why)
 *   a failure inside post() itself --> FAILING, done runs from the loop
 *
 * One timer is the deadline of the whole exchange (OTLP_CONNECT_TIMEOUT_S
 * while connecting, then OTLP_REQUEST_TIMEOUT_S from the start).  A kept
 * connection is only reused when a peek shows the collector has not
 * closed it.  The response body is read and discarded when it has a
 * Content-Length; any other framing closes the connection after the head.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mesh/otlp.h"

#define OTLP_DEFAULT_PATH "/v1/traces"

static void otlp_http_io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void otlp_http_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

/* http://host[:port][/path] into host (no brackets), port, path. */
static int
otlp_http_parse(const char *url, char *host, size_t hsize, unsigned *port,
    char *path, size_t psize, char *err, size_t errlen)
{
	const char *a = url + 7, *end, *hend, *colon = NULL;
	char *e;
	unsigned long p = 80;

	if (strncasecmp(url, "http://", 7) != 0) {
		snprintf(err, errlen, "%s: want an http:// URL (https is not supported)", url);
		return -1;
	}
	end = a + strcspn(a, "/?");
	if (a[0] == '[') {
		if ((hend = memchr(a, ']', (size_t)(end - a))) == NULL) {
			snprintf(err, errlen, "%s: unterminated [IPv6 address]", url);
			return -1;
		}
		a++;
		colon = hend[1] == ':' ? hend + 1 : NULL;
		if (!colon && hend + 1 != end) {
			snprintf(err, errlen, "%s: junk after the ]", url);
			return -1;
		}
	} else {
		colon = memchr(a, ':', (size_t)(end - a));
		hend = colon != NULL ? colon : end;
	}
	if (hend == a || (size_t)(hend - a) >= hsize) {
		snprintf(err, errlen, "%s: %s host", url, hend == a ? "no" : "too long a");
		return -1;
	}
	memcpy(host, a, (size_t)(hend - a));
	host[hend - a] = '\0';
	if (colon != NULL) {
		errno = 0;
		p = strtoul(colon + 1, &e, 10);
		if (e == colon + 1 || e != end || errno != 0 || p == 0 || p > 65535) {
			snprintf(err, errlen, "%s: bad port", url);
			return -1;
		}
	}
	*port = (unsigned)p;
	if (snprintf(path, psize, "%s%s", *end == '?' ? "/" : "",
	    *end == '\0' ? OTLP_DEFAULT_PATH : end) >= (int)psize) {
		snprintf(err, errlen, "%s: path too long", url);
		return -1;
	}
	return 0;
}

int
otlp_http_init(struct otlp_http *h, struct ev_loop *loop, const char *url,
    char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_in *sin = (struct sockaddr_in *)&h->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&h->addr;
	char host[256], portstr[8];
	unsigned port;
	int rc, v6;

	memset(h, 0, sizeof(*h));
	h->fd = -1;
	h->loop = loop;
	ev_init(&h->io, otlp_http_io_cb);
	ev_init(&h->timer, otlp_http_timer_cb);
	h->io.data = h->timer.data = h;
	if (otlp_http_parse(url, host, sizeof(host), &port, h->path, sizeof(h->path),
	    err, errlen) == -1)
		return -1;
	v6 = strchr(host, ':') != NULL;
	snprintf(h->host, sizeof(h->host), v6 ? "[%s]:%u" : "%s:%u", host, port);
	snprintf(h->where, sizeof(h->where), "%s", h->host);
	/* numbers and localhost without a lookup: that one would block */
	if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host,
	    &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		h->addr_len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		h->addr_len = sizeof(*sin6);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if ((rc = getaddrinfo(host, portstr, &hints, &ai)) != 0) {
		snprintf(err, errlen, "%s: %s", h->where, gai_strerror(rc));
		return -1;
	}
	memcpy(&h->addr, ai->ai_addr, ai->ai_addrlen);
	h->addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static void
otlp_http_reset(struct otlp_http *h)
{
	ev_io_stop(h->loop, &h->io);
	ev_timer_stop(h->loop, &h->timer);
	if (h->fd != -1)
		close(h->fd);
	h->fd = -1;
	h->state = OTLP_HTTP_IDLE;
}

void
otlp_http_close(struct otlp_http *h)
{
	otlp_http_reset(h);
	h->done = NULL;
}

/* The one way an exchange ends: report, then keep or close. */
static void
otlp_http_finish(struct otlp_http *h, int status, const char *err)
{
	otlp_http_done_fn *done = h->done;

	ev_timer_stop(h->loop, &h->timer);
	ev_io_stop(h->loop, &h->io);
	if (status != 0 && h->keep && h->fd != -1)
		h->state = OTLP_HTTP_KEPT;
	else
		otlp_http_reset(h);
	h->done = NULL;
	h->body = NULL;
	if (done != NULL)
		done(h, status, err);
}

static void
otlp_http_fail(struct otlp_http *h, const char *what, int e)
{
	if (e != 0)
		snprintf(h->err, sizeof(h->err), "%s: %s", what, strerror(e));
	else
		snprintf(h->err, sizeof(h->err), "%s", what);
	h->keep = 0;
	otlp_http_finish(h, 0, h->err);
}

static void
otlp_http_want(struct otlp_http *h, int events)
{
	ev_io_stop(h->loop, &h->io);
	ev_io_set(&h->io, h->fd, events);
	ev_io_start(h->loop, &h->io);
}

/* A kept connection the collector has not closed (nor sent junk on). */
static int
otlp_http_alive(struct otlp_http *h)
{
	char c;
	ssize_t n = recv(h->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

int
otlp_http_busy(const struct otlp_http *h)
{
	return h->state != OTLP_HTTP_IDLE && h->state != OTLP_HTTP_KEPT;
}

int
otlp_http_post(struct otlp_http *h, const char *body, size_t len,
    otlp_http_done_fn *done)
{
	int n;

	if (otlp_http_busy(h))
		return -1;
	n = snprintf(h->head, sizeof(h->head),
	    "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: meshd/" MESH_VERSION "\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
	    h->path, h->host, len);
	h->head_len = n > 0 && (size_t)n < sizeof(h->head) ? (size_t)n : 0;
	h->body = body;
	h->body_len = len;
	h->sent = 0;
	h->resp_len = 0;
	h->status = 0;
	h->left = -1;
	h->keep = 0;
	h->done = done;
	ev_timer_set(&h->timer, OTLP_REQUEST_TIMEOUT_S, 0.);
	if (h->state == OTLP_HTTP_KEPT && otlp_http_alive(h)) {
		h->state = OTLP_HTTP_WRITING;
		ev_timer_start(h->loop, &h->timer);
		otlp_http_want(h, EV_WRITE);
		return 0;
	}
	otlp_http_reset(h);
	h->fd = socket(h->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd != -1) {
		int one = 1;

		(void)setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(h->fd, (struct sockaddr *)&h->addr, h->addr_len) == 0 ||
		    errno == EINPROGRESS) {
			h->state = OTLP_HTTP_CONNECTING;
			ev_timer_set(&h->timer, OTLP_CONNECT_TIMEOUT_S, 0.);
			ev_timer_start(h->loop, &h->timer);
			otlp_http_want(h, EV_WRITE);
			return 0;
		}
	}
	/* done must not run inside post(): report from the loop */
	snprintf(h->err, sizeof(h->err), "connect to %s: %s", h->where, strerror(errno));
	if (h->fd != -1)
		close(h->fd);
	h->fd = -1;
	h->state = OTLP_HTTP_FAILING;
	ev_timer_set(&h->timer, 0., 0.);
	ev_timer_start(h->loop, &h->timer);
	return 0;
}

static void
otlp_http_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct otlp_http *h = w->data;
	char msg[sizeof(h->err)];

	(void)loop;
	(void)revents;
	if (h->state == OTLP_HTTP_FAILING) {
		memcpy(msg, h->err, sizeof(msg));
		otlp_http_fail(h, msg, 0);
	} else if (h->state == OTLP_HTTP_CONNECTING) {
		snprintf(msg, sizeof(msg), "connect to %s: timed out after %.0f s",
		    h->where, OTLP_CONNECT_TIMEOUT_S);
		otlp_http_fail(h, msg, 0);
	} else {
		snprintf(msg, sizeof(msg), "%s: no response within %.0f s",
		    h->where, OTLP_REQUEST_TIMEOUT_S);
		otlp_http_fail(h, msg, 0);
	}
}

static void
otlp_http_write(struct otlp_http *h)
{
	struct iovec iov[2];
	int niov = 0;
	ssize_t n;

	if (h->sent < h->head_len) {
		iov[niov].iov_base = h->head + h->sent;
		iov[niov++].iov_len = h->head_len - h->sent;
	}
	if (h->body_len > 0) {
		size_t off = h->sent > h->head_len ? h->sent - h->head_len : 0;

		iov[niov].iov_base = (void *)(uintptr_t)(h->body + off);
		iov[niov++].iov_len = h->body_len - off;
	}
	n = writev(h->fd, iov, niov);
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			otlp_http_fail(h, h->where, errno);
		return;
	}
	h->sent += (size_t)n;
	if (h->sent == h->head_len + h->body_len) {
		h->state = OTLP_HTTP_READING;
		otlp_http_want(h, EV_READ);
	}
}

/* The response head in h->resp[0..end): status, framing, keep-alive. */
static int
otlp_http_head(struct otlp_http *h, size_t end)
{
	char *line, *eol, *lim = h->resp + end;
	int minor;

	if (sscanf(h->resp, "HTTP/1.%d %3d", &minor, &h->status) != 2 ||
	    h->status < 100 || h->status > 599)
		return -1;
	h->keep = minor == 1;
	h->left = -1;
	for (line = strstr(h->resp, "\r\n") + 2; line < lim; line = eol + 2) {
		eol = strstr(line, "\r\n");
		if (eol == NULL || eol == line)
			break;
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			h->left = strtoll(line + 15, NULL, 10);
		else if (strncasecmp(line, "Connection:", 11) == 0 &&
		    strcasestr(line + 11, "close") != NULL && strcasestr(line + 11, "close") < eol)
			h->keep = 0;
	}
	if (h->status == 204 || h->status == 304)
		h->left = 0;
	if (h->left < 0)
		h->keep = 0;    /* chunked or until EOF: not worth reading */
	return 0;
}

static void
otlp_http_read(struct otlp_http *h)
{
	char *end;
	ssize_t n;

	for (;;) {
		if (h->status == 0) {
			n = read(h->fd, h->resp + h->resp_len, sizeof(h->resp) - 1 - h->resp_len);
		} else {
			char sink[4096];

			if (h->left <= 0 || !h->keep)
				break;
			n = read(h->fd, sink, (size_t)h->left < sizeof(sink) ?
			    (size_t)h->left : sizeof(sink));
			if (n > 0)
				h->left -= n;
			if (n > 0)
				continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n == -1) {
			otlp_http_fail(h, h->where, errno);
			return;
		}
		if (n == 0) {
			if (h->status != 0)
				break;   /* the body ended early: we have the status */
			otlp_http_fail(h, "collector closed the connection without a response", 0);
			return;
		}
		h->resp_len += (size_t)n;
		h->resp[h->resp_len] = '\0';
		if ((end = strstr(h->resp, "\r\n\r\n")) != NULL) {
			size_t hl = (size_t)(end + 4 - h->resp);

			if (otlp_http_head(h, hl) == -1) {
				otlp_http_fail(h, "malformed response", 0);
				return;
			}
			/* body bytes that came with the head */
			if (h->left >= 0)
				h->left -= (int64_t)(h->resp_len - hl);
			if (h->left < 0)
				h->keep = 0;    /* more than the body: junk */
			continue;
		}
		if (h->resp_len == sizeof(h->resp) - 1) {
			otlp_http_fail(h, "response head too large", 0);
			return;
		}
	}
	if (h->left > 0)
		h->keep = 0;
	otlp_http_finish(h, h->status, NULL);
}

static void
otlp_http_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct otlp_http *h = w->data;
	int e = 0;
	socklen_t el = sizeof(e);

	(void)loop;
	(void)revents;
	switch (h->state) {
	case OTLP_HTTP_CONNECTING:
		if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &e, &el) == -1)
			e = errno;
		if (e != 0) {
			char what[sizeof(h->where) + 16];

			snprintf(what, sizeof(what), "connect to %s", h->where);
			otlp_http_fail(h, what, e);
			return;
		}
		h->state = OTLP_HTTP_WRITING;
		/* from now on, the whole request's deadline */
		ev_timer_stop(h->loop, &h->timer);
		ev_timer_set(&h->timer, OTLP_REQUEST_TIMEOUT_S, 0.);
		ev_timer_start(h->loop, &h->timer);
		otlp_http_write(h);
		break;
	case OTLP_HTTP_WRITING:
		otlp_http_write(h);
		break;
	case OTLP_HTTP_READING:
		otlp_http_read(h);
		break;
	default:
		ev_io_stop(h->loop, &h->io);
		break;
	}
}
