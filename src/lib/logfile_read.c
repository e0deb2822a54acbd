/* SPDX-License-Identifier: ISC */
/*
 * logfile_read: the lines of <state_dir>/log/mesh.log.1 and mesh.log, the
 * last ones that match, then those appended, across rotations
 * (include/mesh/logfile.h).
 *
 * logfile_tail() makes one pass over both files, keeping where each
 * matching line is (a ring of `max` offsets, not the lines), then reads
 * those lines again by offset; the descriptors stay open in between, so a
 * rotation meanwhile changes nothing.  The follower keeps mesh.log open
 * and compares its inode with the path's at each poll: another inode
 * means meshd rotated it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mesh/logfile.h"

/* the shortest line: time, ' ', a one-byte name, " | ", '\n' */
#define LOGFILE_LINE_MIN (LOGFILE_TIME_LEN + 1 + 1 + 3 + 1)

/* Called with each whole line (newline excluded) and its file offset. */
typedef void logfile_each_fn(void *ctx, const char *line, size_t len, off_t off);

/*
 * Read r->fd from where it is to its end, each whole line to each().  A
 * partial last line stays in r->buf; a "line" longer than the buffer is
 * dropped up to its newline.  0, or -1 on a read error.
 */
static int
logfile_lines(struct logfile_follow *r, logfile_each_fn *each, void *ctx)
{
	for (;;) {
		ssize_t n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
		size_t start = 0;
		char *nl;

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 0 : -1;
		r->len += (size_t)n;
		while ((nl = memchr(r->buf + start, '\n', r->len - start)) != NULL) {
			size_t l = (size_t)(nl - (r->buf + start));

			if (!r->skip)
				each(ctx, r->buf + start, l, r->off + (off_t)start);
			r->skip = 0;
			start += l + 1;
		}
		if (start == 0 && r->len == sizeof(r->buf)) {
			r->skip = 1;           /* no newline in a whole buffer */
			start = r->len;
		}
		memmove(r->buf, r->buf + start, r->len - start);
		r->len -= start;
		r->off += (off_t)start;
	}
}

static void
logfile_reader_init(struct logfile_follow *r, int fd)
{
	struct stat st;

	r->fd = fd;
	r->len = 0;
	r->skip = 0;
	r->off = fd != -1 ? lseek(fd, 0, SEEK_CUR) : 0;
	if (r->off == -1)
		r->off = 0;
	r->dev = 0;
	r->ino = 0;
	if (fd != -1 && fstat(fd, &st) == 0) {
		r->dev = st.st_dev;
		r->ino = st.st_ino;
	}
}

/* ---- the last lines ------------------------------------------------- */

struct logfile_pos {
	off_t    off;
	uint32_t len;
	uint32_t file;   /* 0: mesh.log.1, 1: mesh.log */
};

struct logfile_tail_ctx {
	const struct logfile_filter *f;
	logfile_line_fn   *fn;
	void              *arg;
	struct logfile_pos *ring;      /* NULL: every line, given at once */
	size_t             cap, head, count;
	uint32_t           file;
	long               given;
};

static void
logfile_tail_each(void *ctx, const char *line, size_t len, off_t off)
{
	struct logfile_tail_ctx *t = ctx;
	struct logfile_line l;

	if (logfile_parse(line, len, &l) == -1 || !logfile_match(t->f, &l))
		return;
	if (t->ring == NULL) {
		t->fn(t->arg, &l);
		t->given++;
		return;
	}
	t->ring[t->head] = (struct logfile_pos){ off, (uint32_t)len, t->file };
	t->head = (t->head + 1) % t->cap;
	if (t->count < t->cap)
		t->count++;
}

/* The lines the ring kept, read again by offset. */
static int
logfile_tail_give(struct logfile_tail_ctx *t, const int *fds, char *buf)
{
	size_t i, k;

	for (i = 0; i < t->count; i++) {
		struct logfile_pos *p = &t->ring[(t->head + t->cap - t->count + i) % t->cap];
		struct logfile_line l;
		ssize_t n;

		k = p->len;
		do
			n = pread(fds[p->file], buf, k, p->off);
		while (n == -1 && errno == EINTR);
		if (n == -1)
			return -1;
		/* cut short under us (truncated): skip it */
		if ((size_t)n != k || logfile_parse(buf, k, &l) == -1)
			continue;
		t->fn(t->arg, &l);
		t->given++;
	}
	return 0;
}

static int
logfile_open_at(const char *dir, const char *name, char *path, size_t size)
{
	int n = snprintf(path, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_RDONLY | O_CLOEXEC);
}

