/*
 * control: the control socket server (see include/mesh/control.h).
 *
 * One teardown path: control_kill() stops a connection's watchers and
 * closes its fd at once, but the struct is freed only from the prepare
 * watcher, so a connection dropped while a callback up the stack still
 * holds it (a broadcast, a push from inside its own read handler) is
 * never used after free.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mesh/control.h"
#include "mesh/ipc.h"
#include "mesh/log.h"
#include "mesh/mcert.h"
#include "mesh/outlog.h"
#include "mesh/reload.h"
#include "mesh/status.h"
#include "mesh/svc.h"
#include "mesh/weights.h"

enum conn_kind { CONN_NEW, CONN_PROXY, CONN_CLIENT };
enum conn_wait { WAIT_NONE, WAIT_LOGS, WAIT_READY, WAIT_DOWN, WAIT_ROTATE };

#define CONTROL_ROTATE_S 10.0   /* `certs --rotate`: how long to wait for new leaves */

struct conn {
	struct control *ctl;
	struct conn    *next;
	int             fd;
	ev_io           rio, wio;
	struct ipc_reader rd;
	unsigned char  *out;
	size_t          outlen, outcap;
	enum conn_kind  kind;
	enum conn_wait  wait;
	struct inst    *inst;       /* CONN_PROXY */
	pid_t           peer_pid;
	int             dead;
};

struct control {
	struct meshd *m;
	int           fd;
	ev_io         accept;
	ev_prepare    reaper;
	struct conn  *conns;        /* live and dead; dead ones freed by the reaper */
	size_t        nconns;
	ev_timer      rotate;       /* `certs --rotate` deadline */
};

#define CONTAINER(p, type, field) ((type *)(void *)((char *)(p) - offsetof(type, field)))

static void
control_kill(struct conn *c)
{
	struct meshd *m = c->ctl->m;

	if (c->dead)
		return;
	c->dead = 1;
	ev_io_stop(m->loop, &c->rio);
	ev_io_stop(m->loop, &c->wio);
	close(c->fd);
	c->fd = -1;
	if (c->inst != NULL && c->inst->conn == c)
		c->inst->conn = NULL;
	c->inst = NULL;
	ev_prepare_start(m->loop, &c->ctl->reaper);
}

static void
control_reap_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct control *ctl = CONTAINER(w, struct control, reaper);
	struct conn **pp = &ctl->conns;

	(void)revents;
	while (*pp != NULL) {
		struct conn *c = *pp;

		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		ipc_reader_free(&c->rd);
		free(c->out);
		free(c);
		ctl->nconns--;
	}
	ev_prepare_stop(loop, w);
}

/* Write what the socket takes now; arm the write watcher for the rest. */
static void
control_flush(struct conn *c)
{
	struct ev_loop *loop = c->ctl->m->loop;
	size_t done = 0;

	while (done < c->outlen) {
		ssize_t n = send(c->fd, c->out + done, c->outlen - done, MSG_NOSIGNAL);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			control_kill(c);
			return;
		}
		done += (size_t)n;
	}
	if (done > 0) {
		memmove(c->out, c->out + done, c->outlen - done);
		c->outlen -= done;
	}
	if (c->outlen > 0)
		ev_io_start(loop, &c->wio);
	else
		ev_io_stop(loop, &c->wio);
}

/* Queue one frame; a peer that let CONTROL_OUT_MAX pile up is dropped. */
static void
control_send(struct conn *c, uint16_t type, const void *p, size_t len)
{
	size_t need;

	if (c->dead)
		return;
	if (len > IPC_MAX_PAYLOAD)
		len = IPC_MAX_PAYLOAD;
	need = c->outlen + IPC_HDR_LEN + len;
	if (need > CONTROL_OUT_MAX) {
		log_warnx("control: dropping a client that does not read (%zu bytes queued)",
		    c->outlen);
		control_kill(c);
		return;
	}
	if (need > c->outcap) {
		size_t ncap = c->outcap ? c->outcap : 4096;
		unsigned char *nb;

		while (ncap < need)
			ncap *= 2;
		if ((nb = realloc(c->out, ncap)) == NULL) {
			control_kill(c);
			return;
		}
		c->out = nb;
		c->outcap = ncap;
	}
	ipc_hdr_encode(c->out + c->outlen, type, (uint32_t)len);
	if (len > 0)
		memcpy(c->out + c->outlen + IPC_HDR_LEN, p, len);
	c->outlen = need;
	/* with bytes already waiting, the write watcher sends when it can */
	if (!ev_is_active(&c->wio))
		control_flush(c);
}

