/* SPDX-License-Identifier: ISC */
/*
 * fuzz_same: the round-trip targets' comparison step.  SAME(cond, what)
 * returns 0 from the comparing function when cond fails, with `differs`
 * naming what differed, for the target's abort message.
 */
#ifndef FUZZ_SAME_H
#define FUZZ_SAME_H

static const char *differs;

#define SAME(cond, what) do { \
	if (!(cond)) { \
		differs = (what); \
		return 0; \
	} \
} while (0)

#endif
