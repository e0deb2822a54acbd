/* SPDX-License-Identifier: ISC */
/*
 * log: the one way every program reports.
 *
 * log_warn() appends strerror(errno); log_warnx() does not (relayd's split).
 * fatal()/fatalx() are for start-up failures and broken invariants only.
 * Lines go to stderr as "PROG: LEVEL: message"; meshd prefixes its
 * children's lines itself.
 *
 * Under systemd, when stderr is the journal stream systemd gave us
 * (JOURNAL_STREAM names the device:inode of fd 2), each message goes to the
 * journal instead, through journal_sendv() (journal.h), with PRIORITY,
 * SYSLOG_IDENTIFIER (the progname), ERRNO for log_warn()/fatal(), and
 * MESH_SERVICE / MESH_INSTANCE once log_set_fields() named them.  A child
 * whose stderr is a pipe to meshd inherits JOURNAL_STREAM but no longer
 * matches it, so it writes plain lines and meshd relays them (log_relay()).
 * If the journal refuses a message, the plain line goes to stderr.
 */
#ifndef MESH_LOG_H
#define MESH_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* progname: shown in every line; level: the most verbose level printed.
 * Also decides, once, between stderr and the journal (see above). */
void log_init(const char *progname, enum log_level level);
void log_set_level(enum log_level level);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * The MESH_SERVICE and MESH_INSTANCE journal fields of this process's own
 * messages (a sidecar: its service and instance number).  NULL or "" drops
 * a field.  Copied, at most LOG_FIELD_MAX - 1 bytes each.  Plain lines on
 * stderr do not change.
 */
#define LOG_FIELD_MAX 64
void log_set_fields(const char *service, const char *instance);

/* 1 when messages go to the journal, 0 when to stderr. */
int log_journal(void);

/*
 * One line another process wrote (meshd relaying an app or a sidecar): to
 * the journal with that process's fields (ident: its SYSLOG_IDENTIFIER,
 * NULL for our progname; service/instance: NULL or "" for none), else
 * written to stderr as it is, with a newline.  text need not end in a NUL;
 * len is capped at LOG_LINE_MAX.  Not filtered by level.
 */
#define LOG_LINE_MAX 4096
void log_relay(enum log_level level, const char *ident, const char *service,
    const char *instance, const char *text, size_t len);

/* The level of a line in our own "PROG: LEVEL: message" format, else dflt. */
enum log_level log_line_level(const char *text, size_t len, enum log_level dflt);

#endif
