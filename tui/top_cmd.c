/* SPDX-License-Identifier: ISC */
/*
 * top_cmd: `meshctl top [-f FILE] [-i SECONDS]`, the live dashboard
 * (include/mesh/top.h has the parts and the meaning of every number).
 *
 * The loop: poll() on the terminal with the time left to the next frame
 * as its timeout; a frame asks meshd for `status --json` on one control
 * connection kept open, reads the stats files, draws.  A key redraws at
 * once from the model already held, and an action (after its y/n prompt)
 * runs on the same connection and refreshes.  The tap view (`t`) polls
 * its ctl_tap every CTL_TAP_POLL_MS between frames; the logs view (`l`)
 * re-reads its lines each frame.  Resizes: ncurses' own
 * SIGWINCH handler turns them into KEY_RESIZE (nothing else here owns
 * that signal), and each frame compares the size with TIOCGWINSZ too, so
 * a resize is never missed however it arrives.
 *
 * Without a terminal on stdin and stdout, or with TERM unset, "dumb" or
 * unknown to curses, it prints what `meshctl status` prints instead.
 */
#include <curses.h>
#include <errno.h>
#include <locale.h>
#include <langinfo.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mesh/clock.h"
#include "mesh/ctl.h"
#include "mesh/ctl_tap.h"
#include "mesh/logfile.h"
#include "mesh/top.h"

#define CTL_TOP_TIMEOUT_MS 3000
#define CTL_TOP_MSG_S      8      /* how long an action's answer stays */

struct top_cmd {
	struct ctl_mesh  mesh;
	int              fd;          /* the control connection, -1 while none */
	struct top_model model;
	struct top_ui    ui;
	double           interval;
	SCREEN          *scr;
	struct ctl_tap   tap;         /* while the tap view is on */
	int              tap_open;
	enum top_view    shown;       /* the view of the last turn */
	struct stat      log_seen;    /* mesh.log when the logs view last read it */
};

/* A tapped request, as `meshctl tap` prints it, into the tap view. */
static int
top_cmd_tap_line(void *arg, const struct stats_span_rec *s)
{
	struct top_ui *ui = arg;
	char line[CTL_TAP_LINE_MAX];
	size_t n = ctl_tap_format(line, sizeof(line), s, 0);

	top_stream_push(&ui->stream, line, n, s->status >= 500 || s->status == 0);
	ui->stream.total++;
	ui->dirty = 1;
	return 0;
}

static void
top_cmd_log_line(void *arg, const char *line, size_t len)
{
	top_stream_push(arg, line, len, 0);
}

/* Has mesh.log changed (written, rotated) since the logs view last read
 * it?  Saves re-reading up to 8 MiB every frame of a quiet mesh. */
static int
top_cmd_log_moved(struct top_cmd *t)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/" LOGFILE_DIR "/" LOGFILE_NAME, t->mesh.state_dir);
	if (stat(path, &st) == -1)
		memset(&st, 0, sizeof(st));
	if (st.st_ino == t->log_seen.st_ino && st.st_size == t->log_seen.st_size &&
	    st.st_mtim.tv_sec == t->log_seen.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == t->log_seen.st_mtim.tv_nsec)
		return 0;
	t->log_seen = st;
	return 1;
}

/*
 * Feed the tap or logs view: the tap is opened when its view comes on
 * (and closed when it goes: the sidecars' lease then expires by itself),
 * polled every turn; the logs view re-reads the last lines of its
 * instance at each frame that finds mesh.log changed, and at once when it
 * comes on.
 */
