/* SPDX-License-Identifier: ISC */
/*
 * svc: the children's state machine on a real libev loop, with a fake
 * spawn.  The spawn_* functions below replace src/meshd/spawn.c at link
 * time: this object defines every global of spawn.o, so the linker never
 * takes that member from libmeshd.a (had it been taken, the link would
 * fail with "multiple definition").  The fake forks a real child in its
 * own process group that exits, runs until killed, or lingers after
 * SIGTERM, as the test asks; svc reaps it with its ev_child.
 *
 * Checked: an exit unasked restarts after the backoff, doubling; a crash
 * loop ends in FATAL with no more starts; a stop SIGTERMs the app and
 * waits for it before the sidecars; the reports (svc.h) come in order:
 * each process's states, the endpoint up and down, the phases, and
 * SVC_EV_CHANGED closing each update; an app with a port is ready, and
 * its endpoint up, only once the port accepts a connection (ready.h),
 * and one that never does is named by readiness_check() after its
 * ready_timeout with its last line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <fcntl.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <cmocka.h>

#include "mesh/config.h"
#include "mesh/meshd_ctx.h"
#include "mesh/outlog.h"
#include "mesh/ports.h"
#include "mesh/readiness.h"
#include "mesh/registry.h"
#include "mesh/spawn.h"
#include "mesh/state.h"
#include "mesh/svc.h"

/* ---- the fake spawn ---------------------------------------------------- */

enum fake_how {
	FAKE_EXIT,     /* exit with fake.code at once */
	FAKE_RUN,      /* run until a signal kills it */
	FAKE_LINGER,   /* on SIGTERM, exit 0 FAKE_LINGER_S later */
	FAKE_NONE,     /* no child at all: spawn() fails */
};
#define FAKE_LINGER_S 0.3
#define FAKE_MAX 32

static struct {
	enum fake_how proxy, app;
	int           code;
	unsigned      calls, proxy_calls, app_calls;
	double        at[FAKE_MAX];         /* CLOCK_MONOTONIC of each call */
	char          argv[FAKE_MAX][3][128];
} fake;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile sig_atomic_t fake_termed;

static void
fake_term(int sig)
{
	(void)sig;
	fake_termed = 1;
}

static void __attribute__((noreturn))
fake_child(enum fake_how how, const sigset_t *old)
{
	struct sigaction sa;

	setpgid(0, 0);
	/* one line on stdout (spawn()'s pipe), for readiness reports */
	if (write(STDOUT_FILENO, "fake app up\n", 12) != 12)
		_exit(99);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = how == FAKE_LINGER ? fake_term : SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	if (how == FAKE_EXIT)
		_exit(fake.code);
	/* SIGTERM was blocked since before the fork: none is lost */
	while (!fake_termed)
		sigsuspend(old);
	usleep((useconds_t)(FAKE_LINGER_S * 1e6));
	_exit(0);
}

pid_t
spawn(char *const argv[], char *const envp[], const char *dir,
    int *out_fd, int *err_fd, char *err, size_t errlen)
{
	int is_proxy = strcmp(argv[0], "/bin/sh") != 0;
	enum fake_how how = is_proxy ? fake.proxy : fake.app;
	sigset_t term, old;
	int o[2], e[2], i;
	pid_t pid;

	(void)envp;
	(void)dir;
	if (fake.calls < FAKE_MAX) {
		fake.at[fake.calls] = now_s();
		for (i = 0; i < 3 && argv[i] != NULL; i++)
			snprintf(fake.argv[fake.calls][i], sizeof(fake.argv[0][0]), "%s", argv[i]);
	}
	fake.calls++;
	*(is_proxy ? &fake.proxy_calls : &fake.app_calls) += 1;
	if (how == FAKE_NONE) {
		snprintf(err, errlen, "fork: fake failure");
		return -1;
	}
	err[0] = '\0';
	if (pipe2(o, O_CLOEXEC) == -1 || pipe2(e, O_CLOEXEC) == -1)
		return -1;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old);
	if ((pid = fork()) == 0) {
		dup2(o[1], STDOUT_FILENO);
		fake_child(how, &old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid > 0)
		setpgid(pid, pid);   /* either side may be first: the group exists for kill(-pid) */
	close(o[1]);
	close(e[1]);
	*out_fd = o[0];
	*err_fd = e[0];
	return pid;
}

char *
spawn_shell_command(const char *cmd)
{
	return strdup(cmd);
}

