/* SPDX-License-Identifier: ISC */
/*
 * control: the control socket server (see include/mesh/control.h).
 *
 * One teardown path: control_kill() stops a connection's watchers and
 * closes its fd at once, but the struct is freed only from the prepare
 * watcher, so a connection dropped while a callback up the stack still
 * holds it (a broadcast, a push from inside its own read handler) is
 * never used after free.
 *
 * Bounds: a peer has CONTROL_FRAME_S to send its first whole message and
 * to finish any frame it began, so no connection can hold a slot (of
 * CONTROL_CONNS_MAX) or up to IPC_READER_MAX of buffer by going quiet or
 * dribbling; out of descriptors, accepting pauses instead of spinning.
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

#include "mesh/adopt.h"
#include "mesh/container_of.h"
#include "mesh/control.h"
#include "mesh/ipc.h"
#include "mesh/log.h"
#include "mesh/mcert.h"
#include "mesh/readiness.h"
#include "mesh/svc.h"
#include "control_int.h"

static void
control_kill(struct conn *c)
{
	struct meshd *m = c->ctl->m;

	if (c->dead)
		return;
	c->dead = 1;
	ev_io_stop(m->loop, &c->rio);
	ev_io_stop(m->loop, &c->wio);
	ev_timer_stop(m->loop, &c->frame);
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
	struct control *ctl = container_of(w, struct control, reaper);
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
void
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

void
control_send_str(struct conn *c, uint16_t type, const char *s)
{
	control_send(c, type, s, strlen(s));
}

void
control_answer(struct conn *c, int code, const char *msg)
{
	char done[8];

	if (msg != NULL)
		control_send_str(c, IPC_REPLY, msg);
	snprintf(done, sizeof(done), "%d", code);
	control_send_str(c, IPC_DONE, done);
}

void
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

void
control_push_all(struct meshd *m)
{
	size_t i;

	for (i = 0; i < m->ninst; i++)
		control_push(m, &m->insts[i]);
}

/* The next deadline of a `wait-ready` (readiness.h): look again then. */
static void
control_ready_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct control *ctl = container_of(w, struct control, ready);

	(void)loop;
	(void)revents;
	control_wait_update(ctl->m);
}

void
control_wait_update(struct meshd *m)
{
	struct control *ctl = m->ctl;
	struct conn *c;
	char why[8192];
	ev_tstamp next;
	int r = -2;

	/* an adopted sidecar not re-attached yet: not ready (adopt.h); its
	 * READY, or ADOPT_ATTACH_S, brings us back here */
	if (ctl == NULL || adopt_pending(m))
		return;
	for (c = ctl->conns; c != NULL; c = c->next) {
		if (c->dead || c->wait != WAIT_READY)
			continue;
		/* every instance had ready_timeout from meshd's start */
		if (r == -2)
			r = readiness_check(m, m->started, why, sizeof(why), &next);
		if (r == -1) {
			ev_timer_stop(m->loop, &ctl->ready);
			ev_timer_set(&ctl->ready, next - ev_now(m->loop) + 0.001, 0.);
			ev_timer_start(m->loop, &ctl->ready);
			return;
		}
		c->wait = WAIT_NONE;
		if (r == 1)
			control_send_str(c, IPC_REPLY, why);
		control_send_str(c, IPC_DONE, r == 0 ? "0" : "1");
	}
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
	adopt_attached(in);
	control_push(m, in);
	control_trust(c);
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
	if (c->kind == CONN_PROXY && type == IPC_IDENT) {
		control_ident(c, p, len);
		return;
	}
	log_warnx("control: unexpected message type %u on a %s connection: closed",
	    type, c->kind == CONN_PROXY ? "sidecar" : "client");
	control_kill(c);
}

