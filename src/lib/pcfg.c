/* SPDX-License-Identifier: ISC */
/*
 * pcfg: parse and format the sidecar's configuration document (see
 * include/mesh/pcfg.h for the grammar).
 *
 * The parser is strict on purpose: the only producer is meshd's registry
 * (through pcfg_format), so anything unexpected means a bug or a truncated
 * message, and the proxy must keep its previous config rather than apply
 * half of a new one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/pcfg.h"
#include "mesh/spiffe.h"

#define PCFG_MAX_FIELDS 40     /* split with 38 versions is far beyond use */
#define PCFG_LINE_MAX   4096
#define PCFG_ALLOW_LINE 16     /* names per `allow` line pcfg_format writes */

void
pcfg_limits_default(struct pcfg_limits *l)
{
	l->header_bytes = 16384;
	l->headers = 100;
	l->line_bytes = 8192;
	l->header_timeout_ms = 10000;
	l->idle_timeout_ms = 60000;
	l->connections = 1024;
	l->connect_timeout_ms = 1000;
}

static const struct {
	const char *key;
	size_t      off;
} pcfg_limit_keys[] = {
	{ "header_bytes",       offsetof(struct pcfg_limits, header_bytes) },
	{ "headers",            offsetof(struct pcfg_limits, headers) },
	{ "line_bytes",         offsetof(struct pcfg_limits, line_bytes) },
	{ "header_timeout_ms",  offsetof(struct pcfg_limits, header_timeout_ms) },
	{ "idle_timeout_ms",    offsetof(struct pcfg_limits, idle_timeout_ms) },
	{ "connections",        offsetof(struct pcfg_limits, connections) },
	{ "connect_timeout_ms", offsetof(struct pcfg_limits, connect_timeout_ms) },
};
#define PCFG_NLIMITS (sizeof(pcfg_limit_keys) / sizeof(pcfg_limit_keys[0]))

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

/* Parser state for one document. */
struct pcfg_parser {
	struct pcfg *c;
	char        *err;
	size_t       errlen;
	unsigned     lineno;
	int          have_instance, have_inbound, have_outbound, have_td;
	int          have_trace, have_alog;
};

static int
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

/* Names and versions: [A-Za-z0-9._-], 1..PCFG_NAME_MAX-1 bytes. */
static int
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

static int
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

static int
pcfg_port(struct pcfg_parser *p, const char *what, const char *s, uint16_t *out)
{
	unsigned long v;

	if (pcfg_uint(p, what, s, 1, 65535, &v) == -1)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int
pcfg_proto(struct pcfg_parser *p, const char *s, enum pcfg_proto *out)
{
	if (strcmp(s, "http") == 0)
		*out = PCFG_HTTP;
	else if (strcmp(s, "tcp") == 0)
		*out = PCFG_TCP;
	else
		return pcfg_fail(p, "unknown protocol '%s' (http|tcp)", s);
	return 0;
}

/* Grow *arr (of *n elements of size sz) by one zeroed element. */
static void *
pcfg_push(void **arr, size_t *n, size_t sz)
{
	void *na = realloc(*arr, (*n + 1) * sz);

	if (na == NULL)
		return NULL;
	*arr = na;
	memset((char *)na + *n * sz, 0, sz);
	return (char *)na + (*n)++ * sz;
}

static struct pcfg_service *
pcfg_find_mut(struct pcfg *c, const char *name)
{
	return (struct pcfg_service *)(uintptr_t)pcfg_service_find(c, name, strlen(name));
}

/* An access_log path byte that pcfg_format writes as %XX. */
static int
pcfg_path_escaped(unsigned char ch)
{
	return ch <= 0x20 || ch == 0x7f || ch == '#' || ch == '%';
}

static int
pcfg_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The %XX-encoded access_log path: absolute, no NUL, < PCFG_PATH_MAX. */
static int
pcfg_path(struct pcfg_parser *p, const char *s, char *out)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '%') {
			int hi = pcfg_hexval(s[1]), lo = hi < 0 ? -1 : pcfg_hexval(s[2]);

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

#define NEED(n, usage) do { \
	if (nf != (n)) \
		return pcfg_fail(p, "expected '%s'", usage); \
} while (0)

