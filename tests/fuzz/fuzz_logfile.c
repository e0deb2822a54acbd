/* SPDX-License-Identifier: ISC */
/*
 * fuzz_logfile: mesh.log's lines and their reader (logfile.c and
 * logfile_read.c, what `meshctl logs` and the dashboard use) on arbitrary
 * files.
 *
 * Input: byte 0 picks the filter (bits 0-1) and what happens to mesh.log
 * after the tail (bits 2-3: more is appended; it is rotated to mesh.log.1
 * and a new one begins; it is truncated and rewritten); byte 1 is how
 * many last lines are asked for (0: all); bytes 2..9 are four lengths
 * (u16, little-endian) cutting the rest into mesh.log.1, mesh.log, what
 * is appended, and the next file (after a rotation, or what a truncation
 * leaves).
 *
 * A model reads the same bytes: whole lines, each file on its own, a line
 * of LOGFILE_LINE_MAX bytes or more dropped, the lines logfile_parse()
 * and logfile_match() accept kept.  logfile_tail() must give the last
 * `max` of those of both files, and logfile_follow_poll() those that came
 * after.  Every line that parses must also format back to its own bytes
 * (logfile_format()).  Anything else aborts.  The files live in
 * /dev/shm/fuzz_logfile.PID (or /tmp's), removed at exit.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mesh/logfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NEXT_APPEND 0
#define FUZZ_NEXT_ROTATE 1
#define FUZZ_NEXT_TRUNC  2

static char dir[64], cur_path[96], old_path[96];

static void
fuzz_cleanup(void)
{
	(void)unlink(cur_path);
	(void)unlink(old_path);
	(void)rmdir(dir);
}

/* What a reader gave, or what the model says it must: a count and an
 * FNV-1a hash over (ms, name, text) of each line in order. */
struct fuzz_lines {
	uint64_t hash;
	long     n;
};

static void
fuzz_lines_init(struct fuzz_lines *s)
{
	s->hash = 14695981039346656037ull;
	s->n = 0;
}

static void
fuzz_hash(struct fuzz_lines *s, const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		s->hash = (s->hash ^ b[i]) * 1099511628211ull;
}

static void
fuzz_add(struct fuzz_lines *s, const struct logfile_line *l)
{
	fuzz_hash(s, &l->ms, sizeof(l->ms));
	fuzz_hash(s, &l->name_len, sizeof(l->name_len));
	fuzz_hash(s, l->name, l->name_len);
	fuzz_hash(s, &l->text_len, sizeof(l->text_len));
	fuzz_hash(s, l->text, l->text_len);
	s->n++;
}

static void
fuzz_given(void *arg, const struct logfile_line *l)
{
	fuzz_add(arg, l);
}

/* A line that parses formats back to itself. */
static void
fuzz_round_trip(const char *line, size_t len, const struct logfile_line *l)
{
	static char buf[LOGFILE_LINE_MAX];
	char name[LOGFILE_NAME_MAX + 1];
	size_t n;

	memcpy(name, l->name, l->name_len);
	name[l->name_len] = '\0';
	n = logfile_format(buf, l->ms, name, l->text, l->text_len);
	if (n != len + 1 || memcmp(buf, line, len) != 0 || buf[len] != '\n') {
		fprintf(stderr, "fuzz_logfile: '%.*s' formats back as '%.*s'\n",
		    (int)len, line, (int)n, buf);
		abort();
	}
}

/*
 * The model: the whole lines of p[0..len) from `from` on (the offset
 * where a reader already was), selected by f, into the last `max` slots
 * of ring (max 0: every line straight into out).
 */
struct fuzz_model {
	const struct logfile_filter *f;
	struct fuzz_lines *out;
	size_t   max;
	struct { const char *p; size_t len; } *ring;
	size_t   head, count;
};

static void
fuzz_model(struct fuzz_model *m, const char *p, size_t len, size_t from)
{
	struct logfile_line l;
	size_t start = 0, end;

	for (start = 0; start < len; start = end + 1) {
		const char *nl = memchr(p + start, '\n', len - start);

		if (nl == NULL)
			break;          /* a partial last line waits */
		end = (size_t)(nl - p);
		if (end < from)
			continue;       /* read before */
		if (end - start >= LOGFILE_LINE_MAX)
			continue;       /* over-long: dropped */
		if (logfile_parse(p + start, end - start, &l) == -1)
			continue;
		fuzz_round_trip(p + start, end - start, &l);
		if (!logfile_match(m->f, &l))
			continue;
		if (m->max == 0) {
			fuzz_add(m->out, &l);
			continue;
		}
		m->ring[m->head].p = p + start;
		m->ring[m->head].len = end - start;
		m->head = (m->head + 1) % m->max;
		if (m->count < m->max)
			m->count++;
	}
}

/* The model of a file that had a[0..alen) and got b[0..blen) appended:
 * the lines that end in b. */
static void
fuzz_model_more(struct fuzz_model *m, const char *a, size_t alen, const char *b, size_t blen)
{
	char *both = malloc(alen + blen + 1);

	if (both == NULL)
		abort();
	memcpy(both, a, alen);
	memcpy(both + alen, b, blen);
	fuzz_model(m, both, alen + blen, alen);
	free(both);
}

