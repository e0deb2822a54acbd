/* SPDX-License-Identifier: ISC */
/*
 * stats: the writer of the sections (peers, endpoints, spans, rate ring);
 * include/mesh/stats.h documents the layout and the rules.
 *
 * One writer thread: a value is read back with a relaxed load and stored
 * with a relaxed store (no read-modify-write needed).  What a reader may
 * race with is published last with a release store: a peer row's `used`,
 * an endpoint row's `state`, a span's even `seq`, a rate slot's `second`.
 * Nothing here allocates.
 */
#include <string.h>
#include <time.h>

#include "mesh/stats.h"
#include "mesh/stats_layout.h"

static char stats_id_service[STATS_NAME_LEN];
static char stats_id_version[STATS_NAME_LEN];
static char stats_id_instance[STATS_NAME_LEN];
static uint32_t stats_npeers;      /* rows in use: they fill from 0 */
static uint32_t stats_w_gen;       /* the stats_gen_ this state is about */
static int stats_seen_inbound;     /* the rate ring counts inbound only */

#define ST_PUT(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define ST_GET(p)    __atomic_load_n((p), __ATOMIC_RELAXED)
#define ST_ADD(p, n) ST_PUT((p), ST_GET(p) + (n))

/* NUL-padded copy of s, truncated to STATS_NAME_LEN - 1 bytes. */
static void
stats_name_pad(char dst[STATS_NAME_LEN], const char *s)
{
	size_t n = s != NULL ? strnlen(s, STATS_NAME_LEN - 1) : 0;

	memset(dst, 0, STATS_NAME_LEN);
	if (n > 0)
		memcpy(dst, s, n);
}

static struct stats_peer_rec *
stats_peers(void)
{
	return (struct stats_peer_rec *)(void *)(stats_map_ + stats_lay_.peers_off);
}

static struct stats_ep_rec *
stats_eps(void)
{
	return (struct stats_ep_rec *)(void *)(stats_map_ + stats_lay_.eps_off);
}

static unsigned char *
stats_span_sec(void)
{
	return stats_map_ + stats_lay_.spans_off;
}

static struct stats_span_rec *
stats_ring(void)
{
	return (struct stats_span_rec *)(void *)(stats_span_sec() + STATS_SPANS_HDR);
}

static struct stats_span_rec *
stats_slow(void)
{
	return stats_ring() + stats_lay_.spans_cap;
}

static void
stats_identity_store(void)
{
	unsigned char *h;

	if (stats_map_ == NULL)
		return;
	h = stats_span_sec();
	memcpy(h + STATS_SH_SERVICE, stats_id_service, STATS_NAME_LEN);
	memcpy(h + STATS_SH_VERSION, stats_id_version, STATS_NAME_LEN);
	memcpy(h + STATS_SH_INSTANCE, stats_id_instance, STATS_NAME_LEN);
}

/* A new file (or none) since this state was built: its rows start empty,
 * and it is told who writes it. */
static void
stats_sections_sync(void)
{
	if (stats_w_gen == stats_gen_)
		return;
	stats_w_gen = stats_gen_;
	stats_npeers = 0;
	stats_seen_inbound = 0;
	stats_identity_store();
}

void
stats_identity(const char *service, const char *version, const char *instance)
{
	stats_sections_sync();
	stats_name_pad(stats_id_service, service);
	stats_name_pad(stats_id_version, version);
	stats_name_pad(stats_id_instance, instance);
	stats_identity_store();
}

/* --- peers ------------------------------------------------------------ */

struct stats_peer_rec *
stats_peer(enum stats_dir dir, const char *service, const char *version)
{
	char sv[STATS_NAME_LEN], vv[STATS_NAME_LEN];
	struct stats_peer_rec *p;
	uint32_t i;

	stats_sections_sync();
	if (stats_map_ == NULL)
		return NULL;
	stats_name_pad(sv, service);
	stats_name_pad(vv, version);
	p = stats_peers();
	for (i = 0; i < stats_npeers; i++)
		if (p[i].dir == (uint32_t)dir && memcmp(p[i].service, sv, sizeof(sv)) == 0 &&
		    memcmp(p[i].version, vv, sizeof(vv)) == 0)
			return &p[i];
	if (stats_npeers >= stats_lay_.peers_cap)
		return NULL;
	p = &p[stats_npeers++];
	/* a fresh sparse page reads as zeros: only the names are written,
	 * then `used` publishes the row */
	p->dir = (uint32_t)dir;
	memcpy(p->service, sv, sizeof(sv));
	memcpy(p->version, vv, sizeof(vv));
	__atomic_store_n(&p->used, 1u, __ATOMIC_RELEASE);
	return p;
}

