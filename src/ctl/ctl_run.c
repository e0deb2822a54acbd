/* SPDX-License-Identifier: ISC */
/*
 * ctl_run: `meshctl run [-f FILE] [--as SERVICE] -- COMMAND...`.
 *
 * Runs COMMAND as a caller in the mesh: with the environment meshd gives
 * an app of the instance it calls as (appenv.h: http_proxy to that
 * instance's sidecar, MESH_UPSTREAM_<NAME> for its NAME:PORT listeners),
 * so `meshctl run -- curl http://api/users` goes through the sidecar:
 * mTLS, the service's identity and its `allow` rules, the access log,
 * traces.
 *
 * Which instance: --as SERVICE (its first declared version, instance 0),
 * SERVICE@VERSION, or an instance as `meshctl status` names it (api.1,
 * api@v2.0).  Without --as, the mesh's pure client (a service with
 * neither command nor port) when it has exactly one; none or several is
 * an error saying what to do.  The ports are meshd's (`status --json`),
 * never recomputed here: auto ports depend on what was free at `up`.
 *
 * The command's environment is the app's but for PORT (it serves
 * nothing; the port is the running app's): MESH_SERVICE, MESH_VERSION
 * and MESH_INSTANCE name the instance whose sidecar it calls through,
 * the service's env.* keys apply.  meshctl then becomes the command
 * (execvp): its exit status is the command's; a command not found is
 * 127, one that cannot run 126, as in a shell.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/appenv.h"
#include "mesh/ctl.h"
#include "mesh/json_scan.h"

#define CTL_RUN_STATUS_MS     10000
#define CTL_RUN_JSON_TOKENS   200000u
#define CTL_RUN_LISTENERS_MAX 64      /* upstreams per service (mesh.ini(5)) */
#define CTL_RUN_ID_MAX        (CONF_NAME_MAX + CONF_VERSION_MAX + 16)
#define CTL_RUN_LIST_MAX      512     /* service names in a message */

extern char **environ;

/* The instance to call as, as meshd reports it. */
struct ctl_run_inst {
	char                   name[CTL_RUN_ID_MAX];   /* "console.0" */
	char                   state[32];
	int                    ready;                  /* its sidecar is ready */
	uint16_t               outbound_port;
	struct appenv_listener listeners[CTL_RUN_LISTENERS_MAX];
	char                   upstreams[CTL_RUN_LISTENERS_MAX][CONF_NAME_MAX];
	size_t                 nlisteners;
};

/* The service NAME (version NULL: its first declared version), or NULL. */
static const struct conf_service *
ctl_run_service(const struct mesh_config *cfg, const char *name, size_t namelen,
    const char *version)
{
	size_t i;

	for (i = 0; i < cfg->nservices; i++) {
		const struct conf_service *sv = &cfg->services[i];

		if (strlen(sv->name) == namelen && strncmp(sv->name, name, namelen) == 0 &&
		    (version == NULL || strcmp(sv->version, version) == 0))
			return sv;
	}
	return NULL;
}

/* SERVICE or SERVICE@VERSION, the whole of s[0..len). */
static const struct conf_service *
ctl_run_lookup(const struct mesh_config *cfg, const char *s, size_t len)
{
	char buf[CTL_RUN_ID_MAX];
	const char *at;

	if (len >= sizeof(buf))
		return NULL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if ((at = strchr(buf, '@')) == NULL)
		return ctl_run_service(cfg, buf, len, NULL);
	return ctl_run_service(cfg, buf, (size_t)(at - buf), at + 1);
}

/* The distinct service names of cfg that pass `want`, ", "-separated. */
static void
ctl_run_names(const struct mesh_config *cfg, int (*want)(const struct conf_service *),
    char *buf, size_t size)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < cfg->nservices; i++) {
		const struct conf_service *sv = &cfg->services[i];

		if ((want != NULL && !want(sv)) ||
		    ctl_run_service(cfg, sv->name, strlen(sv->name), NULL) != sv)
			continue;
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s",
		    n ? ", " : "", sv->name);
	}
	if (n >= size && size > 4)
		memcpy(buf + size - 4, "...", 4);
}

static int
ctl_run_pure(const struct conf_service *sv)
{
	return sv->command == NULL && sv->port == 0;
}

static int
ctl_run_callable(const struct conf_service *sv)
{
	return sv->port != 0;
}

/*
 * --as AS: SERVICE, SERVICE@VERSION, SERVICE.N or SERVICE@VERSION.N.
 * 0 with *svc and *index, or -1 after saying why.
 */
