/*
 * balance: choosing the endpoint for one request (or one TCP connection).
 *
 * Two steps.  The split picks a version by weight (smooth weighted
 * round-robin: deterministic, so v1:90,v2:10 sends exactly 9 of every
 * 10 requests to v1), among versions with a positive weight and at least
 * one endpoint up.  Then the service's balancer (a small vtable, one file
 * per strategy: balance_rr.c) picks an instance of that version.
 *
 * Weights: the `split` line of the pcfg; a version it does not name gets
 * weight 0.  Without a split line every version weighs 1.
 *
 * The balance_service points into the pcfg it was built from: rebuild it
 * whenever the pcfg is replaced.
 */
#ifndef MESH_BALANCE_H
#define MESH_BALANCE_H

#include <stddef.h>

#include "mesh/pcfg.h"

#define BALANCE_STATE_MAX 16   /* bytes of per-version balancer state */

struct balancer_ops {
	const char *name;
	void (*init)(void *state);
	/* Index of the chosen endpoint among eps[0..n) whose `up` is set,
	 * or -1 when none is up. */
	long (*pick)(void *state, const struct pcfg_endpoint *const *eps, size_t n);
};

extern const struct balancer_ops balance_rr;

struct balance_version {
	const char                   *version;  /* ro: points into the pcfg */
	unsigned                      weight;   /* ro */
	long                          current;  /* private: smooth WRR */
	const struct pcfg_endpoint  **eps;      /* ro: this version's endpoints */
	size_t                        neps;
	_Alignas(8) unsigned char     state[BALANCE_STATE_MAX]; /* private */
};

struct balance_service {
	const struct pcfg_service *svc;        /* ro */
	const struct balancer_ops *ops;        /* ro */
	struct balance_version    *versions;   /* ro */
	size_t                     nversions;
};

/* 0, or -1 when out of memory. */
int  balance_service_init(struct balance_service *bs, const struct pcfg_service *svc,
                          const struct balancer_ops *ops);
void balance_service_free(struct balance_service *bs);
/* The chosen endpoint, or NULL when no endpoint with weight is up (503). */
const struct pcfg_endpoint *balance_pick(struct balance_service *bs);

#endif
