/* SPDX-License-Identifier: ISC */
/*
 * h2_relay: the response's way down (relay -> response): the upstream's
 * head as it came (an app's mesh-error stripped by h2_up.c), its body
 * with the upstream's window given back as the downstream takes it, its
 * trailers after the last byte; and the mesh's own answers: a refusal
 * (gRPC-shaped for a gRPC caller: trailers-only, grpc-status and
 * grpc-message, plus mesh-error) or a reset.
 */
#include <stdio.h>
#include <string.h>

#include "mesh/grpc.h"
#include "mesh/stats.h"
#include "h2_int.h"

static ssize_t
h2r_read_res(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
             nghttp2_data_source *src, void *ud)
{
	struct h2s *s = nghttp2_session_get_stream_user_data(ng, id);

	(void)buf;
	(void)src;
	(void)ud;
	if (s == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return h2q_provide(ng, id, &s->resq, len, s->res_end,
	    s->res_trailers ? &s->res : NULL, s->res_nhead, flags);
}

/* The frame h2r_read_res sized goes out; the upstream's window opens
 * by what the downstream took. */
int
h2r_send_data(nghttp2_session *ng, nghttp2_frame *f, const uint8_t *framehd, size_t n,
              nghttp2_data_source *src, void *ud)
{
	struct h2s *s = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	struct h2d *d = ud;
	int r;

	(void)src;
	if (s == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if ((r = h2io_data(&d->io, &s->resq, f, framehd, n)) != 0)
		return r;
	if (n > 0) {
		h2u_consumed(s, n);
		if (s->d != NULL)
			s->d->c->active = ev_now(EV_DEFAULT);
	}
	return 0;
}

static int
h2r_submit(struct h2s *s, const nghttp2_nv *nv, size_t n, int end)
{
	nghttp2_data_provider prd = { .read_callback = h2r_read_res };

	if (s->d == NULL)
		return -1;
	if (nghttp2_submit_response(s->d->io.ng, s->down_id, nv, n, end ? NULL : &prd) != 0)
		return -1;
	s->res_head = 1;
	s->state = H2S_RESPONDING;
	h2io_dirty(&s->d->io);
	return 0;
}

int
h2r_response(struct h2s *s, int end)
{
	obs_status(&s->obs, s->status);
	stats_response(s->d != NULL && h2d_inbound(s->d), s->status);
	return h2r_submit(s, s->res.nv, s->res_nhead, end);
}

void
h2r_data(struct h2s *s)
{
	if (s->res_head)
		h2d_resume(s);
}

static void
h2r_nv(nghttp2_nv *nv, const char *name, const char *value)
{
	nv->name = (uint8_t *)name;
	nv->namelen = strlen(name);
	nv->value = (uint8_t *)value;
	nv->valuelen = strlen(value);
	nv->flags = NGHTTP2_NV_FLAG_NONE;
}

int
h2r_refusal(struct h2s *s, int code, const char *reason)
{
	char status[8], grpc[8], msg[256], len[24], body[128];
	nghttp2_nv nv[5];
	int n;

	if (s->grpc) {
		/* trailers-only (the gRPC protocol over HTTP/2): HTTP 200,
		 * the outcome in grpc-status */
		snprintf(grpc, sizeof(grpc), "%d", (int)grpc_status_of_http(code));
		grpc_message_encode(msg, sizeof(msg), reason);
		h2r_nv(&nv[0], ":status", "200");
		h2r_nv(&nv[1], "content-type", "application/grpc");
		h2r_nv(&nv[2], "grpc-status", grpc);
		h2r_nv(&nv[3], "grpc-message", msg);
		h2r_nv(&nv[4], "mesh-error", reason);
		s->status = 200;
		s->res_end = 1;
		return h2r_submit(s, nv, 5, 1);
	}
	n = snprintf(body, sizeof(body), "%s\n", reason);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = 0;
	snprintf(status, sizeof(status), "%03d", code);
	snprintf(len, sizeof(len), "%d", n);
	h2r_nv(&nv[0], ":status", status);
	h2r_nv(&nv[1], "content-type", "text/plain; charset=utf-8");
	h2r_nv(&nv[2], "content-length", len);
	h2r_nv(&nv[3], "mesh-error", reason);
	h2q_free(&s->resq);
	if (h2q_append(&s->resq, (const uint8_t *)body, (size_t)n) == -1)
		return -1;
	s->status = code;
	s->res_end = 1;
	return h2r_submit(s, nv, 4, 0);
}

void
h2r_rst(struct h2s *s, uint32_t code)
{
	if (s->d == NULL)
		return;
	nghttp2_submit_rst_stream(s->d->io.ng, NGHTTP2_FLAG_NONE, s->down_id, code);
	h2io_dirty(&s->d->io);
}
