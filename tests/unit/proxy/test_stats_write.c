/* SPDX-License-Identifier: ISC */
/*
 * stats sections: peers, endpoints, spans (ring and slowest), rate ring
 * written through the writer API and read back by stats_view_read and
 * stats_spans_read; a corrupt or hostile file (truncated, wrong offsets,
 * capacities too big) is refused, never read out of bounds; a bounded
 * torture run: a forked writer records 200,000 spans while this process
 * reads, and every accepted span is internally consistent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "mesh/stats.h"
#include "mesh/stats_layout.h"

#define STATS_TEST_DIR "/tmp/test_stats_sec.XXXXXX"
#include "test_stats_util.h"

static uint32_t
peek32(off_t off)
{
	FILE *f = fopen(path, "r");
	uint32_t v = 0;

	assert_non_null(f);
	assert_int_equal(fseeko(f, off, SEEK_SET), 0);
	assert_int_equal(fread(&v, 1, sizeof(v), f), sizeof(v));
	fclose(f);
	return v;
}

static uint64_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (uint64_t)ts.tv_sec;
}

/* A span whose every field derives from n (the torture test checks it). */
static void
span_of(uint64_t n, struct stats_span_rec *s)
{
	struct timespec ts;

	memset(s, 0, sizeof(*s));
	memset(s->trace_id, (int)(n & 0xff), sizeof(s->trace_id));
	memcpy(s->span_id, &n, sizeof(n));
	clock_gettime(CLOCK_REALTIME, &ts);
	s->start_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	s->duration_us = n;
	s->kind = STATS_SPAN_SERVER;
	s->status = 200 + (uint32_t)(n % 300);
	s->retries = (uint32_t)(n % 7);
	s->flags = (uint32_t)(n & 0x3f) | STATS_SF_SAMPLED;
	snprintf(s->service, sizeof(s->service), "svc-%llu", (unsigned long long)n);
	snprintf(s->path, sizeof(s->path), "/p/%llu", (unsigned long long)n);
	snprintf(s->method, sizeof(s->method), "GET");
}

static int
span_consistent(const struct stats_span_rec *s, uint64_t *n)
{
	struct stats_span_rec want;

	memcpy(n, s->span_id, sizeof(*n));
	span_of(*n, &want);
	want.start_ns = s->start_ns;
	want.seq = s->seq;
	return memcmp(&want, s, sizeof(want)) == 0;
}

static void
test_noop(void **state)
{
	struct stats_span_rec s;

	stats_close();
	assert_null(stats_peer(STATS_IN, "a", ""));
	assert_null(stats_ep("a", "v1", 0, 0, 1, NULL));
	stats_peer_done(NULL, 200, 1, 0, 0);
	stats_ep_free(NULL);
	stats_ep_put(NULL, NULL, 1);
	memset(&s, 0, sizeof(s));
	stats_span(&s);
	stats_identity("a", "v1", "a@v1.0");
}

