/* SPDX-License-Identifier: ISC */
/*
 * ctl_status: `meshctl status [-f FILE] [--json]`.
 *
 * meshd composes the report (it knows the processes; the stats files are
 * read there too), meshctl prints it.  A stopped mesh exits 3; with
 * --json it still prints one valid document of the same schema, so a
 * script can always parse stdout:
 *   {"mesh":{"name":"NAME","config":"FILE","state_dir":"DIR","meshd_pid":null,
 *    "uptime_s":null,"state":"stopped","running":false},
 *    "services":[],"routes":[]}
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/ctl.h"
#include "mesh/json_esc.h"

#define CTL_STATUS_TIMEOUT_MS 10000

/* The shape of meshd's document (status.h), with what a stopped mesh has. */
static void
ctl_status_stopped_json(FILE *out, const struct ctl_mesh *m, const char *file)
{
	char abs[PATH_MAX];

	fputs("{\"mesh\":{\"name\":", out);
	json_esc_file(out, m->name);
	fputs(",\"config\":", out);
	/* meshd reports the file's absolute path: so do we */
	json_esc_file(out, realpath(file, abs) != NULL ? abs : file);
	fputs(",\"state_dir\":", out);
	json_esc_file(out, m->state_dir);
	fputs(",\"meshd_pid\":null,\"uptime_s\":null,\"state\":\"stopped\","
	    "\"running\":false},\"services\":[],\"routes\":[]}\n", out);
}

int
ctl_status(const struct ctl_opts *o)
{
	struct ctl_mesh m;
	const char *cmd = o->json ? "status --json" : "status";
	int rc;

	if ((rc = ctl_mesh_open(o->file, 0, &m)) != CTL_OK)
		return rc;
	rc = ctl_conn_run(&m, cmd, CTL_STATUS_TIMEOUT_MS,
	    o->json ? ctl_conn_print_raw : ctl_conn_print, stdout);
	if (rc == CTL_NOT_RUNNING) {
		if (o->json)
			ctl_status_stopped_json(stdout, &m, o->file);
		rc = ctl_mesh_not_running(&m);
	}
	ctl_mesh_close(&m);
	return rc;
}
