/* SPDX-License-Identifier: ISC */
/*
 * faults: meshd's live fault injection (`meshctl fault`), on top of the
 * file's [route.NAME] fault.* keys and persisted in <state_dir>/faults so
 * a restart keeps them.  The same rules as weights.h:
 *
 * An override replaces the route's whole fault (delay, abort, match,
 * version) in meshd's config (m->cfg), which is what registry.c puts in
 * the callers' sidecars' documents and status shows; a service without a
 * [route.NAME] section gets one with every default.  An "off" override
 * (`meshctl fault SERVICE --off`) is a fault of nothing: it suspends the
 * file's fault.* keys too; when the file has none, --off just forgets the
 * override.  `--off-all` is --off for every service with a fault.
 *
 * Values are checked by the file's own parsers (config_fault.c); the
 * command line's P%:DURATION and P%:STATUS are the file's "P% DURATION"
 * with a ':' for the blank (faults_opt()).
 *
 * One line per override, the same on the control socket ("fault LINE")
 * and in <state_dir>/faults:
 *   SERVICE off
 *   SERVICE [delay P%:D] [abort P%:S] [version V] [match HEADER:VALUE]
 * (at least a delay or an abort).  The file: '#' comments; written whole
 * (state_file_write()).  At start an entry naming an unknown service or
 * version, or with bad values, is skipped with a warning.
 *
 * Reload (reload.h): the file's fault wins for a route whose fault.* keys
 * changed in value since the override was set (the override is dropped),
 * as does a service or version that is gone; otherwise the override is
 * applied again to the new routes.
 */
#ifndef MESH_FAULTS_H
#define MESH_FAULTS_H

#include <stddef.h>
#include <stdio.h>

#include "mesh/config.h"

#define FAULTS_MAX      256   /* overrides (one per service) */
#define FAULTS_FILE     "faults"
#define FAULTS_LINE_MAX 512   /* one override as a line, with its NUL */

struct fault_ovr {
	char              service[CONF_NAME_MAX];
	int               off;     /* --off: no fault, the file's suspended */
	struct conf_fault fault;   /* what `fault` set (all 0 when off) */
	struct conf_fault file;    /* the file's fault it replaced */
};

struct faults {
	struct fault_ovr *f;
	size_t            n;
};

/*
 * One command-line option into f: key "delay" (P%:DURATION), "abort"
 * (P%:STATUS), "version" or "match" ("HEADER: VALUE" or HEADER:VALUE),
 * checked by config_fault.c's parsers.  0, or -1 with the reason in why
 * ("delay '120%:1s': share out of range 0%..100%").
 */
int  faults_opt(struct conf_fault *f, const char *key, const char *val,
                char *why, size_t whylen);

/*
 * Parse and validate a line (above) against cfg: the service exists and
 * speaks http, the version exists, each key once, a delay or an abort
 * (config_fault_validate()).  0 with *out filled (out->file empty); -1
 * with the reason in why.
 */
int  faults_parse(const struct mesh_config *cfg, const char *line,
                  struct fault_ovr *out, char *why, size_t whylen);
/* o as a line (no newline) into buf; the length (>= size: cut). */
size_t faults_format(const struct fault_ovr *o, char *buf, size_t size);
/* "abort 5% 503, delay 10% 300ms, version v2, match x-chaos: 1", or
 * "none" for a fault that injects nothing. */
void faults_describe(const struct conf_fault *f, char *buf, size_t size);
/* 1 when f injects something (a nonzero delay or abort share). */
int  faults_active(const struct conf_fault *f);

/* The override of service, NULL when none. */
const struct fault_ovr *faults_find(const struct faults *fs, const char *service);

/* Record o and put it into cfg's route (created if missing); an off
 * override where the file has no fault is forgotten.  0 / -1 ENOMEM,
 * ENOSPC (FAULTS_MAX). */
int  faults_set(struct faults *fs, struct mesh_config *cfg, const struct fault_ovr *o);
/* --off for every route with a fault in force and every override; the
 * names are appended to names (", "-separated).  How many; -1 ENOMEM. */
int  faults_off_all(struct faults *fs, struct mesh_config *cfg, char *names, size_t size);

/* After a reload put the overrides into cfg (its routes are the new
 * file's); an override whose route's file fault changed, or that no
 * longer validates, is dropped and named on `log` (one line each).
 * Returns how many were dropped; -1 ENOMEM. */
int  faults_reapply(struct faults *fs, struct mesh_config *cfg, FILE *log);

/* Write <state_dir>/faults atomically.  0 / -1 with errno. */
int  faults_save(const struct faults *fs, const char *state_dir);
/* Read <state_dir>/faults (absent: nothing) and apply each valid entry;
 * a bad entry is reported on `log` as "FILE:LINE: ignored: ..." and
 * skipped. */
void faults_load(struct faults *fs, struct mesh_config *cfg,
                 const char *state_dir, FILE *log);

void faults_free(struct faults *fs);

#endif
