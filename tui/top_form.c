/* SPDX-License-Identifier: ISC */
/*
 * top_form: the dashboard's `f` (fault) and `m` (mirror) forms
 * (include/mesh/top.h): a few labelled fields prefilled from what status
 * says is in force, the control command they stand for, and their boxed
 * panel drawn over the table.
 *
 * The command is the one `meshctl fault` and `meshctl mirror` send
 * (faults.h, mirrors.h): the form only puts the fields into its words;
 * whether a value is good is meshd's call, and its refusal shows on the
 * status line like any action's answer.  The form refuses only what
 * could not be sent as words (a blank inside a value) or is plainly half
 * a value (a delay share without the delay).
 */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "mesh/top.h"
#include "top_int.h"

#define KEY_ESC   27
#define KEY_CTL_D 4
#define TOP_FORM_LABEL_W 13      /* "Match header" and a blank */
#define TOP_FORM_VALUE_W 22      /* the value's box, brackets included */
#define TOP_FORM_W       66      /* the panel at most */

struct top_form_field {
	const char *label, *hint;
};

static const struct top_form_field top_form_fault[] = {
	[TOP_FF_ABORT_PCT]    = { "Abort %",      "0-100, 0: no abort" },
	[TOP_FF_ABORT_STATUS] = { "Abort status", "200-599" },
	[TOP_FF_DELAY_PCT]    = { "Delay %",      "0-100, 0: no delay" },
	[TOP_FF_DELAY]        = { "Delay",        "e.g. 300ms, 2s" },
	[TOP_FF_VERSION]      = { "Version",      "empty: every version" },
	[TOP_FF_MATCH]        = { "Match header", "e.g. x-chaos: 1" },
};

static const struct top_form_field top_form_mirror[] = {
	[TOP_FM_VERSION] = { "Version", "gets the copies" },
	[TOP_FM_PCT]     = { "Percent", "0-100, 0 or empty: off" },
};

static const struct top_form_field *
top_form_fields(const struct top_form *f)
{
	return f->kind == 'f' ? top_form_fault : top_form_mirror;
}

const char *
top_form_label(const struct top_form *f, size_t field)
{
	return field < f->nfield ? top_form_fields(f)[field].label : "";
}

static void
top_form_set(struct top_form *f, size_t field, const char *s, size_t len)
{
	if (len >= sizeof(f->val[0]))
		len = sizeof(f->val[0]) - 1;
	memcpy(f->val[field], s, len);
	f->val[field][len] = '\0';
}

/* "20%:503" into two fields: what is before "%:" and what is after. */
static void
top_form_pair(struct top_form *f, const char *v, size_t pct, size_t second)
{
	const char *sep = strstr(v, "%:");

	if (sep == NULL)
		return;
	top_form_set(f, pct, v, (size_t)(sep - v));
	top_form_set(f, second, sep + 2, strlen(sep + 2));
}

