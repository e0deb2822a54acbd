/* SPDX-License-Identifier: ISC */
/*
 * ctl_certs: `meshctl certs [-f FILE] [--json] [--rotate | --rotate-root]`.
 *
 * meshd knows every leaf it issued (mcert.h); meshctl prints its table:
 * per instance, the SPIFFE ID, serial, not-before and not-after (UTC),
 * then the roots: subject, serial, not-after and state (active; next: a
 * new root being taken in; retiring: the old one during a rollover).
 * --json: {"certs":[{"instance","id","cert":{"spiffe_id","serial",
 * "not_before","not_after"}|null}, ...],"roots":[{"subject","serial",
 * "not_after","state"}, ...],"rollover":{"phase","deadline"}}.
 * --rotate: every attached sidecar renews now (a new key and leaf); the
 * command returns once each has a new serial, printing the new table, or
 * exits 1 naming the ones that did not within meshd's bound (10 s).
 * --rotate-root: a root rollover (docs/trust.md): returns 0 with the
 * table once every sidecar presents a leaf from the new root and the old
 * root retired, or 1 saying why not (the rollover abandoned, or still
 * under way after meshd's bound of 60 s).
 * A stopped mesh exits 3.
 */
#include <stdio.h>
#include <unistd.h>

#include "mesh/ctl.h"

#define CTL_CERTS_TIMEOUT_MS 20000   /* above meshd's 10 s rotation bound */
#define CTL_ROOT_TIMEOUT_MS  75000   /* above meshd's 60 s rollover bound */

int
ctl_certs(const struct ctl_opts *o)
{
	struct ctl_mesh m;
	const char *cmd;
	int rc;

	if (o->rotate && o->json) {
		ctl_errx("certs: --rotate%s prints the table; run `meshctl certs --json` after it",
		    o->rotate == 2 ? "-root" : "");
		return CTL_USAGE;
	}
	cmd = o->rotate == 2 ? "certs --rotate-root" : o->rotate ? "certs --rotate" :
	    o->json ? "certs --json" : "certs";
	if ((rc = ctl_mesh_open(o->file, 0, &m)) != CTL_OK)
		return rc;
	rc = ctl_conn_run(&m, cmd, o->rotate == 2 ? CTL_ROOT_TIMEOUT_MS : CTL_CERTS_TIMEOUT_MS,
	    o->json ? ctl_conn_print_raw : ctl_conn_print, stdout);
	if (rc == CTL_NOT_RUNNING)
		rc = ctl_mesh_not_running(&m);
	ctl_mesh_close(&m);
	return rc;
}
