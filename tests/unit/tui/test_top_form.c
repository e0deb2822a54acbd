/* SPDX-License-Identifier: ISC */
/*
 * test_top_form: the dashboard's `f` and `m` forms (tui/top_form.c) —
 * status's routes[].fault and .mirror into the words a form starts from,
 * prefill from those words, editing and moving between fields, the
 * control command built from the fields (off when every share is 0, ^D,
 * what the form refuses itself), the keys through top_input_key, and the
 * panel drawn on a real curses screen at 80x24 and on smaller ones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/top.h"
#include "top_int.h"

#define CTL_D 4
#define CTL_U 21
#define ESC   27

/* api (v1, v2) with a fault and a mirror in force; web with neither. */
static const char doc[] =
    "{\"mesh\":{\"name\":\"shop\",\"state_dir\":\"/nonexistent\",\"running\":true},"
    "\"services\":["
    "{\"name\":\"api\",\"version\":\"v1\",\"protocol\":\"http\",\"instances\":[]},"
    "{\"name\":\"api\",\"version\":\"v2\",\"protocol\":\"http\",\"instances\":[]},"
    "{\"name\":\"web\",\"version\":\"v1\",\"protocol\":\"http\",\"instances\":[]}],"
    "\"routes\":[{\"name\":\"api\",\"split\":[],"
    "\"fault\":{\"delay_percent\":0.5,\"delay_ms\":300,\"abort_percent\":20,"
    "\"abort_status\":502,\"match\":\"x-chaos: 1\",\"version\":\"v2\",\"source\":\"live\"},"
    "\"mirror\":{\"version\":\"v2\",\"percent\":12.5,\"source\":\"live\"}},"
    "{\"name\":\"web\",\"split\":[],\"fault\":null,\"mirror\":null}]}";

static void
load(struct top_model *m)
{
	top_model_init(m);
	assert_int_equal(top_model_status(m, doc, strlen(doc)), 0);
}

static void
type(struct top_form *f, const char *s)
{
	for (; *s != '\0'; s++)
		assert_int_equal(top_form_key(f, (unsigned char)*s), TOP_FORM_STAY);
}

/* The command of form f (off as given), asserted to build. */
static const char *
cmd_of(const struct top_form *f, int off)
{
	static char cmd[512];
	char why[256];

	why[0] = '\0';
	assert_int_equal(top_form_cmd(f, off, cmd, sizeof(cmd), why, sizeof(why)), 0);
	return cmd;
}

/* The reason form f is refused, asserted to be. */
static const char *
why_of(const struct top_form *f)
{
	static char why[256];
	char cmd[512];

	assert_int_equal(top_form_cmd(f, 0, cmd, sizeof(cmd), why, sizeof(why)), -1);
	return why;
}

static void
test_model_words(void **state)
{
	struct top_model m;
	const struct top_svc *api, *web;

	(void)state;
	load(&m);
	api = top_model_find(&m, "api");
	web = top_model_find(&m, "web");
	assert_non_null(api);
	assert_non_null(web);
	assert_int_equal(api->fault, 1);
	assert_int_equal(api->mirror, 1);
	/* the share's decimal as status wrote it, the match's blank gone */
	assert_string_equal(api->fault_words,
	    "abort 20%:502 delay 0.5%:300ms version v2 match x-chaos:1");
	assert_string_equal(api->mirror_words, "v2=12.5%");
	assert_int_equal(web->fault, 0);
	assert_string_equal(web->fault_words, "");
	assert_string_equal(web->mirror_words, "");
	top_model_free(&m);
}

