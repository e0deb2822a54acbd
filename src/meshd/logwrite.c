/* SPDX-License-Identifier: ISC */
/*
 * logwrite: <state_dir>/log/mesh.log, appended to and rotated
 * (include/mesh/logwrite.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mesh/log.h"
#include "mesh/logfile.h"
#include "mesh/logwrite.h"

static struct {
	int    fd;              /* -1: not open */
	char   path[4096];      /* <state_dir>/log/mesh.log */
	char   old[4096];       /* <state_dir>/log/mesh.log.1 */
	size_t cap;
	size_t size;            /* of the open file, as far as we wrote it */
	int    failing;         /* a failure was reported; quiet until one works */
	char   buf[LOGFILE_LINE_MAX];
} lw = { .fd = -1 };

static int
logwrite_reopen(void)
{
	struct stat st;

	if (lw.fd != -1)
		close(lw.fd);
	lw.size = 0;
	lw.fd = open(lw.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (lw.fd == -1)
		return -1;
	if (fstat(lw.fd, &st) == 0)
		lw.size = (size_t)st.st_size;
	return 0;
}

int
logwrite_open(const char *state_dir, size_t cap, char *err, size_t errlen)
{
	char dir[sizeof(lw.path) - sizeof(LOGFILE_OLD) - 1];
	int n;

	n = snprintf(dir, sizeof(dir), "%s/%s", state_dir, LOGFILE_DIR);
	if (n < 0 || (size_t)n >= sizeof(dir)) {
		snprintf(err, errlen, "%s/%s: path too long", state_dir, LOGFILE_DIR);
		return -1;
	}
	snprintf(lw.path, sizeof(lw.path), "%s/%s", dir, LOGFILE_NAME);
	snprintf(lw.old, sizeof(lw.old), "%s/%s", dir, LOGFILE_OLD);
	lw.cap = cap != 0 ? cap : LOGFILE_CAP;
	lw.failing = 0;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (logwrite_reopen() == -1) {
		snprintf(err, errlen, "%s: %s", lw.path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Once per run of failures: outlog would only bring us back here. */
static void
logwrite_fail(const char *what)
{
	if (!lw.failing)
		log_warn("%s: %s (lines are not kept on disk until it works again)",
		    lw.path, what);
	lw.failing = 1;
}

void
logwrite_line_at(int64_t ms, const char *name, const char *text, size_t len)
{
	size_t n;
	ssize_t w;

	if (lw.path[0] == '\0' || (n = logfile_format(lw.buf, ms, name, text, len)) == 0)
		return;
	if (lw.fd != -1 && lw.size > 0 && lw.size + n > lw.cap) {
		/* rename() replaces the old mesh.log.1 in one step */
		if (rename(lw.path, lw.old) == -1) {
			logwrite_fail("rotating");
			return;
		}
		close(lw.fd);
		lw.fd = -1;
	}
	if (lw.fd == -1 && logwrite_reopen() == -1) {
		logwrite_fail("opening");
		return;
	}
	do
		w = write(lw.fd, lw.buf, n);
	while (w == -1 && errno == EINTR);
	if (w == -1) {
		logwrite_fail("writing");
		return;
	}
	lw.size += (size_t)w;
	lw.failing = 0;
}

void
logwrite_line(const char *name, const char *text, size_t len)
{
	struct timespec ts;

	if (lw.fd == -1 && lw.path[0] == '\0')
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	logwrite_line_at((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, name, text, len);
}

void
logwrite_close(void)
{
	if (lw.fd != -1)
		close(lw.fd);
	lw.fd = -1;
	lw.path[0] = '\0';
}
