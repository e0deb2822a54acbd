/* SPDX-License-Identifier: ISC */
/*
 * hex: every digit of either case, and the characters next to them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mesh/hex.h"

static void
test_digits(void **state)
{
	const char *d = "0123456789abcdef", *u = "0123456789ABCDEF";
	int i;

	(void)state;
	for (i = 0; i < 16; i++) {
		assert_int_equal(hex_digit(d[i]), i);
		assert_int_equal(hex_digit(u[i]), i);
	}
	assert_int_equal(hex_digit('/'), -1);
	assert_int_equal(hex_digit(':'), -1);
	assert_int_equal(hex_digit('@'), -1);
	assert_int_equal(hex_digit('G'), -1);
	assert_int_equal(hex_digit('`'), -1);
	assert_int_equal(hex_digit('g'), -1);
	assert_int_equal(hex_digit('\0'), -1);
	assert_int_equal(hex_digit((char)0xe6), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
