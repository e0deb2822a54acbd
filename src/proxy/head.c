/* SPDX-License-Identifier: ISC */
/*
 * head: request and response heads for the next leg, and refusals.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mesh/grpc.h"
#include "mesh/head.h"

struct out {
	struct buf *b;
	uint32_t    start;   /* len at the start, to undo */
	int         full;
};

static void
out_put(struct out *o, const char *p, size_t n)
{
	if (o->full)
		return;
	if (buf_append(o->b, p, n) != n)
		o->full = 1;
}

static void
out_str(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

static void
out_header(struct out *o, const struct http_header *h)
{
	out_put(o, h->name, h->name_len);
	out_put(o, ": ", 2);
	out_put(o, h->value, h->value_len);
	out_put(o, "\r\n", 2);
}

static int
out_end(struct out *o)
{
	if (o->full) {
		o->b->len = o->start;
		return -1;
	}
	return 0;
}

static void
out_begin(struct out *o, struct buf *b)
{
	o->b = b;
	buf_compact(b);
	o->start = b->len;
	o->full = 0;
}

static int
name_is(const struct http_header *h, const char *name)
{
	return h->name_len == strlen(name) && strncasecmp(h->name, name, h->name_len) == 0;
}

int
head_is_hop(const struct http_header *h, const struct http_header *all, size_t n,
            unsigned opts)
{
	/* HTTP2-Settings only ever goes with an h2c upgrade, which is never
	 * relayed (http.h): connection-specific by definition */
	static const char *const hop[] = {
		"connection", "keep-alive", "proxy-connection", "te", "trailer",
		"http2-settings",
	};
	char name[64];
	size_t i;

	for (i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (name_is(h, hop[i]))
			return 1;
	if (name_is(h, "upgrade"))
		return !(opts & HEAD_UPGRADE);
	if ((opts & HEAD_NO_EXPECT) && name_is(h, "expect"))
		return 1;
	if ((opts & HEAD_NO_MESH_ERROR) && name_is(h, "mesh-error"))
		return 1;
	if (name_is(h, "content-length") || name_is(h, "transfer-encoding") || name_is(h, "host"))
		return 0;
	if (h->name_len >= sizeof(name))
		return 0;
	memcpy(name, h->name, h->name_len);
	name[h->name_len] = '\0';
	for (i = 0; i < n; i++)
		if (name_is(&all[i], "connection") &&
		    http_token_list_has(all[i].value, all[i].value_len, name))
			return 1;
	return 0;
}

static void
out_connection(struct out *o, unsigned opts)
{
	if (opts & HEAD_UPGRADE)
		out_str(o, "connection: upgrade\r\n");
	else if (opts & HEAD_CLOSE)
		out_str(o, "connection: close\r\n");
	else if (opts & HEAD_KEEPALIVE)
		out_str(o, "connection: keep-alive\r\n");
}

int
head_request(struct buf *b, const struct http_request *r, unsigned opts,
             const char *traceparent)
{
	struct out o;
	size_t i;

	out_begin(&o, b);
	out_put(&o, r->method, r->method_len);
	out_put(&o, " ", 1);
	out_put(&o, r->path, r->path_len);
	/* An HTTP/1.0 request stays one: the server then answers without a
	 * chunked body, which a 1.0 client could not read (RFC 9112 6.1). */
	out_str(&o, r->minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
	if (http_header_find(r->headers, r->nheaders, "host") == NULL) {
		out_str(&o, "host: ");
		out_put(&o, r->authority, r->authority_len);
		out_str(&o, "\r\n");
	}
	for (i = 0; i < r->nheaders; i++) {
		const struct http_header *h = &r->headers[i];

		if (traceparent != NULL && h->name_len == 11 &&
		    strncasecmp(h->name, "traceparent", 11) == 0)
			continue;
		if (!head_is_hop(h, r->headers, r->nheaders, opts))
			out_header(&o, h);
	}
	if (traceparent != NULL) {
		out_str(&o, "traceparent: ");
		out_str(&o, traceparent);
		out_str(&o, "\r\n");
	}
	/* 1.0 legs persist only when asked to: ask, so the pool keeps them */
	out_connection(&o, r->minor == 0 ? opts | HEAD_KEEPALIVE : opts & ~(unsigned)HEAD_KEEPALIVE);
	out_str(&o, "\r\n");
	return out_end(&o);
}

int
head_response(struct buf *b, const struct http_response *r, unsigned opts)
{
	char line[32];
	struct out o;
	size_t i;

	out_begin(&o, b);
	snprintf(line, sizeof(line), "HTTP/1.1 %03d ", r->code);
	out_str(&o, line);
	out_put(&o, r->phrase, r->phrase_len);
	out_str(&o, "\r\n");
	for (i = 0; i < r->nheaders; i++)
		if (!head_is_hop(&r->headers[i], r->headers, r->nheaders, opts))
			out_header(&o, &r->headers[i]);
	out_connection(&o, opts);
	out_str(&o, "\r\n");
	return out_end(&o);
}

int
head_refusal(struct buf *b, int code, const char *reason, unsigned opts)
{
	char line[512];
	struct out o;
	int n;

	out_begin(&o, b);
	if (opts & HEAD_GRPC) {
		char msg[192];

		grpc_message_encode(msg, sizeof(msg), reason);
		n = snprintf(line, sizeof(line),
		    "HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\n"
		    "grpc-status: %d\r\ngrpc-message: %s\r\nmesh-error: %s\r\n"
		    "content-length: 0\r\n%s\r\n",
		    (int)grpc_status_of_http(code), msg, reason,
		    (opts & HEAD_CLOSE) ? "connection: close\r\n" : "");
	} else
		n = snprintf(line, sizeof(line),
		    "HTTP/1.1 %03d %s\r\nmesh-error: %s\r\ncontent-length: %zu\r\n%s\r\n%s\n",
		    code, http_status_text(code), reason, strlen(reason) + 1,
		    (opts & HEAD_CLOSE) ? "connection: close\r\n" : "", reason);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	out_put(&o, line, (size_t)n);
	return out_end(&o);
}
