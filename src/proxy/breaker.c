/* SPDX-License-Identifier: ISC */
/*
 * breaker: per-endpoint circuit breakers (include/mesh/breaker.h).
 */
#include <string.h>
#include <time.h>

#include "mesh/breaker.h"
#include "mesh/log.h"
#include "mesh/stats.h"

static struct breaker breakers[BREAKER_MAX];
static size_t         nbreakers;
static uint64_t     (*breaker_clock)(void);

static uint64_t
breaker_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
breaker_now_ms(void)
{
	return breaker_clock != NULL ? breaker_clock() : breaker_mono_ms();
}

void
breaker_set_clock(uint64_t (*now_ms)(void))
{
	breaker_clock = now_ms;
}

const char *
breaker_state_name(enum breaker_state s)
{
	switch (s) {
	case BREAKER_CLOSED:    return "closed";
	case BREAKER_OPEN:      return "open";
	case BREAKER_HALF_OPEN: return "half-open";
	}
	return "?";
}

int
breaker_allows(const struct breaker *b, uint64_t now_ms)
{
	switch (b->state) {
	case BREAKER_CLOSED:
		return 1;
	case BREAKER_OPEN:
		return now_ms >= b->opened_ms + b->cooldown_ms;
	case BREAKER_HALF_OPEN:
		return !b->probing;
	}
	return 1;
}

void
breaker_begin(struct breaker *b, uint64_t now_ms)
{
	if (b->state == BREAKER_OPEN && now_ms >= b->opened_ms + b->cooldown_ms) {
		b->state = BREAKER_HALF_OPEN;
		log_info("breaker of " EPADDR_FMT " half-open: one probe", EPADDR_ARGS(b->addr));
	}
	if (b->state == BREAKER_HALF_OPEN)
		b->probing = 1;
}

void
breaker_success(struct breaker *b)
{
	if (b->state != BREAKER_CLOSED) {
		log_info("breaker of " EPADDR_FMT " closed", EPADDR_ARGS(b->addr));
		stats_gauge_sub(STAT_BREAKERS_OPEN, 1);
	}
	b->state = BREAKER_CLOSED;
	b->failures = 0;
	b->probing = 0;
}

int
breaker_failure(struct breaker *b, uint32_t threshold, uint32_t cooldown_ms, uint64_t now_ms)
{
	switch (b->state) {
	case BREAKER_CLOSED:
		if (++b->failures < threshold)
			return 0;
		stats_gauge_add(STAT_BREAKERS_OPEN, 1);
		break;
	case BREAKER_HALF_OPEN:
		if (!b->probing)
			return 0;
		break;
	case BREAKER_OPEN:
		/* a straggler sent before it opened: the cooldown stands */
		return 0;
	}
	b->state = BREAKER_OPEN;
	b->opened_ms = now_ms;
	b->cooldown_ms = cooldown_ms;
	b->probing = 0;
	b->failures = 0;
	b->opened++;
	stats_inc(STAT_BREAKER_OPENED);
	log_warnx("breaker of " EPADDR_FMT " open for %u ms", EPADDR_ARGS(b->addr), cooldown_ms);
	return 1;
}

void
breaker_abandon(struct breaker *b)
{
	if (b->state == BREAKER_HALF_OPEN)
		b->probing = 0;
}

struct breaker *
breaker_find(struct epaddr at)
{
	size_t i;

	for (i = 0; i < nbreakers; i++)
		if (epaddr_eq(breakers[i].addr, at))
			return &breakers[i];
	return NULL;
}

struct breaker *
breaker_get(struct epaddr at)
{
	struct breaker *b = breaker_find(at);

	if (b != NULL || nbreakers == BREAKER_MAX)
		return b;
	b = &breakers[nbreakers++];
	memset(b, 0, sizeof(*b));
	b->addr = at;
	return b;
}

int
breaker_gate(struct epaddr at)
{
	const struct breaker *b = breaker_find(at);

	return b == NULL || breaker_allows(b, breaker_now_ms());
}

int
breaker_reset(struct epaddr at)
{
	struct breaker *b = breaker_find(at);

	if (b == NULL)
		return 0;
	b->failures = 0;
	if (b->state == BREAKER_CLOSED)
		return 0;
	/* breaker_success() is the one way back to CLOSED: gauge, log */
	breaker_success(b);
	return 1;
}

void
breaker_reset_all(void)
{
	memset(breakers, 0, sizeof(breakers));
	nbreakers = 0;
}
