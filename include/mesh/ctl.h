/* SPDX-License-Identifier: ISC */
/*
 * ctl: the meshctl command line.
 *
 * src/ctl/meshctl.c is only a dispatcher: it holds the command table and
 * hands each command its parsed options.  Every command lives in its own
 * src/ctl/ctl_<command>.c (`top` in tui/, top.h); the shared concerns are
 *   ctl_cli.c    option parsing and usage text
 *   ctl_mesh.c   which mesh a command talks to (config, state dir, paths)
 *   ctl_conn.c   the control socket: connect, one command, its replies
 *   ctl_proc.c   waiting for processes and process groups to be gone
 *   ctl_meshd.c  finding and running the meshd binary
 *   ctl_term.c   colour (only on a terminal, never with NO_COLOR)
 *   ctl_logs.c   the log file's lines as up prints them (also the dashboard's)
 *
 * Exit codes are the contract of meshctl(1), EXIT STATUS.  Human output goes to
 * stdout, diagnostics ("meshctl: ...") to stderr.
 */
#ifndef MESH_CTL_H
#define MESH_CTL_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "mesh/config.h"

enum ctl_exit {
	CTL_OK          = 0,
	CTL_FAIL        = 1,
	CTL_USAGE       = 2,
	CTL_NOT_RUNNING = 3,
};

#define CTL_DEFAULT_FILE      "mesh.ini"
#define CTL_UP_TIMEOUT_S      60      /* up -d: wait-ready bound without a config */
#define CTL_UP_SLACK_S        10      /* up -d: beyond the longest ready_timeout */
#define CTL_DOWN_TIMEOUT_S    30      /* down: until every process is gone */
#define CTL_TIMEOUT_MAX_S     3600

/* ---- options (ctl_cli.c) ---------------------------------------------- */

/* Which options a command accepts (struct ctl_cmd.opts). */
#define CTL_OPT_FILE     0x1u   /* -f FILE, --file FILE */
#define CTL_OPT_JSON     0x2u   /* --json */
#define CTL_OPT_DETACH   0x4u   /* -d, --detach */
#define CTL_OPT_TIMEOUT  0x8u   /* --timeout SECS */
#define CTL_OPT_ROTATE   0x10u  /* --rotate (certs) */
#define CTL_OPT_ARGS     0x20u  /* operands after the options (weight) */
#define CTL_OPT_INTERVAL 0x40u  /* -i SECS, --interval SECS (top; decimals allowed) */
#define CTL_OPT_TRACES   0x80u  /* --slow, -n N, --service S (traces) */
#define CTL_OPT_LOGS     0x100u /* -f/--follow (so the file is --file only), -n N, --since D */
#define CTL_OPT_TAP      0x200u /* --path PREFIX, --status 5xx|4xx|CODE, -n N (tap) */
#define CTL_OPT_AS       0x400u /* --as SERVICE[.INDEX] (run) */
#define CTL_OPT_FAULT    0x800u /* --delay P%:D, --abort P%:S, --version V, --match 'H: V',
                                   --off, --off-all (fault) */
#define CTL_OPT_OFF      0x1000u /* --off alone (mirror) */
#define CTL_OPT_JOIN_TOKEN 0x2000u /* --join-token, --ttl DURATION (certs) */
#define CTL_OPT_TOKEN    0x4000u /* --token TOKEN (join) */
#define CTL_TRACES_DEFAULT_N 10u
#define CTL_TRACES_MAX_N     10000u
#define CTL_LINES_MAX_N      1000000u  /* -n of logs and tap */

struct ctl_opts {
	const char *file;       /* CTL_DEFAULT_FILE unless -f */
	int         json;
	int         detach;
	unsigned    timeout_s;  /* 0: the command's default */
	int         rotate;
	char      **args;       /* CTL_OPT_ARGS: the operands, in order */
	int         nargs;
	double      interval;   /* CTL_OPT_INTERVAL: seconds, 0.1..3600; 0 default */
	int         slow;       /* CTL_OPT_TRACES: --slow */
	unsigned    count;      /* CTL_OPT_TRACES: -n N (0: the command's default) */
	const char *service;    /* CTL_OPT_TRACES: --service S, NULL: every service */
	int         follow;     /* CTL_OPT_LOGS: -f, --follow */
	int64_t     since;      /* CTL_OPT_LOGS: --since, as Unix seconds; 0: no bound */
	const char *path;       /* CTL_OPT_TAP: --path PREFIX, NULL: every path */
	unsigned    status_lo;  /* CTL_OPT_TAP: --status as a range of codes, */
	unsigned    status_hi;  /*   inclusive (5xx: 500..599); 0, 0: any */
	const char *as;         /* CTL_OPT_AS: --as SERVICE[.INDEX], NULL: the default */
	const char *fault_delay;   /* CTL_OPT_FAULT: --delay P%:D as given, NULL: none; */
	const char *fault_abort;   /*   --abort P%:S; the values are checked by the */
	const char *fault_version; /*   command (faults_opt()), so a bad one exits 1 */
	const char *fault_match;   /*   --match 'H: V' */
	int         off;           /* --off (CTL_OPT_FAULT, CTL_OPT_OFF) */
	int         fault_off_all; /* --off-all */
	int         join_token;    /* CTL_OPT_JOIN_TOKEN: --join-token */
	const char *ttl;           /*   --ttl DURATION as given (checked by certs) */
	const char *token;         /* CTL_OPT_TOKEN: --token TOKEN */
};

