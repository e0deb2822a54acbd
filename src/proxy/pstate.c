/* SPDX-License-Identifier: ISC */
/*
 * pstate: the current sidecar config and applying a new one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/buf.h"
#include "mesh/listener.h"
#include "mesh/log.h"
#include "mesh/alog.h"
#include "mesh/balance.h"
#include "mesh/obs.h"
#include "mesh/pstate.h"
#include "mesh/pstats.h"
#include "mesh/upstream.h"

#define BUF_MIN 16384

struct pstate pstate;

struct want {
	uint16_t       port;
	enum conn_role role;
	const char    *service;
	char           what[PCFG_NAME_MAX + 16];
	uint32_t       addr;      /* IPv4 to bind, host byte order */
};

static size_t
pstate_wanted(const struct pcfg *cfg, struct want *w, size_t max)
{
	size_t n = 0, i;

	if (cfg->inbound_port != 0 && n < max) {
		w[n] = (struct want){ cfg->inbound_port,
		    pcfg_proto_l7(cfg->inbound_proto) ? ROLE_INBOUND_HTTP : ROLE_INBOUND_TCP,
		    NULL, "", cfg->inbound_bind != 0 ? cfg->inbound_bind : EPADDR_LOOPBACK };
		snprintf(w[n].what, sizeof(w[n].what), "inbound %s", cfg->service);
		n++;
	}
	if (cfg->outbound_port != 0 && n < max) {
		w[n] = (struct want){ cfg->outbound_port, ROLE_OUTBOUND, NULL, "outbound proxy",
		    EPADDR_LOOPBACK };
		n++;
	}
	for (i = 0; i < cfg->nlistens && n < max; i++) {
		const struct pcfg_listen *ls = &cfg->listens[i];
		const struct pcfg_service *s = NULL;
		size_t k;

		for (k = 0; k < cfg->nservices; k++)
			if (strcmp(cfg->services[k].name, ls->service) == 0)
				s = &cfg->services[k];
		w[n] = (struct want){ ls->port,
		    s != NULL && !pcfg_proto_l7(s->proto) ? ROLE_LISTEN_TCP : ROLE_LISTEN_HTTP,
		    ls->service, "", EPADDR_LOOPBACK };
		snprintf(w[n].what, sizeof(w[n].what), "upstream %s", ls->service);
		n++;
	}
	return n;
}

static void
pstate_limits(const struct pcfg_limits *l)
{
	size_t size = l->header_bytes > BUF_MIN ? l->header_bytes : BUF_MIN;

	/* Effective only before the first buffer exists: the pool has one size. */
	buf_pool_init(size, 256);
	pstate.lim = *l;
	pstate.hlim.line_bytes = l->line_bytes;
	pstate.hlim.header_bytes = l->header_bytes < buf_pool_size() ?
	    l->header_bytes : (uint32_t)buf_pool_size();
	pstate.hlim.max_headers = l->headers < HTTP_MAX_HEADERS ? l->headers : HTTP_MAX_HEADERS;
	if (pstate.lim.connections == 0)
		pstate.lim.connections = 1;
	/* Pooled connections close well before the peer's idle timeout
	 * would close them under a request. */
	upstream_set_timeouts(l->connect_timeout_ms / 1000.0, l->idle_timeout_ms / 2000.0);
}

/* Start, switch or stop the access log (alog.h); 1 when it is on. */
static int
pstate_access_log(const struct pcfg *cfg)
{
	enum alog_target at = cfg->access_log == PCFG_ACCESS_JSON ? ALOG_FD :
	    cfg->access_log == PCFG_ACCESS_FILE ? ALOG_FILE : ALOG_OFF;
	char err[PCFG_PATH_MAX + 128];

	if (alog_open(EV_DEFAULT, at, cfg->access_log_path, STDOUT_FILENO, err,
	    sizeof(err)) == -1) {
		log_warnx("access log: %s (requests are served without it)", err);
		return 0;
	}
	return at != ALOG_OFF;
}

/* "B:PORT@host ..." of svc's endpoints on other hosts (at most 8 named);
 * how many there are. */
static size_t
pstate_remote_list(const struct pcfg *c, const struct pcfg_service *svc, char *buf,
                   size_t size)
{
	size_t k, n = 0, len = 0;

	buf[0] = '\0';
	for (k = 0; svc != NULL && k < svc->nendpoints; k++) {
		const struct pcfg_endpoint *e = &svc->endpoints[k];
		int w;

		if (!pcfg_endpoint_remote(c, e))
			continue;
		if (n++ >= 8 || len >= size)
			continue;
		w = snprintf(buf + len, size - len, "%s" EPADDR_FMT " %s %s.%u (host %s)",
		    len > 0 ? ", " : "", EPADDR_ARGS(epaddr_make(pcfg_endpoint_addr(e), e->port)),
		    svc->name, e->version, e->index, e->host);
		len = w < 0 ? size : len + (size_t)w;
	}
	return n;
}

