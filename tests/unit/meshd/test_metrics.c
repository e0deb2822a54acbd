/* SPDX-License-Identifier: ISC */
/*
 * metrics: the renderer (metrics_write) on hand-made states — golden text
 * for a small mesh; label escaping; histogram buckets cumulative with
 * +Inf == _count == observations and exact counts away from the edges;
 * HELP/TYPE once per family across instances; gRPC calls by status; an
 * empty mesh; extras.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mesh/metrics.h"

/* metrics_write into a malloc'd string. */
static char *
render(const struct metrics_inst *in, size_t n, uint64_t meshd_rss)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(metrics_write(f, "shop", in, n, meshd_rss), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(text);
	return text;
}

static void
observe(struct stats_peer_rec *p, int status, uint64_t us)
{
	p->requests++;
	p->responses[status / 100 - 2]++;
	p->hist[stats_hist_bucket(us)]++;
	p->duration_sum_us += us;
}

/* One instance whose stats view has the one peer row p. */
static void
one_peer(struct metrics_inst *in, struct stats_view *v, struct stats_peer_rec *p,
    const char *service, const char *version, const char *id)
{
	memset(v, 0, sizeof(*v));
	v->peers = p;
	v->npeers = 1;
	memset(in, 0, sizeof(*in));
	in->service = service;
	in->version = version;
	in->id = id;
	in->stats = v;
}

static size_t
count(const char *text, const char *needle)
{
	size_t n = 0;

	for (; (text = strstr(text, needle)) != NULL; text++)
		n++;
	return n;
}

/* The value of the line that starts with `series` ("name{labels}"). */
static long long
value_of(const char *text, const char *series)
{
	const char *p = text;
	size_t n = strlen(series);

	for (;;) {
		assert_non_null(p = strstr(p, series));
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return atoll(p + n + 1);
		p += n;
	}
}

