/* SPDX-License-Identifier: ISC */
/*
 * svc_ready: when an instance of meshd's is ready, when its endpoint is
 * announced to its callers, and the state word status shows (the rules
 * are in include/mesh/svc.h).  The probes behind "ready": health.c for an
 * app with `health =`, ready.c (a TCP connect) for one with a `port`
 * only; an app with neither counts after SVC_SETTLE s (svc.c's timer).
 */
#include <sys/wait.h>

#include "mesh/outlog.h"
#include "mesh/svc.h"
#include "svc_int.h"

static void
svc_health_cb(struct health *h, int healthy)
{
	struct inst *in = h->arg;

	if (healthy)
		outlog_event("%s: health check %s passed", in->ri->name, in->ri->svc->health);
	else
		outlog_event("%s: health check %s failed %u times: %s", in->ri->name,
		    in->ri->svc->health, h->fails, h->last);
	svc_update(in->m);
}

static void
svc_ready_cb(struct ready *r)
{
	struct inst *in = r->arg;

	outlog_event("%s: ready: 127.0.0.1:%u accepts connections (%.2f s after start)",
	    in->ri->name, r->port, ev_now(in->m->loop) - in->app.started);
	svc_update(in->m);
}

int
svc_probe_start(struct inst *in)
{
	const struct reg_instance *ri = in->ri;

	if (ri->app_port == 0)
		return 0;
	if (ri->svc->health != NULL)
		health_start(&in->hc, in->m->loop, ri->app_port, ri->svc->health,
		    svc_health_cb, in);
	else
		ready_start(&in->rd, in->m->loop, ri->app_port, svc_ready_cb, in);
	return 1;
}

void
svc_probe_stop(struct inst *in)
{
	health_stop(&in->hc);
	ready_stop(&in->rd);
}

/* The app side of `in` is ready: it passed its probe (health=, else its
 * port), else it runs and settled.  An app meshd does not start (no
 * command) is probed the same way once its sidecar is ready; with no port
 * there is nothing to wait for. */
static int
svc_app_ready(const struct inst *in)
{
	if (in->ri->svc->command == NULL && in->ri->app_port == 0)
		return 1;
	if (in->ri->svc->command != NULL && in->app.state != PROC_RUNNING)
		return 0;
	if (in->ri->svc->health != NULL && in->ri->app_port != 0)
		return in->hc.healthy;
	if (in->ri->app_port != 0)
		return in->rd.ready;
	return in->app.settled;
}

int
svc_endpoint_up(const struct inst *in)
{
	if (!in->proxy_ready || in->proxy.state != PROC_RUNNING || in->draining)
		return 0;
	return svc_app_ready(in);
}

int
svc_ready(const struct inst *in)
{
	if (in->proxy.state == PROC_FATAL || in->app.state == PROC_FATAL ||
	    in->proxy.state == PROC_EXITED)
		return -1;
	/* a job that finished well is done, not failed; any other end is final */
	if (in->app.state == PROC_EXITED)
		return WIFEXITED(in->app.last_status) &&
		    WEXITSTATUS(in->app.last_status) == 0 ? 1 : -1;
	if (!in->proxy_ready)
		return 0;
	return svc_app_ready(in);
}

const char *
svc_state(const struct inst *in)
{
	if (in->proxy.state == PROC_FATAL || in->app.state == PROC_FATAL)
		return "fatal";
	if (in->proxy.state == PROC_STOPPING || in->app.state == PROC_STOPPING)
		return "stopping";
	if (in->proxy.state == PROC_EXITED || in->app.state == PROC_EXITED)
		return "stopped";
	if (in->proxy.state == PROC_BACKOFF || in->app.state == PROC_BACKOFF)
		return "backoff";
	if (!in->proxy_ready)
		return "starting";
	if (in->draining)
		return "draining";
	if (in->ri->svc->command == NULL)
		return svc_ready(in) == 1 ? "ready" : "waiting";
	return svc_ready(in) == 1 ? "running" : "starting";
}
