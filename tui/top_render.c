/* SPDX-License-Identifier: ISC */
/*
 * top_render: layout and drawing of `meshctl top` (include/mesh/top.h).
 *
 * Every frame is drawn whole into stdscr, then one wnoutrefresh + one
 * doupdate: curses sends only what changed, so nothing flickers, and a
 * resize needs nothing special (the next frame is laid out for the new
 * size).  Columns of the main view have a priority; on a narrow terminal
 * the least important go first, the sparkline takes what is left.
 * Colour is only a second channel: a breaker state is always a word, an
 * open breaker is also bold, so a monochrome terminal loses nothing.
 */
#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mesh/fmt.h"
#include "mesh/top.h"
#include "top_int.h"

#define TOP_MIN_COLS 80
#define TOP_MIN_LINES 24
#define TOP_SPARK_MIN 8

enum top_col_id { C_NAME, C_HOST, C_STATE, C_UP, C_RPS, C_OK, C_P50, C_P95, C_P99, C_CONN,
                  C_BRK, C_WEIGHT, C_SPARK, C__N };

static const struct top_col {
	const char *head;
	int         width;   /* 0: the sparkline, whatever is left */
	int         prio;    /* dropped highest first */
	int         right;   /* right-aligned (numbers) */
} top_cols[C__N] = {
	[C_NAME]   = { "SERVICE",    12,  0, 0 },
	/* registry = etcd only; dropped just before WEIGHTS (a tie: the first found goes) */
	[C_HOST]   = { "HOST",        8,  5, 0 },
	[C_STATE]  = { "STATE",       8,  9, 0 },
	[C_UP]     = { "UP",          5,  6, 1 },
	[C_RPS]    = { "RPS",         7,  1, 1 },
	[C_OK]     = { "OK%",         6,  2, 1 },
	[C_P50]    = { "P50",         6,  7, 1 },
	[C_P95]    = { "P95",         6, 10, 1 },
	[C_P99]    = { "P99",         6,  3, 1 },
	[C_CONN]   = { "CONN",        5, 11, 1 },
	[C_BRK]    = { "BREAKER",     9,  4, 0 },
	[C_WEIGHT] = { "WEIGHTS",     9,  5, 0 },
	[C_SPARK]  = { "P99 60s",     0,  8, 0 },
};

unsigned
top_render_columns(int width, int *spark_width)
{
	return top_render_columns_hosts(width, 0, spark_width);
}

unsigned
top_render_columns_hosts(int width, int hosts, int *spark_width)
{
	unsigned shown = ((1u << C__N) - 1) & (hosts ? ~0u : ~(1u << C_HOST));

	for (;;) {
		int used = 0, i, worst = -1;

		for (i = 0; i < C__N; i++)
			if ((shown & (1u << i)) && i != C_SPARK)
				used += top_cols[i].width + (used > 0);
		if (shown & (1u << C_SPARK)) {
			int left = width - used - 1;

			if (left >= TOP_SPARK_MIN) {
				*spark_width = left > TOP_SPARK ? TOP_SPARK : left;
				return shown;
			}
		} else if (used <= width) {
			*spark_width = 0;
			return shown;
		}
		for (i = 0; i < C__N; i++)
			if ((shown & (1u << i)) && (worst == -1 || top_cols[i].prio > top_cols[worst].prio))
				worst = i;
		if (worst <= 0) {
			*spark_width = 0;
			return shown;
		}
		shown &= ~(1u << worst);
	}
}

void
top_fmt_us(char *buf, size_t size, uint64_t us, int have)
{
	if (!have)
		snprintf(buf, size, "-");
	else if (us < 1000)
		snprintf(buf, size, "%lluus", (unsigned long long)us);
	else if (us < 10000)
		snprintf(buf, size, "%.2fms", (double)us / 1000);
	else if (us < 1000000)
		snprintf(buf, size, "%.1fms", (double)us / 1000);
	else
		snprintf(buf, size, "%.2fs", (double)us / 1000000);
}

static void
top_fmt_rps(char *buf, size_t size, double rps, int have)
{
	if (!have)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, rps < 1000 ? "%.1f" : "%.0f", rps);
}

