/* SPDX-License-Identifier: ISC */
/*
 * otlp_sink: a tiny OTLP/HTTP collector for the tracing tests.
 *
 *   otlp_sink --port P --out FILE [--status N]
 *
 * Listens on 127.0.0.1:P.  Each `POST /v1/traces` with a Content-Length
 * body (at most SINK_BODY_MAX bytes) is appended to FILE as one line (a
 * raw CR or LF in the body becomes a space, so one body is one line;
 * flushed at once) and answered `200` with the body `{}` (or status N
 * with --status, and then nothing is written: a failing collector).
 * Anything else gets 404, 405, 411 or 413.  HTTP/1.1 keep-alive, several
 * clients at once (poll), no chunked request bodies.  Exits 0 on SIGTERM
 * or SIGINT.
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define SINK_CONNS    16
#define SINK_HEAD_MAX (16 * 1024)
#define SINK_BODY_MAX (16 * 1024 * 1024)

struct sink_conn {
	int    fd;
	char  *buf;          /* head + body of the request being read */
	size_t len, cap;
};

static volatile sig_atomic_t stop;
static FILE *out;
static int answer = 200;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
conn_close(struct sink_conn *c)
{
	close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static int
reply(struct sink_conn *c, int status, const char *body, int close_after)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n%s\r\n%s", status, status == 200 ? "OK" : "Error",
	    strlen(body), close_after ? "Connection: close\r\n" : "", body);

	/* small: one write on a blocking socket is enough */
	return write(c->fd, head, (size_t)n) == n && !close_after ? 0 : -1;
}

/* One complete request at c->buf[0..used): 0 keep going, -1 close. */
static int
serve(struct sink_conn *c, size_t hl, size_t clen)
{
	char method[16] = "", path[256] = "";
	size_t i;

	if (sscanf(c->buf, "%15s %255s", method, path) != 2)
		return reply(c, 400, "{}", 1);
	if (strcmp(path, "/v1/traces") != 0)
		return reply(c, 404, "{}", 0);
	if (strcmp(method, "POST") != 0)
		return reply(c, 405, "{}", 0);
	if (answer != 200)
		return reply(c, answer, "{}", 0);
	for (i = hl; i < hl + clen; i++)
		if (c->buf[i] == '\n' || c->buf[i] == '\r')
			c->buf[i] = ' ';
	fwrite(c->buf + hl, 1, clen, out);
	fputc('\n', out);
	fflush(out);
	return reply(c, 200, "{}", 0);
}

/* Read what is there; serve every complete request. 0 / -1 (close). */
static int
conn_read(struct sink_conn *c)
{
	ssize_t n;

	if (c->cap - c->len < 4096) {
		size_t cap = c->cap != 0 ? c->cap * 2 : 65536;
		char *p;

		if (cap > SINK_HEAD_MAX + SINK_BODY_MAX + 1)
			return -1;
		if ((p = realloc(c->buf, cap)) == NULL)
			return -1;
		c->buf = p;
		c->cap = cap;
	}
	n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
	if (n <= 0)
		return n == -1 && errno == EINTR ? 0 : -1;
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	for (;;) {
		char *end = strstr(c->buf, "\r\n\r\n"), *cl;
		size_t hl, clen;

		if (end == NULL)
			return c->len > SINK_HEAD_MAX ? reply(c, 431, "{}", 1) : 0;
		hl = (size_t)(end + 4 - c->buf);
		*end = '\0';    /* search the head only */
		cl = strcasestr(c->buf, "\r\nContent-Length:");
		if (cl == NULL && strncmp(c->buf, "POST ", 5) == 0)
			return reply(c, 411, "{}", 1);
		clen = cl != NULL ? strtoul(cl + 17, NULL, 10) : 0;
		*end = '\r';
		if (clen > SINK_BODY_MAX)
			return reply(c, 413, "{}", 1);
		if (c->len < hl + clen)
			return 0;
		if (serve(c, hl, clen) == -1)
			return -1;
		memmove(c->buf, c->buf + hl + clen, c->len - hl - clen);
		c->len -= hl + clen;
		c->buf[c->len] = '\0';
	}
}

int
main(int argc, char **argv)
{
	struct sink_conn conns[SINK_CONNS];
	struct pollfd pfd[SINK_CONNS + 1];
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sigaction sa;
	const char *file = NULL;
	int port = 0, lfd, one = 1, i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--port") == 0)
			port = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--out") == 0)
			file = argv[i + 1];
		else if (strcmp(argv[i], "--status") == 0)
			answer = atoi(argv[i + 1]);
		else
			break;
	}
	if (i != argc || port <= 0 || port > 65535 || file == NULL || answer < 200 || answer > 599) {
		fprintf(stderr, "usage: otlp_sink --port P --out FILE [--status N]\n");
		return 2;
	}
	if ((out = fopen(file, "a")) == NULL) {
		fprintf(stderr, "otlp_sink: %s: %s\n", file, strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;     /* no SA_RESTART: poll returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) == -1 || listen(lfd, 16) == -1) {
		fprintf(stderr, "otlp_sink: 127.0.0.1:%d: %s\n", port, strerror(errno));
		return 1;
	}
	for (i = 0; i < SINK_CONNS; i++) {
		memset(&conns[i], 0, sizeof(conns[i]));
		conns[i].fd = -1;
	}
	printf("otlp_sink listening on 127.0.0.1:%d, writing %s\n", port, file);
	fflush(stdout);
	while (!stop) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < SINK_CONNS; i++) {
			pfd[i + 1].fd = conns[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		if (poll(pfd, SINK_CONNS + 1, 1000) == -1) {
			if (errno == EINTR)
				continue;
			perror("otlp_sink: poll");
			return 1;
		}
		for (i = 0; i < SINK_CONNS; i++)
			if (conns[i].fd != -1 && (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    conn_read(&conns[i]) == -1)
				conn_close(&conns[i]);
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			for (i = 0; fd != -1 && i < SINK_CONNS; i++)
				if (conns[i].fd == -1) {
					conns[i].fd = fd;
					fd = -1;
				}
			if (fd != -1)
				close(fd);    /* full: the client sees a reset */
		}
	}
	for (i = 0; i < SINK_CONNS; i++)
		if (conns[i].fd != -1)
			conn_close(&conns[i]);
	close(lfd);
	fclose(out);
	return 0;
}
