/* SPDX-License-Identifier: ISC */
/*
 * alog: the access log (see include/mesh/alog.h for the line, the
 * escaping and the buffering contract).
 *
 * The buffer holds whole lines only, in buf[head, tail).  Appending
 * compacts it (one memmove of what is pending) only when the tail
 * reaches the end, and writes happen only from the ev_io callback, so
 * the request path costs one snprintf-sized format and one memcpy.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mesh/alog.h"
#include "mesh/json_esc.h"
#include "mesh/log.h"

static struct {
	struct ev_loop  *loop;
	ev_io            io;
	enum alog_target target;
	int              fd;            /* ours: closed by alog_close */
	int              src_fd;        /* ALOG_FD: the caller's fd */
	int              pipe;          /* writes hold <= PIPE_BUF bytes */
	int              failing;       /* a write failed; warned once */
	char             path[ALOG_PATH_MAX];
	char            *buf;           /* ALOG_BUF_SIZE bytes while open */
	size_t           head, tail;
	uint64_t         dropped;
} alog = { .fd = -1, .src_fd = -1 };

/* --- formatting ------------------------------------------------------- */

struct alog_out {
	char  *p;
	size_t len, cap;
	int    full;
};

static void
alog_put(struct alog_out *o, const char *s, size_t n)
{
	if (o->full || o->cap - o->len < n) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void
alog_puts(struct alog_out *o, const char *s)
{
	alog_put(o, s, strlen(s));
}

static void
alog_putu(struct alog_out *o, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);

	alog_put(o, tmp, (size_t)n);
}

/* A JSON string of the n bytes at s (n bounded by the span field). */
static void
alog_str(struct alog_out *o, const char *str, size_t n)
{
	size_t used, len;

	if (o->full)
		return;
	len = json_esc(o->p + o->len, o->cap - o->len, str, n, &used);
	if (len == 0 || used < n) {
		o->full = 1;   /* never a line with a string cut short */
		return;
	}
	o->len += len;
}

/* A fixed-size span field: NUL-padded, or full with no NUL at all. */
#define ALOG_FIELD(o, key, f) do { \
	alog_puts(o, ",\"" key "\":"); \
	alog_str(o, (f), strnlen((f), sizeof(f))); \
} while (0)

static void
alog_time(struct alog_out *o, uint64_t ns)
{
	char tmp[40];
	struct tm tm;
	time_t sec = (time_t)(ns / 1000000000u);
	int n;

	if (gmtime_r(&sec, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	n = snprintf(tmp, sizeof(tmp), "\"%04d-%02d-%02dT%02d:%02d:%02d.%06uZ\"",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (unsigned)(ns % 1000000000u / 1000u));
	alog_put(o, tmp, (size_t)n);
}

static void
alog_flags(struct alog_out *o, uint32_t flags)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ STATS_SF_UH, "UH" }, { STATS_SF_UF, "UF" }, { STATS_SF_UO, "UO" },
		{ STATS_SF_UT, "UT" }, { STATS_SF_NR, "NR" }, { STATS_SF_UR, "UR" },
		{ STATS_SF_FI, "FI" }, { STATS_SF_DI, "DI" },
	};
	size_t i;
	int any = 0;

	alog_put(o, "\"", 1);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].bit))
			continue;
		if (any)
			alog_put(o, ",", 1);
		alog_puts(o, names[i].name);
		any = 1;
	}
	if (!any)
		alog_put(o, "-", 1);
	alog_put(o, "\"", 1);
}

static void
alog_trace_id(struct alog_out *o, const uint8_t id[16])
{
	static const char hex[] = "0123456789abcdef";
	char tmp[34];
	size_t i;
	int zero = 1;

	for (i = 0; i < 16; i++) {
		tmp[1 + 2 * i] = hex[id[i] >> 4];
		tmp[2 + 2 * i] = hex[id[i] & 0xf];
		zero &= id[i] == 0;
	}
	if (zero) {
		alog_put(o, "\"\"", 2);
		return;
	}
	tmp[0] = tmp[33] = '"';
	alog_put(o, tmp, sizeof(tmp));
}

size_t
alog_format(char *out, size_t size, const struct stats_span_rec *s,
    enum stats_dir dir, uint64_t bytes_in, uint64_t bytes_out)
{
	struct alog_out o = { out, 0, size, 0 };

