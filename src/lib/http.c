/* SPDX-License-Identifier: ISC */
/*
 * http: request and response heads (RFC 9112 sections 2-6).
 *
 * One pass, left to right, over at most header_bytes bytes.  Each byte is
 * judged when it is first seen, so an error is reported as soon as the
 * bytes that cause it have arrived, and any prefix of an input gives
 * either HTTP_INCOMPLETE or the same verdict as the whole input.  The
 * caller re-parses from the start as bytes arrive (picohttpparser's
 * model): linear in what is buffered, no state kept between calls.
 * Rules that need the whole header section (Host, framing, Connection,
 * Expect) are applied once the empty line has arrived: http_frame.c.
 */
#include <limits.h>
#include <string.h>

#include "mesh/http.h"
#include "http_chars.h"
#include "http_int.h"

static const struct http_limits http_default_limits = {
	.line_bytes = 8192, .header_bytes = 16384, .max_headers = 100,
};

static void
scan_init(struct http_scan *s, const char *buf, size_t len,
          const struct http_limits *lim)
{
	/* Never look past header_bytes: a block that has not ended there
	 * is too large whatever follows. */
	size_t cap = lim->header_bytes < INT_MAX ? lim->header_bytes : INT_MAX;

	s->cut = len > cap;
	s->end = buf + (s->cut ? cap : len);
	s->p = buf;
	s->line_bytes = lim->line_bytes;
	s->max_headers = lim->max_headers < HTTP_MAX_HEADERS ?
	                 lim->max_headers : HTTP_MAX_HEADERS;
	s->status = 0;
	s->reason = NULL;
}

int
http_fail(struct http_scan *s, int status, const char *reason)
{
	s->status = status;
	s->reason = reason;
	return HTTP_ERROR;
}

/* Out of bytes: wait for more, unless the view was cut at header_bytes. */
static int
more(struct http_scan *s)
{
	return s->cut ? http_fail(s, 431, "header too large") : HTTP_INCOMPLETE;
}

/* At a CR or LF: consume a CRLF and return 0, or say why not. */
static int
line_end(struct http_scan *s)
{
	if (*s->p == '\n')
		return http_fail(s, 400, "bare lf");
	if (s->p + 1 == s->end)
		return more(s);
	if (s->p[1] != '\n')
		return http_fail(s, 400, "bare cr");
	s->p += 2;
	return 0;
}

/* A byte that does not belong here.  A line end gets its own verdict
 * first (bare CR/LF, or not yet known); otherwise the error is `why`. */
static int
unexpected(struct http_scan *s, int c, const char *why)
{
	int rc;

	if (c == '\r' || c == '\n') {
		rc = line_end(s);
		if (rc != 0)
			return rc;
	}
	return http_fail(s, 400, why);
}

#define SL_END   (-1)   /* out of input */
#define SL_LONG  (-2)   /* the start line is over line_bytes */

/* The next byte of the start line that begins at ls.  The line end
 * (CR, LF) does not count toward line_bytes; any other byte at offset
 * line_bytes or later does. */
static int
sl_peek(const struct http_scan *s, const char *ls)
{
	unsigned char c;

	if (s->p == s->end)
		return SL_END;
	c = (unsigned char)*s->p;
	if (c != '\r' && c != '\n' && (size_t)(s->p - ls) >= s->line_bytes)
		return SL_LONG;
	return c;
}

static int
sl_stop(struct http_scan *s, int c, const char *too_long)
{
	return c == SL_END ? more(s) : http_fail(s, 414, too_long);
}

/* "HTTP/1.0" -> 0, "HTTP/1.1" -> 1, another HTTP/x.y -> -505, else -400
 * (the name is case-sensitive, RFC 9112 2.3). */
static int
version(const char *v, size_t n)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
	    !http_digit((unsigned char)v[5]) || !http_digit((unsigned char)v[7]))
		return -400;
	if (v[5] == '1' && (v[7] == '0' || v[7] == '1'))
		return v[7] - '0';
	return -505;
}

/* method SP request-target SP HTTP-version CRLF */
static int
request_line(struct http_scan *s, struct http_request *r)
{
	const char *ls = s->p, *v;
	int c, rc;

	while ((c = sl_peek(s, ls)) >= 0 && http_tchar((unsigned char)c))
		s->p++;
	if (c < 0)
		return sl_stop(s, c, "request line too long");
	if (s->p == ls)
		return unexpected(s, c, "invalid request line");
	if (c != ' ')
		return unexpected(s, c, "invalid method");
	r->method = ls;
	r->method_len = (size_t)(s->p - ls);

	r->target = ++s->p;
	while ((c = sl_peek(s, ls)) >= 0 && http_uchar((unsigned char)c))
		s->p++;
	if (c < 0)
		return sl_stop(s, c, "request line too long");
	if (s->p == r->target)
		return unexpected(s, c, "invalid request target");
	if (c == '\r' || c == '\n')
		return unexpected(s, c, "missing http version");   /* HTTP/0.9 */
	if (c != ' ')
		return http_fail(s, 400, "invalid request target");
	r->target_len = (size_t)(s->p - r->target);

	v = ++s->p;
	while ((c = sl_peek(s, ls)) >= 0 && c > ' ' && c < 0x7f)
		s->p++;
	if (c < 0)
		return sl_stop(s, c, "request line too long");
	if (c != '\r' && c != '\n')
		return http_fail(s, 400, "invalid http version");
	if ((rc = line_end(s)) != 0)
		return rc;
	rc = version(v, (size_t)(s->p - 2 - v));
	if (rc == -505)
		return http_fail(s, 505, "unsupported http version");
	if (rc < 0)
		return http_fail(s, 400, "invalid http version");
	r->minor = rc;
	return http_frame_target(s, r);
}

