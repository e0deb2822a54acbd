/* SPDX-License-Identifier: ISC */
/*
 * test_outlog: a child's lines under systemd become journal entries of
 * their own (MESH_SERVICE, MESH_INSTANCE, SYSLOG_IDENTIFIER, PRIORITY)
 * instead of lines on meshd's stdout; without the journal, or without
 * fields, they stay prefixed lines on stdout.  Either way the ring keeps
 * them.  journald is stood in for by a datagram socket of our own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "mesh/journal.h"
#include "mesh/log.h"
#include "mesh/outlog.h"

static char  sock_path[108];
static int   sfd = -1;
static int   saved_stdout = -1;
static FILE *out;   /* what meshd's stdout got */

static int
setup(void **state)
{
	struct sockaddr_un sa;

	(void)state;
	snprintf(sock_path, sizeof(sock_path), "/tmp/test_outlog.%ld.sock", (long)getpid());
	unlink(sock_path);
	sfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, sock_path);
	if (sfd == -1 || bind(sfd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		return -1;
	journal_set_socket(sock_path);
	fflush(stdout);
	saved_stdout = dup(STDOUT_FILENO);
	out = tmpfile();
	if (out == NULL || dup2(fileno(out), STDOUT_FILENO) == -1)
		return -1;
	outlog_init(8, NULL, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	outlog_free();
	fflush(stdout);
	dup2(saved_stdout, STDOUT_FILENO);
	close(saved_stdout);
	fclose(out);
	close(sfd);
	unlink(sock_path);
	journal_set_socket(NULL);
	unsetenv("JOURNAL_STREAM");
	return 0;
}

/* log_init() takes the journal when JOURNAL_STREAM names fd 2 (or not). */
static void
journal_on(int on)
{
	struct stat st;
	char v[64];

	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	if (on)
		setenv("JOURNAL_STREAM", v, 1);
	else
		unsetenv("JOURNAL_STREAM");
	log_init("meshd", LOG_LVL_INFO);
	assert_int_equal(log_journal(), on);
}

/* Everything stdout got so far. */
static const char *
stdout_text(void)
{
	static char buf[1024];
	size_t n;

	fflush(stdout);
	rewind(out);
	n = fread(buf, 1, sizeof(buf) - 1, out);
	buf[n] = '\0';
	return buf;
}

/* Feed "text" through a pipe into p, as a child's output would come. */
static void
feed(struct outlog_pipe *p, const char *text)
{
	struct ev_loop *loop = ev_default_loop(0);
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], text, strlen(text)), (ssize_t)strlen(text));
	close(fds[1]);
	outlog_pipe_open(p, loop, fds[0]);
	ev_run(loop, EVRUN_NOWAIT);
	outlog_pipe_close(p, loop);
}

static void
ring_cb(void *arg, const char *line, size_t len)
{
	char *acc = arg;

	strncat(acc, line, len);
	strcat(acc, "\n");
}

/* The value of NAME in a "NAME=value\n..." datagram, or NULL. */
static const char *
dgram_field(const char *d, const char *name, char *val, size_t size)
{
	size_t l = strlen(name);
	const char *p = d;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');

		if (strncmp(p, name, l) == 0 && p[l] == '=') {
			size_t n = nl != NULL ? (size_t)(nl - p - l - 1) : strlen(p + l + 1);

			snprintf(val, size, "%.*s", (int)n, p + l + 1);
			return val;
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	return NULL;
}

static void
test_journal_entries_with_fields(void **state)
{
	struct outlog_pipe p;
	char d[2048], v[128], ring[2048] = "";
	ssize_t n;

	(void)state;
	journal_on(1);
	outlog_pipe_init(&p, "api.1");
	outlog_pipe_fields(&p, "api", "api", 1);
	feed(&p, "listening on 8201\napi: warning: disk low\n");

	n = recv(sfd, d, sizeof(d) - 1, 0);
	assert_true(n > 0);
	d[n] = '\0';
	assert_string_equal(dgram_field(d, "MESSAGE", v, sizeof(v)), "listening on 8201");
	assert_string_equal(dgram_field(d, "MESH_SERVICE", v, sizeof(v)), "api");
	assert_string_equal(dgram_field(d, "MESH_INSTANCE", v, sizeof(v)), "1");
	assert_string_equal(dgram_field(d, "SYSLOG_IDENTIFIER", v, sizeof(v)), "api");
	assert_string_equal(dgram_field(d, "PRIORITY", v, sizeof(v)), "6");
	n = recv(sfd, d, sizeof(d) - 1, 0);
	assert_true(n > 0);
	d[n] = '\0';
	assert_string_equal(dgram_field(d, "MESSAGE", v, sizeof(v)), "api: warning: disk low");
	assert_string_equal(dgram_field(d, "PRIORITY", v, sizeof(v)), "4");
	assert_int_equal(recv(sfd, d, sizeof(d), 0), -1);   /* no more */
	/* not repeated on meshd's own stdout (the journal has them once) */
	assert_string_equal(stdout_text(), "");
	outlog_ring(ring_cb, ring);
	assert_string_equal(ring, "api.1    | listening on 8201\n"
	    "api.1    | api: warning: disk low\n");
}

static void
test_no_journal_plain_lines(void **state)
{
	struct outlog_pipe p;
	char d[256];

	(void)state;
	journal_on(0);
	outlog_pipe_init(&p, "api.1~proxy");
	outlog_pipe_fields(&p, "mesh-proxy", "api", 1);
	feed(&p, "mesh-proxy: info: ready\n");
	assert_string_equal(stdout_text(), "api.1~proxy | mesh-proxy: info: ready\n");
	assert_int_equal(recv(sfd, d, sizeof(d), 0), -1);
}

/* A pipe without fields (none set) is a plain line even under journald. */
static void
test_no_fields_plain_lines(void **state)
{
	struct outlog_pipe p;
	char d[256];

	(void)state;
	journal_on(1);
	outlog_pipe_init(&p, "web.0");
	feed(&p, "hello\n");
	assert_string_equal(stdout_text(), "web.0    | hello\n");
	assert_int_equal(recv(sfd, d, sizeof(d), 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_journal_entries_with_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_journal_plain_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_fields_plain_lines, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
