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
 *   run/logs/<pid>.out, .err  the child's stdout and stderr: files it appends
 *                             to and meshd follows (never a pipe, so a child
 *                             outlives meshd without SIGPIPE or a full pipe);
 *                             removed with the child's pid file
 *   run/spec                  what the running meshd would start, one line per
 *                             instance: "<id> <proxy-fp> <app-fp> <ports>",
 *                             fingerprints in hex (app-fp 0: no command),
 *                             ports "P,P,..." (or "-"): the next meshd adopts
 *                             a leftover only when its line still matches
 *
 * <id> is the instance id "<service>@<version>.<index>" (registry.h).
 *
 * Beside run/, and kept when the mesh stops (run/ is not: under systemd it
 * is the RuntimeDirectory):
 *   log/mesh.log, .1          every line meshd printed, timed: written by
 *                             meshd (logwrite.h), read by `meshctl logs`
 *                             (logfile.h); rotated at LOGFILE_CAP
 *   weights, faults, mirrors  live overrides (weights.h, faults.h,
 *                             mirrors.h): one "SERVICE rest-of-line" entry
 *                             a line, '#' comments, written whole by
 *                             state_lines_save(), read by state_lines_load()
 */
#ifndef MESH_STATE_H
#define MESH_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define STATE_KIND_APP   "app"
#define STATE_KIND_PROXY "proxy"
#define STATE_STOP_WAIT_MS 5000   /* SIGTERM -> SIGKILL for leftovers */

#define STATE_ID_MAX     128     /* an instance id, with its NUL */
#define STATE_SPEC_PORTS 72      /* ports of one instance in run/spec */
#define STATE_LINE_MAX   1024    /* one overrides-file entry, with its NUL */

/*
 * Write <state_dir>/<name> atomically: text[0..len) to a temporary file
 * beside it (mode 0600), fsync'd, renamed over (the overrides files
 * <state_dir>/weights and faults).  0 / -1 with errno.
 */
int   state_file_write(const char *state_dir, const char *name, const char *text,
                       size_t len);

/*
 * The overrides files (state_lines.c).  Save: "# COMMENT; meshd rewrites
 * this file", then fmt(item) for each of the n items (itemsz bytes
 * apart), one a line (cut at STATE_LINE_MAX), atomically.  0 / -1 with
 * errno.  Load: fn(arg, line) for each entry of <state_dir>/NAME (absent:
 * nothing); fn returns 0, -1 with the reason in why (logged as
 * "PATH:N: ignored: WHY"), or -2 with errno ("PATH:N: strerror").  A line
 * longer than CONF_LINE_MAX ends the reading, said on log.
 */
typedef size_t state_line_fmt_fn(const void *item, char *buf, size_t size);
typedef int    state_line_fn(void *arg, const char *line, char *why, size_t whylen);
int   state_lines_save(const char *state_dir, const char *name, const char *comment,
                       const void *items, size_t n, size_t itemsz,
                       state_line_fmt_fn *fmt);
void  state_lines_load(const char *state_dir, const char *name, FILE *log,
                       state_line_fn *fn, void *arg);

/* mkdir -p <state_dir>, <state_dir>/run, run/pids, run/logs, each 0700.
 * 0 / -1 + errno. */
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

/* Record / forget a child (pgid = pid: every child leads its own group).
 * Forgetting removes the child's run/logs files too. */
int   state_pid_write(const char *state_dir, const char *id, const char *kind,
                      pid_t pid, const char *name);
void  state_pid_remove(const char *state_dir, const char *id, const char *kind);

/* <state_dir>/run/logs/<pid>.<stream> (stream "out" or "err").  0 / -1. */
int   state_log_path(char *buf, size_t size, const char *state_dir, pid_t pid,
                     const char *stream);
/* Remove every file in run/logs but those of the pids in keep[n]. */
void  state_logs_prune(const char *state_dir, const pid_t *keep, size_t n);

/* A child recorded in run/pids by a meshd that is gone. */
struct state_left {
	char               id[STATE_ID_MAX];
	char               kind[8];        /* STATE_KIND_APP or STATE_KIND_PROXY */
	pid_t              pid, pgid;
	unsigned long long start;
	char               name[80];
};

/* Every pid file in run/pids, files left in place; *out malloc'd (free()).
 * 0, or -1 out of memory. */
int   state_left_read(const char *state_dir, struct state_left **out, size_t *n);
/* 1 when l's process runs with its recorded start time (not a zombie). */
int   state_left_running(const struct state_left *l);
/* Stop these leftovers as state_reap() does (SIGTERM to each group, apps
 * before sidecars, STATE_STOP_WAIT_MS, SIGKILL) and forget them (pid and
 * log files).  Returns how many were running. */
int   state_left_stop(const char *state_dir, struct state_left *l, size_t n);

/* One line of run/spec. */
struct state_spec {
	char     id[STATE_ID_MAX];
	uint64_t proxy_fp, app_fp;       /* app_fp 0: the service has no command */
	uint16_t ports[STATE_SPEC_PORTS];
	size_t   nports;
};
/* Replace run/spec (written whole, renamed into place).  0 / -1 + errno. */
int   state_spec_write(const char *state_dir, const struct state_spec *s, size_t n);
/* Read run/spec; *out malloc'd, NULL with *n 0 when there is none.  A
 * line that does not parse is skipped.  0, or -1 out of memory. */
int   state_spec_read(const char *state_dir, struct state_spec **out, size_t *n);

/* Field 22 of /proc/PID/stat; 0 when the process is gone or a zombie. */
unsigned long long state_proc_starttime(pid_t pid);

/*
 * Stop what a dead meshd left: for every pid file whose process still
 * exists with the recorded start time, SIGTERM its process group, wait up
 * to STATE_STOP_WAIT_MS, then SIGKILL; apps before sidecars; every file is
 * removed (pid files, run/logs, run/spec).  Returns the number of processes stopped, or -1 with errno
 * EBUSY when a live meshd holds the lock (it owns those processes).
 * For meshctl (`down` when meshd is gone).
 */
int   state_reap(const char *state_dir);
/* The same, for the meshd that holds the lock itself (meshd adopts what
 * matches its config instead: adopt.h; this stops everything). */
int   state_reap_locked(const char *state_dir);

#endif
