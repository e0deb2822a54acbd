/* SPDX-License-Identifier: ISC */
/*
 * transport_tls: mTLS between sidecars over wolfSSL, non-blocking.
 * States and errors are documented in include/mesh/transport_tls.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>

#include "mesh/log.h"
#include "mesh/pki.h"
#include "mesh/stats.h"
#include "mesh/tls_rahead.h"
#include "mesh/tlsctx.h"
#include "mesh/epaddr.h"
#include "mesh/transport_tls.h"

/* Coalescing buffer for writev: one TLS record (16 KiB of plaintext) per
 * call instead of one per iovec.  One per process: the proxy is one
 * thread, and wolfSSL keeps nothing pointing into it between calls (a
 * retry after WANT_WRITE re-reads the caller's bytes, which are the same). */
#define TLS_COALESCE 16384
static unsigned char tls_scratch[TLS_COALESCE];

static struct tlsctx *tls_ctx;
static const char  *(*tls_expect)(struct epaddr at, void *arg);
static void         *tls_expect_arg;

enum tls_state { TLS_HANDSHAKE, TLS_OPEN, TLS_FAILED };

struct tls_conn {
	WOLFSSL        *ssl;
	enum tls_state  state;
	uint8_t         server;
	uint8_t         started;      /* first handshake step taken (port known) */
	uint8_t         saved;        /* caller: session cached for resumption */
	uint8_t         shut_pending; /* close_notify not flushed yet */
	int             errnum;       /* TLS_FAILED: errno every call returns */
	size_t          inflight;     /* bytes handed to a wolfSSL_write that said WANT_WRITE */
	struct epaddr   addr;         /* the callee's address (caller) / ours (callee) */
	char            peer[SPIFFE_SVC_MAX + 1];
	struct tls_rahead ra;         /* wolfSSL's receive path (tls_rahead.h) */
};

void
transport_tls_setup(struct tlsctx *t, const char *(*expect)(struct epaddr, void *), void *arg)
{
	tls_ctx = t;
	tls_expect = expect;
	tls_expect_arg = arg;
}

const char *
transport_tls_peer(const struct tconn *c)
{
	const struct tls_conn *tc;

	if ((c->t != &transport_tls && c->t != &transport_tls_h2) || c->priv == NULL)
		return NULL;
	tc = c->priv;
	return tc->state == TLS_OPEN ? tc->peer : NULL;
}

/*
 * ALPN (RFC 7301): an inbound port offers "h2" and "http/1.1"; the HTTP/2
 * sessions between sidecars ask for "h2" (transport_tls_h2).  The proxy
 * reads the protocol from the first bytes either way (h2.h); ALPN says it
 * at the handshake, as RFC 9113 3.2 wants for HTTP/2 over TLS.  A peer
 * that offers neither still connects.  "h2" is offered only when the app
 * behind the port speaks it: a client that offers both (curl) must not
 * be steered to HTTP/2 for an HTTP/1.1 app, which the mesh does not
 * translate to.
 */
static int tls_offer_h2;

void
transport_tls_offer_h2(int on)
{
	tls_offer_h2 = on;
}

static void
tls_alpn(struct tls_conn *tc, const char *list)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%s", list);
	if (wolfSSL_UseALPN(tc->ssl, buf, (unsigned)strlen(buf),
	    WOLFSSL_ALPN_CONTINUE_ON_MISMATCH) != WOLFSSL_SUCCESS)
		log_debug("tls: ALPN %s not set", list);
}

static int
tls_open(struct tconn *c, int fd, int server)
{
	struct tls_conn *tc;

	c->fd = fd;
	c->rwant = EV_READ;
	c->wwant = EV_WRITE;
	if (tls_ctx == NULL || !tlsctx_ready(tls_ctx)) {
		errno = EAGAIN;     /* no certificate yet */
		return -1;
	}
	if ((tc = calloc(1, sizeof(*tc))) == NULL)
		return -1;
	/* The caller's fd is not connected yet: the session to resume is
	 * picked at the first handshake step, when the peer is known. */
	if ((tc->ssl = tlsctx_ssl_new(tls_ctx, fd, server, NULL)) == NULL) {
		free(tc);
		errno = ENOMEM;
		return -1;
	}
	tc->server = (uint8_t)server;
	tls_rahead_init(&tc->ra, fd);
	tls_rahead_attach(&tc->ra, tc->ssl);
	c->priv = tc;
	if (server)
		tls_alpn(tc, tls_offer_h2 ? "h2,http/1.1" : "http/1.1");
	return 0;
}

