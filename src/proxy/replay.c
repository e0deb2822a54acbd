/* SPDX-License-Identifier: ISC */
/*
 * replay: the retry buffer (include/mesh/replay.h).
 */
#include <string.h>

#include "mesh/relay.h"
#include "mesh/replay.h"

void
replay_end(struct replay *r)
{
	struct buf *b, *next;

	for (b = r->first; b != NULL; b = next) {
		next = b->next;
		buf_put(b);
	}
	r->first = r->last = r->cur = NULL;
	r->n = 0;
	r->on = 0;
	r->total = 0;
}

void
replay_start(struct replay *r, uint64_t max)
{
	replay_end(r);
	r->over = 0;
	r->max = max;
	r->on = 1;
}

static void
replay_overflow(struct replay *r)
{
	replay_end(r);
	r->over = 1;
}

void
replay_tap(struct replay *r, const char *p, size_t n)
{
	size_t k;

	if (!r->on || n == 0)
		return;
	if (r->total + n > r->max) {
		replay_overflow(r);
		return;
	}
	while (n > 0) {
		struct buf *b = r->last;

		if (b == NULL || buf_room(b) == 0) {
			if (r->n == REPLAY_BUFS || (b = buf_get()) == NULL) {
				replay_overflow(r);
				return;
			}
			b->next = NULL;
			if (r->last != NULL)
				r->last->next = b;
			else
				r->first = b;
			r->last = b;
			r->n++;
		}
		k = buf_append(b, p, n);
		r->total += k;
		p += k;
		n -= k;
	}
}

/* Drop the chain's last buffer (rare: a write the socket took less of). */
static void
replay_drop_last(struct replay *r)
{
	struct buf *b = r->first;

	if (b == r->last) {
		r->first = NULL;
	} else {
		while (b->next != r->last)
			b = b->next;
		b->next = NULL;
	}
	buf_put(r->last);
	r->last = r->first == NULL ? NULL : b;
	r->n--;
}

void
replay_untap(struct replay *r, size_t n)
{
	if (!r->on)
		return;
	while (n > 0 && r->last != NULL) {
		struct buf *b = r->last;
		size_t k = n < b->len ? n : b->len;

		b->len -= (uint32_t)k;
		r->total -= k;
		n -= k;
		if (b->len == 0)
			replay_drop_last(r);
	}
}

int
replay_ok(const struct replay *r)
{
	return r->on && !r->over;
}

void
replay_rewind(struct replay *r)
{
	struct buf *b;
	uint64_t left = r->total;

	/* the chain is only ever appended to from offset 0 and every buffer
	 * but the last is full: sending consumed from the front, so all the
	 * bytes are still in place */
	for (b = r->first; b != NULL; b = b->next) {
		b->off = 0;
		b->len = b->next != NULL ? b->cap : (uint32_t)left;
		left -= b->len;
	}
	r->cur = r->first;
}

int
replay_send(struct replay *r, struct side *dst)
{
	while (r->cur != NULL) {
		struct buf *b = r->cur;

		if (b->len > 0) {
			if (dst->wblocked)
				return 0;
			if (side_send(dst, b, NULL, 0) == -1)
				return -1;
			if (b->len > 0)
				return 0;
		}
		r->cur = b->next;
	}
	replay_rewind(r);   /* whole again: later body bytes append behind it */
	r->cur = NULL;
	return 1;
}
