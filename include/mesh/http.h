/* SPDX-License-Identifier: ISC */
/*
 * http: a strict, zero-copy, incremental HTTP/1.1 parser (RFC 9112).
 *
 * Like picohttpparser: the caller holds the bytes; parsed fields point
 * into them.  Parse functions return the number of bytes of the header
 * block consumed (> 0), HTTP_INCOMPLETE (-2) when more bytes are needed,
 * or HTTP_ERROR (-1) with `status` (400, 414, 417, 431, 501, 505) and `reason`
 * (a short phrase for the `mesh-error:` header) set.  A partial block
 * already over a limit is an error at once, not "incomplete".
 *
 * Refused (RFC 9112; docs/architecture.md, "Strict parsing"): Content-Length together with
 * Transfer-Encoding; duplicate or invalid Content-Length (differing or
 * not 1*DIGIT); Transfer-Encoding other than "chunked" alone (501);
 * obs-fold; bare CR or bare LF as a line end; whitespace before the
 * colon; CR, LF or NUL in a value; missing Host on 1.1, more than one
 * Host, or a Host that disagrees with an absolute-form authority; HTTP/0.9
 * and versions other than 1.0/1.1 (505); request line over line_bytes
 * (414); header block over header_bytes or more than max_headers (431).
 *
 * Exact rules (decisions where RFC 9112 leaves a choice):
 *  - Re-parse from the start as bytes arrive; the cost is linear in the
 *    bytes given.  Bytes after the head (body, a pipelined request) are
 *    not looked at.  Each byte is judged when first seen, so an error is
 *    reported as soon as its cause has arrived, and a prefix of any input
 *    gives HTTP_INCOMPLETE or the same verdict as the whole.  On
 *    HTTP_ERROR only status and reason are meaningful.
 *  - lim may be NULL: 8192 / 16384 / 100.  A zero limit is a zero limit.
 *  - line_bytes bounds the request/status line without its CRLF: a line
 *    of exactly line_bytes is accepted; as soon as byte line_bytes+1 of
 *    the line arrives it is 414.  header_bytes bounds everything
 *    returned (optional leading CRLF, start line, fields, final CRLF):
 *    the return value is never above it; once more than header_bytes
 *    bytes are buffered without the end of the head it is 431.
 *    max_headers is capped at HTTP_MAX_HEADERS; field number
 *    max_headers+1 is 431 as soon as its first byte arrives.
 *  - Exactly one empty line (CRLF) before the request line is skipped
 *    (and counted in the return value); a second one is 400.
 *  - Start line: single SP separators; tchar method (case-sensitive);
 *    target bytes are visible ASCII except '#'; the version is exactly
 *    "HTTP/1.0" or "HTTP/1.1", another "HTTP/d.d" is 505, no version
 *    (HTTP/0.9) or anything else is 400.
 *  - Target forms: origin-form ("/..."); asterisk-form only with OPTIONS;
 *    absolute-form only for the http scheme (another scheme: 400
 *    "unsupported scheme"), no userinfo, a non-empty path or none
 *    ("http://api" gives path "/", or "*" for OPTIONS; "http://api?q" is
 *    refused since path could not point into the buffer); authority-form
 *    only with, and required by, CONNECT (host:port, port required).
 *    CONNECT parses (HTTP_F_CONNECT, body NONE, no KEEPALIVE) so the
 *    proxy can answer it: the proxy answers 501 (the method is
 *    understood but not implemented by this proxy; 405 would wrongly
 *    describe a resource) and closes.
 *  - Host: at most one; required on 1.1 (also with absolute-form and
 *    CONNECT); must be a plausible authority (reg-name of unreserved
 *    characters, IPv4, or [IPv6], optional :port 1-65535; no userinfo,
 *    no spaces, not empty).  With absolute-form or CONNECT the target's
 *    authority is used and a Host naming another authority is refused
 *    400 "host disagrees with target" (RFC 9112 3.2.2 would ignore Host;
 *    we refuse the ambiguity).  Host names compare case-insensitively
 *    and a missing port equals 80.
 *  - Content-Length: 1*DIGIT below 2^63; a second Content-Length field
 *    is refused even when equal, and so is a list ("5, 5").  Zero gives
 *    HTTP_BODY_LENGTH with content_length 0.
 *  - Transfer-Encoding: exactly one field whose value is "chunked"
 *    (any case); anything else 501; on an HTTP/1.0 request 400.
 *  - Expect (1.1 only; ignored on 1.0, RFC 9110 10.1.1): a single
 *    "100-continue" sets HTTP_F_CONTINUE; any other non-empty value, or
 *    several Expect fields, is 417 "unsupported expectation".
 *  - KEEPALIVE: 1.1 unless Connection has "close"; 1.0 only with
 *    "keep-alive" (and no "close").  UPGRADE: 1.1, Connection has
 *    "upgrade" and an Upgrade field is present that offers no "h2c"
 *    (RFC 9113 3.1 deprecates that upgrade; a proxy relaying it would
 *    let HTTP/2 past its parser): such a request is plain HTTP/1.1.
 *  - Responses: every error is status 502 with the reason.  Status code
 *    100-599; the SP before an empty reason phrase may be left out.  No
 *    body for head_request, 1xx, 204, 304 (Content-Length and
 *    Transfer-Encoding are still checked for syntax and conflict).  After
 *    a 1xx other than 101, parse the next response head.  101 sets
 *    UPGRADE and clears KEEPALIVE (the connection leaves HTTP).  A body
 *    delimited by EOF clears KEEPALIVE.
 *
 * Reasons (static strings; request status in parentheses, responses 502):
 *   "bare cr", "bare lf" (400)
 *   "invalid request line", "invalid method", "invalid request target",
 *   "unsupported scheme", "missing http version", "invalid http version" (400)
 *   "unsupported http version" (505)
 *   "request line too long" (414)     "status line too long" (502)
 *   "invalid status line", "invalid status code", "invalid reason phrase"
 *   "obs-fold", "whitespace after start line", "whitespace before colon",
 *   "invalid header name", "invalid header value" (400)
 *   "header too large", "too many headers" (431)
 *   "duplicate host", "invalid host", "missing host",
 *   "host disagrees with target" (400)
 *   "both content-length and transfer-encoding", "duplicate content-length",
 *   "invalid content-length", "transfer-encoding on http/1.0" (400)
 *   "unsupported transfer-encoding" (501)
 *   "unsupported expectation" (417)
 */
