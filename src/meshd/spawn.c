/* SPDX-License-Identifier: ISC */
/*
 * spawn: fork/exec of meshd's children (see include/mesh/spawn.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/appenv.h"
#include "mesh/spawn.h"
#include "mesh/state.h"

static const char *spawn_logs;   /* state_dir: log files; NULL: pipes */

void
spawn_log_dir(const char *state_dir)
{
	spawn_logs = state_dir;
}

/*
 * A fresh log file under a temporary name: fd[1] (O_APPEND) for the
 * child, fd[0] for meshd (its own offset; read-write, as punching holes
 * needs).  Renamed to <pid>.<stream> once the pid is known.
 */
static int
spawn_log_open(int fd[2], char *tmp, size_t size)
{
	if ((size_t)snprintf(tmp, size, "%s/run/logs/.new.XXXXXX", spawn_logs) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd[1] = mkostemp(tmp, O_APPEND | O_CLOEXEC)) == -1)
		return -1;
	if ((fd[0] = open(tmp, O_RDWR | O_CLOEXEC)) == -1) {
		int e = errno;

		close(fd[1]);
		fd[1] = -1;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

/* The child's stdout and stderr: log files, or pipes without spawn_log_dir(). */
static int
spawn_outputs(int out[2], int er[2], char *tout, char *terr, size_t size)
{
	if (spawn_logs == NULL)
		return pipe2(out, O_CLOEXEC) == -1 || pipe2(er, O_CLOEXEC) == -1 ? -1 : 0;
	if (spawn_log_open(out, tout, size) == -1)
		return -1;
	if (spawn_log_open(er, terr, size) == -1) {
		unlink(tout);
		tout[0] = '\0';
		return -1;
	}
	return 0;
}

static void
spawn_log_name(const char *tmp, pid_t pid, const char *stream)
{
	char path[PATH_MAX];

	if (tmp[0] == '\0')
		return;
	if (pid <= 0 || state_log_path(path, sizeof(path), spawn_logs, pid, stream) == -1 ||
	    rename(tmp, path) == -1)
		unlink(tmp);   /* meshd still reads it through its descriptor */
}

/* In the child, after fork: only async-signal-safe calls. */
static void
spawn_child(char *const argv[], char *const envp[], const char *dir,
    int out, int errfd, int report)
{
	sigset_t all;
	int sig, devnull, e;

	setpgid(0, 0);
	/* meshd ignores SIGPIPE; an ignored signal survives exec */
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if ((devnull = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(devnull, 0) == -1 || dup2(out, 1) == -1 || dup2(errfd, 2) == -1)
		goto fail;
	if (dir != NULL && chdir(dir) == -1)
		goto fail;
	execve(argv[0], argv, envp);
fail:
	e = errno;
	if (write(report, &e, sizeof(e)) == -1)
		_exit(127);
	_exit(127);
}

pid_t
spawn(char *const argv[], char *const envp[], const char *dir,
    int *out_fd, int *err_fd, char *err, size_t errlen)
{
	int out[2] = { -1, -1 }, er[2] = { -1, -1 }, rep[2] = { -1, -1 };
	char tout[PATH_MAX] = "", terr[PATH_MAX] = "";
	int e = 0;
	ssize_t n;
	pid_t pid = -1;

	err[0] = '\0';
	if (spawn_outputs(out, er, tout, terr, sizeof(tout)) == -1) {
		snprintf(err, errlen, "%s: %s", spawn_logs != NULL ? "log file" : "pipe",
		    strerror(errno));
		goto fail;
	}
	if (pipe2(rep, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		spawn_child(argv, envp, dir, out[1], er[1], rep[1]);
	/* the child and we both set the group: no window where a stop misses it */
	setpgid(pid, pid);
	spawn_log_name(tout, pid, "out");
	spawn_log_name(terr, pid, "err");
	close(out[1]);
	close(er[1]);
	close(rep[1]);
	/* EOF when exec succeeded (CLOEXEC); errno of the failure otherwise */
	do
		n = read(rep[0], &e, sizeof(e));
	while (n == -1 && errno == EINTR);
	close(rep[0]);
	*out_fd = out[0];
	*err_fd = er[0];
	if (n == (ssize_t)sizeof(e)) {
		if (dir != NULL && e == ENOENT && access(dir, X_OK) == -1)
			snprintf(err, errlen, "cannot enter %s: %s", dir, strerror(e));
		else
			snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(e));
	}
	return pid;
fail:
	spawn_log_name(tout, -1, "out");
	spawn_log_name(terr, -1, "err");
	close(out[0]); close(out[1]);
	close(er[0]); close(er[1]);
	close(rep[0]); close(rep[1]);
	return -1;
}

char *
spawn_shell_command(const char *cmd)
{
	static const char *reserved[] = { "if", "then", "else", "elif", "fi", "case",
	    "esac", "for", "while", "until", "do", "done", "{", "}", "!", "[[",
	    "function", "select", "time", "exec", NULL };
	const char *w = cmd;
	size_t wl, i;
	char *out;

	while (*w == ' ' || *w == '\t')
		w++;
	wl = strcspn(w, " \t");
	/* one simple command: no lists, pipes, subshells, substitutions,
	 * reserved words or leading assignments */
	if (wl == 0 || memchr(w, '=', wl) != NULL)
		return strdup(cmd);
	for (i = 0; cmd[i] != '\0'; i++) {
		/* `&` of a redirection (2>&1, <&3) is no list operator */
		if (strchr(";|`()\n", cmd[i]) != NULL ||
		    (cmd[i] == '&' && (i == 0 || (cmd[i - 1] != '>' && cmd[i - 1] != '<'))))
			return strdup(cmd);
	}
	for (i = 0; reserved[i] != NULL; i++)
		if (strlen(reserved[i]) == wl && strncmp(w, reserved[i], wl) == 0)
			return strdup(cmd);
	if (asprintf(&out, "exec %s", w) == -1)
		return NULL;
	return out;
}

void
spawn_env_free(char **env)
{
	appenv_free(env);
}

char **
spawn_env_proxy(void)
{
	return appenv_inherit();
}

char **
spawn_env_app(const struct reg_instance *ri)
{
	const struct conf_service *sv = ri->svc;
	struct appenv_listener *ls;
	struct appenv_spec s;
	char **env;
	size_t i;

	if ((ls = calloc(sv->nupstreams + 1, sizeof(*ls))) == NULL)
		return NULL;
	for (i = 0; i < sv->nupstreams; i++) {
		ls[i].upstream = sv->upstreams[i].name;
		ls[i].port = ri->listen_ports[i];
	}
	memset(&s, 0, sizeof(s));
	s.service = sv->name;
	s.version = sv->version;
	s.index = ri->index;
	s.app_port = ri->app_port;
	s.outbound_port = ri->outbound_port;
	s.listeners = ls;
	s.nlisteners = sv->nupstreams;
	s.env = sv->env;
	s.nenv = sv->nenv;
	env = appenv_build(&s);
	free(ls);
	return env;
}