static void
test_peers(void **state)
{
	struct stats_peer_rec *in, *out, *p;
	struct stats_view v;
	char longname[100];
	size_t i;
	double err;
	uint64_t t;

	stats_identity("api", "v2", "api@v2.1");
	assert_int_equal(stats_open(path), 0);
	stats_inc(STAT_REQUESTS_IN);
	in = stats_peer(STATS_IN, "web", "");
	out = stats_peer(STATS_OUT, "db", "v1");
	assert_non_null(in);
	assert_non_null(out);
	assert_ptr_equal(stats_peer(STATS_IN, "web", NULL), in);
	assert_ptr_equal(stats_peer(STATS_OUT, "db", "v1"), out);
	assert_ptr_not_equal(stats_peer(STATS_OUT, "web", ""), in);
	/* a long name is cut to STATS_NAME_LEN - 1 and still finds its row */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	p = stats_peer(STATS_IN, longname, "");
	assert_non_null(p);
	assert_ptr_equal(stats_peer(STATS_IN, longname, ""), p);
	assert_int_equal(strlen(p->service), STATS_NAME_LEN - 1);

	stats_peer_done(in, 200, 1000, 0, 0);
	stats_peer_done(in, 204, 3000, 1, 0);
	stats_peer_done(in, 503, 50000, 2, 0);
	stats_peer_done(in, 504, 200000, 0, 1);
	stats_peer_done(in, 0, 10, 0, 0);        /* no response: no class */
	stats_peer_done(out, 302, 7, 0, 0);
	stats_peer_done(NULL, 200, 7, 0, 0);

	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	assert_int_equal(v.snap.v[STAT_REQUESTS_IN], 1);
	assert_string_equal(v.service, "api");
	assert_string_equal(v.version, "v2");
	assert_string_equal(v.instance, "api@v2.1");
	assert_int_equal(v.npeers, 4);
	assert_int_equal(v.neps, 0);
	assert_int_equal(v.spans_written, 0);
	for (i = 0, p = NULL; i < v.npeers; i++)
		if (v.peers[i].dir == STATS_IN && strcmp(v.peers[i].service, "web") == 0)
			p = &v.peers[i];
	assert_non_null(p);
	assert_int_equal(p->used, 1);
	assert_string_equal(p->version, "");
	assert_int_equal(p->requests, 5);
	assert_int_equal(p->responses[0], 2);
	assert_int_equal(p->responses[1], 0);
	assert_int_equal(p->responses[3], 2);
	assert_int_equal(p->retries, 3);
	assert_int_equal(p->timeouts, 1);
	assert_int_equal(p->duration_sum_us, 254010);
	assert_int_equal(p->hist[stats_hist_bucket(50000)], 1);
	t = stats_hist_quantile(p->hist, 1.0);
	assert_true(t > 200000 * 0.98 && t < 200000 * 1.02);
	for (i = 0; i < v.npeers; i++)
		if (v.peers[i].dir == STATS_OUT && v.peers[i].version[0] != '\0')
			p = &v.peers[i];
	assert_string_equal(p->service, "db");
	assert_string_equal(p->version, "v1");
	assert_int_equal(p->responses[1], 1);

	/* the rate ring: inbound rows only once an inbound one was seen
	 * (the outbound 302 came after) */
	t = now_s();
	assert_true(stats_view_rps(&v, t + 1, 10, &err) == 5.0 / 10 ||
	    stats_view_rps(&v, t + 2, 10, &err) == 5.0 / 10);
	assert_true(err == 2.0 / 10);
	assert_true(stats_view_rps(&v, t, 10, NULL) == 0.0 ||
	    stats_view_rps(&v, t, 10, NULL) == 5.0 / 10);   /* a second may have ticked */
	assert_true(stats_view_rps(&v, t + 20, 10, NULL) == 0.0);
	stats_view_free(&v);
	assert_null(v.peers);

	/* the table fills up: NULL, counters still count */
	for (i = 0; stats_peer(STATS_OUT, "s", (snprintf(longname, 20, "v%zu", i), longname)) != NULL; i++)
		;
	assert_int_equal(i + 4, STATS_PEERS_MAX);
	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	assert_int_equal(v.npeers, STATS_PEERS_MAX);
	stats_view_free(&v);
}

/* gRPC calls by status on a peer row: 0..16 as such, anything else as 2
 * UNKNOWN; a NULL row or no file is a no-op. */
static void
test_peers_grpc(void **state)
{
	struct stats_peer_rec *in, *out;
	struct stats_view v;
	size_t i;
	unsigned c;
	uint64_t sum;

	(void)state;
	stats_peer_grpc(NULL, 0);                 /* no file: nothing */
	assert_int_equal(stats_grpc_code(0), 0);
	assert_int_equal(stats_grpc_code(16), 16);
	assert_int_equal(stats_grpc_code(17), 2);
	assert_int_equal(stats_grpc_code(-1), 2);
	assert_int_equal(stats_open(path), 0);
	in = stats_peer(STATS_IN, "web", "");
	out = stats_peer(STATS_OUT, "cart", "v2");
	for (c = 0; c < STATS_GRPC_CODES; c++)
		stats_peer_grpc(in, (int)c);
	stats_peer_grpc(in, 0);
	stats_peer_grpc(in, 99);
	stats_peer_grpc(out, 14);
	stats_peer_grpc(NULL, 14);
	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	assert_int_equal(v.npeers, 2);
	for (i = 0; i < v.npeers; i++) {
		const struct stats_peer_rec *p = &v.peers[i];

		for (c = 0, sum = 0; c < STATS_GRPC_CODES; c++)
			sum += p->grpc[c];
		if (p->dir == STATS_IN) {
			assert_int_equal(sum, STATS_GRPC_CODES + 2);
			assert_int_equal(p->grpc[0], 2);
			assert_int_equal(p->grpc[2], 2);
			assert_int_equal(p->grpc[16], 1);
		} else {
			assert_int_equal(sum, 1);
			assert_int_equal(p->grpc[14], 1);
		}
		assert_int_equal(p->requests, 0);     /* stats_peer_done's job */
	}
	stats_view_free(&v);
}

