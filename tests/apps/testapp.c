/* SPDX-License-Identifier: ISC */
/*
 * testapp: the small real server that the integration scenarios and the demo
 * put behind the mesh.  Contract (others rely on it): /work/notes/testapp.md,
 * summarised here:
 *
 *   testapp [--port P] [--name NAME] [--tcp]
 *   GET /  /whoami  /env/VAR  /bytes?n=N  /status/NNN  /delay?ms=N  /count
 *       /call?url=U  /ws (Upgrade: echo|websocket)      POST|PUT /echo
 *   /call forwards the request's traceparent and tracestate headers and
 *   answers with the upstream's status (as an app whose dependency failed
 *   would), the body "CODE upstream-body"; 502 when the call itself failed.
 *   --tcp: on connect writes "NAME\n", then echoes every byte.
 *
 * Fault injection (HTTP only; each also from the environment, so a
 * mesh.ini `command` or `env.` line can set it per version; an option wins
 * over its variable):
 *   --fail-pct N     TESTAPP_FAIL_PCT     N% of requests (0..100) answer
 *                                         --fail-status instead, once their
 *                                         body is read (so a caller's sidecar
 *                                         has sent all of it when it sees the
 *                                         failure, whatever the timing)
 *   --fail-status S  TESTAPP_FAIL_STATUS  that status, 200..599 (default 503),
 *                                         body "S\n"
 *   --delay-ms N     TESTAPP_DELAY_MS     every response waits N ms (a timer per
 *                                         connection; /echo, /bytes and /ws are
 *                                         not delayed; /delay adds its own)
 *   --reset-pct N    TESTAPP_RESET_PCT    N% of requests: the connection is reset
 *                                         (RST, SO_LINGER 0) without an answer
 *   --die-after N    TESTAPP_DIE_AFTER    exit with status 3 once N requests
 *                                         have been answered (or reset)
 *   --log-host       TESTAPP_LOG_HOST=1   each request's log line ends with
 *                                         " host=HOST body=N": its Host header
 *                                         and its body's bytes (the line waits
 *                                         for the end of the request body)
 * The shares are spread evenly and deterministically over the requests this
 * process sees (N% = exactly N of every 100 in a row), so tests can count.
 * Faulted requests are logged like others ("RST" for a reset) and counted by
 * /count.
 *
 * One thread, one libev loop, non-blocking sockets (except /call, which is
 * allowed to block).  HTTP/1.1 keep-alive; pipelined requests are answered
 * in order because a connection parses its next request only once the
 * current response is fully queued.  Streamed bodies (/echo, /bytes, raw
 * echo) are produced only while less than OUT_HIGH bytes wait to be sent,
 * and the socket is read only while the input window has room, so a 10 MB
 * echo flows through a fixed amount of memory: that is the backpressure.
 */
#include <errno.h>
#include <ev.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define IN_CAP        (64 * 1024)   /* input window: request head + body slice */
#define HEAD_MAX      (32 * 1024)   /* request line + headers */
#define TARGET_MAX    8192
#define HDR_MAX       100
#define CHUNK_LINE_MAX 1024
#define OUT_HIGH      (64 * 1024)   /* produce no more while this much is unsent */
#define CALL_MAX      (1024 * 1024) /* /call: largest upstream response kept */
#define LINGER_S      2.0           /* after a half-close, drain the peer this long */

enum conn_state {
	ST_HEAD,    /* waiting for a complete request head */
	ST_BODY,    /* consuming the request body: echoed (/echo) or discarded */
	ST_WAIT,    /* /delay: timer armed; nothing parsed until it fires */
	ST_BYTES,   /* /bytes: body produced as the socket drains */
	ST_RAW,     /* after a 101, or --tcp: echo every byte until EOF */
	ST_CLOSE,   /* flush what is queued, then half-close -> ST_LINGER */
	ST_LINGER,  /* write side shut; discard input until EOF or timeout */
};

enum body_kind { BODY_NONE, BODY_LENGTH, BODY_CHUNKED };
enum chunk_state { CH_SIZE, CH_DATA, CH_DATA_CRLF, CH_TRAILER, CH_DONE };
enum action { ACT_FIXED, ACT_ECHO, ACT_BYTES, ACT_DELAY, ACT_WS, ACT_FAIL };

struct conn {
	int              fd;
	ev_io            rio, wio;
	ev_timer         timer;       /* /delay, then linger */
	enum conn_state  st;
	bool             eof;         /* peer closed its write side */
	/* input window: bytes in[ioff .. ioff+ilen) */
	size_t           ioff, ilen;
	char             in[IN_CAP];
	/* unsent output: out[ooff .. ooff+olen), grows for fixed responses */
	char            *out;
	size_t           ooff, olen, ocap;
	/* the request being served */
	char             method[16];
	char             target[TARGET_MAX];
	int              minor;
	bool             is_head, keep_alive, chunked_out, started;
	enum action      act;
	enum body_kind   body;
	enum chunk_state chunk;
	uint64_t         left;        /* body bytes left (length or current chunk) */
	uint64_t         bytes_left, bytes_off;  /* /bytes */
	double           delay;
	char             upgrade[32];
	bool             abort;       /* --reset-pct: reset instead of answering */
	bool             deferred;    /* --delay-ms: dpath is served when the timer fires */
	char             dpath[TARGET_MAX];
	/* W3C trace context of the request, forwarded by /call as a traced
	 * app does ("" when absent or too long to be valid) */
	char             traceparent[128];
	char             tracestate[600];
	char             host[128];   /* --log-host: the Host header ("-": none) */
	uint64_t         body_seen;   /* --log-host: body bytes read so far */
	int              log_code;    /* --log-host: a log line waiting for body_done */
};

