/* SPDX-License-Identifier: ISC */
/*
 * registry: service -> instances, their ports, their endpoint state, and
 * the pcfg document each sidecar is sent.
 *
 * Names:
 *   instance id    "<service>@<version>.<index>", e.g. "api@v1.0": what
 *                  meshd passes as `mesh-proxy --id`, what the sidecar
 *                  says in IPC_HELLO, the pid file name
 *   instance name  "<service>.<index>" for the service's first declared
 *                  version, "<service>@<version>.<index>" for the others:
 *                  the log prefix and what status shows
 *
 * Ports are assigned once by registry_init() (ports.h): instance i gets
 * app port = port+i, listeners NAME:PORT+i, outbound = outbound+i when
 * fixed; sidecar inbound (when the service has a port) and auto outbound
 * come from port_base in file order.
 */
#ifndef MESH_REGISTRY_H
#define MESH_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mesh/config.h"
#include "mesh/pcfg.h"
#include "mesh/ports.h"

#define REG_ID_MAX (CONF_NAME_MAX + CONF_VERSION_MAX + 16)

struct inst;         /* meshd's runtime state of an instance (svc.h) */
struct mreg_remote;  /* another host's instance (mreg.h) */

struct reg_instance {
	const struct conf_service *svc;          /* ro */
	unsigned                   index;        /* ro */
	char                       id[REG_ID_MAX];    /* ro */
	char                       name[REG_ID_MAX];  /* ro */
	uint16_t                   app_port;     /* ro: 0 without port= */
	uint16_t                   inbound_port; /* ro: 0 without port= */
	uint16_t                   outbound_port;/* ro */
	uint16_t                  *listen_ports; /* ro: [svc->nupstreams]; 0 = none */
	int                        up;           /* endpoint state: registry_set_up() */
	struct inst               *rt;           /* rw: meshd's; NULL in tests */
};

struct registry {
	const struct mesh_config *cfg;
	struct reg_instance      *inst;   /* file order, then index */
	size_t                    ninst;
	/* with registry = etcd: the other hosts' instances, as mreg last
	 * published them to meshd (sorted by service); NULL: none */
	const struct mreg_remote *remote;
	size_t                    nremote;
};

/*
 * Build the instances of cfg and assign their ports with `alloc` (already
 * initialised with the config's fixed ports).  0 ok; -1 with a message on
 * errs (ports exhausted, out of memory).
 */
int  registry_init(struct registry *r, const struct mesh_config *cfg,
                   struct ports_alloc *alloc, FILE *errs);
void registry_free(struct registry *r);

struct reg_instance *registry_find_id(const struct registry *r, const char *id);

/* Set an endpoint's state; 1 when that changed it. */
int  registry_set_up(struct reg_instance *ri, int up);

/* 1 when ri's service lists `service` in its upstreams. */
int  registry_calls(const struct reg_instance *ri, const char *service);

/* The document for ri's sidecar: its own listeners and only the services
 * it calls, with every endpoint and the route's split; the mesh's
 * trace_sample and access_log.  With registry = etcd also the `host`
 * line, the inbound bound on host_address, this host's endpoints at
 * host_address and the other hosts' (r->remote) at theirs, up.  0 / -1 (ENOMEM, or ENAMETOOLONG: the
 * access_log path is PCFG_PATH_MAX bytes or more). */
int  registry_pcfg(const struct registry *r, const struct reg_instance *ri,
                   struct pcfg *out);
/* registry_pcfg() then pcfg_format(): *doc malloc'd. */
int  registry_document(const struct registry *r, const struct reg_instance *ri,
                       char **doc, size_t *len);

#endif
