/* SPDX-License-Identifier: ISC */
/*
 * notify: WATCHDOG=1 and STATUS= for systemd (see notify.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <ev.h>
#include <systemd/sd-daemon.h>

#include "mesh/meshd_ctx.h"
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

void
notify_ready(struct meshd *m)
{
	if (!m->notify)
		return;
	/* the counts that made it ready first, so the unit shows them */
	notify_status(m);
	sd_notify(0, "READY=1");
}

void
notify_stopping(struct meshd *m)
{
	if (m->notify)
		sd_notify(0, "STOPPING=1");
}

/*
 * systemd's reload protocol (Type=notify-reload, and what `systemctl
 * reload` shows): RELOADING=1 with MONOTONIC_USEC= of CLOCK_MONOTONIC,
 * then READY=1 once the reload is done (applied or refused).
 */
void
notify_reloading(struct meshd *m)
{
	struct timespec ts;
	char msg[96];

	if (!m->notify)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000u);
	sd_notify(0, msg);
}

void
notify_reloaded(struct meshd *m)
{
	if (m->notify)
		sd_notify(0, "READY=1");
}
