/* SPDX-License-Identifier: ISC */
/*
 * meshd: the supervisor.  `meshd [-f FILE] [-d] [-v]`
 *
 * Start-up, in order, each failure exiting 1 with the reason:
 *   config -> (-d: fork, setsid, log to <state_dir>/run/meshd.log) ->
 *   state dir -> lock -> log/mesh.log opened (logwrite.h; a failure only
 *   warns) -> read a dead meshd's leftovers (adopt.h) ->
 *   mesh-proxy -> metrics listener bound (metrics.h; before the automatic
 *   ports, so they skip it) -> fixed ports free (or held by a leftover) ->
 *   ports assigned -> leftovers that match adopted, the others stopped ->
 *   control socket listening (-d: the parent exits 0 here) -> sidecars,
 *   then apps (but those adopted) -> the loop.
 * SIGTERM, SIGINT or `down`: apps stop, then sidecars; exit 0.
 * SIGHUP: reload the file (reload.h), as `meshctl reload` does.  A
 * changed `metrics` address is reported as needing a restart: the
 * listener keeps the address it was started with.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mesh/adopt.h"
#include "mesh/config.h"
#include "mesh/control.h"
#include "mesh/drain.h"
#include "mesh/mreg.h"
#include "mesh/log.h"
#include "mesh/logwrite.h"
#include "mesh/mcert.h"
#include "mesh/metrics.h"
#include "mesh/notify.h"
#include "mesh/otlp.h"
#include "mesh/outlog.h"
#include "mesh/ports.h"
#include "mesh/registry.h"
#include "mesh/reload.h"
#include "mesh/spawn.h"
#include "mesh/state.h"
#include "mesh/svc.h"
#include "mesh/weights.h"

static struct meshd        M;
static int                 ready_fd = -1;   /* -d: the parent waits on it */
static struct ports_fixed *fixed;
static struct metrics_srv  *metrics;        /* NULL: no `metrics =` */
static int                 have_cfg, have_reg;

static void
usage(void)
{
	fprintf(stderr, "usage: meshd [-f FILE] [-d] [-v]\n");
	exit(2);
}

/* Release everything start-up got so far (also keeps LeakSanitizer quiet). */
static void
meshd_cleanup(void)
{
	/* lines emitted from here on must not reach a freed control socket */
	outlog_set_sink(NULL, NULL);
	mreg_close(&M);
	if (M.ctl != NULL)
		control_close(&M);
	metrics_srv_close(metrics);
	metrics = NULL;
	otlp_stop();
	mcert_close();
	adopt_free(&M);
	if (M.loop != NULL)
		drain_free(&M);
	if (M.insts != NULL)
		svc_free(&M);
	if (have_reg)
		registry_free(&M.reg);
	have_reg = 0;
	free(fixed);
	fixed = NULL;
	outlog_free();
	logwrite_close();
	if (M.lock_fd != -1)
		state_unlock(M.cfg.mesh.state_dir, M.lock_fd);
	M.lock_fd = -1;
	weights_free(&M.weights);
	faults_free(&M.faults);
	mirrors_free(&M.mirrors);
	if (have_cfg)
		config_free(&M.cfg);
	have_cfg = 0;
	if (M.loop != NULL)
		ev_loop_destroy(M.loop);
	M.loop = NULL;
}

/* A start-up failure: say why (and tell a waiting parent), exit 1. */
static void __attribute__((noreturn, format(printf, 1, 2)))
start_fail(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "meshd: %s\n", msg);
	if (ready_fd != -1) {
		if (write(ready_fd, msg, strlen(msg)) == -1)
			log_warn("start-up pipe");
		close(ready_fd);
	}
	meshd_cleanup();
	exit(1);
}

/*
 * -d: fork; the parent waits until the child says "ok" (the control
 * socket accepts connections) or why it failed, then exits 0 or 1.
 */
