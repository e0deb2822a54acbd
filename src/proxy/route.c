/* SPDX-License-Identifier: ISC */
/*
 * route: authority -> service, and the per-pcfg routing table.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mesh/route.h"

static int
route_suffix(const char *s, size_t len, const char *suf)
{
	size_t n = strlen(suf);

	return len >= n && strncasecmp(s + len - n, suf, n) == 0;
}

int
route_authority_name(const char *auth, size_t len, const char **name, size_t *nlen)
{
	const char *colon;
	size_t i;

	if (len == 0 || memchr(auth, '@', len) != NULL)
		return -1;
	colon = memchr(auth, ':', len);
	if (colon != NULL) {
		size_t plen = len - (size_t)(colon - auth) - 1;

		/* Only the default port of http names a mesh service. */
		if (plen != 2 || colon[1] != '8' || colon[2] != '0')
			return -1;
		len = (size_t)(colon - auth);
	}
	if (len > 0 && auth[len - 1] == '.')
		len--;
	if (route_suffix(auth, len, ".mesh"))
		len -= 5;
	if (len == 0 || len >= PCFG_NAME_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		char ch = auth[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-'))
			return -1;
	}
	*name = auth;
	*nlen = len;
	return 0;
}

int
route_table_init(struct route_table *rt, const struct pcfg *cfg)
{
	size_t i;

	memset(rt, 0, sizeof(*rt));
	rt->cfg = cfg;
	if (cfg->nservices == 0)
		return 0;
	rt->svcs = calloc(cfg->nservices, sizeof(*rt->svcs));
	if (rt->svcs == NULL)
		return -1;
	for (i = 0; i < cfg->nservices; i++) {
		const struct pcfg_service *svc = &cfg->services[i];

		/* An opaque stream gives no latency per request and lives
		 * long after its connect: tcp services rotate per connection. */
		if (balance_service_init_at(&rt->svcs[i], cfg, svc, !pcfg_proto_l7(svc->proto) ?
		    &balance_rr : balance_ops(svc->policy.lb)) == -1) {
			route_table_free(rt);
			return -1;
		}
		rt->nsvcs++;
	}
	return 0;
}

void
route_table_free(struct route_table *rt)
{
	size_t i;

	for (i = 0; i < rt->nsvcs; i++)
		balance_service_free(&rt->svcs[i]);
	free(rt->svcs);
	rt->svcs = NULL;
	rt->nsvcs = 0;
}

struct balance_service *
route_service(struct route_table *rt, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < rt->nsvcs; i++) {
		const char *n = rt->svcs[i].svc->name;

		if (strlen(n) == len && strncasecmp(n, name, len) == 0)
			return &rt->svcs[i];
	}
	return NULL;
}

struct balance_service *
route_lookup(struct route_table *rt, const char *auth, size_t len)
{
	const char *name;
	size_t nlen;

	if (route_authority_name(auth, len, &name, &nlen) == -1)
		return NULL;
	return route_service(rt, name, nlen);
}
