/* SPDX-License-Identifier: ISC */
/*
 * config_duration: "250ms", "2s", "1h" to microseconds and back, for the
 * key table (config_table.c) and for messages.  A duration needs a unit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mesh/config.h"
#include "config_int.h"

#define US_MS   UINT64_C(1000)
#define US_S    UINT64_C(1000000)
#define US_M    (60 * US_S)
#define US_H    (3600 * US_S)

int
config_parse_duration(const char *s, uint64_t *us)
{
	static const struct { const char *unit; uint64_t mult; } units[] = {
		{ "us", 1 }, { "ms", US_MS }, { "s", US_S }, { "m", US_M }, { "h", US_H },
	};
	uint64_t v = 0;
	size_t i;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		uint64_t d = (uint64_t)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(s, units[i].unit) == 0) {
			if (v > UINT64_MAX / units[i].mult)
				return -1;
			*us = v * units[i].mult;
			return 0;
		}
	return -1;
}

void
config_fmt_duration(uint64_t us, char *buf, size_t sz)
{
	if (us != 0 && us % US_H == 0)
		snprintf(buf, sz, "%" PRIu64 "h", us / US_H);
	else if (us != 0 && us % US_M == 0)
		snprintf(buf, sz, "%" PRIu64 "m", us / US_M);
	else if (us != 0 && us % US_S == 0)
		snprintf(buf, sz, "%" PRIu64 "s", us / US_S);
	else if (us != 0 && us % US_MS == 0)
		snprintf(buf, sz, "%" PRIu64 "ms", us / US_MS);
	else
		snprintf(buf, sz, "%" PRIu64 "us", us);
}
