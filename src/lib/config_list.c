/* SPDX-License-Identifier: ISC */
/*
 * config_list: the keys whose value is a comma-separated list
 * (upstreams, allow, split, retry_on, backoff, retry_budget) and
 * env.NAME = value.  Items are trimmed; an empty item ("a,,b", "a,") is an
 * error, and so is a repeated one.  Each parser builds the new list aside
 * and swaps it in only when the whole value is good.
 */
#include <stdlib.h>
#include <string.h>

#include "mesh/config.h"
#include "config_int.h"

#define ITEM_MAX 128

/*
 * Next item of the list at *p into item (trimmed).  1: an item, 0: end of
 * list, -1: empty or too long an item (why filled).
 */
static int
conf_item(const char **p, char *item, size_t sz, char *why, size_t whysz)
{
	const char *s = *p, *e;
	size_t n;

	if (s == NULL)
		return 0;
	e = strchr(s, ',');
	*p = e != NULL ? e + 1 : NULL;
	if (e == NULL)
		e = s + strlen(s);
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	n = (size_t)(e - s);
	if (n == 0) {
		snprintf(why, whysz, "empty item in list");
		return -1;
	}
	if (n >= sz) {
		snprintf(why, whysz, "item '%.*s...' too long", 16, s);
		return -1;
	}
	memcpy(item, s, n);
	item[n] = '\0';
	return 1;
}