static void
top_cmd_streams(struct top_cmd *t, int frame)
{
	struct top_stream *st = &t->ui.stream;
	int fresh = t->ui.view != t->shown;

	t->shown = t->ui.view;
	if (t->tap_open && (t->ui.view != TOP_VIEW_TAP || strcmp(t->tap.service, st->of) != 0)) {
		ctl_tap_close(&t->tap);
		t->tap_open = 0;
	}
	if (t->ui.view == TOP_VIEW_TAP) {
		if (!t->tap_open && st->err[0] == '\0') {
			if (ctl_tap_open(&t->tap, t->mesh.state_dir, st->of, NULL, st->err,
			    sizeof(st->err)) == 0)
				t->tap_open = 1;
			t->ui.dirty = 1;
		}
		if (t->tap_open) {
			if (ctl_tap_poll(&t->tap, top_cmd_tap_line, &t->ui, st->err,
			    sizeof(st->err)) == -1) {
				ctl_tap_close(&t->tap);
				t->tap_open = 0;
				t->ui.dirty = 1;
			}
			if (t->tap.lost != 0) {
				st->lost += t->tap.lost;
				t->tap.lost = 0;
				t->ui.dirty = 1;
			}
		}
	} else if (t->ui.view == TOP_VIEW_LOGS && (frame || fresh) &&
	    (fresh || top_cmd_log_moved(t))) {
		long n;

		st->head = st->count = 0;
		st->err[0] = '\0';
		n = ctl_logs_last(&t->mesh, st->of, LINES > 6 ? (size_t)(LINES - 5) : 1,
		    top_cmd_log_line, st);
		if (n == -1)
			snprintf(st->err, sizeof(st->err), "%s", errno == ENOENT ?
			    "no log file yet (meshd writes <state_dir>/log/mesh.log)" :
			    errno == EINVAL ? "no such service or instance in the config" :
			    strerror(errno));
		t->ui.dirty = 1;
	}
}

static void
top_cmd_collect(void *arg, uint16_t type, const char *payload, size_t len)
{
	fwrite(payload, 1, len, arg);
}

/*
 * One command on the kept connection (reconnecting once when it was
 * lost).  Its replies in *out (malloc'd); meshd's exit code, or -1 with
 * errno (CTL_NOT_RUNNING-like: ECONNREFUSED when meshd is not there).
 */
static int
top_cmd_command(struct top_cmd *t, const char *cmd, char **out, size_t *len)
{
	int attempt, rc = -1;

	*out = NULL;
	*len = 0;
	for (attempt = 0; attempt < 2; attempt++) {
		FILE *f;

		if (t->fd == -1) {
			/* nothing printed: stderr belongs to curses now */
			if (ctl_conn_open(&t->mesh, &t->fd) != CTL_OK) {
				t->fd = -1;
				errno = ECONNREFUSED;
				return -1;
			}
		}
		free(*out);
		*out = NULL;
		if ((f = open_memstream(out, len)) == NULL)
			return -1;
		rc = ctl_conn_command(t->fd, cmd, CTL_TOP_TIMEOUT_MS, top_cmd_collect, f);
		fclose(f);
		if (rc != -1)
			return rc;
		close(t->fd);
		t->fd = -1;
	}
	return rc;
}

static void
top_cmd_frame(struct top_cmd *t)
{
	char *doc;
	size_t len;
	int rc = top_cmd_command(t, "status --json", &doc, &len);

	if (rc == 0 && doc != NULL) {
		top_model_status(&t->model, doc, len);
		top_stats_update(&t->model, clock_ns(CLOCK_REALTIME));
	} else {
		t->model.running = 0;
		snprintf(t->model.err, sizeof(t->model.err), "meshd of mesh '%s' does not answer "
		    "(%s): retrying", t->mesh.name, rc == -1 ? strerror(errno) : "status failed");
	}
	free(doc);
	if (t->ui.msg[0] != '\0' && time(NULL) - t->ui.msg_at > CTL_TOP_MSG_S)
		t->ui.msg[0] = '\0';
	top_ui_rows(&t->ui, &t->model);
}

/* Run an action the user confirmed; its answer on the status line. */
static void
top_cmd_action(struct top_cmd *t, const char *cmd)
{
	char *out;
	size_t len;
	int rc = top_cmd_command(t, cmd, &out, &len);
	char *nl;

	if (rc == -1)
		snprintf(t->ui.msg, sizeof(t->ui.msg), "%s: meshd did not answer: %s", cmd,
		    strerror(errno));
	else {
		/* the first line of the reply says what happened */
		if (out != NULL && (nl = strchr(out, '\n')) != NULL)
			*nl = '\0';
		snprintf(t->ui.msg, sizeof(t->ui.msg), "%s%s", rc == 0 ? "" : "failed: ",
		    out != NULL && out[0] != '\0' ? out : rc == 0 ? "done" : cmd);
	}
	t->ui.msg_at = time(NULL);
	free(out);
}

