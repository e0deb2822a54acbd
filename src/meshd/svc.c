/* SPDX-License-Identifier: ISC */
/*
 * svc: start, watch, restart and stop meshd's children (see
 * include/mesh/svc.h for the states and the policy).
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mesh/container_of.h"
#include "mesh/drain.h"
#include "mesh/log.h"
#include "mesh/mreg.h"
#include "mesh/spawn.h"
#include "mesh/state.h"
#include "mesh/svc.h"
#include "svc_int.h"

static svc_event_fn *svc_on_event;   /* svc_init(): meshd.c's wiring */

static void svc_proc_start(struct proc *p);

static void
svc_report(struct meshd *m, enum svc_event ev, struct inst *in, const struct proc *p)
{
	if (svc_on_event != NULL)
		svc_on_event(m, ev, in, p);
}

/* Every change of a process's state after svc_init() goes through here,
 * at the end of its transition. */
static void
svc_enter(struct proc *p, enum proc_state st)
{
	p->state = st;
	svc_report(p->inst->m, SVC_EV_PROC, p->inst, p);
}

static void
svc_phase(struct meshd *m, enum meshd_phase phase)
{
	m->phase = phase;
	svc_report(m, SVC_EV_PHASE, NULL, NULL);
}

static const char *
svc_state_dir(const struct proc *p)
{
	return p->inst->m->cfg.mesh.state_dir;
}

void
svc_exit_str(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		snprintf(buf, size, "ended (wait status %d)", status);
}

static int
svc_alive(const struct proc *p)
{
	return p->state == PROC_RUNNING || p->state == PROC_STOPPING;
}

static void
svc_arm(struct proc *p, double after)
{
	struct ev_loop *loop = p->inst->m->loop;

	ev_timer_stop(loop, &p->timer);
	ev_timer_set(&p->timer, after, 0.);
	ev_timer_start(loop, &p->timer);
}

/* Decide what follows an exit that nobody asked for. */
static void
svc_after_exit(struct proc *p, ev_tstamp now)
{
	struct inst *in = p->inst;
	int st = p->last_status, restart;
	double up = now - p->started;
	char how[96], tail[OUTLOG_TAIL * OUTLOG_TAIL_MAX + 16];

	svc_exit_str(st, how, sizeof(how));
	if (p->is_proxy)
		restart = 1;
	else if (in->ri->svc->restart == CONF_RESTART_ALWAYS)
		restart = 1;
	else if (in->ri->svc->restart == CONF_RESTART_NEVER)
		restart = 0;
	else
		restart = !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	outlog_pipe_tail(p->err.ntail > 0 ? &p->err : &p->out, tail, sizeof(tail));
	if (!restart) {
		snprintf(in->why, sizeof(in->why), "%s: %s after %.1f s (restart=%s)%s%s",
		    p->name, how, up, in->ri->svc->restart == CONF_RESTART_NEVER ?
		    "never" : "on-failure", tail[0] ? "; last lines: " : "", tail);
		outlog_event("%s: %s; not restarted", p->name, how);
		svc_enter(p, PROC_EXITED);
		return;
	}
	if (up < SVC_CRASH_UPTIME) {
		p->crashes[p->ncrashes % SVC_CRASH_COUNT] = now;
		p->ncrashes++;
		if (p->ncrashes >= SVC_CRASH_COUNT &&
		    now - p->crashes[(p->ncrashes - SVC_CRASH_COUNT) % SVC_CRASH_COUNT]
		    <= SVC_CRASH_WINDOW) {
			snprintf(in->why, sizeof(in->why),
			    "%s: %s, %u times within %.0f s (FATAL)%s%s", p->name, how,
			    SVC_CRASH_COUNT, SVC_CRASH_WINDOW,
			    tail[0] ? "; last lines: " : "", tail);
			outlog_event("%s: %s; crash loop: FATAL, no more restarts",
			    p->name, how);
			log_warnx("%s", in->why);
			svc_enter(p, PROC_FATAL);
			return;
		}
	} else
		p->ncrashes = 0;
	if (up >= SVC_BACKOFF_RESET)
		p->backoff = SVC_BACKOFF_MIN;
	outlog_event("%s: %s; restarting in %.1f s", p->name, how, p->backoff);
	svc_arm(p, p->backoff);
	p->backoff *= 2;
	if (p->backoff > SVC_BACKOFF_MAX)
		p->backoff = SVC_BACKOFF_MAX;
	svc_enter(p, PROC_BACKOFF);
}

