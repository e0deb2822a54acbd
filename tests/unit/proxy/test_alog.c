/* SPDX-License-Identifier: ISC */
/*
 * alog: the line against a golden string, escaping of every kind of byte
 * (random fields too, each line checked by a small JSON + UTF-8 checker),
 * the worst-case line length, drops counted exactly against a pipe nobody
 * reads, write errors, a file target flushed through an ev loop and
 * reopened after a rename (rotation).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ev.h>

#include "mesh/alog.h"
#include "mesh/stats.h"

/* --- a tiny checker: one flat JSON object, valid UTF-8, one '\n' ------- */

/* Length of the UTF-8 sequence at s (a plain decoder, independent of
 * alog's table), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1fu;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0fu;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07u;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A JSON string at *p; its key name copied into key (if not NULL). */
static int
json_string(const char **p, const char *end, char *key, size_t keylen)
{
	const char *s = *p;
	size_t k = 0;

	if (s >= end || *s++ != '"')
		return -1;
	while (s < end && *s != '"') {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20)
			return -1;
		if (c == '\\') {
			if (++s >= end)
				return -1;
			if (*s == 'u') {
				int i;

				for (i = 1; i <= 4; i++)
					if (s + i >= end || strchr("0123456789abcdefABCDEF", s[i]) == NULL)
						return -1;
				s += 5;
			} else if (strchr("\"\\/bfnrt", *s) != NULL)
				s++;
			else
				return -1;
			continue;
		}
		if (key != NULL && k + 1 < keylen)
			key[k++] = *s;
		s++;
	}
	if (s >= end)
		return -1;
	if (key != NULL)
		key[k] = '\0';
	*p = s + 1;
	return 0;
}

static const char *const keys[] = {
	"time", "service", "instance", "direction", "method", "authority", "path",
	"status", "duration_us", "upstream", "retries", "flags", "trace_id",
	"bytes_in", "bytes_out", "grpc_status",
};

/* 0 when line[0..n) is one object with exactly `keys` in order + '\n'. */
static int
json_check(const char *line, size_t n)
{
	const char *p = line, *end = line + n - 1;
	size_t i, k = 0;

	if (n < 3 || line[n - 1] != '\n' || memchr(line, '\n', n - 1) != NULL)
		return -1;
	for (i = 0; i < n;) {
		size_t u = utf8_seq((const unsigned char *)line + i, n - i);

		if (u == 0)
			return -2;
		i += u;
	}
	if (*p++ != '{')
		return -3;
	for (;;) {
		char key[32];

		if (json_string(&p, end, key, sizeof(key)) == -1)
			return -4;
		if (k >= sizeof(keys) / sizeof(keys[0]) || strcmp(key, keys[k++]) != 0)
			return -5;
		if (p >= end || *p++ != ':')
			return -6;
		if (p < end && *p == '"') {
			if (json_string(&p, end, NULL, 0) == -1)
				return -7;
		} else if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
			p += 4;
		} else {
			const char *d = p;

			while (p < end && *p >= '0' && *p <= '9')
				p++;
			if (p == d || (p - d > 1 && *d == '0'))
				return -8;
		}
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		break;
	}
	if (p >= end || *p++ != '}' || p != end)
		return -9;
	return k == sizeof(keys) / sizeof(keys[0]) ? 0 : -10;
}

/* --- fixtures ------------------------------------------------------------ */

static void
span_fill(struct stats_span_rec *s)
{
	static const uint8_t tid[16] = {
		0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
		0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36,
	};

	memset(s, 0, sizeof(*s));
	memcpy(s->trace_id, tid, sizeof(tid));
	s->start_ns = 1738324800123456789ull;   /* 2025-01-31T12:00:00.123456789Z */
	s->duration_us = 1532;
	s->kind = STATS_SPAN_CLIENT;
	s->status = 200;
	s->retries = 2;
	s->flags = STATS_SF_SAMPLED;
	strcpy(s->service, "web");
	strcpy(s->version, "v1");
	strcpy(s->instance, "web@v1.0");
	strcpy(s->peer, "api");
	strcpy(s->upstream, "v2.1");
	strcpy(s->method, "GET");
	strcpy(s->authority, "api:80");
	strcpy(s->path, "/users?id=1");
}

static size_t
fmt(char *out, const struct stats_span_rec *s, enum stats_dir d)
{
	size_t n = alog_format(out, ALOG_LINE_MAX, s, d, 17, 512);

	assert_true(n > 0 && n < ALOG_LINE_MAX);
	out[n] = '\0';
	return n;
}

/* --- formatting ------------------------------------------------------------ */

