/* SPDX-License-Identifier: ISC */
/*
 * relay: sides, flows and the pump between them.
 */
#include <errno.h>
#include <string.h>

#include "mesh/relay.h"
#include "mesh/replay.h"
#include "mesh/stats.h"

int
side_open(struct side *s, const struct transport *t, int fd, int server,
          void (*cb)(struct ev_loop *, ev_io *, int))
{
	memset(s, 0, sizeof(*s));
	ev_io_init(&s->io, cb, fd, 0);
	if (tconn_open(&s->tc, t, fd, server) == -1) {
		tconn_close(&s->tc);
		return -1;
	}
	return 0;
}

void
side_close(struct ev_loop *loop, struct side *s)
{
	ev_io_stop(loop, &s->io);
	s->armed = 0;
	tconn_close(&s->tc);
	buf_put(s->in);
	s->in = NULL;
}

void
side_arm(struct ev_loop *loop, struct side *s, int want_read, int want_write)
{
	unsigned ev = (want_read ? s->tc.rwant : 0) | (want_write ? s->tc.wwant : 0);

	if (ev == s->armed)
		return;
	if (s->armed != 0)
		ev_io_stop(loop, &s->io);
	s->armed = ev;
	if (ev != 0) {
		ev_io_set(&s->io, s->tc.fd, (int)ev);
		ev_io_start(loop, &s->io);
	}
}

void
side_event(struct side *s, int revents)
{
	/* Which wish the event serves depends on what the transport asked
	 * for; with plain TCP that is simply READ -> read, WRITE -> write. */
	if ((unsigned)revents & s->tc.rwant & s->armed)
		s->readable = 1;
	if ((unsigned)revents & s->tc.wwant & s->armed)
		s->wblocked = 0;
}

void
side_trim(struct side *s)
{
	if (s->in != NULL && s->in->len == 0) {
		buf_put(s->in);
		s->in = NULL;
	}
}

int
side_has_room(const struct side *s)
{
	return s->in == NULL || buf_free_total(s->in) > 0;
}

int
side_fill(struct side *s)
{
	size_t room;
	ssize_t n;

	if (s->in == NULL && (s->in = buf_get()) == NULL) {
		s->err = 1;
		s->errnum = ENOMEM;
		return -1;
	}
	if (buf_room(s->in) == 0)
		buf_compact(s->in);
	room = buf_room(s->in);
	if (room == 0)
		return 0;
	n = tconn_read(&s->tc, buf_tail(s->in), room);
	if (n > 0) {
		stats_add(STAT_BYTES_IN, (uint64_t)n);
		buf_commit(s->in, (size_t)n);
		/* A short read almost always drained the socket: skip the
		 * read that would only say EAGAIN; the level-triggered
		 * watcher tells us if more came. */
		if ((size_t)n < room && tconn_pending(&s->tc) == 0)
			s->readable = 0;
		return 1;
	}
	if (n == 0) {
		s->eof = 1;
		s->readable = 0;
		side_trim(s);
		return -1;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		s->readable = 0;
		side_trim(s);
		return 0;
	}
	s->err = 1;
	s->errnum = errno;
	s->readable = 0;
	return -1;
}

long
side_send(struct side *dst, struct buf *head, struct buf *src, size_t n)
{
	struct iovec iov[2];
	size_t hl = head != NULL ? head->len : 0, total;
	ssize_t w;
	int cnt = 0;

	if (hl > 0)
		iov[cnt++] = (struct iovec){ buf_head(head), hl };
	if (n > 0)
		iov[cnt++] = (struct iovec){ buf_head(src), n };
	if (cnt == 0)
		return 0;
	total = hl + n;
	w = tconn_writev(&dst->tc, iov, cnt);
	if (w > 0)
		stats_add(STAT_BYTES_OUT, (uint64_t)w);
	if (w == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			dst->wblocked = 1;
			return 0;
		}
		dst->err = 1;
		dst->errnum = errno;
		return -1;
	}
	if ((size_t)w < total)
		dst->wblocked = 1;
	if (hl > 0) {
		size_t h = (size_t)w < hl ? (size_t)w : hl;

		buf_consume(head, h);
		w -= (ssize_t)h;
	}
	if (w > 0)
		buf_consume(src, (size_t)w);
	return (long)w;
}