/* CONTROL_FRAME_S passed with no first message, or a frame unfinished. */
static void
control_frame_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = container_of(w, struct conn, frame);

	(void)loop;
	(void)revents;
	log_warnx("control: a %s (pid %d) sent %s within %.0f s: closed",
	    c->kind == CONN_PROXY ? "sidecar" : c->kind == CONN_CLIENT ? "client" : "peer",
	    (int)c->peer_pid,
	    c->kind == CONN_NEW && ipc_reader_held(&c->rd) == 0 ? "no message"
	                                                       : "no whole frame",
	    CONTROL_FRAME_S);
	control_kill(c);
}

/* Arm the frame timer while a frame is begun (or nothing came yet); it
 * runs from the first such byte, more bytes do not push it back. */
static void
control_frame_update(struct conn *c)
{
	struct ev_loop *loop = c->ctl->m->loop;

	if (c->dead)
		return;
	if (c->kind == CONN_NEW || ipc_reader_held(&c->rd) > 0) {
		if (!ev_is_active(&c->frame)) {
			ev_timer_set(&c->frame, CONTROL_FRAME_S, 0.);
			ev_timer_start(loop, &c->frame);
		}
	} else
		ev_timer_stop(loop, &c->frame);
}

static void
control_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = container_of(w, struct conn, rio);
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
	control_frame_update(c);
}

static void
control_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	control_flush(container_of(w, struct conn, wio));
}

static void
control_accept_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct control *ctl = container_of(w, struct control, accept_retry);

	(void)revents;
	ev_io_start(loop, &ctl->accept);
}

/* accept4 failed: out of descriptors or memory pauses the watcher (the
 * pending connection would wake it again at once: 100% CPU), anything
 * else is the peer's problem (it gave up before we took it). */
static void
control_accept_failed(struct control *ctl)
{
	struct ev_loop *loop = ctl->m->loop;

	if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM)
		return;
	if (ev_now(loop) - ctl->accept_warned >= 10.) {
		log_warn("control: accept on %s (pausing %.0f ms at a time)",
		    ctl->m->sock_path, CONTROL_ACCEPT_RETRY_S * 1000);
		ctl->accept_warned = ev_now(loop);
	}
	ev_io_stop(loop, &ctl->accept);
	ev_timer_set(&ctl->accept_retry, CONTROL_ACCEPT_RETRY_S, 0.);
	ev_timer_start(loop, &ctl->accept_retry);
}

static void
control_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control *ctl = container_of(w, struct control, accept);
	struct ucred cred;
	socklen_t sl = sizeof(cred);
	struct conn *c;
	int fd;

	(void)revents;
	if ((fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		control_accept_failed(ctl);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &sl) == -1) {
		log_warn("control: SO_PEERCRED: connection refused");
		close(fd);
		return;
	}
	if (cred.uid != getuid() && cred.uid != 0) {
		log_warnx("control: connection from uid %d (pid %d) refused (meshd runs as uid %d)",
		    (int)cred.uid, (int)cred.pid, (int)getuid());
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
	ev_init(&c->frame, control_frame_cb);
	ev_io_start(loop, &c->rio);
	c->next = ctl->conns;
	ctl->conns = c;
	ctl->nconns++;
	control_frame_update(c);
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
	ev_init(&ctl->accept_retry, control_accept_retry_cb);
	ev_prepare_init(&ctl->reaper, control_reap_cb);
	ev_init(&ctl->rotate, control_rotate_cb);
	ev_init(&ctl->ready, control_ready_cb);
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
	ev_timer_stop(m->loop, &ctl->accept_retry);
	ev_timer_stop(m->loop, &ctl->rotate);
	ev_timer_stop(m->loop, &ctl->ready);
	close(ctl->fd);
	unlink(m->sock_path);
	for (c = ctl->conns; c != NULL; c = c->next) {
		if (c->dead)
			continue;
		if (c->wait == WAIT_DOWN || c->wait == WAIT_READY || c->wait == WAIT_RESTART) {
			if (c->wait != WAIT_DOWN)
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