static void
test_golden(void **state)
{
	struct stats_span_rec s;
	char out[ALOG_LINE_MAX + 1];
	size_t n;

	(void)state;
	span_fill(&s);
	n = fmt(out, &s, STATS_OUT);
	assert_string_equal(out,
	    "{\"time\":\"2025-01-31T12:00:00.123456Z\",\"service\":\"web\","
	    "\"instance\":\"web@v1.0\",\"direction\":\"outbound\",\"method\":\"GET\","
	    "\"authority\":\"api:80\",\"path\":\"/users?id=1\",\"status\":200,"
	    "\"duration_us\":1532,\"upstream\":\"v2.1\",\"retries\":2,\"flags\":\"-\","
	    "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"bytes_in\":17,"
	    "\"bytes_out\":512,\"grpc_status\":null}\n");
	assert_int_equal(json_check(out, n), 0);

	/* a gRPC call: its status, 0 included */
	s.flags |= STATS_SF_GRPC;
	s.grpc_status = 14;
	n = fmt(out, &s, STATS_OUT);
	assert_int_equal(json_check(out, n), 0);
	assert_non_null(strstr(out, ",\"grpc_status\":14}\n"));
	s.grpc_status = 0;
	n = fmt(out, &s, STATS_OUT);
	assert_non_null(strstr(out, ",\"grpc_status\":0}\n"));
	s.flags &= ~STATS_SF_GRPC;

	/* inbound, no trace, no upstream, every flag, status 0, epoch */
	memset(s.trace_id, 0, sizeof(s.trace_id));
	s.upstream[0] = '\0';
	s.flags = 0x1ffu;
	s.status = 0;
	s.start_ns = 999;
	n = fmt(out, &s, STATS_IN);
	assert_int_equal(json_check(out, n), 0);
	assert_non_null(strstr(out, "\"time\":\"1970-01-01T00:00:00.000000Z\""));
	assert_non_null(strstr(out, "\"direction\":\"inbound\""));
	assert_non_null(strstr(out, "\"flags\":\"UH,UF,UO,UT,NR,UR,FI,DI\","));
	assert_non_null(strstr(out, "\"trace_id\":\"\","));
	assert_non_null(strstr(out, "\"upstream\":\"\","));
	assert_non_null(strstr(out, "\"status\":0,"));
	s.flags = STATS_SF_UT | STATS_SF_UH;
	n = fmt(out, &s, STATS_IN);
	assert_non_null(strstr(out, "\"flags\":\"UH,UT\","));

	/* too small a buffer: 0, not a cut line */
	assert_int_equal(alog_format(out, 40, &s, STATS_IN, 0, 0), 0);
	assert_int_equal(alog_format(out, n - 1, &s, STATS_IN, 17, 512), 0);
	assert_int_equal(alog_format(out, n, &s, STATS_IN, 17, 512), n);
}

static void
test_escaping(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "/a\"b\\c", "\"/a\\\"b\\\\c\"" },
		{ "/\n\r\t", "\"/\\n\\r\\t\"" },
		{ "/\x01\x1f\x7f", "\"/\\u0001\\u001f\\u007f\"" },
		{ "/caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80", "\"/caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80\"" },
		{ "/\x80", "\"/\\ufffd\"" },                         /* lone continuation */
		{ "/\xc0\xaf", "\"/\\ufffd\\ufffd\"" },               /* overlong '/' */
		{ "/\xe0\x80\xaf", "\"/\\ufffd\\ufffd\\ufffd\"" },    /* overlong 3 */
		{ "/\xed\xa0\x80", "\"/\\ufffd\\ufffd\\ufffd\"" },    /* surrogate */
		{ "/\xf4\x90\x80\x80", "\"/\\ufffd\\ufffd\\ufffd\\ufffd\"" }, /* > U+10FFFF */
		{ "/\xf5", "\"/\\ufffd\"" },
		{ "/\xe2\x82", "\"/\\ufffd\\ufffd\"" },               /* cut at the end */
		{ "/\xe2\x82x", "\"/\\ufffd\\ufffdx\"" },
		{ "/\xc3\xa9\xff\xc3\xa9", "\"/\xc3\xa9\\ufffd\xc3\xa9\"" },
	};
	struct stats_span_rec s;
	char out[ALOG_LINE_MAX + 1], want[256];
	size_t i, n;

	(void)state;
	span_fill(&s);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(s.path, 0, sizeof(s.path));
		strcpy(s.path, cases[i].in);
		n = fmt(out, &s, STATS_OUT);
		snprintf(want, sizeof(want), "\"path\":%s,", cases[i].out);
		if (strstr(out, want) == NULL)
			fail_msg("case %zu: want %s in %s", i, want, out);
		assert_int_equal(json_check(out, n), 0);
	}
	/* a full field has no NUL: exactly its size is read, not past it */
	memset(s.method, 'M', sizeof(s.method));
	n = fmt(out, &s, STATS_OUT);
	assert_non_null(strstr(out, "\"method\":\"MMMMMMMMMMMMMMMM\","));
	assert_int_equal(json_check(out, n), 0);
}

