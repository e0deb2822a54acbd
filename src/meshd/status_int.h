/* SPDX-License-Identifier: ISC */
/*
 * status_int: what status.c (JSON) and status_text.c (text) share.
 */
#ifndef MESH_STATUS_INT_H
#define MESH_STATUS_INT_H

#include "mesh/meshd_ctx.h"
#include "mesh/svc.h"

/* "starting", "running", "stopping", "stopped" */
const char        *status_phase(enum meshd_phase p);
/* The process whose life is the instance's: the app, else the sidecar. */
const struct proc *status_main_proc(const struct inst *in);
/* Seconds p has been running, 0 when it is not. */
long               status_uptime(const struct meshd *m, const struct proc *p);

#endif
