/*
 * ctl_proc: pid files and waiting for processes to be gone.
 *
 * "Gone" means no longer running: a zombie whose parent has not reaped it
 * yet has stopped all it will ever do, so it counts as gone.  A pid file
 * is trusted only when the pid in it runs the program it names, because
 * a stale file's pid may since have been given to another process.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mesh/ctl.h"

int64_t
ctl_proc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read a small /proc file into buf (NUL-terminated); -1 if unreadable. */
static ssize_t
ctl_proc_read(pid_t pid, const char *what, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n == -1)
		return -1;
	buf[n] = '\0';
	return n;
}

int
ctl_proc_alive(pid_t pid)
{
	char stat[512], *p;

	if (pid <= 0)
		return 0;
	if (kill(pid, 0) == -1 && errno == ESRCH)
		return 0;
	if (ctl_proc_read(pid, "stat", stat, sizeof(stat)) == -1)
		return errno != ENOENT;
	/* "pid (comm) S ...": comm may hold spaces and parens; the state
	 * follows the last ')'. */
	if ((p = strrchr(stat, ')')) == NULL || p[1] != ' ')
		return 1;
	return p[2] != 'Z' && p[2] != 'X';
}

int
ctl_proc_pidfile(const char *path, const char *comm, pid_t *pid)
{
	char buf[32], name[64], *end;
	long v;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\0' && *end != '\n') ||
	    v <= 1 || v > 0x7fffffffL)
		return 0;
	if (!ctl_proc_alive((pid_t)v))
		return 0;
	if (comm != NULL) {
		if ((n = ctl_proc_read((pid_t)v, "comm", name, sizeof(name))) <= 0)
			return 0;
		if (name[n - 1] == '\n')
			name[n - 1] = '\0';
		if (strcmp(name, comm) != 0)
			return 0;
	}
	*pid = (pid_t)v;
	return 1;
}

size_t
ctl_proc_wait_gone(const pid_t *pids, size_t n, int timeout_ms)
{
	int64_t deadline = ctl_proc_now_ms() + timeout_ms;
	size_t i, alive;

	for (;;) {
		for (alive = 0, i = 0; i < n; i++)
			alive += ctl_proc_alive(pids[i]);
		if (alive == 0 || ctl_proc_now_ms() >= deadline)
			return alive;
		usleep(50 * 1000);
	}
}
