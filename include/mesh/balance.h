/* SPDX-License-Identifier: ISC */
/*
 * balance: choosing the endpoint for one request (or one TCP connection).
 *
 * Two steps.  The split picks a version by weight (smooth weighted
 * round-robin: deterministic, so v1:90,v2:10 sends exactly 9 of every
 * 10 requests to v1), among versions with a positive weight and at least
 * one eligible endpoint.  Then the service's balancer (a small vtable, one
 * file per strategy: balance_ewma.c, balance_lr.c, balance_rr.c) picks an
 * instance of that version among its eligible endpoints.
 *
 * Eligible: `up` in the pcfg, not ejected as an outlier (outlier.c), and
 * allowed by the gate (the circuit breakers, balance_set_gate()).
 *
 * Locality (issue 16): between the version and the instance, the set.
 * While the chosen version has an eligible local endpoint, only its local
 * endpoints are candidates; with none, its remote ones (another host's,
 * pcfg_endpoint_remote()) are: traffic spills over and comes back as soon
 * as a local endpoint is eligible again.  The balancer then picks within
 * the set, and a retry's avoidance applies within it too.  A retry
 * names the endpoints it wants to avoid (those that just failed); they are
 * used only when nothing else of the chosen version is eligible.
 *
 * Weights: the `split` line of the pcfg; a version it does not name gets
 * weight 0.  Without a split line every version weighs 1.
 *
 * Live state.  Every endpoint address (IPv4 and port) has one struct balance_ep for the life
 * of the process (outstanding requests, peak-EWMA latency, outlier state):
 * it survives config reloads, so a conn may hold its pointer across a
 * reload.  The caller brackets every exchange with balance_start() and
 * balance_done().
 *
 * The balance_service points into the pcfg it was built from: rebuild it
 * whenever the pcfg is replaced.
 *
 * Randomness and time are injectable (balance_seed(), balance_set_clock())
 * so the tests are deterministic.  Single-threaded, like the proxy.
 */
#ifndef MESH_BALANCE_H
#define MESH_BALANCE_H

#include <stddef.h>
#include <stdint.h>

#include "mesh/epaddr.h"
#include "mesh/pcfg.h"

#define BALANCE_STATE_MAX 16   /* bytes of per-version balancer state */

/* Live per-endpoint state (see above).  Written by balance.c and outlier.c. */
struct balance_ep {
	struct epaddr addr;         /* ro: the endpoint's sidecar inbound address (the key) */
	uint32_t outstanding;       /* exchanges in flight from this sidecar */
	int      seen;              /* a latency sample has been taken */
	double   ewma_us;           /* peak-EWMA latency at stamp_us */
	uint64_t stamp_us;          /* time of the last sample */
	uint32_t failures;          /* consecutive failures (outlier.c) */
	uint32_t ejections;         /* ejection multiplier (outlier.c) */
	uint64_t ejected_until_us;  /* 0: not ejected */
	uint64_t back_us;           /* when the last ejection ended */
	uint32_t base_ms;           /* outlier_ejection_ms of the last ejection */
	uint64_t done;              /* exchanges ended with a verdict (OK or FAIL) */
	uint64_t failed;            /* of them BALANCE_FAIL */
	uint64_t ejected_total;     /* times ejected (outlier.c) */
};

struct balancer_ops {
	const char *name;
	void (*init)(void *state);
	/* Index of the chosen endpoint among eps[0..n), every one of them
	 * eligible, or -1 when n is 0.  Randomness from balance_random(). */
	long (*pick)(void *state, struct balance_ep *const *eps, size_t n);
};

extern const struct balancer_ops balance_rr;    /* round-robin */
extern const struct balancer_ops balance_ewma;  /* P2C over peak-EWMA x (outstanding+1) */
extern const struct balancer_ops balance_lr;    /* least-request: P2C over outstanding */

/* The ops for a policy's `lb` (ewma for an unknown value). */
const struct balancer_ops *balance_ops(enum pcfg_lb lb);