void
top_form_fill(struct top_form *f, const char *words)
{
	char buf[TOP_WORDS_MAX], *tok, *val, *save = NULL, *eq;

	snprintf(buf, sizeof(buf), "%s", words);
	if (f->kind == 'm') {
		/* "v2=10%" */
		if ((tok = strtok_r(buf, " \t", &save)) == NULL || (eq = strchr(tok, '=')) == NULL)
			return;
		top_form_set(f, TOP_FM_VERSION, tok, (size_t)(eq - tok));
		top_form_set(f, TOP_FM_PCT, eq + 1, strcspn(eq + 1, "%"));
		return;
	}
	for (tok = strtok_r(buf, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
		if ((val = strtok_r(NULL, " \t", &save)) == NULL)
			break;
		if (strcmp(tok, "abort") == 0)
			top_form_pair(f, val, TOP_FF_ABORT_PCT, TOP_FF_ABORT_STATUS);
		else if (strcmp(tok, "delay") == 0)
			top_form_pair(f, val, TOP_FF_DELAY_PCT, TOP_FF_DELAY);
		else if (strcmp(tok, "version") == 0)
			top_form_set(f, TOP_FF_VERSION, val, strlen(val));
		else if (strcmp(tok, "match") == 0 && (eq = strchr(val, ':')) != NULL)
			/* shown as the file writes it: "x-chaos: 1" */
			snprintf(f->val[TOP_FF_MATCH], sizeof(f->val[0]), "%.*s: %s",
			    (int)(eq - val), val, eq + 1);
	}
}

void
top_form_open(struct top_form *f, int kind, const struct top_svc *s)
{
	memset(f, 0, sizeof(*f));
	f->kind = kind == 'f' ? 'f' : 'm';
	snprintf(f->service, sizeof(f->service), "%s", s->name);
	if (f->kind == 'f') {
		f->nfield = sizeof(top_form_fault) / sizeof(top_form_fault[0]);
		snprintf(f->val[TOP_FF_ABORT_STATUS], sizeof(f->val[0]), "503");
		top_form_fill(f, s->fault_words);
	} else {
		f->nfield = sizeof(top_form_mirror) / sizeof(top_form_mirror[0]);
		if (s->nver > 1)
			snprintf(f->val[TOP_FM_VERSION], sizeof(f->val[0]), "%s",
			    s->ver[s->nver - 1].name);
		top_form_fill(f, s->mirror_words);
	}
}

enum top_form_act
top_form_key(struct top_form *f, int key)
{
	switch (key) {
	case '\t':
	case KEY_DOWN:
		f->focus = (f->focus + 1) % f->nfield;
		return TOP_FORM_STAY;
	case KEY_BTAB:
	case KEY_UP:
		f->focus = (f->focus + f->nfield - 1) % f->nfield;
		return TOP_FORM_STAY;
	case '\n':
	case '\r':
	case KEY_ENTER:
		return TOP_FORM_APPLY;
	case KEY_CTL_D:
		return TOP_FORM_OFF;
	case KEY_ESC:
		return TOP_FORM_CANCEL;
	default:
		top_input_edit(f->val[f->focus], sizeof(f->val[0]), key);
		return TOP_FORM_STAY;
	}
}

/*
 * Field i's value into out without its outer blanks (and, for a share,
 * its '%'); a blank left inside refuses it, naming the field, except
 * after the match header's colon ("x-chaos: 1" is sent as x-chaos:1).
 */
static int
top_form_word(const struct top_form *f, size_t i, char *out, size_t size,
    char *why, size_t whylen)
{
	const char *v = f->val[i] + strspn(f->val[i], " \t");
	size_t len = strlen(v), n = 0, k;
	int pct = f->kind == 'f' ? i == TOP_FF_ABORT_PCT || i == TOP_FF_DELAY_PCT : i == TOP_FM_PCT;

	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (pct && len > 0 && v[len - 1] == '%')
		len--;
	for (k = 0; k < len && n + 1 < size; k++) {
		if (v[k] == ' ' || v[k] == '\t') {
			if (f->kind == 'f' && i == TOP_FF_MATCH && n > 0 && out[n - 1] == ':')
				continue;
			snprintf(why, whylen, "%s: no blank inside a value ('%s')",
			    top_form_label(f, i), f->val[i]);
			return -1;
		}
		out[n++] = v[k];
	}
	out[n] = '\0';
	return 0;
}

/* A share as typed is empty or zero ("", "0", "0.0"): that part is off.
 * Anything else (a typo too) is sent, for meshd to judge.  By hand, as
 * strtod() would follow LC_NUMERIC. */
static int
top_form_zero(const char *pct)
{
	return strspn(pct, "0.") == strlen(pct);
}

int
top_form_cmd(const struct top_form *f, int off, char *cmd, size_t cmdlen,
    char *why, size_t whylen)
{
	char w[TOP_FORM_FIELDS][TOP_FORM_LEN];
	int fault = f->kind == 'f', aborts = 0, delays = 0;
	size_t i, n = 0;

#define ADD(...) (n += (size_t)snprintf(cmd + (n < cmdlen ? n : cmdlen), \
    n < cmdlen ? cmdlen - n : 0, __VA_ARGS__))
	/* the shares first: all of them 0 is "off", whatever else is typed */
	if (!off && fault) {
		if (top_form_word(f, TOP_FF_ABORT_PCT, w[TOP_FF_ABORT_PCT], TOP_FORM_LEN,
		    why, whylen) == -1 || top_form_word(f, TOP_FF_DELAY_PCT,
		    w[TOP_FF_DELAY_PCT], TOP_FORM_LEN, why, whylen) == -1)
			return -1;
		aborts = !top_form_zero(w[TOP_FF_ABORT_PCT]);
		delays = !top_form_zero(w[TOP_FF_DELAY_PCT]);
		off = !aborts && !delays;
	} else if (!off) {
		if (top_form_word(f, TOP_FM_PCT, w[TOP_FM_PCT], TOP_FORM_LEN, why, whylen) == -1)
			return -1;
		off = top_form_zero(w[TOP_FM_PCT]);
	}
	ADD("%s %s", fault ? "fault" : "mirror", f->service);
	if (off) {
		ADD(" off");
		goto done;
	}
	for (i = 0; i < f->nfield; i++)
		if (top_form_word(f, i, w[i], sizeof(w[i]), why, whylen) == -1)
			return -1;
	if (fault) {
		if (delays && w[TOP_FF_DELAY][0] == '\0') {
			snprintf(why, whylen, "%s: how long (e.g. 300ms), or Delay %% 0",
			    top_form_label(f, TOP_FF_DELAY));
			return -1;
		}
		if (aborts)
			ADD(" abort %s%%:%s", w[TOP_FF_ABORT_PCT],
			    w[TOP_FF_ABORT_STATUS][0] != '\0' ? w[TOP_FF_ABORT_STATUS] : "503");
		if (delays)
			ADD(" delay %s%%:%s", w[TOP_FF_DELAY_PCT], w[TOP_FF_DELAY]);
		if (w[TOP_FF_VERSION][0] != '\0')
			ADD(" version %s", w[TOP_FF_VERSION]);
		if (w[TOP_FF_MATCH][0] != '\0')
			ADD(" match %s", w[TOP_FF_MATCH]);
	} else if (w[TOP_FM_VERSION][0] == '\0') {
		snprintf(why, whylen, "%s: which version gets the copies (e.g. v2)",
		    top_form_label(f, TOP_FM_VERSION));
		return -1;
	} else
		ADD(" %s=%s%%", w[TOP_FM_VERSION], w[TOP_FM_PCT]);