/* Which endpoints of other hosts (issue 16) each service has now, logged
 * when that changed: what the registry made of the other hosts. */
static void
pstate_log_remote(const struct pcfg *old, const struct pcfg *cfg)
{
	char now[1024], before[1024];
	size_t i, n;

	for (i = 0; i < cfg->nservices; i++) {
		const struct pcfg_service *s = &cfg->services[i];

		n = pstate_remote_list(cfg, s, now, sizeof(now));
		pstate_remote_list(old, old != NULL ? pcfg_service_find(old, s->name,
		    strlen(s->name)) : NULL, before, sizeof(before));
		if (strcmp(now, before) == 0 || (n == 0 && before[0] == '\0'))
			continue;
		if (n == 0)
			log_info("service %s: no endpoint on other hosts", s->name);
		else
			log_info("service %s: %zu endpoint(s) on other hosts: %s%s", s->name,
			    n, now, n > 8 ? ", ..." : "");
	}
}

int
pstate_apply(struct pcfg *cfg, char *err, size_t errlen)
{
	struct want want[256];
	struct listener *l, *next, *opened[256];
	struct route_table rt;
	size_t n, i, k, nopened = 0;

	n = pstate_wanted(cfg, want, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < n; i++)
		for (k = i + 1; k < n; k++)
			if (want[i].port == want[k].port) {
				snprintf(err, errlen, "port %u is used by %s and by %s",
				    want[i].port, want[i].what, want[k].what);
				goto fail;
			}
	if (route_table_init(&rt, cfg) == -1) {
		snprintf(err, errlen, "out of memory building the routing table");
		goto fail;
	}
	/* Open what is missing first, so a failure changes nothing. */
	for (i = 0; i < n; i++) {
		if (listener_find(want[i].addr, want[i].port) != NULL)
			continue;
		l = listener_open(want[i].addr, want[i].port, want[i].role, want[i].service,
		    want[i].what, err, errlen);
		if (l == NULL) {
			while (nopened > 0)
				listener_close(opened[--nopened]);
			route_table_free(&rt);
			goto fail;
		}
		opened[nopened++] = l;
		log_info("listening on " EPADDR_FMT " (%s)",
		    EPADDR_ARGS(epaddr_make(want[i].addr, want[i].port)), want[i].what);
	}
	for (l = listener_first(); l != NULL; l = l->next)
		l->mark = 1;
	for (i = 0; i < n; i++) {
		l = listener_find(want[i].addr, want[i].port);
		l->role = want[i].role;
		snprintf(l->service, sizeof(l->service), "%s",
		    want[i].service != NULL ? want[i].service : "");
		l->mark = 0;
	}
	for (l = listener_first(); l != NULL; l = next) {
		next = l->next;
		if (l->mark) {
			log_info("closing listener " EPADDR_FMT,
			    EPADDR_ARGS(epaddr_make(l->addr, l->port)));
			listener_close(l);
		}
	}

	pstate_limits(&cfg->limits);
	pstate_log_remote(pstate.cfg, cfg);
	route_table_free(&pstate.rt);
	if (pstate.cfg != NULL) {
		pcfg_free(pstate.cfg);
		free(pstate.cfg);
	}
	pstate.cfg = cfg;
	pstate.rt = rt;
	pstate.rt.cfg = cfg;
	obs_configure(cfg->service, cfg->version, cfg->index, cfg->trace_permille,
	    pstate_access_log(cfg));
	pstats_sync();

	upstream_mark_stale();
	if (cfg->app_port != 0)
		(void)upstream_get(cfg->app_port, &transport_plain);
	for (i = 0; i < cfg->nservices; i++)
		for (k = 0; k < cfg->services[i].nendpoints; k++)
			(void)upstream_get_at(balance_ep_addr(&cfg->services[i].endpoints[k]),
			    transport_mesh());
	upstream_sweep_stale();
	return 0;
fail:
	pcfg_free(cfg);
	free(cfg);
	return -1;
}

void
pstate_close_listeners(void)
{
	while (listener_first() != NULL)
		listener_close(listener_first());
}

void
pstate_free(void)
{
	route_table_free(&pstate.rt);
	if (pstate.cfg != NULL) {
		pcfg_free(pstate.cfg);
		free(pstate.cfg);
		pstate.cfg = NULL;
	}
}
