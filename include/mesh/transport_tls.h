/* SPDX-License-Identifier: ISC */
/*
 * transport_tls: the mesh transport over mTLS (wolfSSL), behind the
 * vtable of transport.h.  Non-blocking throughout: wolfSSL's WANT_READ /
 * WANT_WRITE become EAGAIN with the event to wait for in rwant (for a
 * read) or wwant (for a write), as transport.h asks.
 *
 * A connection goes through
 *   TLS_HANDSHAKE  the first read or writev drives wolfSSL_accept/connect;
 *                  no application byte moves before the peer is verified
 *   TLS_OPEN       the peer passed tlsctx_verify_peer(): callee side, the
 *                  caller's SPIFFE ID and `allow`; caller side, the callee
 *                  is the service expected at that address (see the `expect`
 *                  callback); resumed sessions are checked the same way
 *   TLS_FAILED     handshake or check failed (logged once, naming the
 *                  address); every later call returns -1 with the same errno:
 *                  EACCES (identity refused), EPROTO (TLS error),
 *                  ECONNRESET (peer gone without close_notify)
 * A clean close_notify reads as end of stream (0).  Caller-side sessions
 * are cached per "<IPv4>:<port>" and offered on the next connect; one
 * whose connection ends before its first byte in is forgotten.
 *
 * Which identity: the tlsctx given to transport_tls_setup(), current at
 * open(); after a rotation (tlsctx_set_identity) new connections present
 * the new leaf, open ones keep theirs.  open() fails while the tlsctx has
 * no identity yet: no mesh traffic without a certificate.
 */
#ifndef MESH_TRANSPORT_TLS_H
#define MESH_TRANSPORT_TLS_H

#include <stdint.h>

#include "mesh/tlsctx.h"
#include "mesh/epaddr.h"
#include "mesh/transport.h"

extern const struct transport transport_tls;
/* The same, asking for ALPN "h2": HTTP/2 sessions between sidecars. */
extern const struct transport transport_tls_h2;
/* Whether the inbound port offers ALPN "h2" (its app speaks HTTP/2). */
void transport_tls_offer_h2(int on);

/*
 * Install the process's TLS context and, for the caller side, the
 * function naming the service expected at `at` (from the
 * sidecar's config: endpoint address -> service); NULL means "nobody we
 * know" and the connection is refused.  Call before any open().
 */
void transport_tls_setup(struct tlsctx *t,
                         const char *(*expect)(struct epaddr at, void *arg), void *arg);

/* The peer's verified service name on an open TLS connection (for the
 * access log and metrics), NULL before verification or if c is not TLS. */
const char *transport_tls_peer(const struct tconn *c);

/* Did this caller-side connection resume a cached session?  (0 for a
 * full handshake, a callee side, or c not TLS.)  A resumed connection
 * that ends before its first byte in may be the callee refusing a ticket
 * whose chain it no longer holds: the transport then forgets that
 * session, and the proxy may try once more on a fresh connection. */
int transport_tls_resumed(const struct tconn *c);

#endif