/* The terminal's size now; resizeterm() when curses has another idea. */
static int
top_cmd_resize(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == -1 || ws.ws_row == 0 || ws.ws_col == 0)
		return 0;
	if (ws.ws_row == LINES && ws.ws_col == COLS)
		return 0;
	resizeterm(ws.ws_row, ws.ws_col);
	return 1;
}

static int
top_cmd_screen(struct top_cmd *t)
{
	const char *nc = getenv("NO_COLOR");
	const char *cs;

	setlocale(LC_ALL, "");
	cs = nl_langinfo(CODESET);
	t->ui.utf8 = cs != NULL && strcmp(cs, "UTF-8") == 0;
	if ((t->scr = newterm(NULL, stdout, stdin)) == NULL)
		return -1;
	set_term(t->scr);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	t->ui.color = has_colors() && (nc == NULL || nc[0] == '\0');
	if (t->ui.color) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_GREEN, -1);
		init_pair(2, COLOR_YELLOW, -1);
		init_pair(3, COLOR_RED, -1);
		init_pair(4, COLOR_CYAN, -1);
	}
	return 0;
}

static void
top_cmd_loop(struct top_cmd *t)
{
	uint64_t step = (uint64_t)(t->interval * 1e9), next = 0;

	while (!t->ui.quit) {
		uint64_t now = clock_ns(CLOCK_MONOTONIC);
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int ch, wait_ms;

		if (now >= next) {
			top_cmd_frame(t);
			top_cmd_streams(t, 1);
			top_cmd_resize();
			top_render(&t->ui, &t->model);
			next = now + step;
		}
		wait_ms = (int)((next - now) / 1000000u) + 1;
		if (t->ui.view == TOP_VIEW_TAP && wait_ms > CTL_TAP_POLL_MS)
			wait_ms = CTL_TAP_POLL_MS;   /* the tap view moves between frames */
		if (poll(&pfd, 1, wait_ms) == -1 && errno != EINTR)
			break;
		if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))
			break;   /* the terminal went away */
		t->ui.dirty = 0;
		while (!t->ui.quit && (ch = getch()) != ERR) {
			const char *cmd;

			if (ch == KEY_RESIZE) {
				t->ui.dirty = 1;
				continue;
			}
			if ((cmd = top_input_key(&t->ui, &t->model, ch)) != NULL) {
				top_cmd_action(t, cmd);
				next = 0;    /* show the effect now */
			}
		}
		top_cmd_streams(t, 0);
		if (top_cmd_resize())
			t->ui.dirty = 1;
		if (t->ui.dirty && !t->ui.quit && next != 0)
			top_render(&t->ui, &t->model);
	}
}

int
top_cmd(const struct ctl_opts *o)
{
	struct top_cmd t;
	const char *term = getenv("TERM");
	int rc;

	memset(&t, 0, sizeof(t));
	t.fd = -1;
	t.interval = o->interval > 0 ? o->interval : 1.0;
	if ((rc = ctl_mesh_open(o->file, 0, &t.mesh)) != CTL_OK)
		return rc;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) || term == NULL ||
	    term[0] == '\0' || strcmp(term, "dumb") == 0)
		goto plain;
	if ((rc = ctl_conn_open(&t.mesh, &t.fd)) != CTL_OK) {
		if (rc == CTL_NOT_RUNNING)
			rc = ctl_mesh_not_running(&t.mesh);
		ctl_mesh_close(&t.mesh);
		return rc;
	}
	if (top_cmd_screen(&t) == -1) {
		close(t.fd);
		goto plain;
	}
	top_model_init(&t.model);
	t.model.cfg = &t.mesh.cfg;
	top_cmd_loop(&t);
	if (t.tap_open)
		ctl_tap_close(&t.tap);
	endwin();
	delscreen(t.scr);
	top_model_free(&t.model);
	free(t.ui.rows);
	if (t.fd != -1)
		close(t.fd);
	ctl_mesh_close(&t.mesh);
	return CTL_OK;
plain:
	/* no screen to draw on: the same as `meshctl status` */
	rc = ctl_conn_run(&t.mesh, "status", CTL_TOP_TIMEOUT_MS, ctl_conn_print, stdout);
	if (rc == CTL_NOT_RUNNING)
		rc = ctl_mesh_not_running(&t.mesh);
	ctl_mesh_close(&t.mesh);
	return rc;
}
