/* SPDX-License-Identifier: ISC */
/*
 * log: plain lines on stderr, "PROG: level: message", or, under systemd,
 * structured journal entries (include/mesh/log.h says when and which).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mesh/journal.h"
#include "mesh/log.h"

static const char     *log_prog = "mesh";
static enum log_level  log_max = LOG_LVL_INFO;
static int             log_to_journal;
static char            log_service[LOG_FIELD_MAX];
static char            log_instance[LOG_FIELD_MAX];

/* The journal's sender; the unit test puts a recorder here. */
static int (*log_sendv)(const struct iovec *iov, int n) = journal_sendv;

static const char *const log_names[] = { "error", "warning", "info", "debug" };
/* syslog(3) priorities, as the journal's PRIORITY field wants them. */
static const int log_prio[] = { 3, 4, 6, 7 };

/*
 * systemd sets JOURNAL_STREAM=DEV:INO when it connects stdout/stderr to the
 * journal.  The variable is inherited by everything we start, so only a
 * match with what fd 2 really is now counts.
 */
static int
log_detect_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (e == NULL || sscanf(e, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *progname, enum log_level level)
{
	log_prog = progname;
	log_max = level;
	log_to_journal = log_detect_journal();
}

void
log_set_level(enum log_level level)
{
	log_max = level;
}

void
log_set_fields(const char *service, const char *instance)
{
	snprintf(log_service, sizeof(log_service), "%s", service != NULL ? service : "");
	snprintf(log_instance, sizeof(log_instance), "%s", instance != NULL ? instance : "");
}

int
log_journal(void)
{
	return log_to_journal;
}

/*
 * One journal entry; err: an errno value, or -1 for none.  Every field is
 * built in a bounded buffer on the stack: logging must not allocate.
 * Returns what journal_sendv() did (journal.h).
 */
static int
log_journal_send(enum log_level lvl, const char *ident, const char *service,
    const char *instance, int err, const char *msg, size_t msglen)
{
	char m[LOG_LINE_MAX + 64], prio[16], id[LOG_FIELD_MAX + 32];
	char svc[LOG_FIELD_MAX + 16], inst[LOG_FIELD_MAX + 16], errf[32];
	struct iovec iov[6];
	int n = 0, len;

	len = snprintf(m, sizeof(m), "MESSAGE=%.*s%s%s", (int)msglen, msg,
	    err >= 0 ? ": " : "", err >= 0 ? strerror(err) : "");
	if (len < 0)
		return -1;
	if ((size_t)len >= sizeof(m))
		len = (int)sizeof(m) - 1;
	iov[n].iov_base = m;
	iov[n++].iov_len = (size_t)len;

#define LOG_FIELD(buf, ...) do {                                          \
		int l_ = snprintf(buf, sizeof(buf), __VA_ARGS__);         \
		if (l_ > 0 && (size_t)l_ < sizeof(buf)) {                \
			iov[n].iov_base = buf;                            \
			iov[n++].iov_len = (size_t)l_;                    \
		}                                                         \
	} while (0)
	LOG_FIELD(prio, "PRIORITY=%d", log_prio[lvl]);
	LOG_FIELD(id, "SYSLOG_IDENTIFIER=%s", ident != NULL ? ident : log_prog);
	if (service != NULL && service[0] != '\0')
		LOG_FIELD(svc, "MESH_SERVICE=%s", service);
	if (instance != NULL && instance[0] != '\0')
		LOG_FIELD(inst, "MESH_INSTANCE=%s", instance);
	if (err >= 0)
		LOG_FIELD(errf, "ERRNO=%d", err);
#undef LOG_FIELD
	return log_sendv(iov, n);
}

static void log_emit(enum log_level lvl, int err, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
log_emit(enum log_level lvl, int err, const char *fmt, va_list ap)
{
	char msg[1024];

	if (lvl > log_max)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_to_journal &&
	    log_journal_send(lvl, NULL, log_service, log_instance, err, msg,
	    strlen(msg)) >= 0)
		return;
	if (err >= 0)
		fprintf(stderr, "%s: %s: %s: %s\n", log_prog, log_names[lvl], msg, strerror(err));
	else
		fprintf(stderr, "%s: %s: %s\n", log_prog, log_names[lvl], msg);
}

void
log_relay(enum log_level level, const char *ident, const char *service,
    const char *instance, const char *text, size_t len)
{
	if (len > LOG_LINE_MAX)
		len = LOG_LINE_MAX;
	if (log_to_journal &&
	    log_journal_send(level, ident, service, instance, -1, text, len) >= 0)
		return;
	fprintf(stderr, "%.*s\n", (int)len, text);
}

enum log_level
log_line_level(const char *text, size_t len, enum log_level dflt)
{
	const char *p, *end = text + len;
	size_t i, n;

	/* "PROG: LEVEL: ": the first ": " ends PROG, which has no blanks. */
	for (p = text; p + 1 < end && p - text < LOG_FIELD_MAX; p++) {
		if (*p == ' ')
			return dflt;
		if (p[0] == ':' && p[1] == ' ')
			break;
	}
	if (p + 1 >= end || p - text >= LOG_FIELD_MAX || p == text)
		return dflt;
	p += 2;
	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		n = strlen(log_names[i]);
		if ((size_t)(end - p) > n + 1 && memcmp(p, log_names[i], n) == 0 &&
		    p[n] == ':' && p[n + 1] == ' ')
			return (enum log_level)i;
	}
	return dflt;
}

void
log_warn(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_WARN, e, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_WARN, -1, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_INFO, -1, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_DEBUG, -1, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_ERROR, e, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_ERROR, -1, fmt, ap);
	va_end(ap);
	exit(1);
}
