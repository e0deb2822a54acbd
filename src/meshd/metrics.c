/* SPDX-License-Identifier: ISC */
/*
 * metrics: render meshd's /metrics body in the Prometheus text exposition
 * format 0.0.4 (include/mesh/metrics.h lists the families and labels).
 *
 * The format wants every line of a family together, so each family walks
 * every instance; a family's HELP and TYPE are printed before its first
 * series (struct metrics_fam), and a family with no series is left out.
 * Everything here is computed from the copies in struct metrics_inst and
 * struct stats_view: nothing is read twice, so a histogram's buckets, its
 * +Inf and its _count come from one copy and agree.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mesh/metrics.h"

const uint64_t metrics_le_us[METRICS_LE_COUNT] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000, 60000000,
};

/* The same bounds as Prometheus reads them (seconds). */
static const char *const metrics_le_str[METRICS_LE_COUNT] = {
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
	"0.25", "0.5", "1", "2.5", "5", "10", "30", "60",
};

/* The registered extras (metrics_extra_add); meshd has one thread. */
static struct {
	metrics_extra_fn fn;
	void            *arg;
} metrics_extras[METRICS_EXTRA_MAX];

/* A family whose header is printed before its first series. */
struct metrics_fam {
	FILE       *f;
	const char *name, *type, *help;
	int         started;
};

void
metrics_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
metrics_escape(FILE *f, const char *value, size_t max)
{
	size_t i;

	for (i = 0; i < max && value[i] != '\0'; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c == '\\')
			fputs("\\\\", f);
		else if (c == '"')
			fputs("\\\"", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c >= 0x7f)
			fputc('?', f);   /* keeps the output valid UTF-8 */
		else
			fputc(c, f);
	}
}

static void
metrics_label_n(FILE *f, int first, const char *name, const char *value, size_t max)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	metrics_escape(f, value, max);
	fputc('"', f);
}

void
metrics_label(FILE *f, int first, const char *name, const char *value)
{
	metrics_label_n(f, first, name, value, SIZE_MAX);
}

/* Start a series of fm: its header the first time, then "name{". */
static void
metrics_series(struct metrics_fam *fm, const char *suffix)
{
	if (!fm->started) {
		metrics_family(fm->f, fm->name, fm->type, fm->help);
		fm->started = 1;
	}
	fprintf(fm->f, "%s%s{", fm->name, suffix);
}

static void
metrics_end_u64(FILE *f, uint64_t v)
{
	fprintf(f, "} %" PRIu64 "\n", v);
}

/* mesh, service, version, instance: first in every instance's series. */
static void
metrics_inst_labels(FILE *f, const char *mesh, const struct metrics_inst *in)
{
	metrics_label(f, 1, "mesh", mesh);
	metrics_label(f, 0, "service", in->service);
	metrics_label(f, 0, "version", in->version);
	metrics_label(f, 0, "instance", in->id);
}

/* ... then direction, peer ("unknown" when the caller had no identity)
 * and, on outbound rows, the version the split picked. */
static void
metrics_peer_labels(FILE *f, const char *mesh, const struct metrics_inst *in,
    const struct stats_peer_rec *p)
{
	metrics_inst_labels(f, mesh, in);
	metrics_label(f, 0, "direction", stats_dir_name(p->dir));
	metrics_label_n(f, 0, "peer", p->service[0] != '\0' ? p->service : "unknown",
	    STATS_NAME_LEN);
	if (p->dir != STATS_IN)
		metrics_label_n(f, 0, "peer_version", p->version, STATS_NAME_LEN);
}

static void
metrics_requests(FILE *f, const char *mesh, const struct metrics_inst *in, size_t n)
{
	static const char *const codes[4] = { "2xx", "3xx", "4xx", "5xx" };
	struct metrics_fam fm = { f, "mesh_requests_total", "counter",
	    "Requests with a final response, per peer and status class.", 0 };
	size_t i, r;
	int c;

	for (i = 0; i < n; i++)
		for (r = 0; in[i].stats != NULL && r < in[i].stats->npeers; r++) {
			const struct stats_peer_rec *p = &in[i].stats->peers[r];

			for (c = 0; c < 4; c++) {
				metrics_series(&fm, "");
				metrics_peer_labels(f, mesh, &in[i], p);
				metrics_label(f, 0, "code", codes[c]);
				metrics_end_u64(f, p->responses[c]);
			}
		}
}

