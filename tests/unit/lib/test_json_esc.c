/* SPDX-License-Identifier: ISC */
/*
 * test_json_esc: the one JSON string escaper (its escapes are checked
 * case by case through the access log in test_alog); here the contract
 * of a string that does not fit: cut between whole pieces, closed, and
 * `used` says how much of the input it holds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/json_esc.h"

static void
test_fits(void **state)
{
	char out[64];
	size_t used;

	(void)state;
	assert_int_equal(json_esc(out, sizeof(out), "a\"\n\x01\xc3\xa9\xff", 7, &used), 21);
	assert_string_equal(out, "\"a\\\"\\n\\u0001\xc3\xa9\\ufffd\"");
	assert_int_equal(used, 7);
}

static void
test_cut_at_pieces(void **state)
{
	char out[64];
	size_t used;

	(void)state;
	/* room for the quotes, the NUL and 5 bytes: "ab" + an escape of 6 won't fit */
	assert_int_equal(json_esc(out, 10, "ab\x01zz", 5, &used), 4);
	assert_string_equal(out, "\"ab\"");
	assert_int_equal(used, 2);
	/* a 2-byte character is not split */
	assert_int_equal(json_esc(out, 6, "abc\xc3\xa9", 5, &used), 5);
	assert_string_equal(out, "\"abc\"");
	assert_int_equal(used, 3);
	/* a plain run is cut where the room ends */
	assert_int_equal(json_esc(out, 6, "abcdefgh", 8, &used), 5);
	assert_string_equal(out, "\"abc\"");
	assert_int_equal(used, 3);
	/* too small for anything */
	assert_int_equal(json_esc(out, 2, "a", 1, &used), 0);
	assert_int_equal(used, 0);
}

/* json_esc_file: a string far longer than its 256-byte piece, with
 * escapes and 2-byte characters straddling the piece edges, comes out as
 * one json_esc() of the whole would write it. */
static void
test_file_long(void **state)
{
	char in[2002], *want, *got = NULL;
	size_t i, glen = 0;
	FILE *f;

	(void)state;
	for (i = 0; i + 2 < sizeof(in); i += 3) {
		in[i] = (char)(i % 7 == 0 ? '"' : 'a' + (char)(i % 26));
		in[i + 1] = (char)0xc3;
		in[i + 2] = (char)0xa9;
	}
	in[i] = '\0';
	in[17] = '\n';
	in[255] = (char)0xff;
	want = malloc(8 * sizeof(in));
	assert_non_null(want);
	json_esc(want, 8 * sizeof(in), in, strlen(in), NULL);
	f = open_memstream(&got, &glen);
	assert_non_null(f);
	json_esc_file(f, in);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fits),
		cmocka_unit_test(test_cut_at_pieces),
		cmocka_unit_test(test_file_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