static const char *g_name;
static int g_port;
static bool g_tcp;
static bool g_log_host;
static unsigned long g_count;
static ev_io g_lio;
/* fault injection (see the top of the file) */
static unsigned g_fail_pct, g_fail_status = 503, g_delay_ms, g_reset_pct;
static unsigned long g_die_after, g_seen;
static bool g_dying;
static ev_timer g_pause;

static void conn_run(struct conn *c);

/* ---- output ------------------------------------------------------------ */

static void out_put(struct conn *c, const void *p, size_t n)
{
	if (n == 0)
		return;   /* c->out may still be NULL */
	if (c->ooff + c->olen + n > c->ocap) {
		if (c->ooff > 0) {
			memmove(c->out, c->out + c->ooff, c->olen);
			c->ooff = 0;
		}
		if (c->olen + n > c->ocap) {
			size_t cap = c->ocap ? c->ocap : 16384;
			while (cap < c->olen + n)
				cap *= 2;
			char *np = realloc(c->out, cap);
			if (np == NULL) {
				perror("testapp: realloc");
				exit(1);
			}
			c->out = np;
			c->ocap = cap;
		}
	}
	memcpy(c->out + c->ooff + c->olen, p, n);
	c->olen += n;
}

static void out_str(struct conn *c, const char *s) { out_put(c, s, strlen(s)); }

static const char *reason(int code)
{
	switch (code) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default:  return "Status";
	}
}

static void log_line(struct conn *c, int code)
{
	if (g_log_host)
		printf("%s %s %s %d host=%s body=%llu\n", g_name, c->method[0] ? c->method : "-",
		       c->target[0] ? c->target : "-", code, c->host[0] ? c->host : "-",
		       (unsigned long long)c->body_seen);
	else
		printf("%s %s %s %d\n", g_name, c->method[0] ? c->method : "-",
		       c->target[0] ? c->target : "-", code);
	fflush(stdout);
}

/* The log line of a response; with --log-host, one answered before its
 * request body was read waits for the body's end (body_done), so it can
 * say how many body bytes came. */
static void log_req(struct conn *c, int code)
{
	if (g_log_host && !(c->body == BODY_NONE ||
	    (c->body == BODY_CHUNKED && c->chunk == CH_DONE))) {
		c->log_code = code;
		return;
	}
	log_line(c, code);
}

/* The response head.  `len` >= 0: Content-Length; -1: a streamed body
 * (chunked on 1.1, close-delimited on 1.0); -2: no body at all (204, 304). */
static void out_head(struct conn *c, int code, long long len)
{
	char h[512];
	int n = snprintf(h, sizeof h, "HTTP/1.1 %d %s\r\nX-Testapp-Name: %s\r\n",
	                 code, reason(code), g_name);
	out_put(c, h, (size_t)n);
	if (len >= 0) {
		n = snprintf(h, sizeof h, "Content-Type: text/plain\r\nContent-Length: %lld\r\n", len);
		out_put(c, h, (size_t)n);
	} else if (len == -2) {
		/* no framing header */
	} else if (c->minor >= 1) {
		out_str(c, "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n");
		c->chunked_out = true;
	} else {
		out_str(c, "Content-Type: text/plain\r\n");
		c->keep_alive = false;
	}
	if (!c->keep_alive)
		out_str(c, "Connection: close\r\n");
	else if (c->minor == 0)
		out_str(c, "Connection: keep-alive\r\n");
	out_str(c, "\r\n");
	c->started = true;
	log_req(c, code);
}

/* A complete response with a body known now. */
static void respond(struct conn *c, int code, const char *body, size_t len)
{
	bool nobody = code == 204 || code == 304;
	out_head(c, code, nobody ? -2 : (long long)len);
	if (!c->is_head && !nobody)
		out_put(c, body, len);
}

static void respond_str(struct conn *c, int code, const char *body)
{
	respond(c, code, body, strlen(body));
}

/* One piece of a streamed body. */
static void out_piece(struct conn *c, const char *p, size_t n)
{
	if (n == 0 || c->is_head)
		return;
	if (c->chunked_out) {
		char h[24];
		int k = snprintf(h, sizeof h, "%zx\r\n", n);
		out_put(c, h, (size_t)k);
		out_put(c, p, n);
		out_put(c, "\r\n", 2);
	} else {
		out_put(c, p, n);
	}
}

static void out_end(struct conn *c)
{
	if (c->chunked_out && !c->is_head)
		out_str(c, "0\r\n\r\n");
}

/* ---- /call: a blocking fetch through $http_proxy ------------------------ */

/* 1 complete, 0 need more, -1 invalid.  On 1: *code, and the body copied to
 * `body` (decoded if chunked), at most `cap` bytes. */
static int call_parse(const char *b, size_t n, int *code, char *body, size_t cap, size_t *blen)
{
	const char *end = memmem(b, n, "\r\n\r\n", 4);
	if (end == NULL)
		return 0;
	if (n < 12 || strncmp(b, "HTTP/1.", 7) != 0)
		return -1;
	*code = atoi(b + 9);
	long long clen = -1;
	bool chunked = false;
	for (const char *l = (const char *)memchr(b, '\n', (size_t)(end - b)) + 1; l < end; ) {
		const char *e = memchr(l, '\r', (size_t)(end + 2 - l));
		if (strncasecmp(l, "Content-Length:", 15) == 0)
			clen = atoll(l + 15);
		else if (strncasecmp(l, "Transfer-Encoding:", 18) == 0 && memmem(l, (size_t)(e - l), "chunked", 7))
			chunked = true;
		l = e + 2;
	}
	const char *p = end + 4, *lim = b + n;
	*blen = 0;
	if (*code == 204 || *code == 304 || (*code >= 100 && *code < 200))
		return 1;
	if (chunked) {
		for (;;) {
			const char *nl = memchr(p, '\n', (size_t)(lim - p));
			if (nl == NULL)
				return 0;
			unsigned long long sz = strtoull(p, NULL, 16);
			p = nl + 1;
			if (sz == 0)
				return 1;   /* trailers ignored */
			if ((size_t)(lim - p) < sz + 2)
				return 0;
			size_t k = sz < cap - *blen ? (size_t)sz : cap - *blen;
			memcpy(body + *blen, p, k);
			*blen += k;
			p += sz + 2;
		}
	}
	size_t have = (size_t)(lim - p);
	if (clen >= 0 && have < (unsigned long long)clen)
		return 0;
	if (clen >= 0)
		have = (size_t)clen;
	else
		return 0;   /* close-delimited: complete only at EOF (caller) */
	*blen = have < cap ? have : cap;
	memcpy(body, p, *blen);
	return 1;
}

