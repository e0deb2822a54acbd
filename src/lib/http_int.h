/* SPDX-License-Identifier: ISC */
/*
 * http_int: what http.c shares with http_frame.c.  Private to the http
 * module; the contract is include/mesh/http.h.
 */
#ifndef MESH_HTTP_INT_H
#define MESH_HTTP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "mesh/http.h"

/* One parse: a cursor over buf[0, end), where end is the input length
 * capped at header_bytes (cut says the input went on past it). */
struct http_scan {
	const char *p;
	const char *end;
	int         cut;
	uint32_t    line_bytes;
	size_t      max_headers;   /* limits.max_headers capped at HTTP_MAX_HEADERS */
	int         status;        /* on HTTP_ERROR */
	const char *reason;
};

/* Record an error; returns HTTP_ERROR. */
int http_fail(struct http_scan *s, int status, const char *reason);

/* After the request line: classify the request-target (origin, absolute,
 * authority or asterisk form), set path, authority (absolute and
 * authority forms) and the ABSOLUTE / CONNECT flags. */
int http_frame_target(struct http_scan *s, struct http_request *r);

/* After the empty line: Host, body framing, Expect, persistence. */
int http_frame_request(struct http_scan *s, struct http_request *r);
int http_frame_response(struct http_scan *s, struct http_response *r, int head_request);

#endif