static const char golden[] =
"# HELP mesh_requests_total Requests with a final response, per peer and status class.\n"
"# TYPE mesh_requests_total counter\n"
"mesh_requests_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",code=\"2xx\"} 2\n"
"mesh_requests_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",code=\"3xx\"} 0\n"
"mesh_requests_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",code=\"4xx\"} 0\n"
"mesh_requests_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",code=\"5xx\"} 1\n"
"# HELP mesh_request_duration_seconds Time from the request head to the end of the response.\n"
"# TYPE mesh_request_duration_seconds histogram\n"
"mesh_request_duration_seconds_bucket{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",le=\"0.0005\"} 1\n"
"mesh_request_duration_seconds_bucket{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",le=\"0.001\"} 1\n"
"mesh_request_duration_seconds_bucket{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",le=\"0.0025\"} 2\n"
"mesh_request_duration_seconds_bucket{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",le=\"0.005\"} 2\n"
"mesh_request_duration_seconds_bucket{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",le=\"0.01\"} 2\n"
"mesh_request_duration_seconds_bucket{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",le=\"0.025\"} 2\n"
"mesh_request_duration_seconds_bucket{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",le=\"0.05\"} 2\n"
"mesh_request_duration_seconds_bucket{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",le=\"0.1\"} 3\n"
"mesh_request_duration_seconds_bucket{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",le=\"0.25\"} 3\n"
"mesh_request_duration_seconds_bucket{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",le=\"0.5\"} 3\n"
"mesh_request_duration_seconds_bucket{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",le=\"1\"} 3\n"
"mesh_request_duration_seconds_bucket{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",le=\"2.5\"} 3\n"
"mesh_request_duration_seconds_bucket{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",le=\"5\"} 3\n"
"mesh_request_duration_seconds_bucket{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",le=\"10\"} 3\n"
"mesh_request_duration_seconds_bucket{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",le=\"30\"} 3\n"
"mesh_request_duration_seconds_bucket{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",le=\"60\"} 3\n"
"mesh_request_duration_seconds_bucket{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\",le=\"+Inf\"} 3\n"
"mesh_request_duration_seconds_sum{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\"} 0.072300\n"
"mesh_request_duration_seconds_count{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\"} 3\n"
"# HELP mesh_retries_total Retries sent (attempts after the first), per peer.\n"
"# TYPE mesh_retries_total counter\n"
"mesh_retries_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\"} 0\n"
"# HELP mesh_timeouts_total Requests past their route's timeout, per peer.\n"
"# TYPE mesh_timeouts_total counter\n"
"mesh_timeouts_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\"} 1\n"
"# HELP mesh_retry_budget_exhausted_total Retries the route allowed but its retry budget refused.\n"
"# TYPE mesh_retry_budget_exhausted_total counter\n"
"mesh_retry_budget_exhausted_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\"} 4\n"
"# HELP mesh_refused_total Requests and connections the mesh refused, by reason.\n"
"# TYPE mesh_refused_total counter\n"
"mesh_refused_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",reason=\"bad_request\"} 0\n"
"mesh_refused_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",reason=\"no_route\"} 0\n"
"mesh_refused_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",reason=\"no_upstream\"} 0\n"
"mesh_refused_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",reason=\"upstream_error\"} 0\n"
"mesh_refused_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",reason=\"timeout\"} 1\n"
"mesh_refused_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",reason=\"not_allowed\"} 0\n"
"mesh_refused_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",reason=\"overloaded\"} 0\n"
"# HELP mesh_tcp_connections_open Connections open now, every listener of the sidecar.\n"
"# TYPE mesh_tcp_connections_open gauge\n"
"mesh_tcp_connections_open{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\"} 2\n"
"# HELP mesh_requests_in_flight Inbound HTTP requests the sidecar is answering now (what a drain waits for).\n"
"# TYPE mesh_requests_in_flight gauge\n"
"mesh_requests_in_flight{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\"} 3\n"
"# HELP mesh_tcp_connections_total Connections accepted, every listener of the sidecar.\n"
"# TYPE mesh_tcp_connections_total counter\n"
"mesh_tcp_connections_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\"} 7\n"
"# HELP mesh_tls_handshakes_total mTLS handshakes between sidecars, both directions.\n"
"# TYPE mesh_tls_handshakes_total counter\n"
"mesh_tls_handshakes_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",result=\"ok\"} 5\n"
"mesh_tls_handshakes_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",result=\"failed\"} 1\n"
"# HELP mesh_bytes_total Bytes the sidecar received and sent on every socket.\n"
"# TYPE mesh_bytes_total counter\n"
"mesh_bytes_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",dir=\"received\"} 1000\n"
"mesh_bytes_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",dir=\"sent\"} 2000\n"
"# HELP mesh_faults_injected_total Faults the caller's sidecar injected into its requests (fault.* of a route).\n"
"# TYPE mesh_faults_injected_total counter\n"
"mesh_faults_injected_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",kind=\"abort\"} 11\n"
"mesh_faults_injected_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",kind=\"delay\"} 0\n"
"# HELP mesh_mirror_requests_total Copies of requests the caller's sidecar mirrored (mirror of a route), by result.\n"
"# TYPE mesh_mirror_requests_total counter\n"
"mesh_mirror_requests_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",result=\"2xx\"} 7\n"
"mesh_mirror_requests_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",result=\"3xx\"} 0\n"
"mesh_mirror_requests_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",result=\"4xx\"} 0\n"
"mesh_mirror_requests_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",result=\"5xx\"} 1\n"
"mesh_mirror_requests_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",result=\"error\"} 2\n"
"mesh_mirror_requests_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",result=\"skipped\"} 3\n"
"# HELP mesh_http2_total HTTP/2 in the sidecar: sessions started, streams served, sessions ended for a flood of resets, SETTINGS or PINGs.\n"
"# TYPE mesh_http2_total counter\n"
"mesh_http2_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",what=\"sessions\"} 0\n"
"mesh_http2_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",what=\"streams\"} 0\n"
"mesh_http2_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",what=\"floods\"} 0\n"
"# HELP mesh_breaker_state Circuit breaker of an upstream endpoint: 0 closed, 1 half-open, 2 open.\n"
"# TYPE mesh_breaker_state gauge\n"
"mesh_breaker_state{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",peer=\"db\",peer_version=\"v2\",peer_instance=\"db@v2.1\"} 2\n"
"# HELP mesh_outlier_ejected 1 while an upstream endpoint is ejected as an outlier.\n"
"# TYPE mesh_outlier_ejected gauge\n"
"mesh_outlier_ejected{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",peer=\"db\",peer_version=\"v2\",peer_instance=\"db@v2.1\"} 1\n"
"# HELP mesh_outlier_ejections_total Times an upstream endpoint was ejected as an outlier.\n"
"# TYPE mesh_outlier_ejections_total counter\n"
"mesh_outlier_ejections_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",peer=\"db\",peer_version=\"v2\",peer_instance=\"db@v2.1\"} 3\n"
"# HELP mesh_cert_expiry_timestamp_seconds Not-after of the leaf certificate meshd last issued to the instance.\n"
"# TYPE mesh_cert_expiry_timestamp_seconds gauge\n"
"mesh_cert_expiry_timestamp_seconds{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",identity=\"spiffe://mesh.local/svc/api\"} 1767225600\n"
"# HELP mesh_process_resident_bytes Resident set size of a mesh process.\n"
"# TYPE mesh_process_resident_bytes gauge\n"
"mesh_process_resident_bytes{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",process=\"app\"} 4096000\n"
"mesh_process_resident_bytes{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",process=\"sidecar\"} 2048000\n"
"mesh_process_resident_bytes{mesh=\"shop\",process=\"meshd\"} 3072000\n"
"# HELP mesh_instance_up 1 when the instance's endpoint is up (sidecar ready, app running and healthy).\n"
"# TYPE mesh_instance_up gauge\n"
"mesh_instance_up{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\"} 1\n"
"# HELP mesh_instance_restarts_total Restarts of the instance's app and sidecar by meshd.\n"
"# TYPE mesh_instance_restarts_total counter\n"
"mesh_instance_restarts_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",process=\"app\"} 2\n"
"mesh_instance_restarts_total{mesh=\"shop\",service=\"api\",version=\"v1\",instance=\"api@v1.0\",process=\"sidecar\"} 0\n";

