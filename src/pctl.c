/*
 * pctl: control-socket client of mesh-proxy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>

#include "mesh/ipc.h"
#include "mesh/log.h"
#include "mesh/pcfg.h"
#include "mesh/pctl.h"
#include "mesh/pstate.h"

#define PCTL_RETRY_S 1.0

static struct {
	char               path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char               id[128];
	int                fd;
	ev_io              io;
	ev_timer           retry;
	struct ipc_reader  rd;
	int                ready_sent;   /* on this connection */
	int                served;       /* a config was ever applied */
	int                warned;       /* "cannot connect" logged once per outage */
	void             (*on_fatal)(void);
} pctl = { .fd = -1 };

static void pctl_read_cb(struct ev_loop *loop, ev_io *w, int revents);
static void pctl_retry_cb(struct ev_loop *loop, ev_timer *w, int revents);

static void
pctl_disconnect(const char *why)
{
	if (pctl.fd == -1)
		return;
	log_warnx("control socket %s: %s; serving on, reconnecting every second",
	    pctl.path, why);
	ev_io_stop(EV_DEFAULT, &pctl.io);
	close(pctl.fd);
	pctl.fd = -1;
	ipc_reader_free(&pctl.rd);
	ev_timer_start(EV_DEFAULT, &pctl.retry);
}

static int
pctl_send(uint16_t type, const char *msg)
{
	if (ipc_send(pctl.fd, type, msg, strlen(msg)) == -1) {
		pctl_disconnect(strerror(errno));
		return -1;
	}
	return 0;
}

static int
pctl_connect(void)
{
	struct sockaddr_un sun;
	char hello[192];
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, pctl.path, strlen(pctl.path));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	pctl.fd = fd;
	pctl.ready_sent = 0;
	pctl.warned = 0;
	ipc_reader_init(&pctl.rd);
	ev_io_init(&pctl.io, pctl_read_cb, fd, EV_READ);
	ev_io_start(EV_DEFAULT, &pctl.io);
	snprintf(hello, sizeof(hello), "proxy %s %ld", pctl.id, (long)getpid());
	if (pctl_send(IPC_HELLO, hello) == -1)
		return -1;
	log_info("attached to meshd at %s", pctl.path);
	return 0;
}

static void
pctl_config(const char *text, size_t len)
{
	char err[512], perr[400];
	struct pcfg *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL) {
		snprintf(err, sizeof(err), "out of memory");
	} else if (pcfg_parse(text, len, cfg, perr, sizeof(perr)) == -1) {
		free(cfg);
		snprintf(err, sizeof(err), "config from meshd: %s", perr);
	} else if (pstate_apply(cfg, err, sizeof(err)) == 0) {
		pctl.served = 1;
		if (!pctl.ready_sent && pctl_send(IPC_READY, "") == 0)
			pctl.ready_sent = 1;
		return;
	}
	log_warnx("%s", err);
	if (!pctl.served) {
		(void)pctl_send(IPC_FAIL, err);
		pctl.on_fatal();
	}
}

static void
pctl_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	char buf[16384], *payload;
	const char *err;
	uint16_t type;
	size_t len;
	ssize_t n;
	int r;

	n = read(pctl.fd, buf, sizeof(buf));
	if (n == 0) {
		pctl_disconnect("meshd closed the connection");
		return;
	}
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			pctl_disconnect(strerror(errno));
		return;
	}
	if (ipc_reader_feed(&pctl.rd, buf, (size_t)n) == -1) {
		pctl_disconnect("oversize message");
		return;
	}
	while (pctl.fd != -1 && (r = ipc_reader_next(&pctl.rd, &type, &payload, &len, &err)) != 0) {
		if (r == -1) {
			pctl_disconnect(err);
			return;
		}
		if (type == IPC_CONFIG)
			pctl_config(payload, len);
		else
			log_warnx("control socket %s: unexpected message type %u", pctl.path, type);
	}
}

static void
pctl_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	if (pctl_connect() == 0) {
		ev_timer_stop(loop, w);
		return;
	}
	if (!pctl.warned) {
		log_warn("cannot connect to meshd at %s (retrying every second)", pctl.path);
		pctl.warned = 1;
	}
}

void
pctl_start(const char *sock_path, const char *instance_id, void (*on_fatal)(void))
{
	if (strlen(sock_path) >= sizeof(pctl.path))
		fatalx("control socket path too long: %s", sock_path);
	snprintf(pctl.path, sizeof(pctl.path), "%s", sock_path);
	snprintf(pctl.id, sizeof(pctl.id), "%s", instance_id);
	pctl.on_fatal = on_fatal;
	ev_timer_init(&pctl.retry, pctl_retry_cb, PCTL_RETRY_S, PCTL_RETRY_S);
	if (pctl_connect() == -1) {
		if (pctl.fd == -1)
			log_warn("cannot connect to meshd at %s (retrying every second)", pctl.path);
		pctl.warned = 1;
		ev_timer_start(EV_DEFAULT, &pctl.retry);
	}
}

void
pctl_stop(void)
{
	ev_timer_stop(EV_DEFAULT, &pctl.retry);
	if (pctl.fd != -1) {
		ev_io_stop(EV_DEFAULT, &pctl.io);
		close(pctl.fd);
		pctl.fd = -1;
		ipc_reader_free(&pctl.rd);
	}
}
