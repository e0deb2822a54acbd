/*
 * notify: WATCHDOG=1 and STATUS= for systemd (see notify.h).
 */
#include <stdio.h>
#include <string.h>

#include <ev.h>
#include <systemd/sd-daemon.h>

#include "mesh/meshd.h"
#include "mesh/notify.h"
#include "mesh/svc.h"

static ev_timer notify_watchdog;
static char     notify_last[128];

static void
notify_watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	sd_notify(0, "WATCHDOG=1");
}

void
notify_init(struct meshd *m)
{
	uint64_t usec = 0;

	if (!m->notify || sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return;
	ev_timer_init(&notify_watchdog, notify_watchdog_cb, 0., (double)usec / 2e6);
	ev_timer_again(m->loop, &notify_watchdog);
	sd_notify(0, "WATCHDOG=1");
}

void
notify_stop(struct meshd *m)
{
	if (ev_is_active(&notify_watchdog))
		ev_timer_stop(m->loop, &notify_watchdog);
}

void
notify_status(struct meshd *m)
{
	size_t i, ready = 0, backoff = 0, fatal = 0;
	char msg[sizeof(notify_last)];

	if (!m->notify)
		return;
	for (i = 0; i < m->ninst; i++) {
		const struct inst *in = &m->insts[i];

		if (svc_ready(in) == 1)
			ready++;
		if (in->app.state == PROC_FATAL || in->proxy.state == PROC_FATAL)
			fatal++;
		else if (in->app.state == PROC_BACKOFF || in->proxy.state == PROC_BACKOFF)
			backoff++;
	}
	snprintf(msg, sizeof(msg), "STATUS=%zu/%zu instances ready, %zu restarting, %zu fatal",
	    ready, m->ninst, backoff, fatal);
	if (strcmp(msg, notify_last) == 0)
		return;
	memcpy(notify_last, msg, sizeof(msg));
	sd_notify(0, msg);
}