#ifndef MESH_HTTP_H
#define MESH_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_INCOMPLETE   (-2)
#define HTTP_ERROR        (-1)
#define HTTP_MAX_HEADERS  128   /* hard cap on the array; limits.max_headers <= this */

struct http_limits {
	uint32_t line_bytes;    /* request/status line */
	uint32_t header_bytes;  /* whole header block, request line included */
	uint32_t max_headers;
};

struct http_header {
	const char *name;   size_t name_len;
	const char *value;  size_t value_len;   /* OWS trimmed */
};

enum http_body {
	HTTP_BODY_NONE,      /* no body follows */
	HTTP_BODY_LENGTH,    /* content_length bytes follow */
	HTTP_BODY_CHUNKED,   /* chunked coding; use http_chunked */
	HTTP_BODY_EOF,       /* responses only: body until the connection closes */
};

/* flags */
#define HTTP_F_KEEPALIVE  0x01u  /* persistent per version + Connection */
#define HTTP_F_CONTINUE   0x02u  /* Expect: 100-continue */
#define HTTP_F_UPGRADE    0x04u  /* Connection: upgrade and an Upgrade header */
#define HTTP_F_ABSOLUTE   0x08u  /* request target in absolute-form */
#define HTTP_F_CONNECT    0x10u  /* CONNECT method (authority-form) */