static int
tls_open_h2(struct tconn *c, int fd, int server)
{
	if (tls_open(c, fd, server) == -1)
		return -1;
	if (!server)
		tls_alpn(c->priv, "h2");
	return 0;
}

static void
tls_fail(struct tls_conn *tc, int errnum)
{
	tc->state = TLS_FAILED;
	tc->errnum = errnum;
	errno = errnum;
}

/* Map a wolfSSL failure of ret to errno; set *want for WANT_*.  -1. */
static int
tls_error(struct tconn *c, struct tls_conn *tc, int ret, unsigned *want, const char *op)
{
	char msg[WOLFSSL_MAX_ERROR_SZ];
	int e = wolfSSL_get_error(tc->ssl, ret);

	switch (e) {
	case WOLFSSL_ERROR_WANT_READ:
		*want = EV_READ;
		errno = EAGAIN;
		return -1;
	case WOLFSSL_ERROR_WANT_WRITE:
		*want = EV_WRITE;
		errno = EAGAIN;
		return -1;
	case SOCKET_PEER_CLOSED_E:
	case SOCKET_ERROR_E:
		/* gone without close_notify: never mistake it for a clean end */
		tls_fail(tc, ECONNRESET);
		return -1;
	default:
		wolfSSL_ERR_error_string_n((unsigned long)e, msg, sizeof(msg));
		log_warnx(EPADDR_FMT ": mTLS %s failed: %s", EPADDR_ARGS(tc->addr), op, msg);
		tls_fail(tc, EPROTO);
		return -1;
	}
}

static struct epaddr
tls_addr(int fd, int peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
	             : getsockname(fd, (struct sockaddr *)&ss, &len);

	if (r == -1 || ss.ss_family != AF_INET)
		return epaddr_make(0, 0);
	return epaddr_make(ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr),
	    ntohs(((struct sockaddr_in *)&ss)->sin_port));
}

/*
 * Caller side: a resumed connection ended before its first byte in.  The
 * callee may have accepted the ticket but lost the chain it stands for
 * (its session cache is small and shared by every caller: enough other
 * handshakes evict it), and so refused us after the handshake.  Offered
 * again, that session would be refused on every reconnect: forget it, and
 * the next connect is a full handshake.
 */
static void
tls_drop_unproven(struct tls_conn *tc)
{
	char ep[32];

	if (tc->server || tc->saved || !tc->started || !wolfSSL_session_reused(tc->ssl))
		return;
	(void)epaddr_format(tc->addr, ep, sizeof(ep));
	tlsctx_session_forget(tls_ctx, ep);
}

int
transport_tls_resumed(const struct tconn *c)
{
	const struct tls_conn *tc;

	if ((c->t != &transport_tls && c->t != &transport_tls_h2) || c->priv == NULL)
		return 0;
	tc = c->priv;
	return !tc->server && tc->started && wolfSSL_session_reused(tc->ssl);
}

/* The handshake is done: check who is on the other side.  0 or -1. */
static int
tls_verified(struct tls_conn *tc)
{
	const char *expect = NULL;
	struct spiffe_id peer;
	int rc;

	if (!tc->server) {
		expect = tls_expect != NULL ? tls_expect(tc->addr, tls_expect_arg) : NULL;
		if (expect == NULL) {
			log_warnx(EPADDR_FMT ": mTLS: no service is expected there; refusing it",
			    EPADDR_ARGS(tc->addr));
			tls_fail(tc, EACCES);
			return -1;
		}
	}
	if ((rc = tlsctx_verify_peer(tls_ctx, tc->ssl, expect, &peer)) != 0) {
		/* a caller refused by `allow` (tcp inbound) is a refusal,
		 * anything else a failed handshake */
		stats_inc(rc == TLSCTX_E_DENIED ? STAT_REFUSED_NOT_ALLOWED
		                                : STAT_TLS_HANDSHAKES_FAILED);
		log_warnx(EPADDR_FMT ": mTLS peer refused: %s%s%s", EPADDR_ARGS(tc->addr),
		    tlsctx_strerror(rc),
		    expect != NULL ? "; expected service " : "", expect != NULL ? expect : "");
		tls_fail(tc, EACCES);
		return -1;
	}
	memcpy(tc->peer, peer.svc, sizeof(tc->peer));
	tc->state = TLS_OPEN;
	stats_inc(STAT_TLS_HANDSHAKES_OK);
	return 0;
}