static void
control_send_str(struct conn *c, uint16_t type, const char *s)
{
	control_send(c, type, s, strlen(s));
}

static void
control_ring_cb(void *arg, const char *line, size_t len)
{
	control_send(arg, IPC_LOGLINE, line, len);
}

void
control_line(void *arg, const char *line, size_t len)
{
	struct control *ctl = arg;
	struct conn *c;

	if (ctl == NULL)
		return;
	for (c = ctl->conns; c != NULL; c = c->next)
		if (!c->dead && (c->wait == WAIT_LOGS || c->wait == WAIT_READY))
			control_send(c, IPC_LOGLINE, line, len);
}

void
control_push(struct meshd *m, struct inst *in)
{
	struct conn *c = in->conn;
	char *doc;
	size_t len;

	if (c == NULL || c->dead)
		return;
	if (registry_document(&m->reg, in->ri, &doc, &len) == -1) {
		log_warn("%s: cannot build the sidecar's config", in->ri->name);
		return;
	}
	control_send(c, IPC_CONFIG, doc, len);
	free(doc);
}

void
control_push_callers(struct meshd *m, const char *service)
{
	size_t i;

	for (i = 0; i < m->ninst; i++)
		if (registry_calls(m->insts[i].ri, service))
			control_push(m, &m->insts[i]);
}

/* 0 every instance ready, 1 one failed (why in buf), -1 not yet. */
static int
control_readiness(struct meshd *m, char *why, size_t size)
{
	size_t i;
	int pending = 0;

	if (m->phase >= MESHD_STOPPING) {
		snprintf(why, size, "mesh '%s' is stopping", m->cfg.mesh.name);
		return 1;
	}
	for (i = 0; i < m->ninst; i++) {
		int r = svc_ready(&m->insts[i]);

		if (r == -1) {
			snprintf(why, size, "%s", m->insts[i].why[0] ? m->insts[i].why :
			    m->insts[i].ri->name);
			return 1;
		}
		if (r == 0)
			pending = 1;
	}
	return pending ? -1 : 0;
}

void
control_wait_update(struct meshd *m)
{
	struct control *ctl = m->ctl;
	struct conn *c;
	char why[2048];
	int r = -2;

	if (ctl == NULL)
		return;
	for (c = ctl->conns; c != NULL; c = c->next) {
		if (c->dead || c->wait != WAIT_READY)
			continue;
		if (r == -2)
			r = control_readiness(m, why, sizeof(why));
		if (r == -1)
			return;
		c->wait = WAIT_NONE;
		if (r == 1)
			control_send_str(c, IPC_REPLY, why);
		control_send_str(c, IPC_DONE, r == 0 ? "0" : "1");
	}
}

/* Answer `certs --rotate` clients: every marked sidecar got a new leaf
 * (DONE "0" after the table), or the deadline passed (DONE "1"). */
static void
control_rotate_update(struct meshd *m, int expired)
{
	struct control *ctl = m->ctl;
	struct conn *c;
	char names[1024], msg[1200];
	size_t left, nwait = 0;
	char *text;
	size_t len;

	if (ctl == NULL)
		return;
	for (c = ctl->conns; c != NULL; c = c->next)
		if (!c->dead && c->wait == WAIT_ROTATE)
			nwait++;
	if (nwait == 0)
		return;
	left = mcert_rotate_pending(m, names, sizeof(names));
	if (left > 0 && !expired)
		return;
	ev_timer_stop(m->loop, &ctl->rotate);
	mcert_rotate_clear();
	for (c = ctl->conns; c != NULL; c = c->next) {
		if (c->dead || c->wait != WAIT_ROTATE)
			continue;
		c->wait = WAIT_NONE;
		if (left > 0) {
			snprintf(msg, sizeof(msg), "no new certificate within %.0f s for: %s",
			    CONTROL_ROTATE_S, names);
			control_send_str(c, IPC_REPLY, msg);
			control_send_str(c, IPC_DONE, "1");
			continue;
		}
		if (mcert_format(m, 0, &text, &len) == 0) {
			control_send(c, IPC_REPLY, text, len);
			free(text);
		}
		control_send_str(c, IPC_DONE, "0");
	}
}

