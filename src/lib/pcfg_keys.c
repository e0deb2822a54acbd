/* SPDX-License-Identifier: ISC */
/*
 * pcfg_keys: the sidecar document's keywords, one row each (grammar in
 * include/mesh/pcfg.h).  A row says where the keyword may appear, how
 * many fields it takes, whether it may appear twice, and how its line is
 * parsed (a handler, or a bounded number stored at a field) and printed.
 * pcfg_key_line checks a line against its row in a fixed order (context,
 * arity, once, the service it names, then the handler), which is what
 * decides which error a line that is wrong twice gets; pcfg_key_format
 * prints every row in the table's order.  The rows that carry addresses
 * and hosts (host, inbound, endpoint) have their handlers in pcfg_addr.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/pcfg.h"
#include "mesh/spiffe.h"
#include "pcfg_int.h"

#define PCFG_ALLOW_LINE 16     /* names per `allow` line pcfg_format writes */

/* The `limit` keys: name, field, default. */
static const struct {
	const char *key;
	size_t      off;
	uint32_t    def;
} pcfg_limit_keys[] = {
	{ "header_bytes",       offsetof(struct pcfg_limits, header_bytes), 16384 },
	{ "headers",            offsetof(struct pcfg_limits, headers), 100 },
	{ "line_bytes",         offsetof(struct pcfg_limits, line_bytes), 8192 },
	{ "header_timeout_ms",  offsetof(struct pcfg_limits, header_timeout_ms), 10000 },
	{ "idle_timeout_ms",    offsetof(struct pcfg_limits, idle_timeout_ms), 60000 },
	{ "connections",        offsetof(struct pcfg_limits, connections), 1024 },
	{ "connect_timeout_ms", offsetof(struct pcfg_limits, connect_timeout_ms), 1000 },
};
#define PCFG_NLIMITS (sizeof(pcfg_limit_keys) / sizeof(pcfg_limit_keys[0]))

static uint32_t *
key_limit(struct pcfg_limits *l, size_t i)
{
	return (uint32_t *)(void *)((char *)l + pcfg_limit_keys[i].off);
}

void
pcfg_limits_default(struct pcfg_limits *l)
{
	size_t i;

	for (i = 0; i < PCFG_NLIMITS; i++)
		*key_limit(l, i) = pcfg_limit_keys[i].def;
}

void *
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
key_service(struct pcfg *c, const char *name)
{
	return (struct pcfg_service *)(uintptr_t)pcfg_service_find(c, name, strlen(name));
}

/*
 * Handlers: f[0] is the keyword and nf is within the row's arity; s is
 * the service f[1] names for KC_SERVICE rows, NULL otherwise.
 */
typedef int key_parse_fn(struct pcfg_parser *p, struct pcfg_service *s, char **f, size_t nf);
/* Printers: the row's lines for c (for KC_SERVICE rows: for service s). */
typedef void key_print_fn(FILE *fp, const struct pcfg *c, const struct pcfg_service *s);

static int
key_instance(struct pcfg_parser *p, struct pcfg_service *s, char **f, size_t nf)
{
	struct pcfg *c = p->c;
	unsigned long v;

	if (pcfg_name(p, "service", f[1], c->service) == -1 ||
	    pcfg_name(p, "version", f[2], c->version) == -1 ||
	    pcfg_uint(p, "index", f[3], 0, 65535, &v) == -1)
		return -1;
	c->index = (unsigned)v;
	return 0;
}

static void
key_instance_print(FILE *fp, const struct pcfg *c, const struct pcfg_service *s)
{
	fprintf(fp, "instance %s %s %u\n", c->service, c->version, c->index);
}

static int
key_limit_set(struct pcfg_parser *p, struct pcfg_service *s, char **f, size_t nf)
{
	unsigned long v;
	size_t i;

	for (i = 0; i < PCFG_NLIMITS; i++)
		if (strcmp(f[1], pcfg_limit_keys[i].key) == 0)
			break;
	if (i == PCFG_NLIMITS)
		return pcfg_fail(p, "unknown limit '%s'", f[1]);
	if (pcfg_uint(p, f[1], f[2], 1, UINT32_MAX, &v) == -1)
		return -1;
	*key_limit(&p->c->limits, i) = (uint32_t)v;
	return 0;
}

