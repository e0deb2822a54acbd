/* SPDX-License-Identifier: ISC */
/*
 * drain: withdraw, drain, restart, wait for ready; one instance after
 * the other (see include/mesh/drain.h).
 *
 * Each restart under way is a `struct drain_roll` on one list, driven by
 * its own timer: the grace, then a poll every DRAIN_POLL_S s.  Nothing is
 * reported from inside drain_restart(), so a caller never hears of its
 * restart before it has returned.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/container_of.h"
#include "mesh/drain.h"
#include "mesh/outlog.h"
#include "mesh/readiness.h"
#include "mesh/stats.h"
#include "mesh/svc.h"

enum drain_phase {
	DRAIN_NEXT,      /* about to take insts[cur] */
	DRAIN_GRACE,     /* withdrawn; callers are being told */
	DRAIN_FLIGHT,    /* waiting for in_flight.in to reach 0 */
	DRAIN_RESTART,   /* restarted; waiting for the new process to be ready */
};

struct drain_roll {
	struct drain_roll *next;
	struct meshd      *m;
	ev_timer           timer;
	struct inst      **insts;
	size_t             n, cur;
	enum drain_phase   phase;
	ev_tstamp          since;       /* the phase's start */
	ev_tstamp          withdrawn;   /* DRAIN_GRACE's start */
	ev_tstamp          new_start;   /* DRAIN_RESTART: the new process seen; 0 not yet */
	pid_t              old_pid;
	drain_fn          *cb;
	unsigned long      ticket;
	char               what[REG_ID_MAX];
};

static struct drain_roll *drain_rolls;

static void drain_tick(struct ev_loop *loop, ev_timer *w, int revents);

