/* SPDX-License-Identifier: ISC */
/*
 * ctl: option parsing, the control-socket client against a scripted peer,
 * the lenient config fallback of `down`, process liveness.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "mesh/ctl.h"
#include "mesh/ipc.h"

/* ---- options ---------------------------------------------------------- */

static int dummy_run(const struct ctl_opts *o) { (void)o; return 0; }

static const struct ctl_cmd cmd_status = {
	"status", "[-f FILE] [--json]", "", CTL_OPT_FILE | CTL_OPT_JSON, dummy_run,
};
static const struct ctl_cmd cmd_up = {
	"up", "[-f FILE] [-d] [--timeout SECS]", "",
	CTL_OPT_FILE | CTL_OPT_DETACH | CTL_OPT_TIMEOUT, dummy_run,
};

static int
parse(const struct ctl_cmd *cmd, struct ctl_opts *o, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;

	argv[argc++] = (char *)cmd->name;
	va_start(ap, o);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	return ctl_cli_parse(cmd, argc, argv, o);
}

static void
test_cli_defaults(void **state)
{
	struct ctl_opts o;

	(void)state;
	assert_int_equal(parse(&cmd_status, &o, NULL), -1);
	assert_string_equal(o.file, "mesh.ini");
	assert_int_equal(o.json, 0);
	assert_int_equal(o.detach, 0);
	assert_int_equal(o.timeout_s, 0);
}

static const struct ctl_cmd cmd_logs = {
	"logs", "", "", CTL_OPT_FILE | CTL_OPT_LOGS | CTL_OPT_ARGS, dummy_run,
};
static const struct ctl_cmd cmd_tap = {
	"tap", "", "", CTL_OPT_FILE | CTL_OPT_JSON | CTL_OPT_TAP | CTL_OPT_ARGS, dummy_run,
};
static const struct ctl_cmd cmd_run = {
	"run", "", "", CTL_OPT_FILE | CTL_OPT_AS | CTL_OPT_ARGS, dummy_run,
};

/* logs: -f is --follow there, the file is --file; -n, --since */
static void
test_cli_logs(void **state)
{
	struct ctl_opts o;
	int64_t before = (int64_t)time(NULL);

	(void)state;
	assert_int_equal(parse(&cmd_logs, &o, "-f", "--file", "x.ini", "-n", "5", "api", NULL), -1);
	assert_int_equal(o.follow, 1);
	assert_string_equal(o.file, "x.ini");
	assert_int_equal(o.count, 5);
	assert_int_equal(o.nargs, 1);
	assert_string_equal(o.args[0], "api");
	assert_int_equal(parse(&cmd_logs, &o, "--file=y.ini", "--since", "10m", NULL), -1);
	assert_int_equal(o.follow, 0);
	assert_string_equal(o.file, "y.ini");
	assert_true(o.since >= before - 600 && o.since <= (int64_t)time(NULL) - 600);
	assert_int_equal(parse(&cmd_logs, &o, "--follow", "-n", "1000000", NULL), -1);
	assert_int_equal(o.follow, 1);
	assert_int_equal(o.count, 1000000);
	assert_int_equal(parse(&cmd_logs, &o, "-n", "1000001", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_logs, &o, "--since", "10x", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_logs, &o, "-d", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_logs, &o, "--path", "/", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_status, &o, "--follow", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_status, &o, "-n", "3", NULL), CTL_USAGE);
}

