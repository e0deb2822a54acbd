/* SPDX-License-Identifier: ISC */
/*
 * logfile: <state_dir>/log/mesh.log, every line meshd shows (outlog.h),
 * kept on disk for `meshctl logs` and the dashboard.  One line each:
 *
 *   2026-12-06T20:31:02.123Z api.0 | listening on 8200
 *
 * the UTC time with milliseconds, the name unpadded (an instance name
 * "api.0" or "api@v2.0", its sidecar "api.0~proxy", or "meshd"), " | ",
 * the text.  meshd appends (logwrite.h: one write() per line, the file
 * renamed to mesh.log.1 past LOGFILE_CAP, so at most about twice that
 * is on disk); readers take mesh.log.1, then
 * mesh.log.
 *
 * logfile.c formats, parses and selects lines; logfile_read.c reads the
 * files: the last lines that match (logfile_tail), then what is appended
 * (logfile_follow_*), across a rotation.  No libev, no allocation per line.
 */
#ifndef MESH_LOGFILE_H
#define MESH_LOGFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LOGFILE_DIR       "log"          /* under the state dir */
#define LOGFILE_NAME      "mesh.log"
#define LOGFILE_OLD       "mesh.log.1"
#define LOGFILE_CAP       (4u << 20)     /* mesh.log is rotated past this */
#define LOGFILE_TIME_LEN  24             /* "2026-12-06T20:31:02.123Z" */
#define LOGFILE_NAME_MAX  160            /* a name, longer ones are cut */
#define LOGFILE_TEXT_MAX  4096           /* a text, longer ones are cut */
/* a whole line: time, ' ', name, " | ", text, '\n' */
#define LOGFILE_LINE_MAX  (LOGFILE_TIME_LEN + 1 + LOGFILE_NAME_MAX + 3 + \
                           LOGFILE_TEXT_MAX + 1)

/* One parsed line; name and text point into the caller's buffer. */
struct logfile_line {
	int64_t     ms;          /* Unix time, milliseconds */
	const char *name;
	size_t      name_len;    /* 1..LOGFILE_NAME_MAX */
	const char *text;
	size_t      text_len;    /* 0..LOGFILE_TEXT_MAX */
};

/*
 * One line, newline included, into buf (at least LOGFILE_LINE_MAX bytes;
 * not NUL-terminated).  A name or text past its maximum is cut; a name's
 * spaces and control characters, and a text's CR and LF, become '_' and
 * ' ', so the line always parses back.  Returns its length; 0 when the
 * name is empty or ms is outside years 0000..9999.
 */
size_t logfile_format(char *buf, int64_t ms, const char *name, const char *text,
                      size_t len);
/*
 * Parse line[0..len) (a trailing '\n' allowed).  0 with *out, or -1 when
 * it is not a line logfile_format() could have written.
 */
int    logfile_parse(const char *line, size_t len, struct logfile_line *out);

/*
 * Which lines a reader wants.  A selector is
 *   "api"          a service: every instance of every version, and their
 *                  sidecars ("api.0", "api@v2.1", "api.0~proxy")
 *   "api.0"        an instance name: its app and its sidecar
 *   "api.0~proxy"  just that sidecar
 *   "meshd"        meshd's own lines
 * meshd's lines about a selected instance ("meshd | api.0: started (pid
 * 4242)") are selected with it.  The caller checks the selectors against
 * the config (meshctl: ctl_logs.c) and turns an instance id "api@v1.0" of
 * a service's first version into its name "api.0", as outlog shows it.
 */
struct logfile_filter {
	const char *const *sel;       /* NULL with nsel 0: every line */
	size_t             nsel;
	int64_t            since_ms;  /* lines at or after this; 0: every line */
};

/* 1 when l passes f. */
int    logfile_match(const struct logfile_filter *f, const struct logfile_line *l);

/* Called for each line a reader selects, oldest first. */
typedef void logfile_line_fn(void *arg, const struct logfile_line *l);

/*
 * Where a reader is in <dir>/mesh.log, to go on from there
 * (logfile_follow_poll).  About 8 KiB: one per reader, not per line.
 */
struct logfile_follow {
	char   path[4096];   /* ro: <dir>/mesh.log, for messages */
	int    fd;           /* private: -1 not open (no file yet) */
	dev_t  dev;          /* private: of the file open */
	ino_t  ino;          /* private */
	off_t  off;          /* private: file offset of buf[0] */
	char   buf[LOGFILE_LINE_MAX];   /* private */
	size_t len;          /* private: a partial line in buf */
	int    skip;         /* private: dropping an over-long line up to its newline */
};

/*
 * The last `max` lines (0: all) of <dir>/mesh.log.1 then <dir>/mesh.log
 * that pass f, oldest first, to fn.  Reads both files whole (together at
 * most about 2 * LOGFILE_CAP); lines that do not parse are skipped.
 * With fw non-NULL, *fw is set to go on after the last whole line read
 * (logfile_follow_close() it, whatever this returns).  Returns the number
 * of lines given to fn; -1 with errno: ENOENT when neither file exists
 * (fw then waits for mesh.log to appear), ENOMEM, or the read's error.
 */
long   logfile_tail(const char *dir, const struct logfile_filter *f, size_t max,
                    logfile_line_fn *fn, void *arg, struct logfile_follow *fw);
/*
 * The lines appended since the last call (or since logfile_tail), to fn.
 * After a rotation (mesh.log is another file) the rest of the old one is
 * read, then the new one from its start; a file truncated under us is
 * read again from its start.  Never blocks.  Returns the number of lines
 * given to fn, -1 on a read error (errno).
 */
long   logfile_follow_poll(struct logfile_follow *fw, const struct logfile_filter *f,
                           logfile_line_fn *fn, void *arg);
void   logfile_follow_close(struct logfile_follow *fw);

#endif