/* gRPC calls of a peer row: one series per grpc-status seen (a row with
 * no gRPC call has none), the code as a decimal label. */
static void
metrics_grpc(FILE *f, const char *mesh, const struct metrics_inst *in, size_t n)
{
	struct metrics_fam fm = { f, "mesh_grpc_requests_total", "counter",
	    "gRPC calls, per peer and grpc-status (codes seen only).", 0 };
	char code[4];
	size_t i, r;
	unsigned c;

	for (i = 0; i < n; i++)
		for (r = 0; in[i].stats != NULL && r < in[i].stats->npeers; r++) {
			const struct stats_peer_rec *p = &in[i].stats->peers[r];

			for (c = 0; c < STATS_GRPC_CODES; c++) {
				if (p->grpc[c] == 0)
					continue;
				snprintf(code, sizeof(code), "%u", c);
				metrics_series(&fm, "");
				metrics_peer_labels(f, mesh, &in[i], p);
				metrics_label(f, 0, "grpc_status", code);
				metrics_end_u64(f, p->grpc[c]);
			}
		}
}

static void
metrics_histogram(FILE *f, const char *mesh, const struct metrics_inst *in, size_t n)
{
	struct metrics_fam fm = { f, "mesh_request_duration_seconds", "histogram",
	    "Time from the request head to the end of the response.", 0 };
	size_t i, r;
	unsigned b;

	for (i = 0; i < n; i++)
		for (r = 0; in[i].stats != NULL && r < in[i].stats->npeers; r++) {
			const struct stats_peer_rec *p = &in[i].stats->peers[r];
			uint64_t total = 0, cum, prev = 0;

			for (b = 0; b < STATS_HIST_BUCKETS; b++)
				total += p->hist[b];
			for (b = 0; b < METRICS_LE_COUNT; b++) {
				cum = stats_hist_le(p->hist, metrics_le_us[b]);
				/* cumulative whatever the reader returns */
				cum = cum < prev ? prev : cum > total ? total : cum;
				prev = cum;
				metrics_series(&fm, "_bucket");
				metrics_peer_labels(f, mesh, &in[i], p);
				metrics_label(f, 0, "le", metrics_le_str[b]);
				metrics_end_u64(f, cum);
			}
			metrics_series(&fm, "_bucket");
			metrics_peer_labels(f, mesh, &in[i], p);
			metrics_label(f, 0, "le", "+Inf");
			metrics_end_u64(f, total);
			metrics_series(&fm, "_sum");
			metrics_peer_labels(f, mesh, &in[i], p);
			/* microseconds as exact decimal seconds */
			fprintf(f, "} %" PRIu64 ".%06" PRIu64 "\n",
			    p->duration_sum_us / 1000000, p->duration_sum_us % 1000000);
			metrics_series(&fm, "_count");
			metrics_peer_labels(f, mesh, &in[i], p);
			metrics_end_u64(f, total);
		}
}

/* A counter of every peer row: field at `off` in struct stats_peer_rec. */
static void
metrics_peer_counter(FILE *f, const char *mesh, const struct metrics_inst *in, size_t n,
    const char *name, const char *help, size_t off)
{
	struct metrics_fam fm = { f, name, "counter", help, 0 };
	size_t i, r;

	for (i = 0; i < n; i++)
		for (r = 0; in[i].stats != NULL && r < in[i].stats->npeers; r++) {
			const struct stats_peer_rec *p = &in[i].stats->peers[r];
			uint64_t v;

			memcpy(&v, (const char *)p + off, sizeof(v));
			metrics_series(&fm, "");
			metrics_peer_labels(f, mesh, &in[i], p);
			metrics_end_u64(f, v);
		}
}

/* One series per instance with a stats file from flat counter id, with an
 * optional extra label. */