static void do_call(struct conn *c, const char *url)
{
	const char *proxy = getenv("http_proxy");
	if (proxy == NULL || *proxy == '\0')
		proxy = getenv("HTTP_PROXY");
	if (proxy == NULL || *proxy == '\0') {
		respond_str(c, 502, "no proxy\n");
		return;
	}
	if (strncmp(url, "http://", 7) != 0 || url[7] == '\0' || url[7] == '/') {
		respond_str(c, 400, "url must be absolute http://\n");
		return;
	}
	char auth[256], host[256], port[16] = "80";
	size_t alen = strcspn(url + 7, "/?");
	if (alen >= sizeof auth) {
		respond_str(c, 400, "authority too long\n");
		return;
	}
	memcpy(auth, url + 7, alen);
	auth[alen] = '\0';
	const char *ph = strncmp(proxy, "http://", 7) == 0 ? proxy + 7 : proxy;
	size_t hl = strcspn(ph, "/");
	if (hl >= sizeof host) {
		respond_str(c, 502, "bad http_proxy\n");
		return;
	}
	memcpy(host, ph, hl);
	host[hl] = '\0';
	char *hp = host, *colon = strrchr(host, ':');
	if (colon != NULL && (host[0] != '[' || colon > strchr(host, ']'))) {
		*colon = '\0';
		snprintf(port, sizeof port, "%s", colon + 1);
	}
	if (hp[0] == '[') {
		hp++;
		hp[strcspn(hp, "]")] = '\0';
	}

	char *resp = malloc(CALL_MAX), *body = malloc(CALL_MAX);
	char err[300] = "";
	int fd = -1, code = 0;
	size_t n = 0, blen = 0;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	if (resp == NULL || body == NULL) {
		snprintf(err, sizeof err, "out of memory");
		goto done;
	}
	int gai = getaddrinfo(hp, port, &hints, &ai);
	if (gai != 0) {
		snprintf(err, sizeof err, "proxy %s:%s: %s", hp, port, gai_strerror(gai));
		goto done;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = 10 };
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1 ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		snprintf(err, sizeof err, "proxy %s:%s: %s", hp, port, strerror(errno));
		goto done;
	}
	int k = snprintf(resp, CALL_MAX, "GET %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: testapp\r\n"
	                 "%s%s%s%s%s%s"
	                 "Connection: close\r\n\r\n", url, url[7 + alen] == '\0' ? "/" : "", auth,
	                 c->traceparent[0] ? "traceparent: " : "", c->traceparent,
	                 c->traceparent[0] ? "\r\n" : "",
	                 c->tracestate[0] ? "tracestate: " : "", c->tracestate,
	                 c->tracestate[0] ? "\r\n" : "");
	if (k < 0 || k >= CALL_MAX || send(fd, resp, (size_t)k, MSG_NOSIGNAL) != k) {
		snprintf(err, sizeof err, "send to proxy %s:%s: %s", hp, port, strerror(errno));
		goto done;
	}
	for (;;) {
		ssize_t r = recv(fd, resp + n, CALL_MAX - n, 0);
		if (r > 0)
			n += (size_t)r;
		int pr = call_parse(resp, n, &code, body, CALL_MAX - 16, &blen);
		if (pr == 1)
			break;
		if (pr == -1) {
			snprintf(err, sizeof err, "invalid response from proxy");
			goto done;
		}
		if (r == 0 || n == CALL_MAX) {   /* close-delimited body, or full */
			const char *e = memmem(resp, n, "\r\n\r\n", 4);
			if (e == NULL || strncmp(resp, "HTTP/1.", 7) != 0) {
				snprintf(err, sizeof err, "proxy closed before a complete response");
				goto done;
			}
			code = atoi(resp + 9);
			blen = n - (size_t)(e + 4 - resp);
			if (blen > CALL_MAX - 16)
				blen = CALL_MAX - 16;
			memcpy(body, e + 4, blen);
			break;
		}
		if (r == -1) {
			snprintf(err, sizeof err, "reading from proxy: %s", errno == EAGAIN ? "timeout" : strerror(errno));
			goto done;
		}
	}
done:
	if (err[0] != '\0') {
		char msg[400];
		snprintf(msg, sizeof msg, "call failed: %s\n", err);
		respond_str(c, 502, msg);
	} else {
		int hl2 = snprintf(resp, CALL_MAX, "%d ", code);
		memcpy(resp + hl2, body, blen);
		/* the upstream's status, so a failing dependency shows in ours */
		respond(c, code >= 200 && code <= 599 && code != 204 && code != 304 ? code : 200,
		    resp, (size_t)hl2 + blen);
	}
	if (fd != -1)
		close(fd);
	if (ai != NULL)
		freeaddrinfo(ai);
	free(resp);
	free(body);
}

/* ---- request head ------------------------------------------------------- */

static bool is_tchar(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static bool has_token(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok);
	for (size_t i = 0; i < n; ) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t s = i;
		while (i < n && v[i] != ',')
			i++;
		size_t e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
			return true;
	}
	return false;
}

/* The value of query parameter `key` in `q` (after '?'), or NULL.  "url" takes
 * the rest of the query so that a URL with its own '?' and '&' survives. */
