/* SPDX-License-Identifier: ISC */
/*
 * transport: how the proxy moves bytes over one connected socket, behind a
 * small vtable (the shape of Redis' connection.h).
 *
 * Two transports exist by design: `transport_plain` for the legs to and
 * from the local app, and the mesh transport (transport_mesh()) for the
 * legs between sidecars.  transport_mesh() (src/proxy/transport.c) picks
 * the latter: mTLS (transport_tls.h) once the sidecar runs under meshd,
 * plain TCP in `mesh-proxy -c FILE`.  The rest of the proxy asks for one
 * of these two and never names the TLS transport itself.
 *
 * Contract for callers (the relay):
 *  - read/writev return >0 bytes moved, read returns 0 at end of stream,
 *    -1 with errno set otherwise; EAGAIN means "try again after one of
 *    the events in rwant (for a read) or wwant (for a write) fires".  A TLS
 *    transport may need EV_WRITE to finish a read (renegotiation, the
 *    handshake) and says so there; plain leaves EV_READ / EV_WRITE.
 *  - pending() is nonzero when a read would progress without the socket
 *    becoming readable (TLS records already decrypted, or whole records
 *    read ahead off the socket: epoll cannot see those); a caller must
 *    not wait for readability while it is.
 *  - established() is 1 once the connection carries the caller's bytes:
 *    at once for plain, after the handshake and the peer check for TLS.
 *  - shutdown() ends our direction (FIN / close_notify); close() releases
 *    everything including the fd.  close() is safe after a failed open().
 */
#ifndef MESH_TRANSPORT_H
#define MESH_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

struct tconn;

struct transport {
	const char *name;
	/* Take ownership of a connected socket; server: we accepted it.  -1 on error. */
	int     (*open)(struct tconn *c, int fd, int server);
	ssize_t (*read)(struct tconn *c, void *buf, size_t len);
	ssize_t (*writev)(struct tconn *c, const struct iovec *iov, int iovcnt);
	size_t  (*pending)(const struct tconn *c);
	int     (*established)(const struct tconn *c);
	int     (*shutdown)(struct tconn *c);
	void    (*close)(struct tconn *c);
};

struct tconn {
	int                     fd;     /* ro: -1 when closed */
	const struct transport *t;      /* ro */
	void                   *priv;   /* private to the transport (a TLS session) */
	unsigned                rwant;  /* ro: events that let a blocked read progress */
	unsigned                wwant;  /* ro: events that let a blocked write progress */
};

extern const struct transport transport_plain;

/* The transport between sidecars (inbound listeners and upstream
 * connections to other sidecars). */
const struct transport *transport_mesh(void);
/* The same for HTTP/2 sessions (ALPN h2 over mTLS). */
const struct transport *transport_mesh_h2(void);

static inline int
tconn_open(struct tconn *c, const struct transport *t, int fd, int server)
{
	c->t = t;
	c->priv = NULL;
	c->fd = fd;
	return t->open(c, fd, server);
}

static inline ssize_t tconn_read(struct tconn *c, void *b, size_t n) { return c->t->read(c, b, n); }
static inline ssize_t tconn_writev(struct tconn *c, const struct iovec *v, int n) { return c->t->writev(c, v, n); }
static inline size_t  tconn_pending(const struct tconn *c) { return c->t->pending(c); }
static inline int     tconn_established(const struct tconn *c) { return c->t->established(c); }
static inline int     tconn_shutdown(struct tconn *c) { return c->t->shutdown(c); }

static inline void
tconn_close(struct tconn *c)
{
	if (c->t != NULL && c->fd != -1)
		c->t->close(c);
	c->fd = -1;
}

#endif
