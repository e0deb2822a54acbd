/* SPDX-License-Identifier: ISC */
/*
 * test_h2_queue: a stream's bytes cross pool buffers intact, are dropped
 * as they are read unless kept, are given back whole on a rewind while
 * kept, and keeping stops for good past keep_max; a DATA frame goes from
 * the queue to the output whole (NO_COPY); header fields stay within
 * their bounds; the preface is told from HTTP/1.1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "h2_int.h"

#define BUFSZ 4096

static int
setup(void **state)
{
	(void)state;
	buf_pool_init(BUFSZ, 64);
	return 0;
}

static void
pattern(uint8_t *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void
test_across_buffers(void **state)
{
	static uint8_t in[3 * BUFSZ + 100], out[sizeof(in)];
	struct h2q q;
	size_t got = 0, n;
	size_t before = buf_pool_free();

	(void)state;
	memset(&q, 0, sizeof(q));
	pattern(in, sizeof(in), 1);
	assert_int_equal(h2q_append(&q, in, 1000), 0);
	assert_int_equal(h2q_append(&q, in + 1000, sizeof(in) - 1000), 0);
	assert_int_equal(h2q_unread(&q), sizeof(in));
	while ((n = h2q_read(&q, out + got, 1500)) > 0)
		got += n;
	assert_int_equal(got, sizeof(in));
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(h2q_unread(&q), 0);
	assert_int_equal(q.high, sizeof(in));
	/* not kept: every buffer went back as it was read */
	assert_null(q.first);
	assert_true(buf_pool_free() >= before);
	/* more after the end: read on */
	assert_int_equal(h2q_append(&q, in, 10), 0);
	assert_int_equal(h2q_read(&q, out, sizeof(out)), 10);
	h2q_free(&q);
}

static void
test_keep_and_rewind(void **state)
{
	static uint8_t in[2 * BUFSZ], out[sizeof(in)];
	struct h2q q;

	(void)state;
	memset(&q, 0, sizeof(q));
	q.keep_max = sizeof(in);
	q.keep = 1;
	pattern(in, sizeof(in), 3);
	assert_int_equal(h2q_append(&q, in, sizeof(in)), 0);
	assert_int_equal(h2q_read(&q, out, sizeof(out)), sizeof(out));
	assert_memory_equal(in, out, sizeof(in));
	/* a retry sends it all again */
	assert_int_equal(h2q_rewind(&q), 0);
	assert_int_equal(h2q_unread(&q), sizeof(in));
	memset(out, 0, sizeof(out));
	assert_int_equal(h2q_read(&q, out, sizeof(out)), sizeof(out));
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(q.high, sizeof(in));
	/* one byte over the bound: what was read is gone, no rewind */
	assert_int_equal(h2q_append(&q, in, 1), 0);
	assert_int_equal(q.keep, 0);
	assert_int_equal(h2q_rewind(&q), -1);
	assert_int_equal(h2q_read(&q, out, sizeof(out)), 1);
	assert_int_equal(out[0], in[0]);
	h2q_free(&q);
}

/* A DATA frame is sized by h2q_provide (NO_COPY, at most a buffer with
 * its header) and written by h2q_frame from the queue: header, Pad
 * Length, payload, padding; refused whole when the output lacks room. */