static bool query_get(const char *target, const char *key, char *val, size_t cap)
{
	const char *q = strchr(target, '?');
	size_t kl = strlen(key);
	for (const char *p = q; p != NULL; p = strchr(p + 1, '&')) {
		if (strncmp(p + 1, key, kl) != 0 || p[1 + kl] != '=')
			continue;
		const char *v = p + 2 + kl;
		size_t n = strcmp(key, "url") == 0 ? strlen(v) : strcspn(v, "&");
		size_t o = 0;
		for (size_t i = 0; i < n && o + 1 < cap; i++) {
			unsigned hi, lo;
			if (v[i] == '%' && i + 2 < n && sscanf(v + i + 1, "%1x%1x", &hi, &lo) == 2) {
				val[o++] = (char)(hi * 16 + lo);
				i += 2;
			} else {
				val[o++] = v[i];
			}
		}
		val[o] = '\0';
		return true;
	}
	return false;
}

/* Decide what the request does; fixed answers are queued at once. */
static void serve(struct conn *c, const char *path, bool upgrade)
{
	char buf[TARGET_MAX + 64], val[TARGET_MAX];
	unsigned long served = g_count++;
	size_t pl = strcspn(path, "?");

	c->act = ACT_FIXED;
#define PATH_IS(s) (pl == strlen(s) && strncmp(path, s, pl) == 0)
	if (PATH_IS("/")) {
		snprintf(buf, sizeof buf, "%s\n", g_name);
		respond_str(c, 200, buf);
	} else if (PATH_IS("/whoami")) {
		const char *s = getenv("MESH_SERVICE"), *v = getenv("MESH_VERSION"), *i = getenv("MESH_INSTANCE");
		snprintf(buf, sizeof buf, "name=%s port=%d service=%s version=%s instance=%s\n",
		         g_name, g_port, s ? s : "", v ? v : "", i ? i : "");
		respond_str(c, 200, buf);
	} else if (pl > 5 && strncmp(path, "/env/", 5) == 0) {
		snprintf(val, sizeof val, "%.*s", (int)(pl - 5), path + 5);
		const char *e = getenv(val);
		if (e == NULL) {
			respond_str(c, 404, "unset\n");
		} else {
			out_head(c, 200, (long long)strlen(e) + 1);
			if (!c->is_head) {
				out_str(c, e);
				out_str(c, "\n");
			}
		}
	} else if (PATH_IS("/echo")) {
		c->act = ACT_ECHO;
		out_head(c, 200, -1);
	} else if (PATH_IS("/bytes")) {
		char *end = val;
		bool okn = query_get(path, "n", val, sizeof val) && val[0] >= '0' && val[0] <= '9';
		if (okn) {
			errno = 0;
			c->bytes_left = strtoull(val, &end, 10);
			okn = *end == '\0' && errno == 0;
		}
		if (!okn) {
			respond_str(c, 400, "need n=BYTES\n");
		} else {
			c->act = ACT_BYTES;
			c->bytes_off = 0;
		}
	} else if (pl == 11 && strncmp(path, "/status/", 8) == 0 && path[8] >= '2' && path[8] <= '5' &&
	           path[9] >= '0' && path[9] <= '9' && path[10] >= '0' && path[10] <= '9') {
		snprintf(buf, sizeof buf, "%.3s\n", path + 8);
		respond_str(c, atoi(path + 8), buf);
	} else if (PATH_IS("/delay")) {
		long ms = query_get(path, "ms", val, sizeof val) ? atol(val) : 0;
		if (ms < 0 || ms > 600000) {
			respond_str(c, 400, "ms out of range\n");
		} else {
			c->act = ACT_DELAY;
			c->delay = (double)ms / 1000.0;
		}
	} else if (PATH_IS("/count")) {
		snprintf(buf, sizeof buf, "%lu\n", served);
		respond_str(c, 200, buf);
	} else if (PATH_IS("/call")) {
		if (!query_get(path, "url", val, sizeof val))
			respond_str(c, 400, "need url=\n");
		else
			do_call(c, val);
	} else if (PATH_IS("/ws")) {
		if (upgrade && (strcasecmp(c->upgrade, "echo") == 0 || strcasecmp(c->upgrade, "websocket") == 0))
			c->act = ACT_WS;
		else
			respond_str(c, 400, "need Connection: Upgrade and Upgrade: echo\n");
	} else {
		respond_str(c, 404, "not found\n");
	}
#undef PATH_IS
}

/* Request n of a pct% share, spread evenly: exactly pct of every 100. */
static bool pct_hit(unsigned long n, unsigned pct)
{
	return pct > 0 && ((n + 1) * pct) / 100 > (n * pct) / 100;
}

/* The faults first (reset, failure, delay), then the request itself. */
static void dispatch(struct conn *c, const char *path, bool upgrade)
{
	unsigned long n = g_seen++;
	size_t pl = strcspn(path, "?");

	if (g_die_after > 0 && g_seen >= g_die_after)
		g_dying = true;
	if (pct_hit(n, g_reset_pct)) {
		g_count++;
		c->act = ACT_FIXED;
		c->abort = true;
		printf("%s %s %s RST\n", g_name, c->method, c->target);
		fflush(stdout);
		return;
	}
	/* offset so that equal shares of resets and failures hit other requests */
	if (pct_hit(n + 50, g_fail_pct)) {
		g_count++;
		c->act = ACT_FAIL;     /* answered by body_done() */
		return;
	}
	if (g_delay_ms > 0 && !upgrade && !(pl == 5 && strncmp(path, "/echo", 5) == 0) &&
	    !(pl == 6 && strncmp(path, "/bytes", 6) == 0)) {
		snprintf(c->dpath, sizeof c->dpath, "%s", path);
		c->deferred = true;
		c->act = ACT_DELAY;
		c->delay = (double)g_delay_ms / 1000.0;
		return;
	}
	serve(c, path, upgrade);
}

