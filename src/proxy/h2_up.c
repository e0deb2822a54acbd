/* SPDX-License-Identifier: ISC */
/*
 * h2_up: the upstream HTTP/2 sessions (upstream -> relay).  To one
 * endpoint (another sidecar over mTLS, or the app in h2c) at most
 * H2_UP_PER_ENDPOINT sessions, each a connection of upstream.c held for
 * its whole life, each carrying many streams: a new session opens only
 * when every one has H2_UP_STREAMS_SOFT streams.  A stream submitted
 * before its session is connected waits on it.  When a session fails,
 * its streams fail with it: those never sent as connect failures (always
 * retried), the others as resets (retried when retry_on says so).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/container_of.h"
#include "mesh/grpc.h"
#include "mesh/log.h"
#include "mesh/retry.h"
#include "mesh/stats.h"
#include "h2_int.h"

static struct h2u *ups;

static void h2u_fail(struct h2u *u, int connect);

static void
h2u_arm(struct h2u *u)
{
	struct side *s;

	if (u->uc == NULL || u->dead)
		return;
	s = &u->uc->s;
	side_arm(EV_DEFAULT, s, !s->eof && side_has_room(s), s->wblocked);
}

static void
h2u_unlink(struct h2s **list, struct h2s *s)
{
	if (s->uprev != NULL)
		s->uprev->unext = s->unext;
	else
		*list = s->unext;
	if (s->unext != NULL)
		s->unext->uprev = s->uprev;
	s->uprev = s->unext = NULL;
}

static void
h2u_link(struct h2s **list, struct h2s *s)
{
	s->uprev = NULL;
	s->unext = *list;
	if (*list != NULL)
		(*list)->uprev = s;
	*list = s;
}

/* The request body for the upstream: what downstream sent, its window
 * given back as it goes; trailers after the last byte. */
