/* SPDX-License-Identifier: ISC */
/*
 * pcfg_addr: the document's addresses and hosts (issue 16), the handlers
 * of three rows of pcfg_keys.c's table: `host <name>`, `inbound ...
 * [bind=<IPv4>]` and `endpoint ... [<IPv4>:]<port> <state> [host=<name>]`
 * (grammar in include/mesh/pcfg.h).  A bare port is 127.0.0.1, and
 * 127.0.0.1 is printed back as a bare port, so the documents of one host
 * read and print as they always did.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mesh/epaddr.h"
#include "mesh/pcfg.h"
#include "pcfg_int.h"

/* An address a sidecar may connect to or bind: not 0.x, multicast or
 * reserved (224.0.0.0 and up, broadcast included). */
static int
key_unicast(struct pcfg_parser *p, const char *what, const char *s, uint32_t *out)
{
	if (pcfg_ipv4(p, what, s, out) == -1)
		return -1;
	if ((*out >> 24) == 0 || (*out >> 24) >= 224)
		return pcfg_fail(p, "%s: '%s' is not a unicast address", what, s);
	return 0;
}

int
pcfg_key_host(struct pcfg_parser *p, struct pcfg_service *s, char **f, size_t nf)
{
	return pcfg_name(p, "host", f[1], p->c->host);
}

void
pcfg_key_host_print(FILE *fp, const struct pcfg *c, const struct pcfg_service *s)
{
	if (c->host[0] != '\0')
		fprintf(fp, "host %s\n", c->host);
}

int
pcfg_key_inbound(struct pcfg_parser *p, struct pcfg_service *s, char **f, size_t nf)
{
	struct pcfg *c = p->c;

	if (pcfg_port(p, "inbound port", f[1], &c->inbound_port) == -1 ||
	    pcfg_proto(p, f[2], &c->inbound_proto) == -1 ||
	    pcfg_port(p, "app port", f[3], &c->app_port) == -1)
		return -1;
	if (nf == 5) {
		if (strncmp(f[4], "bind=", 5) != 0)
			return pcfg_fail(p, "inbound: '%s' is not bind=<IPv4>", f[4]);
		if (key_unicast(p, "inbound bind", f[4] + 5, &c->inbound_bind) == -1)
			return -1;
	}
	return 0;
}

void
pcfg_key_inbound_print(FILE *fp, const struct pcfg *c, const struct pcfg_service *s)
{
	if (c->inbound_port == 0)
		return;
	fprintf(fp, "inbound %u %s %u", c->inbound_port,
	    pcfg_proto_name(c->inbound_proto), c->app_port);
	if (c->inbound_bind != 0 && c->inbound_bind != EPADDR_LOOPBACK)
		fprintf(fp, " bind=" EPADDR_IP_FMT, EPADDR_IP_ARGS(c->inbound_bind));
	fputc('\n', fp);
}

/* [<IPv4>:]<port> */
static int
key_endpoint_addr(struct pcfg_parser *p, struct pcfg_endpoint *e, char *s)
{
	char *colon = strchr(s, ':');

	e->addr = EPADDR_LOOPBACK;
	if (colon != NULL) {
		*colon = '\0';
		if (key_unicast(p, "endpoint address", s, &e->addr) == -1)
			return -1;
		s = colon + 1;
	}
	return pcfg_port(p, "endpoint port", s, &e->port);
}

int
pcfg_key_endpoint(struct pcfg_parser *p, struct pcfg_service *s, char **f, size_t nf)
{
	struct pcfg_endpoint *e;
	unsigned long v;

	if ((e = pcfg_push((void **)&s->endpoints, &s->nendpoints, sizeof(*e))) == NULL)
		return pcfg_fail(p, "out of memory");
	if (pcfg_name(p, "version", f[2], e->version) == -1 ||
	    pcfg_uint(p, "index", f[3], 0, 65535, &v) == -1)
		return -1;
	e->index = (unsigned)v;
	if (key_endpoint_addr(p, e, f[4]) == -1)
		return -1;
	if (strcmp(f[5], "up") == 0)
		e->up = 1;
	else if (strcmp(f[5], "down") == 0)
		e->up = 0;
	else
		return pcfg_fail(p, "endpoint state '%s' (up|down)", f[5]);
	if (nf == 7) {
		if (strncmp(f[6], "host=", 5) != 0)
			return pcfg_fail(p, "endpoint: '%s' is not host=<name>", f[6]);
		if (pcfg_name(p, "endpoint host", f[6] + 5, e->host) == -1)
			return -1;
	}
	return 0;
}

void
pcfg_key_endpoint_print(FILE *fp, const struct pcfg *c, const struct pcfg_service *s)
{
	size_t j;

	for (j = 0; j < s->nendpoints; j++) {
		const struct pcfg_endpoint *e = &s->endpoints[j];
		uint32_t ip = pcfg_endpoint_addr(e);

		fprintf(fp, "endpoint %s %s %u ", s->name, e->version, e->index);
		if (ip != EPADDR_LOOPBACK)
			fprintf(fp, EPADDR_IP_FMT ":", EPADDR_IP_ARGS(ip));
		fprintf(fp, "%u %s", e->port, e->up ? "up" : "down");
		if (e->host[0] != '\0')
			fprintf(fp, " host=%s", e->host);
		fputc('\n', fp);
	}
}