/* Success % over the rate window; "-" with no traffic. */
static void
top_fmt_ok(char *buf, size_t size, double rps, double eps)
{
	if (rps <= 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.1f", 100.0 * (1.0 - (eps > rps ? rps : eps) / rps));
}

const char *
top_brk_word(enum top_brk b)
{
	static const char *w[] = { "-", "closed", "half-open", "OPEN" };

	return w[b];
}

attr_t
top_pair(const struct top_ui *ui, int pair)
{
	return ui->color ? COLOR_PAIR(pair) : A_NORMAL;
}

attr_t
top_brk_attr(const struct top_ui *ui, enum top_brk b)
{
	switch (b) {
	case TOP_BRK_CLOSED: return top_pair(ui, CP_GREEN);
	case TOP_BRK_HALF:   return top_pair(ui, CP_YELLOW);
	case TOP_BRK_OPEN:   return top_pair(ui, CP_RED) | A_BOLD;
	default:             return A_NORMAL;
	}
}

static attr_t
top_state_attr(const struct top_ui *ui, const char *state)
{
	if (strcmp(state, "running") == 0 || strcmp(state, "ready") == 0)
		return top_pair(ui, CP_GREEN);
	if (strcmp(state, "fatal") == 0 || strcmp(state, "stopped") == 0)
		return top_pair(ui, CP_RED) | A_BOLD;
	return top_pair(ui, CP_YELLOW);
}

static attr_t
top_ok_attr(const struct top_ui *ui, double rps, double eps)
{
	if (rps <= 0)
		return A_NORMAL;
	if (eps / rps > 0.05)
		return top_pair(ui, CP_RED) | A_BOLD;
	return eps > 0 ? top_pair(ui, CP_YELLOW) : top_pair(ui, CP_GREEN);
}

/* The p99 history as a sparkline of width w (newest at the right). */
static void
top_spark(char *buf, size_t size, const struct top_svc *s, int w, int utf8)
{
	static const char *bars[] = { "\u2581", "\u2582", "\u2583", "\u2584",
	                              "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[] = "._-~=+*#";
	uint64_t max = 0;
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = TOP_SPARK - w; i < TOP_SPARK; i++)
		if (s->spark[i] > max)
			max = s->spark[i];
	for (i = TOP_SPARK - w; i < TOP_SPARK && n + 4 < size; i++) {
		uint64_t v = s->spark[i];
		unsigned lvl = max == 0 || v == 0 ? 8 : (unsigned)((v * 7 + max - 1) / max);

		if (lvl == 8)
			buf[n++] = ' ';
		else if (utf8)
			n += (size_t)snprintf(buf + n, size - n, "%s", bars[lvl]);
		else
			buf[n++] = ascii[lvl];
		buf[n] = '\0';
	}
}

/* One cell at column x; returns the next x. */
static int
top_cell(int y, int x, enum top_col_id c, int w, const char *text, attr_t a)
{
	char cell[256];

	if (top_cols[c].right)
		snprintf(cell, sizeof(cell), "%*.*s", w, w, text);
	else
		snprintf(cell, sizeof(cell), "%-*.*s", w, w, text);
	attron(a);
	mvaddstr(y, x, cell);
	attroff(a);
	return x + w + 1;
}

struct top_line {
	const char *text[C__N];
	attr_t      attr[C__N];
};

static void
top_draw_line(int y, unsigned shown, int spark_w, const struct top_line *l, attr_t row)
{
	int c, x = 0;

	if (row != A_NORMAL) {
		attron(row);
		mvhline(y, 0, ' ', COLS);
	}
	for (c = 0; c < C__N; c++) {
		int w = c == C_SPARK ? spark_w : top_cols[c].width;

		if (!(shown & (1u << c)))
			continue;
		if (c == C_SPARK) {
			attron(l->attr[c]);
			mvaddstr(y, x, l->text[c] != NULL ? l->text[c] : "");
			attroff(l->attr[c]);
			continue;
		}
		x = top_cell(y, x, (enum top_col_id)c, w, l->text[c] != NULL ? l->text[c] : "",
		    l->attr[c] | row);
	}
	if (row != A_NORMAL)
		attroff(row);
}

void
top_render_header(const struct top_ui *ui, const struct top_model *m, char *line,
                  size_t size)
{
	char up[32], cert[48];
	static const char *sorts[] = { "name", "rps", "errors", "p99" };
	time_t now = time(NULL);
	int n;

	fmt_duration(up, sizeof(up), m->uptime_s);
	if (m->cert_min == 0)
		snprintf(cert, sizeof(cert), "-");
	else if (m->cert_min <= now)
		snprintf(cert, sizeof(cert), "EXPIRED");
	else
		fmt_duration(cert, sizeof(cert), (long)(m->cert_min - now));
	n = snprintf(line, size, "mesh %s  up %s  %.1f rps  err %.2f%%  cert %s  sort %s%s",
	    m->mesh[0] ? m->mesh : "?", m->running ? up : "(not running)", m->rps,
	    m->rps > 0 ? 100.0 * m->eps / m->rps : 0.0, cert, sorts[ui->sort],
	    m->err[0] ? "  !" : "");
	if (m->host[0] != '\0' && n >= 0 && (size_t)n < size)
		snprintf(line + n, size - (size_t)n, "  host %s  etcd %s%s%s", m->host,
		    m->reg_state[0] ? m->reg_state : "?", m->reg_reason[0] ? ": " : "",
		    m->reg_reason);
}

static void
top_header(const struct top_ui *ui, const struct top_model *m)
{
	char line[512];

	top_render_header(ui, m, line, sizeof(line));
	attron(A_BOLD | top_pair(ui, CP_CYAN));
	mvaddnstr(0, 0, line, COLS);
	attroff(A_BOLD | top_pair(ui, CP_CYAN));
}

static void
top_main_row(const struct top_ui *ui, const struct top_model *m, const struct top_row *r,
    struct top_line *l, char bufs[C__N][256], int spark_w)
{
	const struct top_svc *s = &m->svc[r->svc];

	int c;

	memset(l, 0, sizeof(*l));
	for (c = 0; c < C__N; c++) {
		l->text[c] = bufs[c];
		bufs[c][0] = '\0';
	}
	if (r->kind == 0) {
		/* a fault or a mirror on: a tag nobody can miss, the name cut for it */
		const char *tag = s->fault && s->mirror ? "FLT+MIR" : s->fault ? "FAULT" :
		    s->mirror ? "MIRROR" : NULL;

		if (tag != NULL) {
			int room = top_cols[C_NAME].width - (int)strlen(tag) - 1;

			snprintf(bufs[C_NAME], 256, "%-*.*s %s", room, room, s->name, tag);
			l->attr[C_NAME] = top_pair(ui, CP_YELLOW) | A_BOLD;
		} else
			snprintf(bufs[C_NAME], 256, "%s", s->name);
		snprintf(bufs[C_STATE], 256, "%s", s->nup == s->ninst ? "ok" : s->nup ? "degraded" : "down");
		l->attr[C_STATE] = s->nup == s->ninst ? top_pair(ui, CP_GREEN) :
		    top_pair(ui, CP_RED) | A_BOLD;
		snprintf(bufs[C_UP], 256, "%zu/%zu", s->nup, s->ninst);
		top_fmt_rps(bufs[C_RPS], 256, s->rps, 1);
		top_fmt_ok(bufs[C_OK], 256, s->rps, s->eps);
		l->attr[C_OK] = top_ok_attr(ui, s->rps, s->eps);
		top_fmt_us(bufs[C_P50], 256, s->p50, s->have_lat);
		top_fmt_us(bufs[C_P95], 256, s->p95, s->have_lat);
		top_fmt_us(bufs[C_P99], 256, s->p99, s->have_lat);
		snprintf(bufs[C_CONN], 256, "%llu", (unsigned long long)s->conns);
		snprintf(bufs[C_BRK], 256, "%s", top_brk_word(s->brk));
		l->attr[C_BRK] = top_brk_attr(ui, s->brk);
		top_model_weights(s, bufs[C_WEIGHT], 256);
		top_spark(bufs[C_SPARK], 256, s, spark_w, ui->utf8);
		l->attr[C_SPARK] = top_pair(ui, CP_CYAN);
	} else if (r->kind == 1) {
		const struct top_version *v = &s->ver[r->ver];

		snprintf(bufs[C_NAME], 256, " @%s", v->name);
		snprintf(bufs[C_UP], 256, "%zu/%zu", v->nup, v->ninst);
		snprintf(bufs[C_WEIGHT], 256, "%u%%%s", v->weight,
		    r->ver == s->nver - 1 && s->nver > 1 ? " *" : "");
	} else {
		const struct top_inst *in = &m->inst[r->inst];

		snprintf(bufs[C_NAME], 256, "  %s", in->name);
		snprintf(bufs[C_HOST], 256, "%s", in->host);
		snprintf(bufs[C_STATE], 256, "%s", in->state);
		l->attr[C_STATE] = top_state_attr(ui, in->state);
		snprintf(bufs[C_UP], 256, "%s", in->endpoint);
		top_fmt_rps(bufs[C_RPS], 256, in->rps, in->have_stats);
		top_fmt_ok(bufs[C_OK], 256, in->rps, in->eps);
		l->attr[C_OK] = top_ok_attr(ui, in->rps, in->eps);
		top_fmt_us(bufs[C_P50], 256, in->ewma_us, in->ewma_us != 0);
		snprintf(bufs[C_CONN], 256, "%llu", (unsigned long long)in->conns);
		snprintf(bufs[C_BRK], 256, "%s%s", top_brk_word(in->brk), in->ejected ? " EJ" : "");
		l->attr[C_BRK] = top_brk_attr(ui, in->brk);
	}
}

static void
top_main(struct top_ui *ui, const struct top_model *m)
{
	char bufs[C__N][256];
	struct top_line l;
	int spark_w, y, rows = LINES - 4;
	unsigned shown = top_render_columns_hosts(COLS, m->host[0] != '\0', &spark_w);
	size_t i;

	memset(&l, 0, sizeof(l));
	for (i = 0; i < C__N; i++)
		l.text[i] = top_cols[i].head;
	top_draw_line(1, shown, spark_w, &l, A_REVERSE);
	if (ui->sel < ui->top)
		ui->top = ui->sel;
	if (ui->sel >= ui->top + (size_t)rows)
		ui->top = ui->sel - (size_t)rows + 1;
	for (y = 0, i = ui->top; i < ui->nrows && y < rows; i++, y++) {
		top_main_row(ui, m, &ui->rows[i], &l, bufs, spark_w);
		top_draw_line(2 + y, shown, spark_w, &l, i == ui->sel ? A_REVERSE : A_NORMAL);
	}
	if (ui->nrows == 0)
		mvaddnstr(3, 2, m->running ? "no services" : "the mesh is not running", COLS - 2);
}

static void
top_footer(const struct top_ui *ui, const struct top_model *m)
{
	const char *keys = ui->view == TOP_VIEW_MAIN ?
	    "q quit  /find  Enter detail  Space expand  +/- canary  t tap  l logs  ? keys" :
	    ui->view == TOP_VIEW_TAP || ui->view == TOP_VIEW_LOGS ? "Esc back  q quit" :
	    "Esc back q quit  +/- canary  b brk  r restart  t tap  l logs  f fault  m mirror";

	if (ui->prompt == TOP_PROMPT_FIND) {
		attron(A_BOLD);
		mvprintw(LINES - 2, 0, "/%.*s", COLS - 2, ui->input);
		attroff(A_BOLD);
	} else if (ui->prompt == TOP_PROMPT_CONFIRM) {
		attron(A_BOLD | top_pair(ui, CP_YELLOW));
		mvaddnstr(LINES - 2, 0, ui->ask, COLS);
		attroff(A_BOLD | top_pair(ui, CP_YELLOW));
	} else if (m->err[0] != '\0') {
		attron(top_pair(ui, CP_RED));
		mvaddnstr(LINES - 2, 0, m->err, COLS);
		attroff(top_pair(ui, CP_RED));
	} else if (ui->msg[0] != '\0')
		mvaddnstr(LINES - 2, 0, ui->msg, COLS);
	attron(A_DIM);
	mvaddnstr(LINES - 1, 0, keys, COLS);
	attroff(A_DIM);
}

void
top_render(struct top_ui *ui, const struct top_model *m)
{
	erase();
	if (COLS < TOP_MIN_COLS || LINES < TOP_MIN_LINES) {
		char msg[96];
		int n = snprintf(msg, sizeof(msg), "terminal too small: %dx%d, need %dx%d",
		    COLS, LINES, TOP_MIN_COLS, TOP_MIN_LINES);

		/* an open form stays usable: it is all that is drawn then */
		if (ui->prompt == TOP_PROMPT_FORM)
			top_form_draw(ui);
		else
			mvaddnstr(LINES / 2, COLS > n ? (COLS - n) / 2 : 0, msg, COLS);
	} else {
		top_header(ui, m);
		if (ui->view == TOP_VIEW_HELP)
			top_help();
		else if (ui->view == TOP_VIEW_DETAIL)
			top_detail(ui, m);
		else if (ui->view == TOP_VIEW_TAP || ui->view == TOP_VIEW_LOGS)
			top_stream(ui);
		else
			top_main(ui, m);
		top_footer(ui, m);
		/* the cursor rests on the selected row (screen readers, tmux),
		 * on the prompt, or in the form's focused field */
		if (ui->prompt == TOP_PROMPT_FORM)
			top_form_draw(ui);
		else
			move(ui->prompt != TOP_PROMPT_NONE ? LINES - 2 : 0, 0);
	}
	wnoutrefresh(stdscr);
	doupdate();
}
