/* SPDX-License-Identifier: ISC */
/*
 * test_stats_util.h: the fixture the stats tests share — a temporary
 * directory with one stats file path in it, removed after each group, and
 * poke() to overwrite bytes of that file (a corrupt or hostile file).
 * Include once, after cmocka.h and mesh/stats.h; STATS_TEST_DIR names the
 * directory template.
 */
#ifndef TEST_STATS_UTIL_H
#define TEST_STATS_UTIL_H

static char dir[] = STATS_TEST_DIR;
static char path[4200];

static int
setup(void **state)
{
	(void)state;
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/a.stats", dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[4300];

	(void)state;
	stats_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Overwrite `len` bytes at `off` of the file at path. */
static void
poke(off_t off, const void *b, size_t len)
{
	FILE *f = fopen(path, "r+");

	assert_non_null(f);
	assert_int_equal(fseeko(f, off, SEEK_SET), 0);
	assert_int_equal(fwrite(b, 1, len, f), len);
	fclose(f);
}

#endif
