/* SPDX-License-Identifier: ISC */
/*
 * top: `meshctl top`, the live dashboard (man/meshctl.1, "top").
 *
 * Files, in the order a frame runs through them:
 *   top_cmd.c     the command: options, the no-tty fallback, the loop
 *                 (poll on stdin with the frame interval as timeout)
 *   top_model.c   what meshd says: `status --json` (json_scan.h) into
 *                 services, versions, instances; the config's routes
 *   top_stats.c   what the sidecars say: their stats files (stats.h) into
 *                 rates, quantiles, breaker states, the sparkline history
 *   top_render.c  layout (columns dropped by priority) and drawing, main
 *                 and detail views: wnoutrefresh + one doupdate per frame
 *   top_input.c   keys: selection, search, sort, views, and the actions
 *                 (weight, breaker-reset, restart) behind a y/n prompt
 *   top_form.c    the `f` (fault) and `m` (mirror) forms: fields
 *                 prefilled from the status, the command they send, and
 *                 their boxed panel over the table
 *   top_stream.c  the tap (`t`) and logs (`l`) views: a scrolling list of
 *                 the lines top_cmd.c feeds them
 *
 * Numbers.  RPS and success % come from each instance's per-second rate
 * ring (last TOP_RATE_S whole seconds).  Latency quantiles come from the
 * sum of the inbound peer histograms of a service's instances (outbound
 * ones for a service nothing calls, e.g. a gateway), over the last
 * TOP_WIN_S seconds: the model keeps one cumulative sum per second and
 * subtracts the one TOP_WIN_S seconds old.  The sparkline is the p99 of
 * each of the last TOP_SPARK seconds.  A service's breaker state is the
 * worst state any caller's sidecar has for any of its endpoints
 * (endpoint rows of every stats file), an instance's likewise.
 * gRPC: calls and the share with grpc-status 0 come from the same peer
 * rows as the quantiles, over the same window (the detail view's GRPC
 * line; a service with no gRPC call has none).
 *
 * Several hosts (registry = etcd): a HOST column, and each service lists
 * the other hosts' instances too (status "registry" "remote"), their
 * breaker as this host's callers hold it (the endpoint rows naming their
 * host, address and port); a local instance takes only this host's rows.
 *
 * Canary: a service's last-declared version (status lists versions in
 * file order).  `+` moves 5 points to it from the other versions (the
 * heaviest first), `-` moves 5 points from it to the first-declared one.
 */
#ifndef MESH_TOP_H
#define MESH_TOP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mesh/config.h"
#include "mesh/stats.h"

#define TOP_NAME_MAX  112
#define TOP_SVC_MAX   128    /* services shown (status may list more: cut) */
#define TOP_VER_MAX   16
#define TOP_INST_MAX  1024   /* instances in the whole mesh */
#define TOP_SPARK     60     /* seconds of sparkline history */
#define TOP_WIN_S     10     /* seconds behind the p50/p95/p99 shown */
#define TOP_RATE_S    10     /* seconds behind RPS and success % */
#define TOP_STEP      5      /* canary points per + / - */
#define TOP_JSON_TOKENS 200000u
#define TOP_WORDS_MAX 320    /* a fault or mirror as control words, with NUL */

/* A breaker state as shown: none known, closed, half-open, open. */
enum top_brk { TOP_BRK_NONE, TOP_BRK_CLOSED, TOP_BRK_HALF, TOP_BRK_OPEN };

struct top_inst {
	char     name[TOP_NAME_MAX];     /* "api.0", "api@v2.0" */
	char     id[TOP_NAME_MAX];       /* "api@v1.0": stats file, commands */
	char     version[TOP_NAME_MAX];
	unsigned index;
	char     state[16];              /* svc_state(): running, backoff... */
	char     endpoint[8];            /* up, down, none */
	long     app_pid, proxy_pid;     /* 0: none */
	unsigned app_port, inbound_port, outbound_port;
	unsigned restarts;
	long     uptime_s;
	int64_t  cert_not_after;         /* unix time; 0 unknown */
	/* from the stats files (top_stats.c) */
	int      have_stats;
	double   rps, eps;               /* requests, 5xx per second */
	uint64_t conns;                  /* connections open now */
	enum top_brk brk;                /* worst over its callers */
	int      ejected;                /* some caller ejects it now */
	uint64_t ejections;              /* summed over callers */
	uint64_t ewma_us;                /* highest over callers; 0 unseen */
	uint64_t faults;                 /* faults its sidecar injected (aborts + delays) */
	uint64_t mirrored;               /* copies its sidecar sent to a mirror */
	/* registry = etcd (issue 16): the host it runs on ("" without a
	 * registry); remote: another host's instance from status's
	 * "registry":{"remote":[...]}: id and name "<its id>/<host>", state
	 * "remote", endpoint "up", inbound_port its port, addr its address
	 * (host order); no process, no stats file of its own, no actions but
	 * the breaker reset (its callers here still hold its row) */
	char     host[TOP_NAME_MAX];
	int      remote;
	uint32_t addr;
};

