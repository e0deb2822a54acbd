/* SPDX-License-Identifier: ISC */
/*
 * fuzz_h2_frames: the sidecar's HTTP/2 frame path on any bytes a client
 * may send.  The input is what a downstream client writes (a seed starts
 * with the connection preface); it goes to an nghttp2 server session with
 * the settings and options the sidecar uses (h2_down.c's h2_adopt,
 * h2_opts.c's h2io_options, h2_mem.c's allocator), whose callbacks do what h2_down.c's do: header
 * fields into a struct h2hdr, DATA into a struct h2q (h2_queue.c), at
 * most H2_MAX_STREAMS streams.  Each message is then read back out, as
 * the upstream leg would, and checked:
 *  - a header list keeps at most H2_NV_MAX fields, each inside its
 *    buffer, and counts the bytes of every field offered;
 *  - the body read back is the bytes received, in order, and a kept body
 *    (a retry's) reads back the same again after a rewind;
 * then a response is submitted for each complete request and everything
 * nghttp2 has to send is taken (mem_send).  Every stream, buffer and the
 * session are freed each run: ASan and LeakSanitizer see any slip.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2_int.h"

#define CHECK(cond) do {                                                  \
	if (!(cond)) {                                                    \
		fprintf(stderr, "%s:%d: invariant failed: %s\n",          \
		        __FILE__, __LINE__, #cond);                       \
		abort();                                                  \
	}                                                                 \
} while (0)

/* pstate.c: the pool's buffers are BUF_MIN (16384) bytes at least, and
 * header_bytes (max_header_bytes, default 16384) is what SETTINGS says */
#define POOL_BUF      16384
#define HEADER_BYTES  16384
/* a retry buffer small enough that keeping stops inside some bodies */
#define KEEP_MAX      3000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One request stream: what struct h2s holds for the downstream leg. */
struct fstream {
	int32_t         id;
	struct h2hdr    req;
	size_t          req_nhead;
	struct h2q      reqq;
	uint64_t        hash;        /* FNV-1a of the body bytes received */
	uint8_t         ended;       /* END_STREAM seen */
	uint8_t         answered;
	struct fstream *prev, *next;
};

struct fsession {
	nghttp2_session *ng;
	struct fstream  *streams;
	unsigned         nstreams;
};