static void
test_frame_no_copy(void **state)
{
	static uint8_t in[BUFSZ + 100];
	static const uint8_t hd[H2_FRAME_HDLEN] = { 0, 0, 10, 0, 0x8, 0, 0, 0, 1 };
	struct buf *out = buf_get();
	uint32_t flags = 0;
	struct h2q q;
	uint8_t *p;

	(void)state;
	assert_non_null(out);
	memset(&q, 0, sizeof(q));
	pattern(in, sizeof(in), 5);
	/* nothing queued, more to come: deferred; ended: an empty last frame */
	assert_int_equal(h2q_provide(NULL, 1, &q, 16384, 0, NULL, 0, &flags),
	    NGHTTP2_ERR_DEFERRED);
	assert_int_equal(h2q_provide(NULL, 1, &q, 16384, 1, NULL, 0, &flags), 0);
	assert_int_equal(flags, NGHTTP2_DATA_FLAG_EOF);
	assert_int_equal(h2q_append(&q, in, sizeof(in)), 0);
	flags = 0;
	assert_int_equal(h2q_provide(NULL, 1, &q, 16384, 1, NULL, 0, &flags),
	    BUFSZ - H2_FRAME_HDLEN);
	assert_int_equal(flags, NGHTTP2_DATA_FLAG_NO_COPY);   /* not the end yet */
	flags = 0;
	assert_int_equal(h2q_provide(NULL, 1, &q, 100, 0, NULL, 0, &flags), 100);
	/* 10 bytes with 3 of padding (Pad Length byte and 2 zeros) */
	assert_int_equal(h2q_frame(&q, out, hd, 10, 3), 0);
	assert_int_equal(out->len, H2_FRAME_HDLEN + 13);
	p = (uint8_t *)buf_head(out);
	assert_memory_equal(p, hd, H2_FRAME_HDLEN);
	assert_int_equal(p[H2_FRAME_HDLEN], 2);
	assert_memory_equal(p + H2_FRAME_HDLEN + 1, in, 10);
	assert_int_equal(p[H2_FRAME_HDLEN + 11], 0);
	assert_int_equal(p[H2_FRAME_HDLEN + 12], 0);
	assert_int_equal(h2q_unread(&q), sizeof(in) - 10);
	/* no room for a full frame: nothing written, nothing read */
	assert_int_equal(h2q_frame(&q, out, hd, BUFSZ - H2_FRAME_HDLEN, 0), -1);
	assert_int_equal(out->len, H2_FRAME_HDLEN + 13);
	assert_int_equal(h2q_unread(&q), sizeof(in) - 10);
	buf_consume(out, out->len);
	assert_int_equal(h2q_frame(&q, out, hd, BUFSZ - H2_FRAME_HDLEN, 0), 0);
	assert_memory_equal(buf_head(out) + H2_FRAME_HDLEN, in + 10, BUFSZ - H2_FRAME_HDLEN);
	buf_consume(out, out->len);
	/* the rest, and the end of the body with it */
	flags = 0;
	assert_int_equal(h2q_provide(NULL, 1, &q, 16384, 1, NULL, 0, &flags),
	    sizeof(in) - 10 - (BUFSZ - H2_FRAME_HDLEN));
	assert_int_equal(flags, NGHTTP2_DATA_FLAG_NO_COPY | NGHTTP2_DATA_FLAG_EOF);
	/* a queue shorter than the frame nghttp2 was promised */
	assert_int_equal(h2q_frame(&q, out, hd, BUFSZ - H2_FRAME_HDLEN, 0), -2);
	h2q_free(&q);
	buf_put(out);
}

static void
test_stop_before_read(void **state)
{
	uint8_t in[100], out[100];
	struct h2q q;

	(void)state;
	memset(&q, 0, sizeof(q));
	q.keep_max = 50;
	q.keep = 1;
	pattern(in, sizeof(in), 5);
	/* over the bound before any byte went: nothing lost yet */
	assert_int_equal(h2q_append(&q, in, sizeof(in)), 0);
	assert_int_equal(q.keep, 0);
	assert_int_equal(q.lost, 0);
	assert_int_equal(h2q_read(&q, out, sizeof(out)), sizeof(out));
	assert_memory_equal(in, out, sizeof(in));
	h2q_free(&q);
}

static void
test_header_bounds(void **state)
{
	struct h2hdr h;
	static uint8_t big[BUFSZ];
	unsigned i;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_int_equal(h2hdr_add(&h, (const uint8_t *)":path", 5,
	    (const uint8_t *)"/x", 2), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.nv[0].namelen, 5);
	assert_memory_equal(h.nv[0].value, "/x", 2);
	assert_int_equal(h.bytes, 5 + 2 + 32);
	for (i = 1; i < H2_NV_MAX; i++)
		assert_int_equal(h2hdr_add(&h, (const uint8_t *)"a", 1,
		    (const uint8_t *)"b", 1), 0);
	assert_int_equal(h2hdr_add(&h, (const uint8_t *)"a", 1, (const uint8_t *)"b", 1), -1);
	assert_int_equal(h.full, 1);
	h2hdr_reset(&h);
	assert_int_equal(h.n, 0);
	/* a value larger than the buffer */
	memset(big, 'v', sizeof(big));
	assert_int_equal(h2hdr_add(&h, (const uint8_t *)"x", 1, big, sizeof(big)), -1);
	assert_int_equal(h.full, 1);
	h2hdr_reset(&h);
}

static void
test_preface(void **state)
{
	(void)state;
	assert_int_equal(h2_preface(H2_PREFACE, H2_PREFACE_LEN), 1);
	assert_int_equal(h2_preface(H2_PREFACE "\0\0\0\4", H2_PREFACE_LEN + 4), 1);
	assert_int_equal(h2_preface("PRI * HT", 8), -1);
	assert_int_equal(h2_preface("GET / HTTP/1.1\r\n", 16), 0);
	assert_int_equal(h2_preface("PRI * HTTP/1.1\r\n\r\n", 18), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_across_buffers),
		cmocka_unit_test(test_keep_and_rewind),
		cmocka_unit_test(test_frame_no_copy),
		cmocka_unit_test(test_stop_before_read),
		cmocka_unit_test(test_header_bounds),
		cmocka_unit_test(test_preface),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
