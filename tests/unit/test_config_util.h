/* SPDX-License-Identifier: ISC */
/*
 * test_config_util: helpers the config unit tests share: write a config text
 * into a fresh temporary directory and load it, capturing the errors.
 */
#ifndef TEST_CONFIG_UTIL_H
#define TEST_CONFIG_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/config.h"

struct tload {
	char  dir[256];       /* the temporary directory */
	char  path[300];      /* dir/NAME */
	char *errs;           /* what config_load printed (malloc'd) */
	size_t errslen;
	int   nerr;
};

/* Write text to a new temp dir as `name` (NULL: "mesh.ini"). */
static inline void
tload_write(struct tload *t, const char *name, const char *text)
{
	const char *tmp = getenv("TMPDIR");
	FILE *f;

	snprintf(t->dir, sizeof(t->dir), "%s/test_config.XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(t->dir) == NULL)
		abort();
	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir,
	    name != NULL ? name : "mesh.ini");
	f = fopen(t->path, "w");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
}

/* Load t->path; errors into t->errs. */
static inline int
tload_run(struct tload *t, struct mesh_config *cfg)
{
	FILE *m = open_memstream(&t->errs, &t->errslen);

	if (m == NULL)
		abort();
	t->nerr = config_load(t->path, cfg, m);
	fclose(m);
	return t->nerr;
}

static inline int
tload(struct tload *t, const char *text, struct mesh_config *cfg)
{
	tload_write(t, NULL, text);
	return tload_run(t, cfg);
}

/* Remove the file and its directory (and nothing else). */
static inline void
tload_done(struct tload *t)
{
	unlink(t->path);
	rmdir(t->dir);
	free(t->errs);
	t->errs = NULL;
}

#endif
