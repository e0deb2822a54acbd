/* SPDX-License-Identifier: ISC */
/*
 * spawn: which commands run as `exec COMMAND`, and a real spawn (own
 * process group, output on the pipe, exec failure reported).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "mesh/spawn.h"

static void
expect_cmd(const char *in, const char *want)
{
	char *out = spawn_shell_command(in);

	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void
test_shell_command(void **state)
{
	(void)state;
	expect_cmd("./api --port $PORT", "exec ./api --port $PORT");
	expect_cmd("  testapp --tcp >log 2>&1", "exec testapp --tcp >log 2>&1");
	expect_cmd("echo boom; exit 3", "echo boom; exit 3");
	expect_cmd("a && b", "a && b");
	expect_cmd("a | b", "a | b");
	expect_cmd("x $(date)", "x $(date)");
	expect_cmd("FOO=1 ./api", "FOO=1 ./api");
	expect_cmd("exec ./api", "exec ./api");
	expect_cmd("while true\ndo :; done", "while true\ndo :; done");
	expect_cmd("if", "if");
	expect_cmd("./api &", "./api &");
}

static void
test_spawn_real(void **state)
{
	char *argv[] = { (char *)"/bin/sh", (char *)"-c",
	    (char *)"echo $$ $(ps -o pgid= -p $$)", NULL };
	char *bad[] = { (char *)"/nonexistent/prog", NULL };
	char *envp[] = { (char *)"PATH=/usr/bin:/bin", NULL };
	char err[256], buf[128];
	int out, er, st, pid1, pgid1;
	ssize_t n;
	pid_t pid;

	(void)state;
	pid = spawn(argv, envp, "/", &out, &er, err, sizeof(err));
	assert_true(pid > 0);
	assert_string_equal(err, "");
	n = read(out, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_int_equal(sscanf(buf, "%d %d", &pid1, &pgid1), 2);
	assert_int_equal(pid1, pid);
	assert_int_equal(pgid1, pid);      /* leads its own process group */
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(out);
	close(er);

	pid = spawn(bad, envp, NULL, &out, &er, err, sizeof(err));
	assert_true(pid > 0);
	assert_non_null(strstr(err, "cannot run /nonexistent/prog"));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 127);
	close(out);
	close(er);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shell_command),
		cmocka_unit_test(test_spawn_real),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
