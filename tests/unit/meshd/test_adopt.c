/* SPDX-License-Identifier: ISC */
/*
 * adopt: a meshd taking over what a dead one left, with real processes
 * standing in for the leftovers (forked here, recorded in run/pids the
 * way svc records its children).
 *
 * Checked: the fingerprints follow what a process was started with (a
 * changed command changes the app's, not the sidecar's; a changed port
 * both); a leftover whose run/spec line matches is adopted as RUNNING
 * with its pid and no restart, one that does not match is stopped and
 * forgotten, and one with no run/spec line at all is stopped by
 * adopt_scan(); a port a matching leftover holds counts as free; the
 * adopted process's exit reaches svc through the pidfd (or, without
 * one, the start-time poll) with ADOPT_STATUS; run/spec is rewritten for
 * the current config.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>
#include <cmocka.h>

#include "adopt.c"

static struct meshd m;
static struct ports_fixed *fixed;
static char dir[64];

static void
load(const char *service, struct mesh_config *cfg, struct registry *reg)
{
	char path[128], ini[512];
	struct ports_alloc a;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/mesh.ini", dir);
	snprintf(ini, sizeof(ini), "[mesh]\nname = adt\nport_base = 21620\n%s", service);
	assert_non_null(f = fopen(path, "w"));
	fputs(ini, f);
	fclose(f);
	assert_int_equal(config_load(path, cfg, stderr), 0);
	assert_int_equal(state_mkdirs(cfg->mesh.state_dir), 0);
	free(fixed);
	assert_int_equal(ports_fixed_collect(cfg, &fixed, &n), 0);
	ports_alloc_init(&a, cfg->mesh.port_base, fixed, n, NULL, NULL);
	assert_int_equal(registry_init(reg, cfg, &a, stderr), 0);
}

static void
mesh_up(const char *service)
{
	memset(&m, 0, sizeof(m));
	snprintf(dir, sizeof(dir), "/tmp/test_adopt.XXXXXX");
	assert_non_null(mkdtemp(dir));
	load(service, &m.cfg, &m.reg);
	snprintf(m.proxy_path, sizeof(m.proxy_path), "/fake/mesh-proxy");
	snprintf(m.sock_path, sizeof(m.sock_path), "%s/run/meshd.sock", m.cfg.mesh.state_dir);
	m.loop = ev_default_loop(0);
	m.started = ev_now(m.loop);
	m.phase = MESHD_STARTING;
	assert_int_equal(svc_init(&m, NULL), 0);
}

static void
mesh_down(void)
{
	char cmd[128];

	adopt_free(&m);
	svc_free(&m);
	registry_free(&m.reg);
	config_free(&m.cfg);
	free(fixed);
	fixed = NULL;
	outlog_free();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* The leftovers forked by a test, killed by kill_leftovers() when a
 * failed test left them running (checked by start time: a pid that is
 * gone may be someone else's by then). */
static struct {
	pid_t              pid;
	unsigned long long start;
} forked[8];
static size_t nforked;

static int
kill_leftovers(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nforked; i++)
		if (forked[i].start != 0 &&
		    state_proc_starttime(forked[i].pid) == forked[i].start)
			kill(-forked[i].pid, SIGKILL);
	nforked = 0;
	return 0;
}

/* A leftover: a process in its own group that sleeps until killed.  Not
 * our child (a middle process forks it and exits), as a dead meshd's
 * children are not the next meshd's. */
static pid_t
leftover(const char *id, const char *kind, const char *name)
{
	int p[2];
	pid_t mid, pid = 0;

	assert_int_equal(pipe(p), 0);
	assert_true((mid = fork()) != -1);
	if (mid == 0) {
		if ((pid = fork()) == 0) {
			setpgid(0, 0);
			for (;;)
				pause();
		}
		setpgid(pid, pid);
		_exit(write(p[1], &pid, sizeof(pid)) == sizeof(pid) ? 0 : 1);
	}
	assert_int_equal(read(p[0], &pid, sizeof(pid)), sizeof(pid));
	waitpid(mid, NULL, 0);
	close(p[0]);
	close(p[1]);
	if (nforked < sizeof(forked) / sizeof(forked[0])) {
		forked[nforked].pid = pid;
		forked[nforked++].start = state_proc_starttime(pid);
	}
	/* the start time is fixed at fork: the record is exact at once */
	assert_int_equal(state_pid_write(m.cfg.mesh.state_dir, id, kind, pid, name), 0);
	return pid;
}

static int
gone(pid_t pid)
{
	return state_proc_starttime(pid) == 0;
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	*(int *)w->data = 1;
}

static int
app_not_running(void)
{
	return m.insts[0].app.state != PROC_RUNNING;
}