static ssize_t
h2u_read_req(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
             nghttp2_data_source *src, void *ud)
{
	struct h2s *s = nghttp2_session_get_stream_user_data(ng, id);

	(void)buf;
	(void)src;
	(void)ud;
	if (s == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return h2q_provide(ng, id, &s->reqq, len, s->req_end,
	    s->req_trailers ? &s->req : NULL, s->req_nhead, flags);
}

/* The frame h2u_read_req sized goes out; downstream's window opens by
 * the bytes never sent before (a retry resends kept ones). */
static int
h2u_send_req(nghttp2_session *ng, nghttp2_frame *f, const uint8_t *framehd, size_t n,
             nghttp2_data_source *src, void *ud)
{
	struct h2s *s = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	struct h2u *u = ud;
	int r;

	(void)src;
	if (s == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if ((r = h2io_data(&u->io, &s->reqq, f, framehd, n)) != 0)
		return r;
	if (s->reqq.high > s->req_credit) {
		h2d_consumed(s, (size_t)(s->reqq.high - s->req_credit));
		s->req_credit = s->reqq.high;
	}
	return 0;
}

/* The request goes: its head (traceparent of this hop), its body. */
static int
h2u_start(struct h2u *u, struct h2s *s)
{
	nghttp2_nv nv[H2_NV_MAX + 1];
	nghttp2_data_provider prd = { .read_callback = h2u_read_req };
	const char *tp = obs_traceparent(&s->obs);
	size_t i, n = 0;
	int32_t id;

	for (i = 0; i < s->req_nhead; i++) {
		if (tp != NULL && s->req.nv[i].namelen == 11 &&
		    memcmp(s->req.nv[i].name, "traceparent", 11) == 0)
			continue;
		nv[n++] = s->req.nv[i];
	}
	if (tp != NULL) {
		nv[n].name = (uint8_t *)"traceparent";
		nv[n].namelen = 11;
		nv[n].value = (uint8_t *)tp;
		nv[n].valuelen = strlen(tp);
		nv[n].flags = NGHTTP2_NV_FLAG_NONE;
		n++;
	}
	id = nghttp2_submit_request(u->io.ng, NULL, nv, n,
	    s->req_end && h2q_unread(&s->reqq) == 0 && !s->req_trailers ? NULL : &prd, s);
	if (id < 0) {
		log_warnx("http/2 to " EPADDR_FMT ": %s", EPADDR_ARGS(u->up->addr),
		    nghttp2_strerror(id));
		return -1;
	}
	s->up_id = id;
	s->state = H2S_UP;
	h2u_link(&u->streams, s);
	h2io_dirty(&u->io);
	return 0;
}

int
h2u_submit(struct h2u *u, struct h2s *s)
{
	s->u = u;
	u->nstreams++;
	if (!u->ready) {
		h2u_link(&u->waiting, s);
		return 0;
	}
	if (h2u_start(u, s) == -1) {
		u->nstreams--;
		s->u = NULL;
		return -1;
	}
	return 0;
}

void
h2u_detach(struct h2s *s, uint32_t rst_code)
{
	struct h2u *u = s->u;
	uint64_t unread;

	if (u == NULL)
		return;
	if (s->up_id > 0) {
		h2u_unlink(&u->streams, s);
		if (u->io.ng != NULL) {
			nghttp2_session_set_stream_user_data(u->io.ng, s->up_id, NULL);
			if (nghttp2_session_find_stream(u->io.ng, s->up_id) != NULL &&
			    !s->res_end)
				nghttp2_submit_rst_stream(u->io.ng, NGHTTP2_FLAG_NONE, s->up_id,
				    rst_code);
			/* bytes received and never taken still hold the window */
			if ((unread = h2q_unread(&s->resq)) > 0)
				nghttp2_session_consume_connection(u->io.ng, (size_t)unread);
		}
	} else
		h2u_unlink(&u->waiting, s);
	u->nstreams--;
	u->idle_since = ev_now(EV_DEFAULT);
	s->u = NULL;
	s->up_id = 0;
	h2io_dirty(&u->io);
}

void
h2u_resume(struct h2s *s)
{
	if (s->u == NULL || s->up_id <= 0)
		return;
	nghttp2_session_resume_data(s->u->io.ng, s->up_id);
	h2io_dirty(&s->u->io);
}

void
h2u_consumed(struct h2s *s, size_t n)
{
	if (s->u == NULL || s->up_id <= 0 || n == 0)
		return;
	nghttp2_session_consume(s->u->io.ng, s->up_id, n);
	h2io_dirty(&s->u->io);
}

static int
h2u_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
           const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
	struct h2s *s = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);

	(void)flags;
	(void)ud;
	if (s == NULL || f->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (nlen == 7 && memcmp(name, ":status", 7) == 0) {
		s->status = 0;
		if (vlen == 3)
			s->status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
		if (s->status >= 100 && s->status < 200)
			return 0;       /* an interim response: not relayed */
	} else if (s->status >= 100 && s->status < 200)
		return 0;
	/* an app's own mesh-error never leaves its sidecar (head.h) */
	if (s->d != NULL && h2d_inbound(s->d) && nlen == 10 &&
	    memcmp(name, "mesh-error", 10) == 0)
		return 0;
	if (nlen == 11 && memcmp(name, "grpc-status", 11) == 0)
		s->grpc_status = grpc_status_parse((const char *)value, vlen);
	if (!s->res.full)
		(void)h2hdr_add(&s->res, name, nlen, value, vlen);
	return 0;
}

static int
h2u_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct h2u *u = ud;
	const char *flood;
	struct h2s *s;

	if ((flood = h2io_flood(&u->io, f)) != NULL) {
		stats_inc(STAT_H2_FLOODS);
		log_warnx("http/2 from " EPADDR_FMT ": too many %s: closing",
		    EPADDR_ARGS(u->up->addr), flood);
		nghttp2_session_terminate_session(ng, NGHTTP2_ENHANCE_YOUR_CALM);
		return 0;
	}
	if (f->hd.type == NGHTTP2_GOAWAY)
		u->closing = 1;     /* nghttp2 refuses the streams past its last id */
	if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
		return 0;
	if ((s = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id)) == NULL)
		return 0;
	if (f->hd.type == NGHTTP2_HEADERS && s->status >= 100 && s->status < 200) {
		s->status = 0;          /* the final head follows */
		return 0;
	}
	if (f->hd.flags & NGHTTP2_FLAG_END_STREAM)
		s->res_end = 1;
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_RESPONSE) {
		s->res_nhead = s->res.n;
		h2s_response(s, s->res_end);
		return 0;
	}
	if (f->hd.type == NGHTTP2_HEADERS)
		s->res_trailers = 1;
	h2r_data(s);
	return 0;
}

