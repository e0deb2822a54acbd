/* SPDX-License-Identifier: ISC */
/*
 * ctl_down: `meshctl down [-f FILE] [--timeout SECS]`.
 *
 * "Stopped" is checked, not assumed.  Before asking meshd to go down we
 * note its pid, the pids `status --json` reports, and every child meshd
 * recorded in <state_dir>/run/pids/ (whose process group we watch too, so
 * an app's own children count); then we wait until all of it is gone.
 * Whatever is still there at the deadline is named, and the exit is 1.
 *
 * When meshd is gone but its children are not (it was SIGKILLed), those
 * records let state_reap() stop them: a successful `down` too.  Only when
 * nothing at all runs is the answer "not running" (exit 3).
 *
 * A config file with errors does not prevent `down`: the [mesh] section
 * alone locates the state dir (ctl_mesh_open(lenient)).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/ctl.h"
#include "mesh/state.h"

#define CTL_DOWN_PIDS_MAX   1024
#define CTL_DOWN_STATUS_MS  5000

struct ctl_down_pids {
	pid_t  pid[CTL_DOWN_PIDS_MAX];
	size_t n;
	pid_t  group[CTL_DOWN_PIDS_MAX];
	size_t ngroups;
};

static void
ctl_down_add(pid_t *set, size_t *n, pid_t pid)
{
	size_t i;

	if (pid <= 1 || pid == getpid())
		return;
	for (i = 0; i < *n; i++)
		if (set[i] == pid)
			return;
	if (*n < CTL_DOWN_PIDS_MAX)
		set[(*n)++] = pid;
}

/*
 * Every number under a key that ends in "pid" ("pid", "app_pid",
 * "proxy_pid"...) in `status --json`: the processes meshd says it runs.
 */
static void
ctl_down_scan_json(void *arg, uint16_t type, const char *payload, size_t len)
{
	struct ctl_down_pids *p = arg;
	const char *s = payload, *end = payload + len;

	while ((s = memmem(s, (size_t)(end - s), "pid\"", 4)) != NULL) {
		long v = 0;

		s += 4;
		while (s < end && isspace((unsigned char)*s))
			s++;
		if (s >= end || *s != ':')
			continue;
		s++;
		while (s < end && isspace((unsigned char)*s))
			s++;
		if (s >= end || !isdigit((unsigned char)*s))
			continue;
		while (s < end && isdigit((unsigned char)*s) && v < 0x7fffffffL)
			v = v * 10 + (*s++ - '0');
		ctl_down_add(p->pid, &p->n, (pid_t)v);
	}
}

/* run/pids/<id>.<kind>: "<pid> <pgid> <starttime> <name>" (state.h). */
static void
ctl_down_scan_records(const struct ctl_mesh *m, struct ctl_down_pids *p)
{
	char dir[4096], path[4096 + 256], line[512];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/run/pids", m->state_dir);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		unsigned long long start;
		long pid, pgid;
		FILE *f;
		int got;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		got = fgets(line, sizeof(line), f) != NULL &&
		    sscanf(line, "%ld %ld %llu", &pid, &pgid, &start) == 3;
		fclose(f);
		/* A recycled pid is not ours. */
		if (!got || pid <= 1 || pid > 0x7fffffffL ||
		    state_proc_starttime((pid_t)pid) != start)
			continue;
		ctl_down_add(p->pid, &p->n, (pid_t)pid);
		if (pgid > 1 && pgid <= 0x7fffffffL)
			ctl_down_add(p->group, &p->ngroups, (pid_t)pgid);
	}
	closedir(d);
}

/* What meshd runs: its own pid, what it reports, what it recorded. */
static void
ctl_down_collect(const struct ctl_mesh *m, pid_t meshd, struct ctl_down_pids *p)
{
	int fd;

	ctl_down_add(p->pid, &p->n, meshd);
	if (ctl_conn_open(m, &fd) == CTL_OK) {
		if (ctl_conn_command(fd, "status --json", CTL_DOWN_STATUS_MS,
		    ctl_down_scan_json, p) == -1)
			ctl_conn_lost(m, "status --json", CTL_DOWN_STATUS_MS);
		close(fd);
	}
	ctl_down_scan_records(m, p);
}

static void
ctl_down_comm(pid_t pid, char *out, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	out[0] = '\0';
	if ((f = fopen(path, "re")) != NULL) {
		if (fgets(out, (int)size, f) == NULL)
			out[0] = '\0';
		fclose(f);
	}
	out[strcspn(out, "\n")] = '\0';
	if (out[0] == '\0')
		snprintf(out, size, "?");
}

