/* SPDX-License-Identifier: ISC */
/*
 * ctl_weight: `meshctl weight [-f FILE] SERVICE VERSION=PCT...` and
 * `meshctl reload [-f FILE]`, the two commands that change a running
 * mesh's traffic policy (meshd's side: weights.h, reload.h).
 *
 * weight: the operands are checked against FILE first (the service and
 * versions exist, PCT integers 0..100 summing to 100; a version left out
 * gets 0) so a typo exits 2 without a round trip; meshd checks again
 * against the config it runs, applies the split, pushes it to the callers'
 * sidecars and persists it in <state_dir>/weights.  Prints
 * "route SERVICE: split v1=90 v2=10".
 * reload: meshd re-reads its file; the report (what changed, "restart
 * needed for: ...") goes to stdout, exit 0; a file with errors changes
 * nothing: its errors go to stderr, exit 1 (meshctl reads FILE first, so
 * they are usually its own; meshd checks again and answers the same way).
 * A stopped mesh exits 3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/ctl.h"
#include "mesh/weights.h"

#define CTL_WEIGHT_TIMEOUT_MS 10000
#define CTL_RELOAD_TIMEOUT_MS 30000

/* Send cmd; its replies to stdout on DONE 0, to stderr otherwise. */
static int
ctl_weight_send(const char *file, const char *cmd, int timeout_ms)
{
	struct ctl_mesh m;
	int rc;

	if ((rc = ctl_mesh_open(file, 0, &m)) != CTL_OK) {
		/* the file's errors are printed: meshd would refuse it alike */
		ctl_errx("%s: %s has errors; nothing changed", cmd, file);
		return rc;
	}
	if ((rc = ctl_conn_reply(&m, cmd, timeout_ms)) == CTL_NOT_RUNNING)
		rc = ctl_mesh_not_running(&m);
	ctl_mesh_close(&m);
	return rc;
}

int
ctl_weight(const struct ctl_opts *o)
{
	char cmd[CONF_LINE_MAX + 1], why[512];
	struct ctl_mesh m;
	struct weight w;
	size_t n;
	int i, rc;

	if (o->nargs < 2) {
		ctl_errx("weight: usage: meshctl weight [-f FILE] SERVICE VERSION=PCT...");
		return CTL_USAGE;
	}
	n = (size_t)snprintf(cmd, sizeof(cmd), "weight");
	for (i = 0; i < o->nargs && n < sizeof(cmd); i++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, " %s", o->args[i]);
	if (n >= sizeof(cmd)) {
		ctl_errx("weight: too many arguments");
		return CTL_USAGE;
	}
	if ((rc = ctl_mesh_open(o->file, 0, &m)) != CTL_OK)
		return rc;
	rc = weights_parse(&m.cfg, cmd + strlen("weight "), &w, why, sizeof(why));
	ctl_mesh_close(&m);
	if (rc == -1) {
		ctl_errx("%s", why);
		return CTL_USAGE;
	}
	return ctl_weight_send(o->file, cmd, CTL_WEIGHT_TIMEOUT_MS);
}

int
ctl_reload(const struct ctl_opts *o)
{
	return ctl_weight_send(o->file, "reload", CTL_RELOAD_TIMEOUT_MS);
}
