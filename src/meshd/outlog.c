/* SPDX-License-Identifier: ISC */
/*
 * outlog: prefixed lines on stdout, the ring, and children's pipes and
 * log files (see include/mesh/outlog.h).  Each line also goes to
 * <state_dir>/log/mesh.log (logwrite.h), unpadded and timed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mesh/container_of.h"
#include "mesh/log.h"
#include "mesh/logfile.h"
#include "mesh/logwrite.h"
#include "mesh/outlog.h"

_Static_assert(OUTLOG_LINE_MAX <= LOGFILE_TEXT_MAX, "a line outlog shows fits the log file");

static struct {
	unsigned        width;
	outlog_sink_fn *sink;
	void           *arg;
	char           *ring[OUTLOG_RING];
	size_t          ringlen[OUTLOG_RING];
	unsigned        head;     /* next slot */
	unsigned        count;
	/* log files followed (outlog_pipe with is_file) */
	struct ev_loop     *loop;
	int                 ifd;      /* inotify; -1 none (the sweep polls faster) */
	ev_io               iio;
	ev_timer            sweep;
	struct outlog_pipe *files;
	int                 nopunch;  /* the file system cannot punch holes */
} ol = { .ifd = -1 };

static void outlog_unfollow(struct outlog_pipe *p);

void
outlog_init(unsigned width, outlog_sink_fn *sink, void *arg)
{
	ol.width = width;
	ol.sink = sink;
	ol.arg = arg;
}

void
outlog_set_sink(outlog_sink_fn *sink, void *arg)
{
	ol.sink = sink;
	ol.arg = arg;
}

void
outlog_free(void)
{
	unsigned i;

	for (i = 0; i < OUTLOG_RING; i++) {
		free(ol.ring[i]);
		ol.ring[i] = NULL;
	}
	ol.count = ol.head = 0;
	ol.sink = NULL;
	while (ol.files != NULL)
		outlog_unfollow(ol.files);
	if (ol.loop != NULL) {
		ev_timer_stop(ol.loop, &ol.sweep);
		if (ol.ifd != -1) {
			ev_io_stop(ol.loop, &ol.iio);
			close(ol.ifd);
		}
	}
	ol.ifd = -1;
	ol.loop = NULL;
}

