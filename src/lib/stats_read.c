/* SPDX-License-Identifier: ISC */
/*
 * stats: the reader side (meshd, meshctl).  Maps a sidecar's stats file
 * read-only, validates the header and every section's offset and
 * capacity against the size (include/mesh/stats.h) and copies with
 * atomic loads.  The file never shrinks while its writer lives (a new
 * sidecar renames a new file over it), so checking the size once with
 * fstat keeps every load inside the mapping: a corrupt or hostile file
 * is refused (STATS_ERR_LAYOUT), never read past its end.  What is not a
 * regular file (a FIFO would block meshd's loop in open(), a device could
 * map anything) is refused before it is mapped, and so is a file of
 * another user: the reader's own, or root's (a sidecar of a root meshd).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mesh/stats.h"
#include "stats_int.h"

int
stats_path(char *buf, size_t size, const char *state_dir, const char *id)
{
	int n = snprintf(buf, size, "%s/run/stats/%s.stats", state_dir, id);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static uint32_t
stats_get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t
stats_get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Validate a header of `fsize` available bytes; STATS_OK or an error. */
static int
stats_check(const unsigned char *h, size_t fsize)
{
	uint32_t size, hsize, n;

	if (fsize < STATS_HDR_SIZE)
		return STATS_ERR_SHORT;
	if (memcmp(h, STATS_MAGIC, STATS_MAGIC_LEN) != 0)
		return STATS_ERR_MAGIC;
	if (stats_get32(h + 8) < STATS_VERSION_MIN || stats_get32(h + 8) > STATS_VERSION)
		return STATS_ERR_VERSION;
	size = stats_get32(h + 12);
	n = stats_get32(h + 32);
	hsize = stats_get32(h + 36);
	if (hsize < STATS_HDR_SIZE || hsize % 8 != 0 || n > STATS_MAX_COUNTERS ||
	    (uint64_t)hsize + (uint64_t)n * 8 > size)
		return STATS_ERR_LAYOUT;
	if (size > fsize)
		return STATS_ERR_SHORT;
	return STATS_OK;
}

/* One section {offset, capacity} at header offset `at`: inside the
 * `size` bytes in use, past the counters, u64-aligned, capacity bounded.
 * `fixed` bytes of section header come before the cap records of `rec`
 * bytes.  0 ok (an absent section reads as capacity 0), -1 not. */
static int
stats_section(const unsigned char *h, uint32_t at, uint64_t fixed, uint64_t rec,
    uint32_t max, uint32_t *off, uint32_t *cap)
{
	uint64_t end;

	*off = stats_get32(h + at);
	*cap = stats_get32(h + at + 4);
	if (*off == 0) {
		*cap = 0;
		return 0;
	}
	end = (uint64_t)stats_get32(h + 36) + (uint64_t)stats_get32(h + 32) * 8;
	if (*off % 8 != 0 || *off < end || *cap > max)
		return -1;
	return (uint64_t)*off + fixed + (uint64_t)*cap * rec > stats_get32(h + 12) ? -1 : 0;
}

/* The sections of a checked header; STATS_OK or STATS_ERR_LAYOUT. */
static int
stats_sections(const unsigned char *h, struct stats_layout *l)
{
	uint64_t rec;

	memset(l, 0, sizeof(*l));
	l->size = stats_get32(h + 12);
	l->ncounters = stats_get32(h + 32);
	/* an older version's records are this version's without their tail */
	if (stats_get32(h + 8) == 2) {
		l->peer_rec = STATS_V2_PEER_REC;
		l->span_rec = STATS_V2_SPAN_REC;
	} else {
		l->peer_rec = sizeof(struct stats_peer_rec);
		l->span_rec = sizeof(struct stats_span_rec);
	}
	l->ep_rec = stats_get32(h + 8) < 4 ? STATS_V3_EP_REC : sizeof(struct stats_ep_rec);
	rec = l->span_rec;
	if (stats_section(h, STATS_H_PEERS, 0, l->peer_rec,
	    STATS_RD_PEERS_MAX, &l->peers_off, &l->peers_cap) == -1 ||
	    stats_section(h, STATS_H_EPS, 0, l->ep_rec,
	    STATS_RD_EPS_MAX, &l->eps_off, &l->eps_cap) == -1 ||
	    stats_section(h, STATS_H_RATE, 0, sizeof(struct stats_rate_rec),
	    STATS_RD_RATE_MAX, &l->rate_off, &l->rate_cap) == -1 ||
	    stats_section(h, STATS_H_SPANS, STATS_SPANS_HDR, rec,
	    STATS_RD_SPANS_MAX, &l->spans_off, &l->spans_cap) == -1)
		return STATS_ERR_LAYOUT;
	if (l->spans_off != 0) {
		/* the slow table follows the ring: bound it the same way */
		l->slow_cap = stats_get32(h + l->spans_off + STATS_SH_SLOW_CAP);
		if (l->slow_cap > STATS_RD_SLOW_MAX ||
		    (uint64_t)l->spans_off + STATS_SPANS_HDR +
		    ((uint64_t)l->spans_cap + l->slow_cap) * rec > l->size)
			return STATS_ERR_LAYOUT;
	}
	return STATS_OK;
}

