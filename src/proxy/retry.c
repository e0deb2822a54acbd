/* SPDX-License-Identifier: ISC */
/*
 * retry: the retry decision table and per-service policy state
 * (include/mesh/retry.h).
 */
#include <string.h>

#include "mesh/retry.h"

static struct retry_svc retry_svcs[RETRY_SERVICES_MAX];
static size_t           retry_nsvcs;

int
retry_idempotent(const char *method, size_t len)
{
	static const char *const m[] = { "GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE" };
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (strlen(m[i]) == len && memcmp(m[i], method, len) == 0)
			return 1;
	return 0;
}

int
retry_status_listed(const struct pcfg_policy *p, int status)
{
	size_t i;

	for (i = 0; i < p->nretry_status; i++)
		if (p->retry_status[i] == status)
			return 1;
	return 0;
}

int
retry_grpc_listed(const struct pcfg_policy *p, int grpc_status)
{
	unsigned bit;

	switch (grpc_status) {
	case 1:  bit = PCFG_RETRY_CANCELLED; break;
	case 4:  bit = PCFG_RETRY_DEADLINE_EXCEEDED; break;
	case 8:  bit = PCFG_RETRY_RESOURCE_EXHAUSTED; break;
	case 13: bit = PCFG_RETRY_INTERNAL; break;
	case 14: bit = PCFG_RETRY_UNAVAILABLE; break;
	default: return 0;
	}
	return (p->retry_on & bit) != 0;
}

static int
retry_cause_on(const struct pcfg_policy *p, const struct retry_attempt *a)
{
	switch (a->cause) {
	case RETRY_CAUSE_CONNECT:
		return 1;   /* always (retry.h): the word in retry_on changes nothing */
	case RETRY_CAUSE_RESET:
		return (p->retry_on & PCFG_RETRY_RESET) != 0;
	case RETRY_CAUSE_STATUS:
		return retry_status_listed(p, a->status);
	case RETRY_CAUSE_GRPC:
		return retry_grpc_listed(p, a->status);
	}
	return 0;
}

enum retry_verdict
retry_decide(const struct pcfg_policy *p, const struct retry_attempt *a, struct budget *b)
{
	if (a->response_started)
		return RETRY_NO_STARTED;
	if (!retry_cause_on(p, a))
		return RETRY_NO_CAUSE;
	if (a->retries_done >= p->retries &&
	    (a->cause != RETRY_CAUSE_CONNECT || a->retries_done >= RETRY_CONNECT_MIN))
		return RETRY_NO_LEFT;
	if (!a->replayable)
		return RETRY_NO_BODY;
	if (a->cause != RETRY_CAUSE_CONNECT && !a->idempotent &&
	    (a->body_len < 0 || (uint64_t)a->body_len > p->retry_buffer))
		return RETRY_NO_METHOD;
	if (a->deadline_ms != 0 && a->now_ms + a->delay_ms >= a->deadline_ms)
		return RETRY_NO_TIME;
	if (b != NULL && !budget_withdraw(b, a->now_ms))
		return RETRY_NO_BUDGET;
	return RETRY_GO;
}

const char *
retry_verdict_name(enum retry_verdict v)
{
	switch (v) {
	case RETRY_GO:         return "retry";
	case RETRY_NO_STARTED: return "response started";
	case RETRY_NO_CAUSE:   return "not in retry_on";
	case RETRY_NO_LEFT:    return "no retries left";
	case RETRY_NO_BODY:    return "body not replayable";
	case RETRY_NO_METHOD:  return "not idempotent";
	case RETRY_NO_TIME:    return "no time left";
	case RETRY_NO_BUDGET:  return "retry budget spent";
	}
	return "?";
}

struct retry_svc *
retry_svc_get(const char *name, size_t len, const struct pcfg_policy *p)
{
	struct retry_svc *rs = NULL;
	size_t i;

	if (len == 0 || len >= PCFG_NAME_MAX)
		return NULL;
	for (i = 0; i < retry_nsvcs; i++)
		if (strlen(retry_svcs[i].name) == len && memcmp(retry_svcs[i].name, name, len) == 0) {
			rs = &retry_svcs[i];
			break;
		}
	if (rs == NULL) {
		if (retry_nsvcs == RETRY_SERVICES_MAX)
			return NULL;
		rs = &retry_svcs[retry_nsvcs++];
		memset(rs, 0, sizeof(*rs));
		memcpy(rs->name, name, len);
		budget_init(&rs->budget, p->budget_percent, p->budget_per_sec);
	}
	if (memcmp(&rs->policy, p, sizeof(*p)) != 0) {
		rs->policy = *p;
		budget_set(&rs->budget, p->budget_percent, p->budget_per_sec);
	}
	return rs;
}
