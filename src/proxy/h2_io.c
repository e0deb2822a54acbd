/* SPDX-License-Identifier: ISC */
/*
 * h2_io: one nghttp2 session over one side.  Frames read are fed to
 * nghttp2 from the side's pool buffer; frames nghttp2 produces are staged
 * in a pool buffer and written with one writev, DATA frames copied there
 * straight from their stream's queue (h2io_data).  A session touched by a
 * callback (a window given back, a response submitted on the other leg)
 * is put on the flush list; the prepare watcher flushes every session on
 * it before the loop blocks, then frees the streams and sessions that
 * ended — never from inside a callback of their own.
 */
#include <errno.h>
#include <string.h>

#include "mesh/log.h"
#include "mesh/stats.h"
#include "h2_int.h"

static struct h2io *dirty;
static struct h2s  *dead_streams;
static struct h2u  *dead_ups;
static ev_prepare   flush_w;
static int          flush_started;

static void h2io_flush_cb(struct ev_loop *loop, ev_prepare *w, int revents);

static void
h2io_start(void)
{
	if (flush_started)
		return;
	ev_prepare_init(&flush_w, h2io_flush_cb);
	ev_prepare_start(EV_DEFAULT, &flush_w);
	ev_unref(EV_DEFAULT);   /* the flush alone keeps no loop running */
	flush_started = 1;
}

void
h2io_dirty(struct h2io *io)
{
	h2io_start();
	if (io->dirty)
		return;
	io->dirty = 1;
	io->next_dirty = dirty;
	dirty = io;
}

void
h2_reap_stream(struct h2s *s)
{
	s->next_free = dead_streams;
	dead_streams = s;
	h2io_start();
}

void
h2_reap_up(struct h2u *u)
{
	u->next_dead = dead_ups;
	dead_ups = u;
	h2io_start();
}

static void
h2io_flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct h2io *io;
	struct h2s *s;
	struct h2u *u;
	int rounds;

	(void)loop;
	(void)w;
	(void)revents;
	/* a flush may dirty another session (a window given back): a few
	 * rounds settle it; what is left waits for the next iteration */
	for (rounds = 0; rounds < 8 && dirty != NULL; rounds++) {
		while ((io = dirty) != NULL) {
			dirty = io->next_dirty;
			io->dirty = 0;
			io->next_dirty = NULL;
			io->kick(io);
		}
	}
	while ((s = dead_streams) != NULL) {
		dead_streams = s->next_free;
		h2s_free(s);
	}
	while ((u = dead_ups) != NULL) {
		dead_ups = u->next_dead;
		h2u_free(u);
	}
}

int
h2io_recv(struct h2io *io)
{
	struct side *s = io->s;
	ssize_t n;
	int r;

	for (;;) {
		if (s->in != NULL && s->in->len > 0) {
			n = nghttp2_session_mem_recv(io->ng, (const uint8_t *)buf_head(s->in),
			    s->in->len);
			if (n < 0) {
				log_debug("http/2: %s", nghttp2_strerror((int)n));
				io->ngerr = (int)n;
				io->failed = 1;
				return -1;
			}
			buf_consume(s->in, (size_t)n);
			h2io_dirty(io);
		}
		if (io->failed)
			return -1;
		if (!s->readable || s->eof)
			break;
		r = side_fill(s);
		if (r == 0)
			break;
		if (r == -1) {
			if (s->err)
				io->failed = 1;
			break;
		}
	}
	side_trim(s);
	return io->failed ? -1 : 0;
}

int
h2io_send(struct h2io *io)
{
	struct side *s = io->s;
	ssize_t n;
	size_t k;

	if (io->failed || s->err)
		return -1;
	for (;;) {
		if (io->out == NULL && (io->out = buf_get()) == NULL) {
			io->failed = 1;
			return -1;
		}
		/* stage: the rest of the last chunk, then new ones */
		while (buf_room(io->out) > 0) {
			if (io->pendlen == 0) {
				n = nghttp2_session_mem_send(io->ng, &io->pend);
				if (n < 0) {
					log_debug("http/2: %s", nghttp2_strerror((int)n));
					io->failed = 1;
					return -1;
				}
				if (n == 0)
					break;
				io->pendlen = (size_t)n;
			}
			k = buf_append(io->out, io->pend, io->pendlen);
			io->pend += k;
			io->pendlen -= k;
		}
		if (io->out->len == 0)
			break;
		if (side_send(s, io->out, NULL, 0) == -1) {
			io->failed = 1;
			return -1;
		}
		if (io->out->len > 0)
			return 0;       /* blocked: s->wblocked */
	}
	buf_put(io->out);
	io->out = NULL;
	return 0;
}

int
h2io_data(struct h2io *io, struct h2q *q, const nghttp2_frame *f, const uint8_t *framehd,
          size_t n)
{
	/* called from nghttp2_session_mem_send in h2io_send: io->out exists,
	 * and every byte nghttp2 gave before this frame is staged in it */
	switch (h2q_frame(q, io->out, framehd, n, f->data.padlen)) {
	case 0:
		return 0;
	case -1:
		/* an empty buffer holds any frame h2q_provide allowed, unless
		 * padded (we set no padding callback): never, but no loop */
		return io->out->len > 0 ? NGHTTP2_ERR_WOULDBLOCK : NGHTTP2_ERR_CALLBACK_FAILURE;
	default:
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
}

int
h2io_done(const struct h2io *io)
{
	return !nghttp2_session_want_read(io->ng) && !nghttp2_session_want_write(io->ng) &&
	    (io->out == NULL || io->out->len == 0) && io->pendlen == 0;
}

void
h2io_free(struct h2io *io)
{
	struct h2io **pp;

	for (pp = &dirty; *pp != NULL; pp = &(*pp)->next_dirty)
		if (*pp == io) {
			*pp = io->next_dirty;
			break;
		}
	io->dirty = 0;
	if (io->ng != NULL)
		nghttp2_session_del(io->ng);
	io->ng = NULL;
	buf_put(io->out);
	io->out = NULL;
	io->pendlen = 0;
}

const char *
h2io_flood(struct h2io *io, const nghttp2_frame *f)
{
	ev_tstamp now = ev_now(EV_DEFAULT);
	int reset = f->hd.type == NGHTTP2_RST_STREAM;

	if (!reset && ((f->hd.type != NGHTTP2_SETTINGS && f->hd.type != NGHTTP2_PING) ||
	    (f->hd.flags & NGHTTP2_FLAG_ACK)))
		return NULL;
	if (now - io->win_start >= 1.0) {
		io->win_start = now;
		io->resets = 0;
		io->control = 0;
	}
	if (reset)
		return ++io->resets > H2_RESETS_PER_S ? "stream resets" : NULL;
	if (++io->control <= H2_CONTROL_PER_S)
		return NULL;
	return f->hd.type == NGHTTP2_PING ? "PINGs" : "SETTINGS";
}
