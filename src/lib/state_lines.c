/* SPDX-License-Identifier: ISC */
/*
 * state_lines: the overrides files of the state dir (<state_dir>/weights,
 * faults, mirrors): one "SERVICE rest-of-line" entry a line, '#'
 * comments, written whole with state_file_write() and read back entry by
 * entry at start.  The entries' meaning is the caller's (weights.c,
 * faults.c, mirrors.c); see include/mesh/state.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/config.h"
#include "mesh/state.h"

int
state_lines_save(const char *state_dir, const char *name, const char *comment,
    const void *items, size_t n, size_t itemsz, state_line_fmt_fn *fmt)
{
	char line[STATE_LINE_MAX], *text = NULL;
	size_t len = 0, i;
	FILE *f;
	int rc, saved;

	if ((f = open_memstream(&text, &len)) == NULL)
		return -1;
	fprintf(f, "# %s; meshd rewrites this file\n", comment);
	for (i = 0; i < n; i++) {
		fmt((const char *)items + i * itemsz, line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	if (fclose(f) != 0) {
		free(text);
		errno = ENOMEM;
		return -1;
	}
	rc = state_file_write(state_dir, name, text, len);
	saved = errno;
	free(text);
	errno = saved;
	return rc;
}

void
state_lines_load(const char *state_dir, const char *name, FILE *log,
    state_line_fn *fn, void *arg)
{
	char path[PATH_MAX], line[CONF_LINE_MAX + 2], why[256];
	int lineno = 0;
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", state_dir, name);
	if ((f = fopen(path, "re")) == NULL) {
		if (errno != ENOENT)
			fprintf(log, "%s: %s\n", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		len = strlen(line);
		if (len > 0 && line[len - 1] != '\n' && !feof(f)) {
			fprintf(log, "%s:%d: line too long; the rest of the file is ignored\n",
			    path, lineno);
			break;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (line[strspn(line, " \t")] == '\0' || line[strspn(line, " \t")] == '#')
			continue;
		why[0] = '\0';
		switch (fn(arg, line, why, sizeof(why))) {
		case 0:
			break;
		case -1:
			fprintf(log, "%s:%d: ignored: %s\n", path, lineno, why);
			break;
		default:
			fprintf(log, "%s:%d: %s\n", path, lineno, strerror(errno));
			break;
		}
	}
	fclose(f);
}
