/* SPDX-License-Identifier: ISC */
/*
 * h2_down: the downstream HTTP/2 session (accept -> parse).  A connection
 * that spoke the preface is served by one nghttp2 server session; each
 * request stream's header fields are collected into its struct h2s and,
 * once the head is complete, handed to h2_stream.c.  Request body bytes
 * are queued on the stream; our window for them opens again only when
 * the upstream leg has taken them (h2d_consumed), so a slow callee holds
 * back the caller.  Floods of resets, SETTINGS or PINGs end the session
 * with GOAWAY ENHANCE_YOUR_CALM, counted.
 */
#include <stdlib.h>
#include <string.h>

#include "mesh/container_of.h"
#include "mesh/fwd.h"
#include "mesh/log.h"
#include "mesh/pstate.h"
#include "mesh/stats.h"
#include "h2_int.h"

int
h2_preface(const char *p, size_t n)
{
	size_t k = n < H2_PREFACE_LEN ? n : H2_PREFACE_LEN;

	if (memcmp(p, H2_PREFACE, k) != 0)
		return 0;
	return n >= H2_PREFACE_LEN ? 1 : -1;
}

int
h2d_inbound(const struct h2d *d)
{
	return d->c->role == ROLE_INBOUND_HTTP;
}

void
h2d_consumed(struct h2s *s, size_t n)
{
	if (s->d == NULL || n == 0)
		return;
	nghttp2_session_consume(s->d->io.ng, s->down_id, n);
	h2io_dirty(&s->d->io);
}

void
h2d_resume(struct h2s *s)
{
	if (s->d == NULL)
		return;
	nghttp2_session_resume_data(s->d->io.ng, s->down_id);
	h2io_dirty(&s->d->io);
	s->d->c->active = ev_now(EV_DEFAULT);
}

/* The peer went over a rate (h2_int.h): GOAWAY and the end. */
static int
h2d_calm(struct h2d *d, const char *what)
{
	stats_inc(STAT_H2_FLOODS);
	log_warnx("port %u: http/2 client sent too many %s: closing", d->c->port, what);
	nghttp2_session_terminate_session(d->io.ng, NGHTTP2_ENHANCE_YOUR_CALM);
	return 0;
}

static int
h2d_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct h2d *d = ud;
	struct h2s *s;

	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if (d->draining || (s = h2s_new(d, f->hd.stream_id)) == NULL) {
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, f->hd.stream_id,
		    NGHTTP2_REFUSED_STREAM);
		return 0;
	}
	nghttp2_session_set_stream_user_data(ng, f->hd.stream_id, s);
	return 0;
}

static int
h2d_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
           const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
	struct h2s *s = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);

	(void)flags;
	(void)ud;
	if (s == NULL)
		return 0;
	/* over the limit: the head is refused 431 once complete; trailers
	 * past it are dropped */
	if (!s->req.full)
		(void)h2hdr_add(&s->req, name, nlen, value, vlen);
	return 0;
}

static int
h2d_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct h2d *d = ud;
	const char *flood;
	struct h2s *s;

	if ((flood = h2io_flood(&d->io, f)) != NULL)
		return h2d_calm(d, flood);
	if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
		return 0;
	if ((s = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id)) == NULL)
		return 0;
	if (f->hd.flags & NGHTTP2_FLAG_END_STREAM)
		s->req_end = 1;
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
		s->req_nhead = s->req.n;
		h2s_request(s);
		return 0;
	}
	if (f->hd.type == NGHTTP2_HEADERS)
		s->req_trailers = 1;
	h2s_request_data(s);
	return 0;
}

static int
h2d_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *p, size_t n,
         void *ud)
{
	struct h2s *s = nghttp2_session_get_stream_user_data(ng, id);

	(void)flags;
	(void)ud;
	if (s == NULL || s->state == H2S_DONE) {
		/* nobody takes them: the window opens at once */
		nghttp2_session_consume(ng, id, n);
		return 0;
	}
	if (h2q_append(&s->reqq, p, n) == -1)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return 0;
}

static int
h2d_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
	struct h2s *s = nghttp2_session_get_stream_user_data(ng, id);

	(void)ud;
	if (s == NULL)
		return 0;
	nghttp2_session_set_stream_user_data(ng, id, NULL);
	h2s_down_closed(s, code);
	return 0;
}