struct top_version {
	char     name[TOP_NAME_MAX];
	unsigned weight;                 /* the route's split, else an even share */
	size_t   ninst, nup;
};

struct top_svc {
	char     name[TOP_NAME_MAX];
	char     protocol[8];
	struct top_version ver[TOP_VER_MAX];
	size_t   nver;
	int      has_split;              /* the route has split= (or a weight) */
	int      fault, mirror;          /* status: a fault / a mirror is on (the row's tag) */
	char     fault_words[TOP_WORDS_MAX];  /* that fault as `fault` words: "abort
	                                       * 20%:503 delay 10%:300ms version v2
	                                       * match x-chaos:1"; "" none */
	char     mirror_words[TOP_NAME_MAX];  /* that mirror: "v2=10%"; "" none */
	size_t  *inst;                   /* indexes into model->inst, [ninst] */
	size_t   ninst, nup, inst_cap;
	int      seen;                   /* private: in the last status */
	/* from the stats files */
	double   rps, eps;
	uint64_t conns;
	enum top_brk brk;
	int      have_lat;
	uint64_t p50, p95, p99;          /* us over the last TOP_WIN_S s */
	uint64_t spark[TOP_SPARK];       /* p99 per second, oldest first; 0 none */
	uint64_t *win;                   /* private: [TOP_WIN_S+1][STATS_HIST_BUCKETS] */
	unsigned nwin, whead;            /* private: sums kept, next slot */
	uint64_t *sum;                   /* private: [STATS_HIST_BUCKETS] this frame */
	/* gRPC calls of the same rows: since the sidecars started, and over
	 * the last TOP_WIN_S s (the window of the quantiles) */
	uint64_t grpc_total, grpc_total_ok;
	uint64_t grpc_calls, grpc_ok;
	uint64_t grpc_win[TOP_WIN_S + 1][2]; /* private: {calls, ok} per sum kept */
};

/* One recent span for the detail view. */
struct top_span {
	char     instance[TOP_NAME_MAX];
	uint64_t start_ns, duration_us;
	unsigned status, flags, retries;
	int      grpc;                   /* grpc-status; -1: no gRPC call */
	char     method[17], path[129], peer[STATS_NAME_LEN + 1], trace[33];
};
#define TOP_SPANS_MAX 32

struct top_model {
	char     mesh[TOP_NAME_MAX];
	char     state_dir[4096];
	int      running;
	long     uptime_s;
	long     meshd_pid;
	int64_t  cert_min;               /* soonest not_after; 0 unknown */
	struct top_inst *inst;           /* [ninst] */
	size_t   ninst;
	struct top_svc *svc;             /* [nsvc], status order */
	size_t   nsvc;
	double   rps, eps;               /* the whole mesh: sums over services */
	uint64_t last_sample_s;          /* private: last per-second sample */
	char     err[256];               /* why the last update failed, "" */
	const struct mesh_config *cfg;   /* the file's routes for the detail view; may be NULL */
	/* registry = etcd: this host's name and address (status "registry"
	 * "host", "address"); "" and 0 without: then top looks as on one host */
	char     host[TOP_NAME_MAX];
	uint32_t host_addr;
	char     reg_state[16];          /* "up", "down", "connecting"; "" without */
	char     reg_reason[160];        /* why not up (status "reason"), "" */
};

void top_model_init(struct top_model *m);
void top_model_free(struct top_model *m);
/*
 * Replace services, versions and instances with those of one `status
 * --json` document (keeping each service's history by name).  0, or -1
 * with m->err set (the previous contents stay).
 */