enum relay_kind
relay_kind_from_http(enum http_body b)
{
	switch (b) {
	case HTTP_BODY_LENGTH:  return RELAY_LENGTH;
	case HTTP_BODY_CHUNKED: return RELAY_CHUNKED;
	case HTTP_BODY_EOF:     return RELAY_EOF;
	default:                return RELAY_NONE;
	}
}

int
flow_start(struct flow *f, enum relay_kind kind, uint64_t length,
           const struct http_limits *lim, struct side *src)
{
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->remaining = length;
	if (kind == RELAY_CHUNKED)
		http_chunked_init(&f->ch, lim);
	if (kind == RELAY_NONE || (kind == RELAY_LENGTH && length == 0))
		f->done = 1;
	return flow_scan(f, src);
}

int
flow_scan(struct flow *f, struct side *src)
{
	size_t avail;
	long n;
	int end = 0;

	if (f->done || src->in == NULL)
		return 0;
	avail = src->in->len - f->ready;
	if (avail == 0)
		return 0;
	switch (f->kind) {
	case RELAY_NONE:
		f->done = 1;
		break;
	case RELAY_LENGTH:
		if (avail > f->remaining)
			avail = (size_t)f->remaining;
		f->ready += avail;
		f->remaining -= avail;
		if (f->remaining == 0)
			f->done = 1;
		break;
	case RELAY_CHUNKED:
		n = http_chunked_scan(&f->ch, buf_head(src->in) + f->ready, avail, &end);
		if (n < 0)
			return -1;
		f->ready += (size_t)n;
		if (end)
			f->done = 1;
		break;
	case RELAY_EOF:
	case RELAY_TUNNEL:
		f->ready += avail;
		break;
	}
	return 0;
}

enum relay_result
relay_pump(struct side *src, struct side *dst, struct flow *f, struct buf *head, int may_read)
{
	long w;
	int r;

	for (;;) {
		size_t hl = head != NULL ? head->len : 0;

		if ((hl > 0 || f->ready > 0) && !dst->wblocked) {
			size_t offered = f->ready;

			/* keep what may have to go again (a retry), less what
			 * the socket did not take */
			if (f->tap != NULL && offered > 0)
				replay_tap(f->tap, buf_head(src->in), offered);
			w = side_send(dst, head, src->in, f->ready);
			if (f->tap != NULL && offered > 0)
				replay_untap(f->tap, offered - (w > 0 ? (size_t)w : 0));
			if (w == -1)
				return RELAY_DST_ERR;
			f->ready -= (size_t)w;
			f->sent += (uint64_t)w;
			hl = head != NULL ? head->len : 0;
			if (f->ready == 0 && !src->eof)
				side_trim(src);
		}
		if (f->done && f->ready == 0 && hl == 0) {
			if (f->kind == RELAY_TUNNEL && !dst->shut) {
				dst->shut = 1;
				tconn_shutdown(&dst->tc);
			}
			return RELAY_DONE;
		}
		if (!may_read || f->done || src->eof || !src->readable || !side_has_room(src))
			return RELAY_AGAIN;
		r = side_fill(src);
		if (r == 0)
			return RELAY_AGAIN;
		if (r == -1) {
			if (src->err)
				return RELAY_SRC_ERR;
			if (f->kind == RELAY_EOF || f->kind == RELAY_TUNNEL) {
				f->done = 1;
				continue;
			}
			return RELAY_SRC_EOF;
		}
		if (flow_scan(f, src) == -1)
			return RELAY_BAD;
	}
}