static void
meshd_detach(void)
{
	char buf[4096];
	size_t got = 0;
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		fprintf(stderr, "meshd: cannot detach: %s\n", strerror(errno));
		meshd_cleanup();
		exit(1);
	}
	if (pid == 0) {
		close(p[0]);
		ready_fd = p[1];
		setsid();
		return;
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], buf + got, sizeof(buf) - 1 - got);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 || (got += (size_t)n) == sizeof(buf) - 1)
			break;
	}
	buf[got] = '\0';
	if (strcmp(buf, "ok") == 0)
		_exit(0);   /* the child owns everything now: free nothing here */
	if (got == 0)
		fprintf(stderr, "meshd: exited during start-up; see %s/run/meshd.log\n",
		    M.cfg.mesh.state_dir);
	else
		fprintf(stderr, "meshd: %s\n", buf);
	_exit(1);
}

/* -d: stdin from /dev/null, stdout and stderr appended to run/meshd.log. */
static void
meshd_redirect(void)
{
	char path[PATH_MAX];
	int fd, nul;

	snprintf(path, sizeof(path), "%s/run/meshd.log", M.cfg.mesh.state_dir);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) == -1)
		start_fail("%s: %s", path, strerror(errno));
	if ((nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    dup2(nul, 0) == -1 || dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
		start_fail("redirecting to %s: %s", path, strerror(errno));
	close(nul);
	close(fd);
	setvbuf(stderr, NULL, _IOLBF, 0);
}

static int
meshd_try_proxy(const char *dir, const char *rel)
{
	int n = snprintf(M.proxy_path, sizeof(M.proxy_path), "%s%s", dir, rel);

	return n > 0 && (size_t)n < sizeof(M.proxy_path) && access(M.proxy_path, X_OK) == 0;
}

/* $MESH_PROXY, else beside this executable, ../sbin, ../bin, then PATH. */
static void
meshd_find_proxy(void)
{
	char self[PATH_MAX], *dir, *path, *save = NULL, *p;
	const char *env = getenv("MESH_PROXY");
	ssize_t n;

	if (env != NULL && *env != '\0') {
		if (!meshd_try_proxy(env, ""))
			start_fail("MESH_PROXY=%s: not an executable file", env);
		return;
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		dir = dirname(self);
		if (meshd_try_proxy(dir, "/mesh-proxy") ||
		    meshd_try_proxy(dir, "/../sbin/mesh-proxy") ||
		    meshd_try_proxy(dir, "/../bin/mesh-proxy"))
			return;
	}
	if ((env = getenv("PATH")) != NULL && (path = strdup(env)) != NULL) {
		for (p = strtok_r(path, ":", &save); p != NULL; p = strtok_r(NULL, ":", &save))
			if (meshd_try_proxy(p, "/mesh-proxy")) {
				free(path);
				return;
			}
		free(path);
	}
	start_fail("cannot find mesh-proxy (set MESH_PROXY, or install it beside meshd)");
}

/* Each line of a memstream's text as one event line. */
static void
meshd_events(const char *prefix, char *text)
{
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		outlog_event("%s%s", prefix, line);
}

/*
 * SIGHUP (systemctl reload): the same as `meshctl reload` (reload.h), with
 * RELOADING=1 before and READY=1 after for systemd.  The report goes to
 * the log, one event line each.
 */
static void
meshd_hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc = -1;

	(void)loop;
	(void)w;
	(void)revents;
	notify_reloading(&M);
	if ((f = open_memstream(&text, &len)) != NULL) {
		if ((rc = reload_run(&M, f)) == 0)
			control_push_all(&M);
		if (fclose(f) != 0)
			rc = -1;
	}
	if (rc == -1)
		outlog_event("SIGHUP: reload failed: out of memory");
	else {
		outlog_event("SIGHUP: reload: %s", rc == 0 ? "applied" :
		    "the file has errors; nothing changed");
		if (text != NULL)
			meshd_events("reload: ", text);
	}
	free(text);
	notify_reloaded(&M);
}

/* Persisted `meshctl weight` splits (weights.h), `meshctl fault` faults
 * (faults.h) and `meshctl mirror` mirrors (mirrors.h), before any sidecar
 * starts. */