static void
control_rotate_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct control *ctl = CONTAINER(w, struct control, rotate);

	(void)loop;
	(void)revents;
	control_rotate_update(ctl->m, 1);
}

/* `certs --rotate`: IPC_ROTATE to every attached sidecar, then wait. */
static void
control_rotate(struct conn *c)
{
	struct meshd *m = c->ctl->m;
	size_t i, n = 0;

	for (i = 0; i < m->ninst; i++) {
		struct conn *pc = m->insts[i].conn;

		if (pc == NULL || pc->dead)
			continue;
		mcert_rotate_mark(m, &m->insts[i]);
		control_send(pc, IPC_ROTATE, "", 0);
		n++;
	}
	log_info("certs --rotate: %zu sidecar(s) asked to renew", n);
	c->wait = WAIT_ROTATE;
	if (!ev_is_active(&c->ctl->rotate)) {
		ev_timer_set(&c->ctl->rotate, CONTROL_ROTATE_S, 0.);
		ev_timer_start(m->loop, &c->ctl->rotate);
	}
	control_rotate_update(m, 0);
}

/* IPC_CSR from a sidecar that passed HELLO: sign for its own service. */
static void
control_csr(struct conn *c, const char *p, size_t len)
{
	struct meshd *m = c->ctl->m;
	char err[256], *out;
	size_t outlen;

	if (mcert_issue(m, c->inst, p, len, &out, &outlen, err, sizeof(err)) == -1) {
		log_warnx("%s: certificate request refused: %s", c->inst->ri->name, err);
		control_send_str(c, IPC_CERT_FAIL, err);
		return;
	}
	control_send(c, IPC_CERT, out, outlen);
	free(out);
	control_rotate_update(m, 0);
}

/* `weight SERVICE VERSION=PCT...`: validated, applied, persisted, pushed. */
static void
control_weight(struct conn *c, const char *args)
{
	struct meshd *m = c->ctl->m;
	char why[512], msg[1024];
	struct weight w;
	size_t i, n;

	if (weights_parse(&m->cfg, args, &w, why, sizeof(why)) == -1) {
		control_send_str(c, IPC_REPLY, why);
		control_send_str(c, IPC_DONE, "1");
		return;
	}
	if (weights_set(&m->weights, &m->cfg, &w) == -1) {
		control_send_str(c, IPC_REPLY, "meshd: out of memory");
		control_send_str(c, IPC_DONE, "1");
		return;
	}
	control_push_callers(m, w.service);
	n = (size_t)snprintf(msg, sizeof(msg), "route %s: split", w.service);
	for (i = 0; i < w.nsplit && n < sizeof(msg); i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, " %s=%u",
		    w.split[i].version, w.split[i].weight);
	outlog_event("%s (meshctl weight)", msg);
	if (weights_save(&m->weights, m->cfg.mesh.state_dir) == -1) {
		snprintf(why, sizeof(why), "applied, but not persisted: %s/%s: %s",
		    m->cfg.mesh.state_dir, WEIGHTS_FILE, strerror(errno));
		log_warnx("%s", why);
		control_send_str(c, IPC_REPLY, why);
		control_send_str(c, IPC_DONE, "1");
		return;
	}
	control_send_str(c, IPC_REPLY, msg);
	control_send_str(c, IPC_DONE, "0");
}

/* The instance named by id ("api@v1.0") or by name ("api.0"), or NULL. */
static struct inst *
control_find_inst(struct meshd *m, const char *what)
{
	struct reg_instance *ri = registry_find_id(&m->reg, what);
	size_t i;

	if (ri != NULL)
		return ri->rt;
	for (i = 0; i < m->ninst; i++)
		if (strcmp(m->insts[i].ri->name, what) == 0)
			return &m->insts[i];
	return NULL;
}

/* `restart INSTANCE`: svc_restart(), answered at once (the restart
 * itself shows in status and the log). */