static void
metrics_flat(struct metrics_fam *fm, const char *mesh, const struct metrics_inst *in,
    size_t n, enum stat_id id, const char *lname, const char *lvalue)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (in[i].stats == NULL)
			continue;
		metrics_series(fm, "");
		metrics_inst_labels(fm->f, mesh, &in[i]);
		if (lname != NULL)
			metrics_label(fm->f, 0, lname, lvalue);
		metrics_end_u64(fm->f, in[i].stats->snap.v[id]);
	}
}

static void
metrics_flat_families(FILE *f, const char *mesh, const struct metrics_inst *in, size_t n)
{
	static const struct { enum stat_id id; const char *reason; } refused[] = {
		{ STAT_REFUSED_BAD_REQUEST, "bad_request" },
		{ STAT_REFUSED_NO_ROUTE, "no_route" },
		{ STAT_REFUSED_NO_UPSTREAM, "no_upstream" },
		{ STAT_REFUSED_UPSTREAM_ERROR, "upstream_error" },
		{ STAT_REFUSED_TIMEOUT, "timeout" },
		{ STAT_REFUSED_NOT_ALLOWED, "not_allowed" },
		{ STAT_OVERLOADED, "overloaded" },
	};
	struct metrics_fam budget = { f, "mesh_retry_budget_exhausted_total", "counter",
	    "Retries the route allowed but its retry budget refused.", 0 };
	struct metrics_fam ref = { f, "mesh_refused_total", "counter",
	    "Requests and connections the mesh refused, by reason.", 0 };
	struct metrics_fam open = { f, "mesh_tcp_connections_open", "gauge",
	    "Connections open now, every listener of the sidecar.", 0 };
	struct metrics_fam flight = { f, "mesh_requests_in_flight", "gauge",
	    "Inbound HTTP requests the sidecar is answering now (what a drain waits for).", 0 };
	struct metrics_fam total = { f, "mesh_tcp_connections_total", "counter",
	    "Connections accepted, every listener of the sidecar.", 0 };
	struct metrics_fam tls = { f, "mesh_tls_handshakes_total", "counter",
	    "mTLS handshakes between sidecars, both directions.", 0 };
	struct metrics_fam bytes = { f, "mesh_bytes_total", "counter",
	    "Bytes the sidecar received and sent on every socket.", 0 };
	struct metrics_fam faults = { f, "mesh_faults_injected_total", "counter",
	    "Faults the caller's sidecar injected into its requests (fault.* of a route).", 0 };
	struct metrics_fam mirror = { f, "mesh_mirror_requests_total", "counter",
	    "Copies of requests the caller's sidecar mirrored (mirror of a route), by result.", 0 };
	struct metrics_fam h2 = { f, "mesh_http2_total", "counter",
	    "HTTP/2 in the sidecar: sessions started, streams served, sessions "
	    "ended for a flood of resets, SETTINGS or PINGs.", 0 };
	size_t k;

	metrics_flat(&budget, mesh, in, n, STAT_RETRIES_BUDGET_EXHAUSTED, NULL, NULL);
	for (k = 0; k < sizeof(refused) / sizeof(refused[0]); k++)
		metrics_flat(&ref, mesh, in, n, refused[k].id, "reason", refused[k].reason);
	metrics_flat(&open, mesh, in, n, STAT_CONNECTIONS_OPEN, NULL, NULL);
	metrics_flat(&flight, mesh, in, n, STAT_REQUESTS_IN_FLIGHT, NULL, NULL);
	metrics_flat(&total, mesh, in, n, STAT_CONNECTIONS_TOTAL, NULL, NULL);
	metrics_flat(&tls, mesh, in, n, STAT_TLS_HANDSHAKES_OK, "result", "ok");
	metrics_flat(&tls, mesh, in, n, STAT_TLS_HANDSHAKES_FAILED, "result", "failed");
	metrics_flat(&bytes, mesh, in, n, STAT_BYTES_IN, "dir", "received");
	metrics_flat(&bytes, mesh, in, n, STAT_BYTES_OUT, "dir", "sent");
	metrics_flat(&faults, mesh, in, n, STAT_FAULTS_ABORT, "kind", "abort");
	metrics_flat(&faults, mesh, in, n, STAT_FAULTS_DELAY, "kind", "delay");
	metrics_flat(&mirror, mesh, in, n, STAT_MIRROR_RESP_2XX, "result", "2xx");
	metrics_flat(&mirror, mesh, in, n, STAT_MIRROR_RESP_3XX, "result", "3xx");
	metrics_flat(&mirror, mesh, in, n, STAT_MIRROR_RESP_4XX, "result", "4xx");
	metrics_flat(&mirror, mesh, in, n, STAT_MIRROR_RESP_5XX, "result", "5xx");
	metrics_flat(&mirror, mesh, in, n, STAT_MIRROR_ERRORS, "result", "error");
	metrics_flat(&mirror, mesh, in, n, STAT_MIRROR_SKIPPED, "result", "skipped");
	metrics_flat(&h2, mesh, in, n, STAT_H2_SESSIONS, "what", "sessions");
	metrics_flat(&h2, mesh, in, n, STAT_H2_STREAMS, "what", "streams");
	metrics_flat(&h2, mesh, in, n, STAT_H2_FLOODS, "what", "floods");
}

