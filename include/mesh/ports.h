/* SPDX-License-Identifier: ISC */
/*
 * ports: which TCP ports on 127.0.0.1 a mesh uses.
 *
 * Fixed ports come from the config: for every instance i of a service,
 * its app port (port+i), its fixed outbound (outbound+i) and each NAME:PORT
 * listener (PORT+i).  Auto ports (sidecar inbound, outbound without a
 * fixed value) are handed out sequentially from [mesh] port_base, in
 * file order, skipping every fixed port and every port already taken on
 * 127.0.0.1 (bind test; each skip is logged).
 */
#ifndef MESH_PORTS_H
#define MESH_PORTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mesh/config.h"

/* 1 when 127.0.0.1:port can be bound now (SO_REUSEADDR, as listeners do). */
int ports_is_free(uint16_t port, void *arg);
/* The same on another IPv4 address (host byte order). */
int ports_is_free_at(uint16_t port, uint32_t addr);

enum ports_use { PORTS_APP, PORTS_OUTBOUND, PORTS_LISTEN };

struct ports_fixed {
	uint16_t                   port;
	enum ports_use             use;
	const struct conf_service *svc;
	unsigned                   index;     /* instance */
	const char                *upstream;  /* PORTS_LISTEN: the upstream's name */
	int                        line;      /* config line that sets it */
};

/* Every fixed port of cfg (malloc'd array in *out).  0 / -1 out of memory. */
int  ports_fixed_collect(const struct mesh_config *cfg, struct ports_fixed **out, size_t *n);

/*
 * Check that each fixed port a mesh will bind is free, printing one line
 * per taken port to errs: "FILE:LINE: service api: port 5433 (upstream
 * db) is already in use".  App ports of a service without `command` are
 * not checked (an external app is expected to hold them).  Returns the
 * number of taken ports.  is_free NULL: ports_is_free.
 */
int  ports_check_fixed(const struct mesh_config *cfg, FILE *errs,
                       int (*is_free)(uint16_t, void *), void *arg);

struct ports_alloc {
	uint32_t                  next;       /* private: next candidate */
	const struct ports_fixed *fixed;      /* private */
	size_t                    nfixed;     /* private */
	int                     (*is_free)(uint16_t, void *);
	void                     *arg;
};

void ports_alloc_init(struct ports_alloc *a, uint16_t base,
                      const struct ports_fixed *fixed, size_t nfixed,
                      int (*is_free)(uint16_t, void *), void *arg);
/* The next usable port, 0 and *out set; -1 when past 65535. */
int  ports_alloc_next(struct ports_alloc *a, uint16_t *out);

#endif
