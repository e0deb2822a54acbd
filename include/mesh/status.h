/* SPDX-License-Identifier: ISC */
/*
 * status: what `meshctl status` shows, as meshd knows it.
 *
 * Text (fits 80 columns for a mesh of usual names; src/status_text.c):
 *  - a header line for the mesh;
 *  - one summary row per service version (and a `*` row adding up every
 *    version of a service that has several): instances up/total, RPS
 *    over the last 10 s, success rate, p50/p95/p99, the route's split
 *    weight, and the breakers its callers hold on its instances;
 *  - one row per instance: service, version, index, state, app pid,
 *    sidecar pid, inbound port, restarts, uptime, REQ IN/OUT, 5XX and
 *    BRK/EJ (this sidecar's breakers open / endpoints it ejected now);
 *    a fatal instance gets a second line with why;
 *  - a line per instance that a caller sees open, half-open or ejected;
 *  - a line per instance whose sidecar mirrored requests (mirror.h);
 *  - the split weights of each route ("route NAME: split V=W ..."), and
 *    its mirror ("route NAME: MIRROR V P%");
 *  - the fault in force on each route ("api: FAULT abort 5% 503 (live)").
 *
 * JSON (one document; the schema is stable, fields are only ever added;
 * man/meshd.8 documents it):
 *   {"mesh":{"name","config","state_dir","meshd_pid","uptime_s","state","running"},
 *    "services":[{"name","version","protocol",
 *      "instances":[{"index","name","id","state","app_pid","proxy_pid",
 *        "proxy_ready","app_port","inbound_port","outbound_port",
 *        "listeners":[{"port","upstream"}],
 *        "restarts","uptime_s","last_exit","endpoint","cert",
 *        "stats":{"pid","connections_total",...,
 *                 "peers":[{"direction","service","version","requests",
 *                   "responses":{"2xx","3xx","4xx","5xx"},"retries",
 *                   "timeouts","p50_ms","p95_ms","p99_ms",
 *                   "grpc_calls","grpc_status":{"0",...,"16"}}]} or null,
 *        "breaker":{"state","callers":[{"caller","state","ejected","ewma_ms"}]},
 *        "ejected","host"}],
 *      "summary":{"instances_up","instances_total","rps","success_rate",
 *        "p50_ms","p95_ms","p99_ms","requests","source",
 *        "grpc_calls","grpc_success"}}],
 *    "service_totals":[{"name","versions","summary":{...}}],
 *    "routes":[{"name","split":[{"version","weight"}],
 *      "fault":{"delay_percent","delay_ms","abort_percent","abort_status",
 *               "match","version","source"} or null,
 *      "mirror":{"version","percent","source"} or null}],
 *    "registry":{"backend","state","reason","host","address","published",
 *      "remote":[{"id","service","version","index","host","address","port",
 *                 "spiffe"[,"weight"],"breaker":{"state","callers":[...]},
 *                 "ejected"}]}}
 * "registry" only with registry = etcd (status_reg.c; mreg.h); the text
 * then has a registry line after the header, and a line per remote
 * instance (", breaker STATE[, ejected]" when a caller here has a row
 * on it).  An instance's "host" is host_name with registry = etcd, else
 * null; the text's instance table then has a last column HOST.
 * A route is listed when it has a split, a fault or a mirror in force;
 * a fault's "source" is "live" for `meshctl fault` (faults.h), "file" for
 * the fault.* keys; a mirror's is "file".
 * A pid or port that does not exist is null, never 0.  "stats" is the
 * sidecar's stats file (include/mesh/stats.h), a dotted counter name
 * ("refused.not_allowed") a member of a group object.
 *
 * gRPC: a summary's "grpc_calls" counts the gRPC calls among the same
 * rows' requests, "grpc_success" the share of them that ended with
 * grpc-status 0 OK (4 decimals), null when there were none; a peer row's
 * "grpc_status" has a member per status seen ("14": calls), {} for none.
 * Text: a line per service version with gRPC calls, after the summary
 * table ("api v1: GRPC 97.50% OK of 1200 calls").
 *
 * Where the numbers come from.  A service version's summary adds up the
 * inbound peer rows of its instances' stats files (every caller, the
 * histograms bucket by bucket, then the quantiles); RPS from their rate
 * rings.  A service nobody calls but that calls others (a gateway) is
 * summarised by its outbound rows instead ("source":"outbound").  An
 * instance's breaker is what its callers' sidecars hold: each other
 * instance's endpoint row naming its service, version and index (and,
 * with registry = etcd, this host: status_ep_local()); the worst wins (open > half-open > closed), null when no caller has a row;
 * "ejected" is true when any caller ejected it.
 */