#undef ADD
done:
	if (n >= cmdlen) {
		snprintf(why, whylen, "%s: the form's values are too long", f->service);
		return -1;
	}
	return 0;
}

/* ---- drawing ------------------------------------------------------------ */

/* s at (y, x), at most n columns; nothing when n < 1 (curses reads -1 as
 * "all of it"). */
static void
top_form_put(int y, int x, const char *s, int n)
{
	if (n > 0)
		mvaddnstr(y, x, s, n);
}

/* A frame around rows y0..y0+h-1, columns x0..x0+w-1, its inside blank. */
static void
top_form_box(int y0, int x0, int h, int w, const char *title, attr_t a)
{
	int y;

	attron(a);
	for (y = y0 + 1; y < y0 + h - 1; y++) {
		mvaddch(y, x0, ACS_VLINE);
		mvhline(y, x0 + 1, ' ', w - 2);
		mvaddch(y, x0 + w - 1, ACS_VLINE);
	}
	mvaddch(y0, x0, ACS_ULCORNER);
	mvhline(y0, x0 + 1, ACS_HLINE, w - 2);
	mvaddch(y0, x0 + w - 1, ACS_URCORNER);
	mvaddch(y0 + h - 1, x0, ACS_LLCORNER);
	mvhline(y0 + h - 1, x0 + 1, ACS_HLINE, w - 2);
	mvaddch(y0 + h - 1, x0 + w - 1, ACS_LRCORNER);
	attroff(a);
	attron(A_BOLD);
	top_form_put(y0, x0 + 2, title, w - 4);
	attroff(A_BOLD);
}

