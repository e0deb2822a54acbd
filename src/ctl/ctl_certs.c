/* SPDX-License-Identifier: ISC */
/*
 * ctl_certs: `meshctl certs [-f FILE] [--json] [--rotate]`.
 *
 * meshd knows every leaf it issued (mcert.h); meshctl prints its table:
 * per instance, the SPIFFE ID, serial, not-before and not-after (UTC).
 * --json: {"certs":[{"instance","id","cert":{"spiffe_id","serial",
 * "not_before","not_after"}|null}, ...]}.
 * --rotate: every attached sidecar renews now (a new key and leaf); the
 * command returns once each has a new serial, printing the new table, or
 * exits 1 naming the ones that did not within meshd's bound (10 s).
 * A stopped mesh exits 3.
 */
#include <stdio.h>
#include <unistd.h>

#include "mesh/ctl.h"

#define CTL_CERTS_TIMEOUT_MS 20000   /* above meshd's 10 s rotation bound */

int
ctl_certs(const struct ctl_opts *o)
{
	struct ctl_mesh m;
	const char *cmd;
	int rc;

	if (o->rotate && o->json) {
		ctl_errx("certs: --rotate prints the table; run `meshctl certs --json` after it");
		return CTL_USAGE;
	}
	cmd = o->rotate ? "certs --rotate" : o->json ? "certs --json" : "certs";
	if ((rc = ctl_mesh_open(o->file, 0, &m)) != CTL_OK)
		return rc;
	rc = ctl_conn_run(&m, cmd, CTL_CERTS_TIMEOUT_MS,
	    o->json ? ctl_conn_print_raw : ctl_conn_print, stdout);
	if (rc == CTL_NOT_RUNNING)
		rc = ctl_mesh_not_running(&m);
	ctl_mesh_close(&m);
	return rc;
}