/* A line to the log file, the sink and the ring; to stdout unless quiet. */
static void
outlog_put(const char *name, const char *text, size_t len, int quiet)
{
	char *line;
	int n;

	if (len > OUTLOG_LINE_MAX)
		len = OUTLOG_LINE_MAX;
	logwrite_line(name, text, len);
	n = asprintf(&line, "%-*s | %.*s", (int)ol.width, name, (int)len, text);
	if (n < 0)
		return;
	if (!quiet) {
		/* stdout may be a closed pipe (SIGPIPE is ignored): keep going */
		fwrite(line, 1, (size_t)n, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	if (ol.sink != NULL)
		ol.sink(ol.arg, line, (size_t)n);
	free(ol.ring[ol.head]);
	ol.ring[ol.head] = line;
	ol.ringlen[ol.head] = (size_t)n;
	ol.head = (ol.head + 1) % OUTLOG_RING;
	if (ol.count < OUTLOG_RING)
		ol.count++;
}

void
outlog_line(const char *name, const char *text, size_t len)
{
	outlog_put(name, text, len, 0);
}

void
outlog_event(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	outlog_line("meshd", msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

void
outlog_ring(outlog_sink_fn *fn, void *arg)
{
	unsigned i, start = (ol.head + OUTLOG_RING - ol.count) % OUTLOG_RING;

	for (i = 0; i < ol.count; i++) {
		unsigned k = (start + i) % OUTLOG_RING;

		fn(arg, ol.ring[k], ol.ringlen[k]);
	}
}

void
outlog_pipe_init(struct outlog_pipe *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->wd = -1;
	p->name = name;
}

void
outlog_pipe_fields(struct outlog_pipe *p, const char *ident, const char *service,
    unsigned index)
{
	p->ident = ident;
	p->service = service;
	snprintf(p->instance, sizeof(p->instance), "%u", index);
}

static void
outlog_pipe_emit(struct outlog_pipe *p, const char *s, size_t len)
{
	size_t t = len < OUTLOG_TAIL_MAX - 1 ? len : OUTLOG_TAIL_MAX - 1;
	char *slot = p->tail[p->ntail % OUTLOG_TAIL];

	memcpy(slot, s, t);
	slot[t] = '\0';
	p->ntail++;
	/*
	 * Under systemd our stdout is the journal: a child's line goes there
	 * as an entry of its own, with its MESH_SERVICE / MESH_INSTANCE (and
	 * its level when it wrote our "PROG: LEVEL: " form), not as a line of
	 * meshd's.  Should the journal refuse it, log_relay prints it plain.
	 */
	if (p->service != NULL && log_journal()) {
		log_relay(log_line_level(s, len, LOG_LVL_INFO), p->ident, p->service,
		    p->instance, s, len);
		outlog_put(p->name, s, len, 1);
		return;
	}
	outlog_line(p->name, s, len);
}

/* Emit every whole line in buf; a full buffer without newline is a line. */
static void
outlog_pipe_lines(struct outlog_pipe *p)
{
	size_t start = 0;
	char *nl;

	while ((nl = memchr(p->buf + start, '\n', p->len - start)) != NULL) {
		size_t l = (size_t)(nl - (p->buf + start));

		if (l > 0 && p->buf[start + l - 1] == '\r')
			outlog_pipe_emit(p, p->buf + start, l - 1);
		else
			outlog_pipe_emit(p, p->buf + start, l);
		start += l + 1;
	}
	if (start == 0 && p->len == sizeof(p->buf)) {
		outlog_pipe_emit(p, p->buf, p->len);
		start = p->len;
	}
	memmove(p->buf, p->buf + start, p->len - start);
	p->len -= start;
}

/* n new bytes at buf + len: drop what p->skip says, then emit lines. */
static void
outlog_pipe_got(struct outlog_pipe *p, size_t n)
{
	char *s = p->buf + p->len, *nl;
	size_t k = 0;

	if (p->skip == 1) {
		/* the zeroed rest of a block punched out part way */
		while (k < n && s[k] == '\0')
			k++;
		if (k < n)
			p->skip = 0;
	} else if (p->skip == 2) {
		/* after a skip: resume at a line's start */
		nl = memchr(s, '\n', n);
		k = nl != NULL ? (size_t)(nl - s) + 1 : n;
		if (nl != NULL)
			p->skip = 0;
	}
	if (k > 0)
		memmove(s, s + k, n - k);
	p->len += n - k;
	outlog_pipe_lines(p);
}

/*
 * Punch out what was read of a log file (not the partial line still in
 * buf): once OUTLOG_PUNCH piled up, or any amount when forced.  Where
 * holes cannot be punched, a file read to its end and past
 * OUTLOG_FILE_CAP is truncated instead (a line written between the
 * fstat and the ftruncate is lost: the file system's limit).
 */
static void
outlog_file_punch(struct outlog_pipe *p, int force)
{
	off_t cur = lseek(p->fd, 0, SEEK_CUR);
	long long done = (long long)cur - (long long)p->len;
	struct stat st;

	if (cur == -1 || done <= p->punched || (!force && done - p->punched < OUTLOG_PUNCH))
		return;
	if (!ol.nopunch) {
		if (fallocate(p->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		    (off_t)p->punched, (off_t)(done - p->punched)) == 0) {
			p->punched = done;
			return;
		}
		if (errno != EOPNOTSUPP && errno != ENOSYS)
			return;
		ol.nopunch = 1;
		outlog_event("log files: cannot punch holes (%s): each is truncated "
		    "once read past %u bytes", strerror(errno), OUTLOG_FILE_CAP);
	}
	if (p->len == 0 && cur >= (off_t)OUTLOG_FILE_CAP && fstat(p->fd, &st) == 0 &&
	    st.st_size == cur && ftruncate(p->fd, 0) == 0) {
		lseek(p->fd, 0, SEEK_SET);
		p->punched = 0;
	}
}

/* Read until EAGAIN (a pipe) or the end (a file); 1 on EOF of a pipe or error. */
static int
outlog_pipe_read(struct outlog_pipe *p)
{
	for (;;) {
		ssize_t n = read(p->fd, p->buf + p->len, sizeof(p->buf) - p->len);

		if (n > 0) {
			outlog_pipe_got(p, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0 && p->is_file) {
			outlog_file_punch(p, 0);
			return 0;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return 1;
	}
}

static void
outlog_file_read(struct ev_loop *loop, struct outlog_pipe *p)
{
	if (outlog_pipe_read(p))
		outlog_pipe_close(p, loop);
}

/* Every followed file: read, and punch out whatever was read. */
static void
outlog_sweep_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct outlog_pipe *p, *next;

	(void)w;
	(void)revents;
	for (p = ol.files; p != NULL; p = next) {
		next = p->next;
		outlog_file_read(loop, p);
		if (p->fd != -1)
			outlog_file_punch(p, 1);
	}
}

static void
outlog_inotify_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)w;
	(void)revents;
	while ((n = read(ol.ifd, buf, sizeof(buf))) > 0) {
		char *q = buf;

		while (q < buf + n) {
			const struct inotify_event *ev = (const void *)q;
			struct outlog_pipe *p;

			q += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				outlog_sweep_cb(loop, &ol.sweep, 0);
				continue;
			}
			for (p = ol.files; p != NULL && p->wd != ev->wd; p = p->next)
				;
			if (p != NULL)
				outlog_file_read(loop, p);
		}
	}
}

/* Start following p's file: inotify on it, the sweep timer, a first read. */
static void
outlog_follow(struct outlog_pipe *p, struct ev_loop *loop)
{
	char path[64];

	if (ol.loop == NULL) {
		ol.loop = loop;
		if ((ol.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) != -1) {
			ev_io_init(&ol.iio, outlog_inotify_cb, ol.ifd, EV_READ);
			ev_io_start(loop, &ol.iio);
		}
		ev_init(&ol.sweep, outlog_sweep_cb);
		ol.sweep.repeat = ol.ifd != -1 ? OUTLOG_SWEEP : 0.1;
	}
	p->wd = -1;
	if (ol.ifd != -1) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", p->fd);
		p->wd = inotify_add_watch(ol.ifd, path, IN_MODIFY);
	}
	if (p->wd == -1)
		ol.sweep.repeat = 0.1;   /* no event for this one: poll it closely */
	p->next = ol.files;
	ol.files = p;
	if (!ev_is_active(&ol.sweep))
		ev_timer_again(loop, &ol.sweep);
	outlog_file_read(loop, p);
}

static void
outlog_unfollow(struct outlog_pipe *p)
{
	struct outlog_pipe **pp;

	for (pp = &ol.files; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	p->next = NULL;
	if (p->wd != -1 && ol.ifd != -1)
		inotify_rm_watch(ol.ifd, p->wd);
	p->wd = -1;
	if (ol.files == NULL && ol.loop != NULL)
		ev_timer_stop(ol.loop, &ol.sweep);
}

/* A log file: from its first byte not punched out, at most OUTLOG_CATCHUP
 * before its end. */
static void
outlog_file_open(struct outlog_pipe *p, struct ev_loop *loop, const struct stat *st)
{
	off_t data = lseek(p->fd, 0, SEEK_DATA), from;

	if (data == -1)
		data = errno == ENXIO ? st->st_size : 0;
	from = data;
	p->is_file = 1;
	p->skip = 1;
	if (st->st_size - data > (off_t)OUTLOG_CATCHUP) {
		char msg[160];
		int n;

		from = st->st_size - (off_t)OUTLOG_CATCHUP;
		n = snprintf(msg, sizeof(msg), "[%lld bytes of output nobody read skipped]",
		    (long long)(from - data));
		outlog_line(p->name, msg, (size_t)n);
		p->skip = 2;
	}
	p->punched = (long long)data;
	if (lseek(p->fd, from, SEEK_SET) == -1)
		lseek(p->fd, 0, SEEK_END);
	outlog_follow(p, loop);
}

static void
outlog_pipe_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct outlog_pipe *p = container_of(w, struct outlog_pipe, io);

	(void)revents;
	if (outlog_pipe_read(p))
		outlog_pipe_close(p, loop);
}

void
outlog_pipe_open(struct outlog_pipe *p, struct ev_loop *loop, int fd)
{
	struct stat st;
	int fl;

	p->fd = fd;
	p->len = 0;
	p->is_file = 0;
	p->skip = 0;
	p->punched = 0;
	p->wd = -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		outlog_file_open(p, loop, &st);
		return;
	}
	if ((fl = fcntl(fd, F_GETFL)) != -1)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	ev_io_init(&p->io, outlog_pipe_cb, fd, EV_READ);
	ev_io_start(loop, &p->io);
}

void
outlog_pipe_close(struct outlog_pipe *p, struct ev_loop *loop)
{
	if (p->fd == -1)
		return;
	if (p->is_file)
		outlog_unfollow(p);
	else
		ev_io_stop(loop, &p->io);
	outlog_pipe_read(p);
	if (p->len > 0)
		outlog_pipe_emit(p, p->buf, p->len);
	p->len = 0;
	close(p->fd);
	p->fd = -1;
}

void
outlog_pipe_tail(const struct outlog_pipe *p, char *buf, size_t size)
{
	unsigned n = p->ntail < OUTLOG_TAIL ? p->ntail : OUTLOG_TAIL, i;
	size_t off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < size; i++) {
		const char *s = p->tail[(p->ntail - n + i) % OUTLOG_TAIL];
		int w = snprintf(buf + off, size - off, "%s%s", i ? "; " : "", s);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}