static void
meshd_weights(void)
{
	static const char *const tags[] = { "weights: ", "faults: ", "mirrors: " };
	const char *dir = M.cfg.mesh.state_dir;
	char *text;
	size_t len, i;
	FILE *f;

	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		text = NULL;
		len = 0;
		if ((f = open_memstream(&text, &len)) == NULL)
			start_fail("out of memory");
		if (i == 0)
			weights_load(&M.weights, &M.cfg, dir, f);
		else if (i == 1)
			faults_load(&M.faults, &M.cfg, dir, f);
		else
			mirrors_load(&M.mirrors, &M.cfg, dir, f);
		fclose(f);
		if (text != NULL)
			meshd_events(tags[i], text);
		free(text);
	}
}

/*
 * svc's reports (svc.h) to the modules above it: svc calls none of them.
 * Order within one svc_update(): the endpoints' callers get their
 * documents, systemd hears of the phase, then wait-ready clients are
 * answered (after the "ready" line they are sent).
 */
static void
meshd_svc_event(struct meshd *m, enum svc_event ev, struct inst *in, const struct proc *p)
{
	(void)p;
	switch (ev) {
	case SVC_EV_ENDPOINT:
		control_push_callers(m, in->ri->svc->name);
		break;
	case SVC_EV_PHASE:
		if (m->phase == MESHD_RUNNING)
			notify_ready(m);
		else if (m->phase == MESHD_STOPPING)
			notify_stopping(m);
		break;
	case SVC_EV_CHANGED:
		mreg_sync(m);
		notify_status(m);
		control_wait_update(m);
		break;
	case SVC_EV_PROC:
		break;   /* svc logs them; status reads the states */
	}
}

static void
meshd_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	outlog_event("%s received", strsignal(w->signum));
	svc_stop_all(&M);
}

/* Fixed ports free, then the automatic ones assigned. */
static void
meshd_ports(void)
{
	struct ports_alloc alloc;
	char *errs = NULL;
	size_t errlen = 0, nfixed;
	FILE *ef;
	int bad;

	if ((ef = open_memstream(&errs, &errlen)) == NULL)
		start_fail("out of memory");
	/* a port a running leftover holds is free: it is adopted or stopped */
	bad = ports_check_fixed(&M.cfg, ef, adopt_port_free, NULL);
	if (bad == 0 && ports_fixed_collect(&M.cfg, &fixed, &nfixed) == 0) {
		ports_alloc_init(&alloc, M.cfg.mesh.port_base, fixed, nfixed,
		    adopt_port_free, NULL);
		if (registry_init(&M.reg, &M.cfg, &alloc, ef) == 0)
			have_reg = 1;
	}
	fclose(ef);
	if (!have_reg) {
		char msg[4096];

		/* one message, every taken port in it */
		snprintf(msg, sizeof(msg), "%s", errs != NULL ? errs : "out of memory");
		free(errs);
		if (msg[0] != '\0' && msg[strlen(msg) - 1] == '\n')
			msg[strlen(msg) - 1] = '\0';
		start_fail("%s", msg);
	}
	free(errs);
}

static unsigned
meshd_width(void)
{
	size_t i, w = strlen("meshd");

	for (i = 0; i < M.reg.ninst; i++)
		if (strlen(M.reg.inst[i].name) + strlen("~proxy") > w)
			w = strlen(M.reg.inst[i].name) + strlen("~proxy");
	return (unsigned)w;
}

