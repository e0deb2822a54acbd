/* SPDX-License-Identifier: ISC */
/*
 * relay: moving bytes from one leg to the other with backpressure.
 *
 * A `side` is one connected socket of the proxy: its transport, its
 * watcher, and the bytes read from it that nobody has consumed yet
 * (`in`, a pool buffer held only while non-empty or being filled).
 * Bytes read from a source side are written straight out of its `in`
 * buffer to the destination: no copy.  When the destination blocks,
 * `in` fills up and the source is no longer read: that is the
 * backpressure, and it bounds the memory of a transfer to one buffer
 * per direction whatever the body size.
 *
 * A `flow` is the framing of what is relayed: a Content-Length body, a
 * chunked body (relayed as is; http_chunked_scan finds its end), a body
 * that ends with the connection, or a tunnel.  Only bytes the flow has
 * approved (`ready`) are written; bytes beyond the end of a body stay
 * in `in` (a pipelined request, for instance).
 */
#ifndef MESH_RELAY_H
#define MESH_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "mesh/buf.h"
#include "mesh/http.h"
#include "mesh/transport.h"

struct side {
	struct tconn tc;
	ev_io        io;
	struct buf  *in;        /* rw: unconsumed bytes read from this side, or NULL */
	unsigned     armed;     /* private: events the watcher runs with (0 = stopped) */
	uint8_t      readable;  /* rw: a read may return data (an event fired, no EAGAIN since) */
	uint8_t      wblocked;  /* rw: the last write hit EAGAIN (or was short) */
	uint8_t      eof;       /* ro: the peer closed its direction */
	uint8_t      err;       /* ro: a read or write failed; errnum says why */
	uint8_t      shut;      /* ro: we closed our direction */
	int          errnum;
};

enum relay_kind {
	RELAY_NONE,     /* no body */
	RELAY_LENGTH,   /* `remaining` bytes */
	RELAY_CHUNKED,  /* chunked coding, ends after the last chunk's trailers */
	RELAY_EOF,      /* ends when the source closes */
	RELAY_TUNNEL,   /* like EOF, and the close is passed on as a shutdown */
};

struct replay;

struct flow {
	enum relay_kind     kind;
	uint64_t            remaining;   /* private: RELAY_LENGTH */
	struct http_chunked ch;          /* private: RELAY_CHUNKED */
	size_t              ready;       /* ro: approved bytes at the front of src->in */
	uint64_t            sent;        /* ro: body bytes written so far */
	uint8_t             done;        /* ro: every byte of the body has been approved */
	struct replay      *tap;         /* set after flow_start: body bytes written are
	                                  * kept there (replay.h), or NULL */
};

enum relay_result {
	RELAY_AGAIN,    /* blocked: wait for events */
	RELAY_DONE,     /* the whole flow is written (a tunnel's shutdown sent) */
	RELAY_SRC_EOF,  /* the source closed before the end of the body */
	RELAY_SRC_ERR,  /* reading the source failed */
	RELAY_DST_ERR,  /* writing the destination failed */
	RELAY_BAD,      /* malformed chunked framing */
};

/* Start using a connected socket; cb gets the watcher (not yet started). */
int  side_open(struct side *s, const struct transport *t, int fd, int server,
               void (*cb)(struct ev_loop *, ev_io *, int));
/* Stop the watcher, close the transport, give the buffer back. */
void side_close(struct ev_loop *loop, struct side *s);
/* Run the watcher with exactly these wishes (translated through the
 * transport's rwant/wwant); cheap when nothing changes. */
void side_arm(struct ev_loop *loop, struct side *s, int want_read, int want_write);
/* Record what an event means for the side (call first in io callbacks). */
void side_event(struct side *s, int revents);
/* Give `in` back to the pool if it is empty. */
void side_trim(struct side *s);
/* Room to read more into `in`? */
int  side_has_room(const struct side *s);

/* Read once into s->in.  1: bytes added; 0: nothing now (EAGAIN, or no
 * room); -1: end of stream (s->eof) or error (s->err). */
int  side_fill(struct side *s);
/*
 * Write `head` (if non-NULL and non-empty) then n bytes from the front of
 * src (may be NULL when n is 0) in one writev; consume what was written.
 * Returns the number of src bytes written, or -1 on error (dst->err).
 */
long side_send(struct side *dst, struct buf *head, struct buf *src, size_t n);

/* The flow kind for a parsed message's body. */
enum relay_kind relay_kind_from_http(enum http_body b);
/* Start a flow over the bytes already in src->in (approves what it can). */
int  flow_start(struct flow *f, enum relay_kind kind, uint64_t length,
                const struct http_limits *lim, struct side *src);
/* Approve newly read bytes.  0, or -1 on malformed chunked framing. */
int  flow_scan(struct flow *f, struct side *src);

/*
 * Move as much of the flow as possible from src to dst, `head` first.
 * may_read: whether src may be read (only when the state machine wants
 * this direction's bytes).
 */
enum relay_result relay_pump(struct side *src, struct side *dst, struct flow *f,
                             struct buf *head, int may_read);

#endif