struct balance_version {
	const char                   *version;  /* ro: points into the pcfg */
	unsigned                      weight;   /* ro */
	long                          current;  /* private: smooth WRR */
	const struct pcfg_endpoint  **eps;      /* ro: this version's endpoints */
	struct balance_ep           **beps;     /* ro: their live state, same order */
	struct balance_ep           **cand;     /* private: scratch, neps entries */
	size_t                       *cidx;     /* private: cand[k] is eps[cidx[k]] */
	uint8_t                      *remote;   /* ro: eps[i] runs on another host */
	size_t                        neps;
	_Alignas(8) unsigned char     state[BALANCE_STATE_MAX]; /* private */
};

struct balance_service {
	const struct pcfg_service *svc;        /* ro */
	const struct balancer_ops *ops;        /* ro */
	struct balance_version    *versions;   /* ro */
	size_t                     nversions;
	struct balance_ep        **all;        /* ro: every endpoint's state, svc order */
	int                        has_remote; /* ro: some endpoint is remote */
};

/* 0, or -1 when out of memory.  Every endpoint is local. */
int  balance_service_init(struct balance_service *bs, const struct pcfg_service *svc,
                          const struct balancer_ops *ops);
/* The same, for the sidecar of cfg: an endpoint whose host is another
 * than cfg's (pcfg_endpoint_remote()) is remote. */
int  balance_service_init_at(struct balance_service *bs, const struct pcfg *cfg,
                             const struct pcfg_service *svc, const struct balancer_ops *ops);
void balance_service_free(struct balance_service *bs);
/* The chosen endpoint, or NULL when no endpoint with weight is eligible (503). */
const struct pcfg_endpoint *balance_pick(struct balance_service *bs);
/*
 * The same, avoiding the endpoints at avoid[0..navoid) unless
 * they are all the chosen version has eligible (then any of them), and
 * giving its live state in *bep (for balance_start/balance_done).
 */
const struct pcfg_endpoint *balance_pick_ep(struct balance_service *bs, const struct epaddr *avoid,
                                            size_t navoid, struct balance_ep **bep);

/* The live state of the endpoint at `at`, created on first use; NULL
 * when out of memory.  Never freed: pointers stay valid. */
struct balance_ep *balance_ep_get(struct epaddr at);
/* The address of a pcfg endpoint (127.0.0.1 when it names none). */
struct epaddr balance_ep_addr(const struct pcfg_endpoint *ep);

enum balance_outcome {
	BALANCE_OK,       /* a response head (< 500) came back: a latency sample */
	BALANCE_FAIL,     /* connect failure, reset, 5xx: an outlier strike */
	BALANCE_ABANDON,  /* ended without a verdict (the client left...) */
};
/* An exchange to bep starts: the start time to give balance_done(). */
uint64_t balance_start(struct balance_ep *bep);
/* It ended: outstanding drops; only BALANCE_OK is a latency sample (a
 * fast failure must not look like a fast endpoint), and only with a
 * nonzero start_us: the caller passes 0 when the time includes setting
 * up a new connection (TCP and mTLS handshakes are not the instance's
 * response time, and one slow handshake would shun it for seconds). */
void     balance_done(struct balance_ep *bep, uint64_t start_us, enum balance_outcome o);

/*
 * The gate: nonzero when an endpoint may take a request now (circuit
 * breakers install theirs; NULL: every endpoint may).
 */
void balance_set_gate(int (*allows)(struct epaddr at));

/* Weight of the past after elapsed_us in the peak-EWMA: exp(-t/tau),
 * tau = BALANCE_TAU_US (10 s, as Linkerd and Finagle). */
#define BALANCE_TAU_US 10e6
double balance_decay(uint64_t elapsed_us);

/* Injectable sources.  balance_seed(0) reseeds from the clock and pid. */
void     balance_seed(uint64_t seed);
uint32_t balance_random(uint32_t bound);      /* uniform in [0, bound), bound > 0 */
void     balance_set_clock(uint64_t (*now_us)(void));  /* NULL: CLOCK_MONOTONIC */
uint64_t balance_now_us(void);

#endif
