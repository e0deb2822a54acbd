/* SPDX-License-Identifier: ISC */
/*
 * appenv: the environment of a process that calls out through a sidecar
 * (docs/architecture.md, "What an app sees").  meshd builds it for each
 * app it starts (spawn.h); `meshctl run` builds the same for the command
 * it runs as a caller, from the ports meshd reports.  One builder, so the
 * two cannot drift.
 *
 * The base is the caller's own environment (environ) less systemd's
 * per-service variables (NOTIFY_SOCKET, WATCHDOG_*, LISTEN_*): a child
 * that saw NOTIFY_SOCKET could send READY=1 for the unit.
 */
#ifndef MESH_APPENV_H
#define MESH_APPENV_H

#include <stddef.h>
#include <stdint.h>

#include "mesh/config.h"

#define APPENV_NO_PROXY "localhost,127.0.0.1,::1"

/* One NAME:PORT listener of the instance's sidecar. */
struct appenv_listener {
	const char *upstream;       /* the upstream's name, as in mesh.ini */
	uint16_t    port;           /* 0: none (skipped) */
};

struct appenv_spec {
	const char                   *service;   /* MESH_SERVICE */
	const char                   *version;   /* MESH_VERSION */
	unsigned                      index;     /* MESH_INSTANCE */
	uint16_t                      app_port;  /* PORT; 0: not set */
	uint16_t                      outbound_port;  /* http_proxy, HTTP_PROXY */
	const struct appenv_listener *listeners; /* MESH_UPSTREAM_<NAME> */
	size_t                        nlisteners;
	const struct conf_env        *env;       /* env.* keys: set last, they win */
	size_t                        nenv;
};

/*
 * environ less the systemd variables, then PORT (when app_port),
 * MESH_SERVICE, MESH_VERSION, MESH_INSTANCE, http_proxy and HTTP_PROXY =
 * http://127.0.0.1:<outbound_port>, no_proxy and NO_PROXY =
 * APPENV_NO_PROXY, MESH_UPSTREAM_<NAME>=127.0.0.1:<port> per listener
 * (NAME upper-cased, '-' -> '_'), then env[].  A key set twice keeps
 * its last value, in its first place.  NULL-terminated, malloc'd (free
 * with appenv_free()); NULL when out of memory.
 */
char **appenv_build(const struct appenv_spec *s);
/* environ less the systemd variables only (a sidecar's).  NULL: ENOMEM. */
char **appenv_inherit(void);
/* "MESH_UPSTREAM_<NAME>" for upstream name into buf.  0 / -1 (too long). */
int    appenv_upstream_key(const char *name, char *buf, size_t size);
void   appenv_free(char **env);

#endif
