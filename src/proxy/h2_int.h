/* SPDX-License-Identifier: ISC */
/*
 * h2_int.h: what the h2_*.c files share (include/mesh/h2.h is the
 * module's contract).  One file per step of the HTTP/2 data path:
 *   h2_opts.c    the limits nghttp2 enforces on every session
 *   h2_mem.c     the allocator of every session: free lists for the
 *                small blocks nghttp2 takes per stream
 *   h2_io.c      a session over one connected side: frames in, frames
 *                out, the flush of every session touched, deferred frees
 *   h2_queue.c   a stream's body bytes in one direction (pool buffers),
 *                kept for a retry while they fit retry_buffer
 *   h2_down.c    the downstream session (accept -> parse): streams start
 *   h2_stream.c  route -> the attempt, its timer, refusals, the end
 *   h2_policy.c  the route's policy: pending, budget, deadline, balance,
 *                breaker verdict, injected faults, retries
 *   h2_up.c      the upstream sessions (upstream -> relay), a few per
 *                endpoint, each stream one request of the attempt
 *   h2_relay.c   the response way down: head, body, trailers
 *
 * Ownership.  A stream (struct h2s) is named by the nghttp2 stream user
 * data of its downstream stream and, while an attempt runs, of its
 * upstream stream; every callback looks it up there, so a detached leg
 * (user data NULL) never reaches a stream that has ended.  Streams and
 * sessions are freed only from the prepare watcher (h2_io.c), never
 * from inside a callback of their own session.
 */
#ifndef MESH_H2_INT_H
#define MESH_H2_INT_H

#include <stdint.h>

#include <ev.h>
#include <nghttp2/nghttp2.h>

#include "mesh/buf.h"
#include "mesh/conn.h"
#include "mesh/h2.h"
#include "mesh/obs.h"
#include "mesh/relay.h"
#include "mesh/upstream.h"

/* What this sidecar announces and enforces on every session. */
#define H2_MAX_STREAMS      100         /* SETTINGS_MAX_CONCURRENT_STREAMS */
#define H2_STREAM_WINDOW    65535       /* SETTINGS_INITIAL_WINDOW_SIZE */
#define H2_CONN_WINDOW      (1u << 20)  /* the connection's receive window */
#define H2_HPACK_TABLE      4096        /* SETTINGS_HEADER_TABLE_SIZE, and the
                                           most we let a peer make us keep */
#define H2_NV_MAX           64          /* header fields kept per message */
#define H2_FRAME_HDLEN      9           /* a frame's header (RFC 9113 4.1) */
#define H2_UP_PER_ENDPOINT  4           /* sessions to one endpoint at most */
#define H2_UP_STREAMS_SOFT  64          /* a new session once each has this many */
/* Rapid reset (CVE-2023-44487) and other floods: a peer's resets,
 * SETTINGS and PINGs per second, past which the session ends (GOAWAY
 * ENHANCE_YOUR_CALM); nghttp2 bounds CONTINUATION and the queue of
 * frames we owe (PING/SETTINGS acknowledgements). */
#define H2_RESETS_PER_S     200
#define H2_CONTROL_PER_S    1000
/* What the free lists of h2_mem.c keep at most, in bytes, once the
 * blocks of a burst of streams come back; more goes back to malloc. */
#define H2_MEM_KEEP         (1u << 20)

/* A stream's body in one direction. */
struct h2q {
	struct buf *first, *last;   /* chained through buf->next */
	struct buf *cur;            /* the read cursor: buffer and offset */
	uint32_t    curoff;
	uint64_t    total;          /* bytes appended (offsets count from the start) */
	uint64_t    pos;            /* the next byte to read */
	uint64_t    high;           /* the furthest pos ever reached (rewinds aside) */
	uint64_t    keep_max;       /* keep read bytes while total <= this */
	uint8_t     keep;           /* read bytes are kept (a retry may resend them) */
	uint8_t     lost;           /* some read bytes were dropped: no rewind */
};

int      h2q_append(struct h2q *q, const uint8_t *p, size_t n);   /* -1: no memory */
/* Empty, keeping read bytes up to keep_max (0: none) for a retry. */
void     h2q_init(struct h2q *q, uint64_t keep_max);
size_t   h2q_read(struct h2q *q, uint8_t *dst, size_t max);
uint64_t h2q_unread(const struct h2q *q);
int      h2q_rewind(struct h2q *q);    /* -1: bytes were dropped */
void     h2q_stop_keeping(struct h2q *q);
void     h2q_free(struct h2q *q);

struct h2hdr;
/* What a data source callback returns for a DATA frame of at most len
 * bytes of q: how many (at most what one pool buffer holds with the
 * frame header) with NGHTTP2_DATA_FLAG_NO_COPY, the bytes staying in q
 * until h2q_frame writes the frame; the end of the body when that reads
 * q out and the message `ended` (then the fields trailers->nv[from..] as
 * trailers, if any); NGHTTP2_ERR_DEFERRED while nothing is to send and
 * more is to come. */