static char **
fake_env(void)
{
	return calloc(1, sizeof(char *));
}

char **
spawn_env_app(const struct reg_instance *ri)
{
	(void)ri;
	return fake_env();
}

char **
spawn_env_proxy(void)
{
	return fake_env();
}

void
spawn_env_free(char **env)
{
	free(env);
}

/* ---- the reports ------------------------------------------------------- */

struct rec {
	enum svc_event   ev;
	struct inst     *in;
	const struct proc *p;
	enum proc_state  state;      /* SVC_EV_PROC: p->state then */
	enum meshd_phase phase;
	int              up;         /* SVC_EV_ENDPOINT: in->ri->up then */
	double           remaining;  /* SVC_EV_PROC to BACKOFF: the timer */
	double           backoff;    /* ... and the next delay */
};

static struct rec recs[512];
static size_t nrecs;

static void
record(struct meshd *m, enum svc_event ev, struct inst *in, const struct proc *p)
{
	struct rec *r;

	assert_true(nrecs < sizeof(recs) / sizeof(recs[0]));
	r = &recs[nrecs++];
	memset(r, 0, sizeof(*r));
	r->ev = ev;
	r->in = in;
	r->p = p;
	r->phase = m->phase;
	if (p != NULL) {
		r->state = p->state;
		assert_ptr_equal(p->inst, in);
		if (p->state == PROC_BACKOFF) {
			r->remaining = ev_timer_remaining(m->loop, (ev_timer *)&p->timer);
			r->backoff = p->backoff;
		}
	}
	if (ev == SVC_EV_ENDPOINT)
		r->up = in->ri->up;
}

/* The states p entered, in order, as a string: "RBRBRF" (Idle Running
 * Backoff Stopping eXited Fatal). */
static const char *
states_of(const struct proc *p)
{
	static char buf[128];
	size_t i, n = 0;

	for (i = 0; i < nrecs && n + 1 < sizeof(buf); i++)
		if (recs[i].ev == SVC_EV_PROC && recs[i].p == p)
			buf[n++] = "IRBSXF"[recs[i].state];
	buf[n] = '\0';
	return buf;
}

/* Index of the first record matching, from `from`; -1 none. */
static long
find(size_t from, enum svc_event ev, const struct proc *p, int state)
{
	size_t i;

	for (i = from; i < nrecs; i++)
		if (recs[i].ev == ev && (p == NULL || recs[i].p == p) &&
		    (state == -1 || (int)recs[i].state == state))
			return (long)i;
	return -1;
}

/* ---- fixture ----------------------------------------------------------- */

static struct meshd m;
static struct ports_fixed *fixed;
static char dir[64];

static void
mesh_up(const char *service)
{
	char path[128], ini[512];
	struct ports_alloc a;
	size_t n;
	FILE *f;

	memset(&m, 0, sizeof(m));
	memset(&fake, 0, sizeof(fake));
	nrecs = 0;
	snprintf(dir, sizeof(dir), "/tmp/test_svc.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mesh.ini", dir);
	snprintf(ini, sizeof(ini), "[mesh]\nname = svct\nport_base = 21590\n%s", service);
	assert_non_null(f = fopen(path, "w"));
	fputs(ini, f);
	fclose(f);
	assert_int_equal(config_load(path, &m.cfg, stderr), 0);
	assert_int_equal(state_mkdirs(m.cfg.mesh.state_dir), 0);
	assert_int_equal(ports_fixed_collect(&m.cfg, &fixed, &n), 0);
	ports_alloc_init(&a, m.cfg.mesh.port_base, fixed, n, NULL, NULL);
	assert_int_equal(registry_init(&m.reg, &m.cfg, &a, stderr), 0);
	snprintf(m.proxy_path, sizeof(m.proxy_path), "/fake/mesh-proxy");
	snprintf(m.sock_path, sizeof(m.sock_path), "%s/run/meshd.sock", m.cfg.mesh.state_dir);
	m.loop = ev_default_loop(0);
	m.started = ev_now(m.loop);
	m.phase = MESHD_STARTING;
	assert_int_equal(svc_init(&m, record), 0);
	assert_int_equal(m.ninst, 1);
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	*(int *)w->data = 1;
}

