/* SPDX-License-Identifier: ISC */
/*
 * top_stream: the tap view (`t`: the requests through the selected
 * service's sidecars, as `meshctl tap` prints them) and the logs view
 * (`l`: the last lines of the selected instance, as `meshctl logs`
 * prints them).  Both are a list of lines top_cmd.c feeds into
 * ui->stream; this file keeps the list and draws its tail, newest at the
 * bottom, so the view reads like the command in a terminal.
 */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "top_int.h"

void
top_stream_clear(struct top_stream *st, const char *of)
{
	snprintf(st->of, sizeof(st->of), "%s", of);
	st->head = st->count = 0;
	st->total = st->lost = 0;
	st->err[0] = '\0';
}

void
top_stream_push(struct top_stream *st, const char *line, size_t len, int bad)
{
	size_t n = len < TOP_STREAM_LEN - 1 ? len : TOP_STREAM_LEN - 1;

	memcpy(st->line[st->head], line, n);
	st->line[st->head][n] = '\0';
	st->bad[st->head] = bad != 0;
	st->head = (st->head + 1) % TOP_STREAM_LINES;
	if (st->count < TOP_STREAM_LINES)
		st->count++;
}

void
top_stream(struct top_ui *ui)
{
	const struct top_stream *st = &ui->stream;
	int y = 2, rows = LINES - 2 - 3;   /* header, title ... status, keys */
	unsigned n, i;
	char t[2 * TOP_NAME_MAX + 128], lost[48] = "";

	if (st->lost)
		snprintf(lost, sizeof(lost), ", %llu not shown", (unsigned long long)st->lost);
	if (ui->view == TOP_VIEW_TAP)
		snprintf(t, sizeof(t), "TAP %s: live requests through its sidecars (%llu shown%s)",
		    st->of, (unsigned long long)st->total, lost);
	else
		snprintf(t, sizeof(t), "LOGS %s: the last lines (`meshctl logs -f %s` follows them)",
		    st->of, st->of);
	attron(A_BOLD);
	mvaddnstr(y - 1, 0, t, COLS);
	attroff(A_BOLD);
	if (st->err[0] != '\0') {
		attron(top_pair(ui, CP_RED));
		mvaddnstr(y++, 2, st->err, COLS - 2);
		attroff(top_pair(ui, CP_RED));
		rows--;
	} else if (st->count == 0)
		mvaddnstr(y, 2, ui->view == TOP_VIEW_TAP ? "waiting for requests..." :
		    "no lines yet", COLS - 2);
	if (rows < 0)
		rows = 0;
	n = st->count < (unsigned)rows ? st->count : (unsigned)rows;
	for (i = 0; i < n; i++) {
		unsigned k = (st->head + TOP_STREAM_LINES - n + i) % TOP_STREAM_LINES;
		attr_t a = st->bad[k] ? top_pair(ui, CP_RED) : A_NORMAL;

		attron(a);
		mvaddnstr(y + (int)i, 0, st->line[k], COLS);
		attroff(a);
	}
}