static int
ctl_run_as(const struct mesh_config *cfg, const char *as,
    const struct conf_service **svc, unsigned *index)
{
	char names[CTL_RUN_LIST_MAX];
	const char *dot;
	unsigned long n = 0;

	*index = 0;
	/* the whole first: a version may hold a dot (api@v1.2) */
	if ((*svc = ctl_run_lookup(cfg, as, strlen(as))) == NULL &&
	    (dot = strrchr(as, '.')) != NULL && dot[1] >= '0' && dot[1] <= '9' &&
	    strspn(dot + 1, "0123456789") == strlen(dot + 1) && strlen(dot + 1) <= 3) {
		n = strtoul(dot + 1, NULL, 10);
		*svc = ctl_run_lookup(cfg, as, (size_t)(dot - as));
	}
	if (*svc == NULL) {
		ctl_run_names(cfg, NULL, names, sizeof(names));
		ctl_errx("run: --as %s: %s has no such service or instance (services: %s)",
		    as, cfg->path, names);
		return -1;
	}
	if (n >= (*svc)->instances) {
		ctl_errx("run: --as %s: service %s has %u instance%s in %s (index 0..%u)",
		    as, (*svc)->name, (*svc)->instances, (*svc)->instances == 1 ? "" : "s",
		    cfg->path, (*svc)->instances - 1);
		return -1;
	}
	*index = (unsigned)n;
	return 0;
}

/* No --as: the one pure client.  0 with *svc, or -1 after saying why. */
static int
ctl_run_default(const struct mesh_config *cfg, const struct conf_service **svc)
{
	char names[CTL_RUN_LIST_MAX];
	size_t i, n = 0;

	*svc = NULL;
	for (i = 0; i < cfg->nservices; i++) {
		const struct conf_service *sv = &cfg->services[i];

		if (!ctl_run_pure(sv) || ctl_run_service(cfg, sv->name, strlen(sv->name), NULL) != sv)
			continue;
		if (n++ == 0)
			*svc = sv;
	}
	if (n == 1)
		return 0;
	if (n > 1) {
		ctl_run_names(cfg, ctl_run_pure, names, sizeof(names));
		ctl_errx("run: %s has %zu pure-client services (%s): pass --as one of them",
		    cfg->path, n, names);
		return -1;
	}
	ctl_run_names(cfg, ctl_run_callable, names, sizeof(names));
	ctl_errx("run: %s has no pure-client service to call as: add [service.console] "
	    "with `upstreams = %s` (no command, no port), or pass --as SERVICE",
	    cfg->path, names[0] != '\0' ? names : "SERVICE, ...");
	return -1;
}

/* The instance whose id is `id` in meshd's `status --json`; 0 / -1. */
static int
ctl_run_find(const struct json_doc *d, const char *id, struct ctl_run_inst *out)
{
	int svcs = json_scan_key(d, 0, "services"), s, i, l, ls, t;

	memset(out, 0, sizeof(*out));
	for (s = json_scan_child(d, svcs); s != -1; s = json_scan_next(d, svcs, s)) {
		int insts = json_scan_key(d, s, "instances");

		for (i = json_scan_child(d, insts); i != -1; i = json_scan_next(d, insts, i)) {
			if (!json_scan_streq(d, json_scan_key(d, i, "id"), id))
				continue;
			json_scan_str(d, json_scan_key(d, i, "name"), out->name, sizeof(out->name));
			json_scan_str(d, json_scan_key(d, i, "state"), out->state, sizeof(out->state));
			t = json_scan_key(d, i, "proxy_ready");
			/* a meshd from before proxy_ready: its state says it */
			out->ready = t != -1 ? json_scan_bool(d, t, 0) :
			    strcmp(out->state, "ready") == 0 || strcmp(out->state, "running") == 0;
			t = json_scan_key(d, i, "outbound_port");
			out->outbound_port = (uint16_t)json_scan_int(d, t, 0);
			if (json_scan_int(d, t, 0) < 0 || json_scan_int(d, t, 0) > 65535)
				out->outbound_port = 0;
			ls = json_scan_key(d, i, "listeners");
			for (l = json_scan_child(d, ls); l != -1; l = json_scan_next(d, ls, l)) {
				int64_t port = json_scan_int(d, json_scan_key(d, l, "port"), 0);
				size_t k = out->nlisteners;

				if (k == CTL_RUN_LISTENERS_MAX || port <= 0 || port > 65535 ||
				    json_scan_str(d, json_scan_key(d, l, "upstream"),
				    out->upstreams[k], sizeof(out->upstreams[k])) <= 0)
					continue;
				out->listeners[k].upstream = out->upstreams[k];
				out->listeners[k].port = (uint16_t)port;
				out->nlisteners++;
			}
			return 0;
		}
	}
	return -1;
}

