/* SPDX-License-Identifier: ISC */
/*
 * reload: apply a changed mesh.ini to a running meshd (`meshctl reload`,
 * SIGHUP), without dropping a connection.
 *
 * The file is read and validated first; with any error nothing changes and
 * the errors ("FILE:LINE: message") are the answer.  Otherwise:
 *   applied live      every [route.NAME] (split= and the traffic policy),
 *                     the [mesh] limits (max_header_bytes, max_headers,
 *                     max_line_bytes, header_timeout, idle_timeout,
 *                     max_connections): the caller sends every sidecar
 *                     its new document at once (control_push_all()) when
 *                     reload_run() returns 0; weights.h says how a split
 *                     set by `meshctl weight` meets the file's (faults.h:
 *                     the same for `meshctl fault`, mirrors.h for
 *                     `meshctl mirror`);
 *                     ready_timeout ([mesh] and [service.*]) for the next
 *                     wait for readiness (readiness.h)
 *   not applied       services added or removed, and any [service.*] key
 *                     changed (command, port, instances, protocol, health,
 *                     upstreams, allow, outbound, restart, env, version);
 *                     the other [mesh] keys (name, state_dir, trust_domain,
 *                     cert_ttl, port_base, metrics, traces, trace_sample,
 *                     access_log): reported as "restart needed for: ..."
 *                     and the mesh keeps running what it started with.
 */
#ifndef MESH_RELOAD_H
#define MESH_RELOAD_H

#include <stdio.h>

struct meshd;

/*
 * Re-read m->config_path and apply what can be applied live.  Writes the
 * report (what changed, what needs a restart, or the file's errors) to
 * out, one line each.  0 applied (possibly only partly: see the report),
 * every sidecar's document is to be sent again; 1 the file has errors and
 * nothing changed; -1 out of memory.
 */
int reload_run(struct meshd *m, FILE *out);

#endif
