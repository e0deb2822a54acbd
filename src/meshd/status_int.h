/* SPDX-License-Identifier: ISC */
/*
 * status_int: what status.c (JSON) and status_text.c (text) share.
 */
#ifndef MESH_STATUS_INT_H
#define MESH_STATUS_INT_H

#include <stdio.h>

#include "mesh/meshd_ctx.h"
#include "mesh/status.h"
#include "mesh/svc.h"

/* "starting", "running", "stopping", "stopped" */
const char        *status_phase(enum meshd_phase p);
/* The process whose life is the instance's: the app, else the sidecar. */
const struct proc *status_main_proc(const struct inst *in);
/* Seconds p has been running, 0 when it is not. */
long               status_uptime(const struct meshd *m, const struct proc *p);
/* The endpoint row caller c (vs->v[c], read) holds on the instance arg
 * names, or NULL. */
typedef const struct stats_ep_rec *status_row_fn(const struct status_views *vs, size_t c,
                                                 const void *arg);
/* ,"breaker":{"state","callers":[...]},"ejected" of one instance: worst
 * and ejected its summary over the callers, row() each caller's row. */
void               status_json_breaker_of(FILE *f, const struct meshd *m,
                                          const struct status_views *vs, uint32_t worst,
                                          unsigned ejected, status_row_fn *row,
                                          const void *arg);
/* With registry = etcd (status_reg.c): ,"registry":{...} for the JSON
 * document, and the text's registry lines; nothing for one host.  A
 * remote instance shows the breaker this host's callers hold on it (the
 * endpoint rows of vs naming its host, address and port). */
void               status_json_registry(FILE *f, const struct meshd *m,
                                        const struct status_views *vs);
void               status_text_registry(FILE *f, const struct meshd *m,
                                        const struct status_views *vs);

#endif