static void
svc_child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct proc *p = container_of(w, struct proc, child);
	struct inst *in = p->inst;
	pid_t pid = p->pid;

	(void)revents;
	ev_child_stop(loop, w);
	ev_timer_stop(loop, &p->timer);
	/* whatever it forked in its group goes with it: never two copies */
	kill(-pid, SIGKILL);
	p->pid = 0;
	p->last_status = w->rstatus;
	state_pid_remove(svc_state_dir(p), in->ri->id,
	    p->is_proxy ? STATE_KIND_PROXY : STATE_KIND_APP);
	outlog_pipe_close(&p->out, loop);
	outlog_pipe_close(&p->err, loop);
	if (p->is_proxy)
		in->proxy_ready = 0;
	else
		svc_probe_stop(in);
	if (p->restart_asked && in->m->phase < MESHD_STOPPING) {
		/* svc_restart(): not a failure, no crash counted */
		p->restart_asked = 0;
		outlog_event("%s: stopped for a restart; starting in %.1f s", p->name,
		    SVC_BACKOFF_MIN);
		svc_arm(p, SVC_BACKOFF_MIN);
		svc_enter(p, PROC_BACKOFF);
	} else if (p->state == PROC_STOPPING || in->m->phase >= MESHD_STOPPING) {
		char how[96];

		svc_exit_str(w->rstatus, how, sizeof(how));
		outlog_event("%s: stopped (%s)", p->name, how);
		svc_enter(p, PROC_EXITED);
	} else
		svc_after_exit(p, ev_now(loop));
	svc_update(in->m);
}

static void
svc_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct proc *p = container_of(w, struct proc, timer);

	(void)loop;
	(void)revents;
	switch (p->state) {
	case PROC_BACKOFF:
		if (p->inst->m->phase >= MESHD_STOPPING) {
			svc_enter(p, PROC_EXITED);
			break;
		}
		p->restarts++;
		/* an app waits for its sidecar: its READY starts the app */
		if (!p->is_proxy && !p->inst->proxy_ready) {
			svc_enter(p, PROC_IDLE);
			break;
		}
		svc_proc_start(p);
		break;
	case PROC_RUNNING:
		p->settled = 1;
		break;
	case PROC_STOPPING:
		log_warnx("%s (pid %d) still running %.0f s after SIGTERM: SIGKILL",
		    p->name, (int)p->pid, SVC_STOP_WAIT);
		kill(-p->pid, SIGKILL);
		break;
	default:
		break;
	}
	svc_update(p->inst->m);
}

