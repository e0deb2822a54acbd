/* SPDX-License-Identifier: ISC */
/*
 * top_input: the dashboard's rows, selection and keys (include/mesh/top.h).
 *
 * The selection is remembered by name (service, and instance id or
 * version), not by position, so it stays on the same thing when a frame
 * re-sorts the rows or a service appears.  Every action that changes the
 * mesh goes through the confirm prompt: the key builds the control
 * command and the question, 'y' hands the command to the caller; `f` and
 * `m` go through their form instead (top_form.c), whose Enter is the
 * confirmation.  `t` and `l` only switch to the tap or logs view of the
 * selection (top_stream.c; top_cmd.c feeds them).
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/top.h"

#define KEY_ESC 27

int
top_ui_expanded(const struct top_ui *ui, const char *svc)
{
	size_t i;

	for (i = 0; i < ui->nexpanded; i++)
		if (strcmp(ui->expanded[i], svc) == 0)
			return 1;
	return 0;
}

static void
top_ui_expand(struct top_ui *ui, const char *svc, int on)
{
	size_t i;

	for (i = 0; i < ui->nexpanded; i++)
		if (strcmp(ui->expanded[i], svc) == 0)
			break;
	if (on && i == ui->nexpanded && ui->nexpanded < TOP_SVC_MAX)
		snprintf(ui->expanded[ui->nexpanded++], TOP_NAME_MAX, "%s", svc);
	else if (!on && i < ui->nexpanded) {
		memmove(ui->expanded[i], ui->expanded[i + 1],
		    (ui->nexpanded - i - 1) * sizeof(ui->expanded[0]));
		ui->nexpanded--;
	}
}

/* Sort keys: name ascending; the others heaviest first, then by name. */
static const struct top_model *top_sort_model;
static enum top_sort top_sort_key;

static double
top_sort_val(const struct top_svc *s)
{
	switch (top_sort_key) {
	case TOP_SORT_RPS: return s->rps;
	case TOP_SORT_ERR: return s->rps > 0 ? s->eps / s->rps : 0;
	case TOP_SORT_P99: return (double)s->p99;
	default:           return 0;
	}
}

static int
top_sort_cmp(const void *a, const void *b)
{
	const struct top_svc *x = &top_sort_model->svc[*(const size_t *)a];
	const struct top_svc *y = &top_sort_model->svc[*(const size_t *)b];
	double vx = top_sort_val(x), vy = top_sort_val(y);

	if (vx != vy)
		return vx < vy ? 1 : -1;
	return strcmp(x->name, y->name);
}

static int
top_ui_push(struct top_ui *ui, int kind, size_t svc, size_t ver, size_t inst)
{
	if (ui->nrows == ui->rows_cap) {
		size_t ncap = ui->rows_cap ? ui->rows_cap * 2 : 64;
		struct top_row *nr = realloc(ui->rows, ncap * sizeof(*nr));

		if (nr == NULL)
			return -1;
		ui->rows = nr;
		ui->rows_cap = ncap;
	}
	ui->rows[ui->nrows].kind = kind;
	ui->rows[ui->nrows].svc = svc;
	ui->rows[ui->nrows].ver = ver;
	ui->rows[ui->nrows].inst = inst;
	ui->nrows++;
	return 0;
}

/* The names that identify row r (for keeping the selection). */
static void
top_ui_remember(struct top_ui *ui, const struct top_model *m)
{
	const struct top_row *r;

	if (ui->sel >= ui->nrows)
		return;
	r = &ui->rows[ui->sel];
	ui->sel_kind = r->kind;
	snprintf(ui->sel_name, sizeof(ui->sel_name), "%s", m->svc[r->svc].name);
	if (r->kind == 1)
		snprintf(ui->sel_inst, sizeof(ui->sel_inst), "%s", m->svc[r->svc].ver[r->ver].name);
	else if (r->kind == 2)
		snprintf(ui->sel_inst, sizeof(ui->sel_inst), "%s", m->inst[r->inst].id);
	else
		ui->sel_inst[0] = '\0';
}

