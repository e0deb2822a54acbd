/* SPDX-License-Identifier: ISC */
/*
 * ipc: framing for the control socket (see include/mesh/ipc.h).
 *
 * The reader keeps the unread bytes in one buffer that grows to at most
 * IPC_READER_MAX.  A returned payload is NUL-terminated in place by
 * sliding it one byte down over its own (already consumed) header, so the
 * first byte of the next frame is never touched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mesh/ipc.h"

int
ipc_type_known(uint16_t type)
{
	switch (type) {
	case IPC_HELLO: case IPC_READY: case IPC_FAIL: case IPC_CSR:
	case IPC_CONFIG: case IPC_CERT: case IPC_CERT_FAIL: case IPC_ROTATE:
	case IPC_BREAKER_RESET:
	case IPC_CMD: case IPC_REPLY: case IPC_DONE: case IPC_LOGLINE:
	case IPC_TRUST: case IPC_IDENT:
		return 1;
	}
	return 0;
}

void
ipc_hdr_encode(unsigned char *out, uint16_t type, uint32_t len)
{
	uint32_t l = htonl(len);
	uint16_t t = htons(type), f = 0;

	memcpy(out, &l, 4);
	memcpy(out + 4, &t, 2);
	memcpy(out + 6, &f, 2);
}

/* Decode and validate a header.  0 ok, -1 with *err set. */
static int
ipc_hdr_decode(const unsigned char *in, uint16_t *type, uint32_t *len,
    const char **err)
{
	uint32_t l;
	uint16_t t, f;

	memcpy(&l, in, 4);
	memcpy(&t, in + 4, 2);
	memcpy(&f, in + 6, 2);
	*len = ntohl(l);
	*type = ntohs(t);
	if (*len > IPC_MAX_PAYLOAD) {
		*err = "frame longer than IPC_MAX_PAYLOAD";
		return -1;
	}
	if (ntohs(f) != 0) {
		*err = "nonzero flags in frame header";
		return -1;
	}
	if (!ipc_type_known(*type)) {
		*err = "unknown message type";
		return -1;
	}
	return 0;
}

int
ipc_send(int fd, uint16_t type, const void *payload, size_t len)
{
	unsigned char hdr[IPC_HDR_LEN];
	struct iovec iov[2];
	struct msghdr msg;
	size_t total, done = 0;
	int sock = 1;

	if (len > IPC_MAX_PAYLOAD || !ipc_type_known(type)) {
		errno = EINVAL;
		return -1;
	}
	ipc_hdr_encode(hdr, type, (uint32_t)len);
	total = IPC_HDR_LEN + len;
	while (done < total) {
		ssize_t n;
		int cnt = 0;

		if (done < IPC_HDR_LEN) {
			iov[cnt].iov_base = hdr + done;
			iov[cnt++].iov_len = IPC_HDR_LEN - done;
			if (len > 0) {
				iov[cnt].iov_base = (void *)(uintptr_t)payload;
				iov[cnt++].iov_len = len;
			}
		} else {
			iov[cnt].iov_base = (char *)(uintptr_t)payload + (done - IPC_HDR_LEN);
			iov[cnt++].iov_len = total - done;
		}
		/* MSG_NOSIGNAL: a peer that went away is an error, not SIGPIPE. */
		if (sock) {
			memset(&msg, 0, sizeof(msg));
			msg.msg_iov = iov;
			msg.msg_iovlen = (size_t)cnt;
			n = sendmsg(fd, &msg, MSG_NOSIGNAL);
			if (n == -1 && errno == ENOTSOCK) {
				sock = 0;
				continue;
			}
		} else
			n = writev(fd, iov, cnt);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/* Read exactly len bytes.  0 ok, -1 error or EOF (errno 0 on EOF). */
static int
ipc_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n == 0) {
			errno = 0;
			return -1;
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

int
ipc_recv(int fd, uint16_t *type, char **payload, size_t *len)
{
	unsigned char hdr[IPC_HDR_LEN];
	const char *err;
	uint32_t l;
	char *p;

	if (ipc_read_full(fd, hdr, sizeof(hdr)) == -1)
		return -1;
	if (ipc_hdr_decode(hdr, type, &l, &err) == -1) {
		errno = EPROTO;
		return -1;
	}
	if ((p = malloc((size_t)l + 1)) == NULL)
		return -1;
	if (ipc_read_full(fd, p, l) == -1) {
		free(p);
		return -1;
	}
	p[l] = '\0';
	*payload = p;
	*len = l;
	return 0;
}

void
ipc_reader_init(struct ipc_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void
ipc_reader_free(struct ipc_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

size_t
ipc_reader_held(const struct ipc_reader *r)
{
	return r->len - r->off;
}

int
ipc_reader_feed(struct ipc_reader *r, const void *data, size_t len)
{
	size_t held;

	/* Drop what was already consumed before growing. */
	if (r->off > 0) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	held = r->len;
	if (len > IPC_READER_MAX || held + len > IPC_READER_MAX)
		return -1;
	if (held + len > r->cap) {
		size_t ncap = r->cap ? r->cap : 4096;
		unsigned char *nb;

		while (ncap < held + len)
			ncap *= 2;
		if (ncap > IPC_READER_MAX)
			ncap = IPC_READER_MAX;
		if ((nb = realloc(r->buf, ncap)) == NULL)
			return -1;
		r->buf = nb;
		r->cap = ncap;
	}
	if (len > 0)
		memcpy(r->buf + r->len, data, len);
	r->len += len;
	return 0;
}

int
ipc_reader_next(struct ipc_reader *r, uint16_t *type, char **payload,
    size_t *len, const char **err)
{
	unsigned char *frame;
	uint32_t l;
	uint16_t t;

	if (r->len - r->off < IPC_HDR_LEN)
		return 0;
	frame = r->buf + r->off;
	if (ipc_hdr_decode(frame, &t, &l, err) == -1)
		return -1;
	if (r->len - r->off < IPC_HDR_LEN + (size_t)l)
		return 0;
	/* Slide the payload over the last header byte to make room for NUL. */
	memmove(frame + IPC_HDR_LEN - 1, frame + IPC_HDR_LEN, l);
	frame[IPC_HDR_LEN - 1 + l] = '\0';
	*type = t;
	*payload = (char *)frame + IPC_HDR_LEN - 1;
	*len = l;
	r->off += IPC_HDR_LEN + (size_t)l;
	return 1;
}