static void
key_limit_print(FILE *fp, const struct pcfg *c, const struct pcfg_service *s)
{
	size_t i;

	for (i = 0; i < PCFG_NLIMITS; i++)
		fprintf(fp, "limit %s %u\n", pcfg_limit_keys[i].key,
		    *key_limit((struct pcfg_limits *)(uintptr_t)&c->limits, i));
}

static int
key_trust_domain(struct pcfg_parser *p, struct pcfg_service *s, char **f, size_t nf)
{
	if (!spiffe_valid_trust_domain(f[1], strlen(f[1])))
		return pcfg_fail(p, "trust_domain: '%s' is not a SPIFFE trust domain "
		    "(lower case [a-z0-9._-], 1..%d bytes)", f[1], SPIFFE_TD_MAX);
	memcpy(p->c->trust_domain, f[1], strlen(f[1]) + 1);
	return 0;
}

static void
key_trust_domain_print(FILE *fp, const struct pcfg *c, const struct pcfg_service *s)
{
	if (c->trust_domain[0] != '\0')
		fprintf(fp, "trust_domain %s\n", c->trust_domain);
}

static int
key_allow(struct pcfg_parser *p, struct pcfg_service *s, char **f, size_t nf)
{
	struct pcfg *c = p->c;
	size_t i, k;

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
	return 0;
}

static void
key_allow_print(FILE *fp, const struct pcfg *c, const struct pcfg_service *s)
{
	size_t i;

	/* PCFG_ALLOW_LINE names a line, far below the parser's field cap */
	for (i = 0; i < c->nallow; i++)
		fprintf(fp, "%s%s%s", i % PCFG_ALLOW_LINE == 0 ? "allow " : " ",
		    c->allow[i], i % PCFG_ALLOW_LINE == PCFG_ALLOW_LINE - 1 ||
		    i + 1 == c->nallow ? "\n" : "");
}

/* Two shapes, so it checks its own arity (after `once`, as it always did). */
static int
key_access_log(struct pcfg_parser *p, struct pcfg_service *s, char **f, size_t nf)
{
	struct pcfg *c = p->c;

	if (nf == 2 && strcmp(f[1], "json") == 0)
		c->access_log = PCFG_ACCESS_JSON;
	else if (nf == 3 && strcmp(f[1], "file") == 0) {
		if (pcfg_path(p, f[2], c->access_log_path) == -1)
			return -1;
		c->access_log = PCFG_ACCESS_FILE;
	} else
		return pcfg_fail(p, "expected 'access_log json' or 'access_log file <path>'");
	return 0;
}

static void
key_access_log_print(FILE *fp, const struct pcfg *c, const struct pcfg_service *s)
{
	const unsigned char *q = (const unsigned char *)c->access_log_path;

	if (c->access_log == PCFG_ACCESS_JSON)
		fputs("access_log json\n", fp);
	if (c->access_log != PCFG_ACCESS_FILE)
		return;
	fputs("access_log file ", fp);
	for (; *q != '\0'; q++)
		if (pcfg_path_escaped(*q))
			fprintf(fp, "%%%02X", *q);
		else
			fputc(*q, fp);
	fputc('\n', fp);
}

static int
key_listen(struct pcfg_parser *p, struct pcfg_service *s, char **f, size_t nf)
{
	struct pcfg *c = p->c;
	struct pcfg_listen *l;

	if ((l = pcfg_push((void **)&c->listens, &c->nlistens, sizeof(*l))) == NULL)
		return pcfg_fail(p, "out of memory");
	if (pcfg_port(p, "listen port", f[1], &l->port) == -1 ||
	    pcfg_name(p, "service", f[2], l->service) == -1)
		return -1;
	return 0;
}