#ifndef MESH_STATUS_H
#define MESH_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mesh/meshd_ctx.h"
#include "mesh/stats.h"

/* Each returns a malloc'd NUL-terminated text in *out (*len bytes); 0 / -1. */
int status_text(const struct meshd *m, char **out, size_t *len);
int status_json(const struct meshd *m, char **out, size_t *len);

/* --- the summary math (src/status_sum.c) -------------------------------- */

#define STATUS_RPS_SECONDS 10u

/* Sums of one direction of peer rows. */
struct status_dirsum {
	uint64_t requests;
	uint64_t responses;              /* with a status class 2xx..5xx */
	uint64_t errors;                 /* of them 5xx */
	uint64_t grpc_calls;             /* gRPC calls among the requests */
	uint64_t grpc_ok;                /* of them ended with grpc-status 0 */
	uint64_t rows;                   /* peer rows added */
	double   rps;                    /* of the files that have such rows */
	uint64_t hist[STATS_HIST_BUCKETS];
};

struct status_summary {
	unsigned instances_up;           /* filled by the caller (meshd's view) */
	unsigned instances_total;
	struct status_dirsum dir[2];     /* [enum stats_dir] */
	/* status_summary_done(): */
	int      source;                 /* STATS_IN, or STATS_OUT: no inbound row */
	uint64_t requests;
	double   rps;
	int      has_traffic;            /* responses > 0 */
	double   success_rate;           /* non-5xx share of responses, 0..1 */
	uint64_t p50_us, p95_us, p99_us; /* 0 with no observation */
	uint64_t grpc_calls;             /* gRPC calls (0: none, no rate) */
	double   grpc_success;           /* share of them with status 0, 0..1 */
};

void status_summary_init(struct status_summary *s);
/* Add one instance's stats file; now_s: CLOCK_REALTIME seconds. */
void status_summary_add(struct status_summary *s, const struct stats_view *v, uint64_t now_s);
/* Add another summary (every version of a service). */
void status_summary_merge(struct status_summary *dst, const struct status_summary *src);
void status_summary_done(struct status_summary *s);
/* init, add each non-NULL views[i], done. */
void status_summary(struct status_summary *s, const struct stats_view *const *views,
                    size_t n, uint64_t now_s);

/*
 * Which endpoint rows are this host's (issue 16): with registry = etcd,
 * host_name and host_address (IPv4, host order); "" and 0 without.  A
 * row is this host's when its host is "" or host, and its address
 * 127.0.0.1 (or 0, an older file's) or addr; another host's namesake
 * (same service, version, index, port) is not.
 */
struct status_here {
	const char *host;
	uint32_t    addr;
};
void status_here_of(const struct meshd *m, struct status_here *h);
int  status_ep_local(const struct stats_ep_rec *e, const struct status_here *h);
/* The row of this host's instance (service, version, index) in a
 * caller's file (status_ep_local); NULL for none. */
const struct stats_ep_rec *status_ep_find(const struct stats_view *v, const char *service,
                                          const char *version, unsigned index,
                                          const struct status_here *here);
/* The row of another host's instance: its host, address and port too. */
const struct stats_ep_rec *status_ep_find_at(const struct stats_view *v, const char *service,
                                             const char *version, unsigned index,
                                             const char *host, uint32_t addr, uint16_t port);
/* "closed", "open", "half-open"; NULL for STATS_EP_FREE (no row). */
const char *status_ep_state(uint32_t state);
/* The worse of two states: open > half-open > closed > free. */
uint32_t status_ep_worse(uint32_t a, uint32_t b);

/* The stats files of every instance of m, read once per document. */
struct status_views {
	struct stats_view *v;            /* [m->ninst] */
	unsigned char     *ok;           /* [m->ninst]: v[i] was read */
	size_t             n;
	uint64_t           now_s;
	struct status_here here;         /* which endpoint rows are this host's */
};
int  status_views_load(const struct meshd *m, struct status_views *sv);
void status_views_free(struct status_views *sv);
/* The summary of config service sv (one version) from the views. */
void status_service_summary(const struct meshd *m, const struct status_views *vs,
                            const struct conf_service *svc, struct status_summary *s);
/* Instance i as its callers see it: worst state and how many ejected it
 * (the callers' rows of this host's instance i only). */
void status_inst_breaker(const struct meshd *m, const struct status_views *vs, size_t i,
                         uint32_t *worst, unsigned *ejected);

#endif