int  top_model_status(struct top_model *m, const char *json, size_t len);
/* The service named name, or NULL. */
struct top_svc *top_model_find(struct top_model *m, const char *name);
/* "v1 90 v2 10" / "-" into buf. */
void top_model_weights(const struct top_svc *s, char *buf, size_t size);
/*
 * The `weight` command that moves s's canary by delta points (+/-
 * TOP_STEP), e.g. "weight api v1=85 v2=15", and a line saying so for the
 * prompt.  0, or -1 with why in `say` (one version, already at 100 or 0).
 */
int  top_model_canary(const struct top_svc *s, int delta, char *cmd, size_t cmdlen,
                      char *say, size_t saylen);

/*
 * Read every instance's stats file under m->state_dir and compute the
 * numbers above at wall-clock time now_ns.  Files that are missing or bad
 * leave that instance without stats (have_stats 0).
 */
void top_stats_update(struct top_model *m, uint64_t now_ns);
/* The slowest and the failed recent spans of service s, slowest first. */
size_t top_stats_spans(const struct top_model *m, const struct top_svc *s,
                       struct top_span *out, size_t max);
/* Fold one instance's stats view into model state (exposed for the tests). */
enum top_brk top_stats_brk(uint32_t ep_state);

/* ---- the screen ------------------------------------------------------- */

enum top_view { TOP_VIEW_MAIN, TOP_VIEW_DETAIL, TOP_VIEW_HELP, TOP_VIEW_TAP, TOP_VIEW_LOGS };

/*
 * The tap and logs views: lines the command feeds (top_cmd.c: the
 * service's requests from ctl_tap.h, or the selected instance's last log
 * lines from ctl_logs_last()), newest last, at most TOP_STREAM_LINES.
 */
#define TOP_STREAM_LINES 256
#define TOP_STREAM_LEN   320
struct top_stream {
	char     of[TOP_NAME_MAX];       /* the service (tap) or instance (logs) */
	char     line[TOP_STREAM_LINES][TOP_STREAM_LEN];
	uint8_t  bad[TOP_STREAM_LINES];  /* drawn in red (a 5xx, a refusal) */
	unsigned head, count;            /* next slot; lines held */
	uint64_t total, lost;            /* tap: requests shown, not shown */
	char     err[160];               /* why nothing can be shown, or "" */
};
void top_stream_clear(struct top_stream *st, const char *of);
void top_stream_push(struct top_stream *st, const char *line, size_t len, int bad);
enum top_sort { TOP_SORT_NAME, TOP_SORT_RPS, TOP_SORT_ERR, TOP_SORT_P99, TOP_SORT__N };
/* FIND: '/' text; CONFIRM: y/n; FORM: the `f` or `m` form (ui->form),
 * Enter sends the command it builds */
enum top_prompt { TOP_PROMPT_NONE, TOP_PROMPT_FIND, TOP_PROMPT_CONFIRM, TOP_PROMPT_FORM };

/*
 * The `f` and `m` forms (top_form.c): a few labelled text fields, one
 * focused.  The fault form's fields, in order: abort %, abort status,
 * delay %, delay, version, match header; the mirror form's: version,
 * percent.  A percent is typed with or without its '%'.
 */
#define TOP_FORM_FIELDS 6
#define TOP_FORM_LEN    200      /* a field's text with its NUL: "x-chaos: 1" */
enum { TOP_FF_ABORT_PCT, TOP_FF_ABORT_STATUS, TOP_FF_DELAY_PCT, TOP_FF_DELAY,
       TOP_FF_VERSION, TOP_FF_MATCH };
enum { TOP_FM_VERSION, TOP_FM_PCT };

struct top_form {
	int    kind;                     /* 'f' fault, 'm' mirror */
	char   service[TOP_NAME_MAX];
	size_t nfield, focus;
	char   val[TOP_FORM_FIELDS][TOP_FORM_LEN];
};

/* What a key did to a form. */
enum top_form_act { TOP_FORM_STAY, TOP_FORM_APPLY, TOP_FORM_OFF, TOP_FORM_CANCEL };

/*
 * Open the form of `kind` on service s, prefilled from what status says
 * is in force (s->fault_words, s->mirror_words): the fault form with the
 * abort status 503 when none is set, the mirror form with the service's
 * last-declared version (its canary) when no mirror is on.
 */