static void
test_cli_since(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(ctl_cli_since("90", 1000, &t), 0);
	assert_int_equal(t, 910);
	assert_int_equal(ctl_cli_since("90s", 1000, &t), 0);
	assert_int_equal(t, 910);
	assert_int_equal(ctl_cli_since("2m", 1000, &t), 0);
	assert_int_equal(t, 880);
	assert_int_equal(ctl_cli_since("1h", 100000, &t), 0);
	assert_int_equal(t, 96400);
	assert_int_equal(ctl_cli_since("1d", 100000, &t), 0);
	assert_int_equal(t, 13600);
	assert_int_equal(ctl_cli_since("2026-12-06T14:00:05Z", 0, &t), 0);
	assert_int_equal(t, 1796565605);
	assert_int_equal(ctl_cli_since("2026-12-06T14:00Z", 0, &t), 0);
	assert_int_equal(t, 1796565600);
	assert_int_equal(ctl_cli_since("2026-12-06Z", 0, &t), 0);
	assert_int_equal(t, 1796515200);
	assert_int_equal(ctl_cli_since("2026-12-06T14:00", 0, &t), 0);
	assert_int_equal(ctl_cli_since("", 0, &t), -1);
	assert_int_equal(ctl_cli_since("m", 0, &t), -1);
	assert_int_equal(ctl_cli_since("5mm", 0, &t), -1);
	assert_int_equal(ctl_cli_since("-5m", 0, &t), -1);
	assert_int_equal(ctl_cli_since("99999999999999d", 0, &t), -1);
	assert_int_equal(ctl_cli_since("2026-13-06", 0, &t), -1);
	assert_int_equal(ctl_cli_since("2026-12-06T25:00", 0, &t), -1);
	assert_int_equal(ctl_cli_since("2026-12-06T14:00 junk", 0, &t), -1);
}

/* tap: --path, --status, -n, --json; run: --as and the command after -- */
static void
test_cli_tap_run(void **state)
{
	struct ctl_opts o;
	unsigned lo, hi;

	(void)state;
	assert_int_equal(parse(&cmd_tap, &o, "--path", "/users", "--status", "5xx", "-n", "3",
	    "--json", "api", NULL), -1);
	assert_string_equal(o.path, "/users");
	assert_int_equal(o.status_lo, 500);
	assert_int_equal(o.status_hi, 599);
	assert_int_equal(o.count, 3);
	assert_int_equal(o.json, 1);
	assert_string_equal(o.args[0], "api");
	assert_int_equal(parse(&cmd_tap, &o, "--status", "404", "api", NULL), -1);
	assert_int_equal(o.status_lo, 404);
	assert_int_equal(o.status_hi, 404);
	assert_int_equal(parse(&cmd_tap, &o, "--path", "users", "api", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_tap, &o, "--as", "web", "api", NULL), CTL_USAGE);
	assert_int_equal(ctl_cli_status("4XX", &lo, &hi), 0);
	assert_int_equal(lo, 400);
	assert_int_equal(hi, 499);
	assert_int_equal(ctl_cli_status("6xx", &lo, &hi), -1);
	assert_int_equal(ctl_cli_status("600", &lo, &hi), -1);
	assert_int_equal(ctl_cli_status("50", &lo, &hi), -1);
	assert_int_equal(ctl_cli_status("5xxx", &lo, &hi), -1);
	assert_int_equal(parse(&cmd_run, &o, "--as", "web", "--", "curl", "-s", "http://api/", NULL), -1);
	assert_string_equal(o.as, "web");
	assert_int_equal(o.nargs, 3);
	assert_string_equal(o.args[0], "curl");
	assert_string_equal(o.args[1], "-s");
	assert_string_equal(o.args[2], "http://api/");
	assert_null(o.args[3]);   /* execvp's end: nothing left over after "--" */
	assert_int_equal(parse(&cmd_run, &o, "--as", "", "--", "true", NULL), CTL_USAGE);
	/* options after the operand (`tap api --status 5xx`), in order */
	assert_int_equal(parse(&cmd_tap, &o, "api", "--status", "5xx", "-n", "2", NULL), -1);
	assert_int_equal(o.nargs, 1);
	assert_string_equal(o.args[0], "api");
	assert_int_equal(o.status_lo, 500);
	assert_int_equal(o.count, 2);
	assert_int_equal(parse(&cmd_logs, &o, "api", "-f", "web.0", "--file", "x.ini", NULL), -1);
	assert_int_equal(o.follow, 1);
	assert_string_equal(o.file, "x.ini");
	assert_int_equal(o.nargs, 2);
	assert_string_equal(o.args[0], "api");
	assert_string_equal(o.args[1], "web.0");
	assert_int_equal(parse(&cmd_logs, &o, "api", "--", "-odd", NULL), -1);
	assert_int_equal(o.nargs, 2);
	assert_string_equal(o.args[1], "-odd");
	assert_int_equal(parse(&cmd_status, &o, "extra", "--json", NULL), CTL_USAGE);
	/* run: from the command on, every word is the command's */
	assert_int_equal(parse(&cmd_run, &o, "curl", "-s", "-f", "http://api/", NULL), -1);
	assert_string_equal(o.file, "mesh.ini");
	assert_int_equal(o.nargs, 4);
	assert_string_equal(o.args[2], "-f");
	assert_null(o.args[4]);
	assert_int_equal(parse(&cmd_logs, &o, "api", "-f", "web.0", NULL), -1);
	assert_null(o.args[2]);
	assert_int_equal(parse(&cmd_run, &o, "--since", "1m", "--", "true", NULL), CTL_USAGE);
}

