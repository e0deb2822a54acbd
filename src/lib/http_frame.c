/* SPDX-License-Identifier: ISC */
/*
 * http_frame: what a parsed head means.  The request-target's form and
 * authority, Host, how the body is delimited (RFC 9112 6.3), Expect and
 * whether the connection persists (RFC 9112 9.3).
 *
 * Wherever RFC 9112 lets a recipient pick one reading of an ambiguous
 * message (several equal Content-Length values, Host disagreeing with an
 * absolute-form target, Content-Length beside Transfer-Encoding) we
 * refuse instead: a proxy that reads a message one way while the next
 * hop reads it another is how requests get smuggled.
 */
#include <string.h>

#include "mesh/http.h"
#include "http_chars.h"
#include "http_int.h"

/* The header fields framing depends on, found in one pass. */
struct fields {
	const struct http_header *host, *cl, *te, *expect;
	unsigned nhost, ncl, nte, nexpect;
	int      close, keep_alive, upgrade_token, upgrade, h2c;
};

static int
name_is(const struct http_header *h, const char *name, size_t len)
{
	return h->name_len == len && http_ci_eq(h->name, name, len);
}

#define NAME_IS(h, lit) name_is((h), (lit), sizeof(lit) - 1)

static void
fields_collect(const struct http_header *h, size_t n, struct fields *f)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < n; i++) {
		const struct http_header *x = &h[i];

		if (NAME_IS(x, "host")) {
			f->host = x;
			f->nhost++;
		} else if (NAME_IS(x, "content-length")) {
			f->cl = x;
			f->ncl++;
		} else if (NAME_IS(x, "transfer-encoding")) {
			f->te = x;
			f->nte++;
		} else if (NAME_IS(x, "expect")) {
			f->expect = x;
			f->nexpect++;
		} else if (NAME_IS(x, "upgrade")) {
			f->upgrade = 1;
			f->h2c |= http_upgrade_has_h2c(x->value, x->value_len);
		} else if (NAME_IS(x, "connection")) {
			/* several Connection fields make one list (RFC 9110 5.3) */
			f->close |= http_token_list_has(x->value, x->value_len, "close");
			f->keep_alive |= http_token_list_has(x->value, x->value_len, "keep-alive");
			f->upgrade_token |= http_token_list_has(x->value, x->value_len, "upgrade");
		}
	}
}