/* HTTP-version SP 3DIGIT SP [ reason-phrase ] CRLF.  The SP before an
 * empty phrase is often left out by servers and nothing is ambiguous
 * without it, so "HTTP/1.1 204\r\n" is accepted. */
static int
status_line(struct http_scan *s, struct http_response *r)
{
	const char *ls = s->p, *d;
	int c, rc;

	while ((c = sl_peek(s, ls)) >= 0 && c > ' ' && c < 0x7f)
		s->p++;
	if (c < 0)
		return sl_stop(s, c, "status line too long");
	if (c != ' ')
		return unexpected(s, c, "invalid status line");
	rc = version(ls, (size_t)(s->p - ls));
	if (rc == -505)
		return http_fail(s, 505, "unsupported http version");
	if (rc < 0)
		return http_fail(s, 400, "invalid http version");
	r->minor = rc;

	d = ++s->p;
	while ((c = sl_peek(s, ls)) >= 0 && http_digit((unsigned char)c) && s->p - d < 3)
		s->p++;
	if (c < 0)
		return sl_stop(s, c, "status line too long");
	if (s->p - d != 3 || (c != ' ' && c != '\r' && c != '\n'))
		return unexpected(s, c, "invalid status code");
	r->code = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
	if (r->code < 100 || r->code > 599)
		return http_fail(s, 400, "invalid status code");

	if (c == ' ')
		s->p++;
	r->phrase = s->p;
	while ((c = sl_peek(s, ls)) >= 0 && http_fchar((unsigned char)c))
		s->p++;
	if (c < 0)
		return sl_stop(s, c, "status line too long");
	r->phrase_len = (size_t)(s->p - r->phrase);
	if (c != '\r' && c != '\n')
		return http_fail(s, 400, "invalid reason phrase");
	return line_end(s);
}

/* *( field-name ":" OWS field-value OWS CRLF ) CRLF */
static int
header_block(struct http_scan *s, struct http_header *h, size_t *nh)
{
	const char *p, *end = s->end;
	int rc;

	for (;;) {
		struct http_header *f;

		p = s->p;
		if (p == end)
			return more(s);
		if (*p == '\r' || *p == '\n')
			return line_end(s);           /* the empty line: done */
		if (*p == ' ' || *p == '\t')
			/* RFC 9112 5.2 (obs-fold) and 2.2 (whitespace after the
			 * start line): both are refused, never unfolded. */
			return http_fail(s, 400, *nh > 0 ? "obs-fold" :
			                 "whitespace after start line");
		if (*nh == s->max_headers)
			return http_fail(s, 431, "too many headers");
		f = &h[*nh];

		f->name = p;
		while (p < end && http_tchar((unsigned char)*p))
			p++;
		s->p = p;
		if (p == end)
			return more(s);
		if (*p == ' ' || *p == '\t')
			return http_fail(s, 400, "whitespace before colon");
		if (*p != ':' || p == f->name)
			return unexpected(s, (unsigned char)*p, "invalid header name");
		f->name_len = (size_t)(p - f->name);

		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		f->value = p;
		while (p < end && *p != '\r' && *p != '\n' && http_fchar((unsigned char)*p))
			p++;
		s->p = p;
		if (p == end)
			return more(s);
		if (*p != '\r' && *p != '\n')
			return http_fail(s, 400, "invalid header value");
		while (p > f->value && (p[-1] == ' ' || p[-1] == '\t'))
			p--;
		f->value_len = (size_t)(p - f->value);
		if ((rc = line_end(s)) != 0)
			return rc;
		(*nh)++;
	}
}

int
http_parse_request(const char *buf, size_t len, const struct http_limits *lim,
                   struct http_request *req)
{
	struct http_scan s;
	int rc;

	scan_init(&s, buf, len, lim != NULL ? lim : &http_default_limits);
	req->nheaders = 0;
	req->body = HTTP_BODY_NONE;
	req->content_length = 0;
	req->flags = 0;
	req->status = 0;
	req->reason = NULL;

	/* RFC 9112 2.2: a server SHOULD ignore at least one empty line
	 * before the request line (clients add one after a POST body).
	 * We ignore exactly one; a second is an error. */
	if (s.p < s.end && (*s.p == '\r' || *s.p == '\n'))
		rc = line_end(&s);
	else
		rc = 0;
	if (rc == 0)
		rc = request_line(&s, req);
	if (rc == 0)
		rc = header_block(&s, req->headers, &req->nheaders);
	if (rc == 0)
		rc = http_frame_request(&s, req);
	if (rc == HTTP_ERROR) {
		req->status = s.status;
		req->reason = s.reason;
	}
	return rc != 0 ? rc : (int)(s.p - buf);
}

int
http_parse_response(const char *buf, size_t len, const struct http_limits *lim,
                    int head_request, struct http_response *res)
{
	struct http_scan s;
	int rc;

	scan_init(&s, buf, len, lim != NULL ? lim : &http_default_limits);
	res->nheaders = 0;
	res->body = HTTP_BODY_NONE;
	res->content_length = 0;
	res->flags = 0;
	res->status = 0;
	res->reason = NULL;

	rc = status_line(&s, res);
	if (rc == 0)
		rc = header_block(&s, res->headers, &res->nheaders);
	if (rc == 0)
		rc = http_frame_response(&s, res, head_request);
	if (rc == HTTP_ERROR) {
		/* whatever the upstream got wrong, the client sees a 502 */
		res->status = 502;
		res->reason = s.reason;
	}
	return rc != 0 ? rc : (int)(s.p - buf);
}
