/* SPDX-License-Identifier: ISC */
/*
 * ctl_mirror: `meshctl mirror [-f FILE] SERVICE VERSION=P%` and `meshctl
 * mirror SERVICE --off` (meshd's side: mirrors.h, control_mirror.c).
 *
 * The value is checked against FILE with the config's own parser
 * (mirrors_parse(), config_mirror.c) so a version the service does not
 * have, a share out of 0%..100% or an unknown service exits 1 without a
 * round trip and changes nothing; meshd checks again against the config
 * it runs, applies the mirror, pushes it to the callers' sidecars and
 * persists it in <state_dir>/mirrors.  The control command is the one the
 * dashboard's `m` key sends: "mirror SERVICE VERSION=P%" or "mirror
 * SERVICE off".  Prints what is now in force, e.g. "api: mirror v2 10%
 * (live; meshctl mirror api --off clears)".  A wrong number of operands,
 * or --off with a VERSION=P%, exits 2; a stopped mesh exits 3.
 */
#include <stdio.h>
#include <string.h>

#include "mesh/ctl.h"
#include "mesh/mirrors.h"

#define CTL_MIRROR_TIMEOUT_MS 10000

int
ctl_mirror(const struct ctl_opts *o)
{
	char why[512], line[CONF_LINE_MAX + 1], cmd[CONF_LINE_MAX + 16];
	struct mirror_ovr ovr;
	struct ctl_mesh m;
	int rc;

	if (o->nargs != (o->off ? 1 : 2)) {
		ctl_errx("mirror: usage: meshctl mirror [-f FILE] SERVICE VERSION=P%% | "
		    "SERVICE --off");
		return CTL_USAGE;
	}
	if (snprintf(line, sizeof(line), "%s %s", o->args[0], o->off ? "off" : o->args[1]) >=
	    (int)sizeof(line)) {
		ctl_errx("mirror: %s: the value is too long; nothing changed", o->args[0]);
		return CTL_FAIL;
	}
	if ((rc = ctl_mesh_open(o->file, 0, &m)) != CTL_OK)
		return rc;
	/* the service, its protocol and version, the share: as meshd will */
	if (mirrors_parse(&m.cfg, line, &ovr, why, sizeof(why)) == -1) {
		ctl_errx("%s; nothing changed", why);
		ctl_mesh_close(&m);
		return CTL_FAIL;
	}
	snprintf(cmd, sizeof(cmd), "mirror %s", line);
	if ((rc = ctl_conn_reply(&m, cmd, CTL_MIRROR_TIMEOUT_MS)) == CTL_NOT_RUNNING)
		rc = ctl_mesh_not_running(&m);
	ctl_mesh_close(&m);
	return rc;
}