static void
test_worst_case_and_random(void **state)
{
	struct stats_span_rec s;
	char out[ALOG_LINE_MAX + 1];
	unsigned i, seed = 1;
	size_t n, j;

	(void)state;
	/* every string byte becomes six: still far below ALOG_LINE_MAX */
	memset(&s, 0xff, sizeof(s));
	n = fmt(out, &s, STATS_OUT);
	assert_true(n < 3000);
	assert_true(n <= PIPE_BUF);
	assert_int_equal(json_check(out, n), 0);
	memset(&s, 0x01, sizeof(s));
	n = fmt(out, &s, STATS_IN);
	assert_int_equal(json_check(out, n), 0);

	for (i = 0; i < 2000; i++) {
		unsigned char *b = (unsigned char *)&s;

		for (j = 0; j < sizeof(s); j++) {
			seed = seed * 1103515245u + 12345u;
			b[j] = (unsigned char)(seed >> 16);
			/* some runs of printable text and valid sequences */
			if (b[j] % 3 == 0)
				b[j] = (unsigned char)('a' + b[j] % 26);
		}
		n = fmt(out, &s, (i & 1) ? STATS_IN : STATS_OUT);
		if (json_check(out, n) != 0)
			fail_msg("random line %u: check %d: %s", i, json_check(out, n), out);
	}
}

/* --- the writer ------------------------------------------------------------- */

/* Run the loop without waiting until nothing is pending (bounded). */
static void
drain(struct ev_loop *loop)
{
	int i;

	for (i = 0; i < 1000 && alog_pending() > 0; i++)
		ev_run(loop, EVRUN_NOWAIT);
}

static size_t
read_all(int fd, char *buf, size_t size, size_t have)
{
	ssize_t r;

	while (have < size && (r = read(fd, buf + have, size - have)) > 0)
		have += (size_t)r;
	return have;
}

/* Count lines in buf, checking each. */
static unsigned
check_lines(const char *buf, size_t n)
{
	const char *p = buf, *nl;
	unsigned lines = 0;

	while (n > 0 && (nl = memchr(p, '\n', n)) != NULL) {
		size_t l = (size_t)(nl + 1 - p);

		if (json_check(p, l) != 0)
			fail_msg("line %u is broken: %.*s", lines, (int)l, p);
		lines++;
		n -= l;
		p += l;
	}
	assert_int_equal(n, 0);   /* no partial line */
	return lines;
}

static void
test_pipe_drops(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct stats_span_rec s;
	char err[256];
	int p[2];
	unsigned i, lines, total = 3000;
	uint64_t dropped0 = alog_dropped();
	size_t cap = 4u << 20, have;
	char *buf = malloc(cap);

	(void)state;
	assert_non_null(loop);
	assert_non_null(buf);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(alog_open(loop, ALOG_FD, NULL, p[1], err, sizeof(err)), 0);
	assert_int_equal(alog_target(), ALOG_FD);
	/* our own description is non-blocking; the caller's is left alone */
	assert_int_equal(fcntl(p[1], F_GETFL) & O_NONBLOCK, 0);
	assert_int_equal(alog_open(loop, ALOG_FD, NULL, p[1], err, sizeof(err)), 0); /* same: no-op */

	span_fill(&s);
	for (i = 0; i < total; i++) {
		snprintf(s.path, sizeof(s.path), "/req/%u", i);
		alog_request(&s, STATS_OUT, i, i);
		if (i % 16 == 0)
			ev_run(loop, EVRUN_NOWAIT);
	}
	/* nobody read: the pipe and the buffer are full, the rest dropped */
	assert_true(alog_dropped() - dropped0 > 0);
	assert_true(alog_pending() > ALOG_BUF_SIZE / 2);

	/* now read: what was kept arrives whole, and kept + dropped = total */
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	have = 0;
	for (i = 0; i < 10000 && (alog_pending() > 0 || i == 0); i++) {
		have = read_all(p[0], buf, cap, have);
		ev_run(loop, EVRUN_NOWAIT);
	}
	have = read_all(p[0], buf, cap, have);
	assert_int_equal(alog_pending(), 0);
	lines = check_lines(buf, have);
	assert_int_equal(lines + (alog_dropped() - dropped0), total);
	/* the first line made it; order is kept */
	assert_non_null(strstr(buf, "\"path\":\"/req/0\","));

	alog_close();
	assert_int_equal(alog_target(), ALOG_OFF);
	alog_request(&s, STATS_OUT, 0, 0);      /* off: nothing, no crash */
	close(p[0]);
	close(p[1]);
	free(buf);
	ev_loop_destroy(loop);
}

