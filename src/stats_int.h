/*
 * stats_int: what the stats_*.c files share and nobody else needs.
 *
 *   stats.c           the file: create, size, map, the flat counters
 *   stats_write.c     the sections' writer: peers, endpoints, spans, rate
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

/* Header offsets of the sections' {offset, capacity} pairs. */
#define STATS_H_PEERS  40u
#define STATS_H_EPS    48u
#define STATS_H_SPANS  56u
#define STATS_H_RATE   64u

/* The span section's own header (STATS_SPANS_HDR bytes, see stats.h). */
#define STATS_SH_WRITTEN   0u    /* u64 spans ever written */
#define STATS_SH_SLOW_CAP  8u    /* u32 slots of the slowest-spans table */
#define STATS_SH_WINDOW    12u   /* u32 seconds a slow span is kept */
#define STATS_SH_SERVICE   16u   /* char[STATS_NAME_LEN] each: identity */
#define STATS_SH_VERSION   (STATS_SH_SERVICE + STATS_NAME_LEN)
#define STATS_SH_INSTANCE  (STATS_SH_VERSION + STATS_NAME_LEN)

/* Reader bounds on capacities (a newer writer may have grown them; a
 * hostile file may not make a reader allocate or walk without end). */
#define STATS_RD_PEERS_MAX  1024u
#define STATS_RD_EPS_MAX    4096u
#define STATS_RD_SPANS_MAX  65536u
#define STATS_RD_SLOW_MAX   1024u
#define STATS_RD_RATE_MAX   4096u

_Static_assert(sizeof(struct stats_peer_rec) % 8 == 0, "peer rows are u64-aligned");
_Static_assert(sizeof(struct stats_ep_rec) % 8 == 0, "endpoint rows are u64-aligned");
_Static_assert(sizeof(struct stats_span_rec) % 8 == 0, "span records are u64-aligned");
_Static_assert(sizeof(struct stats_rate_rec) == 24, "rate slots are 3 u64");
_Static_assert(STATS_SH_INSTANCE + STATS_NAME_LEN <= STATS_SPANS_HDR, "span header fits");

/* Where the sections of a file are; offset 0 = absent (capacity 0). */
struct stats_layout {
	uint32_t peers_off, peers_cap;
	uint32_t eps_off, eps_cap;
	uint32_t spans_off, spans_cap;
	uint32_t slow_cap;
	uint32_t rate_off, rate_cap;
	uint32_t ncounters;
	uint32_t size;
};

/* The writer's mapping (stats.c owns it; NULL while no file is open). */
extern unsigned char *stats_map_;
extern struct stats_layout stats_lay_;

/* stats_write.c: the writer state of the sections is reset on open. */
void stats_sections_reset(void);

/* Reader: map path read-only, check the header and every section
 * against the file size; STATS_OK with *map, *len (munmap after) and *l
 * filled, or an enum stats_err with nothing mapped. */
int  stats_map_check(const char *path, const unsigned char **map, size_t *len,
                     struct stats_layout *l);

static inline uint32_t
stats_ld32(const unsigned char *p)
{
	return __atomic_load_n((const uint32_t *)(const void *)p, __ATOMIC_RELAXED);
}

static inline uint64_t
stats_ld64(const unsigned char *p)
{
	return __atomic_load_n((const uint64_t *)(const void *)p, __ATOMIC_RELAXED);
}

#endif
