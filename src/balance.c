/*
 * balance: the split between versions, then the per-version balancer.
 */
#include <stdlib.h>
#include <string.h>

#include "mesh/balance.h"

static unsigned
balance_weight(const struct pcfg_service *svc, const char *version)
{
	size_t i;

	if (svc->nsplits == 0)
		return 1;
	for (i = 0; i < svc->nsplits; i++)
		if (strcmp(svc->splits[i].version, version) == 0)
			return svc->splits[i].weight;
	return 0;
}

int
balance_service_init(struct balance_service *bs, const struct pcfg_service *svc,
                     const struct balancer_ops *ops)
{
	size_t i, j;

	memset(bs, 0, sizeof(*bs));
	bs->svc = svc;
	bs->ops = ops;
	if (svc->nendpoints == 0)
		return 0;
	/* At most one version per endpoint; versions in order of appearance. */
	bs->versions = calloc(svc->nendpoints, sizeof(*bs->versions));
	if (bs->versions == NULL)
		return -1;
	for (i = 0; i < svc->nendpoints; i++) {
		const struct pcfg_endpoint *ep = &svc->endpoints[i];
		struct balance_version *v = NULL;

		for (j = 0; j < bs->nversions; j++)
			if (strcmp(bs->versions[j].version, ep->version) == 0)
				v = &bs->versions[j];
		if (v == NULL) {
			v = &bs->versions[bs->nversions++];
			v->version = ep->version;
			v->weight = balance_weight(svc, ep->version);
			v->eps = calloc(svc->nendpoints, sizeof(*v->eps));
			if (v->eps == NULL) {
				balance_service_free(bs);
				return -1;
			}
			ops->init(v->state);
		}
		v->eps[v->neps++] = ep;
	}
	return 0;
}

void
balance_service_free(struct balance_service *bs)
{
	size_t i;

	for (i = 0; i < bs->nversions; i++)
		free(bs->versions[i].eps);
	free(bs->versions);
	bs->versions = NULL;
	bs->nversions = 0;
}

static int
balance_version_up(const struct balance_version *v)
{
	size_t i;

	for (i = 0; i < v->neps; i++)
		if (v->eps[i]->up)
			return 1;
	return 0;
}

const struct pcfg_endpoint *
balance_pick(struct balance_service *bs)
{
	struct balance_version *best = NULL;
	long total = 0, idx;
	size_t i;

	/* Smooth weighted round-robin (as nginx does it): every candidate
	 * gains its weight, the richest wins and pays the total back. */
	for (i = 0; i < bs->nversions; i++) {
		struct balance_version *v = &bs->versions[i];

		if (v->weight == 0 || !balance_version_up(v))
			continue;
		v->current += v->weight;
		total += v->weight;
		if (best == NULL || v->current > best->current)
			best = v;
	}
	if (best == NULL)
		return NULL;
	best->current -= total;
	idx = bs->ops->pick(best->state, best->eps, best->neps);
	return idx < 0 ? NULL : best->eps[idx];
}