int
stats_map_check(const char *path, const unsigned char **map, size_t *len,
    struct stats_layout *l)
{
	struct stat st;
	void *p;
	int fd, rc, saved;

	*map = NULL;
	*len = 0;
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return STATS_ERR_OPEN;
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return STATS_ERR_OPEN;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return STATS_ERR_TYPE;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0 && geteuid() != 0) {
		close(fd);
		return STATS_ERR_OWNER;
	}
	if (st.st_size < (off_t)STATS_HDR_SIZE) {
		close(fd);
		return STATS_ERR_SHORT;
	}
	if ((uint64_t)st.st_size > UINT32_MAX)
		st.st_size = UINT32_MAX;   /* `size` is a u32: nothing past it is read */
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	saved = errno;
	close(fd);
	if (p == MAP_FAILED) {
		errno = saved;
		return STATS_ERR_OPEN;
	}
	if ((rc = stats_check(p, (size_t)st.st_size)) == STATS_OK)
		rc = stats_sections(p, l);
	if (rc != STATS_OK) {
		munmap(p, (size_t)st.st_size);
		return rc;
	}
	*map = p;
	*len = (size_t)st.st_size;
	return STATS_OK;
}

static void
stats_snap_copy(const unsigned char *h, struct stats_snapshot *snap)
{
	uint32_t i, n;

	snap->version = stats_get32(h + 8);
	snap->ncounters = n = stats_get32(h + 32);
	snap->pid = stats_get64(h + 16);
	snap->start_time_ns = stats_get64(h + 24);
	for (i = 0; i < n && i < STAT__COUNT; i++)
		snap->v[i] = stats_ld64(h + stats_get32(h + 36) + (size_t)i * 8);
}

int
stats_read(const char *path, struct stats_snapshot *snap)
{
	const unsigned char *h;
	struct stats_layout l;
	size_t len;
	int rc;

	memset(snap, 0, sizeof(*snap));
	if ((rc = stats_map_check(path, &h, &len, &l)) != STATS_OK)
		return rc;
	stats_snap_copy(h, snap);
	munmap((void *)(uintptr_t)h, len);
	return STATS_OK;
}

/* A row copied with atomic loads, u64 by u64 (rows are u64-aligned). */
static void
stats_row_copy(void *dst, const unsigned char *src, size_t size)
{
	uint64_t *d = dst;
	size_t i;

	for (i = 0; i < size / 8; i++)
		d[i] = stats_ld64(src + i * 8);
}

/* The used peer rows: count, then copy at most that many (a row added
 * in between waits for the next read). */
static int
stats_view_peers(const unsigned char *h, const struct stats_layout *l, struct stats_view *v)
{
	const unsigned char *row;
	size_t i, n = 0;

	for (i = 0; i < l->peers_cap; i++) {
		row = h + l->peers_off + i * l->peer_rec;
		n += __atomic_load_n((const uint32_t *)(const void *)row, __ATOMIC_ACQUIRE) == 1;
	}
	if (n == 0)
		return 0;
	if ((v->peers = calloc(n, sizeof(*v->peers))) == NULL)
		return -1;
	for (i = 0; i < l->peers_cap && v->npeers < n; i++) {
		row = h + l->peers_off + i * l->peer_rec;
		if (__atomic_load_n((const uint32_t *)(const void *)row, __ATOMIC_ACQUIRE) != 1)
			continue;
		/* calloc'd: what an older record lacks stays 0 */
		stats_row_copy(&v->peers[v->npeers], row, l->peer_rec);
		/* names NUL-terminated whatever the file says */
		v->peers[v->npeers].service[STATS_NAME_LEN - 1] = '\0';
		v->peers[v->npeers].version[STATS_NAME_LEN - 1] = '\0';
		v->npeers++;
	}
	return 0;
}

static int
stats_view_eps(const unsigned char *h, const struct stats_layout *l, struct stats_view *v)
{
	const unsigned char *row;
	size_t i, n = 0;
	uint32_t st;

	for (i = 0; i < l->eps_cap; i++) {
		row = h + l->eps_off + i * l->ep_rec;
		n += __atomic_load_n((const uint32_t *)(const void *)row, __ATOMIC_ACQUIRE) !=
		    STATS_EP_FREE;
	}
	if (n == 0)
		return 0;
	if ((v->eps = calloc(n, sizeof(*v->eps))) == NULL)
		return -1;
	for (i = 0; i < l->eps_cap && v->neps < n; i++) {
		row = h + l->eps_off + i * l->ep_rec;
		st = __atomic_load_n((const uint32_t *)(const void *)row, __ATOMIC_ACQUIRE);
		if (st == STATS_EP_FREE)
			continue;
		/* calloc'd: an older row's addr and host stay 0 and "" */
		stats_row_copy(&v->eps[v->neps], row, l->ep_rec);
		if (v->eps[v->neps].state > STATS_EP_HALF_OPEN)
			continue;   /* garbage: not a state */
		v->eps[v->neps].service[STATS_NAME_LEN - 1] = '\0';
		v->eps[v->neps].version[STATS_NAME_LEN - 1] = '\0';
		v->eps[v->neps].host[STATS_NAME_LEN - 1] = '\0';
		v->neps++;
	}
	return 0;
}

