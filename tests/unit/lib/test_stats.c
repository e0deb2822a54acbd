/* SPDX-License-Identifier: ISC */
/*
 * stats: the writer's file read back by the reader; the counting helpers;
 * the sidecar path rule; refusal of a bad magic, a truncated file, another
 * version and an inconsistent layout; a longer (newer) file still reads;
 * a FIFO, a directory or a device in its place is refused at once (never
 * blocks), and so is a file of another user (as root: taken).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "mesh/stats.h"

#define STATS_TEST_DIR "/tmp/test_stats.XXXXXX"
#include "test_stats_util.h"

static void
test_noop_without_file(void **state)
{
	stats_close();
	stats_inc(STAT_REQUESTS_IN);
	stats_add(STAT_BYTES_IN, 10);
	stats_gauge_sub(STAT_CONNECTIONS_OPEN, 1);
	stats_response(1, 200);
	stats_refusal(403);
}

static void
test_write_read(void **state)
{
	struct stats_snapshot s;

	assert_int_equal(stats_open(path), 0);
	stats_inc(STAT_CONNECTIONS_TOTAL);
	stats_gauge_add(STAT_CONNECTIONS_OPEN, 2);
	stats_gauge_sub(STAT_CONNECTIONS_OPEN, 1);
	stats_gauge_sub(STAT_CONNECTIONS_OPEN, 5);   /* floors at 0 */
	stats_add(STAT_BYTES_OUT, 1u << 20);
	stats_add(STAT_BYTES_OUT, 3);
	stats_response(1, 204);
	stats_response(1, 503);
	stats_response(0, 302);
	stats_response(0, 101);                      /* not a final class: ignored */
	stats_refusal(403);
	stats_refusal(404);
	stats_refusal(408);
	stats_refusal(504);
	stats_refusal(431);
	stats_inc(STAT_TLS_HANDSHAKES_FAILED);

	assert_int_equal(stats_read(path, &s), STATS_OK);
	assert_int_equal(s.version, STATS_VERSION);
	assert_int_equal(s.ncounters, STAT__COUNT);
	assert_int_equal(s.pid, (uint64_t)getpid());
	assert_true(s.start_time_ns > 1500000000ull * 1000000000ull);
	assert_int_equal(s.v[STAT_CONNECTIONS_TOTAL], 1);
	assert_int_equal(s.v[STAT_CONNECTIONS_OPEN], 0);
	assert_int_equal(s.v[STAT_BYTES_OUT], (1u << 20) + 3);
	assert_int_equal(s.v[STAT_RESP_IN_2XX], 1);
	assert_int_equal(s.v[STAT_RESP_IN_5XX], 1);
	assert_int_equal(s.v[STAT_RESP_OUT_3XX], 1);
	assert_int_equal(s.v[STAT_RESP_OUT_2XX], 0);
	assert_int_equal(s.v[STAT_REFUSED_NOT_ALLOWED], 1);
	assert_int_equal(s.v[STAT_REFUSED_NO_ROUTE], 1);
	assert_int_equal(s.v[STAT_REFUSED_TIMEOUT], 2);
	assert_int_equal(s.v[STAT_REFUSED_BAD_REQUEST], 1);
	assert_int_equal(s.v[STAT_TLS_HANDSHAKES_FAILED], 1);
	assert_int_equal(s.v[STAT_REQUESTS_IN], 0);

	/* counting goes on after a read; the file stays after close */
	stats_inc(STAT_REQUESTS_IN);
	stats_close();
	stats_inc(STAT_REQUESTS_IN);
	assert_int_equal(stats_read(path, &s), STATS_OK);
	assert_int_equal(s.v[STAT_REQUESTS_IN], 1);

	/* a new writer replaces the file: counters from 0 */
	assert_int_equal(stats_open(path), 0);
	assert_int_equal(stats_read(path, &s), STATS_OK);
	assert_int_equal(s.v[STAT_REQUESTS_IN], 0);
	assert_int_equal(s.v[STAT_BYTES_OUT], 0);
}

