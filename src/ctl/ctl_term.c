/* SPDX-License-Identifier: ISC */
/*
 * ctl_term: colour, only where a person reads it.
 *
 * Colour is on when the stream is a terminal and NO_COLOR is unset or
 * empty (https://no-color.org); pipes, files and tests get plain text.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/ctl.h"

int
ctl_term_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");

	if (nc != NULL && nc[0] != '\0')
		return 0;
	return isatty(fileno(f));
}

const char *
ctl_term_esc(FILE *f, enum ctl_color c)
{
	static const char *esc[] = {
		[CTL_RESET] = "\033[0m", [CTL_RED] = "\033[31m",
		[CTL_GREEN] = "\033[32m", [CTL_YELLOW] = "\033[33m",
		[CTL_BOLD] = "\033[1m",
	};

	if ((unsigned)c >= sizeof(esc) / sizeof(esc[0]) || !ctl_term_color(f))
		return "";
	return esc[c];
}

/* The instance states meshd prints (svc_state()), and how they read at
 * a glance. */
static const struct {
	const char     *word;
	enum ctl_color  color;
} ctl_term_words[] = {
	{ "ready",    CTL_GREEN },  { "running",  CTL_GREEN },
	{ "starting", CTL_YELLOW }, { "backoff",  CTL_YELLOW },
	{ "stopping", CTL_YELLOW }, { "draining", CTL_YELLOW },
	{ "stopped",  CTL_YELLOW },
	{ "fatal",    CTL_RED },    { "failed",   CTL_RED },
};

static int
ctl_term_wordch(int c)
{
	return isalnum(c) || c == '-' || c == '_';
}

void
ctl_term_line(FILE *f, const char *line, size_t len)
{
	size_t i = 0, j, k;

	if (!ctl_term_color(f)) {
		fwrite(line, 1, len, f);
		return;
	}
	while (i < len) {
		if (!ctl_term_wordch((unsigned char)line[i])) {
			fputc(line[i++], f);
			continue;
		}
		for (j = i; j < len && ctl_term_wordch((unsigned char)line[j]); j++)
			;
		for (k = 0; k < sizeof(ctl_term_words) / sizeof(ctl_term_words[0]); k++) {
			const char *w = ctl_term_words[k].word;

			if (strlen(w) == j - i && memcmp(w, line + i, j - i) == 0)
				break;
		}
		if (k < sizeof(ctl_term_words) / sizeof(ctl_term_words[0]))
			fprintf(f, "%s%.*s%s", ctl_term_esc(f, ctl_term_words[k].color),
			    (int)(j - i), line + i, ctl_term_esc(f, CTL_RESET));
		else
			fwrite(line + i, 1, j - i, f);
		i = j;
	}
}
