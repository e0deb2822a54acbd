/* SPDX-License-Identifier: ISC */
/*
 * state: the meshd lock, pid files and log files of children, and run/spec
 * (see include/mesh/state.h).  What a dead meshd left is state_left.c's.
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

/* run/pids and run/logs are read with readdir(): on a 32-bit target built
 * without 64-bit offsets it fails (EOVERFLOW) on entries with a 64-bit
 * d_off or d_ino, and leftovers would go unseen.  The Makefile sets
 * _FILE_OFFSET_BITS=64; a build that drops it must not compile. */
_Static_assert(sizeof(off_t) == 8, "build with -D_FILE_OFFSET_BITS=64");

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

int
state_file_write(const char *state_dir, const char *name, const char *text, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	size_t off = 0;
	ssize_t n;
	int fd, saved;

	if (snprintf(path, sizeof(path), "%s/%s", state_dir, name) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", state_dir, name) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1)
		return -1;
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
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
	if (state_path(p, sizeof(p), state_dir, "run/logs") == -1 || state_mkdir(p) == -1)
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
	char path[PATH_MAX], log[PATH_MAX];
	FILE *f;
	int pid;

	if (state_pid_path(path, sizeof(path), state_dir, id, kind) == -1)
		return;
	if ((f = fopen(path, "re")) != NULL) {
		if (fscanf(f, "%d", &pid) == 1 && pid > 1) {
			if (state_log_path(log, sizeof(log), state_dir, pid, "out") == 0)
				unlink(log);
			if (state_log_path(log, sizeof(log), state_dir, pid, "err") == 0)
				unlink(log);
		}
		fclose(f);
	}
	unlink(path);
}

int
state_log_path(char *buf, size_t size, const char *state_dir, pid_t pid,
    const char *stream)
{
	int n = snprintf(buf, size, "%s/run/logs/%d.%s", state_dir, (int)pid, stream);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

void
state_logs_prune(const char *state_dir, const pid_t *keep, size_t n)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *de;
	size_t i;
	DIR *d;

	if (state_path(dir, sizeof(dir), state_dir, "run/logs") == -1 ||
	    (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		long pid = strtol(de->d_name, NULL, 10);

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		for (i = 0; i < n && keep[i] != (pid_t)pid; i++)
			;
		if (i < n && pid > 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

int
state_spec_write(const char *state_dir, const struct state_spec *s, size_t n)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	size_t i, k;
	FILE *f;

	if (state_path(path, sizeof(path), state_dir, "run/spec") == -1)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "we")) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		fprintf(f, "%s %016llx %016llx ", s[i].id, (unsigned long long)s[i].proxy_fp,
		    (unsigned long long)s[i].app_fp);
		for (k = 0; k < s[i].nports; k++)
			fprintf(f, "%s%u", k ? "," : "", s[i].ports[k]);
		fprintf(f, "%s\n", s[i].nports == 0 ? "-" : "");
	}
	if (fclose(f) != 0 || rename(tmp, path) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* "<id> <proxy-fp> <app-fp> <ports>" into s; 0 / -1. */
static int
state_spec_parse(char *line, struct state_spec *s)
{
	char id[STATE_ID_MAX], ports[1024], *p, *end;
	unsigned long long pf, af;

	_Static_assert(STATE_ID_MAX == 128, "the widths below fit the buffers");
	if (sscanf(line, "%127s %llx %llx %1023s", id, &pf, &af, ports) != 4)
		return -1;
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->proxy_fp = pf;
	s->app_fp = af;
	if (strcmp(ports, "-") == 0)
		return 0;
	for (p = ports; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		unsigned long v = strtoul(p, &end, 10);

		if (end == p || v == 0 || v > 65535 || s->nports == STATE_SPEC_PORTS ||
		    (*end != ',' && *end != '\0'))
			return -1;
		s->ports[s->nports++] = (uint16_t)v;
	}
	return 0;
}

int
state_spec_read(const char *state_dir, struct state_spec **out, size_t *n)
{
	char path[PATH_MAX], line[2048];
	struct state_spec *v = NULL, *nv;
	size_t cap = 0;
	FILE *f;

	*out = NULL;
	*n = 0;
	if (state_path(path, sizeof(path), state_dir, "run/spec") == -1 ||
	    (f = fopen(path, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				free(v);
				fclose(f);
				*n = 0;
				return -1;
			}
			v = nv;
		}
		if (state_spec_parse(line, &v[*n]) == 0)
			(*n)++;
	}
	fclose(f);
	*out = v;
	return 0;
}