ssize_t  h2q_provide(nghttp2_session *ng, int32_t id, const struct h2q *q, size_t len,
                     int ended, const struct h2hdr *trailers, size_t from,
                     uint32_t *flags);
/* Write a DATA frame into out: nghttp2's 9-byte header, the Pad Length
 * byte when padlen > 0 (nghttp2's frame->data.padlen, which counts it),
 * n bytes read from q, the zero padding.  0; -1: out has not the room
 * (nothing written); -2: q had fewer than n bytes unread. */
int      h2q_frame(struct h2q *q, struct buf *out, const uint8_t *framehd, size_t n,
                   size_t padlen);

/* Header fields of one message, copied out of nghttp2's buffers. */
struct h2hdr {
	struct buf *b;              /* names and values */
	nghttp2_nv  nv[H2_NV_MAX];
	size_t      n;
	uint32_t    bytes;          /* name + value + 32 per field (RFC 9113 6.5.2) */
	uint8_t     full;           /* over H2_NV_MAX, or over the buffer */
};

int  h2hdr_add(struct h2hdr *h, const uint8_t *name, size_t nlen,
               const uint8_t *value, size_t vlen);
/* The first of the fields h->nv[0..n) named `name`, or NULL. */
const nghttp2_nv *h2hdr_find(const struct h2hdr *h, size_t n, const char *name);
void h2hdr_reset(struct h2hdr *h);

/* A session over one side, with its output staged. */
struct h2io {
	nghttp2_session *ng;
	struct side     *s;
	const uint8_t   *pend;      /* the rest of nghttp2's last chunk */
	size_t           pendlen;
	struct buf      *out;       /* staged frames */
	uint8_t          dirty;     /* on the flush list */
	uint8_t          failed;    /* read, write or protocol error: end it */
	int              ngerr;     /* nghttp2's error when it failed the session */
	void           (*kick)(struct h2io *io);   /* flush and re-arm (owner's) */
	struct h2io     *next_dirty;
	/* flood counters, per second */
	ev_tstamp        win_start;
	unsigned         resets, control;
};

void h2io_dirty(struct h2io *io);
/* Feed what was read (s->in) to nghttp2.  -1: the session failed. */
int  h2io_recv(struct h2io *io);
/* Write what nghttp2 has to send.  -1: failed (s->err, or nghttp2's). */
int  h2io_send(struct h2io *io);
/* nghttp2's send_data_callback for a DATA frame of q (h2q_provide): 0
 * once written to io->out, NGHTTP2_ERR_WOULDBLOCK while io->out must be
 * written first, or the error that resets the stream. */
int  h2io_data(struct h2io *io, struct h2q *q, const nghttp2_frame *f,
               const uint8_t *framehd, size_t n);
/* Nothing to send and nothing expected: the session may end. */
int  h2io_done(const struct h2io *io);
void h2io_free(struct h2io *io);
/* h2_mem.c: the allocator to give nghttp2_session_*_new3.  Blocks up to
 * about 1 KiB come from free lists (at most H2_MEM_KEEP bytes kept), the
 * rest from malloc. */
struct h2mem_stats {
	size_t   kept;              /* bytes on the free lists */
	uint64_t fresh;             /* small blocks malloc'd (the lists were empty) */
	uint64_t reused;            /* small blocks taken from a free list */
	uint64_t released;          /* small blocks freed past H2_MEM_KEEP */
	uint64_t large;             /* blocks too large for a class: malloc'd */
};
nghttp2_mem *h2mem(void);
void h2mem_stats(struct h2mem_stats *out);
/* Free what the lists keep (tests; an idle sidecar need not). */
void h2mem_trim(void);
/* h2_opts.c: the session options (limits) every session uses */
nghttp2_option *h2io_options(void);
/* Count a peer's RST_STREAM, SETTINGS or PING frame f: what it floods
 * with ("PINGs"...) when over the rate (the caller ends the session with
 * ENHANCE_YOUR_CALM), else NULL. */
const char *h2io_flood(struct h2io *io, const nghttp2_frame *f);

enum h2s_leg { H2S_FREE, H2S_HEAD, H2S_ROUTED, H2S_WAIT, H2S_UP, H2S_BACKOFF,
               H2S_DELAY, H2S_RESPONDING, H2S_DONE };

struct h2d;
struct h2u;

