/* SPDX-License-Identifier: ISC */
/*
 * fmt: short human forms (include/mesh/fmt.h).
 */
#include <stdio.h>

#include "mesh/fmt.h"

void
fmt_duration(char *buf, size_t size, long s)
{
	if (s < 0)
		snprintf(buf, size, "-");
	else if (s >= 86400)
		snprintf(buf, size, "%ldd%02ldh", s / 86400, (s / 3600) % 24);
	else if (s >= 3600)
		snprintf(buf, size, "%ldh%02ldm", s / 3600, (s / 60) % 60);
	else if (s >= 60)
		snprintf(buf, size, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(buf, size, "%lds", s);
}
