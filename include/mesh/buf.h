/* SPDX-License-Identifier: ISC */
/*
 * buf: fixed-size byte buffers from a pool, so the proxy's steady path
 * allocates nothing per request.
 *
 * Every buffer in the pool has the same capacity (set once by
 * buf_pool_init, at least the largest header block a connection may
 * have to hold).  Freed buffers go on a free list of at most `keep`
 * entries; beyond that they are released to the allocator, so an idle
 * sidecar shrinks back after a burst.  A connection holds a buffer only
 * while it has unconsumed bytes: an idle keep-alive connection holds none.
 *
 * Layout of the live bytes: data[off .. off+len).  Readers append at
 * data[off+len], consumers take from data[off].
 */
#ifndef MESH_BUF_H
#define MESH_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	struct buf *next;   /* the free list while pooled; the holder may chain
	                     * live buffers through it (replay.h) */
	uint32_t    off;    /* ro: start of live bytes */
	uint32_t    len;    /* ro: number of live bytes */
	uint32_t    cap;    /* ro: capacity of data[] */
	char        data[]; /* rw through the helpers below */
};

/* Set the buffer size and how many free buffers to keep.  Call once,
 * before the first buf_get; later calls only change `keep`. */
void        buf_pool_init(size_t size, size_t keep);
/* A buffer with len 0, or NULL when the allocator fails. */
struct buf *buf_get(void);
/* Return a buffer to the pool (NULL is a no-op). */
void        buf_put(struct buf *b);
/* Statistics for tests and the report: allocated buffers, free ones. */
size_t      buf_pool_allocated(void);
size_t      buf_pool_free(void);
size_t      buf_pool_size(void);

static inline char *buf_head(struct buf *b) { return b->data + b->off; }
static inline char *buf_tail(struct buf *b) { return b->data + b->off + b->len; }
/* Bytes that can be appended without moving anything. */
static inline size_t buf_room(const struct buf *b) { return b->cap - b->off - b->len; }
/* Bytes that could be appended after buf_compact. */
static inline size_t buf_free_total(const struct buf *b) { return b->cap - b->len; }

/* Account for n bytes written at buf_tail(). */
void buf_commit(struct buf *b, size_t n);
/* Drop n bytes from the front; an emptied buffer rewinds to off 0. */
void buf_consume(struct buf *b, size_t n);
/* Move the live bytes to the front so buf_room() == buf_free_total(). */
void buf_compact(struct buf *b);
/* Append bytes; returns how many fitted (compacting if needed). */
size_t buf_append(struct buf *b, const void *p, size_t n);

#endif
