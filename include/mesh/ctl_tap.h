/* SPDX-License-Identifier: ISC */
/*
 * ctl_tap: a live stream of the requests through one service's sidecars,
 * read from their span rings (`meshctl tap`, and the dashboard's `t`).
 *
 * The sidecars do not record every request unless asked: ctl_tap_open()
 * takes a lease, the file <state_dir>/run/tap/<service>, and every
 * ctl_tap_poll() touches it once a second.  A sidecar of that service
 * that sees the file's mtime less than 3 s old writes every request's
 * record to its ring, sampled or not (src/proxy/ptap_int.h; such records
 * lack STATS_SF_SAMPLED: tap-only, never traces).  The lease is left to
 * expire at close: another tapper of the same service may hold it too.
 *
 * What a poll reads: every <state_dir>/run/stats/NAME.stats whose identity
 * (stats_identity()) is the service, rescanned once a second so that a
 * new or restarted sidecar joins.  A file known at open is read from its
 * spans_written then (only what comes after the tap started); a file
 * created later (a restarted sidecar) from its first span.  Inbound
 * (STATS_SPAN_SERVER) records are calls into the service's instances,
 * outbound (STATS_SPAN_CLIENT) ones the calls they make.  Spans the ring
 * overwrote before a poll could read them are counted in `lost`.
 *
 * src/ctl/ctl_tap_read.c reads, ctl_tap_fmt.c filters and formats, and
 * ctl_tap.c is the command.
 */
#ifndef MESH_CTL_TAP_H
#define MESH_CTL_TAP_H

#include <stddef.h>
#include <stdint.h>

#include "mesh/config.h"
#include "mesh/stats.h"

#define CTL_TAP_TOUCH_MS  1000    /* lease refresh (the sidecars' lease: 3 s) */
#define CTL_TAP_SCAN_MS   1000    /* rescan of the stats directory */
#define CTL_TAP_POLL_MS   150     /* what the command waits between polls */
#define CTL_TAP_FILES_MAX 256u    /* sidecars of one service followed */
#define CTL_TAP_LINE_MAX  4096u   /* a formatted line, text or JSON (escapes: 6x) */

/* Which records to show: a path prefix, a status range. */
struct ctl_tap_filter {
	const char *path;           /* prefix of the path (query included); NULL: any */
	unsigned    status_lo;      /* inclusive; 0, 0: any status */
	unsigned    status_hi;
};

struct ctl_tap_file {               /* private */
	char     name[256];         /* under the stats directory */
	uint64_t pid, start_time_ns;
	uint64_t cursor;            /* stats_spans_read()'s */
	int      seen;              /* in the last rescan */
};

struct ctl_tap {
	char                   service[CONF_NAME_MAX];   /* ro */
	struct ctl_tap_filter  filter;                   /* rw */
	uint64_t               lost;       /* rw: overwritten before read; the caller resets */
	size_t                 nfiles;     /* ro: sidecars followed */
	/* private */
	char                   stats_dir[4096];
	char                   lease[4096];
	uint64_t               open_ns;    /* CLOCK_REALTIME at open */
	int64_t                touch_ms;   /* CLOCK_MONOTONIC of the last touch, scan */
	int64_t                scan_ms;
	struct ctl_tap_file   *files;
	struct stats_span_rec *buf;
	size_t                 bufcap;
};

/*
 * Start tapping service of the mesh whose state is state_dir: create
 * run/tap/ if needed, take the lease, note where each of the service's
 * stats files stands.  0, or -1 with why (naming the path) in err.
 */
int  ctl_tap_open(struct ctl_tap *t, const char *state_dir, const char *service,
                  const struct ctl_tap_filter *f, char *err, size_t errlen);
/*
 * One record that passed the filter; return non-zero to stop the poll
 * there (the records after it are dropped).
 */
typedef int ctl_tap_fn(void *arg, const struct stats_span_rec *s);
/*
 * Touch the lease and rescan when due, read what every file got since
 * the last poll, and give the records that pass the filter to fn in
 * start-time order.  Call it at least once a second (the lease lapses
 * after 3 s; a ring holds the last 256 requests of a sidecar).  Returns how many fn got, or -1 with why in err
 * (the lease cannot be touched: the mesh's state went away).
 */
long ctl_tap_poll(struct ctl_tap *t, ctl_tap_fn *fn, void *arg, char *err, size_t errlen);
/* Free it; the lease expires by itself. */
void ctl_tap_close(struct ctl_tap *t);

/* 1 when s passes f. */
int    ctl_tap_match(const struct ctl_tap_filter *f, const struct stats_span_rec *s);
/*
 * One record as a line into buf (NUL-terminated, no newline; cut to
 * size).  Text (local time):
 *   HH:MM:SS.mmm  in   CALLER -> INSTANCE   METHOD PATH  STATUS  LATENCY  retries=N  trace=ID
 *   HH:MM:SS.mmm  out  INSTANCE -> SERVICE@VERSION.INDEX  ...
 * an unknown caller is "?", a status never sent "---", a request that
 * is in no trace "trace=-"; flags=UH,... when any.  json: one object,
 * man/meshctl.1 has its fields.  Control bytes of the record's strings
 * become '?' (text) or are escaped (JSON).  Returns the length.
 */
size_t ctl_tap_format(char *buf, size_t size, const struct stats_span_rec *s, int json);

#endif