static void
test_prefill(void **state)
{
	struct top_model m;
	struct top_form f;

	(void)state;
	load(&m);
	/* the fault in force, field by field; sent again unchanged */
	top_form_open(&f, 'f', top_model_find(&m, "api"));
	assert_int_equal(f.nfield, 6);
	assert_int_equal(f.focus, 0);
	assert_string_equal(f.service, "api");
	assert_string_equal(f.val[TOP_FF_ABORT_PCT], "20");
	assert_string_equal(f.val[TOP_FF_ABORT_STATUS], "502");
	assert_string_equal(f.val[TOP_FF_DELAY_PCT], "0.5");
	assert_string_equal(f.val[TOP_FF_DELAY], "300ms");
	assert_string_equal(f.val[TOP_FF_VERSION], "v2");
	assert_string_equal(f.val[TOP_FF_MATCH], "x-chaos: 1");
	assert_string_equal(top_form_label(&f, TOP_FF_MATCH), "Match header");
	assert_string_equal(cmd_of(&f, 0),
	    "fault api abort 20%:502 delay 0.5%:300ms version v2 match x-chaos:1");
	/* no fault: only the default status */
	top_form_open(&f, 'f', top_model_find(&m, "web"));
	assert_string_equal(f.val[TOP_FF_ABORT_PCT], "");
	assert_string_equal(f.val[TOP_FF_ABORT_STATUS], "503");
	assert_string_equal(f.val[TOP_FF_MATCH], "");
	/* words missing a part or unknown leave the fields as they were */
	top_form_fill(&f, "abort 7% delay 10%:1s bogus x version");
	assert_string_equal(f.val[TOP_FF_ABORT_PCT], "");
	assert_string_equal(f.val[TOP_FF_DELAY_PCT], "10");
	assert_string_equal(f.val[TOP_FF_DELAY], "1s");
	assert_string_equal(f.val[TOP_FF_VERSION], "");
	/* the mirror in force; none: the canary version, no share */
	top_form_open(&f, 'm', top_model_find(&m, "api"));
	assert_int_equal(f.nfield, 2);
	assert_string_equal(f.val[TOP_FM_VERSION], "v2");
	assert_string_equal(f.val[TOP_FM_PCT], "12.5");
	assert_string_equal(cmd_of(&f, 0), "mirror api v2=12.5%");
	top_model_find(&m, "api")->mirror_words[0] = '\0';
	top_form_open(&f, 'm', top_model_find(&m, "api"));
	assert_string_equal(f.val[TOP_FM_VERSION], "v2");
	assert_string_equal(f.val[TOP_FM_PCT], "");
	top_form_open(&f, 'm', top_model_find(&m, "web"));
	assert_string_equal(f.val[TOP_FM_VERSION], "");      /* one version: no guess */
	top_model_free(&m);
}

