/* SPDX-License-Identifier: ISC */
/*
 * control_cmd: the commands a meshctl client sends on the control socket
 * (the list is in include/mesh/control.h): status, certs [--rotate],
 * down, wait-ready, logs, weight, reload, restart, breaker-reset
 * (fault and fault-off-all: control_fault.c; mirror: control_mirror.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/container_of.h"
#include "mesh/control.h"
#include "mesh/ipc.h"
#include "mesh/log.h"
#include "mesh/mcert.h"
#include "mesh/mreg.h"
#include "mesh/outlog.h"
#include "mesh/reload.h"
#include "mesh/status.h"
#include "mesh/svc.h"
#include "mesh/weights.h"
#include "control_int.h"

/* Answer `certs --rotate` clients: every marked sidecar got a new leaf
 * (DONE "0" after the table), or the deadline passed (DONE "1"). */
void
control_rotate_update(struct meshd *m, int expired)
{
	struct control *ctl = m->ctl;
	struct conn *c;
	char names[1024], msg[1200];
	size_t left, nwait = 0;
	char *text;
	size_t len;

	if (ctl == NULL)
		return;
	for (c = ctl->conns; c != NULL; c = c->next)
		if (!c->dead && c->wait == WAIT_ROTATE)
			nwait++;
	if (nwait == 0)
		return;
	left = mcert_rotate_pending(m, names, sizeof(names));
	if (left > 0 && !expired)
		return;
	ev_timer_stop(m->loop, &ctl->rotate);
	mcert_rotate_clear();
	for (c = ctl->conns; c != NULL; c = c->next) {
		if (c->dead || c->wait != WAIT_ROTATE)
			continue;
		c->wait = WAIT_NONE;
		if (left > 0) {
			snprintf(msg, sizeof(msg), "no new certificate within %.0f s for: %s",
			    CONTROL_ROTATE_S, names);
			control_answer(c, 1, msg);
			continue;
		}
		if (mcert_format(m, 0, &text, &len) == 0) {
			control_send(c, IPC_REPLY, text, len);
			free(text);
		}
		control_send_str(c, IPC_DONE, "0");
	}
}

void
control_rotate_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct control *ctl = container_of(w, struct control, rotate);

	(void)loop;
	(void)revents;
	control_rotate_update(ctl->m, 1);
}

/* `certs --rotate`: IPC_ROTATE to every attached sidecar, then wait. */
static void
control_rotate(struct conn *c)
{
	struct meshd *m = c->ctl->m;
	size_t i, n = 0;

	for (i = 0; i < m->ninst; i++) {
		struct conn *pc = m->insts[i].conn;

		if (pc == NULL || pc->dead)
			continue;
		mcert_rotate_mark(m, &m->insts[i]);
		control_send(pc, IPC_ROTATE, "", 0);
		n++;
	}
	log_info("certs --rotate: %zu sidecar(s) asked to renew", n);
	c->wait = WAIT_ROTATE;
	if (!ev_is_active(&c->ctl->rotate)) {
		ev_timer_set(&c->ctl->rotate, CONTROL_ROTATE_S, 0.);
		ev_timer_start(m->loop, &c->ctl->rotate);
	}
	control_rotate_update(m, 0);
}

/* `weight SERVICE VERSION=PCT...`: validated, applied, persisted, pushed. */
static void
control_weight(struct conn *c, const char *args)
{
	struct meshd *m = c->ctl->m;
	char why[512], msg[1024];
	struct weight w;
	size_t i, n;

	if (weights_parse(&m->cfg, args, &w, why, sizeof(why)) == -1) {
		control_answer(c, 1, why);
		return;
	}
	if (weights_set(&m->weights, &m->cfg, &w) == -1) {
		control_answer(c, 1, "meshd: out of memory");
		return;
	}
	control_push_callers(m, w.service);
	mreg_ovr_publish(m, MREG_OVR_WEIGHT, w.service, args);
	n = (size_t)snprintf(msg, sizeof(msg), "route %s: split", w.service);
	for (i = 0; i < w.nsplit && n < sizeof(msg); i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, " %s=%u",
		    w.split[i].version, w.split[i].weight);
	outlog_event("%s (meshctl weight)", msg);
	if (weights_save(&m->weights, m->cfg.mesh.state_dir) == -1) {
		snprintf(why, sizeof(why), "applied, but not persisted: %s/%s: %s",
		    m->cfg.mesh.state_dir, WEIGHTS_FILE, strerror(errno));
		log_warnx("%s", why);
		control_answer(c, 1, why);
		return;
	}
	control_answer(c, 0, msg);
}

/* `breaker-reset SERVICE [VERSION.INDEX]`: IPC_BREAKER_RESET with the
 * same words to every attached sidecar that calls SERVICE. */