void
top_ui_rows(struct top_ui *ui, const struct top_model *m)
{
	size_t order[TOP_SVC_MAX], i, v, k, found = (size_t)-1, found_svc = (size_t)-1;

	ui->nrows = 0;
	for (i = 0; i < m->nsvc; i++)
		order[i] = i;
	top_sort_model = m;
	top_sort_key = ui->sort;
	qsort(order, m->nsvc, sizeof(order[0]), top_sort_cmp);
	for (i = 0; i < m->nsvc; i++) {
		const struct top_svc *s = &m->svc[order[i]];

		if (top_ui_push(ui, 0, order[i], 0, 0) == -1)
			return;
		if (!top_ui_expanded(ui, s->name))
			continue;
		for (v = 0; v < s->nver; v++) {
			if (s->nver > 1 && top_ui_push(ui, 1, order[i], v, 0) == -1)
				return;
			for (k = 0; k < s->ninst; k++)
				if (strcmp(m->inst[s->inst[k]].version, s->ver[v].name) == 0 &&
				    top_ui_push(ui, 2, order[i], v, s->inst[k]) == -1)
					return;
		}
	}
	/* find the remembered selection again */
	for (i = 0; i < ui->nrows; i++) {
		const struct top_row *r = &ui->rows[i];

		if (strcmp(m->svc[r->svc].name, ui->sel_name) != 0)
			continue;
		if (r->kind == 0)
			found_svc = i;
		if (r->kind == ui->sel_kind && (r->kind == 0 ||
		    (r->kind == 1 && strcmp(m->svc[r->svc].ver[r->ver].name, ui->sel_inst) == 0) ||
		    (r->kind == 2 && strcmp(m->inst[r->inst].id, ui->sel_inst) == 0)))
			found = i;
	}
	if (found != (size_t)-1)
		ui->sel = found;
	else if (found_svc != (size_t)-1)
		ui->sel = found_svc;
	else if (ui->sel >= ui->nrows)
		ui->sel = ui->nrows ? ui->nrows - 1 : 0;
	top_ui_remember(ui, m);
}

static void
top_ui_say(struct top_ui *ui, const char *msg)
{
	snprintf(ui->msg, sizeof(ui->msg), "%s", msg);
	ui->msg_at = time(NULL);
}

static void
top_ui_ask(struct top_ui *ui, const char *cmd, const char *ask)
{
	snprintf(ui->cmd, sizeof(ui->cmd), "%s", cmd);
	snprintf(ui->ask, sizeof(ui->ask), "%s", ask);
	ui->prompt = TOP_PROMPT_CONFIRM;
}

/* The selected row's service (detail view: the one shown), or NULL. */
static const struct top_svc *
top_ui_svc(const struct top_ui *ui, const struct top_model *m)
{
	size_t i;

	for (i = 0; i < m->nsvc; i++)
		if (strcmp(m->svc[i].name, ui->sel_name) == 0)
			return &m->svc[i];
	return NULL;
}

/* The selected instance: an instance row, or a service of one instance. */
static const struct top_inst *
top_ui_inst(const struct top_ui *ui, const struct top_model *m, const struct top_svc *s)
{
	size_t i;

	if (ui->view == TOP_VIEW_MAIN && ui->sel_kind == 2) {
		for (i = 0; i < m->ninst; i++)
			if (strcmp(m->inst[i].id, ui->sel_inst) == 0)
				return &m->inst[i];
		return NULL;
	}
	return s != NULL && s->ninst == 1 ? &m->inst[s->inst[0]] : NULL;
}

