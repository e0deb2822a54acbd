/* SPDX-License-Identifier: ISC */
/*
 * test_jtok: the join token (format, parse, refusals), its MAC, the two
 * etcd messages, and the tokens file (load, save, prune, bounds, bad
 * lines named by file:line).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mesh/jtok.h"

static char dir[64], file[128];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/meshjtok.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(file, sizeof(file), "%s/" JTOK_FILE, dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *text)
{
	FILE *f = fopen(file, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_token(void **state)
{
	struct jtok t, u;
	char s[JTOK_STR_MAX], err[256];
	int n;

	(void)state;
	assert_int_equal(jtok_new(&t, "my.mesh-1", 100), 0);
	n = jtok_format(&t, s, sizeof(s));
	assert_int_equal(n, (int)strlen("meshtok1.my.mesh-1.") + 16 + 1 + 64);
	assert_int_equal(strncmp(s, "meshtok1.my.mesh-1.", 19), 0);
	assert_int_equal(jtok_parse(s, &u, err, sizeof(err)), 0);
	assert_string_equal(u.mesh, "my.mesh-1");
	assert_memory_equal(u.id, t.id, sizeof(t.id));
	assert_memory_equal(u.secret, t.secret, sizeof(t.secret));
	assert_int_equal(jtok_format(&t, s, 20), -1);

	assert_int_equal(jtok_parse("hello", &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a join token"));
	assert_int_equal(jtok_parse("meshtok1.m.0011", &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "malformed"));
	/* a bad hex digit in the secret */
	n = jtok_format(&t, s, sizeof(s));
	s[n - 1] = 'g';
	assert_int_equal(jtok_parse(s, &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "hex"));
	/* no mesh name */
	assert_int_equal(jtok_parse("meshtok1..0011223344556677."
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", &u, err,
	    sizeof(err)), -1);
	/* a space in the mesh name */
	assert_int_equal(jtok_parse("meshtok1.a b.0011223344556677."
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", &u, err,
	    sizeof(err)), -1);
	assert_int_equal(jtok_parse("meshtok1.ab.0011223344556677."
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", &u, err,
	    sizeof(err)), 0);
	assert_string_equal(u.mesh, "ab");
	assert_int_equal(u.id[7], 0x77);
}

static void
test_mac(void **state)
{
	unsigned char sec[JTOK_SECRET_LEN], other[JTOK_SECRET_LEN];
	char mac[2 * JTOK_MAC_LEN + 1];
	const char *csr = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n";

	(void)state;
	memset(sec, 7, sizeof(sec));
	memset(other, 8, sizeof(other));
	assert_int_equal(jtok_mac(sec, csr, strlen(csr), "j", mac), 0);
	assert_int_equal(strlen(mac), 64);
	assert_true(jtok_mac_ok(sec, csr, strlen(csr), "j", mac));
	assert_false(jtok_mac_ok(other, csr, strlen(csr), "j", mac));
	assert_false(jtok_mac_ok(sec, csr, strlen(csr), "k", mac));
	assert_false(jtok_mac_ok(sec, csr, strlen(csr) - 1, "j", mac));
	assert_false(jtok_mac_ok(sec, csr, strlen(csr), "j", "00"));
	assert_false(jtok_mac_ok(sec, csr, strlen(csr), "j", ""));
	/* the host is bound: csr || "\n" || host, so moving the newline changes it */
	assert_false(jtok_mac_ok(sec, "x\n", 2, "", mac));
}