static uint64_t
fnv(uint64_t h, const uint8_t *p, size_t n)
{
	while (n-- > 0)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

static void
hdr_check(const struct h2hdr *h)
{
	size_t i;

	CHECK(h->n <= H2_NV_MAX);
	CHECK(h->n == 0 || h->b != NULL);
	for (i = 0; i < h->n; i++) {
		const nghttp2_nv *nv = &h->nv[i];

		CHECK((char *)nv->name >= buf_head(h->b));
		CHECK((char *)nv->value == (char *)nv->name + nv->namelen);
		CHECK((char *)nv->value + nv->valuelen <= buf_tail(h->b));
		CHECK(h->bytes >= nv->namelen + nv->valuelen + 32);
	}
	/* the first field of each name is the one h2hdr_find gives */
	if (h->n > 0) {
		char name[64];
		const nghttp2_nv *f;

		if (h->nv[0].namelen < sizeof(name) &&
		    memchr(h->nv[0].name, 0, h->nv[0].namelen) == NULL) {
			memcpy(name, h->nv[0].name, h->nv[0].namelen);
			name[h->nv[0].namelen] = '\0';
			f = h2hdr_find(h, h->n, name);
			CHECK(f == &h->nv[0]);
		}
	}
}

static void
fstream_free(struct fsession *fs, struct fstream *st)
{
	if (st->prev != NULL)
		st->prev->next = st->next;
	else
		fs->streams = st->next;
	if (st->next != NULL)
		st->next->prev = st->prev;
	fs->nstreams--;
	h2hdr_reset(&st->req);
	h2q_free(&st->reqq);
	free(st);
}

/* As the upstream leg takes the body (h2_up.c), then gives the window
 * back (h2d_consumed). */
static void
body_take(struct fsession *fs, struct fstream *st, const uint8_t *p, size_t n)
{
	uint8_t tmp[1024];
	size_t k, done = 0;

	while (done < n) {
		k = h2q_read(&st->reqq, tmp, sizeof(tmp));
		CHECK(k > 0);
		CHECK(k <= n - done && memcmp(tmp, p + done, k) == 0);
		done += k;
	}
	CHECK(h2q_unread(&st->reqq) == 0);
	CHECK(h2q_read(&st->reqq, tmp, sizeof(tmp)) == 0);
	nghttp2_session_consume(fs->ng, st->id, n);
}

/* A retry: a body still kept reads back whole, the same bytes. */
static void
body_replay(struct fstream *st)
{
	uint8_t tmp[1024];
	uint64_t h = 0xcbf29ce484222325ULL, total = 0;
	size_t k;

	if (h2q_rewind(&st->reqq) == -1) {
		CHECK(st->reqq.lost);
		return;
	}
	while ((k = h2q_read(&st->reqq, tmp, sizeof(tmp))) > 0) {
		h = fnv(h, tmp, k);
		total += k;
	}
	CHECK(total == st->reqq.total);
	CHECK(h == st->hash);
}

static int
answer(struct fsession *fs, struct fstream *st)
{
	static const uint8_t status[] = ":status", ok[] = "200";
	nghttp2_nv nv[2] = {
		{ (uint8_t *)status, (uint8_t *)ok, sizeof(status) - 1, sizeof(ok) - 1,
		  NGHTTP2_NV_FLAG_NONE },
		{ NULL, NULL, 0, 0, NGHTTP2_NV_FLAG_NONE },
	};
	size_t n = 1;

	if (st->answered)
		return 0;
	st->answered = 1;
	/* echo the first request field: the deflater sees peer bytes too */
	if (st->req.n > 0) {
		nv[1] = st->req.nv[0];
		if (nv[1].namelen > 0 && nv[1].name[0] != ':')
			n = 2;
	}
	return nghttp2_submit_response(fs->ng, st->id, nv, n, NULL);
}

/* h2_down.c's h2d_begin_headers */
static int
on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct fsession *fs = ud;
	struct fstream *st;

	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if (fs->nstreams >= H2_MAX_STREAMS || (st = calloc(1, sizeof(*st))) == NULL) {
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, f->hd.stream_id,
		    NGHTTP2_REFUSED_STREAM);
		return 0;
	}
	st->id = f->hd.stream_id;
	st->hash = 0xcbf29ce484222325ULL;
	h2q_init(&st->reqq, KEEP_MAX);
	st->next = fs->streams;
	if (fs->streams != NULL)
		fs->streams->prev = st;
	fs->streams = st;
	fs->nstreams++;
	nghttp2_session_set_stream_user_data(ng, f->hd.stream_id, st);
	return 0;
}

/* h2_down.c's h2d_header */
static int
on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
          const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
	struct fstream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	uint32_t before;
	size_t n;

	(void)flags;
	(void)ud;
	if (st == NULL || st->req.full)
		return 0;
	before = st->req.bytes;
	n = st->req.n;
	if (h2hdr_add(&st->req, name, nlen, value, vlen) == 0) {
		CHECK(st->req.n == n + 1);
		CHECK(st->req.nv[n].namelen == nlen && st->req.nv[n].valuelen == vlen);
		CHECK(memcmp(st->req.nv[n].name, name, nlen) == 0);
		CHECK(memcmp(st->req.nv[n].value, value, vlen) == 0);
	} else {
		CHECK(st->req.full && st->req.n == n);
	}
	CHECK(st->req.bytes == before + nlen + vlen + 32);
	hdr_check(&st->req);
	return 0;
}