/* One instance api@v1.0: an inbound row from web (3 requests), an open
 * and ejected endpoint db@v2.1, a leaf, both processes. */
static void
test_golden(void **state)
{
	static struct stats_peer_rec peer;
	struct stats_ep_rec ep;
	struct stats_view v;
	struct metrics_inst in;
	char *text;

	(void)state;
	memset(&peer, 0, sizeof(peer));
	peer.used = 1;
	peer.dir = STATS_IN;
	strcpy(peer.service, "web");
	observe(&peer, 200, 300);
	observe(&peer, 200, 2000);
	observe(&peer, 504, 70000);
	peer.timeouts = 1;
	memset(&ep, 0, sizeof(ep));
	ep.state = STATS_EP_OPEN;
	ep.ejected = 1;
	ep.ejections = 3;
	strcpy(ep.service, "db");
	strcpy(ep.version, "v2");
	ep.index = 1;
	one_peer(&in, &v, &peer, "api", "v1", "api@v1.0");
	v.eps = &ep;
	v.neps = 1;
	v.snap.v[STAT_RETRIES_BUDGET_EXHAUSTED] = 4;
	v.snap.v[STAT_REFUSED_TIMEOUT] = 1;
	v.snap.v[STAT_CONNECTIONS_OPEN] = 2;
	v.snap.v[STAT_REQUESTS_IN_FLIGHT] = 3;
	v.snap.v[STAT_CONNECTIONS_TOTAL] = 7;
	v.snap.v[STAT_TLS_HANDSHAKES_OK] = 5;
	v.snap.v[STAT_TLS_HANDSHAKES_FAILED] = 1;
	v.snap.v[STAT_BYTES_IN] = 1000;
	v.snap.v[STAT_BYTES_OUT] = 2000;
	v.snap.v[STAT_FAULTS_ABORT] = 11;
	v.snap.v[STAT_MIRROR_RESP_2XX] = 7;
	v.snap.v[STAT_MIRROR_RESP_5XX] = 1;
	v.snap.v[STAT_MIRROR_ERRORS] = 2;
	v.snap.v[STAT_MIRROR_SKIPPED] = 3;
	in.up = 1;
	in.has_app = 1;
	in.app_restarts = 2;
	in.app_rss = 4096000;
	in.sidecar_rss = 2048000;
	in.identity = "spiffe://mesh.local/svc/api";
	in.cert_not_after = 1767225600;

	text = render(&in, 1, 3072000);
	if (strcmp(text, golden) != 0)
		fprintf(stderr, "got:\n%s", text);
	assert_string_equal(text, golden);
	free(text);
}