static void
top_ui_action(struct top_ui *ui, const struct top_model *m, int key)
{
	const struct top_svc *s = top_ui_svc(ui, m);
	const struct top_inst *in;
	char cmd[512], ask[256];

	if (s == NULL) {
		top_ui_say(ui, "select a service first");
		return;
	}
	switch (key) {
	case '+':
	case '=':
	case '-':
		if (top_model_canary(s, key == '-' ? -TOP_STEP : TOP_STEP, cmd, sizeof(cmd),
		    ask, sizeof(ask)) == -1)
			top_ui_say(ui, ask);
		else
			top_ui_ask(ui, cmd, ask);
		break;
	case 'b':
		in = ui->view == TOP_VIEW_MAIN && ui->sel_kind == 2 ? top_ui_inst(ui, m, s) : NULL;
		if (in != NULL) {
			snprintf(cmd, sizeof(cmd), "breaker-reset %s %s.%u", s->name, in->version, in->index);
			snprintf(ask, sizeof(ask), "Reset the breaker of %s in every caller? [y/n]", in->name);
		} else {
			snprintf(cmd, sizeof(cmd), "breaker-reset %s", s->name);
			snprintf(ask, sizeof(ask), "Reset every breaker of %s in every caller? [y/n]", s->name);
		}
		top_ui_ask(ui, cmd, ask);
		break;
	case 't':
		/* top_cmd.c opens the tap while the view is on */
		top_stream_clear(&ui->stream, s->name);
		ui->view = TOP_VIEW_TAP;
		break;
	case 'l':
		/* an instance row (or a service of one): that instance; else all */
		in = top_ui_inst(ui, m, s);
		if (in != NULL && in->remote) {
			top_ui_say(ui, "an instance on another host: its logs are there");
			break;
		}
		top_stream_clear(&ui->stream, in != NULL ? in->name : s->name);
		ui->view = TOP_VIEW_LOGS;
		break;
	case 'f':
	case 'm':
		/* a small form, prefilled with what is in force; Enter sends it */
		top_form_open(&ui->form, key, s);
		ui->prompt = TOP_PROMPT_FORM;
		break;
	case 'r':
		if ((in = top_ui_inst(ui, m, s)) == NULL) {
			top_ui_say(ui, "select an instance to restart (Space expands a service)");
			break;
		}
		if (in->remote) {
			top_ui_say(ui, "an instance on another host: restart it there");
			break;
		}
		snprintf(cmd, sizeof(cmd), "restart %s", in->id);
		snprintf(ask, sizeof(ask), "Restart %s (app pid %ld)? [y/n]", in->name, in->app_pid);
		top_ui_ask(ui, cmd, ask);
		break;
	}
}

/* '/' NAME Enter: the first service (in row order) whose name has NAME. */
static void
top_ui_find(struct top_ui *ui, const struct top_model *m)
{
	size_t i;
	char msg[128];

	for (i = 0; i < ui->nrows; i++) {
		const struct top_row *r = &ui->rows[i];

		if (r->kind == 0 && strstr(m->svc[r->svc].name, ui->input) != NULL) {
			ui->sel = i;
			top_ui_remember(ui, m);
			return;
		}
	}
	snprintf(msg, sizeof(msg), "no service matches '%s'", ui->input);
	top_ui_say(ui, msg);
}

void
top_input_edit(char *buf, size_t size, int key)
{
	size_t n = strlen(buf);

	if (key == KEY_BACKSPACE || key == 127 || key == 8) {
		if (n > 0)
			buf[n - 1] = '\0';
	} else if (key == 21) {          /* ^U */
		buf[0] = '\0';
	} else if (key >= 0x20 && key < 0x7f && n + 1 < size) {
		buf[n] = (char)key;
		buf[n + 1] = '\0';
	}
}

/* A key for the open form: Enter (or ^D) builds its command and hands it
 * to the caller; a form that cannot be sent stays open, saying why. */
static const char *
top_input_form(struct top_ui *ui, int key)
{
	enum top_form_act act = top_form_key(&ui->form, key);
	char why[256];

	switch (act) {
	case TOP_FORM_CANCEL:
		ui->prompt = TOP_PROMPT_NONE;
		top_ui_say(ui, "cancelled");
		break;
	case TOP_FORM_APPLY:
	case TOP_FORM_OFF:
		if (top_form_cmd(&ui->form, act == TOP_FORM_OFF, ui->cmd, sizeof(ui->cmd), why,
		    sizeof(why)) == -1) {
			top_ui_say(ui, why);
			break;
		}
		ui->prompt = TOP_PROMPT_NONE;
		return ui->cmd;
	case TOP_FORM_STAY:
		break;
	}
	return NULL;
}

