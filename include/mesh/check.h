/* SPDX-License-Identifier: ISC */
/*
 * check: `meshctl check`, the file and the host a mesh would run on.
 *
 * check_run() loads the file (every config error to err as FILE:LINE:
 * message), then checks the host:
 *  - fixed ports are free on 127.0.0.1 (bind test; see ports.h for which
 *    ones), and the metrics port; skipped, with a note on out, when this
 *    mesh is running (its meshd.sock answers), since it holds them then;
 *  - state_dir exists as a writable directory, or can be created (the
 *    nearest existing ancestor is a writable directory);
 *  - when <state_dir>/ca/ exists: ca.key is a regular file of ours, readable
 *    by us and by nobody else, ca/ is not writable by group or others, and
 *    ca.crt has not expired (a warning within CHECK_EXPIRY_WARN_DAYS).
 * On success it prints one line on out: "FILE: ok: N services, M instances".
 * Returns the exit code: 0 ok, 1 at least one error.
 */
#ifndef MESH_CHECK_H
#define MESH_CHECK_H

#include <stdio.h>

#include "mesh/config.h"

#define CHECK_EXPIRY_WARN_DAYS 30

int check_run(const char *path, FILE *out, FILE *err);

/* The host checks one by one; each returns its number of errors. */
int check_ports(const struct mesh_config *cfg, FILE *err);
int check_state_dir(const struct mesh_config *cfg, FILE *err);
int check_ca(const struct mesh_config *cfg, FILE *err);
/* 1 when <state_dir>/run/meshd.sock accepts a connection. */
int check_mesh_running(const struct mesh_config *cfg);

#endif