static struct stats_rate_rec *
stats_rate_slot(uint64_t now_s)
{
	struct stats_rate_rec *r;

	r = (struct stats_rate_rec *)(void *)(stats_map_ + stats_lay_.rate_off);
	r += now_s % stats_lay_.rate_cap;
	if (ST_GET(&r->second) != now_s) {
		/* a reused slot: invalidate, reset, then name its second */
		ST_PUT(&r->second, 0);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		ST_PUT(&r->requests, 0);
		ST_PUT(&r->errors, 0);
		__atomic_store_n(&r->second, now_s, __ATOMIC_RELEASE);
	}
	return r;
}

void
stats_peer_done(struct stats_peer_rec *p, int status, uint64_t duration_us,
                unsigned retries, int timed_out)
{
	struct stats_rate_rec *r;
	struct timespec ts;
	int cls = status / 100;

	if (stats_map_ == NULL || p == NULL)
		return;
	ST_ADD(&p->requests, 1);
	if (cls >= 2 && cls <= 5)
		ST_ADD(&p->responses[cls - 2], 1);
	if (retries > 0)
		ST_ADD(&p->retries, retries);
	if (timed_out)
		ST_ADD(&p->timeouts, 1);
	ST_ADD(&p->duration_sum_us, duration_us);
	ST_ADD(&p->hist[stats_hist_bucket(duration_us)], 1);

	if (p->dir == STATS_MIRROR)
		return;   /* a copy is nobody's traffic */
	if (p->dir == STATS_IN)
		stats_seen_inbound = 1;
	else if (stats_seen_inbound)
		return;
	if (stats_lay_.rate_cap == 0)
		return;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	r = stats_rate_slot((uint64_t)ts.tv_sec);
	ST_ADD(&r->requests, 1);
	if (cls == 5)
		ST_ADD(&r->errors, 1);
}

unsigned
stats_grpc_code(int code)
{
	return code >= 0 && code < (int)STATS_GRPC_CODES ? (unsigned)code : 2u;
}

void
stats_peer_grpc(struct stats_peer_rec *p, int code)
{
	if (stats_map_ == NULL || p == NULL)
		return;
	ST_ADD(&p->grpc[stats_grpc_code(code)], 1);
}

/* --- endpoints -------------------------------------------------------- */

struct stats_ep_rec *
stats_ep(const char *service, const char *version, unsigned index, uint32_t addr,
    uint16_t port, const char *host)
{
	char sv[STATS_NAME_LEN], vv[STATS_NAME_LEN], hv[STATS_NAME_LEN];
	struct stats_ep_rec *e, *free_row = NULL;
	uint32_t i;

	stats_sections_sync();
	if (stats_map_ == NULL)
		return NULL;
	stats_name_pad(sv, service);
	stats_name_pad(vv, version);
	stats_name_pad(hv, host);
	if (addr == 0)
		addr = STATS_EP_LOOPBACK;   /* one key for the two spellings */
	e = stats_eps();
	for (i = 0; i < stats_lay_.eps_cap; i++) {
		if (e[i].state == STATS_EP_FREE) {
			if (free_row == NULL)
				free_row = &e[i];
			continue;
		}
		if (e[i].index == index && e[i].addr == addr && e[i].port == port &&
		    memcmp(e[i].service, sv, sizeof(sv)) == 0 &&
		    memcmp(e[i].version, vv, sizeof(vv)) == 0) {
			/* a reader copies names by u64: they may tear while a host
			 * is renamed, never past the row (the last byte stays 0) */
			if (memcmp(e[i].host, hv, sizeof(hv)) != 0)
				memcpy(e[i].host, hv, sizeof(hv));
			return &e[i];
		}
	}
	if ((e = free_row) == NULL)
		return NULL;
	/* a reused row: every number back to 0 before it is published */
	memcpy(e->service, sv, sizeof(sv));
	memcpy(e->version, vv, sizeof(vv));
	memcpy(e->host, hv, sizeof(hv));
	ST_PUT(&e->index, (uint32_t)index);
	ST_PUT(&e->addr, addr);
	ST_PUT(&e->port, (uint32_t)port);
	ST_PUT(&e->ejected, 0u);
	ST_PUT(&e->ewma_us, 0);
	ST_PUT(&e->outstanding, 0);
	ST_PUT(&e->requests, 0);
	ST_PUT(&e->failures, 0);
	ST_PUT(&e->ejections, 0);
	ST_PUT(&e->breaker_opened, 0);
	__atomic_store_n(&e->state, (uint32_t)STATS_EP_CLOSED, __ATOMIC_RELEASE);
	return e;
}

