/* SPDX-License-Identifier: ISC */
/*
 * pctl: control-socket client of mesh-proxy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "mesh/balance.h"
#include "mesh/breaker.h"
#include "mesh/ident.h"
#include "mesh/ipc.h"
#include "mesh/log.h"
#include "mesh/pcfg.h"
#include "mesh/pctl.h"
#include "mesh/pki.h"
#include "mesh/pstate.h"

#define PCTL_RETRY_S 1.0
#define PCTL_CERT_RETRY_S 5.0   /* after IPC_CERT_FAIL or a leaf we refused */

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
	/* identity (ident.h): one CSR in flight at a time */
	char               service[PCFG_NAME_MAX];  /* from the first config */
	ev_timer           renew;        /* next renewal, or a retry */
	int                csr_sent;     /* on this connection, not answered yet */
	int                want_cert;    /* a renewal is due (sent when connected) */
	int                certified;    /* a leaf came on this connection */
} pctl = { .fd = -1 };

static void pctl_read_cb(struct ev_loop *loop, ev_io *w, int revents);
static void pctl_retry_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void pctl_renew_cb(struct ev_loop *loop, ev_timer *w, int revents);

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
	/* the answer to a CSR in flight is lost: ask again once back */
	if (pctl.csr_sent) {
		pctl.csr_sent = 0;
		pctl.want_cert = 1;
		ident_cancel();
	}
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
	pctl.csr_sent = 0;
	pctl.certified = 0;
	ipc_reader_init(&pctl.rd);
	ev_io_init(&pctl.io, pctl_read_cb, fd, EV_READ);
	ev_io_start(EV_DEFAULT, &pctl.io);
	snprintf(hello, sizeof(hello), "proxy %s %ld", pctl.id, (long)getpid());
	if (pctl_send(IPC_HELLO, hello) == -1)
		return -1;
	log_info("attached to meshd at %s", pctl.path);
	return 0;
}

/* IPC_READY once the config is applied AND, with mTLS, a leaf installed. */
static void
pctl_maybe_ready(void)
{
	if (pctl.fd == -1 || pctl.ready_sent || !pctl.served)
		return;
	if (ident_enabled() && !ident_ready())
		return;
	if (pctl_send(IPC_READY, "") == 0)
		pctl.ready_sent = 1;
}

/* Send a fresh key's CSR (IPC_CSR) if one is due and none is in flight. */
static void
pctl_request_cert(void)
{
	char pem[PKI_PEM_MAX], err[256];

	if (!ident_enabled() || pctl.csr_sent)
		return;
	if (pctl.fd == -1 || !pctl.served) {
		pctl.want_cert = 1;      /* sent after the next config */
		return;
	}
	if (ident_request(pctl.service, pem, sizeof(pem), err, sizeof(err)) == -1) {
		log_warnx("certificate request for %s: %s; retrying in %.0f s",
		    pctl.service, err, PCTL_CERT_RETRY_S);
		ev_timer_stop(EV_DEFAULT, &pctl.renew);
		ev_timer_set(&pctl.renew, PCTL_CERT_RETRY_S, 0.);
		ev_timer_start(EV_DEFAULT, &pctl.renew);
		return;
	}
	if (pctl_send(IPC_CSR, pem) == -1)
		return;                  /* disconnected: want_cert is set there */
	pctl.csr_sent = 1;
	pctl.want_cert = 0;
}

static void
pctl_renew_at(double delay)
{
	ev_timer_stop(EV_DEFAULT, &pctl.renew);
	ev_timer_set(&pctl.renew, delay, 0.);
	ev_timer_start(EV_DEFAULT, &pctl.renew);
}

static void
pctl_renew_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	pctl.want_cert = 1;
	pctl_request_cert();
}

/* IPC_IDENT: what we present and trust, after every change of either
 * (meshd's root rollover waits for these). */
static void
pctl_report(void)
{
	char buf[PKI_BUNDLE_MAX * 66 + 96];

	if (pctl.fd == -1)
		return;
	(void)ident_report(buf, sizeof(buf));
	(void)pctl_send(IPC_IDENT, buf);
}

/* IPC_TRUST: the roots to accept peers from (two during a rollover). */
static void
pctl_trust(const char *pem, size_t len)
{
	char err[256];

	if (ident_trust(pem, len, err, sizeof(err)) == -1) {
		log_warnx("trust bundle from meshd refused: %s; keeping the previous one", err);
		return;
	}
	pctl_report();
}