static void
test_messages(void **state)
{
	static struct jtok_req r, r2;
	static struct jtok_answer a, a2;
	static char buf[JTOK_MSG_MAX];
	char err[256];
	int n;

	(void)state;
	snprintf(r.id, sizeof(r.id), "0011223344556677");
	snprintf(r.host, sizeof(r.host), "j");
	snprintf(r.csr, sizeof(r.csr), "-----BEGIN X-----\nAB\"\\\n-----END X-----\n");
	snprintf(r.mac, sizeof(r.mac), "ff");
	n = jtok_req_encode(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(jtok_req_decode(buf, (size_t)n, &r2, err, sizeof(err)), 0);
	assert_string_equal(r2.csr, r.csr);
	assert_string_equal(r2.host, "j");
	assert_int_equal(jtok_req_encode(&r, buf, 20), -1);

	assert_int_equal(jtok_req_decode("{\"id\":\"a\"}", 10, &r2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing"));
	assert_int_equal(jtok_req_decode("{\"id\":\"a\",\"x\":\"b\"}", 18, &r2, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown"));
	assert_int_equal(jtok_req_decode("{\"id\":1}", 8, &r2, err, sizeof(err)), -1);
	assert_int_equal(jtok_req_decode("[]", 2, &r2, err, sizeof(err)), -1);
	/* an id too long for its field */
	n = snprintf(buf, sizeof(buf), "{\"id\":\"%040d\",\"host\":\"j\",\"csr\":\"c\",\"mac\":\"m\"}", 0);
	assert_int_equal(jtok_req_decode(buf, (size_t)n, &r2, err, sizeof(err)), -1);

	snprintf(a.cert, sizeof(a.cert), "C\n");
	snprintf(a.root, sizeof(a.root), "R\n");
	snprintf(a.mac, sizeof(a.mac), "ab");
	n = jtok_answer_encode(&a, buf, sizeof(buf));
	assert_int_equal(jtok_answer_decode(buf, (size_t)n, &a2, err, sizeof(err)), 0);
	assert_string_equal(a2.cert, "C\n");
	assert_string_equal(a2.root, "R\n");
	assert_string_equal(a2.error, "");
	assert_string_equal(a2.mac, "ab");
	assert_int_equal(jtok_answer_decode("{\"cert\":\"x\",\"root\":\"y\"}", 25, &a2, err,
	    sizeof(err)), -1);   /* no mac */
	memset(&a, 0, sizeof(a));
	snprintf(a.error, sizeof(a.error), "token already used");
	n = jtok_answer_encode(&a, buf, sizeof(buf));
	assert_string_equal(buf, "{\"error\":\"token already used\"}");
	assert_int_equal(jtok_answer_decode(buf, (size_t)n, &a2, err, sizeof(err)), 0);
	assert_string_equal(a2.error, "token already used");
	assert_int_equal(jtok_answer_decode("{\"cert\":\"x\"}", 12, &a2, err, sizeof(err)), -1);
	assert_int_equal(jtok_answer_decode("{\"error\":\"x\",\"cert\":\"y\"}", 24, &a2, err,
	    sizeof(err)), -1);
	assert_int_equal(jtok_answer_decode("{\"error\":\"\"}", 12, &a2, err, sizeof(err)), -1);
}

static void
test_file(void **state)
{
	static struct jtok_set s, s2;
	struct jtok *t;
	struct stat st;
	char err[256];
	size_t i;

	(void)state;
	assert_int_equal(jtok_load(file, &s, err, sizeof(err)), 0);   /* missing: empty */
	assert_int_equal(s.n, 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(jtok_new(&s.t[s.n], "m", 1000 + (int64_t)i * 100), 0);
		s.n++;
	}
	s.t[1].used = 1;
	assert_int_equal(jtok_save(file, &s, 1050, err, sizeof(err)), 0);   /* drops the first */
	assert_int_equal(s.n, 2);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(jtok_load(file, &s2, err, sizeof(err)), 0);
	assert_int_equal(s2.n, 2);
	t = jtok_find(&s2, s.t[0].id);
	assert_non_null(t);
	assert_int_equal(t->used, 1);
	assert_int_equal(t->expiry, 1100);
	assert_memory_equal(t->secret, s.t[0].secret, JTOK_SECRET_LEN);
	jtok_prune(&s2, 1150);
	assert_int_equal(s2.n, 1);
	assert_null(jtok_find(&s2, s.t[0].id));
}

static void
expect_bad(const char *text, const char *line, const char *why)
{
	struct jtok_set s;
	char err[256], want[200];

	write_file(text);
	if (jtok_load(file, &s, err, sizeof(err)) != -1)
		fail_msg("accepted: %.80s", text);
	snprintf(want, sizeof(want), "%s:%s: ", file, line);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);
	assert_non_null(strstr(err, why));
	assert_int_equal(s.n, 0);
}

#define ID  "0011223344556677"
#define SEC "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void
test_file_bad(void **state)
{
	static struct jtok_set s;
	char err[256], big[JTOK_FILE_MAX * 120 + 200];
	size_t i, off = 0;

	(void)state;
	write_file("# c\n\n  " ID " " SEC " 5 0\n");
	assert_int_equal(jtok_load(file, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 1);
	expect_bad("# c\n" ID " " SEC " 5\n", "2", "want");
	expect_bad(ID "0 " SEC " 5 0\n", "1", "id");
	expect_bad(ID " " SEC "x 5 0\n", "1", "secret");
	expect_bad(ID " " SEC " -5 0\n", "1", "expiry");
	expect_bad(ID " " SEC " 5 2\n", "1", "used");
	expect_bad(ID " " SEC " 5 0 x\n", "1", "want");
	expect_bad(ID " " SEC " 5 0\n" ID " " SEC " 6 0\n", "2", "earlier");
	memset(big, 'a', 300);
	big[300] = '\n';
	big[301] = '\0';
	expect_bad(big, "1", "too long");
	for (i = 0; i <= JTOK_FILE_MAX; i++)
		off += (size_t)snprintf(big + off, sizeof(big) - off, "%016zx " SEC " 5 0\n", i);
	expect_bad(big, "65", "more than 64");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_messages),
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_bad, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
