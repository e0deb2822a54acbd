/* SPDX-License-Identifier: ISC */
/*
 * ptap_int.h: is someone tapping this sidecar's service (`meshctl tap`)?
 *
 * The tapper keeps a lease file <run dir>/tap/<service> and touches it
 * every second; the sidecar stat()s that one path every PTAP_INTERVAL_S
 * and counts itself tapped while the file's mtime is less than
 * PTAP_LEASE_S old.  While tapped, obs.c keeps every request's details
 * and writes its span record to the ring, sampled or not (a record
 * without STATS_SF_SAMPLED is tap-only: never a trace, stats.h).  So
 * nobody tapping costs one failed stat() every half second and nothing
 * on the request path but a flag test; a tapper killed with SIGKILL
 * stops costing anything within PTAP_LEASE_S + PTAP_INTERVAL_S.
 *
 * The run dir is where the stats file's directory is: the parent of the
 * --stats file's directory, else the directory of the --control socket
 * (<state_dir>/run/meshd.sock, whose stats go to run/stats/).  No run
 * dir (`-c FILE` without --stats): never tapped.
 */
#ifndef MESH_PTAP_INT_H
#define MESH_PTAP_INT_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#define PTAP_INTERVAL_S 0.5
#define PTAP_LEASE_S    3

/* <run dir>/tap into buf from the sidecar's options (either may be
 * NULL; stats_path wins).  0, or -1 when there is none or it does not
 * fit. */
int  ptap_dir(char *buf, size_t size, const char *control_sock, const char *stats_path);
/* 1 when a lease touched at mtime_ns still holds at now_ns (both
 * CLOCK_REALTIME): at most PTAP_LEASE_S old, and not from the future
 * by more than that (a clock stepped back must not tap for ever). */
int  ptap_lease_live(int64_t mtime_ns, int64_t now_ns);

/* Start the timer; the run dir as ptap_dir().  No run dir: a no-op. */
void ptap_start(struct ev_loop *loop, const char *control_sock, const char *stats_path);
void ptap_stop(struct ev_loop *loop);
/* The service whose lease to watch (obs_configure(); "" : none). */
void ptap_service(const char *service);
/* Look at the lease now (the timer's work; tests call it). */
void ptap_check(void);
/* 1 while tapped: obs_begin() asks this once per request. */
int  ptap_on(void);

#endif