static void
test_escape(void **state)
{
	static struct stats_peer_rec peer;
	struct stats_view v;
	struct metrics_inst in;
	char *text;

	(void)state;
	memset(&peer, 0, sizeof(peer));
	peer.used = 1;
	peer.dir = STATS_OUT;
	/* a full NUL-less field: only STATS_NAME_LEN bytes may be read */
	memset(peer.service, 'x', sizeof(peer.service));
	memcpy(peer.version, "a\\b\"c\nd\te\xc3\xa9", 12);
	one_peer(&in, &v, &peer, "s\"q", "v\\1", "line\nbreak");
	text = render(&in, 1, 0);
	assert_non_null(strstr(text, "{mesh=\"shop\",service=\"s\\\"q\",version=\"v\\\\1\","
	    "instance=\"line\\nbreak\",direction=\"outbound\",peer=\""
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\","
	    "peer_version=\"a\\\\b\\\"c\\nd?e??\",code=\"2xx\"} 0\n"));
	/* an empty caller is "unknown"; inbound rows have no peer_version */
	peer.dir = STATS_IN;
	memset(peer.service, 0, sizeof(peer.service));
	free(text);
	text = render(&in, 1, 0);
	assert_non_null(strstr(text, ",direction=\"inbound\",peer=\"unknown\",code=\"5xx\"} 0\n"));
	assert_null(strstr(text, "peer_version"));
	free(text);
}

/* registry = etcd: this host's and host b's db@v2.1 are two series, host
 * b's with peer_host; a row with no host has none. */
static void
test_peer_host(void **state)
{
	static struct stats_peer_rec peer;
	struct stats_ep_rec ep[2];
	struct stats_view v;
	struct metrics_inst in;
	char *text;

	(void)state;
	memset(&peer, 0, sizeof(peer));
	memset(ep, 0, sizeof(ep));
	one_peer(&in, &v, &peer, "api", "v1", "api@v1.0");
	strcpy(ep[0].service, "db");
	strcpy(ep[0].version, "v2");
	ep[0].index = 1;
	ep[0].state = STATS_EP_CLOSED;
	ep[1] = ep[0];
	ep[1].state = STATS_EP_OPEN;
	strcpy(ep[1].host, "b");
	v.eps = ep;
	v.neps = 2;
	text = render(&in, 1, 0);
	assert_non_null(strstr(text, "mesh_breaker_state{mesh=\"shop\",service=\"api\","
	    "version=\"v1\",instance=\"api@v1.0\",peer=\"db\",peer_version=\"v2\","
	    "peer_instance=\"db@v2.1\"} 0\n"));
	assert_non_null(strstr(text, "mesh_breaker_state{mesh=\"shop\",service=\"api\","
	    "version=\"v1\",instance=\"api@v1.0\",peer=\"db\",peer_version=\"v2\","
	    "peer_instance=\"db@v2.1\",peer_host=\"b\"} 2\n"));
	free(text);
}

/* Buckets are cumulative, +Inf == _count == observations, and counts of
 * values well away from a bound are exact. */
static void
test_histogram(void **state)
{
	static const uint64_t us[] = { 1, 100, 450, 700, 3000, 3000, 40000, 90000,
	    400000, 2000000, 7000000, 20000000, 45000000, 100000000, 0 };
	static struct stats_peer_rec peer;
	struct stats_view v;
	struct metrics_inst in;
	char *text, *p, series[512];
	long long prev = 0, c;
	size_t i, b, want;

	(void)state;
	memset(&peer, 0, sizeof(peer));
	peer.used = 1;
	peer.dir = STATS_OUT;
	strcpy(peer.service, "db");
	strcpy(peer.version, "v1");
	for (i = 0; i < sizeof(us) / sizeof(us[0]); i++)
		observe(&peer, 200, us[i]);
	one_peer(&in, &v, &peer, "api", "v1", "api@v1.0");
	text = render(&in, 1, 0);

	for (b = 0; b < METRICS_LE_COUNT; b++) {
		for (want = 0, i = 0; i < sizeof(us) / sizeof(us[0]); i++)
			want += us[i] <= metrics_le_us[b];
		p = strstr(text, "mesh_request_duration_seconds_bucket{");
		assert_non_null(p);
		for (i = 0; i < b; i++)
			assert_non_null(p = strstr(p + 1, "mesh_request_duration_seconds_bucket{"));
		c = atoll(strchr(p, '}') + 2);
		assert_true(c >= prev);
		assert_int_equal(c, want);
		prev = c;
	}
	snprintf(series, sizeof(series), "mesh_request_duration_seconds_bucket{mesh=\"shop\","
	    "service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"outbound\","
	    "peer=\"db\",peer_version=\"v1\",le=\"+Inf\"}");
	assert_int_equal(value_of(text, series), sizeof(us) / sizeof(us[0]));
	assert_true(value_of(text, series) >= prev);
	snprintf(series, sizeof(series), "mesh_request_duration_seconds_count{mesh=\"shop\","
	    "service=\"api\",version=\"v1\",instance=\"api@v1.0\",direction=\"outbound\","
	    "peer=\"db\",peer_version=\"v1\"}");
	assert_int_equal(value_of(text, series), sizeof(us) / sizeof(us[0]));
	assert_non_null(strstr(text, "_sum{mesh=\"shop\",service=\"api\",version=\"v1\","
	    "instance=\"api@v1.0\",direction=\"outbound\",peer=\"db\",peer_version=\"v1\"} "
	    "174.537251\n"));
	free(text);
}

