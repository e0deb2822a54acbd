/* SPDX-License-Identifier: ISC */
/*
 * svc_int.h: what svc.c (processes: start, exit, restart, stop) and
 * svc_ready.c (readiness, endpoints, the state word) share.
 */
#ifndef MESH_SVC_INT_H
#define MESH_SVC_INT_H

#include "mesh/svc.h"

/* The app of `in` just started: start its readiness probe (health.h with
 * `health =`, ready.h with a port).  0 when it has neither: svc.c then
 * counts it ready after SVC_SETTLE of uptime. */
int  svc_probe_start(struct inst *in);
/* Its app is gone, or meshd is: stop the probes (not ready any more). */
void svc_probe_stop(struct inst *in);
/* 1 when in's endpoint should be up for its callers (svc.h). */
int  svc_endpoint_up(const struct inst *in);

#endif
