/* SPDX-License-Identifier: ISC */
/*
 * ctl_meshd: finding and running the supervisor.
 *
 * Installed, meshctl is in bin/ and meshd in sbin/; in the build tree both
 * are in build/bin/.  So look next to our own executable, then ../sbin,
 * then PATH; $MESH_MESHD overrides all of it (tests, packaging).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mesh/ctl.h"

const char *
ctl_meshd_path(char *buf, size_t size)
{
	const char *env = getenv("MESH_MESHD");
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (env != NULL && env[0] != '\0') {
		snprintf(buf, size, "%s", env);
		return buf;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if ((size_t)snprintf(buf, size, "%s/meshd", self) < size &&
			    access(buf, X_OK) == 0)
				return buf;
			if ((size_t)snprintf(buf, size, "%s/../sbin/meshd", self) < size &&
			    access(buf, X_OK) == 0)
				return buf;
		}
	}
	snprintf(buf, size, "meshd");
	return buf;
}

/* meshctl ignores SIGPIPE for its socket; meshd and its children must
 * start with the default disposition, since exec keeps "ignored". */
static void
ctl_meshd_run(const char *path, const char *file, int detach)
{
	char *argv[] = { (char *)"meshd", (char *)"-f", (char *)file,
	                 detach ? (char *)"-d" : NULL, NULL };

	signal(SIGPIPE, SIG_DFL);
	/* A bare name is looked up in PATH; a path is used as is. */
	execvp(path, argv);
}

int
ctl_meshd_exec(const char *file)
{
	char path[PATH_MAX];

	ctl_meshd_path(path, sizeof(path));
	fflush(NULL);
	ctl_meshd_run(path, file, 0);
	ctl_err("cannot run %s", path);
	if (strchr(path, '/') == NULL)
		ctl_errx("set MESH_MESHD to meshd's path, or put it in PATH");
	return CTL_FAIL;
}

int
ctl_meshd_detach(const char *file)
{
	char path[PATH_MAX];
	pid_t pid;
	int status;

	ctl_meshd_path(path, sizeof(path));
	fflush(NULL);
	if ((pid = fork()) == -1) {
		ctl_err("fork");
		return -1;
	}
	if (pid == 0) {
		ctl_meshd_run(path, file, 1);
		ctl_err("cannot run %s", path);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			ctl_err("waitpid");
			return -1;
		}
	}
	if (WIFEXITED(status)) {
		if (WEXITSTATUS(status) == 127)
			return -1;
		return WEXITSTATUS(status);
	}
	ctl_errx("%s was killed by signal %d while starting", path,
	    WTERMSIG(status));
	return -1;
}
