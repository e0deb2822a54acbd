/* SPDX-License-Identifier: ISC */
/*
 * readiness: what `meshctl up -d` (the `wait-ready` command) and a
 * restart (drain.h) wait for, and how a wait that ended badly is told.
 *
 * Each instance has its ready_timeout (mesh.ini(5): its [service]'s,
 * else [mesh]'s, default 60s) to become ready (svc_ready()), counted from
 * the moment the wait began: meshd's start for `up -d`.  An instance that
 * failed for good (FATAL, or its app exited and is not restarted) ends the
 * wait at once; otherwise the wait lasts until every instance is ready or
 * past its deadline.  The report names each instance that is not ready,
 * why, and the last line its app wrote.
 */
#ifndef MESH_READINESS_H
#define MESH_READINESS_H

#include <stddef.h>
#include <ev.h>

#include "mesh/meshd_ctx.h"

struct inst;

/* Seconds `in` has to become ready. */
double readiness_timeout(const struct inst *in);

/*
 * Every instance of m, waited for since `since`: 0 all ready; 1 the wait
 * failed (an instance failed for good, or every one not ready is past its
 * deadline, or meshd is stopping): why holds one line per instance not
 * ready; -1 not yet: *next is when to look again (the earliest deadline
 * still ahead).
 */
int    readiness_check(struct meshd *m, ev_tstamp since, char *why, size_t size,
                       ev_tstamp *next);

/* "api.0: not ready after 2.0 s (ready_timeout 2s): connect to
 * 127.0.0.1:9090: Connection refused; last line: 'loading model'": why
 * `in`, waited for `waited` s, is not ready (its failure when it failed). */
void   readiness_why(const struct inst *in, double waited, char *buf, size_t size);

/* The last line the app of `in` wrote (its sidecar's without a command),
 * stdout or stderr, without the prefix; "" when none. */
void   readiness_last_line(const struct inst *in, char *buf, size_t size);

#endif