/* Run the loop until cond() holds or `secs` pass; cond() at the end. */
static int
run_until(int (*cond)(void), double secs)
{
	ev_timer t;
	int expired = 0;

	ev_timer_init(&t, deadline_cb, secs, 0.);
	t.data = &expired;
	ev_timer_start(m.loop, &t);
	while (!expired && (cond == NULL || !cond()))
		ev_run(m.loop, EVRUN_ONCE);
	ev_timer_stop(m.loop, &t);
	return cond == NULL || cond();
}

static int done(void)        { return m.phase == MESHD_DONE; }
static int three_spawns(void) { return fake.calls >= 3; }
static int proxy_fatal(void) { return m.insts[0].proxy.state == PROC_FATAL; }
static int mesh_running(void) { return m.phase == MESHD_RUNNING; }
static int app_backoff(void) { return m.insts[0].app.state == PROC_BACKOFF; }

/* The teardown, after a failed test too: stop, reap every child. */
static int
mesh_down(void **state)
{
	struct inst *in = m.insts;
	int reaped;
	char cmd[128];

	(void)state;
	if (in == NULL)
		return -1;   /* mesh_up() failed */
	svc_stop_all(&m);
	reaped = run_until(done, 5.0);
	if (!reaped) {
		/* a test that failed half-way: nothing outlives it all the same */
		if (in->app.pid > 0)
			kill(-in->app.pid, SIGKILL);
		if (in->proxy.pid > 0)
			kill(-in->proxy.pid, SIGKILL);
		run_until(done, 2.0);
	}
	svc_free(&m);
	registry_free(&m.reg);
	free(fixed);
	fixed = NULL;
	config_free(&m.cfg);
	outlog_free();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return -1;
	return reaped ? 0 : -1;   /* a stop that did not end is a failure */
}

/* A listener on 127.0.0.1:port, the app's port as ready.h probes it
 * (the fake app listens on nothing); -1 if it cannot bind. */
static int
listen_on(uint16_t port)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 || listen(fd, 16) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int app_ready(void) { return svc_ready(&m.insts[0]) == 1; }

/* ---- tests ------------------------------------------------------------- */

/* A sidecar that exits at once is started again after SVC_BACKOFF_MIN,
 * then after twice that: the delay doubles, each restart counted. */
static void
test_exit_restarts_with_backoff(void **state)
{
	struct proc *p;
	long b1, b2;

	(void)state;
	mesh_up("[service.solo]\nport = 21580\n");
	p = &m.insts[0].proxy;
	fake.proxy = FAKE_EXIT;
	fake.code = 1;
	svc_start_all(&m);
	assert_int_equal(fake.proxy_calls, 1);
	assert_string_equal(fake.argv[0][0], "/fake/mesh-proxy");
	assert_string_equal(fake.argv[0][1], "--control");
	assert_string_equal(fake.argv[0][2], m.sock_path);
	assert_true(run_until(three_spawns, 3.0));

	/* the third run may have ended already: what came before is fixed */
	assert_int_equal(strncmp(states_of(p), "RBRBR", 5), 0);
	assert_int_equal(p->restarts, 2);
	assert_true(WIFEXITED(p->last_status) && WEXITSTATUS(p->last_status) == 1);
	/* each backoff armed for the current delay, the next one doubled */
	b1 = find(0, SVC_EV_PROC, p, PROC_BACKOFF);
	b2 = find((size_t)b1 + 1, SVC_EV_PROC, p, PROC_BACKOFF);
	assert_true(b1 >= 0 && b2 > b1);
	assert_float_equal(recs[b1].remaining, SVC_BACKOFF_MIN, 1e-6);
	assert_float_equal(recs[b1].backoff, 2 * SVC_BACKOFF_MIN, 1e-6);
	assert_float_equal(recs[b2].remaining, 2 * SVC_BACKOFF_MIN, 1e-6);
	assert_float_equal(recs[b2].backoff, 4 * SVC_BACKOFF_MIN, 1e-6);
	/* and the starts really waited for it */
	assert_true(fake.at[1] - fake.at[0] >= SVC_BACKOFF_MIN * 0.9);
	assert_true(fake.at[2] - fake.at[1] >= 2 * SVC_BACKOFF_MIN * 0.9);
	/* a restarting instance is neither ready nor failed */
	assert_int_equal(svc_ready(&m.insts[0]), 0);
	assert_int_equal(m.phase, MESHD_STARTING);
}

/* SVC_CRASH_COUNT quick exits: FATAL, no further start, the instance
 * failed (wait-ready's answer), and the update that saw it reported. */
