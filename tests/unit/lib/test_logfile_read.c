/* SPDX-License-Identifier: ISC */
/*
 * test_logfile_read: the last lines of mesh.log.1 + mesh.log that match,
 * then following mesh.log: a line written in two halves, a rotation, a
 * truncation, a file that appears later.  Files in a temp dir, written
 * here with logfile_format().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mesh/logfile.h"

#define T0 1796588462000LL

static char dir[64], cur[128], old[128];

struct got {
	char   text[64][32];
	char   name[64][32];
	size_t n;
};

static void
collect(void *arg, const struct logfile_line *l)
{
	struct got *g = arg;

	if (g->n >= 64)
		fail_msg("too many lines");
	snprintf(g->text[g->n], sizeof(g->text[0]), "%.*s", (int)l->text_len, l->text);
	snprintf(g->name[g->n], sizeof(g->name[0]), "%.*s", (int)l->name_len, l->name);
	g->n++;
}

static void
put(const char *path, int64_t ms, const char *name, const char *text)
{
	char buf[LOGFILE_LINE_MAX];
	size_t n = logfile_format(buf, ms, name, text, strlen(text));
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);

	assert_true(fd != -1);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
}

static void
put_raw(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);

	assert_true(fd != -1);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_logfile_read.%ld", (long)getpid());
	snprintf(cur, sizeof(cur), "%s/%s", dir, LOGFILE_NAME);
	snprintf(old, sizeof(old), "%s/%s", dir, LOGFILE_OLD);
	unlink(cur);
	unlink(old);
	rmdir(dir);
	return mkdir(dir, 0700);
}

static int
teardown(void **state)
{
	(void)state;
	unlink(cur);
	unlink(old);
	return rmdir(dir);
}

static void
test_none(void **state)
{
	struct logfile_filter f = { NULL, 0, 0 };
	struct logfile_follow fw;
	struct got g = { .n = 0 };

	(void)state;
	assert_int_equal(logfile_tail(dir, &f, 0, collect, &g, NULL), -1);
	assert_int_equal(errno, ENOENT);
	/* a follower waits for the file */
	assert_int_equal(logfile_tail(dir, &f, 0, collect, &g, &fw), -1);
	assert_int_equal(logfile_follow_poll(&fw, &f, collect, &g), 0);
	put(cur, T0, "api.0", "later");
	assert_int_equal(logfile_follow_poll(&fw, &f, collect, &g), 1);
	assert_string_equal(g.text[0], "later");
	logfile_follow_close(&fw);
}

/* mesh.log.1 before mesh.log; garbage skipped; -n keeps the last ones. */
static void
test_tail(void **state)
{
	const char *api[] = { "api" };
	struct logfile_filter all = { NULL, 0, 0 }, f = { api, 1, 0 };
	struct got g = { .n = 0 };

	(void)state;
	put(old, T0, "api.0", "a1");
	put(old, T0 + 1, "web.0", "w1");
	put_raw(old, "not a line at all\n");
	put(cur, T0 + 2, "api.1~proxy", "a2");
	put(cur, T0 + 3, "meshd", "api.1: started (pid 7)");
	put(cur, T0 + 4, "web.0", "w2");
	put(cur, T0 + 5, "api.0", "a3");
	put_raw(cur, "2026-12-06T20:21:02.123Z api.0 | half a li");   /* being written */

	assert_int_equal(logfile_tail(dir, &all, 0, collect, &g, NULL), 6);
	assert_string_equal(g.text[0], "a1");
	assert_string_equal(g.text[5], "a3");

	g.n = 0;
	assert_int_equal(logfile_tail(dir, &f, 0, collect, &g, NULL), 4);
	assert_string_equal(g.text[0], "a1");
	assert_string_equal(g.text[1], "a2");
	assert_string_equal(g.name[2], "meshd");
	assert_string_equal(g.text[3], "a3");

	g.n = 0;
	assert_int_equal(logfile_tail(dir, &f, 2, collect, &g, NULL), 2);
	assert_string_equal(g.name[0], "meshd");
	assert_string_equal(g.text[1], "a3");

	/* more asked than there are */
	g.n = 0;
	assert_int_equal(logfile_tail(dir, &all, 1000000, collect, &g, NULL), 6);

	/* since */
	g.n = 0;
	all.since_ms = T0 + 4;
	assert_int_equal(logfile_tail(dir, &all, 0, collect, &g, NULL), 2);
	assert_string_equal(g.text[0], "w2");
	all.since_ms = T0 + 86400000;
	assert_int_equal(logfile_tail(dir, &all, 1, collect, &g, NULL), 0);

	/* only the old file */
	unlink(cur);
	g.n = 0;
	all.since_ms = 0;
	assert_int_equal(logfile_tail(dir, &all, 0, collect, &g, NULL), 2);
}

