/* SPDX-License-Identifier: ISC */
/*
 * stats_spans: the reader of a stats file's span ring and slowest-spans
 * table (include/mesh/stats.h, "spans").
 *
 * A record is copied under its seqlock: load seq (acquire), copy, fence,
 * load seq again; it is kept only if both loads agree and are even.  In
 * the ring, span n must also carry seq 2n+2: anything else means the
 * writer has lapped the reader and span n is lost.
 */
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "mesh/clock.h"
#include "mesh/stats.h"
#include "stats_int.h"

/* Record i of a table of records of `size` bytes (the file's version:
 * an older one's are shorter, stats.h "Versions"). */
static const struct stats_span_rec *
stats_span_at(const unsigned char *t, uint32_t size, uint64_t i)
{
	return (const struct stats_span_rec *)(const void *)(t + i * size);
}

/* 1 with *out a consistent copy of the `size` bytes of rec (its seq in
 * out->seq; what an older record lacks is 0), else 0. */
static int
stats_span_copy(const struct stats_span_rec *rec, uint32_t size, struct stats_span_rec *out)
{
	uint64_t s1, s2;

	s1 = __atomic_load_n(&rec->seq, __ATOMIC_ACQUIRE);
	if (s1 == 0 || (s1 & 1) != 0)
		return 0;
	if (size < sizeof(*out))
		memset((unsigned char *)out + size, 0, sizeof(*out) - size);
	memcpy(out, rec, size < sizeof(*out) ? size : sizeof(*out));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	s2 = __atomic_load_n(&rec->seq, __ATOMIC_RELAXED);
	if (s1 != s2)
		return 0;
	out->seq = s1;
	out->service[STATS_NAME_LEN - 1] = out->version[STATS_NAME_LEN - 1] = '\0';
	out->instance[STATS_NAME_LEN - 1] = out->peer[STATS_NAME_LEN - 1] = '\0';
	out->upstream[STATS_NAME_LEN - 1] = '\0';
	out->method[sizeof(out->method) - 1] = '\0';
	out->authority[sizeof(out->authority) - 1] = '\0';
	out->path[sizeof(out->path) - 1] = '\0';
	return 1;
}

/* The slowest spans still inside the window, slowest first. */
static long
stats_slow_read(const unsigned char *t, uint32_t size, uint32_t cap,
    struct stats_span_rec *out, size_t max)
{
	struct stats_span_rec tmp;
	uint64_t now, window = (uint64_t)STATS_SLOW_WINDOW_S * 1000000000u;
	size_t n = 0, j;
	uint32_t i;

	now = clock_ns(CLOCK_REALTIME);
	for (i = 0; i < cap; i++) {
		if (!stats_span_copy(stats_span_at(t, size, i), size, &tmp) ||
		    tmp.start_ns + window < now)
			continue;
		/* insertion into out[0..n), slowest first, the max slowest */
		if (n == max && out[n - 1].duration_us >= tmp.duration_us)
			continue;
		for (j = n < max ? n : max - 1; j > 0 && out[j - 1].duration_us < tmp.duration_us; j--)
			out[j] = out[j - 1];
		out[j] = tmp;
		if (n < max)
			n++;
	}
	return (long)n;
}

long
stats_spans_read(const char *path, uint64_t *cursor, struct stats_span_rec *out,
    size_t max, uint64_t *lost, int slow)
{
	const unsigned char *h, *sec, *ring;
	struct stats_layout l;
	uint64_t written, first, c, n;
	size_t len, got = 0;
	int rc;

	if ((rc = stats_map_check(path, &h, &len, &l)) != STATS_OK)
		return rc;
	if (l.spans_off == 0 || max == 0) {
		munmap((void *)(uintptr_t)h, len);
		return 0;
	}
	sec = h + l.spans_off;
	ring = sec + STATS_SPANS_HDR;
	if (slow) {
		long k = stats_slow_read(ring + (size_t)l.spans_cap * l.span_rec, l.span_rec,
		    l.slow_cap, out, max);

		munmap((void *)(uintptr_t)h, len);
		return k;
	}
	written = __atomic_load_n((const uint64_t *)(const void *)(sec + STATS_SH_WRITTEN),
	    __ATOMIC_ACQUIRE);
	c = cursor != NULL ? *cursor : 0;
	if (c > written)
		c = 0;   /* a new file (the sidecar restarted): from its start */
	first = written > l.spans_cap ? written - l.spans_cap : 0;
	if (c == 0)
		c = first;   /* a first read: what the ring holds, nothing lost */
	else if (c < first) {
		if (lost != NULL)
			*lost += first - c;
		c = first;
	}
	for (n = c; n < written && got < max; n++) {
		if (stats_span_copy(stats_span_at(ring, l.span_rec, n % l.spans_cap), l.span_rec,
		    &out[got]) &&
		    out[got].seq == 2 * n + 2)
			got++;
		else if (lost != NULL)
			(*lost)++;   /* overwritten while we read */
	}
	if (cursor != NULL)
		*cursor = n;
	munmap((void *)(uintptr_t)h, len);
	return (long)got;
}

size_t
stats_spans_traced(struct stats_span_rec *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (s[i].flags & STATS_SF_SAMPLED) {
			if (k != i)
				s[k] = s[i];
			k++;
		}
	return k;
}

int
stats_spans_head(const char *path, struct stats_spans_head *hd)
{
	const unsigned char *h, *sec;
	struct stats_layout l;
	size_t len;
	int rc;

	memset(hd, 0, sizeof(*hd));
	if ((rc = stats_map_check(path, &h, &len, &l)) != STATS_OK)
		return rc;
	memcpy(&hd->pid, h + 16, sizeof(hd->pid));             /* set once, at creation */
	memcpy(&hd->start_time_ns, h + 24, sizeof(hd->start_time_ns));
	if (l.spans_off != 0) {
		sec = h + l.spans_off;
		hd->written = __atomic_load_n((const uint64_t *)(const void *)(sec +
		    STATS_SH_WRITTEN), __ATOMIC_ACQUIRE);
		memcpy(hd->service, sec + STATS_SH_SERVICE, STATS_NAME_LEN - 1);
		memcpy(hd->version, sec + STATS_SH_VERSION, STATS_NAME_LEN - 1);
		memcpy(hd->instance, sec + STATS_SH_INSTANCE, STATS_NAME_LEN - 1);
	}
	munmap((void *)(uintptr_t)h, len);
	return STATS_OK;
}