	alog_puts(&o, "{\"time\":");
	alog_time(&o, s->start_ns);
	ALOG_FIELD(&o, "service", s->service);
	ALOG_FIELD(&o, "instance", s->instance);
	alog_puts(&o, dir == STATS_IN ? ",\"direction\":\"inbound\"" :
	    ",\"direction\":\"outbound\"");
	ALOG_FIELD(&o, "method", s->method);
	ALOG_FIELD(&o, "authority", s->authority);
	ALOG_FIELD(&o, "path", s->path);
	alog_puts(&o, ",\"status\":");
	alog_putu(&o, s->status);
	alog_puts(&o, ",\"duration_us\":");
	alog_putu(&o, s->duration_us);
	ALOG_FIELD(&o, "upstream", s->upstream);
	alog_puts(&o, ",\"retries\":");
	alog_putu(&o, s->retries);
	alog_puts(&o, ",\"flags\":");
	alog_flags(&o, s->flags);
	alog_puts(&o, ",\"trace_id\":");
	alog_trace_id(&o, s->trace_id);
	alog_puts(&o, ",\"bytes_in\":");
	alog_putu(&o, bytes_in);
	alog_puts(&o, ",\"bytes_out\":");
	alog_putu(&o, bytes_out);
	alog_puts(&o, ",\"grpc_status\":");
	if (s->flags & STATS_SF_GRPC)
		alog_putu(&o, s->grpc_status);
	else
		alog_puts(&o, "null");
	alog_puts(&o, "}\n");
	return o.full ? 0 : o.len;
}

/* --- buffer and writer ------------------------------------------------- */

static uint64_t
alog_count_lines(const char *p, size_t n)
{
	uint64_t lines = 0;
	const char *nl;

	while (n > 0 && (nl = memchr(p, '\n', n)) != NULL) {
		lines++;
		n -= (size_t)(nl + 1 - p);
		p = nl + 1;
	}
	return lines;
}

/* Forget what is buffered, counting its lines as dropped. */
static void
alog_discard(void)
{
	alog.dropped += alog_count_lines(alog.buf + alog.head, alog.tail - alog.head);
	alog.head = alog.tail = 0;
}

/*
 * Write from the head until the buffer is empty or the target would
 * block.  Each write ends on a line boundary; on a pipe it holds at most
 * PIPE_BUF bytes, which a pipe takes whole or not at all.
 */
static void
alog_flush(void)
{
	while (alog.head < alog.tail) {
		size_t n = alog.tail - alog.head;
		ssize_t w;

		if (alog.pipe && n > PIPE_BUF) {
			const char *p = alog.buf + alog.head;
			const char *nl = memrchr(p, '\n', PIPE_BUF);

			/* lines are < ALOG_LINE_MAX <= PIPE_BUF: one always fits */
			n = nl != NULL ? (size_t)(nl + 1 - p) : PIPE_BUF;
		}
		w = write(alog.fd, alog.buf + alog.head, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (!alog.failing && alog.target == ALOG_FILE)
				log_warn("access log %s: write", alog.path);
			else if (!alog.failing)
				log_warn("access log (fd %d): write", alog.src_fd);
			alog.failing = 1;
			alog_discard();
			return;
		}
		alog.failing = 0;
		alog.head += (size_t)w;
	}
	alog.head = alog.tail = 0;
}

static void
alog_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	alog_flush();
	if (alog.head == alog.tail)
		ev_io_stop(loop, w);
}

void
alog_request(const struct stats_span_rec *s, enum stats_dir dir,
    uint64_t bytes_in, uint64_t bytes_out)
{
	char line[ALOG_LINE_MAX];
	size_t n;

	if (alog.target == ALOG_OFF)
		return;
	n = alog_format(line, sizeof(line), s, dir, bytes_in, bytes_out);
	if (n == 0) {
		alog.dropped++;
		return;
	}
	if (ALOG_BUF_SIZE - alog.tail < n && alog.head > 0) {
		memmove(alog.buf, alog.buf + alog.head, alog.tail - alog.head);
		alog.tail -= alog.head;
		alog.head = 0;
	}
	if (ALOG_BUF_SIZE - alog.tail < n) {
		alog.dropped++;
		return;
	}
	memcpy(alog.buf + alog.tail, line, n);
	alog.tail += n;
	if (!ev_is_active(&alog.io))
		ev_io_start(alog.loop, &alog.io);
}

uint64_t
alog_dropped(void)
{
	return alog.dropped;
}

size_t
alog_pending(void)
{
	return alog.tail - alog.head;
}

enum alog_target
alog_target(void)
{
	return alog.target;
}