static void
test_edit(void **state)
{
	struct top_model m;
	struct top_form f;
	char big[TOP_FORM_LEN + 50];
	size_t i;

	(void)state;
	load(&m);
	top_form_open(&f, 'f', top_model_find(&m, "web"));
	type(&f, "2x");
	assert_int_equal(top_form_key(&f, KEY_BACKSPACE), TOP_FORM_STAY);
	type(&f, "0");
	assert_string_equal(f.val[TOP_FF_ABORT_PCT], "20");
	/* Tab and Down go forward, Shift-Tab and Up back, both wrap */
	top_form_key(&f, '\t');
	assert_int_equal(f.focus, TOP_FF_ABORT_STATUS);
	top_form_key(&f, 127);
	top_form_key(&f, 8);
	type(&f, "00");
	assert_string_equal(f.val[TOP_FF_ABORT_STATUS], "500");
	top_form_key(&f, KEY_DOWN);
	assert_int_equal(f.focus, TOP_FF_DELAY_PCT);
	top_form_key(&f, KEY_UP);
	top_form_key(&f, KEY_BTAB);
	assert_int_equal(f.focus, TOP_FF_ABORT_PCT);
	top_form_key(&f, KEY_BTAB);
	assert_int_equal(f.focus, TOP_FF_MATCH);
	top_form_key(&f, '\t');
	assert_int_equal(f.focus, TOP_FF_ABORT_PCT);
	/* ^U clears the field; keys that edit nothing change nothing */
	top_form_key(&f, CTL_U);
	assert_string_equal(f.val[TOP_FF_ABORT_PCT], "");
	top_form_key(&f, KEY_LEFT);
	top_form_key(&f, 0x01);
	top_form_key(&f, 200);
	assert_string_equal(f.val[TOP_FF_ABORT_PCT], "");
	/* a field holds at most TOP_FORM_LEN - 1 bytes */
	memset(big, '7', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	type(&f, big);
	assert_int_equal(strlen(f.val[TOP_FF_ABORT_PCT]), TOP_FORM_LEN - 1);
	/* what ends or leaves the form */
	assert_int_equal(top_form_key(&f, '\r'), TOP_FORM_APPLY);
	assert_int_equal(top_form_key(&f, '\n'), TOP_FORM_APPLY);
	assert_int_equal(top_form_key(&f, KEY_ENTER), TOP_FORM_APPLY);
	assert_int_equal(top_form_key(&f, CTL_D), TOP_FORM_OFF);
	assert_int_equal(top_form_key(&f, ESC), TOP_FORM_CANCEL);
	/* the shared line editor alone */
	big[0] = '\0';
	top_input_edit(big, 3, 'a');
	top_input_edit(big, 3, 'b');
	top_input_edit(big, 3, 'c');                  /* does not fit */
	assert_string_equal(big, "ab");
	top_input_edit(big, 3, KEY_F(1));
	assert_string_equal(big, "ab");
	for (i = 0; i < 3; i++)
		top_input_edit(big, 3, KEY_BACKSPACE);
	assert_string_equal(big, "");
	top_model_free(&m);
}

static void
test_command(void **state)
{
	struct top_model m;
	struct top_form f;

	(void)state;
	load(&m);
	top_form_open(&f, 'f', top_model_find(&m, "web"));
	/* nothing typed: every share empty is off */
	assert_string_equal(cmd_of(&f, 0), "fault web off");
	type(&f, "20");
	assert_string_equal(cmd_of(&f, 0), "fault web abort 20%:503");
	/* a typed '%' and outer blanks are fine; an emptied status is 503 */
	snprintf(f.val[TOP_FF_ABORT_PCT], TOP_FORM_LEN, " 20%% ");
	f.val[TOP_FF_ABORT_STATUS][0] = '\0';
	assert_string_equal(cmd_of(&f, 0), "fault web abort 20%:503");
	/* every field */
	snprintf(f.val[TOP_FF_ABORT_STATUS], TOP_FORM_LEN, "429");
	snprintf(f.val[TOP_FF_DELAY_PCT], TOP_FORM_LEN, "10");
	snprintf(f.val[TOP_FF_DELAY], TOP_FORM_LEN, "300ms");
	snprintf(f.val[TOP_FF_VERSION], TOP_FORM_LEN, "v1");
	snprintf(f.val[TOP_FF_MATCH], TOP_FORM_LEN, "x-chaos:  1 ");
	assert_string_equal(cmd_of(&f, 0),
	    "fault web abort 20%:429 delay 10%:300ms version v1 match x-chaos:1");
	/* ^D: off, whatever is typed */
	assert_string_equal(cmd_of(&f, 1), "fault web off");
	/* a zero share drops its part; both zero is off */
	snprintf(f.val[TOP_FF_ABORT_PCT], TOP_FORM_LEN, "0");
	assert_string_equal(cmd_of(&f, 0),
	    "fault web delay 10%:300ms version v1 match x-chaos:1");
	snprintf(f.val[TOP_FF_DELAY_PCT], TOP_FORM_LEN, "0.0%%");
	assert_string_equal(cmd_of(&f, 0), "fault web off");
	/* ... even with a value the form would refuse in another field */
	snprintf(f.val[TOP_FF_VERSION], TOP_FORM_LEN, "v 1");
	assert_string_equal(cmd_of(&f, 0), "fault web off");
	/* what the form refuses itself, naming the field */
	snprintf(f.val[TOP_FF_ABORT_PCT], TOP_FORM_LEN, "5");
	assert_non_null(strstr(why_of(&f), "Version: no blank"));
	f.val[TOP_FF_VERSION][0] = '\0';
	snprintf(f.val[TOP_FF_MATCH], TOP_FORM_LEN, "x-chaos: 1 2");
	assert_non_null(strstr(why_of(&f), "Match header: no blank"));
	f.val[TOP_FF_MATCH][0] = '\0';
	snprintf(f.val[TOP_FF_DELAY_PCT], TOP_FORM_LEN, "10");
	f.val[TOP_FF_DELAY][0] = '\0';
	assert_non_null(strstr(why_of(&f), "Delay: how long"));
	snprintf(f.val[TOP_FF_DELAY_PCT], TOP_FORM_LEN, "1 0");
	assert_non_null(strstr(why_of(&f), "Delay %: no blank"));
	/* a value meshd is to judge goes as typed */
	f.val[TOP_FF_DELAY_PCT][0] = '\0';
	snprintf(f.val[TOP_FF_ABORT_PCT], TOP_FORM_LEN, "120");
	assert_string_equal(cmd_of(&f, 0), "fault web abort 120%:429");
	snprintf(f.val[TOP_FF_ABORT_PCT], TOP_FORM_LEN, "lots");
	assert_string_equal(cmd_of(&f, 0), "fault web abort lots%:429");

	/* the mirror form */
	top_form_open(&f, 'm', top_model_find(&m, "web"));
	assert_string_equal(cmd_of(&f, 0), "mirror web off");
	snprintf(f.val[TOP_FM_PCT], TOP_FORM_LEN, "10");
	assert_non_null(strstr(why_of(&f), "Version: which version"));
	snprintf(f.val[TOP_FM_VERSION], TOP_FORM_LEN, "v1");
	assert_string_equal(cmd_of(&f, 0), "mirror web v1=10%");
	snprintf(f.val[TOP_FM_PCT], TOP_FORM_LEN, "0%%");
	assert_string_equal(cmd_of(&f, 0), "mirror web off");
	snprintf(f.val[TOP_FM_PCT], TOP_FORM_LEN, "50");
	assert_string_equal(cmd_of(&f, 1), "mirror web off");
	top_model_free(&m);
}

/* f and m through the dashboard's keys: open, type, Enter, Esc. */
static void
test_keys(void **state)
{
	struct top_model m;
	struct top_ui ui;
	const char *cmd;

	(void)state;
	load(&m);
	memset(&ui, 0, sizeof(ui));
	top_ui_rows(&ui, &m);
	assert_string_equal(ui.sel_name, "api");
	assert_null(top_input_key(&ui, &m, 'f'));
	assert_int_equal(ui.prompt, TOP_PROMPT_FORM);
	assert_int_equal(ui.form.kind, 'f');
	/* keys go to the form, not the dashboard: q is typed, not quit */
	top_input_key(&ui, &m, CTL_U);
	top_input_key(&ui, &m, 'q');
	assert_int_equal(ui.quit, 0);
	assert_string_equal(ui.form.val[TOP_FF_ABORT_PCT], "q");
	top_input_key(&ui, &m, KEY_BACKSPACE);
	top_input_key(&ui, &m, '3');
	top_input_key(&ui, &m, '0');
	cmd = top_input_key(&ui, &m, '\r');
	assert_non_null(cmd);
	assert_string_equal(cmd,
	    "fault api abort 30%:502 delay 0.5%:300ms version v2 match x-chaos:1");
	assert_int_equal(ui.prompt, TOP_PROMPT_NONE);
	/* a form it refuses stays open and says why on the status line */
	top_input_key(&ui, &m, 'f');
	top_input_key(&ui, &m, KEY_UP);               /* wraps to Match header */
	top_input_key(&ui, &m, ' ');
	top_input_key(&ui, &m, 'x');
	assert_null(top_input_key(&ui, &m, '\r'));
	assert_int_equal(ui.prompt, TOP_PROMPT_FORM);
	assert_non_null(strstr(ui.msg, "Match header: no blank"));
	/* ^D is off at once */
	assert_string_equal(top_input_key(&ui, &m, CTL_D), "fault api off");
	assert_int_equal(ui.prompt, TOP_PROMPT_NONE);
	/* Esc cancels; m then Enter sends the mirror in force again */
	top_input_key(&ui, &m, 'm');
	assert_int_equal(ui.form.kind, 'm');
	assert_null(top_input_key(&ui, &m, ESC));
	assert_int_equal(ui.prompt, TOP_PROMPT_NONE);
	assert_string_equal(ui.msg, "cancelled");
	top_input_key(&ui, &m, 'm');
	assert_string_equal(top_input_key(&ui, &m, KEY_ENTER), "mirror api v2=12.5%");
	free(ui.rows);
	top_model_free(&m);
}

/* Row y of the screen as text. */
static const char *
row(int y)
{
	static char buf[512];
	int n = COLS < (int)sizeof(buf) - 1 ? COLS : (int)sizeof(buf) - 1;

	buf[0] = '\0';
	mvinnstr(y, 0, buf, n);
	return buf;
}

/* The first row that has s, or -1. */
static int
find_row(const char *s)
{
	int y;

	for (y = 0; y < LINES; y++)
		if (strstr(row(y), s) != NULL)
			return y;
	return -1;
}

/* The panel on a real curses screen (output to /dev/null), read back. */
static void
test_draw(void **state)
{
	static const int sizes[][2] = { { 24, 80 }, { 10, 50 }, { 9, 40 }, { 6, 30 },
	                                { 3, 16 }, { 1, 1 } };
	struct top_model m;
	struct top_ui ui;
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	SCREEN *scr;
	size_t i;
	int y, cy, cx;

	(void)state;
	assert_non_null(out);
	assert_non_null(in);
	scr = newterm("vt100", out, in);
	assert_non_null(scr);
	set_term(scr);
	load(&m);
	memset(&ui, 0, sizeof(ui));
	top_ui_rows(&ui, &m);
	top_input_key(&ui, &m, 'f');
	top_input_key(&ui, &m, '\t');                  /* focus on Abort status */

	/* 80x24: the whole panel over the table, framed and titled */
	resizeterm(24, 80);
	top_render(&ui, &m);
	getyx(stdscr, cy, cx);                     /* before reading moves it */
	assert_true(find_row("Fault injection: api") > 0);
	y = find_row("Abort %");
	assert_true(y > 0);
	assert_non_null(strstr(row(y), "[20 "));
	assert_non_null(strstr(row(y + 1), "> Abort status"));     /* the focus */
	assert_non_null(strstr(row(y + 1), "[502 "));
	assert_non_null(strstr(row(y + 5), "Match header"));
	assert_non_null(strstr(row(y + 5), "[x-chaos: 1 "));
	assert_non_null(strstr(row(y + 5), "e.g. x-chaos: 1"));
	assert_non_null(strstr(row(y + 7), "Enter apply"));
	assert_true(find_row("SERVICE") == 1);                    /* the table behind */
	/* the cursor at the end of the focused value */
	assert_int_equal(cy, find_row("> Abort status"));
	assert_int_equal(cx, (int)(strstr(row(cy), "[502") - row(cy)) + 4);
	/* smaller, down to 1x1: drawn, the focused field shown while it fits */
	for (i = 1; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		resizeterm(sizes[i][0], sizes[i][1]);
		top_render(&ui, &m);
		assert_int_equal(LINES, sizes[i][0]);
		if (sizes[i][1] >= 16)
			assert_true(find_row("Abort status") >= 0);
	}
	/* 10x50: framed, with the blank row; 9x40: framed without it */
	resizeterm(10, 50);
	top_render(&ui, &m);
	assert_int_equal(find_row("Fault injection: api"), 0);
	assert_int_equal(find_row("Enter apply"), 8);
	resizeterm(9, 40);
	top_render(&ui, &m);
	assert_int_equal(find_row("Fault injection: api"), 0);
	assert_int_equal(find_row("Abort %"), 1);
	assert_int_equal(find_row("Match header"), 6);
	assert_int_equal(find_row("Enter apply"), 7);
	/* 6x30: no frame, no keys, every field; 3x16: up to the focused one */
	resizeterm(6, 30);
	top_render(&ui, &m);
	assert_int_equal(find_row("Fault injection"), -1);
	assert_int_equal(find_row("Abort %"), 0);
	assert_int_equal(find_row("Match header"), 5);
	top_input_key(&ui, &m, KEY_UP);
	top_input_key(&ui, &m, KEY_UP);               /* wraps to Match header */
	resizeterm(3, 16);
	top_render(&ui, &m);
	assert_int_equal(find_row("Delay"), 0);
	assert_int_equal(find_row("> Match header"), 2);
	/* the mirror form, 80x24 */
	top_input_key(&ui, &m, 27);
	top_input_key(&ui, &m, 'm');
	resizeterm(24, 80);
	top_render(&ui, &m);
	assert_true(find_row("Mirror: api") > 0);
	assert_non_null(strstr(row(find_row("> Version")), "[v2 "));
	assert_non_null(strstr(row(find_row("Percent")), "[12.5 "));
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
	free(ui.rows);
	top_model_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_words),
		cmocka_unit_test(test_prefill),
		cmocka_unit_test(test_edit),
		cmocka_unit_test(test_command),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_draw),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
