/* SPDX-License-Identifier: ISC */
/*
 * pcfg: parse and format the sidecar's configuration document (see
 * include/mesh/pcfg.h for the grammar).  This file reads the document's
 * lines and fields and parses values; what each keyword means is one row
 * of pcfg_keys.c's table.
 *
 * The parser is strict on purpose: the only producer is meshd's registry
 * (through pcfg_format), so anything unexpected means a bug or a truncated
 * message, and the proxy must keep its previous config rather than apply
 * half of a new one.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/hex.h"
#include "mesh/pcfg.h"
#include "pcfg_int.h"

#define PCFG_MAX_FIELDS 40     /* split with 38 versions is far beyond use */
#define PCFG_LINE_MAX   4096

void
pcfg_free(struct pcfg *c)
{
	size_t i;

	for (i = 0; i < c->nservices; i++) {
		free(c->services[i].endpoints);
		free(c->services[i].splits);
	}
	free(c->services);
	free(c->listens);
	free(c->allow);
	memset(c, 0, sizeof(*c));
}

const struct pcfg_service *
pcfg_service_find(const struct pcfg *c, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < c->nservices; i++) {
		const char *n = c->services[i].name;

		if (strlen(n) == len && memcmp(n, name, len) == 0)
			return &c->services[i];
	}
	return NULL;
}

int
pcfg_fail(struct pcfg_parser *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err != NULL && p->errlen > 0)
		snprintf(p->err, p->errlen, "line %u: %s", p->lineno, msg);
	return -1;
}

/* ---- values --------------------------------------------------------------- */

/* Names and versions: [A-Za-z0-9._-], 1..PCFG_NAME_MAX-1 bytes. */
int
pcfg_name(struct pcfg_parser *p, const char *what, const char *s, char *out)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= PCFG_NAME_MAX)
		return pcfg_fail(p, "%s: bad length", what);
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return pcfg_fail(p, "%s: bad character in '%s'", what, s);
	}
	memcpy(out, s, n + 1);
	return 0;
}

int
pcfg_uint(struct pcfg_parser *p, const char *what, const char *s,
    unsigned long lo, unsigned long hi, unsigned long *out)
{
	unsigned long v = 0;
	const char *q;

	if (*s == '\0')
		return pcfg_fail(p, "%s: empty number", what);
	for (q = s; *q != '\0'; q++) {
		if (*q < '0' || *q > '9')
			return pcfg_fail(p, "%s: not a number: '%s'", what, s);
		if (v > (hi - (unsigned long)(*q - '0')) / 10)
			return pcfg_fail(p, "%s: out of range: '%s'", what, s);
		v = v * 10 + (unsigned long)(*q - '0');
	}
	if (v < lo || v > hi)
		return pcfg_fail(p, "%s: out of range: '%s'", what, s);
	*out = v;
	return 0;
}

int
pcfg_port(struct pcfg_parser *p, const char *what, const char *s, uint16_t *out)
{
	unsigned long v;

	if (pcfg_uint(p, what, s, 1, 65535, &v) == -1)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int
pcfg_ipv4(struct pcfg_parser *p, const char *what, const char *s, uint32_t *out)
{
	struct in_addr a;

	/* four decimal parts, no leading zeros, nothing else (as config's
	 * host_address and meshd's registry records are read) */
	if (inet_pton(AF_INET, s, &a) != 1)
		return pcfg_fail(p, "%s: '%s' is not an IPv4 address", what, s);
	*out = ntohl(a.s_addr);
	return 0;
}

uint32_t
pcfg_endpoint_addr(const struct pcfg_endpoint *e)
{
	return e->addr != 0 ? e->addr : UINT32_C(0x7f000001);
}

int
pcfg_endpoint_remote(const struct pcfg *c, const struct pcfg_endpoint *e)
{
	return c->host[0] != '\0' && e->host[0] != '\0' && strcmp(c->host, e->host) != 0;
}

/* in enum pcfg_proto's order */
static const char *const pcfg_proto_names[] = { "http", "tcp", "http2", "grpc" };

int
pcfg_proto(struct pcfg_parser *p, const char *s, enum pcfg_proto *out)
{
	size_t i;

	for (i = 0; i < sizeof(pcfg_proto_names) / sizeof(pcfg_proto_names[0]); i++)
		if (strcmp(s, pcfg_proto_names[i]) == 0) {
			*out = (enum pcfg_proto)i;
			return 0;
		}
	return pcfg_fail(p, "unknown protocol '%s' (http|tcp|http2|grpc)", s);
}

const char *
pcfg_proto_name(enum pcfg_proto p)
{
	return (unsigned)p < sizeof(pcfg_proto_names) / sizeof(pcfg_proto_names[0]) ?
	    pcfg_proto_names[p] : "http";
}

int
pcfg_proto_l7(enum pcfg_proto p)
{
	return p == PCFG_HTTP || p == PCFG_HTTP2 || p == PCFG_GRPC;
}

int
pcfg_proto_h2(enum pcfg_proto p)
{
	return p == PCFG_HTTP2 || p == PCFG_GRPC;
}

int
pcfg_path_escaped(unsigned char ch)
{
	return ch <= 0x20 || ch == 0x7f || ch == '#' || ch == '%';
}

/* The %XX-encoded access_log path: absolute, no NUL, < PCFG_PATH_MAX. */
int
pcfg_path(struct pcfg_parser *p, const char *s, char *out)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '%') {
			int hi = hex_digit(s[1]), lo = hi < 0 ? -1 : hex_digit(s[2]);

			if (hi < 0 || lo < 0)
				return pcfg_fail(p, "access_log: bad %%XX escape in path");
			ch = (unsigned char)(hi << 4 | lo);
			if (ch == '\0')
				return pcfg_fail(p, "access_log: NUL in path");
			s += 2;
		} else if (pcfg_path_escaped(ch))
			return pcfg_fail(p, "access_log: byte 0x%02x in path is not %%XX-encoded", ch);
		if (n + 1 >= PCFG_PATH_MAX)
			return pcfg_fail(p, "access_log: path longer than %d bytes",
			    PCFG_PATH_MAX - 1);
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	if (out[0] != '/')
		return pcfg_fail(p, "access_log: path '%s' is not absolute", out);
	return 0;
}