/* Follow: the rest of a half-written line, a rotation, a truncation. */
static void
test_follow(void **state)
{
	struct logfile_filter all = { NULL, 0, 0 };
	struct logfile_follow fw;
	struct got g = { .n = 0 };

	(void)state;
	put(cur, T0, "api.0", "one");
	put_raw(cur, "2026-12-06T20:21:02.123Z api.0 | tw");
	assert_int_equal(logfile_tail(dir, &all, 1, collect, &g, &fw), 1);
	assert_int_equal(logfile_follow_poll(&fw, &all, collect, &g), 0);
	put_raw(cur, "o\n");
	assert_int_equal(logfile_follow_poll(&fw, &all, collect, &g), 1);
	assert_string_equal(g.text[1], "two");

	/* written before the rename, then to the new file */
	put(cur, T0 + 1, "api.0", "three");
	assert_int_equal(rename(cur, old), 0);
	put(cur, T0 + 2, "api.0", "four");
	put(cur, T0 + 3, "api.0", "five");
	assert_int_equal(logfile_follow_poll(&fw, &all, collect, &g), 3);
	assert_string_equal(g.text[2], "three");
	assert_string_equal(g.text[3], "four");
	assert_string_equal(g.text[4], "five");
	assert_int_equal(logfile_follow_poll(&fw, &all, collect, &g), 0);

	/* truncated under us: from the start again */
	assert_int_equal(truncate(cur, 0), 0);
	put(cur, T0 + 4, "api.0", "six");
	assert_int_equal(logfile_follow_poll(&fw, &all, collect, &g), 1);
	assert_string_equal(g.text[5], "six");

	/* removed, then back */
	unlink(cur);
	assert_int_equal(logfile_follow_poll(&fw, &all, collect, &g), 0);
	put(cur, T0 + 5, "api.0", "seven");
	assert_int_equal(logfile_follow_poll(&fw, &all, collect, &g), 1);
	assert_string_equal(g.text[6], "seven");
	logfile_follow_close(&fw);
}

/* A "line" longer than any real one is dropped, not the lines after it. */
static void
test_overlong(void **state)
{
	struct logfile_filter all = { NULL, 0, 0 };
	struct logfile_follow fw;
	struct got g = { .n = 0 };
	char *junk = malloc(3 * LOGFILE_LINE_MAX + 2);

	(void)state;
	memset(junk, 'j', 3 * LOGFILE_LINE_MAX);
	junk[3 * LOGFILE_LINE_MAX] = '\n';
	junk[3 * LOGFILE_LINE_MAX + 1] = '\0';
	put(cur, T0, "a.0", "before");
	put_raw(cur, junk);
	put(cur, T0, "a.0", "after");
	assert_int_equal(logfile_tail(dir, &all, 0, collect, &g, &fw), 2);
	assert_string_equal(g.text[1], "after");
	put_raw(cur, junk);
	put(cur, T0, "a.0", "again");
	assert_int_equal(logfile_follow_poll(&fw, &all, collect, &g), 1);
	assert_string_equal(g.text[2], "again");
	logfile_follow_close(&fw);
	free(junk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlong, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
