/* SPDX-License-Identifier: ISC */
/*
 * adopt: take over the children of a meshd that died (see
 * include/mesh/adopt.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mesh/adopt.h"
#include "mesh/container_of.h"
#include "mesh/log.h"
#include "mesh/outlog.h"
#include "mesh/ports.h"
#include "mesh/state.h"
#include "mesh/svc.h"
#include "svc_int.h"

/* One adopted process, until it exits. */
struct adopt_proc {
	struct proc       *p;          /* NULL: slot free */
	pid_t              pid;
	unsigned long long start;
	int                pidfd;      /* -1: polled */
	ev_io              io;
	ev_timer           poll;
	ev_timer           attach;     /* sidecar: its HELLO, at the latest */
	int                waiting;    /* sidecar: adopted, no HELLO yet */
};

static struct {
	struct meshd      *m;
	struct state_left *left;       /* run/pids of the dead meshd */
	size_t             nleft;
	struct state_spec *spec;       /* its run/spec */
	size_t             nspec;
	struct adopt_proc *procs;      /* [2 * ninst]: app, then sidecar */
	size_t             nprocs;
} ad;

/* The dead meshd's records are read once, at start-up: done with them. */
static void
adopt_forget_left(void)
{
	free(ad.left);
	ad.left = NULL;
	ad.nleft = 0;
	free(ad.spec);
	ad.spec = NULL;
	ad.nspec = 0;
}

static const struct state_spec *
adopt_spec(const char *id)
{
	size_t i;

	for (i = 0; i < ad.nspec; i++)
		if (strcmp(ad.spec[i].id, id) == 0)
			return &ad.spec[i];
	return NULL;
}

int
adopt_scan(struct meshd *m)
{
	size_t i, k = 0, nstop;

	ad.m = m;
	if (state_left_read(m->cfg.mesh.state_dir, &ad.left, &ad.nleft) == -1 ||
	    state_spec_read(m->cfg.mesh.state_dir, &ad.spec, &ad.nspec) == -1)
		return -1;
	/* Without a run/spec line (a meshd from before adoption) nothing can
	 * be adopted, nor its ports known: stopped now, before the ports are
	 * checked.  The kept ones first, the rest at the end of the array. */
	for (i = 0; i < ad.nleft; i++)
		if (adopt_spec(ad.left[i].id) != NULL) {
			struct state_left t = ad.left[k];

			ad.left[k++] = ad.left[i];
			ad.left[i] = t;
		}
	if ((nstop = ad.nleft - k) > 0)
		state_left_stop(m->cfg.mesh.state_dir, ad.left + k, nstop);
	ad.nleft = k;
	return 0;
}

int
adopt_port_free(uint16_t port, void *arg)
{
	size_t i, k;

	(void)arg;
	if (ports_is_free(port, NULL))
		return 1;
	for (i = 0; i < ad.nleft; i++) {
		const struct state_spec *s = adopt_spec(ad.left[i].id);

		if (s == NULL || !state_left_running(&ad.left[i]))
			continue;
		for (k = 0; k < s->nports; k++)
			if (s->ports[k] == port)
				return 1;
	}
	return 0;
}

/* FNV-1a, 64 bits, over a string and its NUL. */
static uint64_t
adopt_hash(uint64_t h, const char *s)
{
	do {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	} while (*s++ != '\0');
	return h;
}

static uint64_t
adopt_hash_ports(uint64_t h, const struct state_spec *s)
{
	char num[8];
	size_t k;

	for (k = 0; k < s->nports; k++) {
		snprintf(num, sizeof(num), "%u", s->ports[k]);
		h = adopt_hash(h, num);
	}
	return h;
}

