/* SPDX-License-Identifier: ISC */
/*
 * tlsctx: the wolfSSL contexts a sidecar uses between sidecars.
 *
 * One struct tlsctx per process holds the trust domain, the `allow` list,
 * a server and a client WOLFSSL_CTX built from the current identity
 * (key + leaf + CA, see csr.h), and a small client session cache.
 *
 * Policy (docs/architecture.md, "Identity"):
 *  - TLS 1.3, TLS 1.2 the floor (wolfSSL_CTX_SetMinVersion); ECDHE only
 *    (X25519, then P-256); AES-128-GCM and ChaCha20-Poly1305 only.
 *  - Cipher order: AES-128-GCM first only when AES is fast here, that is
 *    the CPU has AES instructions (x86 AES-NI via CPUID; ARMv8 Crypto
 *    Extensions via AT_HWCAP/AT_HWCAP2) AND the linked wolfSSL was built
 *    to use them (WOLFSSL_AESNI / WOLFSSL_ARMASM in its options.h).
 *    Otherwise ChaCha20-Poly1305 first: software AES is slower than
 *    ChaCha20 and its table lookups leak timing.  Debian's shared
 *    libwolfssl (make WOLFSSL=system) is built without WOLFSSL_AESNI, so
 *    there ChaCha20 comes first even on AES-NI machines (measured with that
 *    build on an AES-NI x86-64: AES-128-GCM 48 MB/s, ChaCha20-Poly1305
 *    139 MB/s, 16 KiB records); scripts/wolfssl.sh's static build has it
 *    on amd64, so AES-128-GCM comes first there.  Both ends of a
 *    connection run on one host and compute the same order; the server's
 *    order decides.
 *  - Both sides present a certificate (joined mode, pki.h: the leaf and
 *    the intermediate that signed it) and verify the peer's chain against
 *    our roots alone (VERIFY_PEER | FAIL_IF_NO_PEER_CERT); then, new handshake or
 *    resumed, tlsctx_verify_peer() checks the SPIFFE ID (spiffe.h), the
 *    callee applies `allow`, the caller checks it reached whom it meant.
 *  - Resumption: the client keeps one session per endpoint (the callee
 *    sidecar's address) so pooled reconnects skip the full handshake.
 *  - Rotation: tlsctx_set_identity() builds new contexts; new connections
 *    use them, open ones keep the old contexts (wolfSSL reference-counts
 *    a WOLFSSL_CTX per WOLFSSL), which go away with their last connection.
 *  - Trust: the roots of the bundle set by tlsctx_set_trust() (two during
 *    a root rollover), each loaded into both contexts; without a bundle,
 *    the identity's own CA.  A resumed session is checked against the
 *    current roots too, so a peer whose root was retired cannot come back
 *    on an old ticket.
 *  - Joined mode (pki.h): a peer's chain is leaf, intermediate; the
 *    intermediate must be a CA (keyCertSign) signed by a trusted root.
 *    wolfSSL keeps an intermediate it verified in a full handshake in the
 *    context's store, so a later peer sending the leaf alone passes too;
 *    contexts are rebuilt at every renewal or trust change, which bounds
 *    that (and the store never holds anything a root did not sign).
 * Memory: with Debian's libwolfssl (OPENSSL_ALL, SESSION_CERTS, ...) a
 * WOLFSSL costs ~56 KiB at wolfSSL_new() and ~78 KiB after a handshake,
 * per side; pooling keeps the count low, a leaner wolfSSL build would
 * shrink it.
 * Single-threaded: the proxy's loop owns it.
 */
#ifndef MESH_TLSCTX_H
#define MESH_TLSCTX_H

#include <stddef.h>

#include "mesh/pki.h"
#include "mesh/spiffe.h"

struct WOLFSSL;

#define TLSCTX_SESSIONS    64   /* endpoints remembered for resumption */
#define TLSCTX_ENDPOINT_MAX 64  /* "127.0.0.1:15002", or any caller's key */

enum tlsctx_prefer {
	TLSCTX_PREFER_AUTO,     /* by tlsctx_aes_fast() */
	TLSCTX_PREFER_AES,
	TLSCTX_PREFER_CHACHA,
};