static void
ctl_down_report_left(const struct ctl_mesh *m, const struct ctl_down_pids *p,
    unsigned secs)
{
	char comm[64];
	size_t i;

	ctl_errx("mesh '%s': still running %u s after 'down':", m->name, secs);
	for (i = 0; i < p->n; i++) {
		if (!ctl_proc_alive(p->pid[i]))
			continue;
		ctl_down_comm(p->pid[i], comm, sizeof(comm));
		fprintf(stderr, "  pid %d (%s)\n", (int)p->pid[i], comm);
	}
	/* A group whose leader is listed above adds nothing. */
	for (i = 0; i < p->ngroups; i++)
		if (!ctl_proc_alive(p->group[i]) && ctl_proc_group_alive(p->group[i]))
			fprintf(stderr, "  process group %d (its leader is gone)\n",
			    (int)p->group[i]);
}

/* Wait for everything in p until the deadline; report what is left. */
static int
ctl_down_wait(const struct ctl_mesh *m, const struct ctl_down_pids *p,
    int64_t deadline, unsigned secs)
{
	int64_t left = deadline - ctl_proc_now_ms();

	if (ctl_proc_wait_gone(p->pid, p->n, p->group, p->ngroups,
	    left > 0 ? (int)left : 0) != 0) {
		ctl_down_report_left(m, p, secs);
		return CTL_FAIL;
	}
	return CTL_OK;
}

/* meshd answers: the normal path. */
static int
ctl_down_running(const struct ctl_mesh *m, int fd, pid_t meshd,
    struct ctl_down_pids *p, unsigned secs)
{
	int64_t deadline = ctl_proc_now_ms() + (int64_t)secs * 1000;
	int rc;

	ctl_down_collect(m, meshd, p);
	rc = ctl_conn_command(fd, "down", (int)secs * 1000, ctl_conn_print, stdout);
	/* meshd may exit before or after sending IPC_DONE: both are fine;
	 * the wait below is what decides. */
	if (rc == -1 && errno != ECONNRESET && errno != ETIMEDOUT)
		return CTL_FAIL;
	if (rc > 0)
		ctl_errx("meshd of mesh '%s' reported status %d for 'down'", m->name, rc);
	if (ctl_down_wait(m, p, deadline, secs) != CTL_OK)
		return CTL_FAIL;
	printf("mesh '%s' stopped\n", m->name);
	return rc > 0 ? CTL_FAIL : CTL_OK;
}

/* The socket does not answer: a meshd still starting or stuck, and/or
 * what a dead meshd left behind. */
static int
ctl_down_stray(const struct ctl_mesh *m, pid_t meshd, struct ctl_down_pids *p,
    unsigned secs)
{
	int64_t deadline = ctl_proc_now_ms() + (int64_t)secs * 1000;
	int n;

	if (meshd > 0) {
		ctl_errx("meshd (pid %d) of mesh '%s' does not answer on %s; "
		    "sending it SIGTERM", (int)meshd, m->name, m->sock_path);
		ctl_down_collect(m, meshd, p);
		if (kill(meshd, SIGTERM) == -1 && errno != ESRCH) {
			ctl_err("kill %d", (int)meshd);
			return CTL_FAIL;
		}
		if (ctl_down_wait(m, p, deadline, secs) != CTL_OK)
			return CTL_FAIL;
	}
	if ((n = state_reap(m->state_dir)) == -1) {
		if (errno == EBUSY)
			ctl_errx("mesh '%s': a new meshd (pid %d) holds %s; try again",
			    m->name, (int)state_meshd_pid(m->state_dir), m->pid_path);
		else
			ctl_err("mesh '%s': stopping leftovers in %s/run/pids",
			    m->name, m->state_dir);
		return CTL_FAIL;
	}
	if (meshd > 0 || n > 0) {
		printf("mesh '%s' stopped", m->name);
		if (n > 0)
			printf(" (%d process%s left by a meshd that is gone)", n,
			    n == 1 ? "" : "es");
		printf("\n");
		return CTL_OK;
	}
	return ctl_mesh_not_running(m);
}

int
ctl_down(const struct ctl_opts *o)
{
	struct ctl_mesh m;
	struct ctl_down_pids *p;
	unsigned secs = o->timeout_s != 0 ? o->timeout_s : CTL_DOWN_TIMEOUT_S;
	pid_t meshd;
	int fd, rc;

	if ((rc = ctl_mesh_open(o->file, 1, &m)) != CTL_OK)
		return rc;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		ctl_err("down");
		ctl_mesh_close(&m);
		return CTL_FAIL;
	}
	meshd = state_meshd_pid(m.state_dir);
	rc = ctl_conn_open(&m, &fd);
	if (rc == CTL_OK) {
		rc = ctl_down_running(&m, fd, meshd, p, secs);
		close(fd);
	} else if (rc == CTL_NOT_RUNNING)
		rc = ctl_down_stray(&m, meshd, p, secs);
	free(p);
	ctl_mesh_close(&m);
	return rc;
}
