/* SPDX-License-Identifier: ISC */
/*
 * balance: the split between versions, then the per-version balancer
 * over the eligible endpoints; the live per-endpoint state; the random
 * and time sources.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mesh/balance.h"
#include "mesh/outlier.h"

/* Live state by port.  Entries are allocated one by one (at service
 * setup, never on a request) so their addresses never move. */
static struct balance_ep **balance_eps;
static size_t              balance_neps, balance_capeps;

static int      (*balance_gate)(struct epaddr at);
static uint64_t (*balance_clock)(void);
static uint64_t   balance_rng;     /* splitmix64 state; 0: not seeded yet */

void
balance_set_gate(int (*allows)(struct epaddr at))
{
	balance_gate = allows;
}

void
balance_set_clock(uint64_t (*now_us)(void))
{
	balance_clock = now_us;
}

uint64_t
balance_now_us(void)
{
	struct timespec ts;

	if (balance_clock != NULL)
		return balance_clock();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
balance_seed(uint64_t seed)
{
	if (seed == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
		    ((uint64_t)getpid() << 16);
	}
	balance_rng = seed != 0 ? seed : 1;
}

uint32_t
balance_random(uint32_t bound)
{
	uint64_t z;

	if (balance_rng == 0)
		balance_seed(0);
	/* splitmix64: small, fast, good enough to pick two candidates */
	z = (balance_rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return bound == 0 ? 0 : (uint32_t)((z >> 32) * bound >> 32);
}

struct epaddr
balance_ep_addr(const struct pcfg_endpoint *ep)
{
	return epaddr_make(pcfg_endpoint_addr(ep), ep->port);
}

struct balance_ep *
balance_ep_get(struct epaddr at)
{
	struct balance_ep *e, **n;
	size_t i;

	for (i = 0; i < balance_neps; i++)
		if (epaddr_eq(balance_eps[i]->addr, at))
			return balance_eps[i];
	if (balance_neps == balance_capeps) {
		size_t cap = balance_capeps ? balance_capeps * 2 : 16;

		if ((n = realloc(balance_eps, cap * sizeof(*n))) == NULL)
			return NULL;
		balance_eps = n;
		balance_capeps = cap;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->addr = at;
	balance_eps[balance_neps++] = e;
	return e;
}

uint64_t
balance_start(struct balance_ep *bep)
{
	if (bep == NULL)
		return 0;
	bep->outstanding++;
	return balance_now_us();
}

double
balance_decay(uint64_t elapsed_us)
{
	return exp(-(double)elapsed_us / BALANCE_TAU_US);
}

void
balance_done(struct balance_ep *bep, uint64_t start_us, enum balance_outcome o)
{
	uint64_t now;
	double rtt, w;

	if (bep == NULL)
		return;
	now = balance_now_us();
	if (bep->outstanding > 0)
		bep->outstanding--;
	if (o != BALANCE_ABANDON)
		bep->done++;
	if (o == BALANCE_FAIL)
		bep->failed++;
	if (o == BALANCE_OK && start_us != 0) {
		rtt = now > start_us ? (double)(now - start_us) : 0.0;
		if (!bep->seen || rtt > bep->ewma_us) {
			/* peak: a slower sample is believed at once */
			bep->ewma_us = rtt;
			bep->seen = 1;
		} else {
			w = balance_decay(now > bep->stamp_us ? now - bep->stamp_us : 0);
			bep->ewma_us = bep->ewma_us * w + rtt * (1.0 - w);
		}
		bep->stamp_us = now;
	}
	outlier_record(bep, o, now);
}

const struct balancer_ops *
balance_ops(enum pcfg_lb lb)
{
	switch (lb) {
	case PCFG_LB_ROUND_ROBIN:
		return &balance_rr;
	case PCFG_LB_LEAST_REQUEST:
		return &balance_lr;
	case PCFG_LB_EWMA:
		break;
	}
	return &balance_ewma;
}

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
	return balance_service_init_at(bs, NULL, svc, ops);
}

int
balance_service_init_at(struct balance_service *bs, const struct pcfg *cfg,
                        const struct pcfg_service *svc, const struct balancer_ops *ops)
{
	size_t i, j, n = svc->nendpoints;

	memset(bs, 0, sizeof(*bs));
	bs->svc = svc;
	bs->ops = ops;
	if (n == 0)
		return 0;
	/* At most one version per endpoint; versions in order of appearance. */
	bs->versions = calloc(n, sizeof(*bs->versions));
	bs->all = calloc(n, sizeof(*bs->all));
	if (bs->versions == NULL || bs->all == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		const struct pcfg_endpoint *ep = &svc->endpoints[i];
		struct balance_version *v = NULL;

		if ((bs->all[i] = balance_ep_get(balance_ep_addr(ep))) == NULL)
			goto fail;
		for (j = 0; j < bs->nversions; j++)
			if (strcmp(bs->versions[j].version, ep->version) == 0)
				v = &bs->versions[j];
		if (v == NULL) {
			v = &bs->versions[bs->nversions++];
			v->version = ep->version;
			v->weight = balance_weight(svc, ep->version);
			v->eps = calloc(n, sizeof(*v->eps));
			v->beps = calloc(n, sizeof(*v->beps));
			v->cand = calloc(n, sizeof(*v->cand));
			v->cidx = calloc(n, sizeof(*v->cidx));
			v->remote = calloc(n, sizeof(*v->remote));
			if (v->eps == NULL || v->beps == NULL || v->cand == NULL || v->cidx == NULL ||
			    v->remote == NULL)
				goto fail;
			ops->init(v->state);
		}
		v->remote[v->neps] = cfg != NULL && pcfg_endpoint_remote(cfg, ep);
		bs->has_remote |= v->remote[v->neps];
		v->beps[v->neps] = bs->all[i];
		v->eps[v->neps++] = ep;
	}
	return 0;
fail:
	balance_service_free(bs);
	return -1;
}

void
balance_service_free(struct balance_service *bs)
{
	size_t i;

	for (i = 0; i < bs->nversions; i++) {
		free(bs->versions[i].eps);
		free(bs->versions[i].beps);
		free(bs->versions[i].cand);
		free(bs->versions[i].cidx);
		free(bs->versions[i].remote);
	}
	free(bs->versions);
	free(bs->all);
	bs->versions = NULL;
	bs->all = NULL;
	bs->nversions = 0;
}

static int
balance_eligible(const struct balance_version *v, size_t i, uint64_t now)
{
	return v->eps[i]->up && !outlier_ejected(v->beps[i], now) &&
	    (balance_gate == NULL || balance_gate(v->beps[i]->addr));
}

static int
balance_avoided(struct epaddr at, const struct epaddr *avoid, size_t navoid)
{
	size_t i;

	for (i = 0; i < navoid; i++)
		if (epaddr_eq(avoid[i], at))
			return 1;
	return 0;
}

/* Which endpoints of a version are candidates (locality). */
enum balance_set { BSET_ANY, BSET_LOCAL, BSET_REMOTE };

/* Fill v->cand with the eligible endpoints of the set but those in avoid;
 * their count.  *excluded is set when an eligible one was left out. */
static size_t
balance_candidates(struct balance_version *v, enum balance_set set,
                   const struct epaddr *avoid, size_t navoid, uint64_t now, int *excluded)
{
	size_t i, n = 0;

	*excluded = 0;
	for (i = 0; i < v->neps; i++) {
		if ((set == BSET_LOCAL && v->remote[i]) || (set == BSET_REMOTE && !v->remote[i]))
			continue;
		if (!balance_eligible(v, i, now))
			continue;
		if (balance_avoided(v->beps[i]->addr, avoid, navoid)) {
			*excluded = 1;
			continue;
		}
		v->cidx[n] = i;
		v->cand[n++] = v->beps[i];
	}
	return n;
}

const struct pcfg_endpoint *
balance_pick_ep(struct balance_service *bs, const struct epaddr *avoid, size_t navoid,
                struct balance_ep **bep)
{
	enum balance_set set = BSET_ANY;
	struct balance_version *best = NULL;
	long total = 0, idx;
	size_t i, n;
	uint64_t now = balance_now_us();
	int excluded;

	if (bep != NULL)
		*bep = NULL;
	if (bs->svc->nendpoints > 0)
		outlier_sweep(bs->svc->name, bs->all, bs->svc->nendpoints, bs->svc->policy.outlier_failures,
		    bs->svc->policy.outlier_ejection_ms, now);
	/* Smooth weighted round-robin (as nginx does it): every candidate
	 * gains its weight, the richest wins and pays the total back. */
	for (i = 0; i < bs->nversions; i++) {
		struct balance_version *v = &bs->versions[i];

		if (v->weight == 0 || balance_candidates(v, BSET_ANY, NULL, 0, now, &excluded) == 0)
			continue;
		v->current += v->weight;
		total += v->weight;
		if (best == NULL || v->current > best->current)
			best = v;
	}
	if (best == NULL)
		return NULL;
	best->current -= total;
	/* Local endpoints while one is eligible, else the remote ones. */
	if (bs->has_remote)
		set = balance_candidates(best, BSET_LOCAL, NULL, 0, now, &excluded) > 0 ?
		    BSET_LOCAL : BSET_REMOTE;
	/* A retry prefers another instance, but takes one that failed
	 * rather than none. */
	n = balance_candidates(best, set, avoid, navoid, now, &excluded);
	if (n == 0 && excluded)
		n = balance_candidates(best, set, NULL, 0, now, &excluded);
	idx = bs->ops->pick(best->state, best->cand, n);
	if (idx < 0 || (size_t)idx >= n)
		return NULL;
	if (bep != NULL)
		*bep = best->cand[idx];
	return best->eps[best->cidx[idx]];
}

const struct pcfg_endpoint *
balance_pick(struct balance_service *bs)
{
	return balance_pick_ep(bs, NULL, 0, NULL);
}
