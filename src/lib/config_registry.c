/* SPDX-License-Identifier: ISC */
/*
 * config_registry: the [mesh] keys that join hosts into one mesh through
 * etcd (issue 16): registry, etcd, etcd_ca/etcd_cert/etcd_key,
 * host_address, host_name, registry_ttl.
 *
 * Decisions:
 *  - Without `registry = etcd` nothing changes, and any other of these
 *    keys is an error: a half-written multi-host set-up should not
 *    silently run as a single host.
 *  - `etcd` is read by the etcd client's own parser (mesh/etcd_url.h), so
 *    what passes here is what meshd will connect to.
 *  - host_address is one IPv4 address other hosts can reach (not
 *    0.0.0.0); host_name defaults to gethostname() and must fit the key
 *    layout ([A-Za-z0-9._-], no '/').
 *  - An https:// endpoint needs etcd_ca; etcd_cert and etcd_key go
 *    together (a client certificate).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/config.h"
#include "mesh/etcd_url.h"
#include "config_int.h"

#define ETCD_URLS_MAX 8   /* ETCD_ENDPOINTS_MAX of meshd's client */

int
config_registry_etcd(struct conf_ctx *ctx, const struct conf_key *k, const char *v,
                     void *obj, char *why, size_t whysz)
{
	struct conf_mesh *m = obj;
	struct etcd_ep eps[ETCD_URLS_MAX];
	size_t n;

	m->etcd_line = ctx->lineno;   /* written, even when bad: no "missing" too */
	if (etcd_url_parse(v, eps, ETCD_URLS_MAX, &n, why, whysz) == -1)
		return -1;
	free(m->etcd);
	if ((m->etcd = strdup(v)) == NULL) {
		snprintf(why, whysz, "out of memory");
		return -1;
	}
	return 0;
}

int
config_registry_address(struct conf_ctx *ctx, const struct conf_key *k, const char *v,
                        void *obj, char *why, size_t whysz)
{
	struct conf_mesh *m = obj;
	struct in_addr a;

	m->host_address_line = ctx->lineno;   /* as for etcd */
	if (strlen(v) >= sizeof(m->host_address) || inet_pton(AF_INET, v, &a) != 1) {
		snprintf(why, whysz, "want an IPv4 address (the one other hosts "
		    "reach this host's sidecars on)");
		return -1;
	}
	if (a.s_addr == htonl(INADDR_ANY) || a.s_addr == htonl(INADDR_BROADCAST)) {
		snprintf(why, whysz, "other hosts cannot reach %s", v);
		return -1;
	}
	snprintf(m->host_address, sizeof(m->host_address), "%s", v);
	return 0;
}

int
conf_host_name_ok(const char *v)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || v[i] == '-' || v[i] == '_' ||
		    v[i] == '.'))
			return 0;
	return i > 0 && i < CONF_HOST_NAME_MAX && strcmp(v, ".") != 0 &&
	    strcmp(v, "..") != 0;
}

int
config_registry_host_name(struct conf_ctx *ctx, const struct conf_key *k, const char *v,
                          void *obj, char *why, size_t whysz)
{
	struct conf_mesh *m = obj;

	if (!conf_host_name_ok(v)) {
		snprintf(why, whysz, "want 1..%d of [A-Za-z0-9._-]", CONF_HOST_NAME_MAX - 1);
		return -1;
	}
	snprintf(m->host_name, sizeof(m->host_name), "%s", v);
	return 0;
}

/* A key set without registry = etcd. */
static void
conf_unused(struct conf_ctx *ctx, int line, const char *name)
{
	if (line != 0)
		config_error(ctx, line, "%s: set without registry = etcd (one host "
		    "needs no registry)", name);
}

void
config_registry_validate(struct conf_ctx *ctx)
{
	struct conf_mesh *m = &ctx->cfg->mesh;
	struct etcd_ep eps[ETCD_URLS_MAX];
	char err[320], host[256];
	size_t i, n;
	int tls = 0;

	if (m->registry != CONF_REGISTRY_ETCD) {
		conf_unused(ctx, m->etcd_line, "etcd");
		conf_unused(ctx, m->etcd_ca_line, "etcd_ca");
		conf_unused(ctx, m->etcd_cert_line, "etcd_cert");
		conf_unused(ctx, m->etcd_key_line, "etcd_key");
		conf_unused(ctx, m->host_address_line, "host_address");
		conf_unused(ctx, m->host_name_line, "host_name");
		return;
	}
	if (m->etcd == NULL && m->etcd_line == 0)
		config_error(ctx, m->registry_line, "registry = etcd: no etcd = "
		    "URL, ... in [mesh]");
	else if (m->etcd != NULL && etcd_url_parse(m->etcd, eps, ETCD_URLS_MAX, &n, err, sizeof(err)) == 0)
		for (i = 0; i < n; i++)
			tls |= eps[i].tls;
	if (m->host_address[0] == '\0' && m->host_address_line == 0)
		config_error(ctx, m->registry_line, "registry = etcd: no host_address "
		    "= IPv4 in [mesh] (the address other hosts reach this host on)");
	if (tls && m->etcd_ca == NULL)
		config_error(ctx, m->etcd_line, "etcd = %s: an https:// endpoint "
		    "needs etcd_ca (the CA that signed etcd's certificate)", m->etcd);
	if ((m->etcd_cert == NULL) != (m->etcd_key == NULL))
		config_error(ctx, m->etcd_cert != NULL ? m->etcd_cert_line :
		    m->etcd_key_line, "%s without %s: a client certificate needs both",
		    m->etcd_cert != NULL ? "etcd_cert" : "etcd_key",
		    m->etcd_cert != NULL ? "etcd_key" : "etcd_cert");
	if (m->host_name[0] != '\0')
		return;
	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if (!conf_host_name_ok(host))
		config_error(ctx, m->registry_line, "registry = etcd: this host's "
		    "name \"%s\" is not 1..%d of [A-Za-z0-9._-]: set host_name",
		    host, CONF_HOST_NAME_MAX - 1);
	else
		snprintf(m->host_name, sizeof(m->host_name), "%s", host);
}