/* Two instances, one without a stats file: one header per family, and the
 * one without a file has only meshd's series. */
/* mesh_grpc_requests_total: a series per grpc-status a row saw, with
 * the labels of mesh_requests_total and grpc_status in decimal; rows
 * without gRPC calls, and a mesh without any, have none. */
static void
test_grpc(void **state)
{
	static struct stats_peer_rec peers[3];
	struct stats_view v;
	struct metrics_inst in;
	char *text;

	(void)state;
	memset(peers, 0, sizeof(peers));
	peers[0].used = peers[1].used = peers[2].used = 1;
	peers[0].dir = STATS_IN;
	strcpy(peers[0].service, "web");
	observe(&peers[0], 200, 1000);
	peers[1].dir = STATS_OUT;
	strcpy(peers[1].service, "cart");
	strcpy(peers[1].version, "v2");
	observe(&peers[1], 200, 1000);
	peers[2].dir = STATS_OUT;
	strcpy(peers[2].service, "db");
	strcpy(peers[2].version, "v1");
	observe(&peers[2], 200, 1000);
	one_peer(&in, &v, peers, "api", "v1", "api@v1.0");
	text = render(&in, 1, 0);
	assert_null(strstr(text, "mesh_grpc_requests_total"));
	free(text);

	peers[0].grpc[0] = 5;
	peers[0].grpc[14] = 2;
	peers[1].grpc[4] = 1;
	peers[1].grpc[16] = 9;
	v.npeers = 3;
	text = render(&in, 1, 0);
	assert_int_equal(count(text, "# HELP mesh_grpc_requests_total gRPC calls, per peer and "
	    "grpc-status (codes seen only).\n# TYPE mesh_grpc_requests_total counter\n"), 1);
	assert_int_equal(count(text, "\nmesh_grpc_requests_total{"), 4);
	assert_int_equal(value_of(text, "mesh_grpc_requests_total{mesh=\"shop\",service=\"api\","
	    "version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\","
	    "grpc_status=\"0\"}"), 5);
	assert_int_equal(value_of(text, "mesh_grpc_requests_total{mesh=\"shop\",service=\"api\","
	    "version=\"v1\",instance=\"api@v1.0\",direction=\"inbound\",peer=\"web\","
	    "grpc_status=\"14\"}"), 2);
	assert_int_equal(value_of(text, "mesh_grpc_requests_total{mesh=\"shop\",service=\"api\","
	    "version=\"v1\",instance=\"api@v1.0\",direction=\"outbound\",peer=\"cart\","
	    "peer_version=\"v2\",grpc_status=\"4\"}"), 1);
	assert_int_equal(value_of(text, "mesh_grpc_requests_total{mesh=\"shop\",service=\"api\","
	    "version=\"v1\",instance=\"api@v1.0\",direction=\"outbound\",peer=\"cart\","
	    "peer_version=\"v2\",grpc_status=\"16\"}"), 9);
	assert_null(strstr(text, "mesh_grpc_requests_total{mesh=\"shop\",service=\"api\","
	    "version=\"v1\",instance=\"api@v1.0\",direction=\"outbound\",peer=\"db\""));
	/* right after mesh_requests_total, as the family list says */
	assert_true(strstr(text, "# HELP mesh_grpc_requests_total") >
	    strstr(text, "# HELP mesh_requests_total"));
	assert_true(strstr(text, "# HELP mesh_grpc_requests_total") <
	    strstr(text, "# HELP mesh_request_duration_seconds"));
	free(text);
}

