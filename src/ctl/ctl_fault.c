/* SPDX-License-Identifier: ISC */
/*
 * ctl_fault: `meshctl fault [-f FILE] SERVICE --delay P%:D --abort P%:S
 * [--version V] [--match 'H: V']`, `meshctl fault SERVICE --off` and
 * `meshctl fault --off-all` (meshd's side: faults.h, control_fault.c).
 *
 * The values are checked against FILE with the config's own parsers
 * (faults_opt(), faults_parse()) so a bad share, duration, status, an
 * unknown service or version exits 1 without a round trip and changes
 * nothing; meshd checks again against the config it runs, applies the
 * fault, pushes it to the callers' sidecars and persists it in
 * <state_dir>/faults.  Prints what is now in force, e.g. "api: abort 5%
 * 503, delay 10% 300ms (live; meshctl fault api --off clears)".  Options
 * that do not go together (--off with --delay, no SERVICE) exit 2; a
 * stopped mesh exits 3.
 */
#include <stdio.h>
#include <string.h>

#include "mesh/ctl.h"
#include "mesh/faults.h"

#define CTL_FAULT_TIMEOUT_MS 10000

/* The control command for o's options into cmd: CTL_OK, or an exit code
 * after saying why. */
static int
ctl_fault_cmd(const struct ctl_opts *o, const struct mesh_config *cfg, char *cmd, size_t size)
{
	static const char *const keys[] = { "delay", "abort", "version", "match" };
	const char *vals[] = { o->fault_delay, o->fault_abort, o->fault_version, o->fault_match };
	char why[512], line[FAULTS_LINE_MAX];
	struct fault_ovr ovr;
	size_t i;

	memset(&ovr, 0, sizeof(ovr));
	snprintf(ovr.service, sizeof(ovr.service), "%s", o->args[0]);
	ovr.off = o->off;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (vals[i] != NULL && faults_opt(&ovr.fault, keys[i], vals[i], why, sizeof(why)) == -1) {
			ctl_errx("fault: %s: --%s; nothing changed", o->args[0], why);
			return CTL_FAIL;
		}
	}
	if (faults_format(&ovr, line, sizeof(line)) >= sizeof(line)) {
		ctl_errx("fault: %s: the values are too long", o->args[0]);
		return CTL_FAIL;
	}
	/* the service, its protocol and version, as meshd will check them */
	if (faults_parse(cfg, line, &ovr, why, sizeof(why)) == -1) {
		ctl_errx("%s; nothing changed", why);
		return CTL_FAIL;
	}
	snprintf(cmd, size, "fault %s", line);
	return CTL_OK;
}

int
ctl_fault(const struct ctl_opts *o)
{
	char cmd[FAULTS_LINE_MAX + 16];
	int any = o->fault_delay != NULL || o->fault_abort != NULL;
	int extra = o->fault_version != NULL || o->fault_match != NULL;
	struct ctl_mesh m;
	int rc;

	if (o->fault_off_all) {
		if (o->nargs != 0 || any || extra || o->off) {
			ctl_errx("fault: --off-all takes no SERVICE and no other option");
			return CTL_USAGE;
		}
		snprintf(cmd, sizeof(cmd), "fault-off-all");
	} else if (o->nargs != 1 || (o->off && (any || extra)) ||
	    (!o->off && !any)) {
		ctl_errx("fault: usage: meshctl fault [-f FILE] SERVICE --delay P%%:D "
		    "--abort P%%:S [--version V] [--match 'H: V'] | SERVICE --off | --off-all");
		return CTL_USAGE;
	}
	if ((rc = ctl_mesh_open(o->file, 0, &m)) != CTL_OK)
		return rc;
	if (!o->fault_off_all &&
	    (rc = ctl_fault_cmd(o, &m.cfg, cmd, sizeof(cmd))) != CTL_OK) {
		ctl_mesh_close(&m);
		return rc;
	}
	if ((rc = ctl_conn_reply(&m, cmd, CTL_FAULT_TIMEOUT_MS)) == CTL_NOT_RUNNING)
		rc = ctl_mesh_not_running(&m);
	ctl_mesh_close(&m);
	return rc;
}