/* One stream: a request from downstream and its attempts upstream. */
struct h2s {
	enum h2s_leg     state;
	struct h2d      *d;         /* the downstream session; NULL: detached */
	int32_t          down_id;
	struct h2u      *u;         /* the upstream session of the attempt, or NULL */
	int32_t          up_id;
	struct h2s      *uprev, *unext;   /* streams of u (or of u's wait list) */
	struct h2s      *dprev, *dnext;   /* streams of d */
	struct h2hdr     req;       /* request header fields (pseudo first) */
	struct h2hdr     res;       /* response header fields, then trailers */
	struct h2q       reqq;      /* request body, down -> up */
	struct h2q       resq;      /* response body, up -> down */
	uint64_t         req_credit;   /* request bytes given back to downstream's window */
	uint8_t          req_end;   /* the request ended (END_STREAM) */
	uint8_t          req_trailers;  /* req.nv holds trailers after req_nhead */
	uint8_t          res_end;   /* the response ended upstream */
	uint8_t          res_head;  /* the response head went down */
	uint8_t          res_trailers;  /* res holds trailers after res_nhead */
	uint8_t          grpc;      /* the caller speaks gRPC */
	uint8_t          dead;      /* ended; waiting for the reaper */
	uint8_t          nfailed;
	size_t           req_nhead; /* fields of the request head in req */
	size_t           res_nhead; /* fields of the response head in res */
	int              status;    /* the response's :status */
	int              grpc_status;   /* -1: none seen */
	/* policy: as struct conn's fields of the same names */
	struct upstream *up;
	struct balance_ep *bep;
	uint64_t         bstart;
	struct retry_svc *rsvc;
	struct breaker  *brk;
	uint8_t          pending;   /* counted in rsvc->pending */
	uint32_t         tries;
	struct epaddr    failed[CONN_FAILED_MAX];
	ev_tstamp        deadline;  /* 0: none */
	ev_tstamp        delay_end; /* H2S_DELAY: an injected delay ends (fault.h) */
	uint16_t         fault_status;  /* an injected abort's status; 0: none */
	ev_timer         timer;     /* deadline and backoff */
	struct obs       obs;
	struct h2s      *next_free;
};

/* The downstream session: one per connection that spoke the preface. */
struct h2d {
	struct h2io      io;
	struct conn     *c;
	struct h2s      *streams;   /* open ones */
	unsigned         nstreams;
	uint8_t          draining;
};

/* An upstream session: one connection to one endpoint (or the app). */
struct h2u {
	struct h2io      io;
	struct upstream *up;
	struct upconn   *uc;
	struct h2s      *streams;   /* submitted */
	struct h2s      *waiting;   /* to submit once connected */
	unsigned         nstreams;
	uint8_t          ready;     /* connected; preface and SETTINGS sent */
	uint8_t          closing;   /* GOAWAY received or failed: takes no stream */
	uint8_t          dead;
	ev_tstamp        idle_since;
	struct h2u      *next;      /* all sessions */
	struct h2u      *next_dead;
};

/* h2_io.c: freed from the prepare watcher (h2s_free, h2u_free) */
void h2_reap_stream(struct h2s *s);
void h2_reap_up(struct h2u *u);
void h2s_free(struct h2s *s);
void h2u_free(struct h2u *u);

/* h2_stream.c: the stream's life */
uint64_t h2s_now_ms(void);
void h2s_timer_arm(struct h2s *s, ev_tstamp at);
void h2s_go(struct h2s *s);                /* the attempt starts */
struct h2s *h2s_new(struct h2d *d, int32_t id);
void h2s_request(struct h2s *s);           /* the request head is complete */
void h2s_request_data(struct h2s *s);      /* request body bytes or its end arrived */
void h2s_down_closed(struct h2s *s, uint32_t error_code);
void h2s_refuse(struct h2s *s, int code, const char *reason, int ours);

/* h2_policy.c: the route's policy per stream */
struct balance_service;
struct http_request;
void h2s_outcome(struct h2s *s, int ok);   /* the balanced endpoint's verdict */
void h2s_pending_leave(struct h2s *s);
int  h2s_policy(struct h2s *s, struct balance_service *bs, const struct http_request *r,
                const char **reason);
int  h2s_balance(struct h2s *s, struct balance_service *bs, const char **reason);
int  h2s_fault(struct h2s *s, const struct http_request *r);   /* 1: it took the stream */
void h2s_fault_go(struct h2s *s);          /* an injected delay is over */
void h2s_attempt_failed(struct h2s *s, int cause, int status, const char *why);
void h2s_response(struct h2s *s, int end);  /* the attempt's response head is in */

/* h2_up.c */
struct h2u *h2u_get(struct upstream *up);
int  h2u_submit(struct h2u *u, struct h2s *s);
void h2u_detach(struct h2s *s, uint32_t rst_code);
void h2u_resume(struct h2s *s);
void h2u_consumed(struct h2s *s, size_t n);

/* h2_relay.c */
int  h2r_send_data(nghttp2_session *ng, nghttp2_frame *f, const uint8_t *framehd,
                   size_t n, nghttp2_data_source *src, void *ud);   /* the body's frames */
int  h2r_response(struct h2s *s, int end);        /* the head goes down */
void h2r_data(struct h2s *s);                     /* body bytes or trailers arrived */
int  h2r_refusal(struct h2s *s, int code, const char *reason);
void h2r_rst(struct h2s *s, uint32_t code);       /* reset the downstream stream */

/* h2_down.c */
void h2d_consumed(struct h2s *s, size_t n);
void h2d_resume(struct h2s *s);
int  h2d_inbound(const struct h2d *d);

#endif
