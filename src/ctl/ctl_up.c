/* SPDX-License-Identifier: ISC */
/*
 * ctl_up: `meshctl up [-f FILE] [-d] [--timeout SECS]`.
 *
 * Foreground, meshctl becomes meshd (exec), so Ctrl-C and SIGTERM reach
 * the supervisor itself and it stops everything through its one shutdown
 * path; nothing in between can swallow a signal or leave an orphan.
 *
 * With -d, `meshd -d` detaches and returns once its control socket
 * answers; then `wait-ready` streams progress until every instance is
 * ready (its sidecar, and its app: health check passed, or its port
 * accepts connections), or meshd names what failed, or which instances
 * were not ready within their ready_timeout and their last log lines
 * (readiness.h).  meshctl's own bound is the longest ready_timeout plus
 * CTL_UP_SLACK_S, so meshd's answer comes first; --timeout overrides it.
 * A failed start leaves meshd running so `meshctl status` can show the
 * FATAL instance; `meshctl down` stops it.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "mesh/ctl.h"
#include "mesh/ipc.h"
#include "mesh/state.h"

/* 1: a meshd answers on the socket already (message printed);
 * 0: none; -1: cannot tell (message printed). */
static int
ctl_up_running(const struct ctl_mesh *m, const char *file)
{
	pid_t pid;
	int fd, rc;

	rc = ctl_conn_open(m, &fd);
	if (rc == CTL_NOT_RUNNING)
		return 0;
	if (rc != CTL_OK)
		return -1;
	close(fd);
	if ((pid = state_meshd_pid(m->state_dir)) > 0)
		ctl_errx("mesh '%s' is already running (meshd pid %d); "
		    "stop it first with: meshctl down -f %s", m->name, (int)pid, file);
	else
		ctl_errx("mesh '%s' is already running (%s answers); "
		    "stop it first with: meshctl down -f %s", m->name, m->sock_path, file);
	return 1;
}

/* wait-ready: progress lines (LOGLINE) are output; the one REPLY says
 * what failed, a diagnostic. */
static void
ctl_up_progress(void *arg, uint16_t type, const char *payload, size_t len)
{
	(void)arg;
	ctl_conn_print(type == IPC_REPLY ? stderr : stdout, type, payload, len);
}

/* How long to wait for wait-ready's answer (seconds). */
static unsigned
ctl_up_wait_s(const struct ctl_mesh *m, const struct ctl_opts *o)
{
	uint64_t us = 0;
	size_t i;

	if (o->timeout_s != 0)
		return o->timeout_s;
	if (!m->have_cfg)
		return CTL_UP_TIMEOUT_S;
	for (i = 0; i < m->cfg.nservices; i++) {
		uint64_t t = config_ready_timeout(&m->cfg, &m->cfg.services[i]);

		if (t > us)
			us = t;
	}
	return (unsigned)((us + 999999) / 1000000) + CTL_UP_SLACK_S;
}

static int
ctl_up_detached(const struct ctl_mesh *m, const struct ctl_opts *o)
{
	unsigned secs = ctl_up_wait_s(m, o);
	int fd, rc;

	rc = ctl_meshd_detach(o->file);
	if (rc != 0) {
		/* meshd (or ctl_meshd_detach) said why on stderr already. */
		if (rc == -1)
			ctl_errx("mesh '%s' did not start", m->name);
		else
			ctl_errx("mesh '%s' did not start (meshd exit status %d)",
			    m->name, rc);
		return CTL_FAIL;
	}
	if ((rc = ctl_conn_open(m, &fd)) != CTL_OK) {
		if (rc == CTL_NOT_RUNNING)
			ctl_errx("meshd for mesh '%s' returned but %s does not answer",
			    m->name, m->sock_path);
		return CTL_FAIL;
	}
	rc = ctl_conn_command(fd, "wait-ready", (int)secs * 1000,
	    ctl_up_progress, NULL);
	close(fd);
	if (rc == 0) {
		printf("%smesh '%s' is ready%s\n", ctl_term_esc(stdout, CTL_GREEN),
		    m->name, ctl_term_esc(stdout, CTL_RESET));
		return CTL_OK;
	}
	if (rc == -1 && errno == ETIMEDOUT)
		ctl_errx("mesh '%s' is not ready after %u s; see: meshctl status -f %s; "
		    "stop it with: meshctl down -f %s", m->name, secs, o->file, o->file);
	else {
		if (rc == -1)
			ctl_conn_lost(m, "wait-ready", (int)secs * 1000);
		ctl_errx("mesh '%s' failed to start; see: meshctl status -f %s; "
		    "stop it with: meshctl down -f %s", m->name, o->file, o->file);
	}
	return CTL_FAIL;
}

int
ctl_up(const struct ctl_opts *o)
{
	struct ctl_mesh m;
	int rc;

	if ((rc = ctl_mesh_open(o->file, 0, &m)) != CTL_OK)
		return rc;
	switch (ctl_up_running(&m, o->file)) {
	case 0:
		break;
	default:
		ctl_mesh_close(&m);
		return CTL_FAIL;
	}
	if (!o->detach) {
		ctl_mesh_close(&m);
		return ctl_meshd_exec(o->file);
	}
	rc = ctl_up_detached(&m, o);
	ctl_mesh_close(&m);
	return rc;
}