/* Parse one complete head h[0..n) (ending with CRLF CRLF).  Returns 0, or an
 * HTTP error status to answer with before closing. */
static int parse_head(struct conn *c, char *h, size_t n)
{
	char *line = h, *lim = h + n;
	char *eol = memchr(line, '\n', n);   /* exists: the caller found CRLFCRLF */
	if (eol == line || *(eol - 1) != '\r')
		return 400;                      /* bare LF ends the request line */
	*(eol - 1) = '\0';

	/* request line: method SP target SP HTTP/1.x */
	char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || strchr(sp2 + 1, ' ') != NULL || sp1 == line)
		return 400;
	if ((size_t)(sp1 - line) >= sizeof c->method)
		return 501;
	for (char *p = line; p < sp1; p++)
		if (!is_tchar((unsigned char)*p))
			return 400;
	memcpy(c->method, line, (size_t)(sp1 - line));
	c->method[sp1 - line] = '\0';
	if ((size_t)(sp2 - sp1 - 1) >= sizeof c->target)
		return 414;
	for (char *p = sp1 + 1; p < sp2; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return 400;
	memcpy(c->target, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	c->target[sp2 - sp1 - 1] = '\0';
	if (strncmp(sp2 + 1, "HTTP/", 5) != 0)
		return 400;
	if (strcmp(sp2 + 1, "HTTP/1.1") == 0)
		c->minor = 1;
	else if (strcmp(sp2 + 1, "HTTP/1.0") == 0)
		c->minor = 0;
	else
		return 505;
	c->is_head = strcmp(c->method, "HEAD") == 0;

	int hosts = 0, nh = 0;
	long long clen = -1;
	bool te = false, conn_close = false, conn_ka = false, conn_up = false, expect = false;
	c->upgrade[0] = '\0';
	c->traceparent[0] = c->tracestate[0] = '\0';
	for (line = eol + 1; line < lim; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(lim - line));
		if (eol == line || *(eol - 1) != '\r')
			return 400;               /* bare LF */
		if (eol - 1 == line)
			break;                    /* the empty line */
		if (++nh > HDR_MAX)
			return 431;
		if (*line == ' ' || *line == '\t')
			return 400;               /* obs-fold */
		char *colon = memchr(line, ':', (size_t)(eol - line));
		if (colon == NULL || colon == line)
			return 400;
		for (char *p = line; p < colon; p++)
			if (!is_tchar((unsigned char)*p))
				return 400;       /* includes whitespace before the colon */
		char *v = colon + 1, *ve = eol - 1;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (char *p = v; p < ve; p++)
			if (*p == '\0' || *p == '\r' || *p == '\n')
				return 400;
		size_t nl = (size_t)(colon - line), vl = (size_t)(ve - v);
#define NAME_IS(s) (nl == strlen(s) && strncasecmp(line, s, nl) == 0)
		if (NAME_IS("Host")) {
			hosts++;
			if (vl < sizeof c->host)
				snprintf(c->host, sizeof c->host, "%.*s", (int)vl, v);
		} else if (NAME_IS("Content-Length")) {
			long long x = 0;
			if (vl == 0 || vl > 18)
				return 400;
			for (char *p = v; p < ve; p++) {
				if (*p < '0' || *p > '9')
					return 400;
				x = x * 10 + (*p - '0');
			}
			if (clen >= 0 && clen != x)
				return 400;
			clen = x;
		} else if (NAME_IS("Transfer-Encoding")) {
			if (te || vl != 7 || strncasecmp(v, "chunked", 7) != 0)
				return 501;
			te = true;
		} else if (NAME_IS("Connection")) {
			conn_close |= has_token(v, vl, "close");
			conn_ka |= has_token(v, vl, "keep-alive");
			conn_up |= has_token(v, vl, "upgrade");
		} else if (NAME_IS("traceparent")) {
			if (vl < sizeof c->traceparent)
				snprintf(c->traceparent, sizeof c->traceparent, "%.*s", (int)vl, v);
		} else if (NAME_IS("tracestate")) {
			if (vl < sizeof c->tracestate)
				snprintf(c->tracestate, sizeof c->tracestate, "%.*s", (int)vl, v);
		} else if (NAME_IS("Upgrade")) {
			snprintf(c->upgrade, sizeof c->upgrade, "%.*s", (int)vl, v);
		} else if (NAME_IS("Expect")) {
			if (vl == 12 && strncasecmp(v, "100-continue", 12) == 0)
				expect = true;
		}
#undef NAME_IS
	}
	if (te && clen >= 0)
		return 400;
	if (hosts > 1 || (hosts == 0 && c->minor == 1))
		return 400;
	c->keep_alive = c->minor == 1 ? !conn_close : (conn_ka && !conn_close);
	c->body = te ? BODY_CHUNKED : clen > 0 ? BODY_LENGTH : BODY_NONE;
	c->left = clen > 0 ? (uint64_t)clen : 0;
	c->chunk = CH_SIZE;
	if (expect && c->body != BODY_NONE && c->minor == 1)
		out_str(c, "HTTP/1.1 100 Continue\r\n\r\n");

	/* absolute-form: route on the path only (we are the origin) */
	const char *path = c->target;
	if (strncasecmp(path, "http://", 7) == 0) {
		path = strchr(path + 7, '/');
		if (path == NULL)
			path = "/";
	} else if (path[0] != '/') {
		return 400;
	}
	dispatch(c, path, conn_up && c->upgrade[0] != '\0');
	return 0;
}

/* ---- connection state machine ------------------------------------------ */

static void conn_destroy(struct conn *c)
{
	ev_io_stop(EV_DEFAULT, &c->rio);
	ev_io_stop(EV_DEFAULT, &c->wio);
	ev_timer_stop(EV_DEFAULT, &c->timer);
	close(c->fd);
	free(c->out);
	free(c);
}

