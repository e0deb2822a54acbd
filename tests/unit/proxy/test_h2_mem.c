/* SPDX-License-Identifier: ISC */
/*
 * test_h2_mem: a client and a server session over h2_mem's allocator
 * carry requests with no malloc once warm (and the census of the sizes
 * nghttp2 asks for per stream, printed for docs/performance.md); the free
 * lists keep at most H2_MEM_KEEP bytes; realloc keeps the bytes across
 * classes and into malloc'd blocks; calloc zeroes and refuses overflow.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "h2_int.h"

/* ---- the census: h2mem() behind a wrapper that counts sizes ---------- */
#define CENSUS_MAX 2048
static unsigned long census[CENSUS_MAX + 1];   /* [CENSUS_MAX]: larger */
static int counting;

static void *
c_malloc(size_t n, void *ud)
{
	if (counting)
		census[n < CENSUS_MAX ? n : CENSUS_MAX]++;
	return h2mem()->malloc(n, ud);
}

static void
c_free(void *p, void *ud)
{
	h2mem()->free(p, ud);
}

static void *
c_calloc(size_t a, size_t b, void *ud)
{
	if (counting)
		census[a * b < CENSUS_MAX ? a * b : CENSUS_MAX]++;
	return h2mem()->calloc(a, b, ud);
}

static void *
c_realloc(void *p, size_t n, void *ud)
{
	if (counting)
		census[n < CENSUS_MAX ? n : CENSUS_MAX]++;
	return h2mem()->realloc(p, n, ud);
}

static nghttp2_mem census_mem = { NULL, c_malloc, c_free, c_calloc, c_realloc };

/* ---- two sessions wired back to back ---------------------------------- */
static uint8_t wire[2][1 << 16];   /* [0]: client -> server */
static size_t  nwire[2];

static ssize_t
send_cb(nghttp2_session *ng, const uint8_t *p, size_t n, int flags, void *ud)
{
	int dir = *(int *)ud;

	(void)ng;
	(void)flags;
	if (n > sizeof(wire[dir]) - nwire[dir])
		return NGHTTP2_ERR_WOULDBLOCK;
	memcpy(wire[dir] + nwire[dir], p, n);
	nwire[dir] += n;
	return (ssize_t)n;
}