/*
 * The fixed-point ECC tables a handshake builds (pki_trim()) are dropped
 * once handshakes stop, not after each one: a burst of new connections
 * shares them, and an idle sidecar gives their megabytes back
 * TLS_TRIM_IDLE_S after its last handshake.  Dropping them after every
 * handshake made each rebuild them (about 27 ms of CPU a handshake, 30
 * full handshakes a second on the bench VM, and a cheap way for any
 * client to burn a sidecar's CPU).
 */
#define TLS_TRIM_IDLE_S 2.0

static ev_timer tls_trim_timer;
static int      tls_trim_armed;

static void
tls_trim_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	ev_timer_stop(loop, w);
	pki_trim();
}

static void
tls_trim_later(void)
{
	if (!tls_trim_armed) {
		ev_timer_init(&tls_trim_timer, tls_trim_cb, 0., TLS_TRIM_IDLE_S);
		tls_trim_armed = 1;
	}
	ev_timer_again(EV_DEFAULT, &tls_trim_timer);   /* restarts the countdown */
}

/*
 * Make the connection usable: 1 when open, -1 with errno otherwise
 * (EAGAIN with *want set while the handshake waits).
 */
static int
tls_ready(struct tconn *c, struct tls_conn *tc, unsigned *want)
{
	char ep[32];
	int r;

	if (tc->state == TLS_OPEN)
		return 1;
	if (tc->state == TLS_FAILED) {
		errno = tc->errnum;
		return -1;
	}
	if (!tc->started) {
		tc->started = 1;
		tc->addr = tls_addr(c->fd, !tc->server);
		if (!tc->server) {
			(void)epaddr_format(tc->addr, ep, sizeof(ep));
			(void)tlsctx_session_resume(tls_ctx, tc->ssl, ep);
		}
	}
	r = tc->server ? wolfSSL_accept(tc->ssl) : wolfSSL_connect(tc->ssl);
	if (r != WOLFSSL_SUCCESS) {
		r = tls_error(c, tc, r, want, "handshake");
		if (tc->state == TLS_FAILED) {
			stats_inc(STAT_TLS_HANDSHAKES_FAILED);
			tls_drop_unproven(tc);
			tls_trim_later();
		}
		return r;
	}
	tls_trim_later();
	if (tls_verified(tc) == -1)
		return -1;
	/* Either direction may have been waiting on the handshake for the
	 * other event: from now on reads wait to read, writes to write. */
	c->rwant = EV_READ;
	c->wwant = EV_WRITE;
	return 1;
}