/* IPC_CERT: the leaf for our pending key, then meshd's CA. */
static void
pctl_cert(const char *pem, size_t len)
{
	struct pki_certinfo ci;
	char err[256];
	double delay;

	if (!pctl.csr_sent) {
		log_warnx("control socket %s: a certificate nobody asked for; ignored", pctl.path);
		return;
	}
	pctl.csr_sent = 0;
	if (ident_accept(pctl.service, pem, len, err, sizeof(err)) == -1) {
		ident_cancel();
		log_warnx("certificate from meshd refused: %s; asking again in %.0f s",
		    err, PCTL_CERT_RETRY_S);
		pctl_renew_at(PCTL_CERT_RETRY_S);
		return;
	}
	pctl.certified = 1;
	delay = ident_renew_delay(time(NULL));
	if (ident_info(&ci) == 0)
		log_info("identity %s serial %s valid until %ld; renewing in %.0f s",
		    ci.uri, ci.serial, (long)ci.not_after, delay);
	pctl_renew_at(delay);
	pctl_report();
	pctl_maybe_ready();
}

static void
pctl_cert_fail(const char *why)
{
	pctl.csr_sent = 0;
	ident_cancel();
	log_warnx("meshd refused to sign our certificate request: %s; asking again in %.0f s",
	    why, PCTL_CERT_RETRY_S);
	pctl_renew_at(PCTL_CERT_RETRY_S);
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
	} else if (ident_configure(cfg, perr, sizeof(perr)) == -1) {
		pcfg_free(cfg);
		free(cfg);
		snprintf(err, sizeof(err), "config from meshd: %s", perr);
	} else {
		snprintf(pctl.service, sizeof(pctl.service), "%s", cfg->service);
		if (pstate_apply(cfg, err, sizeof(err)) == 0) {
			pctl.served = 1;
			/* once per connection: a restarted meshd learns our
			 * leaf (for `meshctl certs`) by issuing a new one */
			if (ident_enabled() && (!ident_ready() || pctl.want_cert || !pctl.certified))
				pctl_request_cert();
			pctl_maybe_ready();
			return;
		}
	}
	log_warnx("%s", err);
	if (!pctl.served) {
		(void)pctl_send(IPC_FAIL, err);
		pctl.on_fatal();
	}
}

/* IPC_BREAKER_RESET "SERVICE [VERSION.INDEX]": close the breakers of
 * those endpoints of the current config (stats rows follow at the next
 * pstats sync). */
static void
pctl_breaker_reset(const char *p)
{
	char svc[PCFG_NAME_MAX], which[PCFG_NAME_MAX + 16] = "", vi[PCFG_NAME_MAX + 16];
	const struct pcfg *cfg = pstate.cfg;
	size_t i, k, n = 0, closed = 0;
	int words;

	_Static_assert(PCFG_NAME_MAX == 64, "the sscanf widths below fit the buffers");
	words = sscanf(p, "%63s %79s", svc, which);
	for (i = 0; words >= 1 && cfg != NULL && i < cfg->nservices; i++) {
		const struct pcfg_service *s = &cfg->services[i];

		if (strcmp(s->name, svc) != 0)
			continue;
		for (k = 0; k < s->nendpoints; k++) {
			snprintf(vi, sizeof(vi), "%s.%u", s->endpoints[k].version,
			    s->endpoints[k].index);
			if (words == 2 && strcmp(vi, which) != 0)
				continue;
			n++;
			closed += (size_t)breaker_reset(balance_ep_addr(&s->endpoints[k]));
		}
	}
	log_info("breaker reset asked by meshd for %s: %zu endpoint(s), %zu were open",
	    p, n, closed);
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
		else if (type == IPC_CERT)
			pctl_cert(payload, len);
		else if (type == IPC_CERT_FAIL)
			pctl_cert_fail(payload);
		else if (type == IPC_ROTATE) {
			log_info("meshd asks for a new certificate now");
			pctl.want_cert = 1;
			pctl_request_cert();
		} else if (type == IPC_BREAKER_RESET)
			pctl_breaker_reset(payload);
		else if (type == IPC_TRUST)
			pctl_trust(payload, len);
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
	ev_timer_init(&pctl.renew, pctl_renew_cb, 1., 0.);
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
	ev_timer_stop(EV_DEFAULT, &pctl.renew);
	if (pctl.fd != -1) {
		ev_io_stop(EV_DEFAULT, &pctl.io);
		close(pctl.fd);
		pctl.fd = -1;
		ipc_reader_free(&pctl.rd);
	}
}
