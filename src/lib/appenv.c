/* SPDX-License-Identifier: ISC */
/*
 * appenv: the environment of a caller in the mesh, for meshd's apps and
 * `meshctl run` alike (see include/mesh/appenv.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/appenv.h"

extern char **environ;

struct appenv {
	char  **v;
	size_t  n, cap;
};

/* Set KEY=VALUE, replacing an earlier KEY. */
static int
appenv_set(struct appenv *e, const char *key, const char *val)
{
	size_t kl = strlen(key), i;
	char *kv;

	if (asprintf(&kv, "%s=%s", key, val) == -1)
		return -1;
	for (i = 0; i < e->n; i++)
		if (strncmp(e->v[i], key, kl) == 0 && e->v[i][kl] == '=') {
			free(e->v[i]);
			e->v[i] = kv;
			return 0;
		}
	if (e->n + 2 > e->cap) {
		size_t nc = e->cap ? e->cap * 2 : 64;
		char **nv = realloc(e->v, nc * sizeof(*nv));

		if (nv == NULL) {
			free(kv);
			return -1;
		}
		e->v = nv;
		e->cap = nc;
	}
	e->v[e->n++] = kv;
	e->v[e->n] = NULL;
	return 0;
}

void
appenv_free(char **env)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/*
 * systemd's per-service variables belong to the process the unit runs: a
 * child that saw NOTIFY_SOCKET could send READY=1 for the unit, and one
 * that saw WATCHDOG_PID would be told to ping for it.
 */
static int
appenv_private(const char *name)
{
	static const char *const names[] = { "NOTIFY_SOCKET", "WATCHDOG_USEC",
	    "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* environ less appenv_private(), into e. */
static int
appenv_environ(struct appenv *e)
{
	size_t i;

	for (i = 0; environ != NULL && environ[i] != NULL; i++) {
		const char *eq = strchr(environ[i], '=');
		char name[256];

		if (eq == NULL || (size_t)(eq - environ[i]) >= sizeof(name))
			continue;
		memcpy(name, environ[i], (size_t)(eq - environ[i]));
		name[eq - environ[i]] = '\0';
		if (appenv_private(name))
			continue;
		if (appenv_set(e, name, eq + 1) == -1)
			return -1;
	}
	return 0;
}

char **
appenv_inherit(void)
{
	struct appenv e = { NULL, 0, 0 };

	if (appenv_environ(&e) == -1) {
		appenv_free(e.v);
		return NULL;
	}
	if (e.v == NULL)	/* an empty environment is still a vector */
		return calloc(1, sizeof(char *));
	return e.v;
}

int
appenv_upstream_key(const char *name, char *buf, size_t size)
{
	size_t k;

	if ((size_t)snprintf(buf, size, "MESH_UPSTREAM_%s", name) >= size)
		return -1;
	for (k = strlen("MESH_UPSTREAM_"); buf[k] != '\0'; k++)
		buf[k] = buf[k] == '-' ? '_' : (char)toupper((unsigned char)buf[k]);
	return 0;
}

char **
appenv_build(const struct appenv_spec *s)
{
	struct appenv e = { NULL, 0, 0 };
	char val[64], key[CONF_NAME_MAX + 16];
	size_t i;

	if (appenv_environ(&e) == -1)
		goto fail;
	if (s->app_port != 0) {
		snprintf(val, sizeof(val), "%u", s->app_port);
		if (appenv_set(&e, "PORT", val) == -1)
			goto fail;
	}
	snprintf(val, sizeof(val), "%u", s->index);
	if (appenv_set(&e, "MESH_SERVICE", s->service) == -1 ||
	    appenv_set(&e, "MESH_VERSION", s->version) == -1 ||
	    appenv_set(&e, "MESH_INSTANCE", val) == -1)
		goto fail;
	snprintf(val, sizeof(val), "http://127.0.0.1:%u", s->outbound_port);
	if (appenv_set(&e, "http_proxy", val) == -1 ||
	    appenv_set(&e, "HTTP_PROXY", val) == -1 ||
	    appenv_set(&e, "no_proxy", APPENV_NO_PROXY) == -1 ||
	    appenv_set(&e, "NO_PROXY", APPENV_NO_PROXY) == -1)
		goto fail;
	for (i = 0; i < s->nlisteners; i++) {
		if (s->listeners[i].port == 0 ||
		    appenv_upstream_key(s->listeners[i].upstream, key, sizeof(key)) == -1)
			continue;
		snprintf(val, sizeof(val), "127.0.0.1:%u", s->listeners[i].port);
		if (appenv_set(&e, key, val) == -1)
			goto fail;
	}
	for (i = 0; i < s->nenv; i++)
		if (appenv_set(&e, s->env[i].key, s->env[i].value) == -1)
			goto fail;
	return e.v;
fail:
	appenv_free(e.v);
	return NULL;
}
