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
 * --join-token [--ttl D] (root host, registry = etcd): a one-time token
 * for `meshctl join` on a new host, valid D (default 1h, at most 24h),
 * printed once on the first line of stdout, how to use it on the second
 * (mjoin.h, jtok.h).
 * A stopped mesh exits 3.
 */
#include <stdio.h>
#include <unistd.h>

#include "mesh/ctl.h"
#include "mesh/jtok.h"

#define CTL_CERTS_TIMEOUT_MS 20000   /* above meshd's 10 s rotation bound */
#define CTL_ROOT_TIMEOUT_MS  75000   /* above meshd's 60 s rollover bound */

static int
ctl_certs_join_token(const struct ctl_opts *o)
{
	struct ctl_mesh m;
	uint64_t us = (uint64_t)JTOK_TTL_DEFAULT * 1000000;
	char cmd[64];
	int rc;

	if (o->rotate || o->json) {
		ctl_errx("certs: --join-token goes alone (with --ttl and -f)");
		return CTL_USAGE;
	}
	if (o->ttl != NULL && (config_parse_duration(o->ttl, &us) != 0 || us < 1000000 ||
	    us > (uint64_t)JTOK_TTL_MAX * 1000000)) {
		ctl_errx("certs: --ttl '%s': want a duration of 1s..24h (30m, 2h)", o->ttl);
		return CTL_USAGE;
	}
	if ((rc = ctl_mesh_open(o->file, 0, &m)) != CTL_OK)
		return rc;
	if (m.cfg.mesh.registry != CONF_REGISTRY_ETCD) {
		ctl_errx("certs --join-token: %s: mesh %s has no `registry = etcd` in [mesh]; "
		    "a joining host finds the root host through etcd", o->file, m.name);
		ctl_mesh_close(&m);
		return CTL_FAIL;
	}
	snprintf(cmd, sizeof(cmd), "certs --join-token %llu",
	    (unsigned long long)(us / 1000000));
	rc = ctl_conn_reply(&m, cmd, CTL_CERTS_TIMEOUT_MS);
	if (rc == CTL_NOT_RUNNING)
		rc = ctl_mesh_not_running(&m);
	ctl_mesh_close(&m);
	return rc;
}

int
ctl_certs(const struct ctl_opts *o)
{
	struct ctl_mesh m;
	const char *cmd;
	int rc;

	if (o->ttl != NULL && !o->join_token) {
		ctl_errx("certs: --ttl goes with --join-token");
		return CTL_USAGE;
	}
	if (o->join_token)
		return ctl_certs_join_token(o);
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