static int
pcfg_line(struct pcfg_parser *p, char **f, size_t nf)
{
	struct pcfg *c = p->c;
	const char *kw = f[0];
	unsigned long v;

	if (!p->have_instance && strcmp(kw, "instance") != 0)
		return pcfg_fail(p, "'%s' before 'instance' (instance must come first)", kw);

	if (strcmp(kw, "instance") == 0) {
		NEED(4, "instance <service> <version> <index>");
		if (p->have_instance)
			return pcfg_fail(p, "duplicate 'instance'");
		if (pcfg_name(p, "service", f[1], c->service) == -1 ||
		    pcfg_name(p, "version", f[2], c->version) == -1 ||
		    pcfg_uint(p, "index", f[3], 0, 65535, &v) == -1)
			return -1;
		c->index = (unsigned)v;
		p->have_instance = 1;
	} else if (strcmp(kw, "limit") == 0) {
		size_t i;

		NEED(3, "limit <key> <value>");
		for (i = 0; i < PCFG_NLIMITS; i++)
			if (strcmp(f[1], pcfg_limit_keys[i].key) == 0)
				break;
		if (i == PCFG_NLIMITS)
			return pcfg_fail(p, "unknown limit '%s'", f[1]);
		if (pcfg_uint(p, f[1], f[2], 1, UINT32_MAX, &v) == -1)
			return -1;
		*(uint32_t *)(void *)((char *)&c->limits + pcfg_limit_keys[i].off) = (uint32_t)v;
	} else if (strcmp(kw, "inbound") == 0) {
		NEED(4, "inbound <port> <proto> <app_port>");
		if (p->have_inbound)
			return pcfg_fail(p, "duplicate 'inbound'");
		if (pcfg_port(p, "inbound port", f[1], &c->inbound_port) == -1 ||
		    pcfg_proto(p, f[2], &c->inbound_proto) == -1 ||
		    pcfg_port(p, "app port", f[3], &c->app_port) == -1)
			return -1;
		p->have_inbound = 1;
	} else if (strcmp(kw, "outbound") == 0) {
		NEED(2, "outbound <port>");
		if (p->have_outbound)
			return pcfg_fail(p, "duplicate 'outbound'");
		if (pcfg_port(p, "outbound port", f[1], &c->outbound_port) == -1)
			return -1;
		p->have_outbound = 1;
	} else if (strcmp(kw, "listen") == 0) {
		struct pcfg_listen *l;

		NEED(3, "listen <port> <service>");
		if ((l = pcfg_push((void **)&c->listens, &c->nlistens, sizeof(*l))) == NULL)
			return pcfg_fail(p, "out of memory");
		if (pcfg_port(p, "listen port", f[1], &l->port) == -1 ||
		    pcfg_name(p, "service", f[2], l->service) == -1)
			return -1;
	} else if (strcmp(kw, "service") == 0) {
		struct pcfg_service *s;

		NEED(3, "service <name> <proto>");
		if (pcfg_find_mut(c, f[1]) != NULL)
			return pcfg_fail(p, "duplicate service '%s'", f[1]);
		if ((s = pcfg_push((void **)&c->services, &c->nservices, sizeof(*s))) == NULL)
			return pcfg_fail(p, "out of memory");
		pcfg_policy_default(&s->policy);
		if (pcfg_name(p, "service", f[1], s->name) == -1 ||
		    pcfg_proto(p, f[2], &s->proto) == -1)
			return -1;
	} else if (strcmp(kw, "endpoint") == 0) {
		struct pcfg_service *s;
		struct pcfg_endpoint *e;

		NEED(6, "endpoint <service> <version> <index> <port> <state>");
		if ((s = pcfg_find_mut(c, f[1])) == NULL)
			return pcfg_fail(p, "endpoint of '%s' before its 'service' line", f[1]);
		if ((e = pcfg_push((void **)&s->endpoints, &s->nendpoints, sizeof(*e))) == NULL)
			return pcfg_fail(p, "out of memory");
		if (pcfg_name(p, "version", f[2], e->version) == -1 ||
		    pcfg_uint(p, "index", f[3], 0, 65535, &v) == -1)
			return -1;
		e->index = (unsigned)v;
		if (pcfg_port(p, "endpoint port", f[4], &e->port) == -1)
			return -1;
		if (strcmp(f[5], "up") == 0)
			e->up = 1;
		else if (strcmp(f[5], "down") == 0)
			e->up = 0;
		else
			return pcfg_fail(p, "endpoint state '%s' (up|down)", f[5]);
	} else if (strcmp(kw, "split") == 0) {
		struct pcfg_service *s;
		size_t i;

		if (nf < 3)
			return pcfg_fail(p, "expected 'split <service> <version>=<weight> ...'");
		if ((s = pcfg_find_mut(c, f[1])) == NULL)
			return pcfg_fail(p, "split of '%s' before its 'service' line", f[1]);
		if (s->nsplits > 0)
			return pcfg_fail(p, "duplicate split for '%s'", f[1]);
		for (i = 2; i < nf; i++) {
			struct pcfg_split *sp;
			char *eq = strchr(f[i], '=');

			if (eq == NULL)
				return pcfg_fail(p, "split weight '%s' is not <version>=<weight>", f[i]);
			*eq = '\0';
			if ((sp = pcfg_push((void **)&s->splits, &s->nsplits, sizeof(*sp))) == NULL)
				return pcfg_fail(p, "out of memory");
			if (pcfg_name(p, "split version", f[i], sp->version) == -1 ||
			    pcfg_uint(p, "split weight", eq + 1, 0, 100, &v) == -1)
				return -1;
			sp->weight = (unsigned)v;
		}
	} else if (strcmp(kw, "policy") == 0) {
		struct pcfg_service *s;
		char why[160];
		size_t i;

		if (nf < 2)
			return pcfg_fail(p, "expected 'policy <service> <key>=<value> ...'");
		if ((s = pcfg_find_mut(c, f[1])) == NULL)
			return pcfg_fail(p, "policy of '%s' before its 'service' line", f[1]);
		if (s->has_policy)
			return pcfg_fail(p, "duplicate policy for '%s'", f[1]);
		s->has_policy = 1;
		for (i = 2; i < nf; i++)
			if (pcfg_policy_set(&s->policy, f[i], why, sizeof(why)) == -1)
				return pcfg_fail(p, "service '%s': %s", f[1], why);
	} else if (strcmp(kw, "trust_domain") == 0) {
		NEED(2, "trust_domain <domain>");
		if (p->have_td)
			return pcfg_fail(p, "duplicate 'trust_domain'");
		if (!spiffe_valid_trust_domain(f[1], strlen(f[1])))
			return pcfg_fail(p, "trust_domain: '%s' is not a SPIFFE trust domain "
			    "(lower case [a-z0-9._-], 1..%d bytes)", f[1], SPIFFE_TD_MAX);
		memcpy(c->trust_domain, f[1], strlen(f[1]) + 1);
		p->have_td = 1;
	} else if (strcmp(kw, "trace") == 0) {
		NEED(2, "trace <permille>");
		if (p->have_trace)
			return pcfg_fail(p, "duplicate 'trace'");
		if (pcfg_uint(p, "trace", f[1], 0, 1000, &v) == -1)
			return -1;
		c->trace_permille = (unsigned)v;
		p->have_trace = 1;
	} else if (strcmp(kw, "access_log") == 0) {
		if (p->have_alog)
			return pcfg_fail(p, "duplicate 'access_log'");
		if (nf == 2 && strcmp(f[1], "json") == 0)
			c->access_log = PCFG_ACCESS_JSON;
		else if (nf == 3 && strcmp(f[1], "file") == 0) {
			if (pcfg_path(p, f[2], c->access_log_path) == -1)
				return -1;
			c->access_log = PCFG_ACCESS_FILE;
		} else
			return pcfg_fail(p, "expected 'access_log json' or 'access_log file <path>'");
		p->have_alog = 1;
	} else if (strcmp(kw, "allow") == 0) {
		size_t i, k;

		if (nf < 2)
			return pcfg_fail(p, "expected 'allow <service> ...'");
		for (i = 1; i < nf; i++) {
			char (*a)[PCFG_NAME_MAX];

			for (k = 0; k < c->nallow; k++)
				if (strcmp(c->allow[k], f[i]) == 0)
					return pcfg_fail(p, "allow: '%s' twice", f[i]);
			if ((a = pcfg_push((void **)&c->allow, &c->nallow, sizeof(*a))) == NULL)
				return pcfg_fail(p, "out of memory");
			if (pcfg_name(p, "allow", f[i], *a) == -1)
				return -1;
		}
	} else
		return pcfg_fail(p, "unknown keyword '%s'", kw);
	return 0;
}

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
		char *f[PCFG_MAX_FIELDS], *s, *hash;
		size_t nf = 0;

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
		for (s = line;;) {
			char *sp = strchr(s, ' ');

			if (nf == PCFG_MAX_FIELDS) {
				pcfg_fail(&p, "more than %d fields", PCFG_MAX_FIELDS);
				goto fail;
			}
			f[nf++] = s;
			if (sp == NULL)
				break;
			*sp = '\0';
			s = sp + 1;
			if (*s == ' ' || *s == '\0') {
				pcfg_fail(&p, "fields are separated by single spaces");
				goto fail;
			}
		}
		if (f[0][0] == '\0') {
			pcfg_fail(&p, "line starts with a space");
			goto fail;
		}
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
		if (pcfg_line(&p, f, nf) == -1)
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