/* mesh, service, ... then the endpoint: peer, peer_version, peer_instance
 * (and peer_host for a row that names its host: registry = etcd). */
static void
metrics_ep_labels(FILE *f, const char *mesh, const struct metrics_inst *in,
    const struct stats_ep_rec *e)
{
	char id[2 * STATS_NAME_LEN + 16];

	metrics_inst_labels(f, mesh, in);
	metrics_label_n(f, 0, "peer", e->service, STATS_NAME_LEN);
	metrics_label_n(f, 0, "peer_version", e->version, STATS_NAME_LEN);
	snprintf(id, sizeof(id), "%.*s@%.*s.%u", (int)STATS_NAME_LEN, e->service,
	    (int)STATS_NAME_LEN, e->version, e->index);
	metrics_label(f, 0, "peer_instance", id);
	/* with a registry another host's namesake is a series of its own */
	if (e->host[0] != '\0')
		metrics_label_n(f, 0, "peer_host", e->host, STATS_NAME_LEN);
}

static void
metrics_endpoints(FILE *f, const char *mesh, const struct metrics_inst *in, size_t n)
{
	struct metrics_fam st = { f, "mesh_breaker_state", "gauge",
	    "Circuit breaker of an upstream endpoint: 0 closed, 1 half-open, 2 open.", 0 };
	struct metrics_fam ej = { f, "mesh_outlier_ejected", "gauge",
	    "1 while an upstream endpoint is ejected as an outlier.", 0 };
	struct metrics_fam ejs = { f, "mesh_outlier_ejections_total", "counter",
	    "Times an upstream endpoint was ejected as an outlier.", 0 };
	struct metrics_fam *fams[3] = { &st, &ej, &ejs };
	size_t i, r, k;

	for (k = 0; k < 3; k++)
		for (i = 0; i < n; i++)
			for (r = 0; in[i].stats != NULL && r < in[i].stats->neps; r++) {
				const struct stats_ep_rec *e = &in[i].stats->eps[r];
				uint64_t v;

				if (e->state == STATS_EP_FREE)
					continue;
				if (k == 0)
					v = e->state == STATS_EP_OPEN ? 2 :
					    e->state == STATS_EP_HALF_OPEN ? 1 : 0;
				else
					v = k == 1 ? (e->ejected != 0) : e->ejections;
				metrics_series(fams[k], "");
				metrics_ep_labels(f, mesh, &in[i], e);
				metrics_end_u64(f, v);
			}
}

