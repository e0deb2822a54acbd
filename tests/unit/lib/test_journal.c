/* SPDX-License-Identifier: ISC */
/*
 * test_journal: the native journal protocol's datagram, byte for byte,
 * on a socket of our own standing in for journald's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mesh/journal.h"

static char path[108];
static int  sfd = -1;

static int
setup(void **state)
{
	struct sockaddr_un sa;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_journal.%ld.sock", (long)getpid());
	unlink(path);
	sfd = socket(AF_UNIX, SOCK_DGRAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	if (sfd == -1 || bind(sfd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		return -1;
	journal_set_socket(path);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	close(sfd);
	unlink(path);
	journal_set_socket(NULL);
	return 0;
}

static struct iovec
field(const char *s)
{
	struct iovec v = { (void *)(uintptr_t)s, strlen(s) };
	return v;
}

/* journal_sendv(iov, n) sends exactly want[0..len) as one datagram. */
static void
sent_as(const struct iovec *iov, int n, const char *want, size_t len)
{
	char got[256];

	assert_int_equal(journal_sendv(iov, n), 0);
	assert_int_equal(recv(sfd, got, sizeof(got), 0), (ssize_t)len);
	assert_memory_equal(got, want, len);
}

static void
test_plain_fields(void **state)
{
	struct iovec iov[3];
	const char want[] = "MESSAGE=hello\nPRIORITY=6\nMESH_SERVICE=api\n";

	(void)state;
	iov[0] = field("MESSAGE=hello");
	iov[1] = field("PRIORITY=6");
	iov[2] = field("MESH_SERVICE=api");
	sent_as(iov, 3, want, sizeof(want) - 1);
}

static void
test_newline_value_is_binary(void **state)
{
	struct iovec iov[2];
	/* "MESSAGE\n" + le64(3) + "a\nb" + "\n", then a plain field */
	const char want[] = "MESSAGE\n\x03\0\0\0\0\0\0\0a\nb\nPRIORITY=3\n";

	(void)state;
	iov[0] = field("MESSAGE=a\nb");
	iov[1] = field("PRIORITY=3");
	sent_as(iov, 2, want, sizeof(want) - 1);
}

static void
test_too_large_is_refused(void **state)
{
	static char big[JOURNAL_DGRAM_MAX + 16];
	struct iovec iov[1];

	(void)state;
	memcpy(big, "MESSAGE=", 8);
	memset(big + 8, 'x', sizeof(big) - 9);
	iov[0].iov_base = big;
	iov[0].iov_len = sizeof(big) - 1;
	assert_int_equal(journal_sendv(iov, 1), -EMSGSIZE);
}

static void
test_no_journal(void **state)
{
	struct iovec iov[1];

	(void)state;
	journal_set_socket("/nonexistent/journal.sock");
	iov[0] = field("MESSAGE=x");
	assert_true(journal_sendv(iov, 1) < 0);
	journal_set_socket(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_fields),
		cmocka_unit_test(test_newline_value_is_binary),
		cmocka_unit_test(test_too_large_is_refused),
		cmocka_unit_test(test_no_journal),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
