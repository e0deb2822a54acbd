/* SPDX-License-Identifier: ISC */
/*
 * mirrors: meshd's live traffic mirroring (`meshctl mirror`), on top of
 * the file's [route.NAME] mirror key and persisted in <state_dir>/mirrors
 * so a restart keeps it.  The rules of faults.h:
 *
 * An override replaces the route's mirror in meshd's config (m->cfg),
 * which is what registry.c puts in the callers' sidecars' documents and
 * status shows; a service without a [route.NAME] section gets one.  An
 * "off" override (`meshctl mirror SERVICE --off`) mirrors nothing and
 * suspends the file's mirror key too; when the file has none, off just
 * forgets the override.
 *
 * Values are checked by the file's own parser (config_mirror.c): the
 * command line's VERSION=P% is the file's "SERVICE@VERSION P%" for the
 * route's own service.
 *
 * One line per override, the same on the control socket ("mirror LINE",
 * what the dashboard's `m` key sends too) and in <state_dir>/mirrors:
 *   SERVICE VERSION=P%
 *   SERVICE off
 * At start an entry naming an unknown service or version, or with a bad
 * share, is skipped with a warning.
 *
 * Reload (reload.h): the file's mirror wins for a route whose mirror key
 * changed in value since the override was set (the override is dropped),
 * as does a service or version that is gone; otherwise the override is
 * applied again to the new routes.
 */
#ifndef MESH_MIRRORS_H
#define MESH_MIRRORS_H

#include <stddef.h>
#include <stdio.h>

#include "mesh/config.h"

#define MIRRORS_MAX      256        /* overrides (one per service) */
#define MIRRORS_FILE     "mirrors"
#define MIRRORS_LINE_MAX (CONF_NAME_MAX + CONF_VERSION_MAX + 16)

struct mirror_ovr {
	char               service[CONF_NAME_MAX];
	int                off;      /* off: no mirror, the file's suspended */
	struct conf_mirror mirror;   /* what `mirror` set (all 0 when off) */
	struct conf_mirror file;     /* the file's mirror it replaced */
};

struct mirrors {
	struct mirror_ovr *m;
	size_t             n;
};

/*
 * Parse and validate a line (above) against cfg: the service exists and
 * speaks http, the version is one of it, the share 0%..100% with at most
 * one decimal.  0 with *out filled (out->file empty); -1 with the reason
 * in why ("mirror: service api has no version 'v9'").
 */
int  mirrors_parse(const struct mesh_config *cfg, const char *line,
                   struct mirror_ovr *out, char *why, size_t whylen);
/* o as a line (no newline) into buf; the length (>= size: cut). */
size_t mirrors_format(const struct mirror_ovr *o, char *buf, size_t size);
/* "mirror v2 10%" for a mirror in force, "no mirror" for none. */
void mirrors_describe(const struct conf_mirror *mr, char *buf, size_t size);

/* The override of service, NULL when none. */
const struct mirror_ovr *mirrors_find(const struct mirrors *ms, const char *service);

/* Record o and put it into cfg's route (created if missing); an off
 * override where the file has no mirror is forgotten.  0 / -1 ENOMEM,
 * ENOSPC (MIRRORS_MAX). */
int  mirrors_set(struct mirrors *ms, struct mesh_config *cfg, const struct mirror_ovr *o);

/* After a reload put the overrides into cfg (its routes are the new
 * file's); an override whose route's file mirror changed, or that no
 * longer validates, is dropped and named on `log` (one line each).
 * Returns how many were dropped; -1 ENOMEM. */
int  mirrors_reapply(struct mirrors *ms, struct mesh_config *cfg, FILE *log);

/* Write <state_dir>/mirrors atomically.  0 / -1 with errno. */
int  mirrors_save(const struct mirrors *ms, const char *state_dir);
/* Read <state_dir>/mirrors (absent: nothing) and apply each valid entry;
 * a bad one is reported on `log` as "FILE:LINE: ignored: ..." and
 * skipped. */
void mirrors_load(struct mirrors *ms, struct mesh_config *cfg,
                  const char *state_dir, FILE *log);

void mirrors_free(struct mirrors *ms);

#endif
