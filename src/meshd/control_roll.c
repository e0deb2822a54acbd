/* SPDX-License-Identifier: ISC */
/*
 * control_roll: the control socket's side of the root rollover — sending
 * the trust bundle (IPC_TRUST) and renewals (IPC_ROTATE) as mcert_roll.c
 * decides, taking the sidecars' IPC_IDENT reports, and the command
 * `certs --rotate-root` (contract in include/mesh/control.h).
 *
 * One repeating timer drives mcert_roll_step() while a rollover is under
 * way or a client waits; reports also step it at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh/control.h"
#include "mesh/ipc.h"
#include "mesh/log.h"
#include "mesh/mcert.h"
#include "mesh/outlog.h"
#include "mesh/svc.h"
#include "control_int.h"

#define CONTROL_ROLL_TICK_S  0.5

static struct {
	ev_timer       tick;
	int            init;
	struct meshd  *m;
	ev_tstamp      wait_until;   /* clients of `certs --rotate-root` give up then */
} roll;

static void control_roll_cb(struct ev_loop *loop, ev_timer *w, int revents);

static void
control_roll_arm(struct meshd *m)
{
	if (!roll.init) {
		ev_timer_init(&roll.tick, control_roll_cb, CONTROL_ROLL_TICK_S, CONTROL_ROLL_TICK_S);
		roll.init = 1;
	}
	roll.m = m;
	if (!ev_is_active(&roll.tick))
		ev_timer_start(m->loop, &roll.tick);
}

/* The current bundle to one sidecar. */
static void
control_trust_send(struct conn *c)
{
	char *pem;
	size_t len;

	if (c == NULL || c->dead)
		return;
	if (mcert_bundle_pem(&pem, &len) == -1) {
		log_warnx("%s: cannot encode the trust bundle", c->inst ? c->inst->ri->name : "?");
		return;
	}
	control_send(c, IPC_TRUST, pem, len);
	free(pem);
}

/* Every attached sidecar: the bundle, or (renew) IPC_ROTATE. */
static size_t
control_trust_all(struct meshd *m, int renew)
{
	size_t i, n = 0;

	for (i = 0; i < m->ninst; i++) {
		struct conn *pc = m->insts[i].conn;

		if (pc == NULL || pc->dead)
			continue;
		if (renew)
			control_send(pc, IPC_ROTATE, "", 0);
		else
			control_trust_send(pc);
		n++;
	}
	return n;
}

/* Answer every waiting client: rc 0 with the table, else with msg. */
static void
control_roll_answer(struct meshd *m, int rc, const char *msg)
{
	struct conn *c;
	char *text;
	size_t len;

	for (c = m->ctl ? m->ctl->conns : NULL; c != NULL; c = c->next) {
		if (c->dead || c->wait != WAIT_ROTATE_ROOT)
			continue;
		c->wait = WAIT_NONE;
		if (msg != NULL && msg[0] != '\0')
			control_send_str(c, IPC_REPLY, msg);
		if (rc == 0 && mcert_format(m, 0, &text, &len) == 0) {
			control_send(c, IPC_REPLY, text, len);
			free(text);
		}
		control_send_str(c, IPC_DONE, rc == 0 ? "0" : "1");
	}
}

static int
control_roll_waiters(struct meshd *m)
{
	struct conn *c;

	for (c = m->ctl ? m->ctl->conns : NULL; c != NULL; c = c->next)
		if (!c->dead && c->wait == WAIT_ROTATE_ROOT)
			return 1;
	return 0;
}

/* Step the rollover; act on what it decided; answer clients. */
static void
control_roll_update(struct meshd *m)
{
	char why[768], names[512], msg[1100];
	enum mcert_step st = mcert_roll_step(m, time(NULL), why, sizeof(why));
	size_t n;

	switch (st) {
	case MCERT_STEP_SIGN:
		n = control_trust_all(m, 1);
		outlog_event("root rollover: leaves now come from the new root; %zu sidecar(s) "
		    "asked to renew", n);
		break;
	case MCERT_STEP_RETIRED:
		n = control_trust_all(m, 0);
		outlog_event("root rollover: the old root retired; %zu sidecar(s) trust the new "
		    "root alone", n);
		control_roll_answer(m, why[0] ? 1 : 0, why);
		break;
	case MCERT_STEP_ABORTED:
		(void)control_trust_all(m, 0);
		outlog_event("root rollover abandoned: %s", why);
		snprintf(msg, sizeof(msg), "root rollover abandoned, the old root stays: %s", why);
		control_roll_answer(m, 1, msg);
		break;
	case MCERT_STEP_IDLE:
		control_roll_answer(m, 0, NULL);
		break;
	case MCERT_STEP_WAIT:
		if (roll.wait_until > 0 && ev_now(m->loop) >= roll.wait_until &&
		    control_roll_waiters(m)) {
			n = mcert_roll_pending(m, names, sizeof(names));
			snprintf(msg, sizeof(msg), "root rollover in phase %s after %.0f s; waiting "
			    "for %zu sidecar(s)%s%s. It goes on: `meshctl certs` shows where it is",
			    mcert_roll_phase() == PKI_ROLL_TRUST ? "trust" : "sign",
			    CONTROL_ROLL_WAIT_S, n, n ? ": " : "", names);
			control_roll_answer(m, 1, msg);
		}
		break;
	}
	if (mcert_roll_phase() == PKI_ROLL_NONE && !control_roll_waiters(m) && roll.init)
		ev_timer_stop(m->loop, &roll.tick);
}

static void
control_roll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (roll.m != NULL)
		control_roll_update(roll.m);
}

void
control_trust(struct conn *c)
{
	struct meshd *m = c->ctl->m;

	mcert_ident_reset(m, c->inst);
	control_trust_send(c);
	if (mcert_roll_phase() != PKI_ROLL_NONE)
		control_roll_arm(m);     /* a meshd restarted mid-rollover resumes here */
}

void
control_ident(struct conn *c, const char *p, size_t len)
{
	struct meshd *m = c->ctl->m;

	if (mcert_ident_report(m, c->inst, p, len) == -1) {
		log_warnx("%s: malformed IPC_IDENT '%.120s': ignored", c->inst->ri->name, p);
		return;
	}
	/* its renewal crossed the switch: the leaf came from the old root */
	if (mcert_roll_stale(m, c->inst))
		control_send(c, IPC_ROTATE, "", 0);
	if (mcert_roll_phase() != PKI_ROLL_NONE)
		control_roll_update(m);
}

void
control_rotate_root(struct conn *c)
{
	struct meshd *m = c->ctl->m;
	char err[512];
	size_t n;
	int r = mcert_roll_begin(m, time(NULL), err, sizeof(err));

	if (r == -1) {
		log_warnx("certs --rotate-root: %s", err);
		control_answer(c, 1, err);
		return;
	}
	if (r == 0) {
		n = control_trust_all(m, 0);
		outlog_event("root rollover started (meshctl certs --rotate-root): new root sent "
		    "to %zu sidecar(s)", n);
	} else {
		control_send_str(c, IPC_REPLY, "a root rollover is already under way; waiting "
		    "for it");
	}
	c->wait = WAIT_ROTATE_ROOT;
	roll.wait_until = ev_now(m->loop) + CONTROL_ROLL_WAIT_S;
	control_roll_arm(m);
	control_roll_update(m);
}
