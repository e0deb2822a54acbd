/* SPDX-License-Identifier: ISC */
/*
 * ctl_version: `meshctl version`: ours, then the libraries actually
 * linked (asked at run time, not the headers we were built with).
 */
#include <ev.h>
#include <stdio.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "mesh/ctl.h"

int
ctl_version(const struct ctl_opts *o)
{
	printf("meshctl %s\n", MESH_VERSION);
	printf("wolfSSL %s\n", wolfSSL_lib_version());
	printf("libev %d.%d\n", ev_version_major(), ev_version_minor());
	return fflush(stdout) == 0 ? CTL_OK : CTL_FAIL;
}