/* Errors of tlsctx_verify_peer(): an enum spiffe_err, or one of these. */
enum tlsctx_err {
	TLSCTX_E_NO_CERT = 100,   /* no peer certificate (should not happen) */
	TLSCTX_E_DENIED,          /* callee: caller not in `allow` */
	TLSCTX_E_WRONG_PEER,      /* caller: the callee is another service */
	TLSCTX_E_EXPIRED,         /* resumed session whose peer leaf has expired since */
	TLSCTX_E_UNTRUSTED,       /* resumed session whose peer's root is no longer trusted */
};

/* The identity to present; DER buffers are copied. */
struct tlsctx_ident {
	const unsigned char *key;   /* EC private key (SEC1 DER) */
	size_t               keylen;
	const unsigned char *leaf;
	size_t               leaflen;
	const unsigned char *ca;    /* the root to trust */
	size_t               calen;
	const unsigned char *inter; /* joined mode: the intermediate presented
	                             * after the leaf; NULL: none */
	size_t               interlen;
};

/* 1 if AES-GCM is hardware-accelerated for this process (see above). */
int tlsctx_aes_fast(void);
/* The wolfSSL cipher list for a preference (AUTO resolved). */
const char *tlsctx_cipher_list(enum tlsctx_prefer p);

/* A context without identity yet; td is our trust domain.  NULL on
 * failure with the reason in err. */
struct tlsctx *tlsctx_new(const char *td, enum tlsctx_prefer p, char *err, size_t errlen);
void           tlsctx_free(struct tlsctx *t);

/* Install (or rotate to) an identity.  0, or -1 with the reason in err;
 * on failure the previous identity stays in use.  On success the client
 * session cache is emptied: a resumed session would present the old leaf. */
int tlsctx_set_identity(struct tlsctx *t, const struct tlsctx_ident *id,
                        char *err, size_t errlen);
/* The roots to trust from the next tlsctx_set_identity() on (copied;
 * NULL or an empty bundle: the identity's own CA).  Call
 * tlsctx_set_identity() after it to build contexts that use it. */
void tlsctx_set_trust(struct tlsctx *t, const struct pki_bundle *b);
/* The services allowed to call us (copied); n == 0 allows every identity
 * of the trust domain.  0 or -1 (a name is invalid / out of memory). */
int tlsctx_set_allow(struct tlsctx *t, const char *const *allow, size_t n);
/* 1 once an identity is installed. */
int tlsctx_ready(const struct tlsctx *t);

/*
 * A new non-blocking WOLFSSL on a connected fd, from the current
 * contexts.  Client side with endpoint != NULL: resume the session cached
 * for it, if any.  NULL when no identity is installed or out of memory.
 * Free with wolfSSL_free().
 */
struct WOLFSSL *tlsctx_ssl_new(struct tlsctx *t, int fd, int server, const char *endpoint);

/* Client, before the handshake starts: offer the session cached for
 * endpoint, and drop it from the cache (a ticket is used once; the
 * connection saves the one it brings back).  1 if one was set, 0 if none
 * (a full handshake follows). */
int tlsctx_session_resume(struct tlsctx *t, struct WOLFSSL *ssl, const char *endpoint);

/* Client: remember ssl's session for endpoint (call once the handshake
 * is done and something was read: TLS 1.3 tickets arrive after it). */
void tlsctx_session_save(struct tlsctx *t, struct WOLFSSL *ssl, const char *endpoint);
/* Drop what is cached for endpoint (its callee refused a resumed
 * connection), and offer it no ticket for the next 2 s: full handshakes
 * while the callee's session cache churns. */
void tlsctx_session_forget(struct tlsctx *t, const char *endpoint);

/*
 * After a completed handshake: the peer's leaf passes spiffe_check_*();
 * the callee (expect == NULL) then requires the caller's service to be in
 * `allow`; the caller requires it to equal expect.  0 with *peer filled
 * (if not NULL), or an enum spiffe_err / enum tlsctx_err.
 */
int tlsctx_verify_peer(struct tlsctx *t, struct WOLFSSL *ssl, const char *expect,
                       struct spiffe_id *peer);
const char *tlsctx_strerror(int err);

#endif