/* ---- the document ----------------------------------------------------------- */

/* Every listen names a declared service; split weights sum to > 0. */
static int
pcfg_validate(struct pcfg_parser *p)
{
	const struct pcfg *c = p->c;
	size_t i, j;

	for (i = 0; i < c->nlistens; i++)
		if (pcfg_service_find(c, c->listens[i].service,
		    strlen(c->listens[i].service)) == NULL)
			return pcfg_fail(p, "listen %u: no 'service' line for '%s'",
			    c->listens[i].port, c->listens[i].service);
	for (i = 0; i < c->nservices; i++) {
		unsigned sum = 0;

		for (j = 0; j < c->services[i].nsplits; j++)
			sum += c->services[i].splits[j].weight;
		if (c->services[i].nsplits > 0 && sum == 0)
			return pcfg_fail(p, "split of '%s': every weight is 0",
			    c->services[i].name);
	}
	return 0;
}

/* Split a comment-free line into single-space-separated fields; 0 ok. */
static int
pcfg_fields(struct pcfg_parser *p, char *line, char **f, size_t *nf)
{
	char *s;

	for (s = line, *nf = 0;;) {
		char *sp = strchr(s, ' ');

		if (*nf == PCFG_MAX_FIELDS)
			return pcfg_fail(p, "more than %d fields", PCFG_MAX_FIELDS);
		f[(*nf)++] = s;
		if (sp == NULL)
			break;
		*sp = '\0';
		s = sp + 1;
		if (*s == ' ' || *s == '\0')
			return pcfg_fail(p, "fields are separated by single spaces");
	}
	if (f[0][0] == '\0')
		return pcfg_fail(p, "line starts with a space");
	return 0;
}

int
pcfg_parse(const char *text, size_t len, struct pcfg *out, char *err, size_t errlen)
{
	struct pcfg_parser p;
	char line[PCFG_LINE_MAX];
	size_t pos = 0;
	int ended = 0;

	memset(out, 0, sizeof(*out));
	pcfg_limits_default(&out->limits);
	memset(&p, 0, sizeof(p));
	p.c = out;
	p.err = err;
	p.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ll = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		char *f[PCFG_MAX_FIELDS], *hash;
		size_t nf;

		p.lineno++;
		if (ll >= sizeof(line)) {
			pcfg_fail(&p, "line longer than %d bytes", PCFG_LINE_MAX - 1);
			goto fail;
		}
		memcpy(line, text + pos, ll);
		line[ll] = '\0';
		pos += ll + (nl != NULL ? 1 : 0);
		if (memchr(line, '\0', ll) != NULL || strchr(line, '\r') != NULL ||
		    strchr(line, '\t') != NULL) {
			pcfg_fail(&p, "NUL, CR or TAB in line");
			goto fail;
		}
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		/* trailing spaces before a comment are harmless */
		for (ll = strlen(line); ll > 0 && line[ll - 1] == ' '; ll--)
			line[ll - 1] = '\0';
		if (line[0] == '\0')
			continue;
		if (ended) {
			pcfg_fail(&p, "text after 'end'");
			goto fail;
		}
		if (pcfg_fields(&p, line, f, &nf) == -1)
			goto fail;
		if (strcmp(f[0], "end") == 0) {
			if (nf != 1) {
				pcfg_fail(&p, "'end' takes no arguments");
				goto fail;
			}
			if (!p.have_instance) {
				pcfg_fail(&p, "'end' before 'instance'");
				goto fail;
			}
			ended = 1;
			continue;
		}
		if (pcfg_key_line(&p, f, nf) == -1)
			goto fail;
	}
	if (!ended) {
		p.lineno++;
		pcfg_fail(&p, "missing 'end' (truncated document)");
		goto fail;
	}
	if (pcfg_validate(&p) == -1)
		goto fail;
	return 0;
fail:
	pcfg_free(out);
	return -1;
}

int
pcfg_format(const struct pcfg *c, char **out, size_t *len)
{
	FILE *fp;

	*out = NULL;
	*len = 0;
	if ((fp = open_memstream(out, len)) == NULL)
		return -1;
	pcfg_key_format(fp, c);
	fputs("end\n", fp);
	if (ferror(fp)) {
		fclose(fp);
		free(*out);
		*out = NULL;
		return -1;
	}
	fclose(fp);
	return 0;
}
