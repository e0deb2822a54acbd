/* SPDX-License-Identifier: ISC */
/*
 * buf: a single-size buffer pool with a bounded free list.
 */
#include <stdlib.h>
#include <string.h>

#include "mesh/buf.h"

static size_t      pool_size = 16384;
static size_t      pool_keep = 64;
static struct buf *pool_free_list;
static size_t      pool_nfree;
static size_t      pool_nalloc;    /* live + free */

void
buf_pool_init(size_t size, size_t keep)
{
	/* The size may change only while nothing is allocated: every
	 * buffer in the pool has the same capacity. */
	if (pool_nalloc == 0 && size > 0)
		pool_size = size;
	pool_keep = keep;
}

struct buf *
buf_get(void)
{
	struct buf *b = pool_free_list;

	if (b != NULL) {
		pool_free_list = b->next;
		pool_nfree--;
	} else {
		b = malloc(sizeof(*b) + pool_size);
		if (b == NULL)
			return NULL;
		pool_nalloc++;
		b->cap = (uint32_t)pool_size;
	}
	b->next = NULL;
	b->off = 0;
	b->len = 0;
	return b;
}

void
buf_put(struct buf *b)
{
	if (b == NULL)
		return;
	if (pool_nfree >= pool_keep || b->cap != pool_size) {
		free(b);
		pool_nalloc--;
		return;
	}
	b->next = pool_free_list;
	pool_free_list = b;
	pool_nfree++;
}

size_t buf_pool_allocated(void) { return pool_nalloc; }
size_t buf_pool_free(void) { return pool_nfree; }
size_t buf_pool_size(void) { return pool_size; }

void
buf_commit(struct buf *b, size_t n)
{
	b->len += (uint32_t)n;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->off = 0;
		b->len = 0;
		return;
	}
	b->off += (uint32_t)n;
	b->len -= (uint32_t)n;
}

void
buf_compact(struct buf *b)
{
	if (b->off == 0)
		return;
	if (b->len > 0)
		memmove(b->data, b->data + b->off, b->len);
	b->off = 0;
}

size_t
buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_room(b) < n)
		buf_compact(b);
	if (n > buf_room(b))
		n = buf_room(b);
	memcpy(buf_tail(b), p, n);
	b->len += (uint32_t)n;
	return n;
}