/* Round up to the next multiple of 64, as the writer places sections. */
static uint32_t
r64(uint64_t off)
{
	return (uint32_t)((off + 63u) & ~(uint64_t)63u);
}

/*
 * A version 2 file (stats.h, "Versions"): its peer rows and span records
 * lack v3's tails, so they sit closer together; a reader takes each at
 * its v2 place and reads the missing tail as 0.  Versions 1 and past
 * STATS_VERSION stay refused.
 */
static void
test_v2_file(void **state)
{
	const uint32_t pcap = 2, scap = 4, slow = 2;
	uint32_t u, poff, soff, size, n = STAT__COUNT;
	struct stats_span_rec rec, out[8];
	struct stats_peer_rec prow;
	struct stats_view v;
	uint64_t cursor = 0, w, now;
	unsigned char *b, *ring;
	struct timespec ts;
	FILE *f;
	long got;

	(void)state;
	poff = r64(STATS_HDR_SIZE + (uint64_t)n * 8);
	soff = r64(poff + (uint64_t)pcap * STATS_V2_PEER_REC);
	size = r64(soff + STATS_SPANS_HDR + (uint64_t)(scap + slow) * STATS_V2_SPAN_REC);
	assert_non_null(b = calloc(1, size));
	memcpy(b, STATS_MAGIC, STATS_MAGIC_LEN);
	u = 2;
	memcpy(b + 8, &u, 4);
	memcpy(b + 12, &size, 4);
	memcpy(b + 32, &n, 4);
	u = STATS_HDR_SIZE;
	memcpy(b + 36, &u, 4);
	memcpy(b + 40, &poff, 4);
	memcpy(b + 44, &pcap, 4);
	memcpy(b + 56, &soff, 4);
	memcpy(b + 60, &scap, 4);
	memcpy(b + soff + 8, &slow, 4);
	/* two peer rows, 7088 bytes apart */
	memset(&prow, 0, sizeof(prow));
	prow.used = 1;
	prow.dir = STATS_IN;
	strcpy(prow.service, "web");
	prow.requests = 3;
	memcpy(b + poff, &prow, STATS_V2_PEER_REC);
	prow.dir = STATS_OUT;
	strcpy(prow.service, "db");
	strcpy(prow.version, "v1");
	prow.requests = 5;
	memcpy(b + poff + STATS_V2_PEER_REC, &prow, STATS_V2_PEER_REC);
	/* two spans in the ring, one in the slow table, 520 bytes apart */
	w = 2;
	memcpy(b + soff, &w, 8);
	ring = b + soff + STATS_SPANS_HDR;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	span_of(11, &rec);
	rec.seq = 2;
	memcpy(ring, &rec, STATS_V2_SPAN_REC);
	span_of(22, &rec);
	rec.seq = 4;
	memcpy(ring + STATS_V2_SPAN_REC, &rec, STATS_V2_SPAN_REC);
	span_of(33, &rec);
	rec.seq = 6;
	rec.start_ns = now;
	memcpy(ring + (size_t)scap * STATS_V2_SPAN_REC, &rec, STATS_V2_SPAN_REC);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(b, 1, size, f), size);
	fclose(f);

	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	assert_int_equal(v.snap.version, 2);
	assert_int_equal(v.npeers, 2);
	assert_string_equal(v.peers[0].service, "web");
	assert_int_equal(v.peers[0].requests, 3);
	assert_string_equal(v.peers[1].service, "db");
	assert_string_equal(v.peers[1].version, "v1");
	assert_int_equal(v.peers[1].requests, 5);
	for (u = 0; u < STATS_GRPC_CODES; u++)
		assert_int_equal(v.peers[0].grpc[u] + v.peers[1].grpc[u], 0);
	assert_int_equal(v.spans_written, 2);
	stats_view_free(&v);
	memset(out, 0xff, sizeof(out));
	got = stats_spans_read(path, &cursor, out, 8, NULL, 0);
	assert_int_equal(got, 2);
	assert_int_equal(out[0].duration_us, 11);
	assert_int_equal(out[1].duration_us, 22);
	assert_string_equal(out[1].path, "/p/22");
	assert_false(out[1].flags & STATS_SF_GRPC);
	assert_int_equal(out[1].grpc_status, 0);     /* not the 0xff left there */
	assert_int_equal(out[1].reserved, 0);
	got = stats_spans_read(path, NULL, out, 8, NULL, 1);
	assert_int_equal(got, 1);
	assert_int_equal(out[0].duration_us, 33);
	assert_int_equal(out[0].grpc_status, 0);

	u = 1;
	poke(8, &u, 4);
	assert_int_equal(stats_view_read(path, &v), STATS_ERR_VERSION);
	u = STATS_VERSION + 1;
	poke(8, &u, 4);
	assert_int_equal(stats_view_read(path, &v), STATS_ERR_VERSION);
	/* read as v3, the span section is too short for its records */
	u = STATS_VERSION;
	poke(8, &u, 4);
	assert_int_equal(stats_view_read(path, &v), STATS_ERR_LAYOUT);
	free(b);
}

