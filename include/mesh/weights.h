/* SPDX-License-Identifier: ISC */
/*
 * weights: meshd's live canary splits (`meshctl weight`), on top of the
 * file's [route.NAME] split= and persisted in <state_dir>/weights so a
 * restart keeps them.
 *
 * An override replaces the route's split in meshd's config (m->cfg), which
 * is what registry.c puts in the sidecars' documents and status.c shows; a
 * service without a [route.NAME] section gets one with every default.
 * Each override lists every declared version of its service (a version
 * left out of the command gets weight 0), weights 0..100 summing to 100.
 *
 * <state_dir>/weights: one line per service, "SERVICE VERSION=PCT ...",
 * '#' comments; written whole to a temporary file, fsync'd, renamed over.
 * At start an entry naming an unknown service or version, or with bad
 * weights, is skipped with a warning (the file's split then stays).
 *
 * Reload (reload.h): the file's split wins for a route whose split= in the
 * file changed since the override was set (the override is dropped);
 * otherwise the override is applied again to the new routes.
 */
#ifndef MESH_WEIGHTS_H
#define MESH_WEIGHTS_H

#include <stddef.h>

#include "mesh/config.h"

#define WEIGHTS_MAX     256   /* overrides (one per service) */
#define WEIGHTS_VER_MAX 16    /* versions per service */
#define WEIGHTS_FILE    "weights"

struct weight {
	char              service[CONF_NAME_MAX];
	struct conf_split split[WEIGHTS_VER_MAX];   /* what `weight` set */
	size_t            nsplit;
	struct conf_split file[WEIGHTS_VER_MAX];    /* the file's split it replaced */
	size_t            nfile;
};

struct weights {
	struct weight *w;
	size_t         n;
};

/*
 * Parse and validate "SERVICE VERSION=PCT ..." against cfg: the service
 * exists, each version is one of its versions and appears once, PCT is a
 * decimal integer 0..100, the sum is 100.  0 with *out filled (every
 * version of the service, file order); -1 with the reason in why.
 */
int  weights_parse(const struct mesh_config *cfg, const char *line,
                   struct weight *out, char *why, size_t whylen);

/* Record w and put it into cfg's route (created if missing).  0 / -1 ENOMEM. */
int  weights_set(struct weights *ws, struct mesh_config *cfg, const struct weight *w);

/* After a reload put the overrides into cfg (its routes are the new file's);
 * an override whose route's file split changed is dropped and named on
 * `log` (one line each).  Returns how many were dropped; -1 ENOMEM. */
int  weights_reapply(struct weights *ws, struct mesh_config *cfg, FILE *log);

/* Write <state_dir>/weights atomically.  0 / -1 with errno. */
int  weights_save(const struct weights *ws, const char *state_dir);
/* Read <state_dir>/weights (absent: nothing) and apply each valid entry;
 * a bad entry is reported on `log` as "FILE:LINE: ..." and skipped. */
void weights_load(struct weights *ws, struct mesh_config *cfg,
                  const char *state_dir, FILE *log);

void weights_free(struct weights *ws);

#endif
