/* SPDX-License-Identifier: ISC */
/*
 * ctl_logs: `meshctl logs [--file FILE] [-f] [-n N] [--since D]
 * [SERVICE|INSTANCE...]`: the lines of apps, sidecars and meshd, as
 * `meshctl up` prints them in the foreground ("api.0       | text"), from
 * <state_dir>/log/mesh.log.1 and mesh.log (logfile.h; meshd writes them,
 * logwrite.h).  Reading the files, not the control socket, means a mesh
 * that has stopped (or crashed) still shows what it said.
 *
 * Operands are checked against the config, each an error (exit 1) when
 * it names nothing there: a SERVICE ("api": every instance of every
 * version, apps and sidecars), a deployment ("api@v2"), an INSTANCE by
 * name or id ("api.0", "api@v1.0": its app and its sidecar), a sidecar
 * alone ("api.0~proxy"), or "meshd".  meshd's lines about a selected
 * instance come with it.  No operand: every line.
 *
 * -f: after those, the lines appended, polled every CTL_LOGS_POLL_MS,
 * across rotations, until SIGINT or SIGTERM (exit 0).  A mesh not
 * running with no log file on disk exits 3; with a file, it is printed
 * (and followed: a later `up` appends to it).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh/ctl.h"
#include "mesh/logfile.h"
#include "mesh/state.h"

#define CTL_LOGS_POLL_MS 200

static volatile sig_atomic_t ctl_logs_stop;

static void
ctl_logs_signal(int sig)
{
	(void)sig;
	ctl_logs_stop = 1;
}

unsigned
ctl_logs_width(const struct mesh_config *cfg)
{
	size_t s, w = strlen("meshd");
	char name[CONF_NAME_MAX + CONF_VERSION_MAX + 16];
	int l;

	/* as meshd pads (meshd.c): the longest instance name + "~proxy" */
	for (s = 0; s < cfg->nservices; s++) {
		const struct conf_service *sv = &cfg->services[s];
		unsigned last = sv->instances > 0 ? sv->instances - 1 : 0;

		if (config_service(cfg, sv->name, NULL) == sv)
			l = snprintf(name, sizeof(name), "%s.%u~proxy", sv->name, last);
		else
			l = snprintf(name, sizeof(name), "%s@%s.%u~proxy", sv->name,
			    sv->version, last);
		if (l > 0 && (size_t)l > w)
			w = (size_t)l;
	}
	return (unsigned)w;
}

static int
ctl_logs_add(char ***sel, size_t *n, const char *s, const char *suffix)
{
	char **ns, *v;

	if ((ns = realloc(*sel, (*n + 1) * sizeof(**sel))) == NULL)
		return -1;
	*sel = ns;
	if (asprintf(&v, "%s%s", s, suffix) == -1)
		return -1;
	ns[(*n)++] = v;
	return 0;
}

int
ctl_logs_select(const struct mesh_config *cfg, const char *what, char ***sel, size_t *n)
{
	const char *tail = strstr(what, "~proxy");
	size_t s, wl = tail != NULL ? (size_t)(tail - what) : strlen(what);
	unsigned i;
	int found = 0;

	if (tail != NULL && tail[strlen("~proxy")] != '\0')
		return 0;
	if (strcmp(what, "meshd") == 0)
		return ctl_logs_add(sel, n, what, "") == -1 ? -1 : 1;
	for (s = 0; s < cfg->nservices; s++) {
		const struct conf_service *sv = &cfg->services[s];
		int first = config_service(cfg, sv->name, NULL) == sv;
		char dep[CONF_NAME_MAX + CONF_VERSION_MAX + 2];
		char id[sizeof(dep) + 12], name[sizeof(id)];

		if (tail == NULL && strcmp(what, sv->name) == 0)
			return ctl_logs_add(sel, n, sv->name, "") == -1 ? -1 : 1;
		snprintf(dep, sizeof(dep), "%s@%s", sv->name, sv->version);
		for (i = 0; i < sv->instances; i++) {
			snprintf(id, sizeof(id), "%s.%u", dep, i);
			if (first)
				snprintf(name, sizeof(name), "%s.%u", sv->name, i);
			else
				memcpy(name, id, sizeof(name));
			/* a deployment: each of its instances */
			if ((tail == NULL && strcmp(what, dep) == 0) ||
			    (strlen(name) == wl && strncmp(what, name, wl) == 0) ||
			    (strlen(id) == wl && strncmp(what, id, wl) == 0)) {
				if (ctl_logs_add(sel, n, name, tail != NULL ? "~proxy" : "") == -1)
					return -1;
				found = 1;
			}
		}
	}
	return found;
}

void
ctl_logs_free(char **sel, size_t n)
{
	while (n > 0)
		free(sel[--n]);
	free(sel);
}

