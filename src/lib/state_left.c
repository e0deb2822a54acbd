/* SPDX-License-Identifier: ISC */
/*
 * state_left: what a meshd that is gone left in run/pids: reading it,
 * and stopping it (see include/mesh/state.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "mesh/log.h"
#include "mesh/state.h"

#define STATE_LEFT_MAX 512   /* pid files looked at in one go */

static long long
state_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
state_left_running(const struct state_left *l)
{
	return l->pid > 1 && state_proc_starttime(l->pid) == l->start;
}

/* Is the group still there with its leader as recorded? */
static int
state_left_alive(const struct state_left *l)
{
	if (state_left_running(l))
		return 1;
	/* leader gone: the group lives on while it has members */
	return kill(-l->pgid, 0) == 0;
}

static size_t
state_left_count(const struct state_left *const *l, size_t n)
{
	size_t i, alive = 0;

	for (i = 0; i < n; i++)
		if (l[i]->pid != 0 && state_left_alive(l[i]))
			alive++;
	return alive;
}

/* Wait until none of l is alive or the deadline passes; 0 when none is. */
static size_t
state_left_wait(const struct state_left *const *l, size_t n, long long ms)
{
	long long deadline = state_now_ms() + ms;
	size_t alive;

	while ((alive = state_left_count(l, n)) > 0 && state_now_ms() < deadline)
		usleep(20000);
	return alive;
}

/* Stop one batch of leftovers: SIGTERM all, wait, SIGKILL the rest.
 * Entries not running as recorded get pid 0. */
static int
state_left_batch(struct state_left **l, size_t n)
{
	size_t i;
	int stopped = 0;

	for (i = 0; i < n; i++) {
		if (!state_left_running(l[i])) {
			l[i]->pid = 0;   /* gone, or a recycled pid: not ours */
			continue;
		}
		log_info("stopping leftover %s (pid %d) of a previous meshd",
		    l[i]->name, (int)l[i]->pid);
		kill(-l[i]->pgid, SIGTERM);
		stopped++;
	}
	if (state_left_wait((const struct state_left *const *)l, n, STATE_STOP_WAIT_MS) == 0)
		return stopped;
	for (i = 0; i < n; i++)
		if (l[i]->pid != 0 && state_left_alive(l[i])) {
			log_warnx("leftover %s (pid %d) ignored SIGTERM for %d ms: SIGKILL",
			    l[i]->name, (int)l[i]->pid, STATE_STOP_WAIT_MS);
			kill(-l[i]->pgid, SIGKILL);
		}
	state_left_wait((const struct state_left *const *)l, n, 1000);
	return stopped;
}

int
state_left_stop(const char *state_dir, struct state_left *l, size_t n)
{
	static const char *kinds[] = { STATE_KIND_APP, STATE_KIND_PROXY };
	struct state_left **batch;
	size_t i, k, nb;
	int stopped = 0;

	if (n == 0)
		return 0;
	if ((batch = calloc(n, sizeof(*batch))) == NULL)
		return -1;
	/* apps before their sidecars, as in a normal stop */
	for (k = 0; k < 2; k++) {
		for (nb = 0, i = 0; i < n; i++)
			if (strcmp(l[i].kind, kinds[k]) == 0)
				batch[nb++] = &l[i];
		if (nb > 0)
			stopped += state_left_batch(batch, nb);
	}
	free(batch);
	for (i = 0; i < n; i++)
		state_pid_remove(state_dir, l[i].id, l[i].kind);
	return stopped;
}

/* "<id>.<kind>" -> l's id and kind; -1 for any other name. */
static int
state_left_name(const char *file, struct state_left *l)
{
	const char *dot = strrchr(file, '.');
	size_t idlen;

	if (dot == NULL || dot == file)
		return -1;
	if (strcmp(dot + 1, STATE_KIND_APP) != 0 && strcmp(dot + 1, STATE_KIND_PROXY) != 0)
		return -1;
	idlen = (size_t)(dot - file);
	if (idlen >= sizeof(l->id))
		return -1;
	memcpy(l->id, file, idlen);
	l->id[idlen] = '\0';
	snprintf(l->kind, sizeof(l->kind), "%s", dot + 1);
	return 0;
}

int
state_left_read(const char *state_dir, struct state_left **out, size_t *n)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct state_left *l;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n = 0;
	if ((l = calloc(STATE_LEFT_MAX, sizeof(*l))) == NULL)
		return -1;
	*out = l;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/run/pids", state_dir) >= sizeof(dir) ||
	    (d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && *n < STATE_LEFT_MAX) {
		struct state_left *e = &l[*n];
		unsigned long long st;
		int pid, pgid;
		FILE *f;

		if (state_left_name(de->d_name, e) == -1)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		snprintf(e->name, sizeof(e->name), "?");
		if (fscanf(f, "%d %d %llu %79s", &pid, &pgid, &st, e->name) >= 3 &&
		    pid > 1 && pgid > 1 && st != 0) {
			e->pid = pid;
			e->pgid = pgid;
			e->start = st;
			(*n)++;
		} else
			unlink(path);   /* not a record anyone can use */
		fclose(f);
	}
	closedir(d);
	return 0;
}

int
state_reap_locked(const char *state_dir)
{
	struct state_left *l;
	char path[PATH_MAX];
	size_t n;
	int stopped;

	if (state_left_read(state_dir, &l, &n) == -1)
		return -1;
	stopped = state_left_stop(state_dir, l, n);
	free(l);
	state_logs_prune(state_dir, NULL, 0);
	if ((size_t)snprintf(path, sizeof(path), "%s/run/spec", state_dir) < sizeof(path))
		unlink(path);
	return stopped;
}

int
state_reap(const char *state_dir)
{
	char path[PATH_MAX];
	int f, rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/run/meshd.pid", state_dir) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f == -1)
		return errno == ENOENT ? 0 : -1;
	if (flock(f, LOCK_EX | LOCK_NB) == -1) {
		close(f);
		errno = EBUSY;
		return -1;
	}
	rc = state_reap_locked(state_dir);
	/* the file was ours only for the reap: leave no pid file behind */
	unlink(path);
	close(f);
	return rc;
}