/* Decimal in lo..hi, the whole string.  0 or -1. */
static int
conf_num(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	unsigned long v = 0;
	int n = 0;

	for (; *s >= '0' && *s <= '9'; s++) {
		if (++n > 6)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (n == 0 || *s != '\0' || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* The n items parsed into a stack array, as the field's own heap copy
 * (replacing what it held): 0, or -1 with why set. */
static int
conf_keep(void *fieldp, size_t *nfield, const void *list, size_t n, size_t size,
    char *why, size_t whysz)
{
	void **field = fieldp;
	void *copy = malloc(n * size);

	if (copy == NULL) {
		snprintf(why, whysz, "out of memory");
		return -1;
	}
	memcpy(copy, list, n * size);
	free(*field);
	*field = copy;
	*nfield = n;
	return 0;
}

/* upstreams = NAME[:PORT], ... */
int
config_list_upstreams(struct conf_ctx *ctx, const struct conf_key *k,
                      const char *v, void *obj, char *why, size_t whysz)
{
	struct conf_service *svc = obj;
	struct conf_upstream list[CONF_LIST_MAX];
	char item[ITEM_MAX], *colon;
	size_t n = 0, i;
	unsigned port;
	int r;

	while ((r = conf_item(&v, item, sizeof(item), why, whysz)) == 1) {
		if (n == CONF_LIST_MAX) {
			snprintf(why, whysz, "more than %d upstreams", CONF_LIST_MAX);
			return -1;
		}
		port = 0;
		colon = strchr(item, ':');
		if (colon != NULL) {
			*colon = '\0';
			if (conf_num(colon + 1, 1, 65535, &port) == -1) {
				snprintf(why, whysz, "bad port '%s' for %s (want 1..65535)",
				    colon + 1, item);
				return -1;
			}
		}
		if (!config_valid_name(item)) {
			snprintf(why, whysz, "bad service name '%s'", item);
			return -1;
		}
		for (i = 0; i < n; i++)
			if (strcmp(list[i].name, item) == 0) {
				snprintf(why, whysz, "%s listed twice", item);
				return -1;
			}
		memcpy(list[n].name, item, strlen(item) + 1);  /* valid: fits */
		list[n].port = (uint16_t)port;
		list[n].line = ctx->lineno;
		n++;
	}
	if (r == -1)
		return -1;
	return conf_keep(&svc->upstreams, &svc->nupstreams, list, n, sizeof(list[0]), why, whysz);
}

/* allow = NAME, ... */
int
config_list_allow(struct conf_ctx *ctx, const struct conf_key *k,
                  const char *v, void *obj, char *why, size_t whysz)
{
	struct conf_service *svc = obj;
	char list[CONF_LIST_MAX][CONF_NAME_MAX];
	char item[ITEM_MAX];
	size_t n = 0, i;
	int r;

	while ((r = conf_item(&v, item, sizeof(item), why, whysz)) == 1) {
		if (n == CONF_LIST_MAX) {
			snprintf(why, whysz, "more than %d names", CONF_LIST_MAX);
			return -1;
		}
		if (!config_valid_name(item)) {
			snprintf(why, whysz, "bad service name '%s'", item);
			return -1;
		}
		for (i = 0; i < n; i++)
			if (strcmp(list[i], item) == 0) {
				snprintf(why, whysz, "%s listed twice", item);
				return -1;
			}
		memcpy(list[n++], item, strlen(item) + 1);     /* valid: fits */
	}
	if (r == -1)
		return -1;
	return conf_keep(&svc->allow, &svc->nallow, list, n, sizeof(list[0]), why, whysz);
}

/* split = VERSION:WEIGHT, ...  (weights 0..100 summing to 100) */
int
config_list_split(struct conf_ctx *ctx, const struct conf_key *k,
                  const char *v, void *obj, char *why, size_t whysz)
{
	struct conf_route *r = obj;
	struct conf_split list[CONF_SPLIT_MAX];
	char item[ITEM_MAX], *colon;
	unsigned w, sum = 0;
	size_t n = 0, i;
	int rc;

	while ((rc = conf_item(&v, item, sizeof(item), why, whysz)) == 1) {
		if (n == CONF_SPLIT_MAX) {
			snprintf(why, whysz, "more than %d versions", CONF_SPLIT_MAX);
			return -1;
		}
		colon = strchr(item, ':');
		if (colon == NULL) {
			snprintf(why, whysz, "'%s' is not VERSION:WEIGHT", item);
			return -1;
		}
		*colon = '\0';
		if (!config_valid_version(item)) {
			snprintf(why, whysz, "bad version '%s'", item);
			return -1;
		}
		if (conf_num(colon + 1, 0, 100, &w) == -1) {
			snprintf(why, whysz, "bad weight '%s' for %s (want 0..100)",
			    colon + 1, item);
			return -1;
		}
		for (i = 0; i < n; i++)
			if (strcmp(list[i].version, item) == 0) {
				snprintf(why, whysz, "%s listed twice", item);
				return -1;
			}
		memcpy(list[n].version, item, strlen(item) + 1); /* valid: fits */
		list[n].weight = w;
		sum += w;
		n++;
	}
	if (rc == -1)
		return -1;
	if (sum != 100) {
		snprintf(why, whysz, "weights sum to %u, not 100", sum);
		return -1;
	}
	return conf_keep(&r->split, &r->nsplit, list, n, sizeof(list[0]), why, whysz);
}

/* the words of retry_on besides status codes; the gRPC ones match a
 * response's grpc-status (mesh.ini(5)) */
static const struct {
	const char *word;
	unsigned    bit;
} conf_retry_words[] = {
	{ "connect-failure",    CONF_RETRY_CONNECT_FAILURE },
	{ "reset",              CONF_RETRY_RESET },
	{ "unavailable",        CONF_RETRY_UNAVAILABLE },
	{ "resource-exhausted", CONF_RETRY_RESOURCE_EXHAUSTED },
	{ "cancelled",          CONF_RETRY_CANCELLED },
	{ "deadline-exceeded",  CONF_RETRY_DEADLINE_EXCEEDED },
	{ "internal",           CONF_RETRY_INTERNAL },
};

/* retry_on = connect-failure, reset, unavailable, ..., NNN (HTTP status
 * 400..599), ... */
int
config_list_retry_on(struct conf_ctx *ctx, const struct conf_key *k,
                     const char *v, void *obj, char *why, size_t whysz)
{
	struct conf_route *r = obj;
	uint16_t codes[sizeof(r->retry_status) / sizeof(r->retry_status[0])];
	char item[ITEM_MAX];
	unsigned bits = 0, bit, code;
	size_t n = 0, i;
	int rc;

	while ((rc = conf_item(&v, item, sizeof(item), why, whysz)) == 1) {
		bit = 0;
		for (i = 0; i < sizeof(conf_retry_words) / sizeof(conf_retry_words[0]); i++)
			if (strcmp(item, conf_retry_words[i].word) == 0)
				bit = conf_retry_words[i].bit;
		if (bit != 0) {
			if (bits & bit) {
				snprintf(why, whysz, "%s listed twice", item);
				return -1;
			}
			bits |= bit;
			continue;
		}
		if (conf_num(item, 400, 599, &code) == -1) {
			snprintf(why, whysz, "'%s' is not connect-failure, reset, "
			    "unavailable, resource-exhausted, cancelled, "
			    "deadline-exceeded, internal or an HTTP status 400..599", item);
			return -1;
		}
		for (i = 0; i < n; i++)
			if (codes[i] == code) {
				snprintf(why, whysz, "%s listed twice", item);
				return -1;
			}
		if (n == sizeof(codes) / sizeof(codes[0])) {
			snprintf(why, whysz, "more than %zu status codes",
			    sizeof(codes) / sizeof(codes[0]));
			return -1;
		}
		codes[n++] = (uint16_t)code;
	}
	if (rc == -1)
		return -1;
	r->retry_on = bits;
	memcpy(r->retry_status, codes, n * sizeof(codes[0]));
	r->nretry_status = n;
	return 0;
}

/* backoff = BASE, CAP  (durations, 1ms..1m, BASE <= CAP) */
int
config_list_backoff(struct conf_ctx *ctx, const struct conf_key *k,
                    const char *v, void *obj, char *why, size_t whysz)
{
	struct conf_route *r = obj;
	char item[ITEM_MAX];
	uint64_t d[2];
	int n = 0, rc;

	while ((rc = conf_item(&v, item, sizeof(item), why, whysz)) == 1) {
		if (n == 2) {
			snprintf(why, whysz, "want BASE, CAP (two durations)");
			return -1;
		}
		if (config_parse_duration(item, &d[n]) == -1) {
			snprintf(why, whysz, "'%s' is not a duration with a unit "
			    "(us, ms, s, m, h)", item);
			return -1;
		}
		if (d[n] < 1000 || d[n] > 60000000) {
			snprintf(why, whysz, "'%s' out of range 1ms..1m", item);
			return -1;
		}
		n++;
	}
	if (rc == -1)
		return -1;
	if (n != 2) {
		snprintf(why, whysz, "want BASE, CAP (two durations)");
		return -1;
	}
	if (d[0] > d[1]) {
		snprintf(why, whysz, "base is greater than cap");
		return -1;
	}
	r->backoff_base_us = d[0];
	r->backoff_cap_us = d[1];
	return 0;
}

/* retry_budget = PCT%[, N/s]  (no N/s: no fixed allowance) */
int
config_list_budget(struct conf_ctx *ctx, const struct conf_key *k,
                   const char *v, void *obj, char *why, size_t whysz)
{
	struct conf_route *r = obj;
	char item[ITEM_MAX], *pct;
	unsigned percent = 0, rate = 0;
	int n = 0, rc;
	size_t len;

	while ((rc = conf_item(&v, item, sizeof(item), why, whysz)) == 1) {
		len = strlen(item);
		if (n == 0) {
			pct = len > 1 && item[len - 1] == '%' ? &item[len - 1] : NULL;
			if (pct != NULL)
				*pct = '\0';
			if (pct == NULL || conf_num(item, 0, 100, &percent) == -1) {
				snprintf(why, whysz, "want PERCENT%%[, N/s] (e.g. 20%%, 10/s)");
				return -1;
			}
		} else if (n == 1) {
			if (len < 3 || strcmp(item + len - 2, "/s") != 0 ||
			    (item[len - 2] = '\0', conf_num(item, 0, 100000, &rate)) == -1) {
				snprintf(why, whysz, "want PERCENT%%[, N/s] with N 0..100000");
				return -1;
			}
		} else {
			snprintf(why, whysz, "want PERCENT%%[, N/s] (e.g. 20%%, 10/s)");
			return -1;
		}
		n++;
	}
	if (rc == -1)
		return -1;
	r->budget_percent = percent;
	r->budget_per_sec = rate;
	return 0;
}

/* Names meshd sets for every app: env.NAME may not override them. */
static int
conf_env_reserved(const char *name)
{
	static const char *const reserved[] = {
		"PORT", "MESH_SERVICE", "MESH_VERSION", "MESH_INSTANCE",
		"http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", NULL,
	};
	size_t i;

	if (strncmp(name, "MESH_UPSTREAM_", 14) == 0)
		return 1;
	for (i = 0; reserved[i] != NULL; i++)
		if (strcmp(name, reserved[i]) == 0)
			return 1;
	return 0;
}

void
config_list_env(struct conf_ctx *ctx, const char *name, const char *value)
{
	struct conf_service *svc = ctx->obj;
	struct conf_env *n;
	size_t i;

	for (i = 0; name[i] != '\0'; i++)
		if (!((name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= 'a' && name[i] <= 'z') || name[i] == '_' ||
		    (i > 0 && name[i] >= '0' && name[i] <= '9')))
			break;
	if (i == 0 || name[i] != '\0' || i >= CONF_ENV_NAME_MAX) {
		config_error(ctx, ctx->lineno, "env.%s: bad variable name (want "
		    "[A-Za-z_][A-Za-z0-9_]{0,%d})", name, CONF_ENV_NAME_MAX - 2);
		return;
	}
	if (conf_env_reserved(name)) {
		config_error(ctx, ctx->lineno, "env.%s = %s: %s is set by meshd",
		    name, value, name);
		return;
	}
	for (i = 0; i < svc->nenv; i++)
		if (strcmp(svc->env[i].key, name) == 0) {
			config_error(ctx, ctx->lineno, "env.%s = %s: duplicate key",
			    name, value);
			return;
		}
	if (svc->nenv == CONF_LIST_MAX) {
		config_error(ctx, ctx->lineno, "env.%s: more than %d env keys",
		    name, CONF_LIST_MAX);
		return;
	}
	n = realloc(svc->env, (svc->nenv + 1) * sizeof(*n));
	if (n == NULL) {
		config_error(ctx, ctx->lineno, "out of memory");
		return;
	}
	svc->env = n;
	n[svc->nenv].key = strdup(name);
	n[svc->nenv].value = strdup(value);
	if (n[svc->nenv].key == NULL || n[svc->nenv].value == NULL) {
		free(n[svc->nenv].key);
		free(n[svc->nenv].value);
		config_error(ctx, ctx->lineno, "out of memory");
		return;
	}
	svc->nenv++;
}