static ssize_t
tls_read_step(struct tconn *c, struct tls_conn *tc, void *buf, size_t len)
{
	char ep[32];
	int n;

	if (tls_ready(c, tc, &c->rwant) != 1)
		return -1;
	/* Not before: a peer that has not proven who it is cannot make us
	 * hold a buffer for the bytes it sends ahead. */
	tc->ra.greedy = 1;
	if (tc->shut_pending && wolfSSL_shutdown(tc->ssl) != WOLFSSL_FATAL_ERROR)
		tc->shut_pending = 0;
	n = wolfSSL_read(tc->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (n > 0) {
		c->rwant = EV_READ;
		/* By the first response the TLS 1.3 ticket has been read. */
		if (!tc->server && !tc->saved) {
			(void)epaddr_format(tc->addr, ep, sizeof(ep));
			tlsctx_session_save(tls_ctx, tc->ssl, ep);
			tc->saved = 1;
		}
		return n;
	}
	if (wolfSSL_get_error(tc->ssl, n) == WOLFSSL_ERROR_ZERO_RETURN) {
		tls_drop_unproven(tc);
		return 0;
	}
	n = tls_error(c, tc, n, &c->rwant, "read");
	if (tc->state == TLS_FAILED)
		tls_drop_unproven(tc);
	return n;
}

/*
 * Once the peer is verified, reads take from the socket all it holds in
 * one readv(); what wolfSSL has not consumed when the call returns waits
 * in a pool buffer, and tls_pending() tells the relay to read again
 * before it waits for the socket (tls_rahead.h).  Handshake steps read
 * what wolfSSL asks, no more.
 */
static ssize_t
tls_read(struct tconn *c, void *buf, size_t len)
{
	struct tls_conn *tc = c->priv;
	ssize_t n;
	int e;

	n = tls_read_step(c, tc, buf, len);
	tc->ra.greedy = 0;
	e = errno;
	(void)tls_rahead_park(&tc->ra);   /* a lost park fails the next read */
	errno = e;
	return n;
}

static ssize_t
tls_writev(struct tconn *c, const struct iovec *iov, int iovcnt)
{
	struct tls_conn *tc = c->priv;
	const void *p;
	size_t len = 0;
	int i, n;

	if (tls_ready(c, tc, &c->wwant) != 1)
		return -1;
	while (iovcnt > 0 && iov[0].iov_len == 0) {
		iov++;
		iovcnt--;
	}
	if (iovcnt == 0)
		return 0;
	if (iovcnt == 1 || iov[0].iov_len >= TLS_COALESCE) {
		p = iov[0].iov_base;
		len = iov[0].iov_len;
	} else {
		for (i = 0; i < iovcnt && len < TLS_COALESCE; i++) {
			size_t k = iov[i].iov_len;

			if (k > TLS_COALESCE - len)
				k = TLS_COALESCE - len;
			memcpy(tls_scratch + len, iov[i].iov_base, k);
			len += k;
		}
		p = tls_scratch;
	}
	if (len > INT32_MAX)
		len = INT32_MAX;
	/* wolfSSL resumes an interrupted write by count: it must be offered
	 * at least what it already took.  The relay never takes bytes back,
	 * so this only guards the contract. */
	if (len < tc->inflight) {
		tls_fail(tc, EIO);
		return -1;
	}
	n = wolfSSL_write(tc->ssl, p, (int)len);
	if (n > 0) {
		tc->inflight = 0;
		c->wwant = EV_WRITE;
		return n;
	}
	if (wolfSSL_get_error(tc->ssl, n) == WOLFSSL_ERROR_WANT_WRITE)
		tc->inflight = len;
	return tls_error(c, tc, n, &c->wwant, "write");
}

static size_t
tls_pending(const struct tconn *c)
{
	struct tls_conn *tc = c->priv;
	int n;

	if (tc == NULL || tc->state != TLS_OPEN)
		return 0;
	n = wolfSSL_pending(tc->ssl);
	if (n > 0)
		return (size_t)n;
	/* undecrypted bytes already off the socket: worth one more read */
	if (wolfSSL_has_pending(tc->ssl))
		return 1;
	/* a whole record read ahead: epoll will not say so */
	return tls_rahead_pending(&tc->ra);
}

static int
tls_established(const struct tconn *c)
{
	const struct tls_conn *tc = c->priv;

	return tc != NULL && tc->state == TLS_OPEN;
}

static int
tls_shutdown(struct tconn *c)
{
	struct tls_conn *tc = c->priv;
	int r;

	if (tc->state != TLS_OPEN)
		return shutdown(c->fd, SHUT_WR);
	r = wolfSSL_shutdown(tc->ssl);
	if (r == WOLFSSL_FATAL_ERROR &&
	    wolfSSL_get_error(tc->ssl, r) == WOLFSSL_ERROR_WANT_WRITE) {
		/* the alert waits in wolfSSL's buffer; a later read or close
		 * pushes it, and only then may the FIN follow it */
		tc->shut_pending = 1;
		return 0;
	}
	return shutdown(c->fd, SHUT_WR);
}

static void
tls_close(struct tconn *c)
{
	struct tls_conn *tc = c->priv;

	if (tc != NULL) {
		/* Say goodbye (best effort, never waiting) so that the peer
		 * reads a clean end, not a truncation, when a pooled or
		 * finished connection goes away.  Not while a record waits in
		 * wolfSSL's output buffer (a write said WANT_WRITE: the peer
		 * stopped reading, and the idle timeout closes us) or an
		 * earlier close_notify does: what the peer got is cut short
		 * anyway, and wolfSSL 5.5's shutdown then sends that buffer
		 * from past its end (ASan: heap-buffer-overflow in send, seen
		 * with tests/integ/sec_slow.sh's stopped readers). */
		if (tc->state == TLS_OPEN && tc->inflight == 0 && !tc->shut_pending)
			(void)wolfSSL_shutdown(tc->ssl);
		wolfSSL_free(tc->ssl);
		tls_rahead_release(&tc->ra);
		free(tc);
		c->priv = NULL;
	}
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}

const struct transport transport_tls = {
	.name = "tls",
	.open = tls_open,
	.read = tls_read,
	.writev = tls_writev,
	.pending = tls_pending,
	.established = tls_established,
	.shutdown = tls_shutdown,
	.close = tls_close,
};

const struct transport transport_tls_h2 = {
	.name = "tls-h2",
	.open = tls_open_h2,
	.read = tls_read,
	.writev = tls_writev,
	.pending = tls_pending,
	.established = tls_established,
	.shutdown = tls_shutdown,
	.close = tls_close,
};