static void
test_names(void **state)
{
	unsigned i;

	assert_string_equal(stats_name(STAT_REFUSED_NOT_ALLOWED), "refused.not_allowed");
	assert_string_equal(stats_name(STAT_RESP_IN_4XX), "responses_in.4xx");
	assert_string_equal(stats_name(STAT__COUNT), "unknown");
	for (i = 0; i < STAT__COUNT; i++)
		assert_string_not_equal(stats_name((enum stat_id)i), "unknown");
}

static void
test_sidecar_path(void **state)
{
	char sock[4200], expect[4200];
	struct stats_snapshot s;

	snprintf(sock, sizeof(sock), "%s/meshd.sock", dir);
	assert_int_equal(stats_open_sidecar(sock, "api-0-abc", NULL), 0);
	snprintf(expect, sizeof(expect), "%s/stats/api-0-abc.stats", dir);
	assert_int_equal(stats_read(expect, &s), STATS_OK);
	/* what meshd computes from its state dir */
	assert_int_equal(stats_path(expect, sizeof(expect), "/var/lib/mesh", "x-1"), 0);
	assert_string_equal(expect, "/var/lib/mesh/run/stats/x-1.stats");
	assert_int_equal(stats_path(expect, 10, "/var/lib/mesh", "x-1"), -1);
	/* -c without --stats: no file, no error */
	stats_close();
	assert_int_equal(stats_open_sidecar(NULL, NULL, NULL), 0);
	/* --stats wins */
	assert_int_equal(stats_open_sidecar(sock, "api-0-abc", path), 0);
	assert_int_equal(stats_read(path, &s), STATS_OK);
}

static void
test_missing(void **state)
{
	struct stats_snapshot s;
	char p[4300];

	snprintf(p, sizeof(p), "%s/nope.stats", dir);
	assert_int_equal(stats_read(p, &s), STATS_ERR_OPEN);
	assert_non_null(stats_strerror(STATS_ERR_OPEN));
}

static void
test_bad_magic(void **state)
{
	struct stats_snapshot s;

	assert_int_equal(stats_open(path), 0);
	poke(0, "MESHSTAX", 8);
	assert_int_equal(stats_read(path, &s), STATS_ERR_MAGIC);
	assert_string_equal(stats_strerror(STATS_ERR_MAGIC), "not a stats file (bad magic)");
}

static void
test_version_mismatch(void **state)
{
	struct stats_snapshot s;
	uint32_t v = STATS_VERSION + 1;

	assert_int_equal(stats_open(path), 0);
	poke(8, &v, sizeof(v));
	assert_int_equal(stats_read(path, &s), STATS_ERR_VERSION);
}

static void
test_truncated(void **state)
{
	struct stats_snapshot s;

	assert_int_equal(stats_open(path), 0);
	stats_close();
	/* counters cut off: size says more than the file holds */
	assert_int_equal(truncate(path, STATS_HDR_SIZE + 8), 0);
	assert_int_equal(stats_read(path, &s), STATS_ERR_SHORT);
	/* not even a header */
	assert_int_equal(truncate(path, 20), 0);
	assert_int_equal(stats_read(path, &s), STATS_ERR_SHORT);
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(stats_read(path, &s), STATS_ERR_SHORT);
}

static void
test_bad_layout(void **state)
{
	struct stats_snapshot s;
	uint32_t n = STATS_MAX_COUNTERS + 1, h = 60;

	assert_int_equal(stats_open(path), 0);
	poke(32, &n, sizeof(n));
	assert_int_equal(stats_read(path, &s), STATS_ERR_LAYOUT);
	assert_int_equal(stats_open(path), 0);
	poke(36, &h, sizeof(h));
	assert_int_equal(stats_read(path, &s), STATS_ERR_LAYOUT);
}

/* A newer writer with more counters (and a bigger file) still reads;
 * an older one with fewer reads as zeros beyond its end; counters that
 * would run into the sections are refused. */
