/* SPDX-License-Identifier: ISC */
/*
 * ctl_check: `meshctl check [-f FILE]`, the config engineer's check_run()
 * behind meshctl's option parsing.
 */
#include <stdio.h>

#include "mesh/check.h"
#include "mesh/ctl.h"

int
ctl_check(const struct ctl_opts *o)
{
	return check_run(o->file, stdout, stderr) == 0 ? CTL_OK : CTL_FAIL;
}