struct ctl_cmd {
	const char *name;
	const char *args;       /* synopsis after the name, e.g. "[-f FILE] [--json]" */
	const char *summary;    /* one line for `meshctl help` */
	unsigned    opts;       /* CTL_OPT_* */
	int       (*run)(const struct ctl_opts *o);
};

/*
 * Parse argv[1..argc-1] (argv[0] is the command name) for cmd.  Returns
 * -1 when the options are fine (*o filled), else the exit code to use:
 * CTL_OK after printing the command's help (-h/--help), CTL_USAGE after
 * printing what is wrong and the command's synopsis to stderr.
 */
int  ctl_cli_parse(const struct ctl_cmd *cmd, int argc, char **argv,
                   struct ctl_opts *o);
/*
 * --since D: a duration back from now ("90s", "10m", "2h", "1d", or plain
 * seconds) or a local time "YYYY-MM-DD[THH:MM[:SS]]" (a trailing "Z":
 * UTC).  0 with *out (Unix seconds), -1 when D is neither.
 */
int  ctl_cli_since(const char *s, int64_t now, int64_t *out);
/* --status: "5xx" (500..599), "4xx", ..., or one code 100..599.  0 / -1. */
int  ctl_cli_status(const char *s, unsigned *lo, unsigned *hi);
/* The whole usage text, from the command table (ends at name == NULL). */
void ctl_cli_usage(FILE *out, const struct ctl_cmd *cmds);

/* "meshctl: message\n" on stderr (red "meshctl:" on a terminal). */
void ctl_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, then ": strerror(errno)". */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the mesh a command talks to (ctl_mesh.c) ------------------------- */

struct ctl_mesh {
	char               name[CONF_NAME_MAX];
	char              *state_dir;   /* absolute */
	char              *sock_path;   /* <state_dir>/run/meshd.sock */
	char              *pid_path;    /* <state_dir>/run/meshd.pid */
	int                have_cfg;    /* cfg below is loaded and valid */
	struct mesh_config cfg;
};

/*
 * Load the config at `file` (errors printed to stderr as FILE:LINE).
 * CTL_OK, or CTL_FAIL when the file has errors.  With `lenient` set, a
 * file with errors still yields the name and state dir when its [mesh]
 * section alone can be read (so `down` stops a mesh whose file was broken
 * while it ran); have_cfg is then 0.
 */
int  ctl_mesh_open(const char *file, int lenient, struct ctl_mesh *m);
void ctl_mesh_close(struct ctl_mesh *m);
/* "mesh 'NAME' is not running" on stderr; returns CTL_NOT_RUNNING. */
int  ctl_mesh_not_running(const struct ctl_mesh *m);

/* ---- the control socket (ctl_conn.c) ---------------------------------- */

/*
 * Connect to m->sock_path.  CTL_OK with *fd set; CTL_NOT_RUNNING when the
 * socket is missing or refuses (nothing printed); CTL_FAIL after printing
 * why (permission, path too long...).
 */
int ctl_conn_open(const struct ctl_mesh *m, int *fd);

/* Called for each IPC_REPLY / IPC_LOGLINE frame (payload NUL-terminated). */
typedef void ctl_conn_fn(void *arg, uint16_t type, const char *payload, size_t len);

/*
 * Send `cmd` as IPC_CMD and feed the replies to fn until IPC_DONE.
 * Returns the exit code meshd put in IPC_DONE (0..255), or -1:
 *   errno ETIMEDOUT   timeout_ms (> 0) passed first; nothing printed
 *   errno ECONNRESET  meshd closed the connection first; nothing printed
 *   otherwise         a read error or malformed reply, printed
 */
int ctl_conn_command(int fd, const char *cmd, int timeout_ms,
                     ctl_conn_fn *fn, void *arg);
