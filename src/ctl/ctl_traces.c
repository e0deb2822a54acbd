/* SPDX-License-Identifier: ISC */
/*
 * ctl_traces: `meshctl traces [-f FILE] [--slow] [--json] [-n N] [--service S]`.
 *
 * No control traffic and no collector: every sidecar keeps its last
 * spans in the ring of its stats file (stats.h), so this reads every
 * <state_dir>/run/stats/NAME.stats directly, joins the spans of all of them
 * by trace id and prints the trees (ctl_traces_fmt.c).  --slow starts from
 * the sidecars' slowest-spans tables (the last minute) and adds what the
 * rings still hold of those traces.
 *
 * A mesh whose meshd is not running exits 3, as every command does (the
 * files of a stopped mesh stay behind but are not a live view); with
 * --json it still prints one document with no traces.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/ctl.h"
#include "mesh/state.h"
#include "mesh/stats.h"

#define CTL_TRACES_FILES_MAX 512u   /* stats files read at most */

struct ctl_traces_set {
	struct stats_span_rec *s;
	size_t                 n, cap;
};

static int
ctl_traces_room(struct ctl_traces_set *set, size_t more)
{
	struct stats_span_rec *p;
	size_t cap;

	if (set->n + more <= set->cap)
		return 0;
	cap = set->cap != 0 ? set->cap : 1024;
	while (cap < set->n + more)
		cap *= 2;
	if ((p = realloc(set->s, cap * sizeof(*p))) == NULL)
		return -1;
	set->s = p;
	set->cap = cap;
	return 0;
}

/* One file's ring (slow = 0) or slowest table (slow = 1) appended. */
static int
ctl_traces_read(struct ctl_traces_set *set, const char *path, int slow)
{
	size_t max = slow ? STATS_SLOW_MAX : STATS_SPANS_MAX;
	uint64_t cursor = 0;
	long got;

	if (ctl_traces_room(set, max) == -1)
		return -1;
	got = stats_spans_read(path, &cursor, set->s + set->n, max, NULL, slow);
	if (got < 0) {
		/* a sidecar replacing its file, or one of another version */
		ctl_errx("%s: %s (skipped)", path, got == STATS_ERR_OPEN ?
		    strerror(errno) : stats_strerror((int)got));
		return 0;
	}
	/* records a tap left in the ring are no traces (stats.h) */
	set->n += stats_spans_traced(set->s + set->n, (size_t)got);
	return 0;
}

static int
ctl_traces_in(const struct stats_span_rec *s, size_t n, const uint8_t *trace_id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(s[i].trace_id, trace_id, sizeof(s[i].trace_id)) == 0)
			return 1;
	return 0;
}

/*
 * Every file's spans into *set (--slow: the slow tables' spans and the
 * ring spans of the same traces).  *nfiles: how many files were read.
 * CTL_OK, CTL_NOT_RUNNING (no stats dir), CTL_FAIL (printed).
 */
static int
ctl_traces_gather(const char *dir, int slow, struct ctl_traces_set *set, size_t *nfiles)
{
	struct ctl_traces_set ring = { 0 };
	struct dirent *de;
	char path[4096];
	size_t i, k;
	DIR *d;
	int rc = CTL_OK;

	*nfiles = 0;
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return CTL_NOT_RUNNING;
		ctl_err("%s", dir);
		return CTL_FAIL;
	}
	while ((de = readdir(d)) != NULL && *nfiles < CTL_TRACES_FILES_MAX) {
		size_t len = strlen(de->d_name);

		if (len <= 6 || strcmp(de->d_name + len - 6, ".stats") != 0 ||
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		(*nfiles)++;
		if (ctl_traces_read(slow ? &ring : set, path, 0) == -1 ||
		    (slow && ctl_traces_read(set, path, 1) == -1)) {
			ctl_errx("out of memory reading %s", path);
			rc = CTL_FAIL;
			break;
		}
	}
	closedir(d);
	if (slow && rc == CTL_OK) {
		/* only the slow traces' other spans; the fixed set is scanned
		 * per span: both are bounded by the files' tables */
		size_t nslow = set->n;

		for (i = 0, k = 0; i < ring.n; i++)
			if (ctl_traces_in(set->s, nslow, ring.s[i].trace_id))
				ring.s[k++] = ring.s[i];
		if (ctl_traces_room(set, k) == -1) {
			ctl_errx("out of memory");
			rc = CTL_FAIL;
		} else {
			memcpy(set->s + set->n, ring.s, k * sizeof(*ring.s));
			set->n += k;
		}
	}
	free(ring.s);
	return rc;
}

int
ctl_traces(const struct ctl_opts *o)
{
	struct ctl_traces_query q = {
		.count = o->count != 0 ? o->count : CTL_TRACES_DEFAULT_N,
		.service = o->service, .slow = o->slow, .json = o->json,
	};
	struct ctl_traces_set set = { 0 };
	struct ctl_mesh m;
	char dir[4096];
	size_t nfiles = 0;
	long shown;
	int rc;

	if ((rc = ctl_mesh_open(o->file, 0, &m)) != CTL_OK)
		return rc;
	q.mesh = m.name;
	if (snprintf(dir, sizeof(dir), "%s/run/stats", m.state_dir) >= (int)sizeof(dir)) {
		ctl_errx("%s/run/stats: path too long", m.state_dir);
		ctl_mesh_close(&m);
		return CTL_FAIL;
	}
	rc = state_meshd_pid(m.state_dir) == 0 ? CTL_NOT_RUNNING :
	    ctl_traces_gather(dir, o->slow, &set, &nfiles);
	if (rc == CTL_NOT_RUNNING) {
		if (o->json) {
			ctl_traces_json_head(stdout, &q, 0);
			fputs("]}\n", stdout);
		}
		rc = ctl_mesh_not_running(&m);
	} else if (rc == CTL_OK) {
		if ((shown = ctl_traces_report(stdout, set.s, set.n, &q)) < 0) {
			ctl_errx("out of memory");
			rc = CTL_FAIL;
		} else if (shown == 0 && !o->json) {
			ctl_errx("no %s%s%s in the rings of %zu sidecar%s (trace_sample = %u.%u%%)",
			    o->slow ? "slow traces" : "traces",
			    o->service != NULL ? " through " : "", o->service != NULL ? o->service : "",
			    nfiles, nfiles == 1 ? "" : "s",
			    m.cfg.mesh.trace_sample_permille / 10, m.cfg.mesh.trace_sample_permille % 10);
		}
	}
	free(set.s);
	ctl_mesh_close(&m);
	return rc;
}
