/* SPDX-License-Identifier: ISC */
/*
 * ctl_mesh: which mesh a command talks to.
 *
 * The config file names the mesh and its state dir; the control socket
 * and meshd's pid file live in <state_dir>/run/.  A file with errors stops
 * every command, except that `down` asks for leniency: a file broken while
 * its mesh runs must not keep that mesh from being stopped, so only the
 * [mesh] section's name and state_dir are read then.
 */
#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/ctl.h"

/* Must agree with the [mesh] defaults in src/lib/config_table.c. */
#define CTL_MESH_STATE_DIR_DEFAULT ".mesh"

struct ctl_mesh_scan {
	char name[CONF_NAME_MAX];
	char state_dir[PATH_MAX];
	int  unusable;      /* a value we cannot interpret without config_load() */
};

static int
ctl_mesh_scan_kv(void *user, const char *section, const char *key,
    const char *value)
{
	struct ctl_mesh_scan *s = user;
	char *dst;
	size_t size;

	if (strcmp(section, "mesh") != 0)
		return 1;
	if (strcmp(key, "name") == 0) {
		dst = s->name;
		size = sizeof(s->name);
	} else if (strcmp(key, "state_dir") == 0) {
		dst = s->state_dir;
		size = sizeof(s->state_dir);
	} else
		return 1;
	/* ${VAR} expansion is src/lib/config_expand.c's; a value that needs it
	 * is unusable. */
	if (strstr(value, "${") != NULL || strlen(value) >= size)
		s->unusable = 1;
	else
		memcpy(dst, value, strlen(value) + 1);
	return 1;
}

static char *
ctl_mesh_join(const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s%s", a, b) == -1)
		return NULL;
	return p;
}

/* The default mesh name: the file's base name without ".ini". */
static void
ctl_mesh_default_name(const char *file, char *out, size_t size)
{
	const char *base = strrchr(file, '/');
	size_t n;

	base = base != NULL ? base + 1 : file;
	n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".ini") == 0)
		n -= 4;
	if (n >= size)
		n = size - 1;
	memcpy(out, base, n);
	out[n] = '\0';
}

/* Lenient path: [mesh] name and state_dir only, as plain values. */
static int
ctl_mesh_scan(const char *file, struct ctl_mesh *m)
{
	struct ctl_mesh_scan s;
	char dirbuf[PATH_MAX], *dir, absdir[PATH_MAX];

	memset(&s, 0, sizeof(s));
	if (ini_parse(file, ctl_mesh_scan_kv, &s) == -1 || s.unusable)
		return -1;
	if (s.name[0] != '\0')
		memcpy(m->name, s.name, sizeof(m->name));
	else
		ctl_mesh_default_name(file, m->name, sizeof(m->name));
	if (s.state_dir[0] == '\0')
		memcpy(s.state_dir, CTL_MESH_STATE_DIR_DEFAULT,
		    sizeof(CTL_MESH_STATE_DIR_DEFAULT));
	if (s.state_dir[0] == '/') {
		m->state_dir = strdup(s.state_dir);
	} else {
		if (strlen(file) >= sizeof(dirbuf))
			return -1;
		memcpy(dirbuf, file, strlen(file) + 1);
		dir = dirname(dirbuf);
		if (realpath(dir, absdir) == NULL)
			return -1;
		if (asprintf(&m->state_dir, "%s/%s", absdir, s.state_dir) == -1)
			m->state_dir = NULL;
	}
	return m->state_dir != NULL ? 0 : -1;
}

int
ctl_mesh_open(const char *file, int lenient, struct ctl_mesh *m)
{
	memset(m, 0, sizeof(*m));
	if (config_load(file, &m->cfg, stderr) == 0) {
		m->have_cfg = 1;
		memcpy(m->name, m->cfg.mesh.name, sizeof(m->name));
		m->state_dir = strdup(m->cfg.mesh.state_dir);
	} else if (!lenient) {
		return CTL_FAIL;
	} else if (ctl_mesh_scan(file, m) == -1) {
		ctl_errx("%s: cannot find the mesh's state dir in it", file);
		ctl_mesh_close(m);
		return CTL_FAIL;
	} else {
		ctl_errx("%s has errors (above); using its [mesh] section "
		    "(state dir %s)", file, m->state_dir);
	}
	if (m->state_dir == NULL ||
	    (m->sock_path = ctl_mesh_join(m->state_dir, "/run/meshd.sock")) == NULL ||
	    (m->pid_path = ctl_mesh_join(m->state_dir, "/run/meshd.pid")) == NULL) {
		ctl_err("%s", file);
		ctl_mesh_close(m);
		return CTL_FAIL;
	}
	return CTL_OK;
}

void
ctl_mesh_close(struct ctl_mesh *m)
{
	if (m->have_cfg)
		config_free(&m->cfg);
	free(m->state_dir);
	free(m->sock_path);
	free(m->pid_path);
	memset(m, 0, sizeof(*m));
}

int
ctl_mesh_not_running(const struct ctl_mesh *m)
{
	ctl_errx("mesh '%s' is not running", m->name);
	return CTL_NOT_RUNNING;
}
