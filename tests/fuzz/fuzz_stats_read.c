/* SPDX-License-Identifier: ISC */
/*
 * fuzz_stats_read: the stats reader (meshctl, the dashboard, meshd's
 * /metrics) on hostile files.  A real file is made once by the writer
 * (peer, endpoint and span rows); each input edits a copy of it — a new
 * size, then (u32 offset, u8 length, bytes) patches — so the mutations
 * land on a real layout: header fields, section offsets and capacities,
 * seqlock words, names without a NUL.  Whatever the file says, the reader
 * must refuse it or read it within its bounds (ASan watches).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mesh/stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char *base;
static size_t         base_len;
static char           work[64];

static void
fuzz_cleanup(void)
{
	(void)unlink(work);
}

static void
fuzz_base(void)
{
	struct stats_span_rec s;
	struct stat st;
	char path[64];
	int fd, i;

	snprintf(path, sizeof(path), "/tmp/fuzz_stats.%ld.base", (long)getpid());
	snprintf(work, sizeof(work), "/tmp/fuzz_stats.%ld.work", (long)getpid());
	atexit(fuzz_cleanup);
	if (stats_open(path) == -1)
		abort();
	stats_identity("web", "v1", "web@v1.0");
	stats_peer_done(stats_peer(STATS_IN, "gateway", ""), 200, 1500, 0, 0);
	stats_peer_done(stats_peer(STATS_OUT, "api", "v2"), 503, 90000, 2, 1);
	(void)stats_ep("api", "v2", 1, 0, 15003, NULL);
	memset(&s, 0, sizeof(s));
	s.trace_id[0] = s.span_id[0] = 1;
	s.kind = STATS_SPAN_SERVER;
	s.status = 200;
	strcpy(s.service, "web");
	for (i = 0; i < 3; i++) {
		s.duration_us = 1000u * (unsigned)(i + 1);
		stats_span(&s);
	}
	stats_close();
	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		abort();
	base_len = (size_t)st.st_size;
	if ((base = malloc(base_len + 4096)) == NULL ||
	    read(fd, base, base_len) != (ssize_t)base_len)
		abort();
	close(fd);
	unlink(path);
}

static void
fuzz_read(void)
{
	struct stats_span_rec out[8];
	struct stats_view v;
	uint64_t cursor = 0, lost = 0, sum = 0;
	size_t i, b;

	if (stats_view_read(work, &v) == STATS_OK) {
		for (i = 0; i < v.npeers; i++)
			for (b = 0; b < STATS_HIST_BUCKETS; b++)
				sum += v.peers[i].hist[b];
		for (i = 0; i < v.neps; i++)
			sum += v.eps[i].requests + (uint64_t)strnlen(v.eps[i].service, STATS_NAME_LEN);
		(void)stats_view_rps(&v, 1000, 10, NULL);
		if (v.npeers > 0)
			(void)stats_hist_quantile(v.peers[0].hist, 0.99);
		stats_view_free(&v);
	}
	(void)stats_spans_read(work, &cursor, out, 8, &lost, 0);
	cursor = 1;
	(void)stats_spans_read(work, &cursor, out, 8, &lost, 0);
	(void)stats_spans_read(work, &cursor, out, 8, &lost, 1);
	(void)sum;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *f;
	size_t len, off, i = 4;
	uint32_t v;
	int fd;

	if (base == NULL)
		fuzz_base();
	if (size < 4)
		return 0;
	memcpy(&v, data, 4);
	/* the whole file (all ones), or truncated, or longer than written */
	len = v == UINT32_MAX ? base_len : v % (base_len + 4096);
	if ((f = calloc(1, base_len + 4096)) == NULL)
		return 0;
	memcpy(f, base, base_len);
	while (i + 5 <= size) {
		uint8_t n;

		memcpy(&v, data + i, 4);
		n = data[i + 4];
		i += 5;
		if (n > size - i)
			n = (uint8_t)(size - i);
		off = v % (base_len + 4096);
		if (off + n > base_len + 4096)
			n = (uint8_t)(base_len + 4096 - off);
		memcpy(f + off, data + i, n);
		i += n;
	}
	if ((fd = open(work, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1) {
		if (write(fd, f, len) == (ssize_t)len)
			fuzz_read();
		close(fd);
	}
	free(f);
	return 0;
}