static void
key_listen_print(FILE *fp, const struct pcfg *c, const struct pcfg_service *s)
{
	size_t i;

	for (i = 0; i < c->nlistens; i++)
		fprintf(fp, "listen %u %s\n", c->listens[i].port, c->listens[i].service);
}

static int
key_service_decl(struct pcfg_parser *p, struct pcfg_service *unused, char **f, size_t nf)
{
	struct pcfg *c = p->c;
	struct pcfg_service *s;

	if (key_service(c, f[1]) != NULL)
		return pcfg_fail(p, "duplicate service '%s'", f[1]);
	if ((s = pcfg_push((void **)&c->services, &c->nservices, sizeof(*s))) == NULL)
		return pcfg_fail(p, "out of memory");
	pcfg_policy_default(&s->policy);
	if (pcfg_name(p, "service", f[1], s->name) == -1 ||
	    pcfg_proto(p, f[2], &s->proto) == -1)
		return -1;
	return 0;
}

static key_print_fn key_service_rows;   /* below the table: it reads it */

/* Each service line, followed by its own lines (the KC_SERVICE rows). */
static void
key_service_print(FILE *fp, const struct pcfg *c, const struct pcfg_service *unused)
{
	size_t i;

	for (i = 0; i < c->nservices; i++) {
		const struct pcfg_service *s = &c->services[i];

		fprintf(fp, "service %s %s\n", s->name, pcfg_proto_name(s->proto));
		key_service_rows(fp, c, s);
	}
}

static int
key_split(struct pcfg_parser *p, struct pcfg_service *s, char **f, size_t nf)
{
	unsigned long v;
	size_t i;

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
	return 0;
}

static void
key_split_print(FILE *fp, const struct pcfg *c, const struct pcfg_service *s)
{
	size_t j;

	if (s->nsplits == 0)
		return;
	fprintf(fp, "split %s", s->name);
	for (j = 0; j < s->nsplits; j++)
		fprintf(fp, " %s=%u", s->splits[j].version, s->splits[j].weight);
	fputc('\n', fp);
}

static int
key_policy(struct pcfg_parser *p, struct pcfg_service *s, char **f, size_t nf)
{
	char why[160];
	size_t i;

	if (s->has_policy)
		return pcfg_fail(p, "duplicate policy for '%s'", f[1]);
	s->has_policy = 1;
	for (i = 2; i < nf; i++)
		if (pcfg_policy_set(&s->policy, f[i], why, sizeof(why)) == -1)
			return pcfg_fail(p, "service '%s': %s", f[1], why);
	return 0;
}

static void
key_policy_print(FILE *fp, const struct pcfg *c, const struct pcfg_service *s)
{
	pcfg_policy_format(fp, s->name, &s->policy);
}

static int
key_fault(struct pcfg_parser *p, struct pcfg_service *s, char **f, size_t nf)
{
	char why[200];
	size_t i;

	if (s->has_fault)
		return pcfg_fail(p, "duplicate fault for '%s'", f[1]);
	s->has_fault = 1;
	for (i = 2; i < nf; i++)
		if (pcfg_fault_set(&s->fault, f[i], why, sizeof(why)) == -1)
			return pcfg_fail(p, "service '%s': %s", f[1], why);
	return 0;
}

static void
key_fault_print(FILE *fp, const struct pcfg *c, const struct pcfg_service *s)
{
	pcfg_fault_format(fp, s->name, &s->fault);
}

static int
key_mirror(struct pcfg_parser *p, struct pcfg_service *s, char **f, size_t nf)
{
	unsigned long v;

	if (s->mirror.version[0] != '\0')
		return pcfg_fail(p, "duplicate mirror for '%s'", f[1]);
	if (pcfg_uint(p, "mirror permille", f[3], 1, 1000, &v) == -1 ||
	    pcfg_name(p, "mirror version", f[2], s->mirror.version) == -1)
		return -1;
	s->mirror.permille = (uint32_t)v;
	return 0;
}

static void
key_mirror_print(FILE *fp, const struct pcfg *c, const struct pcfg_service *s)
{
	if (s->mirror.version[0] != '\0' && s->mirror.permille != 0)
		fprintf(fp, "mirror %s %s %u\n", s->name, s->mirror.version,
		    (unsigned)s->mirror.permille);
}