static const char *
top_input_prompt(struct top_ui *ui, const struct top_model *m, int key)
{
	size_t n = strlen(ui->input);

	if (ui->prompt == TOP_PROMPT_FORM)
		return top_input_form(ui, key);

	if (ui->prompt == TOP_PROMPT_CONFIRM) {
		if (key == 'y' || key == 'Y') {
			ui->prompt = TOP_PROMPT_NONE;
			return ui->cmd;
		}
		if (key == 'n' || key == 'N' || key == KEY_ESC || key == 'q') {
			ui->prompt = TOP_PROMPT_NONE;
			top_ui_say(ui, "cancelled");
		}
		return NULL;
	}
	if (key == KEY_ESC) {
		ui->prompt = TOP_PROMPT_NONE;
	} else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		ui->prompt = TOP_PROMPT_NONE;
		if (n > 0)
			top_ui_find(ui, m);
	} else
		top_input_edit(ui->input, sizeof(ui->input), key);
	return NULL;
}

static void
top_input_move(struct top_ui *ui, const struct top_model *m, long by)
{
	long sel = (long)ui->sel + by;

	if (ui->nrows == 0)
		return;
	if (sel < 0)
		sel = 0;
	if (sel >= (long)ui->nrows)
		sel = (long)ui->nrows - 1;
	ui->sel = (size_t)sel;
	top_ui_remember(ui, m);
}

const char *
top_input_key(struct top_ui *ui, const struct top_model *m, int key)
{
	long page = LINES > 6 ? LINES - 6 : 1;

	ui->dirty = 1;
	if (ui->prompt != TOP_PROMPT_NONE)
		return top_input_prompt(ui, m, key);
	switch (key) {
	case 'q':
	case 'Q':
		ui->quit = 1;
		break;
	case KEY_UP: case 'k':     top_input_move(ui, m, -1); break;
	case KEY_DOWN: case 'j':   top_input_move(ui, m, 1); break;
	case KEY_PPAGE:            top_input_move(ui, m, -page); break;
	case KEY_NPAGE:            top_input_move(ui, m, page); break;
	case KEY_HOME: case 'g':   top_input_move(ui, m, -(long)ui->nrows); break;
	case KEY_END: case 'G':    top_input_move(ui, m, (long)ui->nrows); break;
	case ' ':
	case KEY_RIGHT:
	case KEY_LEFT:
		if (ui->view == TOP_VIEW_MAIN && ui->sel_name[0] != '\0') {
			int on = key == ' ' ? !top_ui_expanded(ui, ui->sel_name) : key == KEY_RIGHT;

			top_ui_expand(ui, ui->sel_name, on);
			if (!on) {
				ui->sel_kind = 0;
				ui->sel_inst[0] = '\0';
			}
			top_ui_rows(ui, m);
		}
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		ui->view = ui->view == TOP_VIEW_MAIN && ui->sel_name[0] != '\0' ?
		    TOP_VIEW_DETAIL : TOP_VIEW_MAIN;
		break;
	case KEY_ESC:
	case KEY_BACKSPACE:
	case 127:
		ui->view = TOP_VIEW_MAIN;
		break;
	case '?':
	case 'h':
		ui->view = ui->view == TOP_VIEW_HELP ? TOP_VIEW_MAIN : TOP_VIEW_HELP;
		break;
	case '/':
		ui->prompt = TOP_PROMPT_FIND;
		ui->input[0] = '\0';
		ui->view = TOP_VIEW_MAIN;
		break;
	case 's':
		ui->sort = (enum top_sort)((ui->sort + 1) % TOP_SORT__N);
		top_ui_rows(ui, m);
		break;
	case '+': case '=': case '-': case 'b': case 'r': case 't': case 'l': case 'f': case 'm':
		top_ui_action(ui, m, key);
		break;
	case 12:   /* ^L */
		clearok(curscr, TRUE);
		break;
	default:
		ui->dirty = 0;
		break;
	}
	return NULL;
}
