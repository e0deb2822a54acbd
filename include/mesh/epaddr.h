/* SPDX-License-Identifier: ISC */
/*
 * epaddr: where an endpoint is, an IPv4 address and a port.  The sidecar
 * keys its per-endpoint state (upstream pools, breakers, outliers, TLS
 * sessions, expected identities) on it.  A plain value, compared by
 * epaddr_eq(); formatted only for logs, with EPADDR_FMT / EPADDR_ARGS, so
 * nothing on the request path allocates or prints.
 */
#ifndef MESH_EPADDR_H
#define MESH_EPADDR_H

#include <stddef.h>
#include <stdint.h>

#define EPADDR_LOOPBACK UINT32_C(0x7f000001)   /* 127.0.0.1, host byte order */
/* "255.255.255.255:65535" and a NUL */
#define EPADDR_STRLEN 22

struct epaddr {
	uint32_t ip;     /* host byte order */
	uint16_t port;
};

static inline struct epaddr
epaddr_make(uint32_t ip, uint16_t port)
{
	struct epaddr a;

	a.ip = ip;
	a.port = port;
	return a;
}

static inline int
epaddr_eq(struct epaddr a, struct epaddr b)
{
	return a.ip == b.ip && a.port == b.port;
}

/* log_*("... " EPADDR_FMT " ...", EPADDR_ARGS(a)) */
#define EPADDR_FMT "%u.%u.%u.%u:%u"
#define EPADDR_ARGS(a) (unsigned)((a).ip >> 24), (unsigned)((a).ip >> 16 & 0xffu), \
	(unsigned)((a).ip >> 8 & 0xffu), (unsigned)((a).ip & 0xffu), (unsigned)(a).port
/* "a.b.c.d:port" into buf (len bytes, EPADDR_STRLEN is enough; cut short
 * but NUL-terminated when smaller); returns buf.  For keys and messages,
 * not for the request path. */
char *epaddr_format(struct epaddr a, char *buf, size_t len);

#define EPADDR_IP_FMT "%u.%u.%u.%u"
#define EPADDR_IP_ARGS(ip) (unsigned)((ip) >> 24), (unsigned)((ip) >> 16 & 0xffu), \
	(unsigned)((ip) >> 8 & 0xffu), (unsigned)((ip) & 0xffu)

#endif