static const struct ctl_cmd cmd_fault = {
	"fault", "", "", CTL_OPT_FILE | CTL_OPT_ARGS | CTL_OPT_FAULT, dummy_run,
};

/* fault: the values are kept as given (ctl_fault.c checks them: exit 1) */
static void
test_cli_fault(void **state)
{
	struct ctl_opts o;

	(void)state;
	assert_int_equal(parse(&cmd_fault, &o, "api", "--delay", "10%:300ms", "--abort", "5%:503",
	    "--version", "v2", "--match", "x-chaos: 1", "-f", "m.ini", NULL), -1);
	assert_int_equal(o.nargs, 1);
	assert_string_equal(o.args[0], "api");
	assert_string_equal(o.fault_delay, "10%:300ms");
	assert_string_equal(o.fault_abort, "5%:503");
	assert_string_equal(o.fault_version, "v2");
	assert_string_equal(o.fault_match, "x-chaos: 1");
	assert_string_equal(o.file, "m.ini");
	assert_int_equal(o.off, 0);
	assert_int_equal(o.fault_off_all, 0);
	assert_int_equal(parse(&cmd_fault, &o, "--abort=120%:503", "api", NULL), -1);
	assert_string_equal(o.fault_abort, "120%:503");
	assert_int_equal(parse(&cmd_fault, &o, "api", "--off", NULL), -1);
	assert_int_equal(o.off, 1);
	assert_null(o.fault_delay);
	assert_int_equal(parse(&cmd_fault, &o, "--off-all", NULL), -1);
	assert_int_equal(o.fault_off_all, 1);
	assert_int_equal(o.off, 0);
	assert_int_equal(o.nargs, 0);
	assert_int_equal(parse(&cmd_fault, &o, "api", "--delay", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_fault, &o, "api", "--abort", "1%:503", "--abort", "2%:503",
	    NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_fault, &o, "api", "--off=1", NULL), CTL_USAGE);
	/* other commands do not take them */
	assert_int_equal(parse(&cmd_status, &o, "--off-all", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_status, &o, "--delay", "1%:1s", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_up, &o, "--version", "v2", NULL), CTL_USAGE);
}

static const struct ctl_cmd cmd_mirror = {
	"mirror", "", "", CTL_OPT_FILE | CTL_OPT_ARGS | CTL_OPT_OFF, dummy_run,
};

/* mirror: operands kept (ctl_mirror.c checks VERSION=P%), --off and
 * nothing else of fault's */
static void
test_cli_mirror(void **state)
{
	struct ctl_opts o;

	(void)state;
	assert_int_equal(parse(&cmd_mirror, &o, "api", "v2=10%", "-f", "m.ini", NULL), -1);
	assert_int_equal(o.nargs, 2);
	assert_string_equal(o.args[1], "v2=10%");
	assert_int_equal(o.off, 0);
	assert_int_equal(parse(&cmd_mirror, &o, "api", "--off", NULL), -1);
	assert_int_equal(o.off, 1);
	assert_int_equal(o.nargs, 1);
	assert_int_equal(parse(&cmd_mirror, &o, "--off", "api", NULL), -1);
	assert_int_equal(o.off, 1);
	assert_int_equal(parse(&cmd_mirror, &o, "api", "--off-all", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_mirror, &o, "api", "--delay", "1%:1s", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_status, &o, "--off", NULL), CTL_USAGE);
}

