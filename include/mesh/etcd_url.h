/* SPDX-License-Identifier: ISC */
/*
 * etcd_url: the `etcd =` endpoint list of mesh.ini, "http://10.0.0.5:2379,
 * https://[fd00::1]:2379".  In libmesh so that config validation and
 * meshd's etcd client (etcd.h) read it with the same parser.
 */
#ifndef MESH_ETCD_URL_H
#define MESH_ETCD_URL_H

#include <stddef.h>
#include <sys/socket.h>

struct etcd_ep {
	char     url[256];     /* as configured, for messages */
	char     host[256];    /* without brackets: TLS name check, Host: */
	char     hostport[272];/* Host: header */
	unsigned port;
	int      tls;          /* https:// */
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

/* "url, url ..." (comma and/or space separated) into eps[0..*n); each
 * http[s]://host[:port][/], port 2379 by default.  Syntax only: no lookup.
 * 0, or -1 with "url: why" in err. */
int etcd_url_parse(const char *list, struct etcd_ep *eps, size_t max, size_t *n,
                   char *err, size_t errlen);
/* ep->addr from ep->host (numeric or localhost without a lookup). */
int etcd_url_resolve(struct etcd_ep *ep, char *err, size_t errlen);

#endif
