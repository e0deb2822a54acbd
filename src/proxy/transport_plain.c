/* SPDX-License-Identifier: ISC */
/*
 * transport_plain: plain TCP (or any stream socket) through read/writev.
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "mesh/transport.h"

static int
plain_open(struct tconn *c, int fd, int server)
{
	c->fd = fd;
	c->rwant = EV_READ;
	c->wwant = EV_WRITE;
	return 0;
}

static ssize_t
plain_read(struct tconn *c, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(c->fd, buf, len);
	while (n == -1 && errno == EINTR);
	return n;
}

static ssize_t
plain_writev(struct tconn *c, const struct iovec *iov, int iovcnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	ssize_t n;

	/* sendmsg rather than writev: MSG_NOSIGNAL spares us SIGPIPE. */
	do
		n = sendmsg(c->fd, &m, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return n;
}

static size_t
plain_pending(const struct tconn *c)
{
	return 0;
}

static int
plain_established(const struct tconn *c)
{
	return 1;
}

static int
plain_shutdown(struct tconn *c)
{
	return shutdown(c->fd, SHUT_WR);
}

static void
plain_close(struct tconn *c)
{
	close(c->fd);
	c->fd = -1;
}

const struct transport transport_plain = {
	.name = "plain",
	.open = plain_open,
	.read = plain_read,
	.writev = plain_writev,
	.pending = plain_pending,
	.established = plain_established,
	.shutdown = plain_shutdown,
	.close = plain_close,
};