/*
 * Field i on row y from column x in `room` columns: "> Label  [value]
 * hint", the focused one marked (it reads without colour too).  The hint
 * goes first when room is short, then the value's box.  *cur_y, *cur_x:
 * the end of the focused value.
 */
static void
top_form_row(const struct top_ui *ui, size_t i, int y, int x, int room, int *cur_y, int *cur_x)
{
	const struct top_form *f = &ui->form;
	const struct top_form_field *fd = &top_form_fields(f)[i];
	int focus = i == f->focus;
	int vw = room - 2 - TOP_FORM_LABEL_W, shown, len = (int)strlen(f->val[i]);
	const char *v = f->val[i];

	if (vw > TOP_FORM_VALUE_W)
		vw = TOP_FORM_VALUE_W;
	if (focus)
		attron(A_BOLD);
	top_form_put(y, x, focus ? "> " : "  ", room);
	top_form_put(y, x + 2, fd->label, room - 2);
	attroff(A_BOLD);
	if (vw < 4)
		return;      /* no room for a value: the labels still say where one is */
	/* the value's end stays in view while it is typed */
	shown = vw - 2;
	if (len > shown)
		v += len - shown;
	move(y, x + 2 + TOP_FORM_LABEL_W);
	addch('[');
	attron(focus ? A_REVERSE | top_pair(ui, CP_YELLOW) : A_UNDERLINE);
	printw("%-*.*s", shown, shown, v);
	attroff(A_REVERSE | A_UNDERLINE | top_pair(ui, CP_YELLOW));
	addch(']');
	if (room - (2 + TOP_FORM_LABEL_W + vw + 2) >= 8) {
		attron(A_DIM);
		top_form_put(y, x + 2 + TOP_FORM_LABEL_W + vw + 2, fd->hint,
		    room - (2 + TOP_FORM_LABEL_W + vw + 2));
		attroff(A_DIM);
	}
	if (focus) {
		*cur_y = y;
		*cur_x = x + 2 + TOP_FORM_LABEL_W + 1 + (len < shown ? len : shown);
	}
}

/*
 * The form's panel, centred over whatever is drawn: a frame titled with
 * the service, one row per field, a blank, the keys.  On a screen too
 * short for that it drops the blank, then the frame, then the keys, then
 * shows only the fields up to the focused one; never a cell outside the
 * screen.  The cursor is left at the end of the focused value.
 */
void
top_form_draw(const struct top_ui *ui)
{
	const struct top_form *f = &ui->form;
	static const char keys[] = "Tab/Up/Down move  Enter apply  ^D off  Esc cancel";
	char title[TOP_NAME_MAX + 32];
	int nf = (int)f->nfield, w = COLS < TOP_FORM_W ? COLS : TOP_FORM_W;
	int box = LINES >= nf + 3 && w >= 20, gap = box && LINES >= nf + 4;
	int h = box ? nf + 3 + gap : LINES < nf + 1 ? LINES : nf + 1;
	int rows = box ? nf : h > nf ? nf : h;          /* rows for fields */
	int y0 = (LINES - h) / 2, x0 = (COLS - w) / 2, first = 0, y, i;
	int cur_y = 0, cur_x = 0;

	if (h <= 0 || w <= 0)
		return;
	snprintf(title, sizeof(title), " %s: %s ",
	    f->kind == 'f' ? "Fault injection" : "Mirror", f->service);
	if (box)
		top_form_box(y0, x0, h, w, title, top_pair(ui, CP_CYAN));
	else
		for (y = y0; y < y0 + h; y++)
			mvhline(y, x0, ' ', w);
	if ((int)f->focus >= rows)
		first = (int)f->focus - rows + 1;
	for (i = first, y = y0 + box; i < nf && i < first + rows; i++, y++)
		top_form_row(ui, (size_t)i, y, x0 + box, w - 2 * box, &cur_y, &cur_x);
	if (box || h > nf) {
		attron(A_DIM);
		top_form_put(y0 + h - 1 - box, x0 + 1 + box, keys, w - 2 - 2 * box);
		attroff(A_DIM);
	}
	move(cur_y, cur_x);
}
