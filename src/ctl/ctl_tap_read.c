/* SPDX-License-Identifier: ISC */
/*
 * ctl_tap_read: the lease and the reading of a tapped service's span
 * rings (include/mesh/ctl_tap.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mesh/clock.h"
#include "mesh/ctl.h"
#include "mesh/ctl_tap.h"

/* Reads of one file per poll: a ring of another writer's version may be
 * larger than ours; what is left waits for the next poll. */
#define CTL_TAP_READS_MAX 4

/* Renew the lease: create the file (and run/tap/ after a wipe), set its
 * mtime to now.  0 / -1 with errno. */
static int
ctl_tap_touch(const struct ctl_tap *t)
{
	char dir[sizeof(t->lease)];
	int fd, again;

	for (again = 1;; again = 0) {
		fd = open(t->lease, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
		if (fd != -1 || errno != ENOENT || !again)
			break;
		snprintf(dir, sizeof(dir), "%s", t->lease);
		*strrchr(dir, '/') = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			return -1;
	}
	if (fd == -1)
		return -1;
	if (futimens(fd, NULL) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

/* Where to start reading a file: a file made after the tap started
 * holds only what came after (0: all its ring), an older one from now. */
static uint64_t
ctl_tap_start(const struct ctl_tap *t, const struct stats_spans_head *h)
{
	return h->start_time_ns >= t->open_ns ? 0 : h->written;
}

static int
ctl_tap_path(const struct ctl_tap *t, const char *name, char *path, size_t size)
{
	return snprintf(path, size, "%s/%s", t->stats_dir, name) >= (int)size ? -1 : 0;
}

/* Follow the files of the service now in the stats directory; forget
 * those gone. */
static void
ctl_tap_scan(struct ctl_tap *t)
{
	struct stats_spans_head h;
	struct dirent *de;
	char path[sizeof(t->stats_dir) + 256];
	size_t i, k;
	DIR *d;

	for (i = 0; i < t->nfiles; i++)
		t->files[i].seen = 0;
	if ((d = opendir(t->stats_dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			size_t len = strlen(de->d_name);

			if (len <= 6 || len >= sizeof(t->files[0].name) ||
			    strcmp(de->d_name + len - 6, ".stats") != 0 ||
			    ctl_tap_path(t, de->d_name, path, sizeof(path)) == -1 ||
			    stats_spans_head(path, &h) != STATS_OK ||
			    strcmp(h.service, t->service) != 0)
				continue;
			for (i = 0; i < t->nfiles && strcmp(t->files[i].name, de->d_name) != 0; i++)
				;
			if (i == t->nfiles) {
				if (t->nfiles == CTL_TAP_FILES_MAX)
					continue;
				t->nfiles++;
				memset(&t->files[i], 0, sizeof(t->files[i]));
				memcpy(t->files[i].name, de->d_name, len + 1);
				t->files[i].pid = h.pid;
				t->files[i].start_time_ns = h.start_time_ns;
				t->files[i].cursor = ctl_tap_start(t, &h);
			}
			t->files[i].seen = 1;
		}
		closedir(d);
	}
	for (i = 0, k = 0; i < t->nfiles; i++)
		if (t->files[i].seen)
			t->files[k++] = t->files[i];
	t->nfiles = k;
}

int
ctl_tap_open(struct ctl_tap *t, const char *state_dir, const char *service,
    const struct ctl_tap_filter *f, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	if (f != NULL)
		t->filter = *f;
	if (snprintf(t->service, sizeof(t->service), "%s", service) >= (int)sizeof(t->service) ||
	    snprintf(t->stats_dir, sizeof(t->stats_dir), "%s/run/stats", state_dir) >=
	    (int)sizeof(t->stats_dir) ||
	    snprintf(t->lease, sizeof(t->lease), "%s/run/tap/%s", state_dir, service) >=
	    (int)sizeof(t->lease)) {
		snprintf(err, errlen, "%s/run/tap/%s: path too long", state_dir, service);
		return -1;
	}
	if ((t->files = calloc(CTL_TAP_FILES_MAX, sizeof(*t->files))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->open_ns = clock_ns(CLOCK_REALTIME);
	if (ctl_tap_touch(t) == -1) {
		snprintf(err, errlen, "%s: %s", t->lease, strerror(errno));
		ctl_tap_close(t);
		return -1;
	}
	t->touch_ms = t->scan_ms = ctl_proc_now_ms();
	ctl_tap_scan(t);
	return 0;
}

/* Room for STATS_SPANS_MAX more records after n. */
static int
ctl_tap_room(struct ctl_tap *t, size_t n)
{
	struct stats_span_rec *p;
	size_t cap = t->bufcap != 0 ? t->bufcap : STATS_SPANS_MAX;

	while (cap < n + STATS_SPANS_MAX)
		cap *= 2;
	if (cap == t->bufcap)
		return 0;
	if ((p = realloc(t->buf, cap * sizeof(*p))) == NULL)
		return -1;
	t->buf = p;
	t->bufcap = cap;
	return 0;
}

/* File f's new records appended to t->buf from *n. */
static void
ctl_tap_read(struct ctl_tap *t, struct ctl_tap_file *f, size_t *n)
{
	struct stats_spans_head h;
	char path[sizeof(t->stats_dir) + 256];
	long got;
	int i;

	if (ctl_tap_path(t, f->name, path, sizeof(path)) == -1 ||
	    stats_spans_head(path, &h) != STATS_OK)
		return;   /* being replaced: next time */
	if (h.pid != f->pid || h.start_time_ns != f->start_time_ns) {
		/* the sidecar restarted: a new file, a new ring */
		f->pid = h.pid;
		f->start_time_ns = h.start_time_ns;
		f->cursor = ctl_tap_start(t, &h);
	}
	for (i = 0; i < CTL_TAP_READS_MAX; i++) {
		if (ctl_tap_room(t, *n) == -1)
			return;   /* what is unread stays for the next poll */
		got = stats_spans_read(path, &f->cursor, t->buf + *n, STATS_SPANS_MAX, &t->lost, 0);
		if (got <= 0)
			return;
		*n += (size_t)got;
		if (got < (long)STATS_SPANS_MAX)
			return;
	}
}

static int
ctl_tap_cmp(const void *a, const void *b)
{
	const struct stats_span_rec *x = a, *y = b;
	int c;

	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	if ((c = strncmp(x->instance, y->instance, sizeof(x->instance))) != 0)
		return c;
	return (int)x->kind - (int)y->kind;
}

long
ctl_tap_poll(struct ctl_tap *t, ctl_tap_fn *fn, void *arg, char *err, size_t errlen)
{
	int64_t now = ctl_proc_now_ms();
	size_t i, n = 0;
	long shown = 0;

	if (now - t->touch_ms >= CTL_TAP_TOUCH_MS) {
		if (ctl_tap_touch(t) == -1) {
			snprintf(err, errlen, "%s: %s", t->lease, strerror(errno));
			return -1;
		}
		t->touch_ms = now;
	}
	if (now - t->scan_ms >= CTL_TAP_SCAN_MS) {
		ctl_tap_scan(t);
		t->scan_ms = now;
	}
	for (i = 0; i < t->nfiles; i++)
		ctl_tap_read(t, &t->files[i], &n);
	if (n > 1)
		qsort(t->buf, n, sizeof(*t->buf), ctl_tap_cmp);
	for (i = 0; i < n; i++) {
		if (!ctl_tap_match(&t->filter, &t->buf[i]))
			continue;
		shown++;
		if (fn(arg, &t->buf[i]) != 0)
			break;
	}
	return shown;
}

void
ctl_tap_close(struct ctl_tap *t)
{
	free(t->files);
	free(t->buf);
	t->files = NULL;
	t->buf = NULL;
	t->nfiles = t->bufcap = 0;
}
