/*
 * log: the one way every program reports.
 *
 * log_warn() appends strerror(errno); log_warnx() does not (relayd's split).
 * fatal()/fatalx() are for start-up failures and broken invariants only.
 * Lines go to stderr as "PROG: LEVEL: message"; meshd prefixes its
 * children's lines itself.
 */
#ifndef MESH_LOG_H
#define MESH_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* progname: shown in every line; level: the most verbose level printed. */
void log_init(const char *progname, enum log_level level);
void log_set_level(enum log_level level);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