static const char *
pcfg_proto_name(enum pcfg_proto p)
{
	return p == PCFG_TCP ? "tcp" : "http";
}

int
pcfg_format(const struct pcfg *c, char **out, size_t *len)
{
	struct pcfg_limits def;
	FILE *fp;
	size_t i, j;

	pcfg_limits_default(&def);
	*out = NULL;
	*len = 0;
	if ((fp = open_memstream(out, len)) == NULL)
		return -1;
	fprintf(fp, "instance %s %s %u\n", c->service, c->version, c->index);
	for (i = 0; i < PCFG_NLIMITS; i++) {
		uint32_t v = *(const uint32_t *)(const void *)
		    ((const char *)&c->limits + pcfg_limit_keys[i].off);

		fprintf(fp, "limit %s %u\n", pcfg_limit_keys[i].key, v);
	}
	if (c->inbound_port != 0)
		fprintf(fp, "inbound %u %s %u\n", c->inbound_port,
		    pcfg_proto_name(c->inbound_proto), c->app_port);
	if (c->outbound_port != 0)
		fprintf(fp, "outbound %u\n", c->outbound_port);
	if (c->trust_domain[0] != '\0')
		fprintf(fp, "trust_domain %s\n", c->trust_domain);
	/* PCFG_ALLOW_LINE names a line, far below PCFG_MAX_FIELDS */
	for (i = 0; i < c->nallow; i++)
		fprintf(fp, "%s%s%s", i % PCFG_ALLOW_LINE == 0 ? "allow " : " ",
		    c->allow[i], i % PCFG_ALLOW_LINE == PCFG_ALLOW_LINE - 1 ||
		    i + 1 == c->nallow ? "\n" : "");
	if (c->trace_permille != 0)
		fprintf(fp, "trace %u\n", c->trace_permille);
	if (c->access_log == PCFG_ACCESS_JSON)
		fputs("access_log json\n", fp);
	else if (c->access_log == PCFG_ACCESS_FILE) {
		const unsigned char *q = (const unsigned char *)c->access_log_path;

		fputs("access_log file ", fp);
		for (; *q != '\0'; q++)
			if (pcfg_path_escaped(*q))
				fprintf(fp, "%%%02X", *q);
			else
				fputc(*q, fp);
		fputc('\n', fp);
	}
	for (i = 0; i < c->nlistens; i++)
		fprintf(fp, "listen %u %s\n", c->listens[i].port, c->listens[i].service);
	for (i = 0; i < c->nservices; i++) {
		const struct pcfg_service *s = &c->services[i];

		fprintf(fp, "service %s %s\n", s->name, pcfg_proto_name(s->proto));
		for (j = 0; j < s->nendpoints; j++)
			fprintf(fp, "endpoint %s %s %u %u %s\n", s->name,
			    s->endpoints[j].version, s->endpoints[j].index,
			    s->endpoints[j].port, s->endpoints[j].up ? "up" : "down");
		if (s->nsplits > 0) {
			fprintf(fp, "split %s", s->name);
			for (j = 0; j < s->nsplits; j++)
				fprintf(fp, " %s=%u", s->splits[j].version,
				    s->splits[j].weight);
			fputc('\n', fp);
		}
		pcfg_policy_format(fp, s->name, &s->policy);
	}
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