/* --- targets ------------------------------------------------------------ */

static int
alog_open_path(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

/*
 * Our own non-blocking description of the caller's fd: a regular file is
 * dup'ed (O_NONBLOCK means nothing there, and reopening it would lose the
 * caller's offset); anything else is reopened through /proc so the flag
 * stays ours, or else dup'ed and made non-blocking.
 */
static int
alog_open_fd(int fd, int *is_pipe)
{
	char proc[64];
	struct stat st;
	int nfd, fl;

	if (fstat(fd, &st) == -1)
		return -1;
	*is_pipe = S_ISFIFO(st.st_mode);
	if (S_ISREG(st.st_mode))
		return fcntl(fd, F_DUPFD_CLOEXEC, 0);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	nfd = open(proc, O_WRONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (nfd != -1)
		return nfd;
	if ((nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return -1;
	if ((fl = fcntl(nfd, F_GETFL)) == -1 || fcntl(nfd, F_SETFL, fl | O_NONBLOCK) == -1) {
		close(nfd);
		return -1;
	}
	return nfd;
}

/* Point the watcher at a new fd (the buffer is kept). */
static void
alog_set_fd(int fd, int is_pipe)
{
	int active = ev_is_active(&alog.io);

	if (active)
		ev_io_stop(alog.loop, &alog.io);
	if (alog.fd != -1)
		close(alog.fd);
	alog.fd = fd;
	alog.pipe = is_pipe;
	alog.failing = 0;
	ev_io_init(&alog.io, alog_io_cb, fd, EV_WRITE);
	if (active || alog.head < alog.tail)
		ev_io_start(alog.loop, &alog.io);
}

int
alog_open(struct ev_loop *loop, enum alog_target target, const char *path, int fd,
    char *err, size_t errlen)
{
	int nfd, is_pipe = 0;

	if (target == ALOG_OFF) {
		alog_close();
		return 0;
	}
	if (alog.target == target && alog.loop == loop &&
	    (target == ALOG_FD ? alog.src_fd == fd : strcmp(alog.path, path) == 0))
		return 0;
	alog_close();
	if (target == ALOG_FILE) {
		struct stat st;

		if (path == NULL || path[0] == '\0') {
			snprintf(err, errlen, "access log: no path");
			return -1;
		}
		if (strlen(path) >= sizeof(alog.path)) {
			snprintf(err, errlen, "access log %.64s...: path longer than %u bytes",
			    path, ALOG_PATH_MAX - 1);
			return -1;
		}
		if ((nfd = alog_open_path(path)) == -1) {
			snprintf(err, errlen, "access log %s: %s", path, strerror(errno));
			return -1;
		}
		is_pipe = fstat(nfd, &st) == 0 && S_ISFIFO(st.st_mode);
		snprintf(alog.path, sizeof(alog.path), "%s", path);
	} else if ((nfd = alog_open_fd(fd, &is_pipe)) == -1) {
		snprintf(err, errlen, "access log on fd %d: %s", fd, strerror(errno));
		return -1;
	}
	if ((alog.buf = malloc(ALOG_BUF_SIZE)) == NULL) {
		snprintf(err, errlen, "access log: out of memory");
		close(nfd);
		alog.path[0] = '\0';
		return -1;
	}
	alog.loop = loop;
	alog.target = target;
	alog.src_fd = target == ALOG_FD ? fd : -1;
	alog.head = alog.tail = 0;
	alog_set_fd(nfd, is_pipe);
	return 0;
}

int
alog_reopen(void)
{
	struct stat st;
	int nfd;

	if (alog.target != ALOG_FILE)
		return 0;
	if ((nfd = alog_open_path(alog.path)) == -1) {
		log_warn("access log %s: reopen", alog.path);
		return -1;
	}
	/* what the old file still takes goes there, the rest to the new one */
	alog_flush();
	alog_set_fd(nfd, fstat(nfd, &st) == 0 && S_ISFIFO(st.st_mode));
	return 0;
}

void
alog_close(void)
{
	if (alog.target == ALOG_OFF)
		return;
	alog_flush();
	alog_discard();
	if (ev_is_active(&alog.io))
		ev_io_stop(alog.loop, &alog.io);
	close(alog.fd);
	free(alog.buf);
	alog.buf = NULL;
	alog.fd = alog.src_fd = -1;
	alog.target = ALOG_OFF;
	alog.loop = NULL;
	alog.path[0] = '\0';
	alog.failing = 0;
}
