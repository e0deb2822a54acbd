/* SPDX-License-Identifier: ISC */
/*
 * pstate: the sidecar's current configuration, as the data path reads it,
 * and applying a new one.
 *
 * Applying a pcfg: listeners that it names and that are not open yet are
 * opened (all of them or none, on the first config); listeners it no
 * longer names close (their connections stay); the routing table and
 * limits are swapped at once; upstreams it no longer names drop their idle
 * connections.  Requests in flight keep their upstream connection.
 */
#ifndef MESH_PSTATE_H
#define MESH_PSTATE_H

#include <stddef.h>

#include "mesh/http.h"
#include "mesh/pcfg.h"
#include "mesh/route.h"

struct pstate {
	struct pcfg        *cfg;      /* ro: the current config (owned) or NULL */
	struct route_table  rt;       /* ro */
	struct pcfg_limits  lim;      /* ro */
	struct http_limits  hlim;     /* ro */
};

extern struct pstate pstate;

/*
 * Make cfg (heap-allocated, ownership passes) the current config.
 * 0, or -1 with a message naming the port in err; on -1 the previous
 * config stays (listeners opened by this call are closed again).
 */
int  pstate_apply(struct pcfg *cfg, char *err, size_t errlen);
/* Close every listener and free the config (shutdown). */
void pstate_close_listeners(void);
void pstate_free(void);

#endif
