/* SPDX-License-Identifier: ISC */
/*
 * spawn: start one child the way meshd runs every child: its own process
 * group (so a stop reaches everything it forked), stdin /dev/null,
 * stdout and stderr on pipes meshd reads, default signal dispositions,
 * no descriptor of meshd's but those.
 */
#ifndef MESH_SPAWN_H
#define MESH_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "mesh/registry.h"

/*
 * fork + execve(argv[0]).  dir: chdir there first (NULL: stay).  Returns
 * the pid with *out_fd and *err_fd set (read ends, O_CLOEXEC); err is ""
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