struct http_request {
	const char        *method;    size_t method_len;
	const char        *target;    size_t target_len;   /* as received */
	const char        *path;      size_t path_len;     /* origin-form part ("/" if absolute-form had none; "" for CONNECT) */
	const char        *authority; size_t authority_len;/* from absolute-form or CONNECT, else Host ("" if none: 1.0) */
	int                minor;                          /* 0 or 1 */
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t             nheaders;
	enum http_body     body;
	uint64_t           content_length;
	unsigned           flags;
	int                status;    /* on HTTP_ERROR */
	const char        *reason;    /* on HTTP_ERROR, static string */
};

struct http_response {
	int                code;
	int                minor;
	const char        *phrase;    size_t phrase_len;
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t             nheaders;
	enum http_body     body;
	uint64_t           content_length;
	unsigned           flags;     /* KEEPALIVE, UPGRADE (101) */
	int                status;    /* on HTTP_ERROR: 502 */
	const char        *reason;
};

int http_parse_request(const char *buf, size_t len, const struct http_limits *lim,
                       struct http_request *req);

/* head_request: the request was HEAD (no body whatever the headers say);
 * 1xx, 204 and 304 have no body either. */
int http_parse_response(const char *buf, size_t len, const struct http_limits *lim,
                        int head_request, struct http_response *res);

/*
 * Chunked body scanner.  The proxy relays chunked bodies as they are; this
 * finds where the body ends and refuses malformed framing.  Chunk-size is
 * hex without overflow (at most 16 digits and below 2^63), chunk extensions
 * and trailers are bounded by line_bytes / header_bytes.
 *
 * Detail: a size line (digits, BWS, ";" extensions; CRLF not counted)
 * may be line_max bytes; extensions are checked for bytes only (no CTL),
 * not interpreted.  The trailer section, final CRLF included, may be
 * trailer_max bytes; trailer fields must be name ":" value lines (no
 * obs-fold).  CR must be followed by LF everywhere, and chunk data by
 * CRLF.  Any split of the input gives the same result; lim may be NULL
 * (8192 / 16384).  Errors (caller's status: 400 for a request body, 502
 * for a response body) set `reason`: "invalid chunk size", "chunk size
 * too large", "invalid chunk extension", "chunk line too long", "bare
 * cr", "bare lf", "missing crlf after chunk data", "obs-fold",
 * "whitespace before colon", "invalid trailer", "trailer too large".
 * After an error every call fails; after the end every call returns 0
 * with *done set.
 */
struct http_chunked {
	int      state;      /* private */
	uint64_t remaining;  /* private: data bytes left in the current chunk */
	uint32_t linelen;    /* private */
	uint32_t trailer;    /* private: trailer bytes so far */
	uint32_t line_max;   /* rw: set by init */
	uint32_t trailer_max;/* rw: set by init */
	const char *reason;  /* ro: on HTTP_ERROR, static string */
};

void http_chunked_init(struct http_chunked *c, const struct http_limits *lim);
/*
 * Scan `len` bytes of body.  Returns the number of bytes that belong to the
 * body (<= len), and sets *done when the last chunk and trailers ended
 * there; or HTTP_ERROR on malformed framing.  Every byte returned is to be
 * relayed as is.
 */
long http_chunked_scan(struct http_chunked *c, const char *buf, size_t len, int *done);

/* Case-insensitive header lookup among parsed headers; NULL if absent. */
const struct http_header *http_header_find(const struct http_header *h, size_t n,
                                           const char *name);
/* Does a comma-separated header value contain token (case-insensitive)? */
int http_token_list_has(const char *value, size_t len, const char *token);
/* Does an Upgrade value offer h2c (with or without "/version", any case)? */
int http_upgrade_has_h2c(const char *value, size_t len);

/* An authority as Host or a target carries it: host [":" port], host a
 * reg-name of unreserved characters, IPv4 or "[" IPv6 "]", port 1-65535
 * (required if need_port).  1 if plausible. */
int http_authority_valid(const char *a, size_t n, int need_port);
/* Same host (case-insensitive) and port (missing = 80)?  Both valid. */
int http_authority_equal(const char *a, size_t an, const char *b, size_t bn);

/* Standard reason phrase for a status code ("Bad Request"...). */
const char *http_status_text(int code);

#endif
