/* SPDX-License-Identifier: ISC */
/*
 * metrics: gather meshd's state and every sidecar's stats file into
 * struct metrics_inst values for metrics_write() (include/mesh/metrics.h).
 *
 * Runs on meshd's loop for each scrape: the reads are local files (the
 * sidecars' mmapped stats files and /proc), which do not block on I/O in
 * any way that matters; nothing here asks a sidecar anything.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/mcert.h"
#include "mesh/metrics.h"
#include "mesh/stats.h"
#include "mesh/svc.h"

uint64_t
metrics_rss(pid_t pid)
{
	char path[64], buf[128];
	unsigned long long size, resident;
	long page = sysconf(_SC_PAGESIZE);
	ssize_t n;
	int fd;

	if (pid <= 0 || page <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return 0;
	return (uint64_t)resident * (uint64_t)page;
}

/* The process's rss while it runs (a stopped one has no series). */
static uint64_t
metrics_proc_rss(const struct proc *p)
{
	if (p->pid <= 0 || (p->state != PROC_RUNNING && p->state != PROC_STOPPING))
		return 0;
	return metrics_rss(p->pid);
}

/* One instance's values; v (zeroed) receives its stats file if readable. */
static void
metrics_fill(const struct meshd *m, const struct inst *in, struct metrics_inst *mi,
    struct stats_view *v, int *have_view)
{
	const struct reg_instance *ri = in->ri;
	const struct pki_certinfo *ci = mcert_info(m, in);
	char path[4096];

	mi->service = ri->svc->name;
	mi->version = ri->svc->version;
	mi->id = ri->id;
	mi->up = ri->up;
	mi->has_app = ri->svc->command != NULL;
	mi->app_restarts = in->app.restarts;
	mi->sidecar_restarts = in->proxy.restarts;
	mi->app_rss = mi->has_app ? metrics_proc_rss(&in->app) : 0;
	mi->sidecar_rss = metrics_proc_rss(&in->proxy);
	if (ci != NULL && ci->uri[0] != '\0') {
		mi->identity = ci->uri;
		mi->cert_not_after = (int64_t)ci->not_after;
	}
	*have_view = stats_path(path, sizeof(path), m->cfg.mesh.state_dir, ri->id) == 0 &&
	    stats_view_read(path, v) == STATS_OK;
	if (*have_view)
		mi->stats = v;
}

int
metrics_render_meshd(FILE *f, void *arg)
{
	const struct meshd *m = arg;
	struct metrics_inst *mi;
	struct stats_view *views;
	int *have;
	size_t i, n = m->insts != NULL ? m->ninst : 0;
	int rc;

	mi = calloc(n + 1, sizeof(*mi));
	views = calloc(n + 1, sizeof(*views));
	have = calloc(n + 1, sizeof(*have));
	if (mi == NULL || views == NULL || have == NULL) {
		free(mi);
		free(views);
		free(have);
		return -1;
	}
	for (i = 0; i < n; i++)
		metrics_fill(m, &m->insts[i], &mi[i], &views[i], &have[i]);
	rc = metrics_write(f, m->cfg.mesh.name, mi, n, metrics_rss(getpid()));
	for (i = 0; i < n; i++)
		if (have[i])
			stats_view_free(&views[i]);
	free(have);
	free(views);
	free(mi);
	return rc;
}