static int
h2u_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *p, size_t n,
         void *ud)
{
	struct h2s *s = nghttp2_session_get_stream_user_data(ng, id);

	(void)flags;
	(void)ud;
	if (s == NULL || !s->res_head) {
		nghttp2_session_consume(ng, id, n);
		return 0;
	}
	if (h2q_append(&s->resq, p, n) == -1)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return 0;
}

static int
h2u_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
	struct h2s *s = nghttp2_session_get_stream_user_data(ng, id);
	struct h2u *u = ud;
	uint64_t unread;

	if (s == NULL)
		return 0;
	nghttp2_session_set_stream_user_data(ng, id, NULL);
	/* the bytes still on their way down were never given back: the
	 * connection's window gets them now (the stream's is gone) */
	if ((unread = h2q_unread(&s->resq)) > 0)
		nghttp2_session_consume_connection(ng, (size_t)unread);
	h2u_unlink(&u->streams, s);
	u->nstreams--;
	u->idle_since = ev_now(EV_DEFAULT);
	s->u = NULL;
	s->up_id = 0;
	if (code == NGHTTP2_NO_ERROR && s->res_end)
		return 0;
	if (!s->res_head) {
		/* REFUSED_STREAM: the peer says no app saw it (RFC 9113 8.7) */
		h2s_attempt_failed(s, code == NGHTTP2_REFUSED_STREAM ? RETRY_CAUSE_CONNECT :
		    RETRY_CAUSE_RESET, 0, "upstream reset");
		return 0;
	}
	s->obs.flags |= STATS_SF_UR;
	h2s_outcome(s, 0);
	h2r_rst(s, code == NGHTTP2_NO_ERROR ? NGHTTP2_INTERNAL_ERROR : code);
	return 0;
}

static nghttp2_session_callbacks *
h2u_callbacks(void)
{
	static nghttp2_session_callbacks *cb;

	if (cb == NULL && nghttp2_session_callbacks_new(&cb) == 0) {
		nghttp2_session_callbacks_set_on_header_callback(cb, h2u_header);
		nghttp2_session_callbacks_set_on_frame_recv_callback(cb, h2u_frame_recv);
		nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, h2u_data);
		nghttp2_session_callbacks_set_on_stream_close_callback(cb, h2u_stream_close);
		nghttp2_session_callbacks_set_send_data_callback(cb, h2u_send_req);
	}
	return cb;
}

static void
h2u_kick(struct h2io *io)
{
	struct h2u *u = container_of(io, struct h2u, io);

	if (u->dead || !u->ready)
		return;
	if (h2io_send(&u->io) == -1) {
		h2u_fail(u, 0);
		return;
	}
	/* the peer said GOAWAY and nothing runs on it any more */
	if (u->closing && u->nstreams == 0) {
		h2u_fail(u, 0);
		return;
	}
	h2u_arm(u);
}

/* The connection is up: the preface and SETTINGS go, the waiting
 * streams are submitted. */
static void
h2u_connected(struct h2u *u)
{
	struct h2s *s;

	u->ready = 1;
	while ((s = u->waiting) != NULL) {
		h2u_unlink(&u->waiting, s);
		if (h2u_start(u, s) == -1) {
			u->nstreams--;
			s->u = NULL;
			h2s_attempt_failed(s, RETRY_CAUSE_CONNECT, 0, "upstream connect failed");
		}
	}
	h2io_dirty(&u->io);
}

