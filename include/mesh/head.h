/* SPDX-License-Identifier: ISC */
/*
 * head: writing message heads for the next leg.
 *
 * Each leg manages its own persistence, so hop-by-hop headers are not
 * forwarded: Connection, Keep-Alive, Proxy-Connection, TE, Trailer,
 * HTTP2-Settings, Upgrade (kept when upgrading) and any header the Connection header
 * names — except the framing headers (Content-Length, Transfer-Encoding,
 * Host), which a hostile Connection header must not remove.  Nothing is
 * added but what the leg needs: `connection: close`, `connection:
 * keep-alive` to and for an HTTP/1.0 client, `connection: upgrade` when
 * upgrading, and `host` when an absolute-form request had none.
 *
 * Every function appends to b and returns 0, or -1 when the head does
 * not fit (b is then left as it was).
 */
#ifndef MESH_HEAD_H
#define MESH_HEAD_H

#include "mesh/buf.h"
#include "mesh/http.h"

#define HEAD_UPGRADE    0x1u  /* keep Upgrade and send connection: upgrade */
#define HEAD_NO_EXPECT  0x2u  /* drop Expect (this sidecar answers 100 itself) */
#define HEAD_CLOSE      0x4u  /* send connection: close */
#define HEAD_KEEPALIVE  0x8u  /* send connection: keep-alive (HTTP/1.0 client) */
#define HEAD_NO_MESH_ERROR 0x10u /* drop mesh-error (an app's response: only
                                  * sidecars say why the mesh refused) */
#define HEAD_GRPC       0x20u /* a refusal to a gRPC caller (grpc.h) */

/* Origin-form, Host kept (or added from the authority); HTTP/1.1, or
 * HTTP/1.0 with `connection: keep-alive` for an HTTP/1.0 request (its
 * server must not answer with a chunked body the client could not read).
 * traceparent: the request's traceparent header (if any) is replaced by
 * `traceparent: <traceparent>`; NULL leaves it as it came. */
int head_request(struct buf *b, const struct http_request *r, unsigned opts,
                 const char *traceparent);
/* Status line as HTTP/1.1 with the upstream's code and phrase. */
int head_response(struct buf *b, const struct http_response *r, unsigned opts);
/* A complete refusal: status line, mesh-error, content-length, and
 * connection: close with HEAD_CLOSE; the body is the reason and "\n".
 * With HEAD_GRPC it is gRPC's trailers-only form instead: 200,
 * content-type application/grpc, grpc-status (grpc_status_of_http(code)),
 * grpc-message (the reason), mesh-error, and no body. */
int head_refusal(struct buf *b, int code, const char *reason, unsigned opts);
/* Is this header hop-by-hop for a message with these headers? */
int head_is_hop(const struct http_header *h, const struct http_header *all, size_t n,
                unsigned opts);

#endif
