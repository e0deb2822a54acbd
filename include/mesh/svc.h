/* SPDX-License-Identifier: ISC */
/*
 * svc: meshd's children.  Per instance a sidecar (always) and an app (when
 * the service has `command`), each a `struct proc` with an explicit state:
 *
 *   IDLE      not started yet
 *   RUNNING   forked and not yet reaped (a sidecar may still await READY)
 *   BACKOFF   exited; the restart timer is armed
 *   STOPPING  SIGTERM sent to its process group; SIGKILL timer armed
 *   EXITED    exited and will not be restarted (policy, or meshd stopping)
 *   FATAL     crash loop: no more restarts
 *
 * Restart policy: sidecars always; apps per `restart=` (on-failure: a
 * nonzero status or a signal).  Delay: SVC_BACKOFF_MIN doubling up to
 * SVC_BACKOFF_MAX, back to the minimum after SVC_BACKOFF_RESET s of
 * uptime.  Crash loop: SVC_CRASH_COUNT exits, each after less than
 * SVC_CRASH_UPTIME s of uptime, within SVC_CRASH_WINDOW s -> FATAL.
 *
 * Start order: sidecar, its READY, then the app.  Stop order: every app
 * (SIGTERM, SVC_STOP_WAIT s, SIGKILL), then every sidecar.
 *
 * An instance is ready (wait-ready, READY=1) when its sidecar said READY
 * and it has no command, or its app passed its health check (health=), or
 * accepted a TCP connection on its port (a port and no health=: ready.h),
 * or has run SVC_SETTLE s (neither port nor health=), or exited 0 for
 * good (a job).  It has failed when its sidecar or app is FATAL or its
 * app exited for good with another status.  (svc_ready.c)
 *
 * An instance's endpoint is up when its sidecar is ready, it is not
 * draining (drain.h: withdrawn before a restart), and: it has no command
 * (an external app at `port`, which meshd does not probe), or its app
 * runs and is ready as above.  Until then no caller is sent to it.
 */
#ifndef MESH_SVC_H
#define MESH_SVC_H

#include <sys/types.h>
#include <ev.h>

#include "mesh/health.h"
#include "mesh/meshd_ctx.h"
#include "mesh/outlog.h"
#include "mesh/ready.h"
#include "mesh/registry.h"

#define SVC_BACKOFF_MIN   0.1
#define SVC_BACKOFF_MAX   10.0
#define SVC_BACKOFF_RESET 30.0
#define SVC_CRASH_COUNT   5
#define SVC_CRASH_UPTIME  10.0
#define SVC_CRASH_WINDOW  60.0
#define SVC_STOP_WAIT     10.0
#define SVC_SETTLE        0.5   /* an app with neither port nor health= is ready
                                 * after this uptime */

enum proc_state { PROC_IDLE, PROC_RUNNING, PROC_BACKOFF, PROC_STOPPING,
                  PROC_EXITED, PROC_FATAL };

struct proc {
	struct inst       *inst;
	int                is_proxy;
	enum proc_state    state;
	pid_t              pid;            /* 0 when none */
	ev_child           child;
	ev_timer           timer;          /* backoff, settle or stop deadline */
	struct outlog_pipe out, err;
	char               name[REG_ID_MAX + 8];  /* log prefix */
	ev_tstamp          started;        /* of the current run */
	unsigned           restarts;
	int                last_status;    /* wait status of the last exit; -1 none */
	double             backoff;
	ev_tstamp          crashes[SVC_CRASH_COUNT];  /* ring of short-run exits */
	unsigned           ncrashes;
	int                settled;        /* app without port or health: up for SVC_SETTLE */
	int                restart_asked;  /* stopping for svc_restart(): start again */
};

struct inst {
	struct meshd        *m;
	struct reg_instance *ri;
	struct proc          proxy, app;
	int                  proxy_ready;  /* READY since the sidecar's last start */
	struct health        hc;
	struct ready         rd;           /* the TCP probe of an app with a port, no health */
	int                  draining;     /* rw (drain.c): endpoint withdrawn for a restart */
	void                *conn;         /* the sidecar's control connection */
	int                  dirty;        /* private: endpoint changed (svc_update) */
	char                 why[2048];     /* the last failure, for reports */
};

/*
 * What svc reports up.  svc calls nothing above itself (control, notify,
 * status): meshd.c passes svc_init() one function, called synchronously
 * with each of these, and wires them to the modules above.  in and p are
 * NULL unless the event says otherwise.  A handler reads svc's state; it
 * does not start, stop or restart anything (svc is in mid-transition).
 */
enum svc_event {
	SVC_EV_PROC,      /* p, a process of in, entered p->state (every change of
	                   * state after svc_init(): start, exit, backoff, FATAL...) */
	SVC_EV_ENDPOINT,  /* in's endpoint went up or down (in->ri->up): its
	                   * service's callers need a new document.  Once per
	                   * service and update, with the first such instance */
	SVC_EV_PHASE,     /* m->phase moved: MESHD_RUNNING (every instance ready
	                   * once), MESHD_STOPPING (svc_stop_all()), MESHD_DONE
	                   * (every process stopped; the loop is told to end) */
	SVC_EV_CHANGED,   /* the end of every svc_update(): readiness, the counts
	                   * and the phase may differ (wait-ready, STATUS=) */
};
typedef void svc_event_fn(struct meshd *m, enum svc_event ev, struct inst *in,
                          const struct proc *p);

/* Set up m->insts (nothing started); on_event gets the reports above
 * (NULL: none).  0 / -1. */
int  svc_init(struct meshd *m, svc_event_fn *on_event);
void svc_free(struct meshd *m);

/* Start every sidecar (apps follow their sidecar's READY). */
void svc_start_all(struct meshd *m);
/* Stop everything in order; svc_update() ends the phase. */
void svc_stop_all(struct meshd *m);

/* The sidecar of `in` said READY, or FAIL with a message (control.c). */
void svc_proxy_ready(struct inst *in);
void svc_proxy_failed(struct inst *in, const char *msg);

/*
 * `meshctl restart` (control.h): restart in's app now — its sidecar when
 * the service has no command — with a fresh crash-loop count and
 * backoff: a running one gets SIGTERM (SIGKILL after SVC_STOP_WAIT) and
 * starts again SVC_BACKOFF_MIN after it exits; one in backoff starts
 * now; a FATAL or exited one starts again.  0 with what happens in buf,
 * or -1 with why not (meshd stopping, already restarting).
 */
int  svc_restart(struct inst *in, char *buf, size_t size);

/* Recompute endpoints, move the phase, report both (SVC_EV_ENDPOINT,
 * SVC_EV_PHASE), then SVC_EV_CHANGED. */
void svc_update(struct meshd *m);

/* The instance's state word: starting ready running draining backoff fatal
 * stopping stopped. */
const char *svc_state(const struct inst *in);
/* 1 ready, 0 not yet, -1 failed (why in in->why). */
int  svc_ready(const struct inst *in);
/* "exited with status N" / "killed by signal N" of a wait status. */
void svc_exit_str(int status, char *buf, size_t size);

#endif
