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
 * REPLAY_MAX) the chain is released and the request is no longer
 * replayable.  Nothing is allocated but pooled buffers; an exchange
 * without retries never taps.
 */
#ifndef MESH_REPLAY_H
#define MESH_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "mesh/buf.h"

#define REPLAY_BUFS 64     /* 64 pooled buffers: 1 MiB at the default 16 KiB */

struct side;

struct replay {
	struct buf *b[REPLAY_BUFS];
	uint32_t    len[REPLAY_BUFS];  /* bytes kept in b[i] */
	uint16_t    n;                 /* buffers in use */
	uint16_t    cur;               /* replay_send: next buffer to send */
	uint8_t     on;                /* tapping */
	uint8_t     over;              /* went past max: not replayable */
	uint64_t    total;             /* bytes kept */
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
