/* SPDX-License-Identifier: ISC */
/*
 * tls_rahead: wolfSSL's receive callback with read-ahead, so that a TLS
 * connection takes what the socket holds in one readv() instead of one
 * recv() for each record header and one for each record body.
 *
 * wolfSSL asks its receive callback for exactly the bytes it needs next
 * (5 for a record header, then the body).  In greedy mode the callback
 * reads those into wolfSSL's buffer and, in the same readv(), whatever
 * else is there into a scratch area shared by every connection of the
 * process (one thread: one wolfSSL call at a time).  Later requests of
 * the same wolfSSL call are served from it.  When the call returns,
 * tls_rahead_park() moves what is left to a buffer of the pool (buf.h)
 * held by this connection only until it is drained: an idle connection
 * holds nothing.  Bytes read ahead are always served before the socket
 * is read again.
 *
 * Readiness: bytes read ahead are in user space, where epoll cannot see
 * them.  tls_rahead_pending() says whether they hold a whole record (a
 * read would progress without the socket); the transport reports that
 * through transport.h's pending(), which the relay checks before it
 * waits for the socket.  Only reads of a verified connection are greedy:
 * a handshake reads exactly what wolfSSL asks, so nothing read by a
 * handshake step driven by a write can wait unseen while the caller
 * waits to write, and a peer not yet verified cannot make us hold a
 * buffer for the bytes it sends ahead.
 *
 * Errors follow wolfSSL's CallbackIORecv convention, with errno as
 * readv() left it: WOLFSSL_CBIO_ERR_WANT_READ (EAGAIN), _CONN_CLOSE (end
 * of stream, EPIPE, ECONNABORTED), _CONN_RST (ECONNRESET), _ISR (EINTR:
 * wolfSSL retries), _GENERAL (anything else; ENOMEM when a park found no
 * buffer and the read-ahead bytes were lost).
 */
#ifndef MESH_TLS_RAHEAD_H
#define MESH_TLS_RAHEAD_H

#include <stddef.h>

struct buf;
struct WOLFSSL;

/* The scratch area: a full TLS record (16 KiB of plaintext plus the
 * largest overhead wolfSSL accepts) beyond what wolfSSL asked for; never
 * more than a pool buffer holds, so a park always fits in one. */
#define TLS_RAHEAD_SCRATCH (16384 + 2048)

struct tls_rahead {
	int         fd;      /* ro */
	int         greedy;  /* rw: read beyond what wolfSSL asks (read calls only) */
	int         err;     /* private: errno to report (a lost park), 0 if none */
	struct buf *left;    /* private: bytes read ahead, NULL when none */
};

void   tls_rahead_init(struct tls_rahead *ra, int fd);
/* Make ra the receive path of ssl (wolfSSL_SSLSetIORecv + SetIOReadCtx). */
void   tls_rahead_attach(struct tls_rahead *ra, struct WOLFSSL *ssl);
/* Give wolfSSL up to sz bytes at dst: a CallbackIORecv without the ssl. */
int    tls_rahead_recv(struct tls_rahead *ra, char *dst, int sz);
/* After each wolfSSL call: keep ra's bytes still in the shared scratch
 * in a pool buffer.  0, or -1 (no buffer: the bytes are lost, the next
 * recv fails with ENOMEM). */
int    tls_rahead_park(struct tls_rahead *ra);
/* Bytes read ahead when they begin with a whole TLS record (1 if an
 * error waits to be reported), else 0: a partial record needs the
 * socket, which epoll watches. */
size_t tls_rahead_pending(const struct tls_rahead *ra);
/* Bytes read ahead, whole records or not (tests, statistics). */
size_t tls_rahead_buffered(const struct tls_rahead *ra);
/* Drop everything read ahead (the connection closes). */
void   tls_rahead_release(struct tls_rahead *ra);

#endif