static ssize_t
body_cb(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
        nghttp2_data_source *src, void *ud)
{
	size_t n = len < 62 ? len : 62;

	(void)ng;
	(void)id;
	(void)src;
	(void)ud;
	memset(buf, 'b', n);
	*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static int
server_frame(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	static const nghttp2_nv nv[] = {
		{ (uint8_t *)":status", (uint8_t *)"200", 7, 3, 0 },
		{ (uint8_t *)"content-type", (uint8_t *)"text/plain", 12, 10, 0 },
	};
	nghttp2_data_provider prd = { .read_callback = body_cb };

	(void)ud;
	if (f->hd.type == NGHTTP2_HEADERS && (f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		nghttp2_submit_response(ng, f->hd.stream_id, nv, 2, &prd);
	return 0;
}

static int
data_cb(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *p, size_t n, void *ud)
{
	(void)flags;
	(void)p;
	(void)ud;
	nghttp2_session_consume(ng, id, n);
	return 0;
}

struct pair {
	nghttp2_session *c, *s;
	int cdir, sdir;
};

static void
pair_open(struct pair *pr, nghttp2_mem *mem)
{
	/* as h2_down.c: a closed stream is kept a while for the priority
	 * tree, bounded by the concurrent streams announced */
	nghttp2_settings_entry iv = { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS };
	nghttp2_session_callbacks *cb;

	pr->cdir = 0;
	pr->sdir = 1;
	assert_int_equal(nghttp2_session_callbacks_new(&cb), 0);
	nghttp2_session_callbacks_set_send_callback(cb, send_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, data_cb);
	assert_int_equal(nghttp2_session_client_new3(&pr->c, cb, &pr->cdir, h2io_options(), mem), 0);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, server_frame);
	assert_int_equal(nghttp2_session_server_new3(&pr->s, cb, &pr->sdir, h2io_options(), mem), 0);
	nghttp2_session_callbacks_del(cb);
	assert_int_equal(nghttp2_submit_settings(pr->c, 0, NULL, 0), 0);
	assert_int_equal(nghttp2_submit_settings(pr->s, 0, &iv, 1), 0);
}

static void
pair_pump(struct pair *pr)
{
	int i;

	for (i = 0; i < 6; i++) {
		assert_int_equal(nghttp2_session_send(pr->c), 0);
		assert_int_equal(nghttp2_session_mem_recv(pr->s, wire[0], nwire[0]), (ssize_t)nwire[0]);
		nwire[0] = 0;
		assert_int_equal(nghttp2_session_send(pr->s), 0);
		assert_int_equal(nghttp2_session_mem_recv(pr->c, wire[1], nwire[1]), (ssize_t)nwire[1]);
		nwire[1] = 0;
	}
}

/* n requests as a mesh hop sends them (a traceparent of its own). */
static void
pair_requests(struct pair *pr, int n, int seq)
{
	char path[32];
	nghttp2_nv nv[] = {
		{ (uint8_t *)":method", (uint8_t *)"GET", 7, 3, 0 },
		{ (uint8_t *)":path", (uint8_t *)path, 5, 0, 0 },
		{ (uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0 },
		{ (uint8_t *)":authority", (uint8_t *)"web:29710", 10, 9, 0 },
		{ (uint8_t *)"user-agent", (uint8_t *)"h2load nghttp2/1.52.0", 10, 21, 0 },
		{ (uint8_t *)"traceparent",
		  (uint8_t *)"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 11, 55, 0 },
	};
	int i;

	for (i = 0; i < n; i++) {
		nv[1].valuelen = (size_t)snprintf(path, sizeof(path), "/small/%d", seq + i);
		assert_true(nghttp2_submit_request(pr->c, NULL, nv, 6, NULL, NULL) > 0);
	}
	pair_pump(pr);
}

static void
pair_close(struct pair *pr)
{
	nghttp2_session_del(pr->c);
	nghttp2_session_del(pr->s);
}

static void
test_steady_streams(void **state)
{
	struct h2mem_stats a, b;
	struct pair pr;
	unsigned long total = 0;
	int round, i;

	(void)state;
	pair_open(&pr, &census_mem);
	for (round = 0; round < 10; round++)
		pair_requests(&pr, 20, round * 20);
	h2mem_stats(&a);
	counting = 1;
	for (round = 0; round < 10; round++)
		pair_requests(&pr, 20, 1000 + round * 20);
	counting = 0;
	h2mem_stats(&b);
	printf("nghttp2 blocks per stream (client + server session), by size:");
	for (i = 0; i <= CENSUS_MAX; i++)
		if (census[i] > 0) {
			printf(" %s%d:%.2f", i == CENSUS_MAX ? ">=" : "", i, census[i] / 200.0);
			total += census[i];
		}
	printf("; %.2f in all\n", total / 200.0);
	/* warm: every small block came off a free list, none was malloc'd */
	assert_int_equal(b.fresh, a.fresh);
	assert_int_equal(b.large, a.large);
	assert_true(b.reused > a.reused);
	assert_true(total >= 200);   /* nghttp2 does allocate per stream */
	pair_close(&pr);
}

static void
test_bounded(void **state)
{
	enum { N = 8192 };
	static void *p[N];
	struct h2mem_stats a, b;
	nghttp2_mem *m = h2mem();
	int i;

	(void)state;
	h2mem_trim();
	h2mem_stats(&a);
	assert_int_equal(a.kept, 0);
	/* a burst: 8192 streams' worth of 200-byte blocks, 2 MiB of 256-byte
	 * class blocks, then all freed */
	for (i = 0; i < N; i++)
		assert_non_null(p[i] = m->malloc(200, NULL));
	for (i = 0; i < N; i++)
		m->free(p[i], NULL);
	h2mem_stats(&b);
	assert_true(b.kept <= H2_MEM_KEEP);
	assert_true(b.kept > H2_MEM_KEEP / 2);
	assert_true(b.released > a.released);
	m->free(NULL, NULL);
	h2mem_trim();
	h2mem_stats(&b);
	assert_int_equal(b.kept, 0);
}

static void
test_grow(void **state)
{
	nghttp2_mem *m = h2mem();
	uint8_t *p, *q;
	size_t i;

	(void)state;
	assert_non_null(p = m->realloc(NULL, 10, NULL));
	for (i = 0; i < 10; i++)
		p[i] = (uint8_t)i;
	/* within its class: the same block */
	assert_ptr_equal(m->realloc(p, 40, NULL), p);
	for (i = 10; i < 40; i++)
		p[i] = (uint8_t)i;
	/* to a larger class, then past every class: the bytes move with it */
	assert_non_null(q = m->realloc(p, 700, NULL));
	for (i = 40; i < 700; i++)
		q[i] = (uint8_t)i;
	assert_non_null(p = m->realloc(q, 5000, NULL));
	for (i = 0; i < 700; i++)
		assert_int_equal(p[i], (uint8_t)i);
	memset(p + 700, 7, 4300);
	assert_non_null(q = m->realloc(p, 100000, NULL));
	for (i = 0; i < 700; i++)
		assert_int_equal(q[i], (uint8_t)i);
	assert_int_equal(q[4999], 7);
	/* smaller: stays */
	assert_ptr_equal(m->realloc(q, 16, NULL), q);
	assert_int_equal(q[15], 15);
	assert_null(m->realloc(q, 0, NULL));   /* freed */
	/* alignment as malloc's */
	for (i = 1; i < 3000; i += 97) {
		assert_non_null(p = m->malloc(i, NULL));
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		m->free(p, NULL);
	}
}

static void
test_zeroed(void **state)
{
	nghttp2_mem *m = h2mem();
	uint8_t *p;
	size_t i;

	(void)state;
	assert_non_null(p = m->malloc(100, NULL));
	memset(p, 0xff, 100);
	m->free(p, NULL);
	assert_non_null(p = m->calloc(25, 4, NULL));   /* likely the same block */
	for (i = 0; i < 100; i++)
		assert_int_equal(p[i], 0);
	m->free(p, NULL);
	assert_null(m->calloc(SIZE_MAX / 2, 4, NULL));
	assert_null(m->malloc(SIZE_MAX - 8, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steady_streams),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_zeroed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
