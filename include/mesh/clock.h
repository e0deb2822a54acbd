/* SPDX-License-Identifier: ISC */
/*
 * clock: a clock's time in nanoseconds, for the code that does not keep
 * an injectable clock of its own (balance.h and breaker.h do, for tests).
 */
#ifndef MESH_CLOCK_H
#define MESH_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
