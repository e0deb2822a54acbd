/* SPDX-License-Identifier: ISC */
/*
 * otlp_queue: the exporter's bounded queue of spans waiting to be sent,
 * a ring of fixed records allocated once (otlp.h).  Full means full:
 * the caller counts what does not fit as dropped.
 */
#include <stdlib.h>
#include <string.h>

#include "mesh/otlp.h"

int
otlp_queue_init(struct otlp_queue *q, size_t cap)
{
	memset(q, 0, sizeof(*q));
	if (cap == 0 || (q->r = calloc(cap, sizeof(*q->r))) == NULL)
		return -1;
	q->cap = cap;
	return 0;
}

void
otlp_queue_free(struct otlp_queue *q)
{
	free(q->r);
	memset(q, 0, sizeof(*q));
}

struct stats_span_rec *
otlp_queue_room(struct otlp_queue *q, size_t *room)
{
	size_t tail = (q->head + q->len) % (q->cap != 0 ? q->cap : 1);

	if (q->len == q->cap) {
		*room = 0;
		return NULL;
	}
	/* up to the end of the array, or up to the head when it wrapped */
	*room = tail >= q->head ? q->cap - tail : q->head - tail;
	if (*room > q->cap - q->len)
		*room = q->cap - q->len;
	return q->r + tail;
}

void
otlp_queue_commit(struct otlp_queue *q, size_t n)
{
	q->len += n;
}

size_t
otlp_queue_push(struct otlp_queue *q, const struct stats_span_rec *s, size_t n)
{
	struct stats_span_rec *dst;
	size_t done = 0, room;

	/* at most two contiguous pieces */
	while (done < n && (dst = otlp_queue_room(q, &room)) != NULL) {
		if (room > n - done)
			room = n - done;
		memcpy(dst, s + done, room * sizeof(*s));
		otlp_queue_commit(q, room);
		done += room;
	}
	return done;
}

size_t
otlp_queue_peek(const struct otlp_queue *q, const struct stats_span_rec **out, size_t max)
{
	size_t i, n = q->len < max ? q->len : max;

	for (i = 0; i < n; i++)
		out[i] = &q->r[(q->head + i) % q->cap];
	return n;
}

void
otlp_queue_pop(struct otlp_queue *q, size_t n)
{
	if (n > q->len)
		n = q->len;
	q->len -= n;
	q->head = q->len == 0 ? 0 : (q->head + n) % q->cap;
}
