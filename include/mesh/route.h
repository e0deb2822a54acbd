/* SPDX-License-Identifier: ISC */
/*
 * route: from a request's authority to the service it names, and the
 * routing table the proxy builds from each pcfg.
 *
 * A mesh name is `NAME`, `NAME.mesh`, either with `:80`, case-insensitive,
 * with an optional trailing dot (`api.mesh.`).  Any other port, an empty
 * name or userinfo is no route (404 `mesh-error: no route`).  A name that
 * is well-formed but not among the services this sidecar may call is no
 * route either.
 */
#ifndef MESH_ROUTE_H
#define MESH_ROUTE_H

#include <stddef.h>

#include "mesh/balance.h"
#include "mesh/pcfg.h"

struct route_table {
	const struct pcfg       *cfg;     /* ro: not owned */
	struct balance_service  *svcs;    /* ro: one per service of cfg */
	size_t                   nsvcs;
};

/*
 * The service name inside an authority: 0 with name and nlen set, or -1
 * when the authority is not a mesh name.
 */
int route_authority_name(const char *auth, size_t len, const char **name, size_t *nlen);

/* Build a table over cfg (which must outlive it).  0, or -1 out of memory. */
int  route_table_init(struct route_table *rt, const struct pcfg *cfg);
void route_table_free(struct route_table *rt);

/* The service an authority routes to, or NULL (no route). */
struct balance_service *route_lookup(struct route_table *rt, const char *auth, size_t len);
/* The service by exact name (listen NAME:PORT listeners), or NULL. */
struct balance_service *route_service(struct route_table *rt, const char *name, size_t len);

#endif