/* Where a keyword may appear. */
enum key_ctx {
	KC_FIRST,    /* the first line, and only there (`instance`) */
	KC_DOC,      /* any line after `instance` */
	KC_SERVICE,  /* after the `service` line of the service f[1] names */
};

#define KF_ONCE 0x1  /* at most one line per document: "duplicate '<name>'" */

#define FIELD(f) offsetof(struct pcfg, f), sizeof(((struct pcfg *)0)->f)

struct pcfg_key {
	const char    *name;
	enum key_ctx   ctx;
	unsigned       flags;       /* KF_* */
	uint8_t        nmin, nmax;  /* fields with the keyword; nmax 0: no bound;
	                             * nmin 0: the handler checks */
	const char    *usage;       /* "expected '<usage>'" */
	key_parse_fn  *parse;       /* NULL: a number row */
	/* number rows: f[1] in lo..hi, called `what` in errors, stored in the
	 * field at off (size bytes), printed unless 0 */
	const char    *what;
	unsigned long  lo, hi;
	size_t         off, size;
	key_print_fn  *print;       /* NULL: a number row */
};

/* pcfg_format writes the rows in this order, the KC_SERVICE rows after
 * each `service` line. */
/* clang-format off */
static const struct pcfg_key pcfg_keys[] = {
	{ "instance",     KC_FIRST,   KF_ONCE, 4, 4, "instance <service> <version> <index>",
	  key_instance, NULL, 0, 0, 0, 0, key_instance_print },
	{ "limit",        KC_DOC,     0,       3, 3, "limit <key> <value>",
	  key_limit_set, NULL, 0, 0, 0, 0, key_limit_print },
	{ "host",         KC_DOC,     KF_ONCE, 2, 2, "host <name>",
	  pcfg_key_host, NULL, 0, 0, 0, 0, pcfg_key_host_print },
	{ "inbound",      KC_DOC,     KF_ONCE, 4, 5, "inbound <port> <proto> <app_port> [bind=<IPv4>]",
	  pcfg_key_inbound, NULL, 0, 0, 0, 0, pcfg_key_inbound_print },
	{ "outbound",     KC_DOC,     KF_ONCE, 2, 2, "outbound <port>",
	  NULL, "outbound port", 1, 65535, FIELD(outbound_port), NULL },
	{ "trust_domain", KC_DOC,     KF_ONCE, 2, 2, "trust_domain <domain>",
	  key_trust_domain, NULL, 0, 0, 0, 0, key_trust_domain_print },
	{ "allow",        KC_DOC,     0,       2, 0, "allow <service> ...",
	  key_allow, NULL, 0, 0, 0, 0, key_allow_print },
	{ "trace",        KC_DOC,     KF_ONCE, 2, 2, "trace <permille>",
	  NULL, "trace", 0, 1000, FIELD(trace_permille), NULL },
	{ "access_log",   KC_DOC,     KF_ONCE, 0, 0, NULL,
	  key_access_log, NULL, 0, 0, 0, 0, key_access_log_print },
	{ "listen",       KC_DOC,     0,       3, 3, "listen <port> <service>",
	  key_listen, NULL, 0, 0, 0, 0, key_listen_print },
	{ "service",      KC_DOC,     0,       3, 3, "service <name> <proto>",
	  key_service_decl, NULL, 0, 0, 0, 0, key_service_print },
	{ "endpoint",     KC_SERVICE, 0,       6, 7,
	  "endpoint <service> <version> <index> [<IPv4>:]<port> <state> [host=<name>]",
	  pcfg_key_endpoint, NULL, 0, 0, 0, 0, pcfg_key_endpoint_print },
	{ "split",        KC_SERVICE, 0,       3, 0, "split <service> <version>=<weight> ...",
	  key_split, NULL, 0, 0, 0, 0, key_split_print },
	{ "policy",       KC_SERVICE, 0,       2, 0, "policy <service> <key>=<value> ...",
	  key_policy, NULL, 0, 0, 0, 0, key_policy_print },
	{ "fault",        KC_SERVICE, 0,       2, 0, "fault <service> <key>=<value> ...",
	  key_fault, NULL, 0, 0, 0, 0, key_fault_print },
	{ "mirror",       KC_SERVICE, 0,       4, 4, "mirror <service> <version> <permille>",
	  key_mirror, NULL, 0, 0, 0, 0, key_mirror_print },
};
/* clang-format on */