size_t
ctl_logs_format(char *buf, size_t size, unsigned width, const struct logfile_line *l)
{
	int n = snprintf(buf, size, "%-*.*s | %.*s", (int)width, (int)l->name_len, l->name,
	    (int)l->text_len, l->text);

	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

struct ctl_logs_out {
	unsigned      width;
	ctl_logs_fn  *fn;
	void         *arg;
	char          buf[LOGFILE_LINE_MAX + 64];
};

static void
ctl_logs_line(void *arg, const struct logfile_line *l)
{
	struct ctl_logs_out *out = arg;

	out->fn(out->arg, out->buf, ctl_logs_format(out->buf, sizeof(out->buf), out->width, l));
}

long
ctl_logs_last(const struct ctl_mesh *m, const char *what, size_t n,
    ctl_logs_fn *fn, void *arg)
{
	struct logfile_filter f = { NULL, 0, 0 };
	struct ctl_logs_out *out;
	char *dir, **sel = NULL;
	size_t nsel = 0;
	long rc = -1;
	int r;

	if (!m->have_cfg || (r = ctl_logs_select(&m->cfg, what, &sel, &nsel)) == 0) {
		ctl_logs_free(sel, nsel);
		errno = EINVAL;
		return -1;
	}
	if (r == -1 || (out = malloc(sizeof(*out))) == NULL) {
		ctl_logs_free(sel, nsel);
		errno = ENOMEM;
		return -1;
	}
	if (asprintf(&dir, "%s/%s", m->state_dir, LOGFILE_DIR) != -1) {
		out->width = ctl_logs_width(&m->cfg);
		out->fn = fn;
		out->arg = arg;
		f.sel = (const char *const *)sel;
		f.nsel = nsel;
		rc = logfile_tail(dir, &f, n, ctl_logs_line, out, NULL);
		free(dir);
	}
	free(out);
	ctl_logs_free(sel, nsel);
	return rc;
}

static void
ctl_logs_print(void *arg, const char *line, size_t len)
{
	(void)arg;
	fwrite(line, 1, len, stdout);
	fputc('\n', stdout);
}

/* -f: poll until a signal, or stdout is gone (`logs -f | head`). */
static int
ctl_logs_follow(struct logfile_follow *fw, const struct logfile_filter *f,
    struct ctl_logs_out *out)
{
	struct timespec ts = { 0, CTL_LOGS_POLL_MS * 1000000L };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ctl_logs_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!ctl_logs_stop) {
		if (logfile_follow_poll(fw, f, ctl_logs_line, out) == -1) {
			ctl_err("%s", fw->path);
			return CTL_FAIL;
		}
		if (fflush(stdout) == EOF || ferror(stdout))
			return CTL_OK;
		nanosleep(&ts, NULL);
	}
	return CTL_OK;
}

int
ctl_logs(const struct ctl_opts *o)
{
	struct logfile_filter f = { NULL, 0, 0 };
	struct logfile_follow *fw = NULL;
	struct ctl_logs_out out;
	struct ctl_mesh m;
	char *dir = NULL, **sel = NULL;
	size_t nsel = 0;
	long got;
	int i, r, rc;

	if ((rc = ctl_mesh_open(o->file, 0, &m)) != CTL_OK)
		return rc;
	rc = CTL_FAIL;
	for (i = 0; i < o->nargs; i++) {
		if ((r = ctl_logs_select(&m.cfg, o->args[i], &sel, &nsel)) == -1) {
			ctl_err("logs");
			goto out;
		}
		if (r == 0) {
			ctl_errx("logs: %s: no service or instance '%s' (want SERVICE, "
			    "SERVICE@VERSION, an instance such as %s.0, or meshd)", o->file,
			    o->args[i], m.cfg.nservices > 0 ? m.cfg.services[0].name : "api");
			goto out;
		}
	}
	f.sel = (const char *const *)sel;
	f.nsel = nsel;
	f.since_ms = o->since * 1000;
	out.width = ctl_logs_width(&m.cfg);
	out.fn = ctl_logs_print;
	out.arg = NULL;
	if (asprintf(&dir, "%s/%s", m.state_dir, LOGFILE_DIR) == -1 ||
	    (o->follow && (fw = malloc(sizeof(*fw))) == NULL)) {
		ctl_err("logs");
		goto out;
	}
	got = logfile_tail(dir, &f, o->count, ctl_logs_line, &out, fw);
	if (got == -1 && errno == ENOENT) {
		if (state_meshd_pid(m.state_dir) == 0) {
			rc = ctl_mesh_not_running(&m);
			goto out;
		}
		/* a meshd that could not open it said why in its own log */
		ctl_errx("logs: %s/%s: no log file yet", dir, LOGFILE_NAME);
	} else if (got == -1) {
		ctl_err("logs: %s", dir);
		goto out;
	}
	if (fflush(stdout) == EOF) {
		rc = CTL_OK;
		goto out;
	}
	rc = fw != NULL ? ctl_logs_follow(fw, &f, &out) : CTL_OK;
out:
	if (fw != NULL)
		logfile_follow_close(fw);
	free(fw);
	free(dir);
	ctl_logs_free(sel, nsel);
	ctl_mesh_close(&m);
	return rc;
}