static void
test_growth(void **state)
{
	struct stats_snapshot s;
	struct stats_view v;
	struct stat st;
	uint32_t size, n, peers, peers_off = 0;
	FILE *f;

	assert_int_equal(stats_open(path), 0);
	stats_inc(STAT_BYTES_OUT);
	stats_close();
	assert_int_equal(stat(path, &st), 0);
	size = (uint32_t)st.st_size + 4096;
	assert_int_equal(truncate(path, size), 0);
	poke(12, &size, sizeof(size));
	/* more counters, as many as end before the peer table (the cache-line
	 * padding before it; its offset is the header's u32 at 40): a newer
	 * writer's extra counters are room this layout leaves */
	assert_non_null(f = fopen(path, "rb"));
	assert_int_equal(fseek(f, 40, SEEK_SET), 0);
	assert_int_equal(fread(&peers_off, sizeof(peers_off), 1, f), 1);
	fclose(f);
	n = (peers_off - STATS_HDR_SIZE) / 8;
	assert_true(n > STAT__COUNT);
	poke(32, &n, sizeof(n));
	assert_int_equal(stats_read(path, &s), STATS_OK);
	assert_int_equal(s.ncounters, n);
	assert_int_equal(s.v[STAT_BYTES_OUT], 1);
	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	assert_int_equal(v.snap.v[STAT_BYTES_OUT], 1);
	stats_view_free(&v);

	n = 2;
	poke(32, &n, sizeof(n));
	assert_int_equal(stats_read(path, &s), STATS_OK);
	assert_int_equal(s.v[STAT_BYTES_OUT], 0);

	/* counters overlapping the first section */
	n = 200;
	poke(32, &n, sizeof(n));
	assert_int_equal(stats_read(path, &s), STATS_ERR_LAYOUT);
	n = STAT__COUNT;
	poke(32, &n, sizeof(n));
	/* a section entirely past `size` though inside the file */
	peers = size - 8;
	poke(40, &peers, sizeof(peers));
	assert_int_equal(stats_read(path, &s), STATS_ERR_LAYOUT);
}

/* Not a regular file: refused before anything is mapped; a FIFO with no
 * writer must not block the reader (meshd's loop) in open(). */
static void
test_not_regular(void **state)
{
	struct stats_snapshot s;
	struct stats_view v;

	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(stats_read(path, &s), STATS_ERR_TYPE);
	assert_int_equal(stats_view_read(path, &v), STATS_ERR_TYPE);
	assert_string_equal(stats_strerror(STATS_ERR_TYPE), "not a regular file");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(stats_read(path, &s), STATS_ERR_TYPE);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(symlink("/dev/zero", path), 0);
	assert_int_equal(stats_read(path, &s), STATS_ERR_TYPE);
	assert_int_equal(unlink(path), 0);
}

/* A file of another user (nobody's uid here) is refused, unless the
 * reader is root, who may read any mesh's files. */
static void
test_other_owner(void **state)
{
	struct stats_snapshot s;

	assert_int_equal(stats_open(path), 0);
	stats_close();
	if (geteuid() != 0) {
		/* no chown without root: the rule's other half at least */
		assert_int_equal(stats_read(path, &s), STATS_OK);
		skip();
	}
	/* readable by all: the owner rule, not the mode, is what refuses */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(stats_read(path, &s), STATS_OK);        /* root reads it */
	assert_int_equal(seteuid(65534), 0);
	assert_int_equal(stats_read(path, &s), STATS_OK);        /* its owner too */
	assert_int_equal(seteuid(0), 0);
	assert_int_equal(chown(path, 1, 1), 0);                  /* daemon's now */
	assert_int_equal(seteuid(65534), 0);
	assert_int_equal(stats_read(path, &s), STATS_ERR_OWNER);
	assert_int_equal(seteuid(0), 0);
	assert_string_equal(stats_strerror(STATS_ERR_OWNER), "stats file owned by another user");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_noop_without_file),
		cmocka_unit_test_setup_teardown(test_write_read, setup, teardown),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_sidecar_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_magic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_owner, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