/* Content-Length = 1*DIGIT, below 2^63 so it fits every signed size. */
static int
content_length(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (!http_digit((unsigned char)v[i]))
			return -1;
		d = (unsigned)(v[i] - '0');
		if (x > (UINT64_C(0x7fffffffffffffff) - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
}

/* Content-Length and Transfer-Encoding, common to both directions: sets
 * body to LENGTH or CHUNKED when one is present (NONE otherwise). */
static int
framing(struct http_scan *s, const struct fields *f, int minor,
        enum http_body *body, uint64_t *len)
{
	if (f->cl != NULL && f->te != NULL)
		return http_fail(s, 400, "both content-length and transfer-encoding");
	if (f->ncl > 1)
		return http_fail(s, 400, "duplicate content-length");
	if (f->cl != NULL) {
		if (content_length(f->cl->value, f->cl->value_len, len) != 0)
			return http_fail(s, 400, "invalid content-length");
		*body = HTTP_BODY_LENGTH;
		return 0;
	}
	if (f->te == NULL)
		return 0;
	/* an HTTP/1.0 peer cannot mean chunked (RFC 9112 6.1) */
	if (minor == 0)
		return http_fail(s, 400, "transfer-encoding on http/1.0");
	if (f->nte > 1 || f->te->value_len != 7 || !http_ci_eq(f->te->value, "chunked", 7))
		return http_fail(s, 501, "unsupported transfer-encoding");
	*body = HTTP_BODY_CHUNKED;
	return 0;
}

static int
persistent(const struct fields *f, int minor)
{
	if (f->close)
		return 0;
	return minor == 1 || f->keep_alive;
}

int
http_frame_target(struct http_scan *s, struct http_request *r)
{
	const char *t = r->target, *a, *p, *end = t + r->target_len;
	int options = r->method_len == 7 && memcmp(r->method, "OPTIONS", 7) == 0;

	r->authority = "";
	r->authority_len = 0;
	if (r->method_len == 7 && memcmp(r->method, "CONNECT", 7) == 0) {
		/* authority-form, port required (RFC 9110 9.3.6) */
		if (!http_authority_valid(t, r->target_len, 1))
			return http_fail(s, 400, "invalid request target");
		r->flags |= HTTP_F_CONNECT;
		r->authority = t;
		r->authority_len = r->target_len;
		r->path = "";
		r->path_len = 0;
		return 0;
	}
	if (t[0] == '/') {
		r->path = t;
		r->path_len = r->target_len;
		return 0;
	}
	if (r->target_len == 1 && t[0] == '*') {
		if (!options)
			return http_fail(s, 400, "invalid request target");
		r->path = t;
		r->path_len = 1;
		return 0;
	}

	/* absolute-form: scheme ":" ... (RFC 3986 3.1) */
	for (p = t; p < end && (http_alpha((unsigned char)*p) || (p > t &&
	     (http_digit((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.'))); p++)
		;
	if (p == t || p == end || *p != ':')
		return http_fail(s, 400, "invalid request target");
	if (p - t != 4 || !http_ci_eq(t, "http", 4))
		return http_fail(s, 400, "unsupported scheme");
	if (end - p < 3 || p[1] != '/' || p[2] != '/')
		return http_fail(s, 400, "invalid request target");
	a = p + 3;
	for (p = a; p < end && *p != '/' && *p != '?'; p++)
		;
	/* "http://api?q" would need a "/" we cannot point to: refused */
	if (p < end && *p == '?')
		return http_fail(s, 400, "invalid request target");
	if (!http_authority_valid(a, (size_t)(p - a), 0))
		return http_fail(s, 400, "invalid request target");
	r->flags |= HTTP_F_ABSOLUTE;
	r->authority = a;
	r->authority_len = (size_t)(p - a);
	if (p < end) {
		r->path = p;
		r->path_len = (size_t)(end - p);
	} else {
		/* RFC 9112 3.2.4: an empty path is "*" for OPTIONS, else "/" */
		r->path = options ? "*" : "/";
		r->path_len = 1;
	}
	return 0;
}

int
http_frame_request(struct http_scan *s, struct http_request *r)
{
	struct fields f;
	int rc;

	fields_collect(r->headers, r->nheaders, &f);

	if (f.nhost > 1)
		return http_fail(s, 400, "duplicate host");
	if (f.host != NULL && !http_authority_valid(f.host->value, f.host->value_len, 0))
		return http_fail(s, 400, "invalid host");
	if (f.host == NULL && r->minor == 1)
		return http_fail(s, 400, "missing host");
	if (r->flags & (HTTP_F_ABSOLUTE | HTTP_F_CONNECT)) {
		if (f.host != NULL && !http_authority_equal(r->authority, r->authority_len,
		                                            f.host->value, f.host->value_len))
			return http_fail(s, 400, "host disagrees with target");
	} else if (f.host != NULL) {
		r->authority = f.host->value;
		r->authority_len = f.host->value_len;
	}

	rc = framing(s, &f, r->minor, &r->body, &r->content_length);
	if (rc != 0)
		return rc;

	/* RFC 9110 10.1.1: 100-continue is the only expectation defined; an
	 * HTTP/1.0 request's Expect is ignored.  An empty value expects
	 * nothing. */
	if (r->minor == 1 && f.expect != NULL) {
		for (size_t i = 0; i < r->nheaders; i++) {
			const struct http_header *h = &r->headers[i];

			if (!NAME_IS(h, "expect") || h->value_len == 0)
				continue;
			if (f.nexpect > 1 || h->value_len != 12 ||
			    !http_ci_eq(h->value, "100-continue", 12))
				return http_fail(s, 417, "unsupported expectation");
			r->flags |= HTTP_F_CONTINUE;
		}
	}

	if (persistent(&f, r->minor))
		r->flags |= HTTP_F_KEEPALIVE;
	/* RFC 9110 7.8: Upgrade in an HTTP/1.0 request is ignored.  An offer
	 * of h2c is ignored too (RFC 9113 3.1 deprecates it): relayed, it
	 * would hand the connection to HTTP/2 between caller and app, where
	 * the proxy no longer sees requests, so no route, retry, fault or
	 * count would apply to them.  The request goes on as HTTP/1.1 and
	 * its Upgrade is dropped like any hop-by-hop field. */
	if (r->minor == 1 && f.upgrade && f.upgrade_token && !f.h2c)
		r->flags |= HTTP_F_UPGRADE;
	if (r->flags & HTTP_F_CONNECT) {
		/* what follows a CONNECT head is tunnel data, never a request:
		 * the proxy answers 501 and closes */
		r->body = HTTP_BODY_NONE;
		r->content_length = 0;
		r->flags &= ~HTTP_F_KEEPALIVE;
	}
	return 0;
}

int
http_frame_response(struct http_scan *s, struct http_response *r, int head_request)
{
	struct fields f;
	int rc;

	fields_collect(r->headers, r->nheaders, &f);
	rc = framing(s, &f, r->minor, &r->body, &r->content_length);
	if (rc != 0)
		return rc;

	if (head_request || r->code < 200 || r->code == 204 || r->code == 304) {
		/* RFC 9112 6.3 rules 1-2: no content whatever the fields say */
		r->body = HTTP_BODY_NONE;
		r->content_length = 0;
	} else if (r->body == HTTP_BODY_NONE) {
		r->body = HTTP_BODY_EOF;
	}

	if (persistent(&f, r->minor) && r->body != HTTP_BODY_EOF)
		r->flags |= HTTP_F_KEEPALIVE;
	if (r->code == 101) {
		/* the connection now speaks the Upgrade protocol */
		r->flags |= HTTP_F_UPGRADE;
		r->flags &= ~HTTP_F_KEEPALIVE;
	}
	return 0;
}