/* A sidecar with no inbound traffic: its ring counts what it sends. */
static void
test_rate_outbound(void **state)
{
	struct stats_peer_rec *out;
	struct stats_view v;
	uint64_t t;
	int i;

	assert_int_equal(stats_open(path), 0);
	out = stats_peer(STATS_OUT, "api", "v1");
	for (i = 0; i < 30; i++)
		stats_peer_done(out, i < 3 ? 502 : 200, 100, 0, 0);
	t = now_s();
	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	assert_true(stats_view_rps(&v, t + 1, 10, NULL) == 3.0 ||
	    stats_view_rps(&v, t + 2, 10, NULL) == 3.0);
	/* seconds is capped to the ring */
	assert_true(stats_view_rps(&v, t + 1, 1000, NULL) <= 30.0 / (STATS_RATE_SLOTS - 1));
	stats_view_free(&v);
}

/* Mirror rows: counted and timed like the others, a copy that got no
 * response as status 0, and never in the rate ring (a sidecar that only
 * mirrors shows no traffic of its own). */
static void
test_mirror_rows(void **state)
{
	struct stats_peer_rec *m, *out;
	struct stats_view v;
	uint64_t t;
	int i;

	assert_int_equal(stats_open(path), 0);
	m = stats_peer(STATS_MIRROR, "api", "v2");
	out = stats_peer(STATS_OUT, "api", "v2");
	assert_non_null(m);
	assert_ptr_not_equal(m, out);
	for (i = 0; i < 20; i++)
		stats_peer_done(m, i < 2 ? 0 : 200, 1000, 0, i == 0);
	t = now_s();
	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	assert_int_equal(v.npeers, 2);
	assert_int_equal(v.peers[0].dir, STATS_MIRROR);
	assert_int_equal(v.peers[0].requests, 20);
	assert_int_equal(v.peers[0].responses[0], 18);
	assert_int_equal(v.peers[0].timeouts, 1);
	assert_int_equal(v.peers[0].hist[stats_hist_bucket(1000)], 20);
	assert_int_equal(v.peers[1].requests, 0);
	for (i = 0; i < 3; i++)
		assert_true(stats_view_rps(&v, t + (uint64_t)i, 10, NULL) == 0.0);
	stats_view_free(&v);
	assert_string_equal(stats_dir_name(STATS_MIRROR), "mirror");
	assert_string_equal(stats_dir_name(STATS_IN), "inbound");
	assert_string_equal(stats_dir_name(STATS_OUT), "outbound");
}

