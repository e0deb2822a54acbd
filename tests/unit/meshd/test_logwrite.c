/* SPDX-License-Identifier: ISC */
/*
 * test_logwrite: meshd's log file with a small cap: lines appended whole,
 * mesh.log renamed to mesh.log.1 (the previous one gone) when the next
 * line would pass the cap, a reader (logfile.h) sees every line of the
 * last two files in order, and a follower loses none across rotations.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mesh/logfile.h"
#include "mesh/logwrite.h"

#define T0  1796588462000LL
#define CAP 400          /* bytes: a rotation every few lines */

static char sdir[64], ldir[96], cur[128], old[128];

struct seen {
	long first, last, n;
	int  gap;
};

static void
count(void *arg, const struct logfile_line *l)
{
	struct seen *s = arg;
	long v = strtol(l->text + strlen("line "), NULL, 10);

	if (s->n > 0 && v != s->last + 1)
		s->gap = 1;
	if (s->n == 0)
		s->first = v;
	s->last = v;
	s->n++;
}

static off_t
size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	snprintf(sdir, sizeof(sdir), "/tmp/test_logwrite.%ld", (long)getpid());
	snprintf(ldir, sizeof(ldir), "%s/%s", sdir, LOGFILE_DIR);
	snprintf(cur, sizeof(cur), "%s/%s", ldir, LOGFILE_NAME);
	snprintf(old, sizeof(old), "%s/%s", ldir, LOGFILE_OLD);
	if (mkdir(sdir, 0700) == -1)
		return -1;
	if (logwrite_open(sdir, CAP, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	logwrite_close();
	unlink(cur);
	unlink(old);
	rmdir(ldir);
	return rmdir(sdir);
}

static void
line(long i)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "line %ld", i);

	logwrite_line_at(T0 + i, "api.0", text, (size_t)n);
}

static void
test_append(void **state)
{
	struct logfile_filter all = { NULL, 0, 0 };
	struct seen s = { 0 };
	struct stat st;

	(void)state;
	assert_int_equal(stat(ldir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	line(0);
	line(1);
	assert_int_equal(stat(cur, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(size_of(old), -1);
	assert_int_equal(logfile_tail(ldir, &all, 0, count, &s, NULL), 2);
	assert_int_equal(s.first, 0);
	assert_int_equal(s.last, 1);
}

/* Past the cap: renamed, a new file; never more than two, each <= CAP. */
static void
test_rotate(void **state)
{
	struct logfile_filter all = { NULL, 0, 0 };
	struct seen s = { 0 };
	long i, total = 100;

	(void)state;
	for (i = 0; i < total; i++) {
		line(i);
		assert_true(size_of(cur) <= CAP);
		assert_true(size_of(old) <= CAP);
	}
	assert_true(size_of(old) > CAP / 2);
	/* the two files hold the most recent lines, without a gap */
	assert_true(logfile_tail(ldir, &all, 0, count, &s, NULL) > 0);
	assert_int_equal(s.gap, 0);
	assert_int_equal(s.last, total - 1);
	assert_true(s.first > 0);
	assert_true(s.n >= 2 * (CAP / 60));
	/* a line larger than the cap still gets a file of its own */
	{
		char big[2 * CAP];

		memset(big, 'b', sizeof(big));
		logwrite_line_at(T0, "api.0", big, sizeof(big));
		assert_true(size_of(cur) > CAP);
		line(total);
		assert_true(size_of(cur) <= CAP);
	}
}

/* A follower polled between rotations misses nothing. */
static void
test_follow_rotations(void **state)
{
	struct logfile_filter all = { NULL, 0, 0 };
	struct logfile_follow fw;
	struct seen s = { 0 };
	long i;

	(void)state;
	line(0);
	assert_int_equal(logfile_tail(ldir, &all, 0, count, &s, &fw), 1);
	for (i = 1; i < 200; i++) {
		line(i);
		if (i % 3 == 0)
			assert_true(logfile_follow_poll(&fw, &all, count, &s) >= 0);
	}
	assert_true(logfile_follow_poll(&fw, &all, count, &s) >= 0);
	logfile_follow_close(&fw);
	assert_int_equal(s.n, 200);
	assert_int_equal(s.gap, 0);
	assert_int_equal(s.last, 199);
}

/* Not open: a no-op, nothing created. */
static void
test_closed(void **state)
{
	(void)state;
	logwrite_close();
	unlink(cur);
	logwrite_line("api.0", "x", 1);
	assert_int_equal(size_of(cur), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_rotations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
