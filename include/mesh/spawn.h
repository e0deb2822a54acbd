/* SPDX-License-Identifier: ISC */
/*
 * spawn: start one child the way meshd runs every child: its own process
 * group (so a stop reaches everything it forked), stdin /dev/null,
 * stdout and stderr on files meshd follows (spawn_log_dir(); pipes
 * without it), default signal dispositions, no descriptor of meshd's but
 * those.
 *
 * Why files: a child must outlive meshd (a SIGKILLed meshd is replaced by
 * one that adopts its children, adopt.h).  A pipe whose reader died
 * kills the next write with SIGPIPE (or fails it with EPIPE), and one
 * nobody reads blocks its writer once full.  A file appended to does
 * neither; meshd reads it as it grows and punches out what it has read
 * (outlog.h), so it stays small while meshd runs.
 */
#ifndef MESH_SPAWN_H
#define MESH_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "mesh/registry.h"

/*
 * Children's stdout and stderr go to <state_dir>/run/logs/<pid>.out and
 * .err (state.h), created 0600 and opened O_APPEND for the child; NULL:
 * pipes (unit tests).  The string is kept, not copied.
 */
void  spawn_log_dir(const char *state_dir);

/*
 * fork + execve(argv[0]).  dir: chdir there first (NULL: stay).  Returns
 * the pid with *out_fd and *err_fd set (meshd's ends, O_CLOEXEC: read
 * ends of pipes, or the log files opened read-write, at offset 0, for
 * outlog_pipe_open()); err is ""
 * or, when the chdir or the exec failed, says why (that child exits 127
 * and is reaped like any other).  -1 with a message in err when no child
 * could be made (pipe, fork).
 */
pid_t spawn(char *const argv[], char *const envp[], const char *dir,
            int *out_fd, int *err_fd, char *err, size_t errlen);

/*
 * What meshd passes to `/bin/sh -c` for a service's command: "exec
 * COMMAND" when COMMAND is one simple command (no ; & | ` ( ) or newline,
 * no reserved word or assignment first), so the app itself is the
 * process meshd watches (its pid, exit status and signals), whatever the
 * shell; the command unchanged otherwise.  malloc'd; NULL out of memory.
 */
char *spawn_shell_command(const char *cmd);

/*
 * The environment of an app (docs/architecture.md, "What an app sees";
 * mesh.ini(5), command): meshd's own, then PORT, MESH_SERVICE,
 * MESH_VERSION, MESH_INSTANCE, http_proxy, HTTP_PROXY, no_proxy, NO_PROXY,
 * MESH_UPSTREAM_<NAME> for each NAME:PORT upstream (NAME upper-cased,
 * '-' -> '_'), then the service's env.* keys, which win.
 * NULL-terminated, malloc'd; free with spawn_env_free().
 */
char **spawn_env_app(const struct reg_instance *ri);
/* A sidecar's environment: meshd's own, less systemd's per-service
 * variables (NOTIFY_SOCKET, WATCHDOG_*, LISTEN_*).  NULL: out of memory. */
char **spawn_env_proxy(void);
void   spawn_env_free(char **env);

#endif