#define PCFG_NKEYS (sizeof(pcfg_keys) / sizeof(pcfg_keys[0]))
_Static_assert(PCFG_NKEYS <= 32, "pcfg_parser.once has a bit per row");

/* A numeric row's value: uint16_t or unsigned at k->off. */
static int
key_number(struct pcfg_parser *p, const struct pcfg_key *k, const char *s)
{
	char *field = (char *)p->c + k->off;
	unsigned long v;

	if (pcfg_uint(p, k->what, s, k->lo, k->hi, &v) == -1)
		return -1;
	if (k->size == sizeof(uint16_t))
		*(uint16_t *)(void *)field = (uint16_t)v;
	else
		*(unsigned *)(void *)field = (unsigned)v;
	return 0;
}

static void
key_number_print(FILE *fp, const struct pcfg_key *k, const struct pcfg *c)
{
	const char *field = (const char *)c + k->off;
	unsigned v = k->size == sizeof(uint16_t) ? *(const uint16_t *)(const void *)field :
	    *(const unsigned *)(const void *)field;

	if (v != 0)
		fprintf(fp, "%s %u\n", k->name, v);
}

int
pcfg_key_line(struct pcfg_parser *p, char **f, size_t nf)
{
	const struct pcfg_key *k;
	struct pcfg_service *s = NULL;
	uint32_t bit;

	for (k = pcfg_keys; k < pcfg_keys + PCFG_NKEYS; k++)
		if (strcmp(f[0], k->name) == 0)
			break;
	if (k == pcfg_keys + PCFG_NKEYS)
		k = NULL;
	if (!p->have_instance && (k == NULL || k->ctx != KC_FIRST))
		return pcfg_fail(p, "'%s' before 'instance' (instance must come first)", f[0]);
	if (k == NULL)
		return pcfg_fail(p, "unknown keyword '%s'", f[0]);
	bit = UINT32_C(1) << (k - pcfg_keys);
	if (k->nmin != 0 && (nf < k->nmin || (k->nmax != 0 && nf > k->nmax)))
		return pcfg_fail(p, "expected '%s'", k->usage);
	if ((k->flags & KF_ONCE) && (p->once & bit))
		return pcfg_fail(p, "duplicate '%s'", k->name);
	if (k->ctx == KC_SERVICE && (s = key_service(p->c, f[1])) == NULL)
		return pcfg_fail(p, "%s of '%s' before its 'service' line", k->name, f[1]);
	if (k->parse != NULL ? k->parse(p, s, f, nf) == -1 : key_number(p, k, f[1]) == -1)
		return -1;
	p->once |= bit;
	if (k->ctx == KC_FIRST)
		p->have_instance = 1;
	return 0;
}

static void
key_print(FILE *fp, const struct pcfg_key *k, const struct pcfg *c,
    const struct pcfg_service *s)
{
	if (k->print != NULL)
		k->print(fp, c, s);
	else
		key_number_print(fp, k, c);
}

static void
key_service_rows(FILE *fp, const struct pcfg *c, const struct pcfg_service *s)
{
	const struct pcfg_key *k;

	for (k = pcfg_keys; k < pcfg_keys + PCFG_NKEYS; k++)
		if (k->ctx == KC_SERVICE)
			key_print(fp, k, c, s);
}

void
pcfg_key_format(FILE *fp, const struct pcfg *c)
{
	const struct pcfg_key *k;

	for (k = pcfg_keys; k < pcfg_keys + PCFG_NKEYS; k++)
		if (k->ctx != KC_SERVICE)   /* those come with their service */
			key_print(fp, k, c, NULL);
}
