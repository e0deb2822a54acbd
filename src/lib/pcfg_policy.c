/* SPDX-License-Identifier: ISC */
/*
 * pcfg_policy: the `policy <service> key=value ...` line of the sidecar's
 * document (grammar in include/mesh/pcfg.h): defaults, one key=value at a
 * time, and the line pcfg_format writes (only keys that differ from the
 * defaults, so a document without traffic policy reads as before).
 *
 * The defaults are [route.NAME]'s in mesh.ini(5): a route without a key,
 * or a service without any [route.NAME], behaves the same.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/pcfg.h"

void
pcfg_policy_default(struct pcfg_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->timeout_ms = 0;
	p->connect_timeout_ms = 1000;
	p->retries = 0;
	p->retry_on = PCFG_RETRY_CONNECT;
	p->backoff_base_ms = 25;
	p->backoff_cap_ms = 250;
	p->budget_percent = 20;
	p->budget_per_sec = 10;
	p->lb = PCFG_LB_EWMA;
	p->breaker_failures = 5;
	p->breaker_cooldown_ms = 5000;
	p->max_pending = 1024;
	p->outlier_failures = 5;
	p->outlier_ejection_ms = 30000;
	p->retry_buffer = 65536;
}

/* retry_on's words, in the order pcfg_policy_format writes them */
static const struct {
	const char *word;
	unsigned    bit;
} pcfg_retry_words[] = {
	{ "connect-failure",    PCFG_RETRY_CONNECT },
	{ "reset",              PCFG_RETRY_RESET },
	{ "unavailable",        PCFG_RETRY_UNAVAILABLE },
	{ "resource-exhausted", PCFG_RETRY_RESOURCE_EXHAUSTED },
	{ "cancelled",          PCFG_RETRY_CANCELLED },
	{ "deadline-exceeded",  PCFG_RETRY_DEADLINE_EXCEEDED },
	{ "internal",           PCFG_RETRY_INTERNAL },
};
#define PCFG_NRETRY_WORDS (sizeof(pcfg_retry_words) / sizeof(pcfg_retry_words[0]))

static const char *const pcfg_lb_names[] = {
	[PCFG_LB_EWMA] = "ewma",
	[PCFG_LB_ROUND_ROBIN] = "round-robin",
	[PCFG_LB_LEAST_REQUEST] = "least-request",
};

/* The plain numeric keys: name, field, bounds. */
static const struct {
	const char *key;
	size_t      off;
	uint32_t    lo, hi;
} pcfg_policy_nums[] = {
	{ "timeout_ms",          offsetof(struct pcfg_policy, timeout_ms), 0, 3600000 },
	{ "connect_timeout_ms",  offsetof(struct pcfg_policy, connect_timeout_ms), 1, 3600000 },
	{ "retries",             offsetof(struct pcfg_policy, retries), 0, 10 },
	{ "breaker_failures",    offsetof(struct pcfg_policy, breaker_failures), 1, 10000 },
	{ "breaker_cooldown_ms", offsetof(struct pcfg_policy, breaker_cooldown_ms), 1, 3600000 },
	{ "max_pending",         offsetof(struct pcfg_policy, max_pending), 1, 1000000 },
	{ "outlier_failures",    offsetof(struct pcfg_policy, outlier_failures), 1, 10000 },
	{ "outlier_ejection_ms", offsetof(struct pcfg_policy, outlier_ejection_ms), 1, 3600000 },
	{ "retry_buffer",        offsetof(struct pcfg_policy, retry_buffer), 0, 1048576 },
};
#define PCFG_POLICY_NNUMS (sizeof(pcfg_policy_nums) / sizeof(pcfg_policy_nums[0]))

static uint32_t *
pcfg_policy_field(struct pcfg_policy *p, size_t i)
{
	return (uint32_t *)(void *)((char *)p + pcfg_policy_nums[i].off);
}