static void
test_cli_accepted(void **state)
{
	struct ctl_opts o;

	(void)state;
	assert_int_equal(parse(&cmd_status, &o, "-f", "x.ini", "--json", NULL), -1);
	assert_string_equal(o.file, "x.ini");
	assert_int_equal(o.json, 1);
	assert_int_equal(parse(&cmd_status, &o, "--file=y.ini", NULL), -1);
	assert_string_equal(o.file, "y.ini");
	assert_int_equal(parse(&cmd_up, &o, "-d", "--timeout", "5", "-fz.ini", NULL), -1);
	assert_int_equal(o.detach, 1);
	assert_int_equal(o.timeout_s, 5);
	assert_string_equal(o.file, "z.ini");
}

static const struct ctl_cmd cmd_certs = {
	"certs", "", "", CTL_OPT_FILE | CTL_OPT_JSON | CTL_OPT_ROTATE | CTL_OPT_JOIN_TOKEN,
	dummy_run,
};
static const struct ctl_cmd cmd_join = {
	"join", "", "", CTL_OPT_FILE | CTL_OPT_TIMEOUT | CTL_OPT_TOKEN, dummy_run,
};

/* certs --join-token [--ttl D]; join --token T [--timeout D]; neither
 * option anywhere else. */
static void
test_cli_join(void **state)
{
	struct ctl_opts o;

	(void)state;
	assert_int_equal(parse(&cmd_certs, &o, "--join-token", "--ttl", "2h", NULL), -1);
	assert_true(o.join_token);
	assert_string_equal(o.ttl, "2h");
	assert_int_equal(parse(&cmd_join, &o, "--token", "meshtok1.x", "--timeout", "30s",
	    "-f", "j.ini", NULL), -1);
	assert_string_equal(o.token, "meshtok1.x");
	assert_int_equal(o.timeout_s, 30);
	assert_string_equal(o.file, "j.ini");
	assert_int_equal(parse(&cmd_join, &o, "--token", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_join, &o, "--join-token", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_status, &o, "--token", "x", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_status, &o, "--ttl", "1h", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_certs, &o, "--token", "x", NULL), CTL_USAGE);
}

static void
test_cli_rejected(void **state)
{
	struct ctl_opts o;

	(void)state;
	assert_int_equal(parse(&cmd_status, &o, "-d", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_status, &o, "--timeout", "5", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_status, &o, "--bogus", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_status, &o, "-x", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_status, &o, "-f", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_status, &o, "-f", "", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_status, &o, "extra", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_up, &o, "--timeout", "0", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_up, &o, "--timeout", "-1", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_up, &o, "--timeout", "3601", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_up, &o, "--timeout", "1500ms", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_up, &o, "--timeout", "5x", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_up, &o, "--timeout", "2h", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_up, &o, "--timeout", "5s", NULL), -1);   /* a duration */
	assert_int_equal(o.timeout_s, 5);
	assert_int_equal(parse(&cmd_up, &o, "--timeout", "99999999999999999999", NULL), CTL_USAGE);
	assert_int_equal(parse(&cmd_status, &o, "-h", NULL), CTL_OK);
	assert_int_equal(parse(&cmd_status, &o, "--help", NULL), CTL_OK);
}

/* ---- the control socket ----------------------------------------------- */

struct seen {
	char   text[1024];
	size_t n;
};

static void
collect(void *arg, uint16_t type, const char *payload, size_t len)
{
	struct seen *s = arg;
	int w;

	w = snprintf(s->text + strlen(s->text), sizeof(s->text) - strlen(s->text),
	    "%c:%.*s|", type == IPC_LOGLINE ? 'L' : 'R', (int)len, payload);
	(void)w;
	s->n++;
}

static void
put(int fd, uint16_t type, const char *payload)
{
	assert_int_equal(ipc_send(fd, type, payload, strlen(payload)), 0);
}

/* Runs `cmd` against a peer that already wrote its replies; checks what
 * the peer received. */