static void
test_endpoints(void **state)
{
	struct stats_ep_rec *a, *b, *c;
	struct stats_view v;
	size_t i;

	assert_int_equal(stats_open(path), 0);
	a = stats_ep("api", "v1", 0, 0, 15000, NULL);
	b = stats_ep("api", "v1", 1, 0, 15001, NULL);
	c = stats_ep("api", "v2", 0, 0, 15002, NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_ptr_equal(stats_ep("api", "v1", 0, 0, 15000, NULL), a);
	stats_ep_put32(a, &a->state, STATS_EP_OPEN);
	stats_ep_put32(a, &a->ejected, 1);
	stats_ep_put(a, &a->ewma_us, 1234);
	stats_ep_put(a, &a->breaker_opened, 2);
	stats_ep_put(b, &b->requests, 99);
	stats_ep_put(a, &b->requests, 77);   /* not a's field: ignored */
	stats_ep_put32(c, &c->state, STATS_EP_HALF_OPEN);
	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	assert_int_equal(v.neps, 3);
	for (i = 0; i < v.neps; i++) {
		if (v.eps[i].index == 0 && strcmp(v.eps[i].version, "v1") == 0) {
			assert_int_equal(v.eps[i].state, STATS_EP_OPEN);
			assert_int_equal(v.eps[i].ejected, 1);
			assert_int_equal(v.eps[i].ewma_us, 1234);
			assert_int_equal(v.eps[i].breaker_opened, 2);
			assert_int_equal(v.eps[i].port, 15000);
			assert_string_equal(v.eps[i].service, "api");
		} else if (v.eps[i].index == 1)
			assert_int_equal(v.eps[i].requests, 99);
		else
			assert_int_equal(v.eps[i].state, STATS_EP_HALF_OPEN);
	}
	stats_view_free(&v);
	/* freed, then reused from 0 */
	stats_ep_free(a);
	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	assert_int_equal(v.neps, 2);
	stats_view_free(&v);
	c = stats_ep("db", "v1", 3, 0, 15010, NULL);
	assert_ptr_equal(c, a);
	assert_int_equal(c->state, STATS_EP_CLOSED);
	assert_int_equal(c->ejected, 0);
	assert_int_equal(c->ewma_us, 0);
	assert_int_equal(c->breaker_opened, 0);
	for (i = 0; stats_ep("x", "v", (unsigned)i, 0, 1, NULL) != NULL; i++)
		;
	assert_int_equal(i + 3, STATS_EPS_MAX);
	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	assert_int_equal(v.neps, STATS_EPS_MAX);
	stats_view_free(&v);
}

static void
test_spans(void **state)
{
	static struct stats_span_rec out[3 * STATS_SPANS_MAX];
	struct stats_span_rec s;
	struct stats_view v;
	uint64_t cursor = 0, lost = 0, n, k;
	long got;
	int i;

	assert_int_equal(stats_open(path), 0);
	assert_int_equal(stats_spans_read(path, &cursor, out, 10, &lost, 0), 0);
	assert_int_equal(cursor, 0);
	for (n = 0; n < 10; n++) {
		span_of(n, &s);
		stats_span(&s);
	}
	got = stats_spans_read(path, &cursor, out, 4, &lost, 0);
	assert_int_equal(got, 4);
	assert_int_equal(cursor, 4);
	got = stats_spans_read(path, &cursor, out + 4, 100, &lost, 0);
	assert_int_equal(got, 6);
	assert_int_equal(cursor, 10);
	assert_int_equal(lost, 0);
	for (i = 0; i < 10; i++) {
		assert_true(span_consistent(&out[i], &k));
		assert_int_equal(k, (uint64_t)i);   /* oldest first */
		assert_int_equal(out[i].seq, 2 * k + 2);
	}
	/* wrap-around: 3 rings more; the stale cursor lost all but the last ring */
	for (n = 10; n < 10 + 3 * STATS_SPANS_MAX; n++) {
		span_of(n, &s);
		stats_span(&s);
	}
	got = stats_spans_read(path, &cursor, out, 3 * STATS_SPANS_MAX, &lost, 0);
	assert_int_equal(got, STATS_SPANS_MAX);
	assert_int_equal(lost, 2 * STATS_SPANS_MAX);
	assert_int_equal(cursor, 10 + 3 * STATS_SPANS_MAX);
	for (i = 0; i < got; i++) {
		assert_true(span_consistent(&out[i], &k));
		assert_int_equal(k, 10 + 2 * STATS_SPANS_MAX + (uint64_t)i);
	}
	/* a first read (cursor 0) gets the ring, nothing lost */
	cursor = 0;
	lost = 0;
	assert_int_equal(stats_spans_read(path, &cursor, out, 3 * STATS_SPANS_MAX, &lost, 0),
	    STATS_SPANS_MAX);
	assert_int_equal(lost, 0);
	/* a cursor from an older, longer-lived file: read from the start */
	cursor = 1u << 30;
	assert_int_equal(stats_spans_read(path, &cursor, out, 3, NULL, 0), 3);
	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	assert_int_equal(v.spans_written, 10 + 3 * STATS_SPANS_MAX);
	stats_view_free(&v);

	/* the slowest: the 16 longest of all, slowest first */
	got = stats_spans_read(path, NULL, out, 100, NULL, 1);
	assert_int_equal(got, STATS_SLOW_MAX);
	for (i = 0; i < got; i++) {
		assert_true(span_consistent(&out[i], &k));
		assert_int_equal(k, 10 + 3 * STATS_SPANS_MAX - 1 - (uint64_t)i);
	}
	got = stats_spans_read(path, NULL, out, 3, NULL, 1);
	assert_int_equal(got, 3);
	assert_int_equal(out[2].duration_us, 10 + 3 * STATS_SPANS_MAX - 3);
	/* a span older than the window gives way to a faster new one */
	span_of(5000, &s);
	s.start_ns -= (uint64_t)(STATS_SLOW_WINDOW_S + 5) * 1000000000u;
	assert_int_equal(stats_open(path), 0);
	stats_span(&s);
	span_of(3, &s);
	stats_span(&s);
	got = stats_spans_read(path, NULL, out, 100, NULL, 1);
	assert_int_equal(got, 1);   /* the reader drops what is too old */
	assert_int_equal(out[0].duration_us, 3);
	for (n = 0; n < STATS_SLOW_MAX + 5; n++) {
		span_of(100 + n, &s);
		stats_span(&s);
	}
	span_of(1, &s);          /* faster than every kept one: not kept */
	stats_span(&s);
	got = stats_spans_read(path, NULL, out, 100, NULL, 1);
	assert_int_equal(got, STATS_SLOW_MAX);
	assert_int_equal(out[STATS_SLOW_MAX - 1].duration_us, 105);
}

/* A tap-only record (no SAMPLED flag, src/proxy/ptap_int.h) takes its
 * place in the ring but never in the slowest-spans table, and
 * stats_spans_traced() leaves it out; stats_spans_head() tells a tapper
 * who wrote the file and how far its ring is. */
static void
test_spans_tap(void **state)
{
	static struct stats_span_rec out[16];
	struct stats_spans_head h;
	struct stats_span_rec s;
	uint64_t cursor = 0, k;
	long got;

	assert_int_equal(stats_open(path), 0);
	stats_identity("api", "v1", "api@v1.0");
	assert_int_equal(stats_spans_head(path, &h), STATS_OK);
	assert_int_equal(h.written, 0);
	assert_string_equal(h.service, "api");
	assert_string_equal(h.instance, "api@v1.0");
	assert_int_equal(h.pid, (uint64_t)getpid());
	assert_true(h.start_time_ns > 0);

	span_of(3, &s);                       /* a trace span, fast */
	stats_span(&s);
	span_of(9000, &s);                    /* tap-only and the slowest */
	s.flags &= ~STATS_SF_SAMPLED;
	stats_span(&s);
	span_of(5, &s);
	s.flags = 0;
	stats_span(&s);
	assert_int_equal(stats_spans_head(path, &h), STATS_OK);
	assert_int_equal(h.written, 3);

	got = stats_spans_read(path, &cursor, out, 16, NULL, 0);
	assert_int_equal(got, 3);             /* the ring: all three */
	assert_int_equal(out[1].duration_us, 9000);
	assert_int_equal(stats_spans_traced(out, (size_t)got), 1);
	assert_true(span_consistent(&out[0], &k));
	assert_int_equal(k, 3);
	got = stats_spans_read(path, NULL, out, 16, NULL, 1);
	assert_int_equal(got, 1);             /* the slow table: the trace's only */
	assert_int_equal(out[0].duration_us, 3);
	assert_int_equal(stats_spans_traced(out, 0), 0);
	assert_int_equal(stats_spans_head("/nonexistent/x.stats", &h), STATS_ERR_OPEN);
}

/* Hostile files: every mismatch is refused, nothing read past the end
 * (ASan/the kernel would say so: the map is only the file's size). */
static void
test_corrupt(void **state)
{
	static struct stats_span_rec out[8];
	struct stats_view v;
	struct stat st;
	uint32_t size, u, cap_off[4] = { 40, 48, 56, 64 };
	uint64_t cur = 0;
	off_t cut;
	int i;

	assert_int_equal(stats_open(path), 0);
	stats_peer_done(stats_peer(STATS_IN, "a", ""), 200, 5, 0, 0);
	stats_close();
	assert_int_equal(stat(path, &st), 0);
	size = peek32(12);
	assert_int_equal(size, (uint32_t)st.st_size);
	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	stats_view_free(&v);

	for (i = 0; i < 4; i++) {
		uint32_t off = peek32(cap_off[i]), cap = peek32(cap_off[i] + 4);

		assert_true(off != 0);
		/* a capacity one past the file's end */
		u = cap + (size - off) / 24 + 1;
		poke(cap_off[i] + 4, &u, 4);
		assert_int_equal(stats_view_read(path, &v), STATS_ERR_LAYOUT);
		assert_int_equal(stats_spans_read(path, &cur, out, 8, NULL, 0), STATS_ERR_LAYOUT);
		/* a huge capacity */
		u = 0xffffffffu;
		poke(cap_off[i] + 4, &u, 4);
		assert_int_equal(stats_view_read(path, &v), STATS_ERR_LAYOUT);
		poke(cap_off[i] + 4, &cap, 4);
		/* offsets: past the end, unaligned, inside the header */
		u = size - 8;
		poke(cap_off[i], &u, 4);
		assert_int_equal(stats_view_read(path, &v), STATS_ERR_LAYOUT);
		u = 0xfffffff8u;
		poke(cap_off[i], &u, 4);
		assert_int_equal(stats_view_read(path, &v), STATS_ERR_LAYOUT);
		u = off + 4;
		poke(cap_off[i], &u, 4);
		assert_int_equal(stats_view_read(path, &v), STATS_ERR_LAYOUT);
		u = 64;
		poke(cap_off[i], &u, 4);
		assert_int_equal(stats_view_read(path, &v), STATS_ERR_LAYOUT);
		poke(cap_off[i], &off, 4);
		assert_int_equal(stats_view_read(path, &v), STATS_OK);
		stats_view_free(&v);
	}
	/* the slow table's capacity lives in the span section */
	u = peek32(56) + 8;
	{
		uint32_t slow = peek32(u), big = 100000;

		poke(u, &big, 4);
		assert_int_equal(stats_view_read(path, &v), STATS_ERR_LAYOUT);
		assert_int_equal(stats_spans_read(path, NULL, out, 8, NULL, 1), STATS_ERR_LAYOUT);
		big = slow + 1;
		poke(u, &big, 4);
		assert_int_equal(stats_spans_read(path, NULL, out, 8, NULL, 1), STATS_ERR_LAYOUT);
		poke(u, &slow, 4);
	}
	/* a section absent (offset 0): it reads as empty */
	u = 0;
	poke(40, &u, 4);
	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	assert_int_equal(v.npeers, 0);
	stats_view_free(&v);
	poke(56, &u, 4);
	assert_int_equal(stats_spans_read(path, &cur, out, 8, NULL, 0), 0);
	/* truncated anywhere: refused */
	for (cut = (off_t)size - 1; cut > 0; cut = cut * 2 / 3) {
		assert_int_equal(truncate(path, cut), 0);
		assert_true(stats_view_read(path, &v) < 0);
		assert_true(stats_spans_read(path, &cur, out, 8, NULL, 0) < 0);
	}
	/* a size field bigger than the file */
	assert_int_equal(stats_open(path), 0);
	stats_close();
	u = size + 4096;
	poke(12, &u, 4);
	assert_int_equal(stats_view_read(path, &v), STATS_ERR_SHORT);
}

/* A writer process records 200,000 spans (and peer counts) while this
 * one reads: each accepted span is whole; the numbers only grow. */
static void
test_torture(void **state)
{
	static struct stats_span_rec out[STATS_SPANS_MAX];
	struct stats_view v;
	uint64_t cursor = 0, lost = 0, seen = 0, k, last_req = 0, last_k = 0;
	long got, i;
	pid_t pid;
	int st, reads = 0, go[2], ready[2];
	time_t until = time(NULL) + 60;

	/* two pipes: ready (child -> parent), go (parent -> child) */
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		struct stats_span_rec s;
		struct stats_peer_rec *p;
		uint64_t n;
		char c;

		if (stats_open(path) != 0)
			_exit(1);
		p = stats_peer(STATS_IN, "w", "");
		/* span 0, then wait until the reader's cursor is past it */
		span_of(0, &s);
		stats_span(&s);
		stats_peer_done(p, 200, 0, 0, 0);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		for (n = 1; n < 200000; n++) {
			span_of(n, &s);
			stats_span(&s);
			stats_peer_done(p, 200, n % 1000, 0, 0);
		}
		stats_close();
		_exit(0);
	}
	{
		char c;

		assert_int_equal(read(ready[0], &c, 1), 1);
		assert_int_equal(stats_spans_read(path, &cursor, out, 1, &lost, 0), 1);
		assert_int_equal(cursor, 1);
		assert_int_equal(write(go[1], "g", 1), 1);
		close(go[0]);
		close(go[1]);
		close(ready[0]);
		close(ready[1]);
		seen = 1;
		last_k = 0;
	}
	for (;;) {
		int done = waitpid(pid, &st, WNOHANG) == pid;

		got = stats_spans_read(path, &cursor, out, STATS_SPANS_MAX, &lost, 0);
		if (got < 0)
			got = 0;   /* before the child's rename: the old file */
		for (i = 0; i < got; i++) {
			if (!span_consistent(&out[i], &k))
				fail_msg("torn span at cursor %llu", (unsigned long long)cursor);
			if (k <= last_k)
				fail_msg("span %llu after %llu", (unsigned long long)k,
				    (unsigned long long)last_k);
			last_k = k;
			seen++;
		}
		if (stats_view_read(path, &v) == STATS_OK) {
			if (v.npeers == 1) {
				assert_true(v.peers[0].requests >= last_req);
				last_req = v.peers[0].requests;
			}
			stats_view_free(&v);
		}
		reads++;
		if (done)
			break;
		if (time(NULL) > until) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			fail_msg("the writer took over 60 s");
		}
	}
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* a last read picks up the tail */
	got = stats_spans_read(path, &cursor, out, STATS_SPANS_MAX, &lost, 0);
	seen += got > 0 ? (uint64_t)got : 0;
	print_message("torture: %d reads, %llu spans seen, %llu lost\n", reads,
	    (unsigned long long)seen, (unsigned long long)lost);
	assert_int_equal(cursor, 200000);
	assert_true(seen > 0);
	/* every span: either read or counted lost */
	assert_int_equal(seen + lost, 200000);
	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	assert_int_equal(v.peers[0].requests, 200000);
	stats_view_free(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_noop),
		cmocka_unit_test_setup_teardown(test_peers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peers_grpc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v2_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_outbound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mirror_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endpoints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spans_tap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torture, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