/* meshd's view of instance `id` into *out: CTL_OK, or the exit code
 * after saying why (not running, not known, sidecar not ready). */
static int
ctl_run_ask(const struct ctl_mesh *m, const char *id, struct ctl_run_inst *out)
{
	struct json_doc d;
	char *doc = NULL, err[128];
	size_t len = 0;
	FILE *f;
	int rc;

	if ((f = open_memstream(&doc, &len)) == NULL) {
		ctl_err("run");
		return CTL_FAIL;
	}
	rc = ctl_conn_run(m, "status --json", CTL_RUN_STATUS_MS, ctl_conn_print_raw, f);
	fclose(f);
	if (rc != CTL_OK) {
		free(doc);
		return rc == CTL_NOT_RUNNING ? ctl_mesh_not_running(m) : rc;
	}
	if (json_scan_parse(&d, doc, len, CTL_RUN_JSON_TOKENS, err, sizeof(err)) == -1) {
		ctl_errx("run: mesh '%s': meshd's status --json: %s", m->name, err);
		free(doc);
		return CTL_FAIL;
	}
	rc = CTL_OK;
	if (ctl_run_find(&d, id, out) == -1) {
		ctl_errx("run: mesh '%s' runs no instance %s: %s changed since `meshctl up`? "
		    "(meshctl status shows what runs)", m->name, id, m->cfg.path);
		rc = CTL_FAIL;
	} else if (!out->ready || out->outbound_port == 0) {
		ctl_errx("run: the sidecar of %s is not ready (state %s): try again once "
		    "`meshctl status` shows it ready or running", out->name, out->state);
		rc = CTL_FAIL;
	}
	json_scan_free(&d);
	free(doc);
	return rc;
}

/* The command's environment (see the top of this file); NULL: ENOMEM. */
static char **
ctl_run_env(const struct conf_service *sv, unsigned index, const struct ctl_run_inst *in)
{
	struct appenv_spec s;

	memset(&s, 0, sizeof(s));
	s.service = sv->name;
	s.version = sv->version;
	s.index = index;
	s.app_port = 0;
	s.outbound_port = in->outbound_port;
	s.listeners = in->listeners;
	s.nlisteners = in->nlisteners;
	s.env = sv->env;
	s.nenv = sv->nenv;
	return appenv_build(&s);
}

int
ctl_run(const struct ctl_opts *o)
{
	const struct conf_service *sv;
	struct ctl_run_inst *in;
	struct ctl_mesh m;
	char id[CTL_RUN_ID_MAX], **env = NULL;
	unsigned index = 0;
	int rc, e;

	if (o->nargs < 1 || o->args[0][0] == '\0') {
		ctl_errx("run: missing COMMAND; usage: meshctl run [-f FILE] [--as SERVICE] "
		    "-- COMMAND...");
		return CTL_USAGE;
	}
	if ((rc = ctl_mesh_open(o->file, 0, &m)) != CTL_OK)
		return rc;
	rc = o->as != NULL ? ctl_run_as(&m.cfg, o->as, &sv, &index) :
	    ctl_run_default(&m.cfg, &sv);
	if (rc == -1) {
		ctl_mesh_close(&m);
		return CTL_FAIL;
	}
	snprintf(id, sizeof(id), "%s@%s.%u", sv->name, sv->version, index);
	if ((in = malloc(sizeof(*in))) == NULL) {
		ctl_err("run");
		ctl_mesh_close(&m);
		return CTL_FAIL;
	}
	if ((rc = ctl_run_ask(&m, id, in)) == CTL_OK && (env = ctl_run_env(sv, index, in)) == NULL) {
		ctl_err("run");
		rc = CTL_FAIL;
	}
	free(in);
	if (rc != CTL_OK) {
		ctl_mesh_close(&m);
		return rc;
	}
	ctl_mesh_close(&m);   /* sv is gone; env holds copies */
	/* meshctl ignores SIGPIPE; an ignored signal would survive the exec */
	signal(SIGPIPE, SIG_DFL);
	fflush(NULL);
	environ = env;
	execvp(o->args[0], o->args);
	e = errno;
	ctl_errx("run: %s: %s", o->args[0], e == ENOENT ? "command not found" : strerror(e));
	return e == ENOENT ? 127 : 126;
}