static void
test_crash_loop_is_fatal(void **state)
{
	struct proc *p;
	long f;

	(void)state;
	mesh_up("[service.solo]\nport = 21580\n");
	p = &m.insts[0].proxy;
	fake.proxy = FAKE_EXIT;
	fake.code = 3;
	svc_start_all(&m);
	assert_true(run_until(proxy_fatal, 5.0));
	assert_int_equal(fake.proxy_calls, SVC_CRASH_COUNT);
	assert_string_equal(states_of(p), "RBRBRBRBRF");
	assert_int_equal(svc_ready(&m.insts[0]), -1);
	assert_string_equal(svc_state(&m.insts[0]), "fatal");
	assert_non_null(strstr(m.insts[0].why, "exited with status 3, 5 times"));
	assert_non_null(strstr(m.insts[0].why, "(FATAL)"));
	f = find(0, SVC_EV_PROC, p, PROC_FATAL);
	assert_true(f >= 0);
	assert_true(find((size_t)f, SVC_EV_CHANGED, NULL, -1) > f);
	/* nothing starts it again */
	run_until(NULL, 1.0);
	assert_int_equal(fake.proxy_calls, SVC_CRASH_COUNT);
	assert_int_equal(p->state, PROC_FATAL);
}

/* A stop SIGTERMs the app and waits for it (it lingers FAKE_LINGER_S),
 * the sidecar only after; the phase ends in DONE only then. */
static void
test_stop_waits_for_child(void **state)
{
	struct inst *in;
	pid_t app;
	double t0;
	long s, ax, ps, d, c;

	(void)state;
	mesh_up("[service.api]\ncommand = ./api --x\nport = 21580\n");
	in = &m.insts[0];
	fake.proxy = FAKE_RUN;
	fake.app = FAKE_LINGER;
	svc_start_all(&m);
	assert_int_equal(fake.app_calls, 0);          /* the app waits for READY */
	svc_proxy_ready(in);
	assert_int_equal(fake.app_calls, 1);
	assert_string_equal(fake.argv[1][0], "/bin/sh");
	assert_string_equal(fake.argv[1][2], "./api --x");
	assert_int_equal(in->app.state, PROC_RUNNING);
	app = in->app.pid;
	assert_true(app > 0);

	t0 = now_s();
	svc_stop_all(&m);
	assert_int_equal(m.phase, MESHD_STOPPING);
	assert_int_equal(in->app.state, PROC_STOPPING);
	assert_int_equal(in->proxy.state, PROC_RUNNING);   /* apps first */
	run_until(NULL, FAKE_LINGER_S / 2);
	assert_int_equal(kill(app, 0), 0);                 /* still there... */
	assert_int_equal(in->app.state, PROC_STOPPING);    /* ...and waited for */
	assert_int_equal(in->proxy.state, PROC_RUNNING);
	assert_int_equal(m.phase, MESHD_STOPPING);

	assert_true(run_until(done, 5.0));
	assert_true(now_s() - t0 >= FAKE_LINGER_S * 0.9);
	assert_true(WIFEXITED(in->app.last_status) && WEXITSTATUS(in->app.last_status) == 0);
	assert_string_equal(states_of(&in->app), "RSX");
	assert_string_equal(states_of(&in->proxy), "RSX");
	/* the order: STOPPING, the app gone, then the sidecar asked, DONE */
	s = find(0, SVC_EV_PHASE, NULL, -1);
	while (s >= 0 && recs[s].phase != MESHD_STOPPING)
		s = find((size_t)s + 1, SVC_EV_PHASE, NULL, -1);
	ax = find(0, SVC_EV_PROC, &in->app, PROC_EXITED);
	ps = find(0, SVC_EV_PROC, &in->proxy, PROC_STOPPING);
	d = find((size_t)ps, SVC_EV_PHASE, NULL, -1);
	assert_true(s >= 0 && ax > s && ps > ax && d > ps);
	assert_int_equal(recs[d].phase, MESHD_DONE);
	/* the stop's own update was reported (wait-ready hears "stopping") */
	c = find((size_t)s, SVC_EV_CHANGED, NULL, -1);
	assert_true(c > s && c < ax);
	assert_int_equal(recs[c].phase, MESHD_STOPPING);
}

/* The reports a healthy start and an app crash make: the endpoint up
 * once the app's port accepts a connection, then the phase RUNNING, each
 * update closed by SVC_EV_CHANGED; the app killed: BACKOFF and the
 * endpoint down. */
