/* SPDX-License-Identifier: ISC */
/*
 * test_buf: the buffer pool (src/proxy/buf.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/buf.h"

static void
test_get_put_reuses(void **state)
{
	struct buf *a, *b;

	buf_pool_init(1024, 4);
	a = buf_get();
	assert_non_null(a);
	assert_int_equal(a->cap, 1024);
	assert_int_equal(a->len, 0);
	buf_put(a);
	assert_int_equal(buf_pool_free(), 1);
	b = buf_get();
	assert_ptr_equal(a, b);            /* from the free list, no malloc */
	assert_int_equal(buf_pool_free(), 0);
	buf_put(b);
}

static void
test_free_list_bounded(void **state)
{
	struct buf *v[10];
	size_t i, before = buf_pool_allocated();

	for (i = 0; i < 10; i++)
		v[i] = buf_get();
	for (i = 0; i < 10; i++)
		buf_put(v[i]);
	assert_int_equal(buf_pool_free(), 4);      /* keep = 4 */
	assert_true(buf_pool_allocated() <= before + 4);
	buf_put(NULL);                             /* no-op */
}

static void
test_commit_consume_compact(void **state)
{
	struct buf *b = buf_get();

	assert_int_equal(buf_room(b), 1024);
	memcpy(buf_tail(b), "hello world", 11);
	buf_commit(b, 11);
	assert_int_equal(b->len, 11);
	buf_consume(b, 6);
	assert_int_equal(b->off, 6);
	assert_memory_equal(buf_head(b), "world", 5);
	assert_int_equal(buf_room(b), 1024 - 11);
	assert_int_equal(buf_free_total(b), 1024 - 5);
	buf_compact(b);
	assert_int_equal(b->off, 0);
	assert_memory_equal(buf_head(b), "world", 5);
	buf_consume(b, 5);                 /* emptied: rewinds */
	assert_int_equal(b->off, 0);
	assert_int_equal(b->len, 0);
	buf_put(b);
}

static void
test_append_bounded(void **state)
{
	static char big[2000];
	struct buf *b = buf_get();

	memset(big, 'x', sizeof(big));
	assert_int_equal(buf_append(b, big, 1000), 1000);
	buf_consume(b, 900);
	/* compacts to make room, then stops at capacity */
	assert_int_equal(buf_append(b, big, 2000), 924);
	assert_int_equal(b->len, 1024);
	assert_int_equal(b->off, 0);
	assert_int_equal(buf_append(b, "y", 1), 0);
	buf_put(b);
}

static void
test_size_fixed_once_allocated(void **state)
{
	struct buf *b = buf_get();

	buf_pool_init(4096, 8);            /* buffers exist: size stays */
	assert_int_equal(buf_pool_size(), 1024);
	buf_put(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_put_reuses),
		cmocka_unit_test(test_free_list_bounded),
		cmocka_unit_test(test_commit_consume_compact),
		cmocka_unit_test(test_append_bounded),
		cmocka_unit_test(test_size_fixed_once_allocated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