/* Print why ctl_conn_command() returned -1 when it did not say already
 * (ETIMEDOUT, ECONNRESET), naming the mesh, the command and the wait. */
void ctl_conn_lost(const struct ctl_mesh *m, const char *cmd, int timeout_ms);

/*
 * The whole exchange of a one-shot command: connect, ctl_conn_command(),
 * close, ctl_conn_lost() where needed.  CTL_NOT_RUNNING (nothing printed:
 * the caller says it its way), CTL_OK when meshd answered 0, else CTL_FAIL.
 */
int ctl_conn_run(const struct ctl_mesh *m, const char *cmd, int timeout_ms,
                 ctl_conn_fn *fn, void *arg);
/*
 * The same for a command that changes something (weight, reload,
 * restart, breaker-reset): meshd's replies go to stdout when it answered
 * 0, to stderr otherwise.  CTL_NOT_RUNNING (nothing printed), CTL_OK,
 * CTL_USAGE (meshd answered 2) or CTL_FAIL.
 */
int ctl_conn_reply(const struct ctl_mesh *m, const char *cmd, int timeout_ms);

/* A ctl_conn_fn that prints each payload on the FILE * given as arg,
 * adding a newline where the payload has none, state words coloured
 * (ctl_term_line).  ctl_conn_print_raw: the same without colour. */
void ctl_conn_print(void *arg, uint16_t type, const char *payload, size_t len);
void ctl_conn_print_raw(void *arg, uint16_t type, const char *payload, size_t len);

/* ---- processes (ctl_proc.c) ------------------------------------------- */

/* 1 while pid exists and is not a zombie. */
int  ctl_proc_alive(pid_t pid);
/* 1 while some process of group pgid exists and is not a zombie. */
int  ctl_proc_group_alive(pid_t pgid);
/* Wait until every pid in pids[0..n) and every process group in
 * groups[0..ngroups) is gone, or timeout_ms passes.  Returns how many
 * (pids plus groups) are still alive. */
size_t ctl_proc_wait_gone(const pid_t *pids, size_t n, const pid_t *groups,
                          size_t ngroups, int timeout_ms);
/* Milliseconds on CLOCK_MONOTONIC. */
int64_t ctl_proc_now_ms(void);

/* ---- meshd (ctl_meshd.c) ---------------------------------------------- */

/*
 * The meshd to run: $MESH_MESHD if set, else "meshd" next to this
 * executable (/proc/self/exe), else ../sbin/meshd from there, else "meshd"
 * looked up in PATH.  Writes into buf; returns buf.
 */
const char *ctl_meshd_path(char *buf, size_t size);
/* Replace this process with `meshd -f file`.  Returns only on failure
 * (after printing why) with CTL_FAIL. */
int ctl_meshd_exec(const char *file);
/* Run `meshd -f file -d` and wait for it to return: its exit status, or
 * -1 after printing why it could not run. */
int ctl_meshd_detach(const char *file);

/* ---- terminal (ctl_term.c) -------------------------------------------- */

enum ctl_color { CTL_RESET, CTL_RED, CTL_GREEN, CTL_YELLOW, CTL_BOLD };

/* 1 when `f` is a terminal and NO_COLOR is unset or empty. */
int         ctl_term_color(FILE *f);
/* The escape sequence for c when colour is on for f, else "". */
const char *ctl_term_esc(FILE *f, enum ctl_color c);
/* Print one line, colouring well-known state words (READY, FATAL...). */
void        ctl_term_line(FILE *f, const char *line, size_t len);

/* ---- traces (ctl_traces.c reads the rings, ctl_traces_fmt.c prints) --- */

struct stats_span_rec;

/* One span of a trace in tree order. */
struct ctl_traces_node {
	const struct stats_span_rec *span;
	unsigned depth;        /* 0: a root */
	int      parent;       /* index in the node array, -1 for a root */
	int      orphan;       /* names a parent that is not among the spans */
};

/*
 * The spans of one trace, spans[0..n), as a tree into out[0..n): depth
 * first, roots and each node's children by start time.  A span's parent
 * is the span whose span_id is its parent_id (a server span's parent is
 * the calling client span; a client span's, the server span of the
 * request that made the app call out).  A span whose parent is missing
 * is an orphan and starts a tree of its own, as does any span in a
 * parent cycle.  Allocates (n * a few words); -1 when out of memory,
 * else n.
 */
long   ctl_traces_tree(const struct stats_span_rec *spans, size_t n,
                       struct ctl_traces_node *out);

struct ctl_traces_query {
	unsigned    count;     /* traces to print (the most recent, or slowest) */
	const char *service;   /* only traces with a span of this service; NULL: all */
	int         slow;      /* order by the longest span, not by recency */
	int         json;
	const char *mesh;      /* the mesh's name, for --json */
};