static void
fuzz_model_flush(struct fuzz_model *m)
{
	struct logfile_line l;
	size_t i, k;

	for (i = 0; i < m->count; i++) {
		k = (m->head + m->max - m->count + i) % m->max;
		if (logfile_parse(m->ring[k].p, m->ring[k].len, &l) == 0)
			fuzz_add(m->out, &l);
	}
	m->count = 0;
	m->head = 0;
}

static void
fuzz_write(const char *path, const void *p, size_t len, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | flags, 0600);

	if (fd == -1 || write(fd, p, len) != (ssize_t)len)
		abort();
	close(fd);
}

static void
fuzz_check(const char *what, const struct fuzz_lines *got, long rc,
    const struct fuzz_lines *want)
{
	if (rc != got->n || got->n != want->n || got->hash != want->hash) {
		fprintf(stderr, "fuzz_logfile: %s gave %ld line(s) (returned %ld), the model %ld%s\n",
		    what, got->n, rc, want->n,
		    got->n == want->n ? ", not the same ones" : "");
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const one[] = { "api" };
	static const char *const two[] = { "api.0", "meshd" };
	static const char *const side[] = { "web@v2.1~proxy" };
	const struct logfile_filter filters[4] = {
		{ NULL, 0, 0 },
		{ one, 1, 0 },
		{ two, 2, 0 },
		{ side, 1, 1796600000000 },   /* 2026-12-06T23:33:20Z */
	};
	struct logfile_follow fw;
	struct fuzz_lines got, want;
	struct fuzz_model m;
	const struct logfile_filter *f;
	const char *part[4];
	size_t len[4], off = 10, i;
	int next;
	long rc;

	if (dir[0] == '\0') {
		struct stat st;

		snprintf(dir, sizeof(dir), "%s/fuzz_logfile.%ld",
		    stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
		if (mkdir(dir, 0700) == -1)
			abort();
		snprintf(cur_path, sizeof(cur_path), "%s/" LOGFILE_NAME, dir);
		snprintf(old_path, sizeof(old_path), "%s/" LOGFILE_OLD, dir);
		atexit(fuzz_cleanup);
	}
	if (size < 10)
		return 0;
	f = &filters[data[0] & 3];
	next = (data[0] >> 2) & 3;
	for (i = 0; i < 4; i++) {
		len[i] = (size_t)data[2 + 2 * i] | (size_t)data[3 + 2 * i] << 8;
		if (len[i] > size - off)
			len[i] = size - off;
		part[i] = (const char *)data + off;
		off += len[i];
	}
	if (next == FUZZ_NEXT_TRUNC && len[3] >= len[1])
		len[3] = len[1] > 0 ? len[1] - 1 : 0;   /* shorter: a truncation shows */
	(void)unlink(old_path);
	(void)unlink(cur_path);
	/* an empty part is no file at all */
	if (len[0] > 0)
		fuzz_write(old_path, part[0], len[0], O_TRUNC);
	if (len[1] > 0)
		fuzz_write(cur_path, part[1], len[1], O_TRUNC);

	/* the tail */
	memset(&m, 0, sizeof(m));
	m.f = f;
	m.out = &want;
	m.max = data[1];
	if (m.max > 0 && (m.ring = calloc(m.max, sizeof(*m.ring))) == NULL)
		return 0;
	fuzz_lines_init(&want);
	fuzz_model(&m, part[0], len[0], 0);
	fuzz_model(&m, part[1], len[1], 0);
	if (m.max > 0)
		fuzz_model_flush(&m);
	fuzz_lines_init(&got);
	rc = logfile_tail(dir, f, m.max, fuzz_given, &got, &fw);
	if (rc == -1 && len[0] == 0 && len[1] == 0) {
		/* neither file: nothing, and the follower waits for mesh.log */
		fuzz_lines_init(&got);
		rc = 0;
	}
	fuzz_check("logfile_tail", &got, rc, &want);

	/* then what the follower sees: every new line, whatever max was */
	m.max = 0;
	fuzz_lines_init(&want);
	switch (next) {
	case FUZZ_NEXT_ROTATE:
		/* the follower holds mesh.log (if there was one): the rest of
		 * it, then the new file from its start */
		if (len[1] > 0) {
			fuzz_write(cur_path, part[2], len[2], O_APPEND);
			fuzz_model_more(&m, part[1], len[1], part[2], len[2]);
			if (rename(cur_path, old_path) == -1)
				abort();
		}
		if (len[3] > 0)
			fuzz_write(cur_path, part[3], len[3], O_TRUNC);
		fuzz_model(&m, part[3], len[3], 0);
		fuzz_lines_init(&got);
		rc = logfile_follow_poll(&fw, f, fuzz_given, &got);
		break;
	case FUZZ_NEXT_TRUNC:
		if (len[1] > 0) {
			fuzz_write(cur_path, part[3], len[3], O_TRUNC);
			fuzz_model(&m, part[3], len[3], 0);
		}
		fuzz_lines_init(&got);
		rc = logfile_follow_poll(&fw, f, fuzz_given, &got);
		break;
	default:
		if (len[2] > 0) {
			fuzz_write(cur_path, part[2], len[2], O_APPEND);
			fuzz_model_more(&m, part[1], len[1], part[2], len[2]);
		}
		fuzz_lines_init(&got);
		rc = logfile_follow_poll(&fw, f, fuzz_given, &got);
		break;
	}
	fuzz_check("logfile_follow_poll", &got, rc, &want);
	logfile_follow_close(&fw);
	free(m.ring);
	return 0;
}
