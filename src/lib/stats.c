/* SPDX-License-Identifier: ISC */
/*
 * stats: the writer side (mesh-proxy): the file and its flat counters.
 * See include/mesh/stats.h for the layout and why every store is a
 * relaxed atomic one; src/proxy/stats_write.c writes the sections.
 *
 * Every section is sized when the file is created (a fixed layout: a
 * reader checks the offsets once).  The file is made with ftruncate, so
 * it is sparse: a page is only backed once the writer touches it (a
 * sidecar with three peers uses a few pages of the ~600 KiB).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mesh/log.h"
#include "mesh/stats.h"
#include "stats_int.h"

/* The mapping, or NULL: every counting call is a no-op then. */
unsigned char *stats_map_;
struct stats_layout stats_lay_;
uint32_t stats_gen_;
static uint64_t *stats_ctr;


/* Sections start on a cache line (u64 alignment is what is needed). */
static uint32_t
stats_round(uint64_t off)
{
	return (uint32_t)((off + 63u) & ~(uint64_t)63u);
}

/* The fixed layout of this writer: counters, peers, endpoints, spans
 * (ring, then the slowest-spans table), rate ring. */
static void
stats_layout_default(struct stats_layout *l)
{
	uint64_t off;

	memset(l, 0, sizeof(*l));
	l->ncounters = STAT__COUNT;
	l->peer_rec = sizeof(struct stats_peer_rec);
	l->span_rec = sizeof(struct stats_span_rec);
	l->ep_rec = sizeof(struct stats_ep_rec);
	off = stats_round(STATS_HDR_SIZE + (uint64_t)STAT__COUNT * sizeof(uint64_t));
	l->peers_off = (uint32_t)off;
	l->peers_cap = STATS_PEERS_MAX;
	off = stats_round(off + (uint64_t)STATS_PEERS_MAX * sizeof(struct stats_peer_rec));
	l->eps_off = (uint32_t)off;
	l->eps_cap = STATS_EPS_MAX;
	off = stats_round(off + (uint64_t)STATS_EPS_MAX * sizeof(struct stats_ep_rec));
	l->spans_off = (uint32_t)off;
	l->spans_cap = STATS_SPANS_MAX;
	l->slow_cap = STATS_SLOW_MAX;
	off = stats_round(off + STATS_SPANS_HDR +
	    (uint64_t)(STATS_SPANS_MAX + STATS_SLOW_MAX) * sizeof(struct stats_span_rec));
	l->rate_off = (uint32_t)off;
	l->rate_cap = STATS_RATE_SLOTS;
	off = stats_round(off + (uint64_t)STATS_RATE_SLOTS * sizeof(struct stats_rate_rec));
	l->size = (uint32_t)off;
}