void top_form_open(struct top_form *f, int kind, const struct top_svc *s);
/* Fill the fields from control words as in fault_words / mirror_words
 * (unknown words are skipped); fields the words do not name keep theirs. */
void top_form_fill(struct top_form *f, const char *words);
/*
 * One key: Tab/Down next field, Shift-Tab/Up the previous one (both
 * wrap), Enter applies, ^D turns it off, Esc cancels; anything else
 * edits the focused field (top_input_edit()).
 */
enum top_form_act top_form_key(struct top_form *f, int key);
/*
 * The control command the form stands for into cmd: "fault api abort
 * 20%:503 delay 10%:300ms version v2 match x-chaos:1" (only what has a
 * nonzero share; an empty abort status is 503), "mirror api v2=10%", or
 * "SERVICE off" when every percent is empty or 0, or with off set.  The
 * values themselves are meshd's to judge.  0, or -1 with why (naming the
 * field) when the form cannot be sent: a blank inside a value, a delay
 * share without a delay, a mirror share without a version, too long.
 */
int  top_form_cmd(const struct top_form *f, int off, char *cmd, size_t cmdlen,
                  char *why, size_t whylen);
/* A form field's label ("Abort %"). */
const char *top_form_label(const struct top_form *f, size_t field);

/* The line editor of the `/` prompt and the form's fields: Backspace,
 * ^U (clear), printable ASCII appended while it fits buf's size; other
 * keys change nothing. */
void top_input_edit(char *buf, size_t size, int key);

/* A row of the main view: a service, one of its versions or instances. */
struct top_row {
	int    kind;                     /* 0 service, 1 version, 2 instance */
	size_t svc, ver, inst;           /* indexes (model->svc, ver, model->inst) */
};

struct top_ui {
	enum top_view   view;
	enum top_sort   sort;
	enum top_prompt prompt;
	char            input[64];       /* FIND: what is typed */
	char            ask[256];        /* CONFIRM: the question */
	char            cmd[512];        /* the control command (CONFIRM: on 'y'; FORM: on Enter) */
	struct top_form form;            /* FORM */
	char            msg[256];        /* the last result, shown on the status line */
	time_t          msg_at;
	char            sel_name[TOP_NAME_MAX];  /* the selected row's service ... */
	char            sel_inst[TOP_NAME_MAX];  /* ... and instance id or version, "" */
	int             sel_kind;
	char            expanded[TOP_SVC_MAX][TOP_NAME_MAX];
	size_t          nexpanded;
	size_t          top;             /* first row shown */
	struct top_row *rows;            /* this frame's rows */
	size_t          nrows, rows_cap, sel;
	int             color, utf8;
	int             quit;
	int             dirty;           /* redraw now (a key changed something) */
	struct top_stream stream;        /* TOP_VIEW_TAP, TOP_VIEW_LOGS */
};

/* Rebuild ui->rows from m (sort, expansion) and find the selection again. */
void top_ui_rows(struct top_ui *ui, const struct top_model *m);
int  top_ui_expanded(const struct top_ui *ui, const char *svc);

/* The top line: mesh, uptime, rates, cert, sort and, with a registry,
 * this host and etcd's state ("etcd down: why" while it is not up). */
void top_render_header(const struct top_ui *ui, const struct top_model *m, char *buf,
                       size_t size);
/* Draw one frame (ncurses must be initialised). */
void top_render(struct top_ui *ui, const struct top_model *m);
/* Columns of the main view that fit `width` (bit i: column i shown). */
unsigned top_render_columns(int width, int *spark_width);
/* The same with a HOST column among them (hosts: the mesh has a registry). */
unsigned top_render_columns_hosts(int width, int hosts, int *spark_width);

/*
 * One key.  Returns a control command to run now (ui->cmd, after a 'y')
 * or NULL.  The caller runs it and puts the answer in ui->msg.
 */
const char *top_input_key(struct top_ui *ui, const struct top_model *m, int key);

/* Format microseconds as "1.23ms", "456us", "2.1s", "-" for 0. */
void top_fmt_us(char *buf, size_t size, uint64_t us, int have);

/* `meshctl top`: the command's entry, called from meshctl's table
 * (src/ctl/meshctl.c).  Exit code as ctl.h says. */
struct ctl_opts;
int top_cmd(const struct ctl_opts *o);

#endif
