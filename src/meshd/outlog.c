/* SPDX-License-Identifier: ISC */
/*
 * outlog: prefixed lines on stdout, the ring, and children's pipes (see
 * include/mesh/outlog.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/container_of.h"
#include "mesh/outlog.h"

static struct {
	unsigned        width;
	outlog_sink_fn *sink;
	void           *arg;
	char           *ring[OUTLOG_RING];
	size_t          ringlen[OUTLOG_RING];
	unsigned        head;     /* next slot */
	unsigned        count;
} ol;

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
}

void
outlog_line(const char *name, const char *text, size_t len)
{
	char *line;
	int n;

	if (len > OUTLOG_LINE_MAX)
		len = OUTLOG_LINE_MAX;
	n = asprintf(&line, "%-*s | %.*s", (int)ol.width, name, (int)len, text);
	if (n < 0)
		return;
	/* stdout may be a closed pipe (SIGPIPE is ignored): keep going */
	fwrite(line, 1, (size_t)n, stdout);
	fputc('\n', stdout);
	fflush(stdout);
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
	p->name = name;
}

static void
outlog_pipe_emit(struct outlog_pipe *p, const char *s, size_t len)
{
	size_t t = len < OUTLOG_TAIL_MAX - 1 ? len : OUTLOG_TAIL_MAX - 1;
	char *slot = p->tail[p->ntail % OUTLOG_TAIL];

	memcpy(slot, s, t);
	slot[t] = '\0';
	p->ntail++;
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

/* Read until EAGAIN; 1 on EOF or error. */
static int
outlog_pipe_read(struct outlog_pipe *p)
{
	for (;;) {
		ssize_t n = read(p->fd, p->buf + p->len, sizeof(p->buf) - p->len);

		if (n > 0) {
			p->len += (size_t)n;
			outlog_pipe_lines(p);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return 1;
	}
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
	int fl = fcntl(fd, F_GETFL);

	if (fl != -1)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	p->fd = fd;
	p->len = 0;
	ev_io_init(&p->io, outlog_pipe_cb, fd, EV_READ);
	ev_io_start(loop, &p->io);
}

void
outlog_pipe_close(struct outlog_pipe *p, struct ev_loop *loop)
{
	if (p->fd == -1)
		return;
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