static void
test_reports(void **state)
{
	struct inst *in;
	long up, run, down, bo, i;
	int lfd;

	(void)state;
	assert_true((lfd = listen_on(21580)) != -1);
	mesh_up("[service.api]\ncommand = ./api\nport = 21580\n");
	in = &m.insts[0];
	fake.proxy = FAKE_RUN;
	fake.app = FAKE_RUN;
	svc_start_all(&m);
	assert_int_equal(nrecs, 2);
	assert_int_equal(recs[0].ev, SVC_EV_PROC);
	assert_ptr_equal(recs[0].p, &in->proxy);
	assert_int_equal(recs[0].state, PROC_RUNNING);
	assert_int_equal(recs[1].ev, SVC_EV_CHANGED);
	assert_int_equal(find(0, SVC_EV_ENDPOINT, NULL, -1), -1);   /* not READY yet */

	svc_proxy_ready(in);
	/* the app runs, but nobody is sent to it before the probe connects */
	assert_int_equal(in->app.state, PROC_RUNNING);
	assert_int_equal(find(0, SVC_EV_ENDPOINT, NULL, -1), -1);
	assert_string_equal(svc_state(in), "starting");
	assert_int_equal(recs[nrecs - 1].ev, SVC_EV_CHANGED);
	assert_int_equal(find(0, SVC_EV_PHASE, NULL, -1), -1);

	assert_true(run_until(mesh_running, 3.0));
	up = find(0, SVC_EV_ENDPOINT, NULL, -1);
	assert_true(up >= 0);
	assert_ptr_equal(recs[up].in, in);
	assert_int_equal(recs[up].up, 1);
	assert_true(in->rd.ready);
	run = find(0, SVC_EV_PHASE, NULL, -1);
	assert_true(run > up);
	assert_int_equal(recs[run].phase, MESHD_RUNNING);
	assert_int_equal(recs[run + 1].ev, SVC_EV_CHANGED);
	assert_int_equal(svc_ready(in), 1);

	/* the app dies by a signal: restart=on-failure restarts it */
	assert_int_equal(kill(in->app.pid, SIGKILL), 0);
	assert_true(run_until(app_backoff, 3.0));
	bo = find((size_t)run, SVC_EV_PROC, &in->app, PROC_BACKOFF);
	down = find((size_t)run, SVC_EV_ENDPOINT, NULL, -1);
	assert_true(bo > run && down > bo);
	assert_int_equal(recs[down].up, 0);
	assert_true(WIFSIGNALED(in->app.last_status));
	/* every report of that update came before its SVC_EV_CHANGED */
	for (i = down; i < (long)nrecs && recs[i].ev != SVC_EV_CHANGED; i++)
		;
	assert_true(i < (long)nrecs);
	assert_int_equal(recs[i].phase, MESHD_RUNNING);
	close(lfd);
}

static int three_tries(void) { return m.insts[0].rd.attempts >= 3; }

/* How many probe attempts the backoff lets happen within `elapsed` s of
 * ready_start(): the first after READY_FIRST, each next one after twice
 * the last delay (at most READY_MAX).  A probe at a fixed 10 ms would make
 * elapsed / 10 ms of them. */
static unsigned
backoff_max_tries(double elapsed)
{
	double t = READY_FIRST, d = 2 * READY_FIRST;
	unsigned n = 0;

	while (t <= elapsed && n < 1000) {
		n++;
		t += d;
		d = d * 2 > READY_MAX ? READY_MAX : d * 2;
	}
	return n;
}

/* An app that does not listen yet is "starting": not ready, no endpoint,
 * probed again and again (backing off); it is ready, and announced, as
 * soon as its port accepts a connection. */