static int
run(const char *cmd, int peer, int us, int timeout_ms, struct seen *s)
{
	uint16_t type;
	char *payload;
	size_t len;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = ctl_conn_command(us, cmd, timeout_ms, collect, s);
	assert_int_equal(ipc_recv(peer, &type, &payload, &len), 0);
	assert_int_equal(type, IPC_CMD);
	assert_string_equal(payload, cmd);
	free(payload);
	return rc;
}

static void
test_conn_replies_then_done(void **state)
{
	struct seen s;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	put(sv[1], IPC_LOGLINE, "alpha: ready");
	put(sv[1], IPC_REPLY, "line two\n");
	put(sv[1], IPC_DONE, "0");
	assert_int_equal(run("wait-ready", sv[1], sv[0], 2000, &s), 0);
	assert_string_equal(s.text, "L:alpha: ready|R:line two\n|");

	put(sv[1], IPC_DONE, "1");
	assert_int_equal(run("status", sv[1], sv[0], 2000, &s), 1);
	assert_int_equal(s.n, 0);
	close(sv[0]);
	close(sv[1]);
}

static void
test_conn_eof_and_timeout(void **state)
{
	struct seen s;
	int sv[2];

	(void)state;
	/* nothing comes: timeout, ETIMEDOUT */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	errno = 0;
	assert_int_equal(run("status", sv[1], sv[0], 200, &s), -1);
	assert_int_equal(errno, ETIMEDOUT);
	/* a reply, then a message of a type meshd never sends: an error */
	put(sv[1], IPC_REPLY, "partial");
	assert_int_equal(ipc_send(sv[1], IPC_CMD, "", 0), 0);   /* wrong type */
	assert_int_equal(run("down", sv[1], sv[0], 2000, &s), -1);
	assert_string_equal(s.text, "R:partial|");
	close(sv[0]);
	close(sv[1]);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	put(sv[1], IPC_REPLY, "bye");
	shutdown(sv[1], SHUT_WR);
	errno = 0;
	assert_int_equal(run("down", sv[1], sv[0], 2000, &s), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_string_equal(s.text, "R:bye|");
	close(sv[0]);
	close(sv[1]);
}

static void
test_conn_bad_done(void **state)
{
	static const char *bad[] = { "", "x", "256", "-1", "0 ", "12a" };
	struct seen s;
	size_t i;
	int sv[2];

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		put(sv[1], IPC_DONE, bad[i]);
		assert_int_equal(run("ping", sv[1], sv[0], 2000, &s), -1);
		close(sv[0]);
		close(sv[1]);
	}
	/* a header with nonzero flags is a protocol error, not a crash */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	{
		unsigned char h[IPC_HDR_LEN];

		ipc_hdr_encode(h, IPC_REPLY, 0);
		h[7] = 1;
		assert_int_equal(write(sv[1], h, sizeof(h)), (ssize_t)sizeof(h));
	}
	assert_int_equal(run("ping", sv[1], sv[0], 2000, &s), -1);
	close(sv[0]);
	close(sv[1]);
}

static char tmpdir[64];

static int
mk_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_ctl.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
rm_tmp(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_conn_open_not_running(void **state)
{
	struct ctl_mesh m;
	struct sockaddr_un sun;
	char path[256], longp[200];
	int fd, s;

	(void)state;
	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "t");
	snprintf(path, sizeof(path), "%s/meshd.sock", tmpdir);
	m.sock_path = path;
	assert_int_equal(ctl_conn_open(&m, &fd), CTL_NOT_RUNNING);   /* missing */

	/* bound, never listening (a dead meshd's socket): refused */
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(ctl_conn_open(&m, &fd), CTL_NOT_RUNNING);
	assert_int_equal(listen(s, 1), 0);
	assert_int_equal(ctl_conn_open(&m, &fd), CTL_OK);
	close(fd);
	close(s);

	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	m.sock_path = longp;
	assert_int_equal(ctl_conn_open(&m, &fd), CTL_FAIL);
}

/* ---- which mesh --------------------------------------------------------- */

