/* SPDX-License-Identifier: ISC */
/*
 * epaddr: an endpoint's IPv4 address and port (include/mesh/epaddr.h).
 */
#include <stddef.h>
#include <stdio.h>

#include "mesh/epaddr.h"

char *
epaddr_format(struct epaddr a, char *buf, size_t len)
{
	if (len > 0)
		snprintf(buf, len, EPADDR_FMT, EPADDR_ARGS(a));
	return buf;
}