/* What this config would start for ri: its ports and both fingerprints. */
static void
adopt_spec_of(const struct meshd *m, const struct reg_instance *ri, struct state_spec *s)
{
	const struct conf_service *sv = ri->svc;
	uint16_t ports[3] = { ri->app_port, ri->inbound_port, ri->outbound_port };
	uint64_t h;
	size_t i, want = 3 + sv->nupstreams;

	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", ri->id);
	for (i = 0; i < want && s->nports < STATE_SPEC_PORTS; i++) {
		uint16_t p = i < 3 ? ports[i] : ri->listen_ports[i - 3];

		if (p != 0)
			s->ports[s->nports++] = p;
	}
	if (want > STATE_SPEC_PORTS)
		return;   /* fingerprints 0: never adopted */
	h = adopt_hash(0xcbf29ce484222325ULL, "proxy");
	h = adopt_hash(h, m->proxy_path);
	h = adopt_hash(h, m->sock_path);
	h = adopt_hash(h, ri->id);
	s->proxy_fp = adopt_hash_ports(h, s) | 1;
	if (sv->command == NULL)
		return;
	h = adopt_hash(0xcbf29ce484222325ULL, "app");
	h = adopt_hash(h, sv->command);
	h = adopt_hash(h, m->cfg.dir != NULL ? m->cfg.dir : "");
	h = adopt_hash(h, ri->id);
	for (i = 0; i < sv->nenv; i++) {
		h = adopt_hash(h, sv->env[i].key);
		h = adopt_hash(h, sv->env[i].value);
	}
	s->app_fp = adopt_hash_ports(h, s) | 1;
}

/* 1 when 127.0.0.1:port accepts a connection within 200 ms. */
static int
adopt_accepts(uint16_t port)
{
	struct sockaddr_in sin;
	struct pollfd pfd;
	socklen_t sl = sizeof(int);
	int fd, err = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		err = 0;
	else if (errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 200) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
			err = -1;
	}
	close(fd);
	return err == 0;
}

/* The sidecar's listeners are bound (it had its config): held ports.  With
 * registry = etcd its inbound listens on host_address (registry.h). */
static int
adopt_listening(const struct meshd *m, const struct reg_instance *ri)
{
	struct in_addr a;
	uint32_t in = INADDR_LOOPBACK;

	if (m->cfg.mesh.registry == CONF_REGISTRY_ETCD &&
	    inet_pton(AF_INET, m->cfg.mesh.host_address, &a) == 1)
		in = ntohl(a.s_addr);
	if (ri->outbound_port != 0 && ports_is_free(ri->outbound_port, NULL))
		return 0;
	if (ri->inbound_port != 0 && ports_is_free_at(ri->inbound_port, in))
		return 0;
	return 1;
}

/* How long the process has run, from its start time (clock ticks after boot). */
static double
adopt_age(unsigned long long start)
{
	double up = 0;
	FILE *f = fopen("/proc/uptime", "re");
	long hz = sysconf(_SC_CLK_TCK);

	if (f != NULL) {
		if (fscanf(f, "%lf", &up) != 1)
			up = 0;
		fclose(f);
	}
	if (hz <= 0 || up <= 0)
		return 0;
	up -= (double)start / (double)hz;
	return up > 0 ? up : 0;
}

static void
adopt_unwatch(struct adopt_proc *ap)
{
	struct ev_loop *loop = ad.m->loop;

	ev_io_stop(loop, &ap->io);
	ev_timer_stop(loop, &ap->poll);
	ev_timer_stop(loop, &ap->attach);
	if (ap->pidfd != -1)
		close(ap->pidfd);
	ap->pidfd = -1;
	ap->waiting = 0;
	ap->p = NULL;
}

/* The adopted process ended: svc hears it as its ev_child would say it. */
static void
adopt_gone(struct adopt_proc *ap)
{
	struct proc *p = ap->p;

	if (p == NULL)
		return;
	adopt_unwatch(ap);
	if (p->pid != ap->pid)
		return;   /* svc has moved on (cannot happen while RUNNING/STOPPING) */
	outlog_event("%s: pid %d ended; meshd is not its parent, so its exit status "
	    "is unknown (reported as %d)", p->name, (int)ap->pid, ADOPT_STATUS >> 8);
	p->child.rpid = ap->pid;
	p->child.rstatus = ADOPT_STATUS;
	ev_feed_event(ad.m->loop, &p->child, EV_CHILD);
}

static void
adopt_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	adopt_gone(container_of(w, struct adopt_proc, io));
}