static void
svc_proc_start(struct proc *p)
{
	struct inst *in = p->inst;
	struct meshd *m = in->m;
	char *argv[6], **env = NULL, *shcmd = NULL, err[512];
	int out, errfd;
	pid_t pid;

	if (p->is_proxy) {
		argv[0] = m->proxy_path;
		argv[1] = (char *)(uintptr_t)"--control";
		argv[2] = m->sock_path;
		argv[3] = (char *)(uintptr_t)"--id";
		argv[4] = in->ri->id;
		argv[5] = NULL;
		in->proxy_ready = 0;
		if ((env = spawn_env_proxy()) == NULL) {
			snprintf(in->why, sizeof(in->why), "%s: out of memory", p->name);
			svc_enter(p, PROC_FATAL);
			return;
		}
	} else {
		argv[0] = (char *)(uintptr_t)"/bin/sh";
		argv[1] = (char *)(uintptr_t)"-c";
		argv[2] = shcmd = spawn_shell_command(in->ri->svc->command);
		argv[3] = NULL;
		if (shcmd == NULL || (env = spawn_env_app(in->ri)) == NULL) {
			free(shcmd);
			snprintf(in->why, sizeof(in->why), "%s: out of memory", p->name);
			svc_enter(p, PROC_FATAL);
			return;
		}
	}
	pid = spawn(argv, env, p->is_proxy ? NULL : m->cfg.dir,
	    &out, &errfd, err, sizeof(err));
	spawn_env_free(env);
	free(shcmd);
	p->started = ev_now(m->loop);
	if (pid == -1) {
		/* no child at all: counts as a failed start */
		snprintf(in->why, sizeof(in->why), "%s: %s", p->name, err);
		outlog_event("%s", in->why);
		p->last_status = 127 << 8;
		svc_after_exit(p, p->started);
		return;
	}
	p->pid = pid;
	p->settled = 0;
	outlog_pipe_open(&p->out, m->loop, out);
	outlog_pipe_open(&p->err, m->loop, errfd);
	ev_child_set(&p->child, pid, 0);
	ev_child_start(m->loop, &p->child);
	if (state_pid_write(m->cfg.mesh.state_dir, in->ri->id,
	    p->is_proxy ? STATE_KIND_PROXY : STATE_KIND_APP, pid, in->ri->name) == -1)
		log_warn("%s: pid file of %s", m->cfg.mesh.state_dir, p->name);
	if (err[0] != '\0') {
		snprintf(in->why, sizeof(in->why), "%s: %s", p->name, err);
		outlog_event("%s", in->why);
	} else
		outlog_event("%s: started (pid %d)", p->name, (int)pid);
	if (!p->is_proxy && svc_probe_start(in) == 0)
		svc_arm(p, SVC_SETTLE);
	svc_enter(p, PROC_RUNNING);
}

static void
svc_proc_stop(struct proc *p)
{
	switch (p->state) {
	case PROC_RUNNING:
		outlog_event("%s: stopping (SIGTERM to process group %d)", p->name, (int)p->pid);
		kill(-p->pid, SIGTERM);
		svc_arm(p, SVC_STOP_WAIT);
		svc_enter(p, PROC_STOPPING);
		break;
	case PROC_IDLE:
	case PROC_BACKOFF:
		ev_timer_stop(p->inst->m->loop, &p->timer);
		svc_enter(p, PROC_EXITED);
		break;
	default:
		break;
	}
}

static void
svc_proc_init(struct proc *p, struct inst *in, int is_proxy)
{
	memset(p, 0, sizeof(*p));
	p->inst = in;
	p->is_proxy = is_proxy;
	p->state = PROC_IDLE;
	p->last_status = -1;
	p->backoff = SVC_BACKOFF_MIN;
	snprintf(p->name, sizeof(p->name), "%s%s", in->ri->name, is_proxy ? "~proxy" : "");
	outlog_pipe_init(&p->out, p->name);
	outlog_pipe_init(&p->err, p->name);
	outlog_pipe_fields(&p->out, is_proxy ? "mesh-proxy" : in->ri->svc->name,
	    in->ri->svc->name, in->ri->index);
	outlog_pipe_fields(&p->err, is_proxy ? "mesh-proxy" : in->ri->svc->name,
	    in->ri->svc->name, in->ri->index);
	ev_child_init(&p->child, svc_child_cb, 0, 0);
	ev_timer_init(&p->timer, svc_timer_cb, 1., 0.);
}