static void
test_ready_waits_for_port(void **state)
{
	struct inst *in;
	unsigned tries, most;
	double t0, elapsed;
	int lfd;

	(void)state;
	mesh_up("[service.api]\ncommand = ./api\nport = 21581\n");
	in = &m.insts[0];
	fake.proxy = FAKE_RUN;
	fake.app = FAKE_RUN;
	svc_start_all(&m);
	/* The probe's timers count from the loop's clock: bring it up to
	 * now, and take t0 before, so t0 is no later than the probe's start. */
	t0 = now_s();
	ev_now_update(m.loop);
	svc_proxy_ready(in);
	run_until(NULL, 0.4);
	assert_int_equal(svc_ready(in), 0);
	assert_string_equal(svc_state(in), "starting");
	assert_int_equal(in->ri->up, 0);
	assert_int_equal(find(0, SVC_EV_ENDPOINT, NULL, -1), -1);
	/* 10, 20, 40, 80, 160 ms...: several tries, far fewer than at 10 ms
	 * each.  The bounds follow the time that really passed: a slow host
	 * (an emulator, a loaded machine) starts the app late and makes
	 * fewer tries in the first 0.4 s, never more than the backoff allows. */
	assert_true(run_until(three_tries, 3.0));
	tries = in->rd.attempts;
	elapsed = now_s() - t0;
	most = backoff_max_tries(elapsed);
	if (tries > most)
		fail_msg("%u probe attempts within %.3f s: the backoff allows %u",
		    tries, elapsed, most);
	assert_non_null(strstr(in->rd.last, "127.0.0.1:21581"));
	assert_int_equal(m.phase, MESHD_STARTING);

	assert_true((lfd = listen_on(21581)) != -1);
	assert_true(run_until(app_ready, 3.0));
	assert_int_equal(in->ri->up, 1);
	assert_string_equal(svc_state(in), "running");
	assert_int_equal(m.phase, MESHD_RUNNING);
	assert_true(find(0, SVC_EV_ENDPOINT, NULL, -1) >= 0);
	/* an exit ends the probe: the next run is probed from scratch */
	assert_int_equal(kill(in->app.pid, SIGKILL), 0);
	assert_true(run_until(app_backoff, 3.0));
	assert_int_equal(in->rd.ready, 0);
	assert_int_equal(in->ri->up, 0);
	close(lfd);
}

/* ready_timeout passes with the port still closed: readiness_check()
 * fails, naming the instance, the probe's error and the app's last line;
 * before that it says when to look again. */
static void
test_ready_timeout_report(void **state)
{
	char why[4096];
	ev_tstamp next = 0;

	(void)state;
	mesh_up("[service.api]\ncommand = ./api\nport = 21582\nready_timeout = 300ms\n");
	fake.proxy = FAKE_RUN;
	fake.app = FAKE_RUN;
	svc_start_all(&m);
	svc_proxy_ready(&m.insts[0]);
	assert_int_equal(readiness_check(&m, ev_now(m.loop), why, sizeof(why), &next), -1);
	assert_true(next > ev_now(m.loop) && next <= ev_now(m.loop) + 0.3 + 1e-6);
	run_until(NULL, 0.5);
	assert_int_equal(readiness_check(&m, m.started, why, sizeof(why), &next), 1);
	assert_non_null(strstr(why, "api.0: not ready after "));
	assert_non_null(strstr(why, "(ready_timeout 0.3s)"));
	assert_non_null(strstr(why, "connect to 127.0.0.1:21582"));
	assert_non_null(strstr(why, "last line: 'fake app up'"));
}

/* No child at all (spawn fails): a failed start, restarted like an exit
 * with status 127 after the backoff. */
static void
test_spawn_failure_backs_off(void **state)
{
	struct proc *p;

	(void)state;
	mesh_up("[service.solo]\nport = 21580\n");
	p = &m.insts[0].proxy;
	fake.proxy = FAKE_NONE;
	svc_start_all(&m);
	assert_int_equal(p->pid, 0);
	assert_int_equal(p->state, PROC_BACKOFF);
	assert_string_equal(states_of(p), "B");
	assert_true(WIFEXITED(p->last_status) && WEXITSTATUS(p->last_status) == 127);
	assert_non_null(strstr(m.insts[0].why, "fake failure"));
	/* its backoff still ahead: a stop ends it with no start */
	svc_stop_all(&m);
	assert_int_equal(p->state, PROC_EXITED);
	assert_int_equal(m.phase, MESHD_DONE);
	run_until(NULL, 2 * SVC_BACKOFF_MIN);
	assert_int_equal(fake.proxy_calls, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_exit_restarts_with_backoff, mesh_down),
		cmocka_unit_test_teardown(test_crash_loop_is_fatal, mesh_down),
		cmocka_unit_test_teardown(test_stop_waits_for_child, mesh_down),
		cmocka_unit_test_teardown(test_reports, mesh_down),
		cmocka_unit_test_teardown(test_ready_waits_for_port, mesh_down),
		cmocka_unit_test_teardown(test_ready_timeout_report, mesh_down),
		cmocka_unit_test_teardown(test_spawn_failure_backs_off, mesh_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
