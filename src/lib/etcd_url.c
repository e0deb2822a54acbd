/* SPDX-License-Identifier: ISC */
/*
 * etcd_url: the `etcd =` endpoint list, "http://10.0.0.5:2379,
 * https://[fd00::1]:2379", into endpoints (mesh/etcd_url.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mesh/etcd_url.h"

#define ETCD_DEFAULT_PORT 2379u

static int
etcd_url_one(struct etcd_ep *ep, const char *u, size_t n, char *err, size_t errlen)
{
	const char *a, *end = u + n, *hend, *colon = NULL, *slash;
	char *e, num[8];
	unsigned long p = ETCD_DEFAULT_PORT;

	memset(ep, 0, sizeof(*ep));
	if (n >= sizeof(ep->url)) {
		snprintf(err, errlen, "%.*s...: URL too long", 40, u);
		return -1;
	}
	memcpy(ep->url, u, n);
	if (n > 7 && strncasecmp(u, "http://", 7) == 0)
		a = u + 7;
	else if (n > 8 && strncasecmp(u, "https://", 8) == 0) {
		a = u + 8;
		ep->tls = 1;
	} else {
		snprintf(err, errlen, "%s: want an http:// or https:// URL", ep->url);
		return -1;
	}
	/* a path of "/" alone; anything else is not an etcd endpoint */
	if ((slash = memchr(a, '/', (size_t)(end - a))) != NULL) {
		if (slash + 1 != end) {
			snprintf(err, errlen, "%s: an endpoint has no path", ep->url);
			return -1;
		}
		end = slash;
	}
	if (a < end && *a == '[') {
		if ((hend = memchr(a, ']', (size_t)(end - a))) == NULL) {
			snprintf(err, errlen, "%s: unterminated [IPv6 address]", ep->url);
			return -1;
		}
		a++;
		colon = hend + 1 < end && hend[1] == ':' ? hend + 1 : NULL;
		if (colon == NULL && hend + 1 != end) {
			snprintf(err, errlen, "%s: junk after the ]", ep->url);
			return -1;
		}
	} else {
		colon = memchr(a, ':', (size_t)(end - a));
		hend = colon != NULL ? colon : end;
	}
	if (hend == a || (size_t)(hend - a) >= sizeof(ep->host) ||
	    memchr(a, '@', (size_t)(hend - a)) != NULL) {
		snprintf(err, errlen, "%s: %s host", ep->url, hend == a ? "no" : "bad");
		return -1;
	}
	memcpy(ep->host, a, (size_t)(hend - a));
	if (colon != NULL) {
		size_t pl = (size_t)(end - colon - 1);

		if (pl == 0 || pl >= sizeof(num)) {
			snprintf(err, errlen, "%s: bad port", ep->url);
			return -1;
		}
		memcpy(num, colon + 1, pl);
		num[pl] = '\0';
		errno = 0;
		p = strtoul(num, &e, 10);
		if (*e != '\0' || errno != 0 || p == 0 || p > 65535 || num[0] < '0' || num[0] > '9') {
			snprintf(err, errlen, "%s: bad port", ep->url);
			return -1;
		}
	}
	ep->port = (unsigned)p;
	snprintf(ep->hostport, sizeof(ep->hostport),
	    strchr(ep->host, ':') != NULL ? "[%s]:%u" : "%s:%u", ep->host, ep->port);
	return 0;
}

int
etcd_url_parse(const char *list, struct etcd_ep *eps, size_t max, size_t *n,
    char *err, size_t errlen)
{
	const char *s = list;
	size_t len;

	*n = 0;
	for (;;) {
		s += strspn(s, ", \t");
		if (*s == '\0')
			break;
		len = strcspn(s, ", \t");
		if (*n == max) {
			snprintf(err, errlen, "%.*s: more than %zu endpoints", (int)len, s, max);
			return -1;
		}
		if (etcd_url_one(&eps[*n], s, len, err, errlen) == -1)
			return -1;
		(*n)++;
		s += len;
	}
	if (*n == 0) {
		snprintf(err, errlen, "no etcd endpoint in \"%s\"", list);
		return -1;
	}
	return 0;
}

int
etcd_url_resolve(struct etcd_ep *ep, char *err, size_t errlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&ep->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ep->addr;
	struct addrinfo hints, *ai = NULL;
	char port[8];
	int rc;

	if (inet_pton(AF_INET, strcmp(ep->host, "localhost") == 0 ? "127.0.0.1" : ep->host,
	    &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)ep->port);
		ep->addr_len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, ep->host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)ep->port);
		ep->addr_len = sizeof(*sin6);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", ep->port);
	if ((rc = getaddrinfo(ep->host, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "%s: %s", ep->url, gai_strerror(rc));
		return -1;
	}
	memcpy(&ep->addr, ai->ai_addr, ai->ai_addrlen);
	ep->addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}
