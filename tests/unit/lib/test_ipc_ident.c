/* SPDX-License-Identifier: ISC */
/*
 * ipc_ident: the IPC_IDENT payload parser: the words and their order,
 * serials' bounds, "-" for no leaf, the roots' count, bytes past len
 * unread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/ipc.h"

static int
parse(const char *s, struct ipc_ident *id)
{
	return ipc_ident_parse(s, strlen(s), id);
}

static void
test_good(void **state)
{
	struct ipc_ident id;
	char hex64[65];

	(void)state;
	assert_int_equal(parse("leaf ab roots cd ef", &id), 0);
	assert_string_equal(id.leaf, "ab");
	assert_int_equal(id.nroots, 2);
	assert_string_equal(id.roots[0], "cd");
	assert_string_equal(id.roots[1], "ef");

	/* what a sidecar without a leaf or a bundle yet sends */
	assert_int_equal(parse("leaf - roots ", &id), 0);
	assert_string_equal(id.leaf, "");
	assert_int_equal(id.nroots, 0);

	/* runs of blanks, leading and trailing ones */
	assert_int_equal(parse("  leaf   0f  roots  1a2b   ", &id), 0);
	assert_string_equal(id.leaf, "0f");
	assert_int_equal(id.nroots, 1);
	assert_string_equal(id.roots[0], "1a2b");

	/* a serial of the longest kind, and as many roots as a bundle */
	memset(hex64, 'f', 64);
	hex64[64] = '\0';
	{
		char line[400];

		snprintf(line, sizeof(line), "leaf %s roots %s 01 02 03", hex64, hex64);
		assert_int_equal(parse(line, &id), 0);
		assert_string_equal(id.leaf, hex64);
		assert_int_equal(id.nroots, IPC_IDENT_ROOTS_MAX);
		assert_string_equal(id.roots[0], hex64);
		assert_string_equal(id.roots[3], "03");
	}
}

static void
test_bad(void **state)
{
	static const char *const bad[] = {
		"", "leaf", "leaf ab", "leaf ab roots-", "roots ab leaf -",
		"leaf XY roots ab", "leaf ab roots AB", "leaf ab roots a",
		"leaf ab roots ab ab ab ab ab", "leaf ab roots ab extra!",
		"leaf - - roots ab", "leaf ab roots - ", "leaf\tab roots cd",
		"LEAF ab roots cd", "leaf ab ab roots cd",
		/* 65 hex digits: one past a serial */
		"leaf ab roots 00000000000000000000000000000000000000000000000000000000000000000",
	};
	struct ipc_ident id;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&id, 0x5a, sizeof(id));
		if (parse(bad[i], &id) != -1)
			fail_msg("accepted '%s'", bad[i]);
		/* a refusal leaves *out alone */
		assert_int_equal(((unsigned char *)&id)[0], 0x5a);
	}
}

static void
test_len_bounds(void **state)
{
	struct ipc_ident id;
	/* the payload ends at len: what follows is not read */
	const char s[] = "leaf ab roots cdXXXX";

	(void)state;
	assert_int_equal(ipc_ident_parse(s, 16, &id), 0);
	assert_int_equal(id.nroots, 1);
	assert_string_equal(id.roots[0], "cd");
	/* a NUL inside is a byte like any other: not hex */
	assert_int_equal(ipc_ident_parse("leaf ab roots c\0d", 17, &id), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_len_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