int
svc_init(struct meshd *m, svc_event_fn *on_event)
{
	size_t i;

	svc_on_event = on_event;
	m->ninst = m->reg.ninst;
	if (m->ninst == 0)
		return 0;
	if ((m->insts = calloc(m->ninst, sizeof(*m->insts))) == NULL)
		return -1;
	for (i = 0; i < m->ninst; i++) {
		struct inst *in = &m->insts[i];

		in->m = m;
		in->ri = &m->reg.inst[i];
		in->ri->rt = in;
		svc_proc_init(&in->proxy, in, 1);
		svc_proc_init(&in->app, in, 0);
		health_init(&in->hc);
		ready_init(&in->rd);
	}
	return 0;
}

void
svc_free(struct meshd *m)
{
	size_t i;

	for (i = 0; i < m->ninst; i++) {
		struct inst *in = &m->insts[i];

		svc_probe_stop(in);
		outlog_pipe_close(&in->app.out, m->loop);
		outlog_pipe_close(&in->app.err, m->loop);
		outlog_pipe_close(&in->proxy.out, m->loop);
		outlog_pipe_close(&in->proxy.err, m->loop);
		ev_timer_stop(m->loop, &in->app.timer);
		ev_timer_stop(m->loop, &in->proxy.timer);
		ev_child_stop(m->loop, &in->app.child);
		ev_child_stop(m->loop, &in->proxy.child);
		in->ri->rt = NULL;
	}
	free(m->insts);
	m->insts = NULL;
	m->ninst = 0;
	svc_on_event = NULL;
}

void
svc_start_all(struct meshd *m)
{
	size_t i;

	for (i = 0; i < m->ninst; i++)
		if (m->insts[i].proxy.state == PROC_IDLE)   /* else adopted (adopt.h) */
			svc_proc_start(&m->insts[i].proxy);
	svc_update(m);
}

static void
svc_stop_apps(struct meshd *m)
{
	size_t i;

	outlog_event("stopping: apps first, then sidecars");
	for (i = 0; i < m->ninst; i++)
		svc_proc_stop(&m->insts[i].app);
	svc_update(m);
}

static void
svc_stop_grace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	svc_stop_apps(w->data);
}

void
svc_stop_all(struct meshd *m)
{
	if (m->phase >= MESHD_STOPPING)
		return;
	svc_phase(m, MESHD_STOPPING);
	if (m->mreg != NULL && mreg_published(m->mreg) > 0) {
		/* several hosts: the others stop sending here before the apps
		 * go (the same grace as a drain, drain.h) */
		mreg_sync(m);
		outlog_event("stopping: withdrawn from the registry; apps stop in %.0f s",
		    DRAIN_GRACE_S);
		ev_timer_init(&m->stop_grace, svc_stop_grace_cb, DRAIN_GRACE_S, 0.);
		m->stop_grace.data = m;
		ev_timer_start(m->loop, &m->stop_grace);
		svc_update(m);
		return;
	}
	svc_stop_apps(m);
}

void
svc_proxy_ready(struct inst *in)
{
	if (in->m->phase >= MESHD_STOPPING || in->proxy.state != PROC_RUNNING)
		return;
	in->proxy_ready = 1;
	outlog_event("%s: sidecar ready", in->ri->name);
	if (in->ri->svc->command != NULL && in->app.state == PROC_IDLE)
		svc_proc_start(&in->app);
	else if (in->ri->svc->command == NULL)
		(void)svc_probe_start(in);   /* an app run by others: its port decides */
	svc_update(in->m);
}

void
svc_proxy_failed(struct inst *in, const char *msg)
{
	snprintf(in->why, sizeof(in->why), "%s: sidecar failed: %s", in->ri->name, msg);
	outlog_event("%s", in->why);
	/* it should exit by itself; make sure, and let the restart policy act */
	if (in->proxy.state == PROC_RUNNING)
		kill(-in->proxy.pid, SIGTERM);
}