static void
control_restart(struct conn *c, const char *what)
{
	struct meshd *m = c->ctl->m;
	struct inst *in = control_find_inst(m, what);
	char msg[512];

	if (in == NULL) {
		snprintf(msg, sizeof(msg), "no instance '%.120s' in mesh '%s' (an id like "
		    "api@v1.0 or a name like api.0, as status shows)", what, m->cfg.mesh.name);
		control_send_str(c, IPC_REPLY, msg);
		control_send_str(c, IPC_DONE, "1");
		return;
	}
	if (svc_restart(in, msg, sizeof(msg)) == -1) {
		control_send_str(c, IPC_REPLY, msg);
		control_send_str(c, IPC_DONE, "1");
		return;
	}
	control_send_str(c, IPC_REPLY, msg);
	control_send_str(c, IPC_DONE, "0");
}

/* `breaker-reset SERVICE [VERSION.INDEX]`: IPC_BREAKER_RESET with the
 * same words to every attached sidecar that calls SERVICE. */
static void
control_breaker_reset(struct conn *c, const char *args)
{
	struct meshd *m = c->ctl->m;
	char svc[CONF_NAME_MAX], which[CONF_VERSION_MAX + 16] = "", msg[512];
	size_t i, n = 0;
	int found = 0, words;

	_Static_assert(CONF_NAME_MAX == 64 && CONF_VERSION_MAX + 16 == 48,
	    "the sscanf widths below fit the buffers");
	words = sscanf(args, "%63s %47s", svc, which);
	for (i = 0; words >= 1 && i < m->ninst; i++) {
		const struct reg_instance *ri = m->insts[i].ri;
		char vi[CONF_VERSION_MAX + 16];

		if (strcmp(ri->svc->name, svc) != 0)
			continue;
		snprintf(vi, sizeof(vi), "%s.%u", ri->svc->version, ri->index);
		if (words == 1 || strcmp(vi, which) == 0)
			found = 1;
	}
	if (!found) {
		snprintf(msg, sizeof(msg), "breaker-reset: no service '%.63s'%s%.47s in mesh '%s'",
		    words >= 1 ? svc : "", words == 2 ? " instance " : "", words == 2 ? which : "",
		    m->cfg.mesh.name);
		control_send_str(c, IPC_REPLY, msg);
		control_send_str(c, IPC_DONE, "1");
		return;
	}
	snprintf(msg, sizeof(msg), "%s%s%s", svc, words == 2 ? " " : "", words == 2 ? which : "");
	for (i = 0; i < m->ninst; i++) {
		struct conn *pc = m->insts[i].conn;

		if (pc == NULL || pc->dead || !registry_calls(m->insts[i].ri, svc))
			continue;
		control_send_str(pc, IPC_BREAKER_RESET, msg);
		n++;
	}
	outlog_event("breaker-reset %s (meshctl): sent to %zu caller sidecar(s)", msg, n);
	snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), ": breakers reset in %zu caller "
	    "sidecar(s)", n);
	control_send_str(c, IPC_REPLY, msg);
	control_send_str(c, IPC_DONE, "0");
}

/* `reload`: the report (or the file's errors) as one REPLY. */
static void
control_reload(struct conn *c)
{
	struct meshd *m = c->ctl->m;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if ((f = open_memstream(&text, &len)) == NULL) {
		control_send_str(c, IPC_REPLY, "meshd: out of memory");
		control_send_str(c, IPC_DONE, "1");
		return;
	}
	rc = reload_run(m, f);
	if (fclose(f) != 0 || rc == -1) {
		free(text);
		control_send_str(c, IPC_REPLY, "meshd: out of memory");
		control_send_str(c, IPC_DONE, "1");
		return;
	}
	outlog_event("reload (meshctl reload): %s", rc == 0 ? "applied" : "the file has errors; nothing changed");
	if (len > 0)
		control_send(c, IPC_REPLY, text, len);
	free(text);
	control_send_str(c, IPC_DONE, rc == 0 ? "0" : "1");
}