/* Decimal digits only, within [lo, hi]; *end: where parsing stopped. */
static int
pcfg_policy_num(const char *s, const char **end, uint32_t lo, uint32_t hi, uint32_t *out)
{
	unsigned long v = 0;
	const char *q = s;

	if (*q < '0' || *q > '9')
		return -1;
	for (; *q >= '0' && *q <= '9'; q++) {
		v = v * 10 + (unsigned long)(*q - '0');
		if (v > hi)
			return -1;
	}
	if (v < lo)
		return -1;
	if (end != NULL)
		*end = q;
	else if (*q != '\0')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "A,B" into two numbers. */
static int
pcfg_policy_pair(const char *s, uint32_t hi, uint32_t *a, uint32_t *b)
{
	const char *q;

	if (pcfg_policy_num(s, &q, 0, hi, a) == -1 || *q != ',')
		return -1;
	return pcfg_policy_num(q + 1, NULL, 0, hi, b);
}

/* "none" or a comma list of the words above and NNN (400..599). */
static int
pcfg_policy_retry_on(struct pcfg_policy *p, const char *s, char *why, size_t whylen)
{
	unsigned bits = 0;
	size_t n = 0, i;

	if (strcmp(s, "none") == 0) {
		p->retry_on = 0;
		p->nretry_status = 0;
		return 0;
	}
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		uint32_t code;
		unsigned bit = 0;
		char item[24];

		if (len == 0 || len >= sizeof(item))
			goto bad;
		memcpy(item, s, len);
		item[len] = '\0';
		for (i = 0; i < PCFG_NRETRY_WORDS; i++)
			if (strcmp(item, pcfg_retry_words[i].word) == 0)
				bit = pcfg_retry_words[i].bit;
		if (bit != 0)
			bits |= bit;
		else if (pcfg_policy_num(item, NULL, 400, 599, &code) == 0) {
			if (n == sizeof(p->retry_status) / sizeof(p->retry_status[0])) {
				snprintf(why, whylen, "retry_on: more than %zu status codes",
				    sizeof(p->retry_status) / sizeof(p->retry_status[0]));
				return -1;
			}
			p->retry_status[n++] = (uint16_t)code;
		} else
			goto bad;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	p->retry_on = bits;
	p->nretry_status = n;
	return 0;
bad:
	snprintf(why, whylen, "retry_on: want none or connect-failure,reset,unavailable,"
	    "resource-exhausted,cancelled,deadline-exceeded,internal,NNN (400..599)");
	return -1;
}

int
pcfg_policy_set(struct pcfg_policy *p, const char *kv, char *why, size_t whylen)
{
	const char *eq = strchr(kv, '=');
	const char *v;
	size_t klen, i;

	if (eq == NULL || eq == kv) {
		snprintf(why, whylen, "policy: '%s' is not key=value", kv);
		return -1;
	}
	klen = (size_t)(eq - kv);
	v = eq + 1;
	for (i = 0; i < PCFG_POLICY_NNUMS; i++) {
		const char *k = pcfg_policy_nums[i].key;

		if (strlen(k) != klen || memcmp(k, kv, klen) != 0)
			continue;
		if (pcfg_policy_num(v, NULL, pcfg_policy_nums[i].lo,
		    pcfg_policy_nums[i].hi, pcfg_policy_field(p, i)) == -1) {
			snprintf(why, whylen, "policy: %s: '%s' is not a number in %u..%u",
			    k, v, pcfg_policy_nums[i].lo, pcfg_policy_nums[i].hi);
			return -1;
		}
		return 0;
	}
#define KEY(name) (klen == sizeof(name) - 1 && memcmp(kv, name, klen) == 0)
	if (KEY("retry_on"))
		return pcfg_policy_retry_on(p, v, why, whylen);
	if (KEY("backoff_ms")) {
		uint32_t a, b;

		if (pcfg_policy_pair(v, 60000, &a, &b) == -1 || a == 0 || a > b) {
			snprintf(why, whylen, "policy: backoff_ms: want BASE,CAP "
			    "with 1 <= BASE <= CAP <= 60000, not '%s'", v);
			return -1;
		}
		p->backoff_base_ms = a;
		p->backoff_cap_ms = b;
		return 0;
	}
	if (KEY("budget")) {
		uint32_t a, b;

		if (pcfg_policy_pair(v, 100000, &a, &b) == -1 || a > 100) {
			snprintf(why, whylen, "policy: budget: want PERCENT,PER_SEC "
			    "(0..100, 0..100000), not '%s'", v);
			return -1;
		}
		p->budget_percent = a;
		p->budget_per_sec = b;
		return 0;
	}
	if (KEY("lb")) {
		for (i = 0; i < sizeof(pcfg_lb_names) / sizeof(pcfg_lb_names[0]); i++)
			if (strcmp(v, pcfg_lb_names[i]) == 0) {
				p->lb = (enum pcfg_lb)i;
				return 0;
			}
		snprintf(why, whylen, "policy: lb: '%s' (ewma|round-robin|least-request)", v);
		return -1;
	}
#undef KEY
	snprintf(why, whylen, "policy: unknown key '%.*s'", (int)klen, kv);
	return -1;
}

const char *
pcfg_policy_lb_name(enum pcfg_lb lb)
{
	return (unsigned)lb < sizeof(pcfg_lb_names) / sizeof(pcfg_lb_names[0]) ?
	    pcfg_lb_names[lb] : "ewma";
}

static int
pcfg_policy_same_retry_on(const struct pcfg_policy *a, const struct pcfg_policy *b)
{
	return a->retry_on == b->retry_on && a->nretry_status == b->nretry_status &&
	    memcmp(a->retry_status, b->retry_status,
	    a->nretry_status * sizeof(a->retry_status[0])) == 0;
}

void
pcfg_policy_format(FILE *fp, const char *service, const struct pcfg_policy *p)
{
	struct pcfg_policy def;
	int any = 0;
	size_t i;

	pcfg_policy_default(&def);
#define OPEN() do { \
	if (!any) \
		fprintf(fp, "policy %s", service); \
	any = 1; \
} while (0)
	for (i = 0; i < PCFG_POLICY_NNUMS; i++) {
		uint32_t v = *pcfg_policy_field((struct pcfg_policy *)(uintptr_t)p, i);

		if (v != *pcfg_policy_field(&def, i)) {
			OPEN();
			fprintf(fp, " %s=%u", pcfg_policy_nums[i].key, v);
		}
	}
	if (!pcfg_policy_same_retry_on(p, &def)) {
		const char *sep = "";

		OPEN();
		fputs(" retry_on=", fp);
		if (p->retry_on == 0 && p->nretry_status == 0)
			fputs("none", fp);
		for (i = 0; i < PCFG_NRETRY_WORDS; i++)
			if (p->retry_on & pcfg_retry_words[i].bit) {
				fprintf(fp, "%s%s", sep, pcfg_retry_words[i].word);
				sep = ",";
			}
		for (i = 0; i < p->nretry_status; i++) {
			fprintf(fp, "%s%u", sep, p->retry_status[i]);
			sep = ",";
		}
	}
	if (p->backoff_base_ms != def.backoff_base_ms || p->backoff_cap_ms != def.backoff_cap_ms) {
		OPEN();
		fprintf(fp, " backoff_ms=%u,%u", p->backoff_base_ms, p->backoff_cap_ms);
	}
	if (p->budget_percent != def.budget_percent || p->budget_per_sec != def.budget_per_sec) {
		OPEN();
		fprintf(fp, " budget=%u,%u", p->budget_percent, p->budget_per_sec);
	}
	if (p->lb != def.lb) {
		OPEN();
		fprintf(fp, " lb=%s", pcfg_policy_lb_name(p->lb));
	}
#undef OPEN
	if (any)
		fputc('\n', fp);
}
