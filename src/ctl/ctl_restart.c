/* SPDX-License-Identifier: ISC */
/*
 * ctl_restart: `meshctl restart [-f FILE] INSTANCE` and `meshctl
 * breaker-reset [-f FILE] SERVICE [VERSION.INDEX]`, the two one-shot
 * forms of what the dashboard's `r` and `b` keys do (meshd's side:
 * control.h).
 *
 * restart: meshd restarts the instance's app (its sidecar when it has
 * no command) now, with a fresh crash-loop count, so a FATAL instance
 * gets another chance.  INSTANCE is an id ("api@v1.0") or a name as
 * status shows it ("api.0").
 * breaker-reset: every sidecar that calls SERVICE closes its breakers
 * for SERVICE's endpoints (or only VERSION.INDEX's).
 * meshd's answer goes to stdout (exit 0) or stderr (exit 1; 2 for a
 * usage error meshd found); a stopped mesh exits 3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/ctl.h"

#define CTL_RESTART_TIMEOUT_MS 10000

static int
ctl_restart_send(const char *file, const char *cmd)
{
	struct ctl_mesh m;
	int rc;

	if ((rc = ctl_mesh_open(file, 0, &m)) != CTL_OK)
		return rc;
	if ((rc = ctl_conn_reply(&m, cmd, CTL_RESTART_TIMEOUT_MS)) == CTL_NOT_RUNNING)
		rc = ctl_mesh_not_running(&m);
	ctl_mesh_close(&m);
	return rc;
}

/* "VERB ARG..." from the operands; -1 when they are not nmin..nmax words
 * of sane length. */
static int
ctl_restart_cmd(char *buf, size_t size, const char *verb, const struct ctl_opts *o,
    int nmin, int nmax)
{
	size_t n;
	int i;

	if (o->nargs < nmin || o->nargs > nmax)
		return -1;
	n = (size_t)snprintf(buf, size, "%s", verb);
	for (i = 0; i < o->nargs; i++) {
		if (o->args[i][0] == '\0' || strpbrk(o->args[i], " \t\r\n") != NULL)
			return -1;
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, " %s", o->args[i]);
	}
	return n < size ? 0 : -1;
}

int
ctl_restart(const struct ctl_opts *o)
{
	char cmd[256];

	if (ctl_restart_cmd(cmd, sizeof(cmd), "restart", o, 1, 1) == -1) {
		ctl_errx("restart: usage: meshctl restart [-f FILE] INSTANCE");
		return CTL_USAGE;
	}
	return ctl_restart_send(o->file, cmd);
}

int
ctl_breaker_reset(const struct ctl_opts *o)
{
	char cmd[256];

	if (ctl_restart_cmd(cmd, sizeof(cmd), "breaker-reset", o, 1, 2) == -1) {
		ctl_errx("breaker-reset: usage: meshctl breaker-reset [-f FILE] SERVICE [VERSION.INDEX]");
		return CTL_USAGE;
	}
	return ctl_restart_send(o->file, cmd);
}
