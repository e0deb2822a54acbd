/* SPDX-License-Identifier: ISC */
/*
 * state: the meshd lock, pid files of children, and reaping what a
 * SIGKILLed meshd left behind (see include/mesh/state.h).
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mesh/log.h"
#include "mesh/state.h"

#define STATE_REAP_MAX 512   /* pid files looked at in one reap */

static int
state_path(char *buf, size_t size, const char *state_dir, const char *rest)
{
	int n = snprintf(buf, size, "%s/%s", state_dir, rest);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
state_mkdir(const char *path)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

int
state_mkdirs(const char *state_dir)
{
	char p[PATH_MAX], *s;

	if (state_path(p, sizeof(p), state_dir, "") == -1)
		return -1;
	/* parents of state_dir as well: state_dir = .mesh/a/b is allowed */
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (state_mkdir(p) == -1)
			return -1;
		*s = '/';
	}
	if (state_path(p, sizeof(p), state_dir, "run") == -1 || state_mkdir(p) == -1)
		return -1;
	if (state_path(p, sizeof(p), state_dir, "run/pids") == -1 || state_mkdir(p) == -1)
		return -1;
	return 0;
}

static pid_t
state_read_pid(int fd)
{
	char buf[32];
	ssize_t n;
	long v;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	v = strtol(buf, NULL, 10);
	return v > 1 && v < INT_MAX ? (pid_t)v : 0;
}

int
state_lock(const char *state_dir, const char *mesh_name, int *fd,
    char *err, size_t errlen)
{
	char path[PATH_MAX], buf[32];
	int f, n;

	if (state_path(path, sizeof(path), state_dir, "run/meshd.pid") == -1 ||
	    (f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%s/run/meshd.pid: %s", state_dir, strerror(errno));
		return -1;
	}
	if (flock(f, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			/* The holder writes its pid right after locking: give it a moment. */
			pid_t pid = 0;
			int i;

			for (i = 0; i < 20 && (pid = state_read_pid(f)) == 0; i++)
				usleep(10000);
			snprintf(err, errlen, "mesh '%s' already running (meshd pid %d)",
			    mesh_name, (int)pid);
		} else
			snprintf(err, errlen, "%s: flock: %s", path, strerror(errno));
		close(f);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(f, 0) == -1 || pwrite(f, buf, (size_t)n, 0) != n) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(f);
		return -1;
	}
	*fd = f;
	return 0;
}

void
state_unlock(const char *state_dir, int fd)
{
	char path[PATH_MAX];

	if (fd == -1)
		return;
	/* Unlink while still holding the lock, so nobody reads a stale pid. */
	if (state_path(path, sizeof(path), state_dir, "run/meshd.pid") == 0)
		unlink(path);
	close(fd);
}

