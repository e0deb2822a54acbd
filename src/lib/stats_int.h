/* SPDX-License-Identifier: ISC */
/*
 * stats_int: what the stats_*.c files share and nobody else needs.
 *
 *   stats.c           the file: create, size, map, the flat counters
 *   (src/proxy/stats_write.c, the sidecar's writer of the sections, sees
 *    only include/mesh/stats_layout.h)
 *   stats_hist.c      the log-linear histogram buckets and quantiles
 *   stats_read.c      the reader: header and section checks, views
 *   stats_spans.c     the reader of the span ring and the slowest spans
 *
 * The byte layout is the one documented in include/mesh/stats.h.
 */
#ifndef MESH_STATS_INT_H
#define MESH_STATS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "mesh/stats.h"
#include "mesh/stats_layout.h"

/* Reader bounds on capacities (a newer writer may have grown them; a
 * hostile file may not make a reader allocate or walk without end). */
#define STATS_RD_PEERS_MAX  1024u
#define STATS_RD_EPS_MAX    4096u
#define STATS_RD_SPANS_MAX  65536u
#define STATS_RD_SLOW_MAX   1024u
#define STATS_RD_RATE_MAX   4096u

/* Reader: map path read-only, check the header and every section
 * against the file size; STATS_OK with *map, *len (munmap after) and *l
 * filled, or an enum stats_err with nothing mapped. */
int  stats_map_check(const char *path, const unsigned char **map, size_t *len,
                     struct stats_layout *l);

#endif
