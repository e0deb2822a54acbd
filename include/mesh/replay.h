/* SPDX-License-Identifier: ISC */
/*
 * replay: the retry buffer — a copy of the request body bytes already
 * sent upstream, so a retry can send head and body again.
 *
 * While a request to a route with retries is relayed, relay_pump() taps
 * every body byte it writes upstream into a chain of pooled buffers
 * (replay_tap, then replay_untap for what the socket did not take).  The
 * bytes are kept as they went — chunked framing included — so a retry
 * sends the head, the chain, then goes on relaying the client's body from
 * where it was.  Past `max` bytes (the route's retry_buffer, at most
 * REPLAY_BUFS pool buffers) the chain is released and the request is no longer
 * replayable.  Nothing is allocated but pooled buffers; an exchange
 * without retries never taps.
 */
#ifndef MESH_REPLAY_H
#define MESH_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "mesh/buf.h"

#define REPLAY_BUFS 64     /* at most 64 pooled buffers: 1 MiB at the default 16 KiB */

struct side;

/*
 * The kept bytes are a chain of pooled buffers linked through buf->next
 * (free while a buffer is checked out), so a connection carries 48 bytes
 * for it, not an array.  Every buffer but the last is full.
 */
struct replay {
	struct buf *first, *last;  /* the chain */
	struct buf *cur;           /* replay_send: the next buffer to send */
	uint32_t    n;             /* buffers in the chain */
	uint8_t     on;            /* tapping */
	uint8_t     over;          /* went past max: not replayable */
	uint64_t    total;         /* bytes kept */
	uint64_t    max;
};

/* Start keeping up to max bytes (an earlier chain is released). */
void replay_start(struct replay *r, uint64_t max);
/* Keep n more bytes (may overflow: then everything is released). */
void replay_tap(struct replay *r, const char *p, size_t n);
/* Forget the last n bytes kept (they were not sent after all). */
void replay_untap(struct replay *r, size_t n);
/* Every body byte sent so far is kept. */
int  replay_ok(const struct replay *r);
/* Prepare to send the chain from its start. */
void replay_rewind(struct replay *r);
/* Send what is left of the chain: 1 all sent, 0 blocked, -1 error. */
int  replay_send(struct replay *r, struct side *dst);
/* Release the buffers; tapping stops. */
void replay_end(struct replay *r);

#endif
