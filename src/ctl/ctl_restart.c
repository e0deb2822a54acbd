/* SPDX-License-Identifier: ISC */
/*
 * ctl_restart: `meshctl restart [-f FILE] INSTANCE|SERVICE` and `meshctl
 * breaker-reset [-f FILE] SERVICE [VERSION.INDEX]`, the one-shot forms
 * of what the dashboard's `r` and `b` keys do (meshd's side: control.h).
 *
 * restart: meshd withdraws the instance's endpoint from its callers,
 * waits for the requests in flight, then restarts its app (its sidecar
 * when it has no command) with a fresh crash-loop count, so a FATAL
 * instance gets another chance, and waits until it is ready again
 * (drain.h).  INSTANCE is an id ("api@v1.0") or a name as status shows
 * it ("api.0"); a SERVICE ("api") restarts its instances one at a time.
 * meshd's progress lines go to stdout as they come; meshctl waits for
 * the end, bounded by each instance's ready_timeout plus
 * CTL_RESTART_STEP_S (the drain and the stop), or --timeout.
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
#include "mesh/ipc.h"

#define CTL_RESTART_TIMEOUT_MS 10000   /* breaker-reset */
#define CTL_RESTART_STEP_S     30      /* restart: per instance, beyond ready_timeout */

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

/* How long a restart of `what` may take (ms): the sum over the instances
 * it names of their ready_timeout and CTL_RESTART_STEP_S. */
static int
ctl_restart_wait_ms(const struct ctl_mesh *m, const struct ctl_opts *o, const char *what)
{
	uint64_t s = 0;
	size_t i, n = 0;

	if (o->timeout_s != 0)
		return (int)o->timeout_s * 1000;
	for (i = 0; m->have_cfg && i < m->cfg.nservices; i++) {
		const struct conf_service *svc = &m->cfg.services[i];
		size_t len = strlen(svc->name);

		/* the service's name, or one of its instances (api.0, api@v1.0) */
		if (strncmp(what, svc->name, len) != 0 || (what[len] != '\0' &&
		    what[len] != '.' && what[len] != '@'))
			continue;
		s += (uint64_t)(what[len] == '\0' ? svc->instances : 1) *
		    ((config_ready_timeout(&m->cfg, svc) + 999999) / 1000000 + CTL_RESTART_STEP_S);
		n++;
	}
	if (n == 0)
		s = CTL_UP_TIMEOUT_S + CTL_RESTART_STEP_S;
	if (s > CTL_TIMEOUT_MAX_S * 4)
		s = CTL_TIMEOUT_MAX_S * 4;
	return (int)s * 1000;
}

/* Progress lines now, on stdout; the answer kept for the end. */
static void
ctl_restart_line(void *arg, uint16_t type, const char *payload, size_t len)
{
	if (type == IPC_LOGLINE)
		ctl_conn_print(stdout, type, payload, len);
	else
		ctl_conn_print_raw(arg, type, payload, len);
}

int
ctl_restart(const struct ctl_opts *o)
{
	struct ctl_mesh m;
	char cmd[256], *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc, fd, ms;

	if (ctl_restart_cmd(cmd, sizeof(cmd), "restart --wait", o, 1, 1) == -1) {
		ctl_errx("restart: usage: meshctl restart [-f FILE] [--timeout SECS] "
		    "INSTANCE|SERVICE");
		return CTL_USAGE;
	}
	if ((rc = ctl_mesh_open(o->file, 0, &m)) != CTL_OK)
		return rc;
	ms = ctl_restart_wait_ms(&m, o, o->args[0]);
	if ((rc = ctl_conn_open(&m, &fd)) != CTL_OK) {
		if (rc == CTL_NOT_RUNNING)
			rc = ctl_mesh_not_running(&m);
		ctl_mesh_close(&m);
		return rc;
	}
	if ((f = open_memstream(&text, &len)) == NULL) {
		ctl_err("restart");
		close(fd);
		ctl_mesh_close(&m);
		return CTL_FAIL;
	}
	rc = ctl_conn_command(fd, cmd, ms, ctl_restart_line, f);
	close(fd);
	fclose(f);
	if (rc == -1) {
		ctl_conn_lost(&m, cmd, ms);
		rc = CTL_FAIL;
	} else {
		fputs(text != NULL ? text : "", rc == 0 ? stdout : stderr);
		rc = rc == 0 ? CTL_OK : rc == CTL_USAGE ? CTL_USAGE : CTL_FAIL;
	}
	free(text);
	ctl_mesh_close(&m);
	return rc;
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