static void
control_breaker_reset(struct conn *c, const char *args)
{
	struct meshd *m = c->ctl->m;
	char svc[CONF_NAME_MAX], which[CONF_VERSION_MAX + 16] = "", msg[512];
	size_t i, n = 0;
	int found = 0, words;

	_Static_assert(CONF_NAME_MAX == 64 && CONF_VERSION_MAX + 16 == 48,
	    "the sscanf widths below fit the buffers");
	words = sscanf(args, "%63s %47s", svc, which);
	for (i = 0; words >= 1 && i < m->ninst; i++) {
		const struct reg_instance *ri = m->insts[i].ri;
		char vi[CONF_VERSION_MAX + 16];

		if (strcmp(ri->svc->name, svc) != 0)
			continue;
		snprintf(vi, sizeof(vi), "%s.%u", ri->svc->version, ri->index);
		if (words == 1 || strcmp(vi, which) == 0)
			found = 1;
	}
	if (!found) {
		snprintf(msg, sizeof(msg), "breaker-reset: no service '%.63s'%s%.47s in mesh '%s'",
		    words >= 1 ? svc : "", words == 2 ? " instance " : "", words == 2 ? which : "",
		    m->cfg.mesh.name);
		control_answer(c, 1, msg);
		return;
	}
	snprintf(msg, sizeof(msg), "%s%s%s", svc, words == 2 ? " " : "", words == 2 ? which : "");
	for (i = 0; i < m->ninst; i++) {
		struct conn *pc = m->insts[i].conn;

		if (pc == NULL || pc->dead || !registry_calls(m->insts[i].ri, svc))
			continue;
		control_send_str(pc, IPC_BREAKER_RESET, msg);
		n++;
	}
	outlog_event("breaker-reset %s (meshctl): sent to %zu caller sidecar(s)", msg, n);
	snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), ": breakers reset in %zu caller "
	    "sidecar(s)", n);
	control_answer(c, 0, msg);
}

/* `reload`: the report (or the file's errors) as one REPLY. */
static void
control_reload(struct conn *c)
{
	struct meshd *m = c->ctl->m;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if ((f = open_memstream(&text, &len)) == NULL) {
		control_answer(c, 1, "meshd: out of memory");
		return;
	}
	if ((rc = reload_run(m, f)) == 0)
		control_push_all(m);
	if (fclose(f) != 0 || rc == -1) {
		free(text);
		control_answer(c, 1, "meshd: out of memory");
		return;
	}
	outlog_event("reload (meshctl reload): %s", rc == 0 ? "applied" : "the file has errors; nothing changed");
	if (len > 0)
		control_send(c, IPC_REPLY, text, len);
	free(text);
	control_send_str(c, IPC_DONE, rc == 0 ? "0" : "1");
}

/* A malloc'd report (NULL: it could not be made) as REPLY + DONE, freed. */
static void
control_report(struct conn *c, char *text, size_t len)
{
	if (text == NULL) {
		control_answer(c, 1, "meshd: out of memory");
		return;
	}
	control_send(c, IPC_REPLY, text, len);
	free(text);
	control_send_str(c, IPC_DONE, "0");
}


void
control_cmd(struct conn *c, const char *cmd)
{
	struct meshd *m = c->ctl->m;
	char *text = NULL;
	size_t len = 0;

	c->kind = CONN_CLIENT;
	if (strcmp(cmd, "ping") == 0) {
		control_send_str(c, IPC_DONE, "0");
	} else if (strcmp(cmd, "status") == 0 || strcmp(cmd, "status --json") == 0) {
		int json = cmd[6] != '\0';
		int rc = json ? status_json(m, &text, &len) : status_text(m, &text, &len);

		control_report(c, rc == -1 ? NULL : text, len);
	} else if (strcmp(cmd, "certs") == 0 || strcmp(cmd, "certs --json") == 0) {
		int rc = mcert_format(m, cmd[5] != '\0', &text, &len);

		control_report(c, rc == -1 ? NULL : text, len);
	} else if (strcmp(cmd, "certs --rotate") == 0) {
		control_rotate(c);
	} else if (strcmp(cmd, "certs --rotate-root") == 0) {
		control_rotate_root(c);
	} else if (strncmp(cmd, "certs --join-token ", 19) == 0) {
		control_join_token(c, cmd + 19);
	} else if (strcmp(cmd, "down") == 0) {
		c->wait = WAIT_DOWN;
		svc_stop_all(m);
	} else if (strcmp(cmd, "wait-ready") == 0) {
		outlog_ring(control_ring_cb, c);
		c->wait = WAIT_READY;
		control_wait_update(m);
	} else if (strncmp(cmd, "weight ", 7) == 0) {
		control_weight(c, cmd + 7);
	} else if (strncmp(cmd, "fault ", 6) == 0) {
		control_fault(c, cmd + 6);
	} else if (strcmp(cmd, "fault-off-all") == 0) {
		control_fault_off_all(c);
	} else if (strncmp(cmd, "mirror ", 7) == 0) {
		control_mirror(c, cmd + 7);
	} else if (strcmp(cmd, "reload") == 0) {
		control_reload(c);
	} else if (strncmp(cmd, "restart ", 8) == 0) {
		control_restart(c, cmd + 8);
	} else if (strncmp(cmd, "breaker-reset ", 14) == 0) {
		control_breaker_reset(c, cmd + 14);
	} else if (strcmp(cmd, "logs") == 0) {
		outlog_ring(control_ring_cb, c);
		c->wait = WAIT_LOGS;
	} else {
		char msg[320];

		snprintf(msg, sizeof(msg), "unknown command '%.60s' (ping, status, "
		    "status --json, certs, certs --json, certs --rotate, certs --rotate-root, "
		    "certs --join-token, down, wait-ready, "
		    "logs, weight, fault, fault-off-all, mirror, reload, restart, breaker-reset)", cmd);
		control_answer(c, 2, msg);
	}
}