static const char *const stats_names[STAT__COUNT] = {
	[STAT_CONNECTIONS_TOTAL]      = "connections_total",
	[STAT_CONNECTIONS_OPEN]       = "connections_open",
	[STAT_REQUESTS_IN]            = "requests_in",
	[STAT_REQUESTS_OUT]           = "requests_out",
	[STAT_RESP_IN_2XX]            = "responses_in.2xx",
	[STAT_RESP_IN_3XX]            = "responses_in.3xx",
	[STAT_RESP_IN_4XX]            = "responses_in.4xx",
	[STAT_RESP_IN_5XX]            = "responses_in.5xx",
	[STAT_RESP_OUT_2XX]           = "responses_out.2xx",
	[STAT_RESP_OUT_3XX]           = "responses_out.3xx",
	[STAT_RESP_OUT_4XX]           = "responses_out.4xx",
	[STAT_RESP_OUT_5XX]           = "responses_out.5xx",
	[STAT_REFUSED_BAD_REQUEST]    = "refused.bad_request",
	[STAT_REFUSED_NO_ROUTE]       = "refused.no_route",
	[STAT_REFUSED_NO_UPSTREAM]    = "refused.no_upstream",
	[STAT_REFUSED_UPSTREAM_ERROR] = "refused.upstream_error",
	[STAT_REFUSED_TIMEOUT]        = "refused.timeout",
	[STAT_REFUSED_NOT_ALLOWED]    = "refused.not_allowed",
	[STAT_TLS_HANDSHAKES_OK]      = "tls_handshakes_ok",
	[STAT_TLS_HANDSHAKES_FAILED]  = "tls_handshakes_failed",
	[STAT_BYTES_IN]               = "bytes_in",
	[STAT_BYTES_OUT]              = "bytes_out",
	[STAT_EJECTIONS]              = "outlier.ejections",
	[STAT_EJECTED]                = "outlier.ejected",
	[STAT_RETRIES]                = "retries",
	[STAT_RETRIES_BUDGET_EXHAUSTED] = "retries_budget_exhausted",
	[STAT_TIMEOUTS]               = "timeouts",
	[STAT_BREAKER_OPENED]         = "breaker.opened",
	[STAT_BREAKERS_OPEN]          = "breaker.open",
	[STAT_OVERLOADED]             = "overloaded",
	[STAT_REQUESTS_IN_FLIGHT]     = "requests_in_flight",
	[STAT_FAULTS_ABORT]           = "faults.abort",
	[STAT_FAULTS_DELAY]           = "faults.delay",
	[STAT_MIRROR_REQUESTS]        = "mirror.requests",
	[STAT_MIRROR_RESP_2XX]        = "mirror.2xx",
	[STAT_MIRROR_RESP_3XX]        = "mirror.3xx",
	[STAT_MIRROR_RESP_4XX]        = "mirror.4xx",
	[STAT_MIRROR_RESP_5XX]        = "mirror.5xx",
	[STAT_MIRROR_ERRORS]          = "mirror.errors",
	[STAT_MIRROR_SKIPPED]         = "mirror.skipped",
	[STAT_MIRROR_DURATION_US]     = "mirror.duration_us",
	[STAT_H2_SESSIONS]            = "http2.sessions",
	[STAT_H2_STREAMS]             = "http2.streams",
	[STAT_H2_FLOODS]              = "http2.floods",
};

const char *
stats_name(enum stat_id id)
{
	if ((unsigned)id >= STAT__COUNT || stats_names[id] == NULL)
		return "unknown";
	return stats_names[id];
}

static void
stats_put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void
stats_put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

int
stats_open(const char *path)
{
	char tmp[4096];
	struct stats_layout l;
	struct timespec ts;
	void *p;
	int fd;

	stats_close();
	stats_layout_default(&l);
	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof(tmp)) {
		log_warnx("stats: %s: path too long, no stats", path);
		return -1;
	}
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) == -1) {
		log_warn("stats: %s: cannot create, no stats", tmp);
		return -1;
	}
	if (ftruncate(fd, (off_t)l.size) == -1) {
		log_warn("stats: %s: cannot size, no stats", tmp);
		goto fail;
	}
	p = mmap(NULL, l.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		log_warn("stats: %s: cannot map, no stats", tmp);
		goto fail;
	}
	/* The header is complete before the file gets its real name. */
	clock_gettime(CLOCK_REALTIME, &ts);
	stats_map_ = p;
	memcpy(stats_map_, STATS_MAGIC, STATS_MAGIC_LEN);
	stats_put32(stats_map_ + 8, STATS_VERSION);
	stats_put32(stats_map_ + 12, l.size);
	stats_put64(stats_map_ + 16, (uint64_t)getpid());
	stats_put64(stats_map_ + 24, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
	stats_put32(stats_map_ + 32, STAT__COUNT);
	stats_put32(stats_map_ + 36, STATS_HDR_SIZE);
	stats_put32(stats_map_ + STATS_H_PEERS, l.peers_off);
	stats_put32(stats_map_ + STATS_H_PEERS + 4, l.peers_cap);
	stats_put32(stats_map_ + STATS_H_EPS, l.eps_off);
	stats_put32(stats_map_ + STATS_H_EPS + 4, l.eps_cap);
	stats_put32(stats_map_ + STATS_H_SPANS, l.spans_off);
	stats_put32(stats_map_ + STATS_H_SPANS + 4, l.spans_cap);
	stats_put32(stats_map_ + STATS_H_RATE, l.rate_off);
	stats_put32(stats_map_ + STATS_H_RATE + 4, l.rate_cap);
	stats_put32(stats_map_ + l.spans_off + STATS_SH_SLOW_CAP, l.slow_cap);
	stats_put32(stats_map_ + l.spans_off + STATS_SH_WINDOW, STATS_SLOW_WINDOW_S);
	stats_lay_ = l;
	if (rename(tmp, path) == -1) {
		log_warn("stats: cannot rename %s to %s, no stats", tmp, path);
		munmap(p, l.size);
		stats_map_ = NULL;
		goto fail;
	}
	close(fd);
	stats_ctr = (uint64_t *)(void *)(stats_map_ + STATS_HDR_SIZE);
	stats_gen_++;
	log_debug("stats: counting in %s", path);
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return -1;
}