long
logfile_tail(const char *dir, const struct logfile_filter *f, size_t max,
    logfile_line_fn *fn, void *arg, struct logfile_follow *fw)
{
	struct logfile_follow *r = NULL, *cur = fw;
	struct logfile_tail_ctx t = { .f = f, .fn = fn, .arg = arg };
	struct stat so, sc;
	char oldpath[4096];
	int fds[2] = { -1, -1 }, e, rc = -1;
	size_t lines;

	if ((r = malloc(sizeof(*r))) == NULL ||
	    (cur == NULL && (cur = malloc(sizeof(*cur))) == NULL)) {
		if (cur != fw)
			free(cur);
		free(r);
		if (fw != NULL)
			fw->fd = -1;
		errno = ENOMEM;
		return -1;
	}
	cur->fd = -1;
	if ((fds[1] = logfile_open_at(dir, LOGFILE_NAME, cur->path, sizeof(cur->path))) == -1 &&
	    errno != ENOENT)
		goto out;
	fds[0] = logfile_open_at(dir, LOGFILE_OLD, oldpath, sizeof(oldpath));
	/* mesh.log rotated between the two opens: what we hold is mesh.log.1 */
	if (fds[0] != -1 && fds[1] != -1 && fstat(fds[0], &so) == 0 &&
	    fstat(fds[1], &sc) == 0 && so.st_ino == sc.st_ino && so.st_dev == sc.st_dev) {
		close(fds[1]);
		fds[1] = open(cur->path, O_RDONLY | O_CLOEXEC);
	}
	logfile_reader_init(cur, fds[1]);
	if (fds[0] == -1 && fds[1] == -1) {
		errno = ENOENT;
		goto out;
	}
	if (max > 0) {
		/* no more lines than the files can hold */
		lines = 1;
		if (fds[0] != -1 && fstat(fds[0], &so) == 0)
			lines += (size_t)so.st_size / LOGFILE_LINE_MIN;
		if (fds[1] != -1 && fstat(fds[1], &sc) == 0)
			lines += (size_t)sc.st_size / LOGFILE_LINE_MIN;
		t.cap = max < lines ? max : lines;
		if ((t.ring = calloc(t.cap, sizeof(*t.ring))) == NULL) {
			errno = ENOMEM;
			goto out;
		}
	}
	logfile_reader_init(r, fds[0]);
	t.file = 0;
	if (fds[0] != -1 && logfile_lines(r, logfile_tail_each, &t) == -1)
		goto out;
	t.file = 1;
	if (fds[1] != -1 && logfile_lines(cur, logfile_tail_each, &t) == -1)
		goto out;
	if (t.ring != NULL && logfile_tail_give(&t, fds, r->buf) == -1)
		goto out;
	/* a follower goes on from here: a partial last line stays in its buffer */
	rc = 0;
out:
	e = errno;
	if (fds[0] != -1)
		close(fds[0]);
	if (cur != fw) {
		if (cur->fd != -1)
			close(cur->fd);
		free(cur);
	}
	free(r);
	free(t.ring);
	errno = e;
	return rc == 0 ? t.given : -1;
}

/* ---- following ------------------------------------------------------ */

struct logfile_follow_ctx {
	const struct logfile_filter *f;
	logfile_line_fn *fn;
	void            *arg;
	long             given;
};

static void
logfile_follow_each(void *ctx, const char *line, size_t len, off_t off)
{
	struct logfile_follow_ctx *c = ctx;
	struct logfile_line l;

	(void)off;
	if (logfile_parse(line, len, &l) == 0 && logfile_match(c->f, &l)) {
		c->fn(c->arg, &l);
		c->given++;
	}
}

long
logfile_follow_poll(struct logfile_follow *fw, const struct logfile_filter *f,
    logfile_line_fn *fn, void *arg)
{
	struct logfile_follow_ctx c = { f, fn, arg, 0 };
	struct stat st;
	int fd, pass;

	for (pass = 0; pass < 2; pass++) {
		if (fw->fd == -1) {
			if ((fd = open(fw->path, O_RDONLY | O_CLOEXEC)) == -1)
				return errno == ENOENT ? c.given : -1;
			logfile_reader_init(fw, fd);
		}
		/* truncated under us: from its start again */
		if (fstat(fw->fd, &st) == 0 && st.st_size < fw->off + (off_t)fw->len &&
		    lseek(fw->fd, 0, SEEK_SET) == 0)
			logfile_reader_init(fw, fw->fd);
		if (logfile_lines(fw, logfile_follow_each, &c) == -1)
			return -1;
		if (stat(fw->path, &st) == 0 && st.st_ino == fw->ino && st.st_dev == fw->dev)
			break;
		/* rotated (or removed): what was written before the rename, then
		 * the new file from its start */
		if (logfile_lines(fw, logfile_follow_each, &c) == -1)
			return -1;
		close(fw->fd);
		fw->fd = -1;
	}
	return c.given;
}

void
logfile_follow_close(struct logfile_follow *fw)
{
	if (fw->fd != -1)
		close(fw->fd);
	fw->fd = -1;
}