/*
 * Group spans[0..n) (any order; sorted in place, exact duplicates
 * dropped) by trace id and print the traces q asks for on out: trees in
 * text, or one JSON document (man/meshctl.1 has the schema).  Returns the
 * number of traces printed, -1 when out of memory.
 */
long   ctl_traces_report(FILE *out, struct stats_span_rec *spans, size_t n,
                         const struct ctl_traces_query *q);
/* The JSON document's head, up to the traces array's '[' (a stopped mesh
 * prints it, then "]}"). */
void   ctl_traces_json_head(FILE *out, const struct ctl_traces_query *q, int running);

/* ---- logs (ctl_logs.c): <state_dir>/log/mesh.log, as up prints it ---- */

struct logfile_line;

/*
 * Turn one operand of `logs` into logfile selectors (logfile.h), appended
 * to the malloc'd array *sel[0..*n): a SERVICE, SERVICE@VERSION (its
 * instances), an instance name or id ("api.0", "api@v1.0"; id -> name),
 * either with "~proxy" (the sidecar alone), or "meshd".  1 when it named
 * something in cfg, 0 when not (nothing added), -1 out of memory.
 * Free with ctl_logs_free().
 */
int      ctl_logs_select(const struct mesh_config *cfg, const char *what,
                         char ***sel, size_t *n);
void     ctl_logs_free(char **sel, size_t n);
/* The width meshd pads names to for cfg (the longest "NAME~proxy"). */
unsigned ctl_logs_width(const struct mesh_config *cfg);
/* "name | text" as up prints it, names padded to width, into buf (NUL-
 * terminated, cut to size); its length. */
size_t   ctl_logs_format(char *buf, size_t size, unsigned width,
                         const struct logfile_line *l);

/* Called with each line as up prints it (NUL-terminated; no newline). */
typedef void ctl_logs_fn(void *arg, const char *line, size_t len);
/*
 * For the dashboard: the last n lines (0: all) of `what` (an operand as
 * ctl_logs_select() takes it: the selected instance "api.0", or a
 * service) from m's log file, oldest first, to fn.  Reads the whole file
 * (at most about 8 MiB).  The number of lines; -1 with errno EINVAL (what
 * names nothing in m's config, or m has none), ENOENT (no log file yet),
 * ENOMEM, or a read error.
 */
long     ctl_logs_last(const struct ctl_mesh *m, const char *what, size_t n,
                       ctl_logs_fn *fn, void *arg);

/* ---- join (ctl_join_etcd.c) -------------------------------------------- */

struct jtok_answer;
/*
 * Put the request req[0..len) as join/requests/<host_name> in cfg's etcd
 * and wait up to timeout_s for join/certs/<host_name>: an error, or a
 * certificate whose MAC proves the root knows secret.  Then delete both
 * keys and revoke the lease.  CTL_OK with *ans, or CTL_FAIL after
 * printing why (naming the endpoints and the mesh on a timeout).
 */
int ctl_join_ask(const struct mesh_config *cfg, const char *req, size_t len,
                 const unsigned char *secret, unsigned timeout_s,
                 struct jtok_answer *ans);

/* ---- commands: one file each ------------------------------------------ */

int ctl_up(const struct ctl_opts *o);       /* ctl_up.c */
int ctl_down(const struct ctl_opts *o);     /* ctl_down.c */
int ctl_status(const struct ctl_opts *o);   /* ctl_status.c */
int ctl_check(const struct ctl_opts *o);    /* ctl_check.c */
int ctl_certs(const struct ctl_opts *o);    /* ctl_certs.c */
int ctl_weight(const struct ctl_opts *o);   /* ctl_weight.c */
int ctl_reload(const struct ctl_opts *o);   /* ctl_weight.c */
int ctl_fault(const struct ctl_opts *o);    /* ctl_fault.c */
int ctl_mirror(const struct ctl_opts *o);   /* ctl_mirror.c */
int ctl_version(const struct ctl_opts *o);  /* ctl_version.c */
int ctl_traces(const struct ctl_opts *o);   /* ctl_traces.c */
int ctl_tap(const struct ctl_opts *o);      /* ctl_tap.c (include/mesh/ctl_tap.h) */
int ctl_restart(const struct ctl_opts *o);  /* ctl_restart.c */
int ctl_breaker_reset(const struct ctl_opts *o);  /* ctl_restart.c */
int ctl_logs(const struct ctl_opts *o);     /* ctl_logs.c */
int ctl_run(const struct ctl_opts *o);      /* ctl_run.c */
int ctl_join(const struct ctl_opts *o);     /* ctl_join.c */

#endif