static void in_drop(struct conn *c, size_t n)
{
	c->ioff += n;
	c->ilen -= n;
	if (c->ilen == 0)
		c->ioff = 0;
}

/* An error before the response started: answer and close.  After: close. */
static void fail(struct conn *c, int code)
{
	if (!c->started) {
		c->keep_alive = false;
		c->is_head = false;
		char b[8];
		snprintf(b, sizeof b, "%d\n", code);
		respond_str(c, code, b);
	}
	c->st = ST_CLOSE;
}

/* The body has been consumed: finish or continue the response. */
static void body_done(struct conn *c)
{
	if (c->log_code != 0) {
		log_line(c, c->log_code);
		c->log_code = 0;
	}
	switch (c->act) {
	case ACT_FIXED:
		break;
	case ACT_FAIL: {
		char b[8];

		snprintf(b, sizeof b, "%u\n", g_fail_status);
		respond_str(c, (int)g_fail_status, b);
		break;
	}
	case ACT_ECHO:
		out_end(c);
		break;
	case ACT_DELAY:
		ev_timer_set(&c->timer, c->delay, 0.);
		ev_timer_start(EV_DEFAULT, &c->timer);
		c->st = ST_WAIT;
		return;
	case ACT_BYTES:
		out_head(c, 200, -1);
		c->st = ST_BYTES;
		return;
	case ACT_WS:
		out_str(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ");
		out_str(c, c->upgrade);
		out_str(c, "\r\n\r\n");
		c->started = true;
		log_req(c, 101);
		c->st = ST_RAW;
		return;
	}
	c->st = c->keep_alive ? ST_HEAD : ST_CLOSE;
}

/* Consume body bytes from the window; false when it needs more input (or
 * output room). */
static bool body_step(struct conn *c)
{
	char *p = c->in + c->ioff;
	if (c->body == BODY_NONE || (c->body == BODY_CHUNKED && c->chunk == CH_DONE)) {
		body_done(c);
		return true;
	}
	if (c->body == BODY_LENGTH || c->chunk == CH_DATA) {
		size_t n = c->ilen < c->left ? c->ilen : (size_t)c->left;
		if (c->act == ACT_ECHO && n > 0) {
			if (c->olen >= OUT_HIGH)
				return false;
			if (n > OUT_HIGH - c->olen)
				n = OUT_HIGH - c->olen;
			out_piece(c, p, n);
		}
		if (n == 0 && c->left > 0)
			return false;
		in_drop(c, n);
		c->left -= n;
		c->body_seen += n;
		if (c->left == 0) {
			if (c->body == BODY_LENGTH)
				c->body = BODY_NONE;
			else
				c->chunk = CH_DATA_CRLF;
		}
		return true;
	}
	if (c->chunk == CH_DATA_CRLF) {
		if (c->ilen < 2)
			return false;
		if (p[0] != '\r' || p[1] != '\n') {
			fail(c, 400);
			return true;
		}
		in_drop(c, 2);
		c->chunk = CH_SIZE;
		return true;
	}
	/* CH_SIZE or CH_TRAILER: a line */
	char *nl = memchr(p, '\n', c->ilen);
	if (nl == NULL) {
		if (c->ilen >= CHUNK_LINE_MAX)
			fail(c, 400);
		return c->ilen >= CHUNK_LINE_MAX;
	}
	size_t ll = (size_t)(nl - p);
	if (ll == 0 || p[ll - 1] != '\r' || ll > CHUNK_LINE_MAX) {
		fail(c, 400);
		return true;
	}
	if (c->chunk == CH_TRAILER) {
		if (ll == 1)
			c->chunk = CH_DONE;   /* the empty line ends the trailers */
		in_drop(c, ll + 1);
		return true;
	}
	uint64_t sz = 0;
	size_t i = 0;
	for (; i < ll - 1; i++) {
		int d = p[i] >= '0' && p[i] <= '9' ? p[i] - '0' : p[i] >= 'a' && p[i] <= 'f' ? p[i] - 'a' + 10 :
		        p[i] >= 'A' && p[i] <= 'F' ? p[i] - 'A' + 10 : -1;
		if (d < 0)
			break;
		if (i >= 15) {
			fail(c, 400);
			return true;
		}
		sz = sz * 16 + (uint64_t)d;
	}
	if (i == 0 || (i < ll - 1 && p[i] != ';' && p[i] != ' ' && p[i] != '\t')) {
		fail(c, 400);
		return true;
	}
	in_drop(c, ll + 1);
	c->left = sz;
	if (sz == 0)
		c->chunk = CH_TRAILER;
	else
		c->chunk = CH_DATA;
	return true;
}

/* Advance as far as input and output room allow; false when it needs more. */
static bool conn_step(struct conn *c)
{
	if (c->abort)
		return false;
	switch (c->st) {
	case ST_HEAD: {
		if (c->olen >= OUT_HIGH || c->ilen == 0)
			return false;
		char *p = c->in + c->ioff;
		/* RFC 9112 2.2: ignore empty lines before a request line */
		if (c->ilen >= 2 && p[0] == '\r' && p[1] == '\n') {
			in_drop(c, 2);
			return true;
		}
		char *e = memmem(p, c->ilen, "\r\n\r\n", 4);
		if (e == NULL) {
			if (c->ilen >= HEAD_MAX) {
				c->method[0] = c->target[0] = '\0';
				c->minor = 1;
				char *nl = memchr(p, '\n', c->ilen);
				fail(c, nl == NULL || nl - p > TARGET_MAX ? 414 : 431);
				return true;
			}
			return false;
		}
		size_t hl = (size_t)(e - p) + 4;
		if (hl > HEAD_MAX) {
			fail(c, 431);
			return true;
		}
		c->started = c->chunked_out = false;
		c->method[0] = c->target[0] = c->host[0] = '\0';
		c->body_seen = 0;
		c->log_code = 0;
		c->minor = 1;
		int err = parse_head(c, p, hl);
		in_drop(c, hl);
		if (err != 0)
			fail(c, err);
		else
			c->st = ST_BODY;
		return true;
	}
	case ST_BODY:
		return body_step(c);
	case ST_WAIT:
		return false;
	case ST_BYTES: {
		static const char pat[] = "0123456789abcdef0123456789abcdef";
		char blk[16384];
		if (c->olen >= OUT_HIGH)
			return false;
		if (c->bytes_left == 0 || c->is_head) {
			out_end(c);
			c->st = c->keep_alive ? ST_HEAD : ST_CLOSE;
			return true;
		}
		size_t n = c->bytes_left < sizeof blk ? (size_t)c->bytes_left : sizeof blk;
		for (size_t i = 0; i < n; i += 16) {
			size_t k = n - i < 16 ? n - i : 16;
			memcpy(blk + i, pat + (c->bytes_off + i) % 16, k);
		}
		out_piece(c, blk, n);
		c->bytes_off += n;
		c->bytes_left -= n;
		return true;
	}
	case ST_RAW: {
		if (c->ilen > 0 && c->olen < OUT_HIGH) {
			size_t n = c->ilen < OUT_HIGH - c->olen ? c->ilen : OUT_HIGH - c->olen;
			out_put(c, c->in + c->ioff, n);
			in_drop(c, n);
			return true;
		}
		if (c->eof && c->ilen == 0) {
			c->st = ST_CLOSE;
			return true;
		}
		return false;
	}
	case ST_CLOSE:
		if (c->olen > 0)
			return false;
		shutdown(c->fd, SHUT_WR);
		c->st = ST_LINGER;
		c->ilen = c->ioff = 0;
		ev_timer_stop(EV_DEFAULT, &c->timer);
		ev_timer_set(&c->timer, LINGER_S, 0.);
		ev_timer_start(EV_DEFAULT, &c->timer);
		return false;
	case ST_LINGER:
		c->ilen = c->ioff = 0;
		return false;
	}
	return false;
}

/* Send what we can; false if the connection died. */
static bool conn_flush(struct conn *c)
{
	while (c->olen > 0) {
		ssize_t n = send(c->fd, c->out + c->ooff, c->olen, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return true;
			if (errno == EINTR)
				continue;
			return false;
		}
		c->ooff += (size_t)n;
		c->olen -= (size_t)n;
	}
	c->ooff = 0;
	return true;
}

/* --die-after: the last answer is out (or the connection reset): exit. */
static void die_check(void)
{
	if (!g_dying)
		return;
	printf("%s: dying after %lu requests (--die-after)\n", g_name, g_seen);
	fflush(stdout);
	_exit(3);
}

static void conn_run(struct conn *c)
{
	for (;;) {
		while (conn_step(c))
			;
		if (c->abort) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
			conn_destroy(c);
			die_check();
			return;
		}
		if (!conn_flush(c)) {
			conn_destroy(c);
			return;
		}
		/* flushing may have made room for more output */
		if (c->olen >= OUT_HIGH || !conn_step(c))
			break;
	}
	if (g_dying && c->olen == 0 && c->st != ST_WAIT)
		die_check();
	if (c->st == ST_LINGER && c->eof) {
		conn_destroy(c);
		return;
	}
	/* a peer that closed mid-request or between requests: nothing more will come */
	if (c->eof && (c->st == ST_HEAD || c->st == ST_BODY) && c->olen == 0) {
		conn_destroy(c);
		return;
	}
	if (c->ioff > 0 && c->ioff + c->ilen == IN_CAP) {
		memmove(c->in, c->in + c->ioff, c->ilen);
		c->ioff = 0;
	}
	bool want_read = !c->eof && c->ioff + c->ilen < IN_CAP && c->st != ST_CLOSE;
	if (want_read != (ev_is_active(&c->rio) != 0)) {
		if (want_read)
			ev_io_start(EV_DEFAULT, &c->rio);
		else
			ev_io_stop(EV_DEFAULT, &c->rio);
	}
	bool want_write = c->olen > 0;
	if (want_write != (ev_is_active(&c->wio) != 0)) {
		if (want_write)
			ev_io_start(EV_DEFAULT, &c->wio);
		else
			ev_io_stop(EV_DEFAULT, &c->wio);
	}
}

