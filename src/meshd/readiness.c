/* SPDX-License-Identifier: ISC */
/*
 * readiness: waiting for instances to be ready, and the report when they
 * are not (see include/mesh/readiness.h).
 */
#include <stdio.h>
#include <string.h>

#include "mesh/config.h"
#include "mesh/outlog.h"
#include "mesh/readiness.h"
#include "mesh/svc.h"

double
readiness_timeout(const struct inst *in)
{
	return (double)config_ready_timeout(&in->m->cfg, in->ri->svc) / 1e6;
}

/* outlog_ring()'s callback: keep the last line of one process. */
struct readiness_scan {
	const char *name;
	size_t      nlen;
	char       *buf;
	size_t      size;
	int         found;
};

static void
readiness_scan_cb(void *arg, const char *line, size_t len)
{
	struct readiness_scan *s = arg;
	const char *bar;
	size_t i;

	/* "NAME<padding> | text": the name, then blanks only, then the bar */
	if (len < s->nlen + 3 || memcmp(line, s->name, s->nlen) != 0)
		return;
	for (i = s->nlen; i < len && line[i] == ' '; i++)
		;
	if (i == s->nlen || i >= len || line[i] != '|')
		return;
	bar = line + i + 1;
	if (bar < line + len && *bar == ' ')
		bar++;
	snprintf(s->buf, s->size, "%.*s", (int)(line + len - bar), bar);
	s->found = 1;
}

void
readiness_last_line(const struct inst *in, char *buf, size_t size)
{
	const struct proc *p = in->ri->svc->command != NULL ? &in->app : &in->proxy;
	struct readiness_scan s = { p->name, strlen(p->name), buf, size, 0 };
	const struct outlog_pipe *pipe;

	buf[0] = '\0';
	/* the ring keeps stdout and stderr in the order they came */
	outlog_ring(readiness_scan_cb, &s);
	if (s.found)
		return;
	/* gone from the ring on a busy mesh: the pipes' own last lines */
	pipe = p->err.ntail > 0 ? &p->err : &p->out;
	if (pipe->ntail > 0)
		snprintf(buf, size, "%s", pipe->tail[(pipe->ntail - 1) % OUTLOG_TAIL]);
}

/* Why `in` (not ready, not failed) is still waiting. */
static void
readiness_pending(const struct inst *in, char *buf, size_t size)
{
	const struct proc *app = &in->app;

	if (!in->proxy_ready)
		snprintf(buf, size, "its sidecar is not ready");
	else if (in->ri->svc->command == NULL && in->ri->app_port == 0)
		snprintf(buf, size, "waiting");
	else if (in->ri->svc->command == NULL)
		snprintf(buf, size, "its app (not started by meshd) on 127.0.0.1:%u: %s",
		    in->ri->app_port, in->rd.last[0] ? in->rd.last :
		    in->hc.last[0] ? in->hc.last : "no connection tried yet");
	else if (app->state == PROC_BACKOFF && app->last_status != -1) {
		char how[96];

		svc_exit_str(app->last_status, how, sizeof(how));
		snprintf(buf, size, "its app %s and restarts (%u restart(s))", how, app->restarts);
	} else if (app->state != PROC_RUNNING)
		snprintf(buf, size, "its app is not running");
	else if (in->ri->svc->health != NULL && in->ri->app_port != 0)
		snprintf(buf, size, "health check %s: %s", in->ri->svc->health,
		    in->hc.last[0] ? in->hc.last : "no answer yet");
	else if (in->ri->app_port != 0)
		snprintf(buf, size, "%s", in->rd.last[0] ? in->rd.last :
		    "no connection tried yet");
	else
		snprintf(buf, size, "its app is starting");
}

void
readiness_why(const struct inst *in, double waited, char *buf, size_t size)
{
	char pending[256], line[OUTLOG_TAIL_MAX], rt[32];

	if (svc_ready(in) == -1) {
		snprintf(buf, size, "%s", in->why[0] ? in->why : in->ri->name);
		return;
	}
	readiness_pending(in, pending, sizeof(pending));
	readiness_last_line(in, line, sizeof(line));
	snprintf(rt, sizeof(rt), "%g", readiness_timeout(in));
	snprintf(buf, size, "%s: not ready after %.1f s (ready_timeout %ss): %s; "
	    "last line: %s%s%s", in->ri->name, waited, rt, pending,
	    line[0] ? "'" : "(none)", line, line[0] ? "'" : "");
}

int
readiness_check(struct meshd *m, ev_tstamp since, char *why, size_t size,
    ev_tstamp *next)
{
	ev_tstamp now = ev_now(m->loop), first = 0.;
	size_t i, off = 0;
	int failed = 0, waiting = 0;

	if (m->phase >= MESHD_STOPPING) {
		snprintf(why, size, "mesh '%s' is stopping", m->cfg.mesh.name);
		return 1;
	}
	for (i = 0; i < m->ninst; i++) {
		const struct inst *in = &m->insts[i];
		ev_tstamp deadline = since + readiness_timeout(in);
		int r = svc_ready(in);

		if (r == 1)
			continue;
		if (r == -1)
			failed = 1;
		else if (now < deadline) {
			if (!waiting || deadline < first)
				first = deadline;
			waiting = 1;
		}
	}
	if (!failed && !waiting) {
		/* every instance ready, or every one not ready past its time */
		for (i = 0; i < m->ninst; i++)
			if (svc_ready(&m->insts[i]) != 1)
				break;
		if (i == m->ninst)
			return 0;
	} else if (!failed) {
		*next = first;
		return -1;
	}
	why[0] = '\0';
	for (i = 0; i < m->ninst && off + 1 < size; i++) {
		const struct inst *in = &m->insts[i];
		char one[2600];

		if (svc_ready(in) == 1)
			continue;
		readiness_why(in, now - since, one, sizeof(one));
		off += (size_t)snprintf(why + off, size - off, "%s%s", off ? "\n" : "", one);
	}
	return 1;
}