static nghttp2_session_callbacks *
h2d_callbacks(void)
{
	static nghttp2_session_callbacks *cb;

	if (cb == NULL && nghttp2_session_callbacks_new(&cb) == 0) {
		nghttp2_session_callbacks_set_on_begin_headers_callback(cb, h2d_begin_headers);
		nghttp2_session_callbacks_set_on_header_callback(cb, h2d_header);
		nghttp2_session_callbacks_set_on_frame_recv_callback(cb, h2d_frame_recv);
		nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, h2d_data);
		nghttp2_session_callbacks_set_on_stream_close_callback(cb, h2d_stream_close);
		nghttp2_session_callbacks_set_send_data_callback(cb, h2r_send_data);
	}
	return cb;
}

static void
h2d_kick(struct h2io *io)
{
	struct h2d *d = container_of(io, struct h2d, io);

	fwd_run(d->c);
}

void
h2_adopt(struct conn *c)
{
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_STREAM_WINDOW },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, pstate.hlim.header_bytes },
		{ NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, H2_HPACK_TABLE },
	};
	struct h2d *d;

	if ((d = calloc(1, sizeof(*d))) == NULL || h2d_callbacks() == NULL ||
	    h2io_options() == NULL ||
	    nghttp2_session_server_new3(&d->io.ng, h2d_callbacks(), d, h2io_options(),
	    h2mem()) != 0) {
		log_warnx("port %u: out of memory for an http/2 session", c->port);
		free(d);
		c->state = FWD_CLOSING;
		return;
	}
	d->c = c;
	d->io.s = &c->d;
	d->io.kick = h2d_kick;
	nghttp2_submit_settings(d->io.ng, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
	nghttp2_session_set_local_window_size(d->io.ng, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW);
	c->h2 = d;
	c->state = FWD_H2;
	stats_inc(STAT_H2_SESSIONS);
	if (conn_draining())
		h2_drain(c);
}

/* nghttp2's own guards end a session at once, without GOAWAY: more
 * acknowledgements owed (SETTINGS, PING) than max_outbound_ack, or more
 * CONTINUATION frames than it allows (NGHTTP2_ERR_TOO_MANY_CONTINUATIONS,
 * -905: nghttp2 1.61, backported by distributions, absent from older
 * headers).  Those are floods too: counted as h2d_calm's are. */
static void
h2d_flooded(struct h2d *d)
{
	if (d->io.ngerr != NGHTTP2_ERR_FLOODED && d->io.ngerr != -905)
		return;
	stats_inc(STAT_H2_FLOODS);
	log_warnx("port %u: http/2 client flood (%s): closing", d->c->port,
	    nghttp2_strerror(d->io.ngerr));
}

void
h2_run(struct conn *c)
{
	struct h2d *d = c->h2;

	if (h2io_recv(&d->io) == -1 || h2io_send(&d->io) == -1) {
		h2d_flooded(d);
		c->state = FWD_CLOSING;
		return;
	}
	/* the client left, or we said GOAWAY and the last stream ended */
	if ((c->d.eof && !nghttp2_session_want_write(d->io.ng)) ||
	    (d->draining && d->nstreams == 0 && d->io.out == NULL) ||
	    h2io_done(&d->io))
		c->state = FWD_CLOSING;
}

/* Streams under way keep the connection (each has the route's timeout
 * if it has any: a gRPC stream may rightly stay quiet for long); without
 * any, the idle timeout ends the session with GOAWAY. */
void
h2_timeout(struct conn *c)
{
	struct h2d *d = c->h2;

	if (d->nstreams > 0 && !d->draining) {
		c->active = ev_now(EV_DEFAULT);
		conn_timer_update(c);
		return;
	}
	nghttp2_session_terminate_session(d->io.ng, NGHTTP2_NO_ERROR);
	(void)h2io_send(&d->io);
	c->state = FWD_CLOSING;
}

void
h2_drain(struct conn *c)
{
	struct h2d *d = c->h2;

	if (d == NULL || d->draining)
		return;
	d->draining = 1;
	nghttp2_submit_goaway(d->io.ng, NGHTTP2_FLAG_NONE,
	    nghttp2_session_get_last_proc_stream_id(d->io.ng), NGHTTP2_NO_ERROR, NULL, 0);
	h2io_dirty(&d->io);
}

void
h2_end(struct conn *c)
{
	struct h2d *d = c->h2;
	struct h2s *s;

	if (d == NULL)
		return;
	while ((s = d->streams) != NULL) {
		nghttp2_session_set_stream_user_data(d->io.ng, s->down_id, NULL);
		h2s_down_closed(s, NGHTTP2_CANCEL);
	}
	h2io_free(&d->io);
	free(d);
	c->h2 = NULL;
}