static int
run_until(int (*cond)(void), double secs)
{
	ev_timer t;
	int expired = 0;

	ev_timer_init(&t, deadline_cb, secs, 0.);
	t.data = &expired;
	ev_timer_start(m.loop, &t);
	while (!expired && !cond())
		ev_run(m.loop, EVRUN_ONCE);
	ev_timer_stop(m.loop, &t);
	return cond();
}

static void
test_fingerprints(void **state)
{
	struct state_spec a, b, c;
	struct mesh_config cfg2, cfg3;
	struct registry reg2, reg3;

	(void)state;
	mesh_up("[service.api]\ncommand = sleep 100\nport = 21610\n");
	adopt_spec_of(&m, &m.reg.inst[0], &a);
	load("[service.api]\ncommand = sleep 200\nport = 21610\n", &cfg2, &reg2);
	adopt_spec_of(&m, &reg2.inst[0], &b);
	load("[service.api]\ncommand = sleep 100\nport = 21611\n", &cfg3, &reg3);
	adopt_spec_of(&m, &reg3.inst[0], &c);
	assert_string_equal(a.id, "api@v1.0");
	assert_int_equal(a.nports, 3);            /* app, inbound, outbound */
	assert_int_equal(a.ports[0], 21610);
	assert_true(a.proxy_fp != 0 && a.app_fp != 0);
	assert_true(a.proxy_fp == b.proxy_fp);     /* the sidecar's start is the same */
	assert_true(a.app_fp != b.app_fp);         /* the command differs */
	assert_true(a.app_fp != c.app_fp && a.proxy_fp != c.proxy_fp);
	registry_free(&reg2);
	config_free(&cfg2);
	registry_free(&reg3);
	config_free(&cfg3);
	mesh_down();
}

static void
adopt_and_exit(int polled)
{
	struct state_spec spec[2], *now;
	size_t n;
	pid_t app, proxy, stray;
	char path[PATH_MAX];

	mesh_up("[service.api]\ncommand = sleep 100\nport = 21610\nrestart = never\n");
	app = leftover("api@v1.0", STATE_KIND_APP, "api.0");
	proxy = leftover("api@v1.0", STATE_KIND_PROXY, "api.0");
	stray = leftover("gone@v1.0", STATE_KIND_APP, "gone.0");
	/* the dead meshd's run/spec: the app matches, the sidecar does not,
	 * and "gone" has no line at all */
	adopt_spec_of(&m, &m.reg.inst[0], &spec[0]);
	spec[0].proxy_fp ^= 1 << 4;
	assert_int_equal(state_spec_write(m.cfg.mesh.state_dir, spec, 1), 0);

	assert_int_equal(adopt_scan(&m), 0);
	assert_true(gone(stray));                  /* no spec line: stopped at once */
	assert_int_equal(ad.nleft, 2);
	assert_int_equal(adopt_port_free(21610, NULL), 1);   /* its leftover runs */

	assert_int_equal(adopt_start(&m), 1);
	assert_int_equal(m.insts[0].app.state, PROC_RUNNING);
	assert_int_equal(m.insts[0].app.pid, app);
	assert_int_equal(m.insts[0].app.restarts, 0);
	assert_int_equal(m.insts[0].proxy.state, PROC_IDLE);   /* svc starts a new one */
	assert_true(gone(proxy));
	snprintf(path, sizeof(path), "%s/run/pids/api@v1.0.proxy", m.cfg.mesh.state_dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/run/pids/api@v1.0.app", m.cfg.mesh.state_dir);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(state_spec_read(m.cfg.mesh.state_dir, &now, &n), 0);
	assert_int_equal(n, 1);
	assert_true(now[0].proxy_fp == (spec[0].proxy_fp ^ (1 << 4)));
	free(now);

	if (polled) {
		/* as without pidfd_open(2): the start time, every ADOPT_POLL_S */
		struct adopt_proc *ap = &ad.procs[0];

		assert_ptr_equal(ap->p, &m.insts[0].app);
		ev_io_stop(m.loop, &ap->io);
		close(ap->pidfd);
		ap->pidfd = -1;
		ev_timer_start(m.loop, &ap->poll);
	}
	/* it dies: svc hears of it and, restart = never, leaves it */
	kill(app, SIGKILL);
	assert_true(run_until(app_not_running, 5.0));
	assert_int_equal(m.insts[0].app.state, PROC_EXITED);
	assert_int_equal(m.insts[0].app.last_status, ADOPT_STATUS);
	assert_int_equal(m.insts[0].app.pid, 0);
	assert_int_equal(access(path, F_OK), -1);
	mesh_down();
}

static void
test_adopt_pidfd(void **state)
{
	(void)state;
	adopt_and_exit(0);
}

static void
test_adopt_polled(void **state)
{
	(void)state;
	adopt_and_exit(1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fingerprints),
		cmocka_unit_test_teardown(test_adopt_pidfd, kill_leftovers),
		cmocka_unit_test_teardown(test_adopt_polled, kill_leftovers),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