static void
h2u_notify(void *owner, struct upconn *uc, enum upconn_event ev)
{
	struct h2u *u = owner;

	if (u->uc != uc || u->dead)
		return;
	switch (ev) {
	case UC_EV_CONNECTED:
		h2u_connected(u);
		break;
	case UC_EV_FAILED:
	case UC_EV_TIMEOUT:
		errno = uc->errnum;
		log_debug("http/2: connect to " EPADDR_FMT " failed", EPADDR_ARGS(u->up->addr));
		u->uc = NULL;       /* upstream.c closed it */
		h2u_fail(u, 1);
		break;
	case UC_EV_IO:
		if (h2io_recv(&u->io) == -1 || h2io_send(&u->io) == -1 ||
		    (uc->s.eof && !nghttp2_session_want_write(u->io.ng))) {
			h2u_fail(u, 0);
			return;
		}
		h2u_arm(u);
		break;
	}
}

static struct h2u *
h2u_open(struct upstream *up)
{
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_STREAM_WINDOW },
		{ NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, H2_HPACK_TABLE },
	};
	struct h2u *u;
	struct upconn *uc;

	if ((u = calloc(1, sizeof(*u))) == NULL || h2u_callbacks() == NULL ||
	    h2io_options() == NULL ||
	    nghttp2_session_client_new3(&u->io.ng, h2u_callbacks(), u, h2io_options(),
	    h2mem()) != 0) {
		free(u);
		return NULL;
	}
	nghttp2_submit_settings(u->io.ng, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
	nghttp2_session_set_local_window_size(u->io.ng, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW);
	u->up = up;
	u->io.kick = h2u_kick;
	if ((uc = upstream_acquire(up, 1, h2u_notify, u)) == NULL) {
		nghttp2_session_del(u->io.ng);
		free(u);
		return NULL;
	}
	u->uc = uc;
	u->io.s = &uc->s;
	u->next = ups;
	ups = u;
	stats_inc(STAT_H2_SESSIONS);
	if (uc->state == UC_BUSY)
		h2u_connected(u);
	return u;
}

struct h2u *
h2u_get(struct upstream *up)
{
	struct h2u *u, *best = NULL;
	unsigned n = 0;

	for (u = ups; u != NULL; u = u->next) {
		if (u->up != up || u->closing || u->dead)
			continue;
		n++;
		if (best == NULL || u->nstreams < best->nstreams)
			best = u;
	}
	if (best != NULL &&
	    (best->nstreams < H2_UP_STREAMS_SOFT || n >= H2_UP_PER_ENDPOINT))
		return best;
	if ((u = h2u_open(up)) != NULL)
		return u;
	return best;        /* no new connection now: share */
}

/* The session is over: its streams fail (see above), it goes. */
static void
h2u_fail(struct h2u *u, int connect)
{
	struct h2u **pp;
	struct h2s *s;

	if (u->dead)
		return;
	u->dead = 1;
	u->closing = 1;
	for (pp = &ups; *pp != NULL; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	while ((s = u->waiting) != NULL) {
		h2u_unlink(&u->waiting, s);
		u->nstreams--;
		s->u = NULL;
		h2s_attempt_failed(s, RETRY_CAUSE_CONNECT, 0, "upstream connect failed");
	}
	while ((s = u->streams) != NULL) {
		h2u_unlink(&u->streams, s);
		u->nstreams--;
		nghttp2_session_set_stream_user_data(u->io.ng, s->up_id, NULL);
		s->u = NULL;
		s->up_id = 0;
		if (s->res_head) {
			s->obs.flags |= STATS_SF_UR;
			h2s_outcome(s, 0);
			h2r_rst(s, NGHTTP2_INTERNAL_ERROR);
		} else
			h2s_attempt_failed(s, connect ? RETRY_CAUSE_CONNECT : RETRY_CAUSE_RESET, 0,
			    "upstream reset");
	}
	if (u->uc != NULL) {
		upstream_close(u->uc);
		u->uc = NULL;
	}
	h2_reap_up(u);
}

void
h2u_free(struct h2u *u)
{
	h2io_free(&u->io);
	free(u);
}

void
h2_close_idle(void)
{
	struct h2u *u, *next;

	for (u = ups; u != NULL; u = next) {
		next = u->next;
		if (u->nstreams == 0)
			h2u_fail(u, 0);
	}
}