static void
adopt_poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct adopt_proc *ap = container_of(w, struct adopt_proc, poll);

	(void)loop;
	(void)revents;
	if (state_proc_starttime(ap->pid) != ap->start)
		adopt_gone(ap);
}

static void
adopt_attach_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct adopt_proc *ap = container_of(w, struct adopt_proc, attach);
	char why[96];

	(void)loop;
	(void)revents;
	if (!ap->waiting || ap->p == NULL)
		return;
	ap->waiting = 0;
	snprintf(why, sizeof(why), "adopted, but no HELLO within %.0f s", ADOPT_ATTACH_S);
	svc_proxy_failed(ap->p->inst, why);
	svc_update(ad.m);
}

/* Follow one of the process's log files, if it is still there. */
static void
adopt_log(struct proc *p, struct outlog_pipe *o, const char *stream)
{
	char path[PATH_MAX];
	int fd;

	if (state_log_path(path, sizeof(path), ad.m->cfg.mesh.state_dir, p->pid, stream) == 0 &&
	    (fd = open(path, O_RDWR | O_CLOEXEC)) != -1)
		outlog_pipe_open(o, ad.m->loop, fd);
}

/* The app's readiness as svc would have it by now (svc_ready.c). */
static void
adopt_app_ready(struct inst *in)
{
	in->app.settled = 1;
	if (!svc_probe_start(in))
		return;
	if (!adopt_accepts(in->ri->app_port))
		return;   /* the probe decides, as for a fresh start */
	/* it serves now: ready at once, the probes carry on from there */
	if (in->ri->svc->health != NULL)
		in->hc.healthy = 1;
	else
		in->rd.ready = 1;
}

/* Make l the running process p.  0, or -1 when it is gone after all. */
static int
adopt_take(struct adopt_proc *ap, struct proc *p, const struct state_left *l)
{
	struct meshd *m = ad.m;
	struct inst *in = p->inst;
	double age;

	ap->pidfd = -1;
#ifdef SYS_pidfd_open
	ap->pidfd = (int)syscall(SYS_pidfd_open, l->pid, 0);
#endif
	/* after the pidfd: the start time proves it names our process */
	if (!state_left_running(l)) {
		if (ap->pidfd != -1)
			close(ap->pidfd);
		ap->pidfd = -1;
		return -1;
	}
	ap->p = p;
	ap->pid = l->pid;
	ap->start = l->start;
	ev_io_init(&ap->io, adopt_io_cb, ap->pidfd, EV_READ);
	ev_timer_init(&ap->poll, adopt_poll_cb, ADOPT_POLL_S, ADOPT_POLL_S);
	ev_timer_init(&ap->attach, adopt_attach_cb, ADOPT_ATTACH_S, 0.);
	if (ap->pidfd != -1)
		ev_io_start(m->loop, &ap->io);
	else
		ev_timer_start(m->loop, &ap->poll);
	age = adopt_age(l->start);
	p->pid = l->pid;
	p->state = PROC_RUNNING;
	p->started = ev_now(m->loop) - age;
	adopt_log(p, &p->out, "out");
	adopt_log(p, &p->err, "err");
	if (p->is_proxy) {
		in->proxy_ready = adopt_listening(m, in->ri);
		ap->waiting = 1;
		ev_timer_start(m->loop, &ap->attach);
		if (in->ri->svc->command == NULL)
			adopt_app_ready(in);   /* an app run by others: probed as after a start */
	} else
		adopt_app_ready(in);
	outlog_event("%s: adopted pid %d (running for %.0f s) from a meshd that is gone%s",
	    p->name, (int)l->pid, age, p->is_proxy && !in->proxy_ready ?
	    "; its listeners are not bound yet" : "");
	return 0;
}

/* Does leftover l match what this config starts?  Its proc, or NULL. */
static struct proc *
adopt_match(const struct state_left *l, const struct state_spec *now)
{
	const struct state_spec *was = adopt_spec(l->id);
	struct reg_instance *ri = registry_find_id(&ad.m->reg, l->id);
	struct inst *in;
	struct proc *p;
	int proxy = strcmp(l->kind, STATE_KIND_PROXY) == 0;

	if (ri == NULL || (in = ri->rt) == NULL || was == NULL || now == NULL)
		return NULL;
	if (proxy ? (was->proxy_fp == 0 || was->proxy_fp != now->proxy_fp) :
	    (was->app_fp == 0 || was->app_fp != now->app_fp))
		return NULL;
	p = proxy ? &in->proxy : &in->app;
	return p->state == PROC_IDLE && p->pid == 0 ? p : NULL;
}