static void
test_write_error(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct stats_span_rec s;
	char err[256];
	int p[2];
	uint64_t d0;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(alog_open(loop, ALOG_FD, NULL, p[1], err, sizeof(err)), 0);
	close(p[0]);                             /* EPIPE from now on */
	span_fill(&s);
	d0 = alog_dropped();
	alog_request(&s, STATS_IN, 0, 0);
	alog_request(&s, STATS_IN, 0, 0);
	drain(loop);
	assert_int_equal(alog_pending(), 0);
	assert_int_equal(alog_dropped() - d0, 2);
	/* close with lines pending counts them too */
	alog_request(&s, STATS_IN, 0, 0);
	alog_close();
	assert_int_equal(alog_dropped() - d0, 3);
	close(p[1]);
	ev_loop_destroy(loop);
}

static char *
slurp(const char *path, size_t *n)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY);

	assert_true(fd != -1);
	*n = read_all(fd, buf, sizeof(buf) - 1, 0);
	buf[*n] = '\0';
	close(fd);
	return buf;
}

static void
test_file_and_reopen(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct stats_span_rec s;
	char dir[] = "/tmp/test_alog.XXXXXX", path[256], rotated[256], rotated2[256], err[256];
	struct stat st;
	mode_t um;
	char *text;
	size_t n;
	unsigned i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/access.log", dir);
	snprintf(rotated, sizeof(rotated), "%s/access.log.1", dir);
	snprintf(rotated2, sizeof(rotated2), "%s/access.log.2", dir);
	span_fill(&s);

	/* a missing directory: an error naming the path */
	assert_int_equal(alog_open(loop, ALOG_FILE, "/nonexistent/dir/a.log", -1,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/dir/a.log"));
	assert_int_equal(alog_target(), ALOG_OFF);
	assert_int_equal(alog_open(loop, ALOG_FILE, NULL, -1, err, sizeof(err)), -1);
	assert_int_equal(alog_open(loop, ALOG_FD, NULL, -1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "fd -1"));
	assert_int_equal(alog_target(), ALOG_OFF);

	assert_int_equal(alog_open(loop, ALOG_FILE, path, -1, err, sizeof(err)), 0);
	/* the same file again: a no-op */
	assert_int_equal(alog_open(loop, ALOG_FILE, path, -1, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	um = umask(0);
	umask(um);
	assert_int_equal(st.st_mode & 0777, 0640 & ~um);
	for (i = 0; i < 10; i++)
		alog_request(&s, STATS_OUT, i, 0);
	/* nothing written until the loop runs */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	drain(loop);
	text = slurp(path, &n);
	assert_int_equal(check_lines(text, n), 10);

	/* rotation: rename, reopen, new lines go to a new file */
	assert_int_equal(rename(path, rotated), 0);
	alog_request(&s, STATS_OUT, 99, 0);      /* pending at the reopen */
	assert_int_equal(alog_reopen(), 0);
	alog_request(&s, STATS_OUT, 100, 0);
	drain(loop);
	text = slurp(rotated, &n);
	assert_int_equal(check_lines(text, n), 11);
	text = slurp(path, &n);
	assert_int_equal(check_lines(text, n), 1);
	assert_non_null(strstr(text, "\"bytes_in\":100,"));

	/* a reopen that fails (the path is now a directory) keeps the old file */
	assert_int_equal(rename(path, rotated2), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(alog_reopen(), -1);
	alog_request(&s, STATS_OUT, 101, 0);
	drain(loop);
	assert_int_equal(alog_pending(), 0);
	text = slurp(rotated2, &n);
	assert_int_equal(check_lines(text, n), 2);
	assert_non_null(strstr(text, "\"bytes_in\":101,"));
	assert_int_equal(rmdir(path), 0);
	alog_close();
	unlink(path);
	unlink(rotated);
	unlink(rotated2);
	rmdir(dir);
	ev_loop_destroy(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_worst_case_and_random),
		cmocka_unit_test(test_pipe_drops),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_file_and_reopen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