static void drain_say(struct drain_roll *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A progress line: the log and the caller. */
static void
drain_say(struct drain_roll *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	outlog_event("%s", line);
	r->cb(r->m, r->ticket, 0, 0, line);
}

static struct proc *
drain_proc(struct inst *in)
{
	return in->ri->svc->command != NULL ? &in->app : &in->proxy;
}

static int
drain_busy(const struct inst *in)
{
	const struct drain_roll *r;
	size_t i;

	for (r = drain_rolls; r != NULL; r = r->next)
		for (i = r->cur; i < r->n; i++)
			if (r->insts[i] == in)
				return 1;
	return 0;
}

static void
drain_arm(struct drain_roll *r, double after)
{
	ev_timer_stop(r->m->loop, &r->timer);
	ev_timer_set(&r->timer, after, 0.);
	ev_timer_start(r->m->loop, &r->timer);
}

static void
drain_enter(struct drain_roll *r, enum drain_phase ph)
{
	r->phase = ph;
	r->since = ev_now(r->m->loop);
}

/* The end: report, unlink, free. */
static void
drain_end(struct drain_roll *r, int rc, const char *line)
{
	struct drain_roll **pp;

	if (r->cur < r->n && r->insts[r->cur]->draining) {
		r->insts[r->cur]->draining = 0;
		svc_update(r->m);
	}
	ev_timer_stop(r->m->loop, &r->timer);
	for (pp = &drain_rolls; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	outlog_event("%s", line);
	r->cb(r->m, r->ticket, 1, rc, line);
	free(r->insts);
	free(r);
}

/* Requests the instance's sidecar is answering now (0 when unknown). */
static unsigned long long
drain_in_flight(const struct inst *in)
{
	struct stats_snapshot snap;
	char path[1024];

	if (stats_path(path, sizeof(path), in->m->cfg.mesh.state_dir, in->ri->id) == -1 ||
	    stats_read(path, &snap) != STATS_OK || snap.pid != (uint64_t)in->proxy.pid)
		return 0;
	return (unsigned long long)snap.v[STAT_REQUESTS_IN_FLIGHT];
}

static void
drain_restart_now(struct drain_roll *r, struct inst *in)
{
	char msg[512];

	r->old_pid = drain_proc(in)->pid;
	r->new_start = 0;
	if (svc_restart(in, msg, sizeof(msg)) == -1) {
		char line[700];

		snprintf(line, sizeof(line), "%s: not restarted: %s", in->ri->name, msg);
		drain_end(r, 1, line);
		return;
	}
	drain_say(r, "%s", msg);
	in->draining = 0;
	drain_enter(r, DRAIN_RESTART);
	svc_update(r->m);
	drain_arm(r, DRAIN_POLL_S);
}

/* DRAIN_RESTART: 1 ready again, 0 not yet, -1 failed (said). */
static int
drain_back(struct drain_roll *r, struct inst *in, ev_tstamp now)
{
	struct proc *p = drain_proc(in);
	double limit = readiness_timeout(in);
	char why[2600];

	if (r->new_start == 0. && p->pid != 0 && p->pid != r->old_pid)
		r->new_start = p->started;
	if (r->new_start != 0. && svc_ready(in) == 1) {
		drain_say(r, "%s: ready again after %.2f s (pid %d)", in->ri->name,
		    now - r->since, (int)p->pid);
		return 1;
	}
	if (svc_ready(in) == -1 || (r->new_start != 0. && now - r->new_start >= limit) ||
	    (r->new_start == 0. && now - r->since >= SVC_STOP_WAIT + 2. + limit)) {
		readiness_why(in, now - (r->new_start != 0. ? r->new_start : r->since),
		    why, sizeof(why));
		drain_end(r, 1, why);
		return -1;
	}
	return 0;
}

static void
drain_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct drain_roll *r = container_of(w, struct drain_roll, timer);
	struct inst *in = r->insts[r->cur];
	ev_tstamp now = ev_now(loop);
	unsigned long long n;
	char line[512];

	(void)revents;
	if (r->m->phase >= MESHD_STOPPING) {
		snprintf(line, sizeof(line), "restart of %s: mesh '%s' is stopping", r->what,
		    r->m->cfg.mesh.name);
		drain_end(r, 1, line);
		return;
	}
	switch (r->phase) {
	case DRAIN_NEXT:
		if (!in->ri->up) {
			/* nobody is sent to it: nothing to drain */
			drain_restart_now(r, in);
			return;
		}
		in->draining = 1;
		drain_enter(r, DRAIN_GRACE);
		r->withdrawn = r->since;
		svc_update(r->m);
		drain_say(r, "%s: endpoint withdrawn from its callers; draining", in->ri->name);
		drain_arm(r, DRAIN_GRACE_S);
		return;
	case DRAIN_GRACE:
		drain_enter(r, DRAIN_FLIGHT);
		/* FALLTHROUGH */
	case DRAIN_FLIGHT:
		n = conf_proto_l7(in->ri->svc->protocol) ? drain_in_flight(in) : 0;
		if (n > 0 && now - r->since < DRAIN_WAIT_S) {
			drain_arm(r, DRAIN_POLL_S);
			return;
		}
		if (n > 0)
			drain_say(r, "%s: %llu request(s) still in flight after %.0f s; "
			    "restarting all the same", in->ri->name, n, DRAIN_WAIT_S);
		else
			drain_say(r, "%s: drained: no request in flight %.2f s after it was "
			    "withdrawn", in->ri->name, now - r->withdrawn);
		drain_restart_now(r, in);
		return;
	case DRAIN_RESTART:
		switch (drain_back(r, in, now)) {
		case 0:
			drain_arm(r, DRAIN_POLL_S);
			return;
		case -1:
			return;   /* r is gone */
		}
		if (++r->cur < r->n) {
			drain_enter(r, DRAIN_NEXT);
			drain_arm(r, 0.);
			return;
		}
		if (r->n == 1)
			snprintf(line, sizeof(line), "restarted %s", in->ri->name);
		else
			snprintf(line, sizeof(line), "restarted %zu instances of %s, one at a time",
			    r->n, r->what);
		drain_end(r, 0, line);
		return;
	}
}

/* The instances `what` names, in file order; 0 none. */
static size_t
drain_find(struct meshd *m, const char *what, struct inst **out)
{
	struct reg_instance *ri = registry_find_id(&m->reg, what);
	size_t i, n = 0;

	if (ri != NULL && ri->rt != NULL) {
		out[0] = ri->rt;
		return 1;
	}
	for (i = 0; i < m->ninst; i++)
		if (strcmp(m->insts[i].ri->name, what) == 0) {
			out[0] = &m->insts[i];
			return 1;
		}
	for (i = 0; i < m->ninst; i++)
		if (strcmp(m->insts[i].ri->svc->name, what) == 0)
			out[n++] = &m->insts[i];
	return n;
}

int
drain_restart(struct meshd *m, const char *what, drain_fn *cb, unsigned long ticket,
    char *why, size_t size)
{
	struct drain_roll *r;
	size_t i;

	if (m->phase >= MESHD_STOPPING) {
		snprintf(why, size, "mesh '%s' is stopping", m->cfg.mesh.name);
		return -1;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->insts = calloc(m->ninst + 1, sizeof(*r->insts))) == NULL) {
		free(r);
		snprintf(why, size, "meshd: out of memory");
		return -1;
	}
	if ((r->n = drain_find(m, what, r->insts)) == 0) {
		snprintf(why, size, "no instance or service '%.120s' in mesh '%s' (an id "
		    "like api@v1.0, a name like api.0, or a service like api, as status "
		    "shows)", what, m->cfg.mesh.name);
		free(r->insts);
		free(r);
		return -1;
	}
	for (i = 0; i < r->n; i++)
		if (drain_busy(r->insts[i])) {
			snprintf(why, size, "%s is already restarting", r->insts[i]->ri->name);
			free(r->insts);
			free(r);
			return -1;
		}
	r->m = m;
	r->cb = cb;
	r->ticket = ticket;
	snprintf(r->what, sizeof(r->what), "%s", what);
	ev_timer_init(&r->timer, drain_tick, 0., 0.);
	drain_enter(r, DRAIN_NEXT);
	drain_arm(r, 0.);
	r->next = drain_rolls;
	drain_rolls = r;
	if (r->n == 1)
		snprintf(why, size, "restarting %s: drained first, then waited for until "
		    "ready", r->insts[0]->ri->name);
	else
		snprintf(why, size, "restarting the %zu instances of %s one at a time: each "
		    "drained first, then ready again before the next", r->n, what);
	return 0;
}

void
drain_free(struct meshd *m)
{
	while (drain_rolls != NULL) {
		struct drain_roll *r = drain_rolls;

		drain_rolls = r->next;
		ev_timer_stop(m->loop, &r->timer);
		free(r->insts);
		free(r);
	}
}
