/* SPDX-License-Identifier: ISC */
/*
 * log: plain lines on stderr; the journal only when fd 2 is the stream that
 * JOURNAL_STREAM names; the fields of a journal entry; the fallback.
 *
 * Includes src/lib/log.c to replace its journal sender with a recorder (no
 * journald in a test), so log.o from the archive is not linked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "log.c"    /* src/lib: the test reaches its static functions */

/* ---- the recorder standing in for journal_sendv() --------------------- */

static char rec_fields[8][LOG_LINE_MAX + 64];
static int  rec_n;
static int  rec_calls;
static int  rec_result;

static int
rec_sendv(const struct iovec *iov, int n)
{
	int i;

	rec_calls++;
	rec_n = n < 8 ? n : 8;
	for (i = 0; i < rec_n; i++)
		snprintf(rec_fields[i], sizeof(rec_fields[i]), "%.*s",
		    (int)iov[i].iov_len, (const char *)iov[i].iov_base);
	return rec_result;
}

/* The value of field NAME in the last entry, or NULL. */
static const char *
rec_field(const char *name)
{
	size_t l = strlen(name);
	int i;

	for (i = 0; i < rec_n; i++)
		if (strncmp(rec_fields[i], name, l) == 0 && rec_fields[i][l] == '=')
			return rec_fields[i] + l + 1;
	return NULL;
}

/* ---- stderr into a file we can read back ------------------------------ */

static int   saved_fd2 = -1;
static FILE *cap;

static int
setup(void **state)
{
	fflush(stderr);
	saved_fd2 = dup(STDERR_FILENO);
	cap = tmpfile();
	if (saved_fd2 == -1 || cap == NULL || dup2(fileno(cap), STDERR_FILENO) == -1)
		return -1;
	unsetenv("JOURNAL_STREAM");
	log_sendv = rec_sendv;
	rec_calls = rec_n = rec_result = 0;
	log_set_fields(NULL, NULL);
	return 0;
}

static int
teardown(void **state)
{
	fflush(stderr);
	dup2(saved_fd2, STDERR_FILENO);
	close(saved_fd2);
	fclose(cap);
	unsetenv("JOURNAL_STREAM");
	return 0;
}

static const char *
captured(void)
{
	static char buf[4096];
	size_t n;

	fflush(stderr);
	rewind(cap);
	n = fread(buf, 1, sizeof(buf) - 1, cap);
	buf[n] = '\0';
	return buf;
}

/* JOURNAL_STREAM naming what fd 2 is now (match) or something else. */
static void
set_journal_stream(int match)
{
	struct stat st;
	char v[64];

	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + (match ? 0 : 1));
	setenv("JOURNAL_STREAM", v, 1);
}

/* ---- tests ------------------------------------------------------------ */

static void
test_plain_lines(void **state)
{
	log_init("meshd", LOG_LVL_INFO);
	assert_int_equal(log_journal(), 0);
	log_info("mesh %s up", "shop");
	log_warnx("port %d busy", 15000);
	errno = ENOENT;
	log_warn("open %s", "/etc/mesh/mesh.ini");
	log_debug("not shown at info");
	assert_string_equal(captured(),
	    "meshd: info: mesh shop up\n"
	    "meshd: warning: port 15000 busy\n"
	    "meshd: warning: open /etc/mesh/mesh.ini: No such file or directory\n");
	assert_int_equal(rec_calls, 0);
}

static void
test_fields_do_not_change_plain_lines(void **state)
{
	log_init("mesh-proxy", LOG_LVL_DEBUG);
	log_set_fields("api", "1");
	log_debug("ready");
	assert_string_equal(captured(), "mesh-proxy: debug: ready\n");
	assert_int_equal(rec_calls, 0);
}

static void
test_journal_stream_of_another_fd_is_plain(void **state)
{
	/* A child whose stderr is a pipe inherits JOURNAL_STREAM. */
	set_journal_stream(0);
	log_init("mesh-proxy", LOG_LVL_INFO);
	assert_int_equal(log_journal(), 0);
	log_info("hello");
	assert_string_equal(captured(), "mesh-proxy: info: hello\n");
	assert_int_equal(rec_calls, 0);
}

static void
test_malformed_journal_stream_is_plain(void **state)
{
	setenv("JOURNAL_STREAM", "12:34x", 1);
	log_init("meshd", LOG_LVL_INFO);
	assert_int_equal(log_journal(), 0);
	setenv("JOURNAL_STREAM", "", 1);
	log_init("meshd", LOG_LVL_INFO);
	assert_int_equal(log_journal(), 0);
}