static void
control_cmd(struct conn *c, const char *cmd)
{
	struct meshd *m = c->ctl->m;
	char *text;
	size_t len;

	c->kind = CONN_CLIENT;
	if (strcmp(cmd, "ping") == 0) {
		control_send_str(c, IPC_DONE, "0");
	} else if (strcmp(cmd, "status") == 0 || strcmp(cmd, "status --json") == 0) {
		int json = cmd[6] != '\0';

		if ((json ? status_json(m, &text, &len) : status_text(m, &text, &len)) == -1) {
			control_send_str(c, IPC_REPLY, "meshd: out of memory");
			control_send_str(c, IPC_DONE, "1");
			return;
		}
		control_send(c, IPC_REPLY, text, len);
		free(text);
		control_send_str(c, IPC_DONE, "0");
	} else if (strcmp(cmd, "certs") == 0 || strcmp(cmd, "certs --json") == 0) {
		if (mcert_format(m, cmd[5] != '\0', &text, &len) == -1) {
			control_send_str(c, IPC_REPLY, "meshd: out of memory");
			control_send_str(c, IPC_DONE, "1");
			return;
		}
		control_send(c, IPC_REPLY, text, len);
		free(text);
		control_send_str(c, IPC_DONE, "0");
	} else if (strcmp(cmd, "certs --rotate") == 0) {
		control_rotate(c);
	} else if (strcmp(cmd, "down") == 0) {
		c->wait = WAIT_DOWN;
		svc_stop_all(m);
	} else if (strcmp(cmd, "wait-ready") == 0) {
		outlog_ring(control_ring_cb, c);
		c->wait = WAIT_READY;
		control_wait_update(m);
	} else if (strncmp(cmd, "weight ", 7) == 0) {
		control_weight(c, cmd + 7);
	} else if (strcmp(cmd, "reload") == 0) {
		control_reload(c);
	} else if (strncmp(cmd, "restart ", 8) == 0) {
		control_restart(c, cmd + 8);
	} else if (strncmp(cmd, "breaker-reset ", 14) == 0) {
		control_breaker_reset(c, cmd + 14);
	} else if (strcmp(cmd, "logs") == 0) {
		outlog_ring(control_ring_cb, c);
		c->wait = WAIT_LOGS;
	} else {
		char msg[256];

		snprintf(msg, sizeof(msg), "unknown command '%.60s' (ping, status, "
		    "status --json, certs, certs --json, certs --rotate, down, wait-ready, "
		    "logs, weight, reload, restart, breaker-reset)", cmd);
		control_send_str(c, IPC_REPLY, msg);
		control_send_str(c, IPC_DONE, "2");
	}
}

/* "proxy <id> <pid>": only from the very process meshd started for <id>. */
static void
control_hello(struct conn *c, const char *p)
{
	struct meshd *m = c->ctl->m;
	char id[REG_ID_MAX];
	struct reg_instance *ri;
	struct inst *in;
	int pid;

	_Static_assert(REG_ID_MAX == 112, "the HELLO format below reads REG_ID_MAX - 1 bytes");
	if (sscanf(p, "proxy %111s %d", id, &pid) != 2 ||
	    (ri = registry_find_id(&m->reg, id)) == NULL || (in = ri->rt) == NULL) {
		log_warnx("control: HELLO '%.80s' names no instance of mesh '%s'",
		    p, m->cfg.mesh.name);
		control_kill(c);
		return;
	}
	if (in->proxy.state != PROC_RUNNING || in->proxy.pid != c->peer_pid) {
		log_warnx("control: HELLO for %s from pid %d, but its sidecar is pid %d: refused",
		    id, (int)c->peer_pid, (int)in->proxy.pid);
		control_kill(c);
		return;
	}
	if (in->conn != NULL)
		control_kill(in->conn);
	c->kind = CONN_PROXY;
	c->inst = in;
	in->conn = c;
	control_push(m, in);
}

static void
control_msg(struct conn *c, uint16_t type, char *p, size_t len)
{
	if (c->kind == CONN_NEW && type == IPC_HELLO) {
		control_hello(c, p);
		return;
	}
	if (c->kind != CONN_PROXY && type == IPC_CMD) {
		control_cmd(c, p);
		return;
	}
	if (c->kind == CONN_PROXY && type == IPC_READY) {
		svc_proxy_ready(c->inst);
		return;
	}
	if (c->kind == CONN_PROXY && type == IPC_FAIL) {
		svc_proxy_failed(c->inst, len > 0 ? p : "(no reason given)");
		return;
	}
	if (c->kind == CONN_PROXY && type == IPC_CSR) {
		control_csr(c, p, len);
		return;
	}
	log_warnx("control: unexpected message type %u on a %s connection: closed",
	    type, c->kind == CONN_PROXY ? "sidecar" : "client");
	control_kill(c);
}