static void
test_mesh_lenient(void **state)
{
	struct ctl_mesh m;
	char file[128], want[256];

	(void)state;
	snprintf(file, sizeof(file), "%s/shop.ini", tmpdir);
	write_file(file,
	    "[mesh]\nname = shop\nstate_dir = st\n\n[service.a]\nport = 21998\nbogus = 1\n");
	assert_int_equal(ctl_mesh_open(file, 0, &m), CTL_FAIL);
	assert_int_equal(ctl_mesh_open(file, 1, &m), CTL_OK);
	assert_int_equal(m.have_cfg, 0);
	assert_string_equal(m.name, "shop");
	snprintf(want, sizeof(want), "%s/st/run/meshd.sock", tmpdir);
	assert_string_equal(m.sock_path, want);
	ctl_mesh_close(&m);

	/* defaults: name from the file name, state dir .mesh */
	write_file(file, "[mesh]\nbogus = 1\n");
	assert_int_equal(ctl_mesh_open(file, 1, &m), CTL_OK);
	assert_string_equal(m.name, "shop");
	snprintf(want, sizeof(want), "%s/.mesh/run/meshd.pid", tmpdir);
	assert_string_equal(m.pid_path, want);
	ctl_mesh_close(&m);

	/* a state dir that needs ${VAR}: only config.c may expand it */
	write_file(file, "[mesh]\nstate_dir = ${HOME}/x\nbogus = 1\n");
	assert_int_equal(ctl_mesh_open(file, 1, &m), CTL_FAIL);
}

static void
test_mesh_valid(void **state)
{
	struct ctl_mesh m;
	char file[128], want[256];

	(void)state;
	snprintf(file, sizeof(file), "%s/good.ini", tmpdir);
	write_file(file, "[mesh]\nstate_dir = s2\n\n[service.a]\nport = 21997\n");
	assert_int_equal(ctl_mesh_open(file, 0, &m), CTL_OK);
	assert_int_equal(m.have_cfg, 1);
	assert_string_equal(m.name, "good");
	snprintf(want, sizeof(want), "%s/s2", tmpdir);
	assert_string_equal(m.state_dir, want);
	ctl_mesh_close(&m);
}

/* ---- processes ---------------------------------------------------------- */

static void
test_proc_alive(void **state)
{
	pid_t pid, grp;
	int st;

	(void)state;
	assert_int_equal(ctl_proc_alive(getpid()), 1);
	assert_int_equal(ctl_proc_alive(0), 0);
	assert_int_equal(ctl_proc_alive(-1), 0);

	/* a zombie is gone */
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		_exit(0);
	assert_int_equal(ctl_proc_wait_gone(&pid, 1, NULL, 0, 2000), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(ctl_proc_alive(pid), 0);

	/* a group is alive while any member is */
	grp = fork();
	assert_true(grp != -1);
	if (grp == 0) {
		setpgid(0, 0);
		pause();
		_exit(0);
	}
	setpgid(grp, grp);
	assert_int_equal(ctl_proc_group_alive(grp), 1);
	assert_int_equal(ctl_proc_wait_gone(NULL, 0, &grp, 1, 100), 1);
	kill(grp, SIGKILL);
	assert_int_equal(ctl_proc_wait_gone(NULL, 0, &grp, 1, 2000), 0);
	waitpid(grp, &st, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_defaults),
		cmocka_unit_test(test_cli_accepted),
		cmocka_unit_test(test_cli_rejected),
		cmocka_unit_test(test_cli_join),
		cmocka_unit_test(test_cli_logs),
		cmocka_unit_test(test_cli_since),
		cmocka_unit_test(test_cli_tap_run),
		cmocka_unit_test(test_cli_fault),
		cmocka_unit_test(test_cli_mirror),
		cmocka_unit_test(test_conn_replies_then_done),
		cmocka_unit_test(test_conn_eof_and_timeout),
		cmocka_unit_test(test_conn_bad_done),
		cmocka_unit_test(test_conn_open_not_running),
		cmocka_unit_test(test_mesh_lenient),
		cmocka_unit_test(test_mesh_valid),
		cmocka_unit_test(test_proc_alive),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, mk_tmp, rm_tmp);
}