static void on_read(EV_P_ ev_io *w, int revents)
{
	struct conn *c = w->data;
	size_t room = IN_CAP - c->ioff - c->ilen;
	ssize_t n = recv(c->fd, c->in + c->ioff + c->ilen, room, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		conn_destroy(c);
		return;
	}
	if (n == 0)
		c->eof = true;
	c->ilen += (size_t)n;
	conn_run(c);
}

static void on_write(EV_P_ ev_io *w, int revents)
{
	conn_run(w->data);
}

static void on_timer(EV_P_ ev_timer *w, int revents)
{
	struct conn *c = w->data;
	if (c->st == ST_LINGER) {
		conn_destroy(c);
		return;
	}
	if (c->st == ST_WAIT && c->deferred) {
		/* --delay-ms is over: now serve it (a /delay then waits its own) */
		c->deferred = false;
		serve(c, c->dpath, false);
		if (c->act == ACT_DELAY) {
			ev_timer_set(&c->timer, c->delay, 0.);
			ev_timer_start(EV_DEFAULT, &c->timer);
			return;
		}
		c->st = c->keep_alive ? ST_HEAD : ST_CLOSE;
	} else if (c->st == ST_WAIT) {
		char b[300];
		snprintf(b, sizeof b, "%s\n", g_name);
		respond_str(c, 200, b);
		c->st = c->keep_alive ? ST_HEAD : ST_CLOSE;
	}
	conn_run(c);
}

/* ---- listener and main -------------------------------------------------- */

