/* SPDX-License-Identifier: ISC */
/*
 * meshd_ctx: the supervisor's shared context.  One per process, built by
 * src/meshd/meshd.c; the modules (svc, control, status...) read and
 * update it.  Data only: it declares no function and includes nothing of
 * src/meshd but registry.h, so every module may include it without
 * depending on any other (the main, meshd.c, sits above them all).
 */
#ifndef MESH_MESHD_CTX_H
#define MESH_MESHD_CTX_H

#include <limits.h>
#include <sys/types.h>
#include <ev.h>

#include "mesh/config.h"
#include "mesh/faults.h"
#include "mesh/mirrors.h"
#include "mesh/registry.h"
#include "mesh/weights.h"

struct inst;
struct control;
struct mreg;

/* meshd's own life: explicit, one direction only. */
enum meshd_phase {
	MESHD_STARTING,   /* children being started for the first time */
	MESHD_RUNNING,    /* every instance ready once (wait-ready answered 0) */
	MESHD_STOPPING,   /* apps being stopped, then sidecars */
	MESHD_DONE,       /* everything stopped: the loop ends */
};

struct meshd {
	struct ev_loop     *loop;
	struct mesh_config  cfg;
	struct registry     reg;
	struct inst        *insts;         /* [reg.ninst], parallel to reg.inst */
	size_t              ninst;
	struct control     *ctl;
	struct mreg        *mreg;          /* registry = etcd (mreg.h); NULL: one host */
	enum meshd_phase    phase;
	ev_tstamp           started;       /* ev_now() at start */
	ev_timer            stop_grace;    /* registry: withdrawn, apps stop after it */
	pid_t               pid;
	int                 lock_fd;
	int                 notify;        /* NOTIFY_SOCKET set: sd_notify */
	int                 exit_code;
	struct weights      weights;       /* `meshctl weight` overrides (weights.h) */
	struct faults       faults;        /* `meshctl fault` overrides (faults.h) */
	struct mirrors      mirrors;       /* `meshctl mirror` overrides (mirrors.h) */
	char                config_path[PATH_MAX];   /* absolute */
	char                sock_path[PATH_MAX];
	char                proxy_path[PATH_MAX];
};

#endif
