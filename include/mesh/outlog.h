/* SPDX-License-Identifier: ISC */
/*
 * outlog: every line meshd shows, prefixed with where it came from, like
 * `docker compose up`:
 *
 *   api.0        | a line the app wrote
 *   api.0~proxy  | a line its sidecar wrote
 *   meshd        | api.0: sidecar ready
 *
 * Names are padded to a common width.  A line longer than OUTLOG_LINE_MAX
 * is split.  Lines go to stdout, into a ring of the last OUTLOG_RING lines
 * (for `logs` and `wait-ready` clients), to the sink (control.c), and,
 * unpadded and timed, to <state_dir>/log/mesh.log (logwrite.h) for
 * `meshctl logs`.
 * Children's output reaches it through struct outlog_pipe below.
 */
#ifndef MESH_OUTLOG_H
#define MESH_OUTLOG_H

#include <stddef.h>
#include <ev.h>

#define OUTLOG_LINE_MAX 4096
#define OUTLOG_RING     200
#define OUTLOG_TAIL     3      /* last lines kept per pipe, for failure reports */
#define OUTLOG_TAIL_MAX 200

/* Called with each whole prefixed line (no newline). */
typedef void outlog_sink_fn(void *arg, const char *line, size_t len);

void outlog_init(unsigned width, outlog_sink_fn *sink, void *arg);
void outlog_free(void);
/* Replace the sink (NULL: none), e.g. before the control socket goes away. */
void outlog_set_sink(outlog_sink_fn *sink, void *arg);

/* One line from `name`. */
void outlog_line(const char *name, const char *text, size_t len);
/* A line of meshd's own, from "meshd". */
void outlog_event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Call fn for every line in the ring, oldest first. */
void outlog_ring(outlog_sink_fn *fn, void *arg);

#define OUTLOG_PUNCH    (64u << 10) /* a log file: read bytes punched out past this */
#define OUTLOG_SWEEP    1.0         /* s: every followed file read and punched */
#define OUTLOG_CATCHUP  (256u << 10)/* a file opened with more unread: the rest skipped */
#define OUTLOG_FILE_CAP (1u << 20)  /* no hole punching: truncated past this, when read */

/*
 * A child's stdout or stderr: a pipe read non-blocking, or a log file
 * (spawn.h) followed with inotify (and read every OUTLOG_SWEEP s besides).
 * For a file, what has been read is punched out (FALLOC_FL_PUNCH_HOLE)
 * once OUTLOG_PUNCH of it piles up and at each sweep, so the file takes
 * little disk while meshd runs, and a meshd that opens it after another
 * died (adopt.h) starts at its first byte not punched: lines the dead one
 * had not read yet are shown, at most OUTLOG_CATCHUP of them.
 */
struct outlog_pipe {
	ev_io       io;                     /* private */
	int         fd;                     /* ro: -1 when closed */
	const char *name;                   /* ro: the prefix */
	const char *ident;                  /* ro: journal SYSLOG_IDENTIFIER; NULL meshd's */
	const char *service;                /* ro: journal MESH_SERVICE; NULL: no fields */
	char        instance[12];           /* ro: journal MESH_INSTANCE (the index) */
	char        buf[OUTLOG_LINE_MAX];   /* private: the partial line */
	size_t      len;                    /* private */
	char        tail[OUTLOG_TAIL][OUTLOG_TAIL_MAX]; /* ro: last lines */
	unsigned    ntail;                  /* ro: lines ever seen */
	int         is_file;                /* ro: fd is a log file */
	int         wd;                     /* private: inotify watch; -1 none */
	long long   punched;                /* private: file bytes punched out */
	int         skip;                   /* private: 1 leading NULs, 2 up to a newline */
	struct outlog_pipe *next;           /* private: followed files */
};

void outlog_pipe_init(struct outlog_pipe *p, const char *name);
/*
 * The journal fields of p's lines (strings kept by the caller).  When
 * meshd logs to the journal (log_journal()), each line of p becomes an
 * entry of its own with them instead of a line on meshd's stdout; the
 * ring, the sink and the log file get it as always.
 */
void outlog_pipe_fields(struct outlog_pipe *p, const char *ident, const char *service,
                        unsigned index);
/* Start reading fd (made non-blocking; closed by outlog_pipe_close).  A
 * regular file is read from its first byte not punched out. */
void outlog_pipe_open(struct outlog_pipe *p, struct ev_loop *loop, int fd);
/* Read what is left without blocking, emit a last partial line, close. */
void outlog_pipe_close(struct outlog_pipe *p, struct ev_loop *loop);
/* "line; line; line" of the last lines (oldest first) into buf. */
void outlog_pipe_tail(const struct outlog_pipe *p, char *buf, size_t size);

#endif