static void on_accept(EV_P_ ev_io *w, int revents)
{
	for (;;) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				/* pause instead of spinning on a full table */
				fprintf(stderr, "testapp %s: accept on port %d: %s; pausing 100ms\n",
				        g_name, g_port, strerror(errno));
				ev_io_stop(EV_A_ w);
				ev_timer_start(EV_A_ &g_pause);
			}
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct conn *c = calloc(1, sizeof *c);
		if (c == NULL) {
			close(fd);
			return;
		}
		c->fd = fd;
		ev_io_init(&c->rio, on_read, fd, EV_READ);
		ev_io_init(&c->wio, on_write, fd, EV_WRITE);
		ev_timer_init(&c->timer, on_timer, 0., 0.);
		c->rio.data = c->wio.data = c->timer.data = c;
		if (g_tcp) {
			c->st = ST_RAW;
			strcpy(c->method, "TCP");
			strcpy(c->target, "connect");
			log_req(c, 0);
			out_str(c, g_name);
			out_str(c, "\n");
		}
		conn_run(c);
	}
}

static void on_pause(EV_P_ ev_timer *w, int revents)
{
	ev_io_start(EV_A_ &g_lio);
}

static void on_signal(EV_P_ ev_signal *w, int revents)
{
	ev_break(EV_A_ EVBREAK_ALL);
}

static void usage(void)
{
	fprintf(stderr, "usage: testapp [--port P] [--name NAME] [--tcp] [--fail-pct N] "
	        "[--fail-status S] [--delay-ms N] [--reset-pct N] [--die-after N] [--log-host]\n");
	exit(2);
}

/* A decimal option value lo..hi (or its TESTAPP_* variable); -1 after a message. */
static int num_arg(const char *what, const char *s, unsigned long lo, unsigned long hi,
                   unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v < lo || v > hi) {
		fprintf(stderr, "testapp: --%s '%s': want an integer %lu..%lu\n", what, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	const char *port = getenv("PORT");
	static char namebuf[256];
	const char *fail_pct = getenv("TESTAPP_FAIL_PCT"), *fail_status = getenv("TESTAPP_FAIL_STATUS");
	const char *delay_ms = getenv("TESTAPP_DELAY_MS"), *reset_pct = getenv("TESTAPP_RESET_PCT");
	const char *die_after = getenv("TESTAPP_DIE_AFTER");
	const char *log_host = getenv("TESTAPP_LOG_HOST");

	g_log_host = log_host != NULL && strcmp(log_host, "1") == 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = argv[++i];
		else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			g_name = argv[++i];
		else if (strcmp(argv[i], "--tcp") == 0)
			g_tcp = true;
		else if (strcmp(argv[i], "--fail-pct") == 0 && i + 1 < argc)
			fail_pct = argv[++i];
		else if (strcmp(argv[i], "--fail-status") == 0 && i + 1 < argc)
			fail_status = argv[++i];
		else if (strcmp(argv[i], "--delay-ms") == 0 && i + 1 < argc)
			delay_ms = argv[++i];
		else if (strcmp(argv[i], "--reset-pct") == 0 && i + 1 < argc)
			reset_pct = argv[++i];
		else if (strcmp(argv[i], "--die-after") == 0 && i + 1 < argc)
			die_after = argv[++i];
		else if (strcmp(argv[i], "--log-host") == 0)
			g_log_host = true;
		else
			usage();
	}
	unsigned long nv;
	if (fail_pct != NULL) {
		if (num_arg("fail-pct", fail_pct, 0, 100, &nv) == -1)
			return 2;
		g_fail_pct = (unsigned)nv;
	}
	if (fail_status != NULL) {
		if (num_arg("fail-status", fail_status, 200, 599, &nv) == -1)
			return 2;
		g_fail_status = (unsigned)nv;
	}
	if (delay_ms != NULL) {
		if (num_arg("delay-ms", delay_ms, 0, 600000, &nv) == -1)
			return 2;
		g_delay_ms = (unsigned)nv;
	}
	if (reset_pct != NULL) {
		if (num_arg("reset-pct", reset_pct, 0, 100, &nv) == -1)
			return 2;
		g_reset_pct = (unsigned)nv;
	}
	if (die_after != NULL) {
		if (num_arg("die-after", die_after, 0, 1000000000, &nv) == -1)
			return 2;
		g_die_after = nv;
	}
	char *end;
	long p = port ? strtol(port, &end, 10) : 0;
	if (port == NULL || *end != '\0' || p < 1 || p > 65535) {
		fprintf(stderr, "testapp: need --port P or $PORT (1-65535), got %s\n", port ? port : "nothing");
		return 2;
	}
	g_port = (int)p;
	if (g_name == NULL) {
		const char *s = getenv("MESH_SERVICE"), *v = getenv("MESH_VERSION"), *in = getenv("MESH_INSTANCE");
		if (s != NULL && *s != '\0') {
			snprintf(namebuf, sizeof namebuf, "%s-%s-%s", s, v ? v : "", in ? in : "");
			g_name = namebuf;
		} else {
			g_name = "testapp";
		}
	}

	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)g_port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1 || listen(fd, 511) == -1) {
		fprintf(stderr, "testapp %s: listen on 127.0.0.1:%d: %s\n", g_name, g_port, strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	struct ev_loop *loop = EV_DEFAULT;
	ev_signal sterm, sint;
	ev_io_init(&g_lio, on_accept, fd, EV_READ);
	ev_io_start(loop, &g_lio);
	ev_timer_init(&g_pause, on_pause, 0.1, 0.);
	ev_signal_init(&sterm, on_signal, SIGTERM);
	ev_signal_init(&sint, on_signal, SIGINT);
	ev_signal_start(loop, &sterm);
	ev_signal_start(loop, &sint);
	printf("%s listening on 127.0.0.1:%d%s\n", g_name, g_port, g_tcp ? " (tcp)" : "");
	fflush(stdout);
	ev_run(loop, 0);
	printf("%s: stopping\n", g_name);
	fflush(stdout);
	return 0;
}
