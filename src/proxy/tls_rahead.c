/* SPDX-License-Identifier: ISC */
/*
 * tls_rahead: one readv() per batch of available bytes for wolfSSL.
 * Contract in include/mesh/tls_rahead.h.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfio.h>

#include "mesh/buf.h"
#include "mesh/tls_rahead.h"

#define TLS_RECORD_HEADER 5

/* What the last greedy readv() read beyond wolfSSL's request:
 * scratch[off .. off+len), belonging to owner until parked. */
static char               ra_scratch[TLS_RAHEAD_SCRATCH];
static size_t             ra_off, ra_len;
static struct tls_rahead *ra_owner;

void
tls_rahead_init(struct tls_rahead *ra, int fd)
{
	ra->fd = fd;
	ra->greedy = 0;
	ra->err = 0;
	ra->left = NULL;
}

static int
tls_rahead_cb(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	(void)ssl;
	return tls_rahead_recv(ctx, buf, sz);
}

void
tls_rahead_attach(struct tls_rahead *ra, struct WOLFSSL *ssl)
{
	wolfSSL_SSLSetIORecv(ssl, tls_rahead_cb);
	wolfSSL_SetIOReadCtx(ssl, ra);
}

/* Copy up to sz bytes from p/len to dst.  The count copied. */
static size_t
tls_rahead_serve(char *dst, size_t sz, const char *p, size_t len)
{
	size_t n = len < sz ? len : sz;

	memcpy(dst, p, n);
	return n;
}

static int
tls_rahead_ioerr(int e)
{
	switch (e) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
		return WOLFSSL_CBIO_ERR_WANT_READ;
	case ECONNRESET:
		return WOLFSSL_CBIO_ERR_CONN_RST;
	case EINTR:
		return WOLFSSL_CBIO_ERR_ISR;
	case EPIPE:
	case ECONNABORTED:
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	}
	return WOLFSSL_CBIO_ERR_GENERAL;
}

int
tls_rahead_recv(struct tls_rahead *ra, char *dst, int sz)
{
	struct iovec iov[2];
	size_t n, want;
	ssize_t r;
	int cnt = 1;

	if (sz <= 0)
		return 0;
	want = (size_t)sz;
	if (ra->left != NULL) {
		n = tls_rahead_serve(dst, want, buf_head(ra->left), ra->left->len);
		buf_consume(ra->left, n);
		if (ra->left->len == 0) {
			buf_put(ra->left);
			ra->left = NULL;
		}
		return (int)n;
	}
	if (ra_owner == ra) {
		n = tls_rahead_serve(dst, want, ra_scratch + ra_off, ra_len);
		ra_off += n;
		ra_len -= n;
		if (ra_len == 0)
			ra_owner = NULL;
		return (int)n;
	}
	if (ra->err != 0) {
		errno = ra->err;
		return WOLFSSL_CBIO_ERR_GENERAL;
	}
	/* Another connection's wolfSSL call ended without a park: its bytes
	 * are its own, whatever happens to them here. */
	if (ra_owner != NULL)
		(void)tls_rahead_park(ra_owner);
	iov[0].iov_base = dst;
	iov[0].iov_len = want;
	if (ra->greedy) {
		iov[1].iov_base = ra_scratch;
		iov[1].iov_len = buf_pool_size() < sizeof(ra_scratch) ?
		    buf_pool_size() : sizeof(ra_scratch);
		cnt = 2;
	}
	r = readv(ra->fd, iov, cnt);
	if (r == 0)
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	if (r == -1)
		return tls_rahead_ioerr(errno);
	if ((size_t)r > want) {
		ra_owner = ra;
		ra_off = 0;
		ra_len = (size_t)r - want;
		return sz;
	}
	return (int)r;
}

int
tls_rahead_park(struct tls_rahead *ra)
{
	if (ra_owner != ra)
		return 0;
	ra_owner = NULL;
	/* Only an empty ra reads into the scratch, and len <= the pool's
	 * buffer size (the readv's bound): one buffer takes it all. */
	if (ra->left == NULL && (ra->left = buf_get()) == NULL) {
		ra->err = ENOMEM;
		ra_len = 0;
		return -1;
	}
	(void)buf_append(ra->left, ra_scratch + ra_off, ra_len);
	ra_len = 0;
	return 0;
}

/* The bytes read ahead, wherever they are now. */
static const unsigned char *
tls_rahead_bytes(const struct tls_rahead *ra, size_t *len)
{
	if (ra->left != NULL) {
		*len = ra->left->len;
		return (const unsigned char *)ra->left->data + ra->left->off;
	}
	if (ra_owner == ra) {
		*len = ra_len;
		return (const unsigned char *)ra_scratch + ra_off;
	}
	*len = 0;
	return NULL;
}

size_t
tls_rahead_pending(const struct tls_rahead *ra)
{
	const unsigned char *p;
	size_t len;

	if (ra->err != 0)
		return 1;
	p = tls_rahead_bytes(ra, &len);
	/* type(1) version(2) length(2), then length bytes */
	if (len < TLS_RECORD_HEADER ||
	    len - TLS_RECORD_HEADER < ((size_t)p[3] << 8 | p[4]))
		return 0;
	return len;
}

size_t
tls_rahead_buffered(const struct tls_rahead *ra)
{
	size_t len;

	(void)tls_rahead_bytes(ra, &len);
	return len;
}

void
tls_rahead_release(struct tls_rahead *ra)
{
	if (ra_owner == ra) {
		ra_owner = NULL;
		ra_len = 0;
	}
	buf_put(ra->left);
	ra->left = NULL;
}