/* Rate slots: a slot is kept only if its second read the same before
 * and after its counts (the writer zeroes it while resetting). */
static void
stats_view_rate(const unsigned char *h, const struct stats_layout *l, struct stats_view *v)
{
	const uint64_t *r;
	uint64_t s1, s2, req, err;
	size_t i;

	for (i = 0; i < l->rate_cap && i < STATS_RATE_SLOTS; i++) {
		r = (const uint64_t *)(const void *)(h + l->rate_off +
		    i * sizeof(struct stats_rate_rec));
		s1 = __atomic_load_n(&r[0], __ATOMIC_ACQUIRE);
		req = __atomic_load_n(&r[1], __ATOMIC_RELAXED);
		err = __atomic_load_n(&r[2], __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&r[0], __ATOMIC_RELAXED);
		if (s1 != s2 || s1 == 0)
			continue;
		v->rate[i].second = s1;
		v->rate[i].requests = req;
		v->rate[i].errors = err;
	}
}

static void
stats_view_ident(const unsigned char *h, const struct stats_layout *l, struct stats_view *v)
{
	const unsigned char *s = h + l->spans_off;

	if (l->spans_off == 0)
		return;
	v->spans_written = __atomic_load_n((const uint64_t *)(const void *)(s + STATS_SH_WRITTEN),
	    __ATOMIC_ACQUIRE);
	memcpy(v->service, s + STATS_SH_SERVICE, STATS_NAME_LEN - 1);
	memcpy(v->version, s + STATS_SH_VERSION, STATS_NAME_LEN - 1);
	memcpy(v->instance, s + STATS_SH_INSTANCE, STATS_NAME_LEN - 1);
}

int
stats_view_read(const char *path, struct stats_view *v)
{
	const unsigned char *h;
	struct stats_layout l;
	size_t len;
	int rc;

	memset(v, 0, sizeof(*v));
	if ((rc = stats_map_check(path, &h, &len, &l)) != STATS_OK)
		return rc;
	stats_snap_copy(h, &v->snap);
	if (stats_view_peers(h, &l, v) == -1 || stats_view_eps(h, &l, v) == -1) {
		munmap((void *)(uintptr_t)h, len);
		stats_view_free(v);
		errno = ENOMEM;
		return STATS_ERR_OPEN;
	}
	stats_view_rate(h, &l, v);
	stats_view_ident(h, &l, v);
	munmap((void *)(uintptr_t)h, len);
	return STATS_OK;
}

void
stats_view_free(struct stats_view *v)
{
	free(v->peers);
	free(v->eps);
	v->peers = NULL;
	v->eps = NULL;
	v->npeers = v->neps = 0;
}

double
stats_view_rps(const struct stats_view *v, uint64_t now_s, unsigned seconds,
    double *errors_per_s)
{
	uint64_t req = 0, err = 0;
	size_t i;

	if (seconds > STATS_RATE_SLOTS - 1)
		seconds = STATS_RATE_SLOTS - 1;
	if (errors_per_s != NULL)
		*errors_per_s = 0;
	if (seconds == 0)
		return 0;
	for (i = 0; i < STATS_RATE_SLOTS; i++) {
		if (v->rate[i].second == 0 || v->rate[i].second >= now_s ||
		    v->rate[i].second + seconds < now_s)
			continue;
		req += v->rate[i].requests;
		err += v->rate[i].errors;
	}
	if (errors_per_s != NULL)
		*errors_per_s = (double)err / seconds;
	return (double)req / seconds;
}

const char *
stats_strerror(int err)
{
	switch (err) {
	case STATS_OK:          return "ok";
	case STATS_ERR_OPEN:    return strerror(errno);
	case STATS_ERR_SHORT:   return "truncated stats file";
	case STATS_ERR_MAGIC:   return "not a stats file (bad magic)";
	case STATS_ERR_VERSION: return "stats file version not supported";
	case STATS_ERR_LAYOUT:  return "inconsistent stats header";
	case STATS_ERR_TYPE:    return "not a regular file";
	case STATS_ERR_OWNER:   return "stats file owned by another user";
	}
	return "unknown stats error";
}

const char *
stats_dir_name(uint32_t dir)
{
	return dir == STATS_IN ? "inbound" : dir == STATS_MIRROR ? "mirror" : "outbound";
}
