/* SPDX-License-Identifier: ISC */
/*
 * outlier: passive outlier ejection (the contract is in outlier.h).
 */
#include "mesh/outlier.h"
#include "mesh/log.h"
#include "mesh/stats.h"

#define OUTLIER_DEFAULT_FAILURES    5u
#define OUTLIER_DEFAULT_EJECTION_MS 30000u

int
outlier_ejected(const struct balance_ep *e, uint64_t now_us)
{
	return e->ejected_until_us != 0 && now_us < e->ejected_until_us;
}

void
outlier_record(struct balance_ep *e, enum balance_outcome o, uint64_t now_us)
{
	switch (o) {
	case BALANCE_OK:
		e->failures = 0;
		/* Healthy for a whole base period since it came back (or
		 * since the last step down): one step off the multiplier. */
		if (e->ejections > 0 && e->ejected_until_us == 0 &&
		    now_us - e->back_us >= (uint64_t)e->base_ms * 1000u) {
			e->ejections--;
			e->back_us = now_us;
		}
		break;
	case BALANCE_FAIL:
		/* Failures of requests that were in flight when it was
		 * ejected do not count against its next period. */
		if (e->ejected_until_us == 0 && e->failures < UINT32_MAX)
			e->failures++;
		break;
	case BALANCE_ABANDON:
		break;
	}
}

void
outlier_sweep(const char *service, struct balance_ep *const *eps, size_t n,
              uint32_t failures, uint32_t ejection_ms, uint64_t now_us)
{
	size_t i, ejected = 0;

	if (failures == 0)
		failures = OUTLIER_DEFAULT_FAILURES;
	if (ejection_ms == 0)
		ejection_ms = OUTLIER_DEFAULT_EJECTION_MS;
	for (i = 0; i < n; i++) {
		struct balance_ep *e = eps[i];

		if (e->ejected_until_us == 0)
			continue;
		if (now_us >= e->ejected_until_us) {
			log_info("service %s: endpoint " EPADDR_FMT " back from ejection", service,
			    EPADDR_ARGS(e->addr));
			e->ejected_until_us = 0;
			e->failures = 0;
			e->back_us = now_us;
			stats_gauge_sub(STAT_EJECTED, 1);
		} else
			ejected++;
	}
	for (i = 0; i < n && (ejected + 1) * 2 <= n; i++) {
		struct balance_ep *e = eps[i];
		uint64_t ms;

		if (e->ejected_until_us != 0 || e->failures < failures)
			continue;
		if (e->ejections < OUTLIER_MAX_MULT)
			e->ejections++;
		e->base_ms = ejection_ms;
		ms = (uint64_t)ejection_ms * e->ejections;
		e->ejected_until_us = now_us + ms * 1000u;
		if (e->ejected_until_us == 0)
			e->ejected_until_us = 1;
		ejected++;
		log_warnx("service %s: endpoint " EPADDR_FMT " ejected for %llu ms after %u "
		    "consecutive failures", service, EPADDR_ARGS(e->addr), (unsigned long long)ms, e->failures);
		stats_inc(STAT_EJECTIONS);
		e->ejected_total++;
		stats_gauge_add(STAT_EJECTED, 1);
	}
}
