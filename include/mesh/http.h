/*
 * http: a strict, zero-copy, incremental HTTP/1.1 parser (RFC 9112).
 *
 * Like picohttpparser: the caller holds the bytes; parsed fields point
 * into them.  Parse functions return the number of bytes of the header
 * block consumed (> 0), HTTP_INCOMPLETE (-2) when more bytes are needed,
 * or HTTP_ERROR (-1) with `status` (400, 414, 431, 501, 505) and `reason`
 * (a short phrase for the `mesh-error:` header) set.  A partial block
 * already over a limit is an error at once, not "incomplete".
 *
 * Refused (RFC 9112 and DESIGN.md Part 3): Content-Length together with
 * Transfer-Encoding; duplicate or invalid Content-Length (differing or
 * not 1*DIGIT); Transfer-Encoding other than a final "chunked" (501);
 * obs-fold; bare CR or bare LF as a line end; whitespace before the
 * colon; CR, LF or NUL in a value; missing Host on 1.1, more than one
 * Host, or a Host that disagrees with an absolute-form authority; HTTP/0.9
 * and versions other than 1.0/1.1 (505); request line over line_bytes
 * (414); header block over header_bytes or more than max_headers (431).
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
	const char        *path;      size_t path_len;     /* origin-form part ("/" if absolute-form had none) */
	const char        *authority; size_t authority_len;/* from absolute-form, else Host */
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
 */
struct http_chunked {
	int      state;      /* private */
	uint64_t remaining;  /* private: data bytes left in the current chunk */
	uint32_t linelen;    /* private */
	uint32_t trailer;    /* private: trailer bytes so far */
	uint32_t line_max;   /* rw: set by init */
	uint32_t trailer_max;/* rw: set by init */
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

/* Standard reason phrase for a status code ("Bad Request"...). */
const char *http_status_text(int code);

#endif