static void
test_journal_entry_fields(void **state)
{
	set_journal_stream(1);
	log_init("mesh-proxy", LOG_LVL_INFO);
	assert_int_equal(log_journal(), 1);
	log_set_fields("api", "1");

	log_info("listening on 127.0.0.1:%d", 15001);
	assert_int_equal(rec_calls, 1);
	assert_string_equal(rec_field("MESSAGE"), "listening on 127.0.0.1:15001");
	assert_string_equal(rec_field("PRIORITY"), "6");
	assert_string_equal(rec_field("SYSLOG_IDENTIFIER"), "mesh-proxy");
	assert_string_equal(rec_field("MESH_SERVICE"), "api");
	assert_string_equal(rec_field("MESH_INSTANCE"), "1");
	assert_null(rec_field("ERRNO"));

	errno = ECONNREFUSED;
	log_warn("connect %s", "127.0.0.1:9090");
	assert_string_equal(rec_field("MESSAGE"), "connect 127.0.0.1:9090: Connection refused");
	assert_string_equal(rec_field("PRIORITY"), "4");
	assert_int_equal(atoi(rec_field("ERRNO")), ECONNREFUSED);

	log_debug("filtered by level before the journal");
	assert_int_equal(rec_calls, 2);
	/* nothing doubled on stderr */
	assert_string_equal(captured(), "");
}

static void
test_journal_without_fields(void **state)
{
	set_journal_stream(1);
	log_init("meshd", LOG_LVL_INFO);
	log_warnx("x");
	assert_null(rec_field("MESH_SERVICE"));
	assert_null(rec_field("MESH_INSTANCE"));
	assert_string_equal(rec_field("PRIORITY"), "4");
}

static void
test_journal_refused_falls_back(void **state)
{
	set_journal_stream(1);
	log_init("meshd", LOG_LVL_INFO);
	rec_result = -ENOENT;   /* no journald socket */
	log_info("still seen");
	assert_int_equal(rec_calls, 1);
	assert_string_equal(captured(), "meshd: info: still seen\n");
}

static void
test_relay(void **state)
{
	const char line[] = "mesh-proxy: warning: upstream reset|garbage";

	log_init("meshd", LOG_LVL_ERROR);  /* relayed lines are not filtered */
	log_relay(LOG_LVL_WARN, "mesh-proxy", "api", "0", line, 35);
	assert_string_equal(captured(), "mesh-proxy: warning: upstream reset\n");

	set_journal_stream(1);
	log_init("meshd", LOG_LVL_ERROR);
	log_relay(LOG_LVL_WARN, "mesh-proxy", "api", "0", line, 35);
	assert_string_equal(rec_field("MESSAGE"), "mesh-proxy: warning: upstream reset");
	assert_string_equal(rec_field("SYSLOG_IDENTIFIER"), "mesh-proxy");
	assert_string_equal(rec_field("MESH_SERVICE"), "api");
	assert_string_equal(rec_field("MESH_INSTANCE"), "0");
	assert_string_equal(rec_field("PRIORITY"), "4");
	log_relay(LOG_LVL_INFO, NULL, NULL, "", "app says hi", 11);
	assert_string_equal(rec_field("SYSLOG_IDENTIFIER"), "meshd");
	assert_null(rec_field("MESH_SERVICE"));
	assert_null(rec_field("MESH_INSTANCE"));
}

static void
test_relay_caps_length(void **state)
{
	static char big[LOG_LINE_MAX + 100];

	memset(big, 'a', sizeof(big));
	set_journal_stream(1);
	log_init("meshd", LOG_LVL_INFO);
	log_relay(LOG_LVL_INFO, NULL, NULL, NULL, big, sizeof(big));
	assert_int_equal(strlen(rec_field("MESSAGE")), LOG_LINE_MAX);
}

static void
test_line_level(void **state)
{
#define L(s) s, sizeof(s) - 1
	assert_int_equal(log_line_level(L("mesh-proxy: error: boom"), LOG_LVL_INFO), LOG_LVL_ERROR);
	assert_int_equal(log_line_level(L("mesh-proxy: warning: x"), LOG_LVL_INFO), LOG_LVL_WARN);
	assert_int_equal(log_line_level(L("meshd: debug: x"), LOG_LVL_INFO), LOG_LVL_DEBUG);
	assert_int_equal(log_line_level(L("meshd: info: x"), LOG_LVL_WARN), LOG_LVL_INFO);
	/* not our format: the default */
	assert_int_equal(log_line_level(L("GET / 200"), LOG_LVL_INFO), LOG_LVL_INFO);
	assert_int_equal(log_line_level(L("an app: error: spaces in PROG"), LOG_LVL_INFO), LOG_LVL_INFO);
	assert_int_equal(log_line_level(L("meshd: error:"), LOG_LVL_INFO), LOG_LVL_INFO);
	assert_int_equal(log_line_level(L(": error: x"), LOG_LVL_INFO), LOG_LVL_INFO);
	assert_int_equal(log_line_level(L(""), LOG_LVL_DEBUG), LOG_LVL_DEBUG);
	/* len bounds the scan: the level word is cut off */
	assert_int_equal(log_line_level("meshd: error: x", 10, LOG_LVL_INFO), LOG_LVL_INFO);
#undef L
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fields_do_not_change_plain_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_stream_of_another_fd_is_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_journal_stream_is_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_entry_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_without_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_refused_falls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_caps_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_level, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