/* meshd's own view: certificates, processes, up, restarts. */
static void
metrics_meshd_side(FILE *f, const char *mesh, const struct metrics_inst *in, size_t n,
    uint64_t meshd_rss)
{
	struct metrics_fam cert = { f, "mesh_cert_expiry_timestamp_seconds", "gauge",
	    "Not-after of the leaf certificate meshd last issued to the instance.", 0 };
	struct metrics_fam rss = { f, "mesh_process_resident_bytes", "gauge",
	    "Resident set size of a mesh process.", 0 };
	struct metrics_fam up = { f, "mesh_instance_up", "gauge",
	    "1 when the instance's endpoint is up (sidecar ready, app running and healthy).", 0 };
	struct metrics_fam rst = { f, "mesh_instance_restarts_total", "counter",
	    "Restarts of the instance's app and sidecar by meshd.", 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		if (in[i].identity == NULL)
			continue;
		metrics_series(&cert, "");
		metrics_inst_labels(f, mesh, &in[i]);
		metrics_label(f, 0, "identity", in[i].identity);
		fprintf(f, "} %" PRId64 "\n", in[i].cert_not_after);
	}
	for (i = 0; i < n; i++) {
		if (in[i].app_rss != 0) {
			metrics_series(&rss, "");
			metrics_inst_labels(f, mesh, &in[i]);
			metrics_label(f, 0, "process", "app");
			metrics_end_u64(f, in[i].app_rss);
		}
		if (in[i].sidecar_rss != 0) {
			metrics_series(&rss, "");
			metrics_inst_labels(f, mesh, &in[i]);
			metrics_label(f, 0, "process", "sidecar");
			metrics_end_u64(f, in[i].sidecar_rss);
		}
	}
	if (meshd_rss != 0) {
		metrics_series(&rss, "");
		metrics_label(f, 1, "mesh", mesh);
		metrics_label(f, 0, "process", "meshd");
		metrics_end_u64(f, meshd_rss);
	}
	for (i = 0; i < n; i++) {
		metrics_series(&up, "");
		metrics_inst_labels(f, mesh, &in[i]);
		metrics_end_u64(f, in[i].up != 0);
	}
	for (i = 0; i < n; i++) {
		if (in[i].has_app) {
			metrics_series(&rst, "");
			metrics_inst_labels(f, mesh, &in[i]);
			metrics_label(f, 0, "process", "app");
			metrics_end_u64(f, in[i].app_restarts);
		}
		metrics_series(&rst, "");
		metrics_inst_labels(f, mesh, &in[i]);
		metrics_label(f, 0, "process", "sidecar");
		metrics_end_u64(f, in[i].sidecar_restarts);
	}
}

int
metrics_write(FILE *f, const char *mesh, const struct metrics_inst *in, size_t n,
    uint64_t meshd_rss)
{
	size_t k;

	metrics_requests(f, mesh, in, n);
	metrics_grpc(f, mesh, in, n);
	metrics_histogram(f, mesh, in, n);
	metrics_peer_counter(f, mesh, in, n, "mesh_retries_total",
	    "Retries sent (attempts after the first), per peer.",
	    offsetof(struct stats_peer_rec, retries));
	metrics_peer_counter(f, mesh, in, n, "mesh_timeouts_total",
	    "Requests past their route's timeout, per peer.",
	    offsetof(struct stats_peer_rec, timeouts));
	metrics_flat_families(f, mesh, in, n);
	metrics_endpoints(f, mesh, in, n);
	metrics_meshd_side(f, mesh, in, n, meshd_rss);
	for (k = 0; k < METRICS_EXTRA_MAX; k++)
		if (metrics_extras[k].fn != NULL)
			metrics_extras[k].fn(f, mesh, metrics_extras[k].arg);
	return ferror(f) ? -1 : 0;
}

int
metrics_extra_add(metrics_extra_fn fn, void *arg)
{
	size_t k;

	for (k = 0; k < METRICS_EXTRA_MAX; k++)
		if (metrics_extras[k].fn == NULL) {
			metrics_extras[k].fn = fn;
			metrics_extras[k].arg = arg;
			return 0;
		}
	return -1;
}

void
metrics_extra_remove(metrics_extra_fn fn, void *arg)
{
	size_t k;

	for (k = 0; k < METRICS_EXTRA_MAX; k++)
		if (metrics_extras[k].fn == fn && metrics_extras[k].arg == arg) {
			metrics_extras[k].fn = NULL;
			metrics_extras[k].arg = NULL;
		}
}