/* h2_down.c's h2d_frame_recv, less the flood counters (libev's clock) */
static int
on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct fsession *fs = ud;
	struct fstream *st;

	if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
		return 0;
	if ((st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id)) == NULL)
		return 0;
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
		st->req_nhead = st->req.n;
	hdr_check(&st->req);
	CHECK(st->req_nhead <= st->req.n);
	if (f->hd.flags & NGHTTP2_FLAG_END_STREAM) {
		st->ended = 1;
		body_replay(st);
		if (answer(fs, st) != 0)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return 0;
}

/* h2_down.c's h2d_data */
static int
on_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *p, size_t n,
        void *ud)
{
	struct fsession *fs = ud;
	struct fstream *st = nghttp2_session_get_stream_user_data(ng, id);
	uint64_t total;

	(void)flags;
	if (st == NULL) {
		nghttp2_session_consume(ng, id, n);
		return 0;
	}
	total = st->reqq.total;
	if (h2q_append(&st->reqq, p, n) == -1)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	CHECK(st->reqq.total == total + n);
	CHECK(!st->reqq.keep || st->reqq.total <= KEEP_MAX);
	st->hash = fnv(st->hash, p, n);
	body_take(fs, st, p, n);
	return 0;
}

/* h2_down.c's h2d_stream_close */
static int
on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
	struct fsession *fs = ud;
	struct fstream *st = nghttp2_session_get_stream_user_data(ng, id);

	(void)code;
	if (st == NULL)
		return 0;
	nghttp2_session_set_stream_user_data(ng, id, NULL);
	fstream_free(fs, st);
	return 0;
}

static nghttp2_session_callbacks *
callbacks(void)
{
	static nghttp2_session_callbacks *cb;

	if (cb == NULL && nghttp2_session_callbacks_new(&cb) == 0) {
		nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
		nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
		nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
		nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
		nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	}
	return cb;
}

/* Everything nghttp2 has to send, as h2io_send stages it. */
static void
drain(nghttp2_session *ng)
{
	const uint8_t *p;
	ssize_t n;
	int rounds;

	for (rounds = 0; rounds < 10000; rounds++) {
		n = nghttp2_session_mem_send(ng, &p);
		if (n <= 0)
			return;
		CHECK(p != NULL);
		/* touch it: ASan checks the bytes are there */
		(void)fnv(0, p, (size_t)n);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* h2_down.c's h2_adopt */
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_STREAM_WINDOW },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, HEADER_BYTES },
		{ NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, H2_HPACK_TABLE },
	};
	static int ready;
	struct fsession fs;
	struct fstream *st;
	size_t half;
	ssize_t n;

	if (!ready) {
		buf_pool_init(POOL_BUF, 256);
		CHECK(callbacks() != NULL && h2io_options() != NULL);
		ready = 1;
	}
	memset(&fs, 0, sizeof(fs));
	if (nghttp2_session_server_new3(&fs.ng, callbacks(), &fs, h2io_options(), h2mem()) != 0)
		return 0;
	CHECK(nghttp2_submit_settings(fs.ng, NGHTTP2_FLAG_NONE, iv,
	    sizeof(iv) / sizeof(iv[0])) == 0);
	CHECK(nghttp2_session_set_local_window_size(fs.ng, NGHTTP2_FLAG_NONE, 0,
	    H2_CONN_WINDOW) == 0);
	drain(fs.ng);
	/* in two reads, as a socket may split it: the split inside a frame */
	half = size / 2;
	n = nghttp2_session_mem_recv(fs.ng, data, half);
	if (n >= 0) {
		CHECK((size_t)n == half);
		drain(fs.ng);
		n = nghttp2_session_mem_recv(fs.ng, data + half, size - half);
		if (n >= 0)
			CHECK((size_t)n == size - half);
	}
	drain(fs.ng);
	for (st = fs.streams; st != NULL; st = st->next)
		hdr_check(&st->req);
	/* nghttp2_session_del does not call on_stream_close: ours go here */
	nghttp2_session_del(fs.ng);
	while ((st = fs.streams) != NULL)
		fstream_free(&fs, st);
	CHECK(fs.nstreams == 0);
	return 0;
}
