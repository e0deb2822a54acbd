/* SPDX-License-Identifier: ISC */
/*
 * h2_queue: a stream's bytes in one direction, in pool buffers (nothing
 * allocated per request once the pool is warm), and the header fields of
 * one message.  A body read out is dropped at once unless `keep`: then
 * it stays so a retry can send it again, up to keep_max bytes, after
 * which keeping stops for good (the request cannot be replayed).  DATA
 * frames take their payload straight from the queue into the session's
 * output (h2q_provide, h2q_frame): nghttp2 never holds a copy.
 */
#include <string.h>

#include "h2_int.h"

void
h2q_init(struct h2q *q, uint64_t keep_max)
{
	memset(q, 0, sizeof(*q));
	q->keep_max = keep_max;
	q->keep = keep_max > 0;
}

static void
h2q_drop_read(struct h2q *q)
{
	struct buf *b;

	while ((b = q->first) != NULL && b != q->cur) {
		q->first = b->next;
		buf_put(b);
	}
	if (q->first == NULL) {
		q->last = NULL;
		q->cur = NULL;
		q->curoff = 0;
		return;
	}
	buf_consume(q->first, q->curoff);
	q->curoff = 0;
	if (q->first->len == 0 && q->first->next == NULL) {
		buf_put(q->first);
		q->first = q->last = q->cur = NULL;
	}
}

int
h2q_append(struct h2q *q, const uint8_t *p, size_t n)
{
	struct buf *b;
	size_t k;

	while (n > 0) {
		if ((b = q->last) == NULL || buf_room(b) == 0) {
			if ((b = buf_get()) == NULL)
				return -1;
			b->next = NULL;
			if (q->last != NULL)
				q->last->next = b;
			else
				q->first = b;
			q->last = b;
			if (q->cur == NULL) {
				q->cur = b;
				q->curoff = 0;
			}
		}
		k = buf_append(b, p, n);
		p += k;
		n -= k;
		q->total += k;
	}
	if (q->keep && q->total > q->keep_max)
		h2q_stop_keeping(q);
	return 0;
}

size_t
h2q_read(struct h2q *q, uint8_t *dst, size_t max)
{
	size_t done = 0, k;

	while (done < max && q->cur != NULL) {
		k = q->cur->len - q->curoff;
		if (k > max - done)
			k = max - done;
		memcpy(dst + done, buf_head(q->cur) + q->curoff, k);
		done += k;
		q->curoff += (uint32_t)k;
		if (q->curoff < q->cur->len)
			break;
		if (q->cur->next == NULL)
			break;       /* stay at the end of the last buffer */
		q->cur = q->cur->next;
		q->curoff = 0;
	}
	q->pos += done;
	if (q->pos > q->high)
		q->high = q->pos;
	if (!q->keep)
		h2q_drop_read(q);
	return done;
}

uint64_t
h2q_unread(const struct h2q *q)
{
	return q->total - q->pos;
}

int
h2q_rewind(struct h2q *q)
{
	if (q->lost)
		return -1;
	q->cur = q->first;
	q->curoff = 0;
	q->pos = 0;
	return 0;
}

void
h2q_stop_keeping(struct h2q *q)
{
	if (!q->keep)
		return;
	q->keep = 0;
	if (q->pos > 0)
		q->lost = 1;
	h2q_drop_read(q);
}

ssize_t
h2q_provide(nghttp2_session *ng, int32_t id, const struct h2q *q, size_t len, int ended,
            const struct h2hdr *trailers, size_t from, uint32_t *flags)
{
	uint64_t unread = h2q_unread(q);
	size_t n = buf_pool_size() - H2_FRAME_HDLEN;   /* one buffer holds the frame */

	if (n > len)
		n = len;
	if (n > unread)
		n = (size_t)unread;
	if (n > 0)
		*flags |= NGHTTP2_DATA_FLAG_NO_COPY;
	if (unread == n && ended) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		if (trailers != NULL && trailers->n > from) {
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
			nghttp2_submit_trailer(ng, id, &trailers->nv[from], trailers->n - from);
		}
	} else if (n == 0)
		return NGHTTP2_ERR_DEFERRED;
	return (ssize_t)n;
}

int
h2q_frame(struct h2q *q, struct buf *out, const uint8_t *framehd, size_t n, size_t padlen)
{
	size_t need = H2_FRAME_HDLEN + n + padlen;
	uint8_t *p;

	if (buf_free_total(out) < need)
		return -1;
	if (buf_room(out) < need)
		buf_compact(out);
	p = (uint8_t *)buf_tail(out);
	memcpy(p, framehd, H2_FRAME_HDLEN);
	p += H2_FRAME_HDLEN;
	if (padlen > 0)
		*p++ = (uint8_t)(padlen - 1);   /* Pad Length; padlen counts this byte */
	if (h2q_read(q, p, n) != n)
		return -2;
	p += n;
	if (padlen > 1)
		memset(p, 0, padlen - 1);
	buf_commit(out, need);
	return 0;
}

void
h2q_free(struct h2q *q)
{
	struct buf *b;

	while ((b = q->first) != NULL) {
		q->first = b->next;
		buf_put(b);
	}
	q->last = q->cur = NULL;
	q->curoff = 0;
	q->total = q->pos = q->high = 0;
}

int
h2hdr_add(struct h2hdr *h, const uint8_t *name, size_t nlen, const uint8_t *value,
          size_t vlen)
{
	nghttp2_nv *nv;
	char *p;

	h->bytes += (uint32_t)(nlen + vlen + 32);
	if (h->n >= H2_NV_MAX) {
		h->full = 1;
		return -1;
	}
	if (h->b == NULL && (h->b = buf_get()) == NULL) {
		h->full = 1;
		return -1;
	}
	if (buf_room(h->b) < nlen + vlen) {
		h->full = 1;
		return -1;
	}
	p = buf_tail(h->b);
	memcpy(p, name, nlen);
	memcpy(p + nlen, value, vlen);
	buf_commit(h->b, nlen + vlen);
	nv = &h->nv[h->n++];
	nv->name = (uint8_t *)p;
	nv->namelen = nlen;
	nv->value = (uint8_t *)p + nlen;
	nv->valuelen = vlen;
	nv->flags = NGHTTP2_NV_FLAG_NONE;
	return 0;
}

const nghttp2_nv *
h2hdr_find(const struct h2hdr *h, size_t n, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < n && i < h->n; i++)
		if (h->nv[i].namelen == len && memcmp(h->nv[i].name, name, len) == 0)
			return &h->nv[i];
	return NULL;
}

void
h2hdr_reset(struct h2hdr *h)
{
	buf_put(h->b);
	h->b = NULL;
	h->n = 0;
	h->bytes = 0;
	h->full = 0;
}