int
adopt_start(struct meshd *m)
{
	struct state_spec *now;
	struct state_left *stop;
	pid_t *keep;
	size_t i, nstop = 0, nkeep = 0;
	int adopted = 0;

	ad.m = m;
	now = calloc(m->ninst + 1, sizeof(*now));
	stop = calloc(ad.nleft + 1, sizeof(*stop));
	keep = calloc(ad.nleft + 1, sizeof(*keep));
	ad.nprocs = 2 * m->ninst;
	ad.procs = calloc(ad.nprocs + 1, sizeof(*ad.procs));
	if (now == NULL || stop == NULL || keep == NULL || ad.procs == NULL) {
		/* no memory to match with: replace every leftover, as before adoption */
		free(ad.procs);
		ad.procs = NULL;
		ad.nprocs = 0;
		state_reap_locked(m->cfg.mesh.state_dir);
		goto done;
	}
	for (i = 0; i < ad.nprocs; i++)
		ad.procs[i].pidfd = -1;
	for (i = 0; i < m->ninst; i++)
		adopt_spec_of(m, &m->reg.inst[i], &now[i]);
	for (i = 0; i < ad.nleft; i++) {
		const struct state_left *l = &ad.left[i];
		struct reg_instance *ri = registry_find_id(&m->reg, l->id);
		struct proc *p = NULL;

		if (state_left_running(l) && ri != NULL)
			p = adopt_match(l, &now[ri - m->reg.inst]);
		if (p != NULL && adopt_take(&ad.procs[2 * (size_t)(ri - m->reg.inst) +
		    (size_t)p->is_proxy], p, l) == 0) {
			keep[nkeep++] = l->pid;
			adopted++;
		} else
			stop[nstop++] = *l;
	}
	if (nstop > 0)
		state_left_stop(m->cfg.mesh.state_dir, stop, nstop);
	state_logs_prune(m->cfg.mesh.state_dir, keep, nkeep);
	if (state_spec_write(m->cfg.mesh.state_dir, now, m->ninst) == -1)
		log_warn("%s/run/spec", m->cfg.mesh.state_dir);
	if (adopted > 0)
		outlog_event("adopted %d process(es) of a meshd that is gone; stopped %zu "
		    "that did not match the config", adopted, nstop);
done:
	free(now);
	free(stop);
	free(keep);
	adopt_forget_left();
	return adopted;
}

static struct adopt_proc *
adopt_of(const struct inst *in)
{
	size_t i;

	if (ad.procs == NULL || ad.m == NULL)
		return NULL;
	i = (size_t)(in - ad.m->insts);
	return i < ad.m->ninst ? &ad.procs[2 * i + 1] : NULL;
}

void
adopt_attached(struct inst *in)
{
	struct adopt_proc *ap = adopt_of(in);

	if (ap == NULL || !ap->waiting)
		return;
	ap->waiting = 0;
	ev_timer_stop(ad.m->loop, &ap->attach);
	outlog_event("%s: adopted sidecar re-attached", in->ri->name);
}

int
adopt_waiting(const struct inst *in)
{
	const struct adopt_proc *ap = adopt_of(in);

	return ap != NULL && ap->waiting;
}

int
adopt_pending(const struct meshd *m)
{
	size_t i;

	(void)m;
	for (i = 0; i < ad.nprocs; i++)
		if (ad.procs[i].p != NULL && ad.procs[i].waiting)
			return 1;
	return 0;
}

void
adopt_free(struct meshd *m)
{
	size_t i;

	(void)m;
	for (i = 0; i < ad.nprocs; i++)
		if (ad.procs[i].p != NULL)
			adopt_unwatch(&ad.procs[i]);
	free(ad.procs);
	ad.procs = NULL;
	ad.nprocs = 0;
	adopt_forget_left();
}
