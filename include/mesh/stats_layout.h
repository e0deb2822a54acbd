/* SPDX-License-Identifier: ISC */
/*
 * stats_layout: the byte layout of a stats file below the documented
 * records of stats.h — where the header keeps each section, the span
 * section's own header, and the mapping of the file this process writes.
 * Shared by the file's owner (src/lib/stats.c), its readers
 * (src/lib/stats_read.c, stats_spans.c) and the sidecar's writer of the
 * sections (src/proxy/stats_write.c); nobody else needs it.
 */
#ifndef MESH_STATS_LAYOUT_H
#define MESH_STATS_LAYOUT_H

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

/* Record sizes of version 2 files: the v3 records without their tail
 * (stats.h, "Versions"). */
#define STATS_V2_PEER_REC (offsetof(struct stats_peer_rec, grpc))
#define STATS_V2_SPAN_REC (offsetof(struct stats_span_rec, grpc_status))
/* Endpoint rows of version 2 and 3 files: the v4 row without addr..host. */
#define STATS_V3_EP_REC   (offsetof(struct stats_ep_rec, addr))

_Static_assert(STATS_V2_PEER_REC == 7088, "a v2 peer row is 7088 bytes");
_Static_assert(STATS_V2_SPAN_REC == 520, "a v2 span record is 520 bytes");
_Static_assert(STATS_V3_EP_REC == 160, "a v3 endpoint row is 160 bytes");
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
	uint32_t peer_rec, span_rec;   /* record sizes of the file's version */
	uint32_t ep_rec;
};

/* The writer's mapping (stats.c owns it; NULL while no file is open). */
extern unsigned char *stats_map_;
extern struct stats_layout stats_lay_;

/* Bumped by every stats_open() and stats_close(): the sections' writer
 * (src/proxy/stats_write.c) keeps state about the file it writes and
 * starts afresh when this moves, so the file's owner never calls up into
 * the sidecar. */
extern uint32_t stats_gen_;

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
