/*
 * replay: the retry buffer (include/mesh/replay.h).
 */
#include <string.h>

#include "mesh/relay.h"
#include "mesh/replay.h"

void
replay_end(struct replay *r)
{
	uint16_t i;

	for (i = 0; i < r->n; i++)
		buf_put(r->b[i]);
	r->n = 0;
	r->cur = 0;
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
		struct buf *b = r->n > 0 ? r->b[r->n - 1] : NULL;

		if (b == NULL || buf_room(b) == 0) {
			if (r->n == REPLAY_BUFS || (b = buf_get()) == NULL) {
				replay_overflow(r);
				return;
			}
			r->b[r->n] = b;
			r->len[r->n] = 0;
			r->n++;
		}
		k = buf_append(b, p, n);
		r->len[r->n - 1] += (uint32_t)k;
		r->total += k;
		p += k;
		n -= k;
	}
}

void
replay_untap(struct replay *r, size_t n)
{
	if (!r->on)
		return;
	while (n > 0 && r->n > 0) {
		struct buf *b = r->b[r->n - 1];
		size_t k = n < b->len ? n : b->len;

		b->len -= (uint32_t)k;
		r->len[r->n - 1] -= (uint32_t)k;
		r->total -= k;
		n -= k;
		if (b->len == 0) {
			buf_put(b);
			r->n--;
		}
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
	uint16_t i;

	/* the chain is only ever appended to from offset 0: sending
	 * consumed from the front, so its bytes are all still in place */
	for (i = 0; i < r->n; i++) {
		r->b[i]->off = 0;
		r->b[i]->len = r->len[i];
	}
	r->cur = 0;
}

int
replay_send(struct replay *r, struct side *dst)
{
	while (r->cur < r->n) {
		struct buf *b = r->b[r->cur];

		if (b->len > 0) {
			if (dst->wblocked)
				return 0;
			if (side_send(dst, b, NULL, 0) == -1)
				return -1;
			if (b->len > 0)
				return 0;
		}
		r->cur++;
	}
	replay_rewind(r);   /* whole again: later body bytes append behind it */
	r->cur = r->n;
	return 1;
}