int
main(int argc, char **argv)
{
	const char *file = "mesh.ini";
	int ch, detach = 0, verbose = 0, nerr;
	ev_signal sigterm, sigint, sighup;
	char err[512];

	M.lock_fd = -1;
	while ((ch = getopt(argc, argv, "f:dvh")) != -1) {
		switch (ch) {
		case 'f': file = optarg; break;
		case 'd': detach = 1; break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("meshd", verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	signal(SIGPIPE, SIG_IGN);

	if ((nerr = config_load(file, &M.cfg, stderr)) != 0) {
		fprintf(stderr, "meshd: %s: %d error%s\n", file, nerr, nerr == 1 ? "" : "s");
		return 1;
	}
	have_cfg = 1;
	if (realpath(file, M.config_path) == NULL)
		snprintf(M.config_path, sizeof(M.config_path), "%s", file);
	snprintf(M.sock_path, sizeof(M.sock_path), "%s/run/meshd.sock", M.cfg.mesh.state_dir);
	if (detach)
		meshd_detach();
	if (state_mkdirs(M.cfg.mesh.state_dir) == -1)
		start_fail("state dir %s: %s", M.cfg.mesh.state_dir, strerror(errno));
	if (detach)
		meshd_redirect();
	if (state_lock(M.cfg.mesh.state_dir, M.cfg.mesh.name, &M.lock_fd, err, sizeof(err)) == -1)
		start_fail("%s", err);
	M.pid = getpid();
	/* only the meshd holding the lock writes the log file */
	if (logwrite_open(M.cfg.mesh.state_dir, 0, err, sizeof(err)) == -1)
		outlog_event("log file: %s; lines are not kept on disk", err);
	if (adopt_scan(&M) == -1)
		state_reap_locked(M.cfg.mesh.state_dir);
	meshd_find_proxy();
	if (M.cfg.mesh.metrics != NULL &&
	    (metrics = metrics_srv_open(M.cfg.mesh.metrics, err, sizeof(err))) == NULL)
		start_fail("%s:%d: metrics: %s", M.cfg.path, M.cfg.mesh.metrics_line, err);
	meshd_ports();

	if ((M.loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		start_fail("cannot initialise libev");
	M.started = ev_now(M.loop);
	M.notify = getenv("NOTIFY_SOCKET") != NULL;
	if (svc_init(&M, meshd_svc_event) == -1)
		start_fail("out of memory");
	/* children write to files under run/logs, so they outlive meshd */
	spawn_log_dir(M.cfg.mesh.state_dir);
	outlog_init(meshd_width(), NULL, NULL);
	adopt_start(&M);
	/* the CA before any sidecar can ask it for a certificate */
	if (mcert_open(&M, err, sizeof(err)) == -1)
		start_fail("certificate authority: %s", err);
	if (control_open(&M, err, sizeof(err)) == -1)
		start_fail("control socket: %s", err);
	outlog_set_sink(control_line, M.ctl);
	/* before any instance is up, so that none is missed */
	if (mreg_open(&M, err, sizeof(err)) == -1)
		start_fail("%s:%d: etcd: %s", M.cfg.path, M.cfg.mesh.etcd_line, err);
	if (metrics != NULL)
		metrics_srv_start(metrics, M.loop, metrics_render_meshd, &M);
	/* spans to the collector: optional, so a bad one only warns */
	if (otlp_start(&M, err, sizeof(err)) == -1)
		outlog_event("traces: %s; spans are not exported", err);
	ev_signal_init(&sigterm, meshd_signal_cb, SIGTERM);
	ev_signal_init(&sigint, meshd_signal_cb, SIGINT);
	ev_signal_start(M.loop, &sigterm);
	ev_signal_start(M.loop, &sigint);
	ev_signal_init(&sighup, meshd_hup_cb, SIGHUP);
	ev_signal_start(M.loop, &sighup);
	notify_init(&M);
	meshd_weights();

	if (ready_fd != -1) {
		if (write(ready_fd, "ok", 2) == -1)
			log_warn("start-up pipe");
		close(ready_fd);
		ready_fd = -1;
	}
	outlog_event("mesh '%s' starting: %zu instance(s), config %s, meshd pid %d",
	    M.cfg.mesh.name, M.ninst, M.config_path, (int)M.pid);
	M.phase = MESHD_STARTING;
	svc_start_all(&M);
	if (M.ninst == 0)
		svc_stop_all(&M);
	if (M.phase != MESHD_DONE)
		ev_run(M.loop, 0);

	ev_signal_stop(M.loop, &sigterm);
	ev_signal_stop(M.loop, &sigint);
	ev_signal_stop(M.loop, &sighup);
	/* this host's keys went with its instances; now the lease */
	mreg_close(&M);
	notify_stop(&M);
	meshd_cleanup();
	return M.exit_code;
}