static void
control_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = CONTAINER(w, struct conn, rio);
	char buf[65536];
	ssize_t n;

	(void)loop;
	(void)revents;
	n = recv(c->fd, buf, sizeof(buf), 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		control_kill(c);
		return;
	}
	if (ipc_reader_feed(&c->rd, buf, (size_t)n) == -1) {
		log_warnx("control: a peer sent more than one frame can hold: closed");
		control_kill(c);
		return;
	}
	while (!c->dead) {
		const char *err = NULL;
		uint16_t type;
		char *p;
		size_t len;
		int r = ipc_reader_next(&c->rd, &type, &p, &len, &err);

		if (r == 0)
			break;
		if (r == -1) {
			log_warnx("control: protocol error (%s): closed", err);
			control_kill(c);
			break;
		}
		control_msg(c, type, p, len);
	}
}

static void
control_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	control_flush(CONTAINER(w, struct conn, wio));
}

static void
control_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control *ctl = CONTAINER(w, struct control, accept);
	struct ucred cred;
	socklen_t sl = sizeof(cred);
	struct conn *c;
	int fd;

	(void)revents;
	if ((fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &sl) == -1 ||
	    (cred.uid != getuid() && cred.uid != 0)) {
		log_warnx("control: connection from uid %d refused (meshd runs as uid %d)",
		    (int)cred.uid, (int)getuid());
		close(fd);
		return;
	}
	if (ctl->nconns >= CONTROL_CONNS_MAX || (c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("control: %zu connections: refusing more", ctl->nconns);
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->fd = fd;
	c->peer_pid = cred.pid;
	ipc_reader_init(&c->rd);
	ev_io_init(&c->rio, control_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, control_write_cb, fd, EV_WRITE);
	ev_io_start(loop, &c->rio);
	c->next = ctl->conns;
	ctl->conns = c;
	ctl->nconns++;
}

int
control_open(struct meshd *m, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct control *ctl;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(m->sock_path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: path longer than %zu bytes (choose a shorter "
		    "state_dir)", m->sock_path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, m->sock_path, strlen(m->sock_path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* we hold the meshd lock: a socket file here is a dead meshd's */
	unlink(m->sock_path);
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(m->sock_path, 0600) == -1 || listen(fd, 64) == -1) {
		snprintf(err, errlen, "%s: %s", m->sock_path, strerror(errno));
		umask(old);
		close(fd);
		return -1;
	}
	umask(old);
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		unlink(m->sock_path);
		return -1;
	}
	ctl->m = m;
	ctl->fd = fd;
	ev_io_init(&ctl->accept, control_accept_cb, fd, EV_READ);
	ev_io_start(m->loop, &ctl->accept);
	ev_prepare_init(&ctl->reaper, control_reap_cb);
	ev_init(&ctl->rotate, control_rotate_cb);
	m->ctl = ctl;
	return 0;
}

void
control_close(struct meshd *m)
{
	struct control *ctl = m->ctl;
	struct conn *c;

	if (ctl == NULL)
		return;
	ev_io_stop(m->loop, &ctl->accept);
	ev_timer_stop(m->loop, &ctl->rotate);
	close(ctl->fd);
	unlink(m->sock_path);
	for (c = ctl->conns; c != NULL; c = c->next) {
		if (c->dead)
			continue;
		if (c->wait == WAIT_DOWN || c->wait == WAIT_READY) {
			if (c->wait == WAIT_READY)
				control_send_str(c, IPC_REPLY, "meshd stopped");
			control_send_str(c, IPC_DONE, c->wait == WAIT_DOWN ? "0" : "1");
		}
		/* a last blocking flush, bounded: the answer to `down` matters */
		if (!c->dead && c->outlen > 0) {
			struct timeval tv = { 1, 0 };
			int fl = fcntl(c->fd, F_GETFL);

			setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			if (fl != -1)
				fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
			control_flush(c);
		}
		control_kill(c);
	}
	control_reap_cb(m->loop, &ctl->reaper, 0);
	free(ctl);
	m->ctl = NULL;
}