void
stats_ep_free(struct stats_ep_rec *e)
{
	if (stats_map_ == NULL || e == NULL)
		return;
	ST_PUT(&e->ejected, 0u);
	__atomic_store_n(&e->state, (uint32_t)STATS_EP_FREE, __ATOMIC_RELEASE);
}

/* 1 when field lies inside row e (a caller's typo must not scribble). */
static int
stats_ep_field(const struct stats_ep_rec *e, const void *field, size_t size)
{
	const unsigned char *b = (const unsigned char *)e, *f = field;

	return f >= b && f + size <= b + sizeof(*e);
}

void
stats_ep_put(struct stats_ep_rec *e, uint64_t *field, uint64_t v)
{
	if (stats_map_ == NULL || e == NULL || !stats_ep_field(e, field, sizeof(*field)))
		return;
	ST_PUT(field, v);
}

void
stats_ep_put32(struct stats_ep_rec *e, uint32_t *field, uint32_t v)
{
	if (stats_map_ == NULL || e == NULL || !stats_ep_field(e, field, sizeof(*field)))
		return;
	ST_PUT(field, v);
}

/* --- spans ------------------------------------------------------------ */

/* The seqlock write: odd, the record, even (release). */
static void
stats_span_put(struct stats_span_rec *dst, const struct stats_span_rec *s, uint64_t seq)
{
	ST_PUT(&dst->seq, seq - 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy((unsigned char *)dst + sizeof(dst->seq), (const unsigned char *)s + sizeof(s->seq),
	    sizeof(*s) - sizeof(s->seq));
	__atomic_store_n(&dst->seq, seq, __ATOMIC_RELEASE);
}

/* The slowest-spans rule of stats.h: empty slot, else an expired one,
 * else the fastest if the new span is slower. */
static void
stats_slow_offer(const struct stats_span_rec *s, uint64_t seq)
{
	struct stats_span_rec *t = stats_slow(), *victim = NULL;
	uint64_t window = (uint64_t)STATS_SLOW_WINDOW_S * 1000000000u;
	uint64_t now = s->start_ns + s->duration_us * 1000u;
	uint32_t i;

	for (i = 0; i < stats_lay_.slow_cap; i++) {
		if (t[i].seq == 0 || t[i].start_ns + window < now) {
			victim = &t[i];
			break;
		}
		if (victim == NULL || t[i].duration_us < victim->duration_us)
			victim = &t[i];
	}
	if (victim == NULL || (victim->seq != 0 && victim->start_ns + window >= now &&
	    victim->duration_us >= s->duration_us))
		return;
	stats_span_put(victim, s, seq);
}

void
stats_span(const struct stats_span_rec *s)
{
	unsigned char *h;
	uint64_t n;

	stats_sections_sync();
	if (stats_map_ == NULL || s == NULL || stats_lay_.spans_cap == 0)
		return;
	h = stats_span_sec();
	n = ST_GET((uint64_t *)(void *)(h + STATS_SH_WRITTEN));
	stats_span_put(&stats_ring()[n % stats_lay_.spans_cap], s, 2 * n + 2);
	__atomic_store_n((uint64_t *)(void *)(h + STATS_SH_WRITTEN), n + 1, __ATOMIC_RELEASE);
	/* a tap-only record (no SAMPLED flag) is no trace: not a slow one */
	if (s->flags & STATS_SF_SAMPLED)
		stats_slow_offer(s, 2 * n + 2);
}
