/* SPDX-License-Identifier: ISC */
/*
 * ctl_tap: `meshctl tap [-f FILE] [--path PREFIX] [--status S] [-n N]
 * [--json] SERVICE`: the requests through SERVICE's sidecars as they
 * happen, one line each, until Ctrl-C (or N lines).
 *
 * The lease and the reading are ctl_tap_read.c's, the lines
 * ctl_tap_fmt.c's (include/mesh/ctl_tap.h); this is the loop: poll every
 * CTL_TAP_POLL_MS, print, say on stderr what the rings lost, stop on
 * SIGINT/SIGTERM (exit 0; the lease expires by itself within 3 s), on
 * -n, on a closed stdout, or when meshd goes away (exit 3).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mesh/ctl.h"
#include "mesh/ctl_tap.h"
#include "mesh/state.h"

static volatile sig_atomic_t ctl_tap_stop;

static void
ctl_tap_sig(int sig)
{
	(void)sig;
	ctl_tap_stop = 1;
}

struct ctl_tap_out {
	int      json;
	unsigned count;         /* 0: no -n */
	unsigned shown;
	int      done;          /* -n reached or stdout closed */
};

static int
ctl_tap_print(void *arg, const struct stats_span_rec *s)
{
	struct ctl_tap_out *o = arg;
	char line[CTL_TAP_LINE_MAX];
	size_t n = ctl_tap_format(line, sizeof(line) - 1, s, o->json);

	line[n++] = '\n';
	if (fwrite(line, 1, n, stdout) != n || fflush(stdout) == EOF) {
		o->done = 1;    /* `meshctl tap api | head`: the reader left */
		return 1;
	}
	if (o->count != 0 && ++o->shown >= o->count)
		o->done = 1;
	return o->done;
}

/* The loop; CTL_OK, CTL_FAIL or CTL_NOT_RUNNING (printed). */
static int
ctl_tap_run(struct ctl_tap *t, const struct ctl_mesh *m, struct ctl_tap_out *out)
{
	const struct timespec pause = { 0, CTL_TAP_POLL_MS * 1000000L };
	int64_t checked = ctl_proc_now_ms();
	char err[4200];

	while (!ctl_tap_stop) {
		if (ctl_tap_poll(t, ctl_tap_print, out, err, sizeof(err)) < 0) {
			ctl_errx("tap %s: %s", t->service, err);
			return CTL_FAIL;
		}
		if (t->lost != 0) {
			fprintf(stderr, "# %" PRIu64 " request%s not shown (ring wrapped)\n",
			    t->lost, t->lost == 1 ? "" : "s");
			t->lost = 0;
		}
		if (out->done)
			break;
		if (ctl_proc_now_ms() - checked >= 1000) {
			if (state_meshd_pid(m->state_dir) == 0)
				return ctl_mesh_not_running(m);
			checked = ctl_proc_now_ms();
		}
		nanosleep(&pause, NULL);   /* a signal cuts it short */
	}
	return CTL_OK;
}

int
ctl_tap(const struct ctl_opts *o)
{
	struct ctl_tap_filter f = { o->path, o->status_lo, o->status_hi };
	struct ctl_tap_out out = { .json = o->json, .count = o->count };
	struct sigaction sa;
	struct ctl_tap t;
	struct ctl_mesh m;
	char err[4200];
	int rc;

	if (o->nargs != 1) {
		ctl_errx("tap: want one SERVICE (meshctl tap --help)");
		return CTL_USAGE;
	}
	if ((rc = ctl_mesh_open(o->file, 0, &m)) != CTL_OK)
		return rc;
	if (config_service(&m.cfg, o->args[0], NULL) == NULL) {
		ctl_errx("%s: no service '%s'", m.cfg.path, o->args[0]);
		ctl_mesh_close(&m);
		return CTL_FAIL;
	}
	if (state_meshd_pid(m.state_dir) == 0) {
		rc = ctl_mesh_not_running(&m);
		ctl_mesh_close(&m);
		return rc;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ctl_tap_sig;      /* no SA_RESTART: the sleep ends */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (ctl_tap_open(&t, m.state_dir, o->args[0], &f, err, sizeof(err)) == -1) {
		ctl_errx("tap %s: %s", o->args[0], err);
		ctl_mesh_close(&m);
		return CTL_FAIL;
	}
	if (!o->json && isatty(STDERR_FILENO))
		fprintf(stderr, "# tapping %s (%zu sidecar%s); Ctrl-C stops\n", t.service,
		    t.nfiles, t.nfiles == 1 ? "" : "s");
	rc = ctl_tap_run(&t, &m, &out);
	ctl_tap_close(&t);
	ctl_mesh_close(&m);
	return rc;
}
