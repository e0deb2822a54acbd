/* SPDX-License-Identifier: ISC */
/*
 * ptap: the tap lease of this sidecar's service (ptap_int.h).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mesh/clock.h"
#include "mesh/log.h"
#include "ptap_int.h"

static struct {
	char     dir[4096];          /* <run dir>/tap; "" : never tapped */
	char     path[4096];         /* dir/<service>; "" : no service yet */
	int      on;
	ev_timer timer;
} ptap;

/* The length of the directory part of path[0..len) ("a/b" -> 1), 0 if none. */
static size_t
ptap_parent(const char *path, size_t len)
{
	while (len > 0 && path[len - 1] == '/')        /* "run/stats/" */
		len--;
	while (len > 0 && path[len - 1] != '/')
		len--;
	while (len > 1 && path[len - 1] == '/')
		len--;
	return len;
}

int
ptap_dir(char *buf, size_t size, const char *control_sock, const char *stats_path)
{
	const char *p = stats_path != NULL ? stats_path : control_sock;
	size_t len;

	if (p == NULL)
		return -1;
	/* <run>/stats/<id>.stats: up two; <run>/meshd.sock: up one */
	len = ptap_parent(p, strlen(p));
	if (stats_path != NULL && len > 0)
		len = ptap_parent(p, len);
	if (len == 0)
		return -1;
	if (len == 1 && p[0] == '/')
		len = 0;                      /* the root: "/tap" */
	return snprintf(buf, size, "%.*s/tap", (int)len, p) >= (int)size ? -1 : 0;
}

int
ptap_lease_live(int64_t mtime_ns, int64_t now_ns)
{
	int64_t lease = (int64_t)PTAP_LEASE_S * 1000000000;

	return mtime_ns >= now_ns - lease && mtime_ns <= now_ns + lease;
}

void
ptap_service(const char *service)
{
	if (ptap.dir[0] == '\0' || service[0] == '\0' ||
	    snprintf(ptap.path, sizeof(ptap.path), "%s/%s", ptap.dir, service) >=
	    (int)sizeof(ptap.path))
		ptap.path[0] = '\0';
	ptap_check();
}

void
ptap_check(void)
{
	struct stat st;
	int on = 0;

	if (ptap.path[0] != '\0' && stat(ptap.path, &st) == 0)
		on = ptap_lease_live((int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
		    (int64_t)clock_ns(CLOCK_REALTIME));
	if (on != ptap.on)
		log_debug("tap: %s (%s)", on ? "tapped, recording every request" :
		    "no longer tapped", ptap.path);
	ptap.on = on;
}

int
ptap_on(void)
{
	return ptap.on;
}

static void
ptap_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	ptap_check();
}

void
ptap_start(struct ev_loop *loop, const char *control_sock, const char *stats_path)
{
	if (ptap_dir(ptap.dir, sizeof(ptap.dir), control_sock, stats_path) == -1) {
		ptap.dir[0] = '\0';
		return;
	}
	ev_timer_init(&ptap.timer, ptap_cb, PTAP_INTERVAL_S, PTAP_INTERVAL_S);
	ev_timer_start(loop, &ptap.timer);
}

void
ptap_stop(struct ev_loop *loop)
{
	ev_timer_stop(loop, &ptap.timer);
	ptap.on = 0;
}