static void
test_families_once(void **state)
{
	static struct stats_peer_rec peers[2];
	struct stats_view v;
	struct metrics_inst in[2];
	char *text;

	(void)state;
	memset(peers, 0, sizeof(peers));
	peers[0].used = peers[1].used = 1;
	peers[0].dir = STATS_IN;
	peers[1].dir = STATS_OUT;
	strcpy(peers[1].service, "db");
	strcpy(peers[1].version, "v1");
	observe(&peers[0], 200, 1000);
	memset(&v, 0, sizeof(v));
	v.peers = peers;
	v.npeers = 2;
	memset(in, 0, sizeof(in));
	in[0].service = in[1].service = "api";
	in[0].version = in[1].version = "v1";
	in[0].id = "api@v1.0";
	in[0].stats = &v;
	in[1].id = "api@v1.1";
	in[1].up = 1;
	text = render(in, 2, 0);
	assert_int_equal(count(text, "# TYPE mesh_requests_total counter\n"), 1);
	assert_int_equal(count(text, "# HELP mesh_requests_total "), 1);
	assert_int_equal(count(text, "# TYPE mesh_request_duration_seconds histogram\n"), 1);
	assert_int_equal(count(text, "# TYPE mesh_instance_up gauge\n"), 1);
	assert_int_equal(count(text, "mesh_requests_total{"), 8);
	assert_int_equal(count(text, "mesh_request_duration_seconds_count{"), 2);
	assert_int_equal(count(text, "instance=\"api@v1.1\""), 2);   /* up + sidecar restarts */
	assert_non_null(strstr(text, "mesh_instance_up{mesh=\"shop\",service=\"api\","
	    "version=\"v1\",instance=\"api@v1.1\"} 1\n"));
	assert_null(strstr(text, "mesh_breaker_state"));   /* no endpoint rows: no family */
	assert_null(strstr(text, "mesh_cert_expiry"));     /* no leaf yet */
	assert_null(strstr(text, "process=\"app\""));      /* no command */
	free(text);
}

static void
extra(FILE *f, const char *mesh, void *arg)
{
	metrics_family(f, "mesh_spans_dropped_total", "counter", "Spans dropped.");
	fprintf(f, "mesh_spans_dropped_total{");
	metrics_label(f, 1, "mesh", mesh);
	fprintf(f, "} %d\n", *(int *)arg);
}

static void
test_empty_and_extras(void **state)
{
	static int dropped = 9;
	char *text;
	int k;

	(void)state;
	text = render(NULL, 0, 0);
	assert_string_equal(text, "");
	free(text);

	assert_int_equal(metrics_extra_add(extra, &dropped), 0);
	text = render(NULL, 0, 0);
	assert_string_equal(text, "# HELP mesh_spans_dropped_total Spans dropped.\n"
	    "# TYPE mesh_spans_dropped_total counter\n"
	    "mesh_spans_dropped_total{mesh=\"shop\"} 9\n");
	free(text);
	metrics_extra_remove(extra, &dropped);
	text = render(NULL, 0, 0);
	assert_string_equal(text, "");
	free(text);

	for (k = 0; k < METRICS_EXTRA_MAX; k++)
		assert_int_equal(metrics_extra_add(extra, &dropped), 0);
	assert_int_equal(metrics_extra_add(extra, &dropped), -1);
	metrics_extra_remove(extra, &dropped);   /* removes every copy */
	assert_int_equal(metrics_extra_add(extra, &dropped), 0);
	metrics_extra_remove(extra, &dropped);
}

static void
test_rss(void **state)
{
	(void)state;
	assert_true(metrics_rss(getpid()) > 0);
	assert_int_equal(metrics_rss(0), 0);
	assert_int_equal(metrics_rss(-1), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_peer_host),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_families_once),
		cmocka_unit_test(test_grpc),
		cmocka_unit_test(test_empty_and_extras),
		cmocka_unit_test(test_rss),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
