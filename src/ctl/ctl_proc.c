/* SPDX-License-Identifier: ISC */
/*
 * ctl_proc: pid files and waiting for processes to be gone.
 *
 * "Gone" means no longer running: a zombie whose parent has not reaped it
 * yet has stopped all it will ever do, so it counts as gone.
 */
#include <dirent.h>
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
ctl_proc_group_alive(pid_t pgid)
{
	char stat[512], *p;
	struct dirent *de;
	DIR *d;
	int found = 0;

	if (pgid <= 1)
		return 0;
	/* Cheap answer first: no member at all, zombies included. */
	if (kill(-pgid, 0) == -1 && errno == ESRCH)
		return 0;
	if ((d = opendir("/proc")) == NULL)
		return 1;
	while (!found && (de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		long grp;

		if (*end != '\0' || pid <= 0)
			continue;
		if (ctl_proc_read((pid_t)pid, "stat", stat, sizeof(stat)) == -1)
			continue;
		/* "pid (comm) S ppid pgrp ...", after the last ')'. */
		if ((p = strrchr(stat, ')')) == NULL || p[1] != ' ')
			continue;
		if (p[2] == 'Z' || p[2] == 'X')
			continue;
		if (sscanf(p + 4, "%*d %ld", &grp) == 1 && grp == (long)pgid)
			found = 1;
	}
	closedir(d);
	return found;
}

size_t
ctl_proc_wait_gone(const pid_t *pids, size_t n, const pid_t *groups,
    size_t ngroups, int timeout_ms)
{
	int64_t deadline = ctl_proc_now_ms() + timeout_ms;
	size_t i, alive;

	for (;;) {
		for (alive = 0, i = 0; i < n; i++)
			alive += ctl_proc_alive(pids[i]);
		for (i = 0; i < ngroups; i++)
			alive += ctl_proc_group_alive(groups[i]);
		if (alive == 0 || ctl_proc_now_ms() >= deadline)
			return alive;
		usleep(50 * 1000);
	}
}