int
svc_restart(struct inst *in, char *buf, size_t size)
{
	struct proc *p = in->ri->svc->command != NULL ? &in->app : &in->proxy;

	if (in->m->phase >= MESHD_STOPPING) {
		snprintf(buf, size, "mesh '%s' is stopping", in->m->cfg.mesh.name);
		return -1;
	}
	if (p->restart_asked) {
		snprintf(buf, size, "%s is already restarting", p->name);
		return -1;
	}
	p->ncrashes = 0;
	p->backoff = SVC_BACKOFF_MIN;
	switch (p->state) {
	case PROC_RUNNING:
		snprintf(buf, size, "restarting %s (SIGTERM to pid %d)", p->name, (int)p->pid);
		outlog_event("%s: restart asked (meshctl restart): SIGTERM to process group %d",
		    p->name, (int)p->pid);
		p->restart_asked = 1;
		kill(-p->pid, SIGTERM);
		svc_arm(p, SVC_STOP_WAIT);
		svc_enter(p, PROC_STOPPING);
		break;
	case PROC_IDLE:
		snprintf(buf, size, "%s is starting already (its sidecar is not ready)", p->name);
		return -1;
	case PROC_STOPPING:
		snprintf(buf, size, "%s is stopping", p->name);
		return -1;
	case PROC_BACKOFF:
	case PROC_EXITED:
	case PROC_FATAL:
		snprintf(buf, size, "starting %s again now", p->name);
		outlog_event("%s: restart asked (meshctl restart): starting now", p->name);
		svc_arm(p, 0.);
		svc_enter(p, PROC_BACKOFF);
		break;
	}
	svc_update(in->m);
	return 0;
}

/* Endpoint changes -> SVC_EV_ENDPOINT, once per service however many of
 * its instances (of any version) changed. */
static void
svc_endpoints(struct meshd *m)
{
	size_t i, j;

	for (i = 0; i < m->ninst; i++) {
		struct inst *in = &m->insts[i];

		in->dirty = in->ri->inbound_port != 0 &&
		    registry_set_up(in->ri, svc_endpoint_up(in));
		if (in->dirty)
			outlog_event("%s: endpoint %s", in->ri->name,
			    in->ri->up ? "up" : "down");
	}
	for (i = 0; i < m->ninst; i++) {
		if (!m->insts[i].dirty)
			continue;
		for (j = 0; j < i; j++)
			if (m->insts[j].dirty && strcmp(m->insts[j].ri->svc->name,
			    m->insts[i].ri->svc->name) == 0)
				break;
		if (j == i)
			svc_report(m, SVC_EV_ENDPOINT, &m->insts[i], NULL);
	}
}

void
svc_update(struct meshd *m)
{
	size_t i;
	int alive;

	if (m->phase < MESHD_STOPPING) {
		svc_endpoints(m);
		if (m->phase == MESHD_STARTING) {
			for (i = 0; i < m->ninst; i++)
				if (svc_ready(&m->insts[i]) != 1)
					break;
			if (i == m->ninst) {
				outlog_event("mesh '%s' ready: %zu instance(s)",
				    m->cfg.mesh.name, m->ninst);
				svc_phase(m, MESHD_RUNNING);
			}
		}
		svc_report(m, SVC_EV_CHANGED, NULL, NULL);
		return;
	}
	if (m->phase == MESHD_DONE)
		return;
	svc_report(m, SVC_EV_CHANGED, NULL, NULL);
	for (alive = 0, i = 0; i < m->ninst; i++)
		alive += svc_alive(&m->insts[i].app);
	if (alive > 0)
		return;
	/* every app is gone: now the sidecars */
	for (i = 0; i < m->ninst; i++) {
		svc_proc_stop(&m->insts[i].proxy);
		alive += svc_alive(&m->insts[i].proxy);
	}
	if (alive > 0)
		return;
	outlog_event("every process of mesh '%s' stopped", m->cfg.mesh.name);
	ev_break(m->loop, EVBREAK_ALL);
	svc_phase(m, MESHD_DONE);
}