int
stats_open_sidecar(const char *control_sock, const char *id, const char *explicit_path)
{
	char dir[4096], path[4096];
	const char *slash;
	int n;

	if (explicit_path != NULL)
		return stats_open(explicit_path);
	if (control_sock == NULL || id == NULL)
		return 0;
	/* <state_dir>/run/meshd.sock -> <state_dir>/run/stats */
	slash = strrchr(control_sock, '/');
	if (slash == NULL)
		n = snprintf(dir, sizeof(dir), "stats");
	else
		n = snprintf(dir, sizeof(dir), "%.*s/stats", (int)(slash - control_sock),
		    control_sock);
	if (n < 0 || (size_t)n >= sizeof(dir) ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s.stats", dir, id) >= sizeof(path)) {
		log_warnx("stats: %s: path too long, no stats", control_sock);
		return -1;
	}
	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		log_warn("stats: cannot create %s, no stats", dir);
		return -1;
	}
	return stats_open(path);
}

void
stats_close(void)
{
	if (stats_map_ == NULL)
		return;
	munmap(stats_map_, stats_lay_.size);
	stats_map_ = NULL;
	stats_ctr = NULL;
	stats_gen_++;
}

/* One writer thread: a relaxed load and store is enough, no RMW. */
void
stats_add(enum stat_id id, uint64_t n)
{
	uint64_t v;

	if (stats_ctr == NULL || (unsigned)id >= STAT__COUNT)
		return;
	v = __atomic_load_n(&stats_ctr[id], __ATOMIC_RELAXED);
	__atomic_store_n(&stats_ctr[id], v + n, __ATOMIC_RELAXED);
}

void
stats_inc(enum stat_id id)
{
	stats_add(id, 1);
}

void
stats_gauge_add(enum stat_id id, uint64_t n)
{
	stats_add(id, n);
}

void
stats_gauge_sub(enum stat_id id, uint64_t n)
{
	uint64_t v;

	if (stats_ctr == NULL || (unsigned)id >= STAT__COUNT)
		return;
	v = __atomic_load_n(&stats_ctr[id], __ATOMIC_RELAXED);
	__atomic_store_n(&stats_ctr[id], v > n ? v - n : 0, __ATOMIC_RELAXED);
}

void
stats_response(int inbound, int status)
{
	int cls = status / 100;

	if (cls < 2 || cls > 5)
		return;
	stats_inc((inbound ? STAT_RESP_IN_2XX : STAT_RESP_OUT_2XX) + (cls - 2));
}

void
stats_refusal(int status)
{
	enum stat_id id;

	switch (status) {
	case 403: id = STAT_REFUSED_NOT_ALLOWED; break;
	case 404: id = STAT_REFUSED_NO_ROUTE; break;
	case 503: id = STAT_REFUSED_NO_UPSTREAM; break;
	case 502: id = STAT_REFUSED_UPSTREAM_ERROR; break;
	case 408:
	case 504: id = STAT_REFUSED_TIMEOUT; break;
	default:  id = STAT_REFUSED_BAD_REQUEST; break;
	}
	stats_inc(id);
}
