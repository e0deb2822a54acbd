/* SPDX-License-Identifier: ISC */
/*
 * state: what meshd leaves in <state_dir>/run/ so that no second copy of a
 * mesh ever runs and nothing a dead meshd started is left behind.
 * Shared by meshd and meshctl; no libev.
 *
 *   run/meshd.pid             the meshd lock: flock(LOCK_EX) held by the
 *                             running meshd for its whole life; holds "PID\n"
 *   run/pids/<id>.<kind>      one per running child, kind "app" or "proxy";
 *                             "<pid> <pgid> <starttime> <instance-name>\n",
 *                             starttime = field 22 of /proc/PID/stat, so a
 *                             recycled pid is never mistaken for ours
 *
 * <id> is the instance id "<service>@<version>.<index>" (registry.h).
 */
#ifndef MESH_STATE_H
#define MESH_STATE_H

#include <stddef.h>
#include <sys/types.h>

#define STATE_KIND_APP   "app"
#define STATE_KIND_PROXY "proxy"
#define STATE_STOP_WAIT_MS 5000   /* SIGTERM -> SIGKILL for leftovers */

/* mkdir -p <state_dir>, <state_dir>/run, run/pids, each 0700.  0 / -1 + errno. */
int   state_mkdirs(const char *state_dir);

/*
 * Take the meshd lock and write our pid into it.  0 with *fd (keep it
 * open, O_CLOEXEC) on success; -1 with a message in err: "mesh 'NAME'
 * already running (meshd pid N)" when another meshd holds it, or the
 * path and the system error.
 */
int   state_lock(const char *state_dir, const char *mesh_name, int *fd,
                 char *err, size_t errlen);
/* Remove the pid file and release the lock. */
void  state_unlock(const char *state_dir, int fd);

/* The pid of the meshd that holds the lock of state_dir; 0 when none. */
pid_t state_meshd_pid(const char *state_dir);

/* Record / forget a child (pgid = pid: every child leads its own group). */
int   state_pid_write(const char *state_dir, const char *id, const char *kind,
                      pid_t pid, const char *name);
void  state_pid_remove(const char *state_dir, const char *id, const char *kind);

/* Field 22 of /proc/PID/stat; 0 when the process is gone or a zombie. */
unsigned long long state_proc_starttime(pid_t pid);

/*
 * Stop what a dead meshd left: for every pid file whose process still
 * exists with the recorded start time, SIGTERM its process group, wait up
 * to STATE_STOP_WAIT_MS, then SIGKILL; apps before sidecars; every file is
 * removed.  Returns the number of processes stopped, or -1 with errno
 * EBUSY when a live meshd holds the lock (it owns those processes).
 * For meshctl (`down` when meshd is gone).
 */
int   state_reap(const char *state_dir);
/* The same, for the meshd that holds the lock itself. */
int   state_reap_locked(const char *state_dir);

#endif