pid_t
state_meshd_pid(const char *state_dir)
{
	char path[PATH_MAX];
	pid_t pid = 0;
	int f;

	if (state_path(path, sizeof(path), state_dir, "run/meshd.pid") == -1 ||
	    (f = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (flock(f, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK)
		pid = state_read_pid(f);
	close(f);
	return pid;
}

unsigned long long
state_proc_starttime(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long st = 0;
	int f, field;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm (field 2) may hold spaces and parens: fields resume after the last ')' */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return 0;
	p += 2;
	if (*p == 'Z' || *p == 'X')
		return 0;
	for (field = 3; field < 22 && p != NULL; field++) {
		p = strchr(p, ' ');
		if (p != NULL)
			p++;
	}
	if (p == NULL)
		return 0;
	st = strtoull(p, NULL, 10);
	return st;
}

static int
state_pid_path(char *buf, size_t size, const char *state_dir, const char *id,
    const char *kind)
{
	int n = snprintf(buf, size, "%s/run/pids/%s.%s", state_dir, id, kind);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
state_pid_write(const char *state_dir, const char *id, const char *kind,
    pid_t pid, const char *name)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;
	int rc;

	if (state_pid_path(path, sizeof(path), state_dir, id, kind) == -1)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "we")) == NULL)
		return -1;
	/* The child may not have exec'd yet, but its start time is already fixed. */
	fprintf(f, "%d %d %llu %s\n", (int)pid, (int)pid, state_proc_starttime(pid), name);
	rc = fclose(f);
	if (rc != 0 || rename(tmp, path) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

void
state_pid_remove(const char *state_dir, const char *id, const char *kind)
{
	char path[PATH_MAX];

	if (state_pid_path(path, sizeof(path), state_dir, id, kind) == 0)
		unlink(path);
}

static long long
state_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct state_left {
	pid_t              pid, pgid;
	unsigned long long start;
	char               name[80];
};

/* Is the group still there with its leader as recorded? */
static int
state_left_alive(const struct state_left *l)
{
	if (state_proc_starttime(l->pid) == l->start)
		return 1;
	/* leader gone: the group lives on while it has members */
	return kill(-l->pgid, 0) == 0;
}

/* Stop one batch of leftovers: SIGTERM all, wait, SIGKILL the rest. */
static int
state_stop(struct state_left *l, size_t n)
{
	long long deadline;
	size_t i, alive;
	int stopped = 0;

	for (i = 0; i < n; i++) {
		if (state_proc_starttime(l[i].pid) != l[i].start) {
			l[i].pid = 0;   /* gone, or a recycled pid: not ours */
			continue;
		}
		log_info("replacing leftover %s (pid %d) of a previous meshd",
		    l[i].name, (int)l[i].pid);
		kill(-l[i].pgid, SIGTERM);
		stopped++;
	}
	deadline = state_now_ms() + STATE_STOP_WAIT_MS;
	do {
		for (alive = 0, i = 0; i < n; i++)
			if (l[i].pid != 0 && state_left_alive(&l[i]))
				alive++;
		if (alive == 0)
			return stopped;
		usleep(20000);
	} while (state_now_ms() < deadline);
	for (i = 0; i < n; i++)
		if (l[i].pid != 0 && state_left_alive(&l[i])) {
			log_warnx("leftover %s (pid %d) ignored SIGTERM for %d ms: SIGKILL",
			    l[i].name, (int)l[i].pid, STATE_STOP_WAIT_MS);
			kill(-l[i].pgid, SIGKILL);
		}
	deadline = state_now_ms() + 1000;
	while (state_now_ms() < deadline) {
		for (alive = 0, i = 0; i < n; i++)
			if (l[i].pid != 0 && state_left_alive(&l[i]))
				alive++;
		if (alive == 0)
			break;
		usleep(20000);
	}
	return stopped;
}

/* Read every pid file of one kind into l (at most max), removing the files. */
static size_t
state_collect(const char *state_dir, const char *kind, struct state_left *l, size_t max)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *de;
	size_t n = 0, klen = strlen(kind);
	DIR *d;

	if (state_path(dir, sizeof(dir), state_dir, "run/pids") == -1 ||
	    (d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);
		int pid, pgid;
		unsigned long long st;
		FILE *f;

		if (nl <= klen + 1 || de->d_name[nl - klen - 1] != '.' ||
		    strcmp(de->d_name + nl - klen, kind) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((f = fopen(path, "re")) != NULL) {
			char name[80] = "?";

			if (fscanf(f, "%d %d %llu %79s", &pid, &pgid, &st, name) >= 3 &&
			    pid > 1 && pgid > 1 && st != 0 && n < max) {
				l[n].pid = pid;
				l[n].pgid = pgid;
				l[n].start = st;
				snprintf(l[n].name, sizeof(l[n].name), "%s", name);
				n++;
			}
			fclose(f);
		}
		unlink(path);
	}
	closedir(d);
	return n;
}

int
state_reap_locked(const char *state_dir)
{
	static const char *kinds[] = { STATE_KIND_APP, STATE_KIND_PROXY };
	struct state_left *l;
	size_t i, n;
	int stopped = 0;

	if ((l = calloc(STATE_REAP_MAX, sizeof(*l))) == NULL)
		return -1;
	/* apps before their sidecars, as in a normal stop */
	for (i = 0; i < 2; i++) {
		n = state_collect(state_dir, kinds[i], l, STATE_REAP_MAX);
		if (n > 0)
			stopped += state_stop(l, n);
	}
	free(l);
	return stopped;
}

int
state_reap(const char *state_dir)
{
	char path[PATH_MAX];
	int f, rc;

	if (state_path(path, sizeof(path), state_dir, "run/meshd.pid") == -1)
		return -1;
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
