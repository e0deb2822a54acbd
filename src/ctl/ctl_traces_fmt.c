/* SPDX-License-Identifier: ISC */
/*
 * ctl_traces_fmt: spans gathered from the rings -> traces -> trees ->
 * text or JSON (ctl.h; the JSON schema is in man/meshctl.1, TRACES).
 *
 * Spans are sorted by (trace id, start, span id): a trace is then one
 * run of the array, and exact duplicates (a span read both from a ring
 * and from a slowest table) sit side by side.  Each trace's tree is built
 * on its own, parents found by binary search in an index sorted by span
 * id, so a trace of any size costs n log n.  Every span has at most one
 * parent, so it is pushed on the walk's stack at most once: a span naming
 * itself, or a cycle of spans, can neither loop nor be lost.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh/ctl.h"
#include "mesh/json_esc.h"
#include "mesh/otlp_json.h"
#include "mesh/stats.h"
#include "mesh/trace.h"

#define CTL_TRACES_INDENT_MAX 24u   /* deeper spans print at this indent */

/* A trace: spans[first .. first + n) of the sorted array. */
struct ctl_trace {
	size_t   first, n;
	uint64_t start_ns, end_ns;
	uint64_t longest_us;      /* the longest span: --slow's order */
};

static int
ctl_traces_cmp_byid(const void *a, const void *b, void *arg)
{
	const struct stats_span_rec *s = arg;

	return memcmp(s[*(const size_t *)a].span_id, s[*(const size_t *)b].span_id,
	    sizeof(s->span_id));
}

/* The index of the span with this span id, or n. */
static size_t
ctl_traces_find(const struct stats_span_rec *s, const size_t *byid, size_t n,
    const uint8_t *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(s[byid[mid]].span_id, id, sizeof(s->span_id)) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && memcmp(s[byid[lo]].span_id, id, sizeof(s->span_id)) == 0)
		return byid[lo];
	return n;
}

struct ctl_traces_walk {
	const struct stats_span_rec *s;
	const size_t *off, *child;    /* children of p: child[off[p] .. off[p + 1]) */
	char         *seen;
	size_t       *stack;          /* span index */
	long         *from;           /* node index of its parent, -1 none */
	struct ctl_traces_node *out;
	size_t        k;
};

/* Pre-order from root r; children in start order (pushed in reverse). */
static void
ctl_traces_walk(struct ctl_traces_walk *w, size_t r, int orphan)
{
	size_t top = 0, i;

	w->stack[top] = r;
	w->from[top++] = -1;
	w->seen[r] = 1;
	while (top > 0) {
		size_t s = w->stack[--top];
		long p = w->from[top];
		struct ctl_traces_node *o = &w->out[w->k];

		o->span = &w->s[s];
		o->parent = (int)p;
		o->depth = p == -1 ? 0 : w->out[p].depth + 1;
		o->orphan = p == -1 ? orphan : 0;
		for (i = w->off[s + 1]; i-- > w->off[s];) {
			if (w->seen[w->child[i]])
				continue;
			w->seen[w->child[i]] = 1;
			w->stack[top] = w->child[i];
			w->from[top++] = (long)w->k;
		}
		w->k++;
	}
}

long
ctl_traces_tree(const struct stats_span_rec *spans, size_t n, struct ctl_traces_node *out)
{
	struct ctl_traces_walk w = { .s = spans, .out = out };
	size_t *byid, *parent, *off, *child, i;
	long rc = -1;

	if (n == 0)
		return 0;
	byid = calloc(n, sizeof(*byid));
	parent = calloc(n, sizeof(*parent));
	off = calloc(n + 2, sizeof(*off));
	child = calloc(n, sizeof(*child));
	w.stack = calloc(n, sizeof(*w.stack));
	w.from = calloc(n, sizeof(*w.from));
	w.seen = calloc(n, 1);
	if (byid == NULL || parent == NULL || off == NULL || child == NULL ||
	    w.stack == NULL || w.from == NULL || w.seen == NULL)
		goto out;
	for (i = 0; i < n; i++)
		byid[i] = i;
	qsort_r(byid, n, sizeof(*byid), ctl_traces_cmp_byid, (void *)(uintptr_t)spans);
	/* parent[i]: the index of i's parent, n when it has none here */
	for (i = 0; i < n; i++) {
		const struct stats_span_rec *s = &spans[i];

		parent[i] = n;
		if (!trace_id_zero(s->parent_id, sizeof(s->parent_id)) &&
		    memcmp(s->parent_id, s->span_id, sizeof(s->span_id)) != 0)
			parent[i] = ctl_traces_find(spans, byid, n, s->parent_id);
	}
	/* children lists, each in array order, which is start order */
	for (i = 0; i < n; i++)
		if (parent[i] != n)
			off[parent[i] + 2]++;
	for (i = 2; i < n + 2; i++)
		off[i] += off[i - 1];
	for (i = 0; i < n; i++)
		if (parent[i] != n)
			child[off[parent[i] + 1]++] = i;
	w.off = off;
	w.child = child;
	/* roots and orphans in start order, then what only a cycle reaches */
	for (i = 0; i < n; i++)
		if (parent[i] == n && !w.seen[i])
			ctl_traces_walk(&w, i, !trace_id_zero(spans[i].parent_id,
			    sizeof(spans[i].parent_id)));
	for (i = 0; i < n; i++)
		if (!w.seen[i])
			ctl_traces_walk(&w, i, 1);
	rc = (long)w.k;
out:
	free(byid);
	free(parent);
	free(off);
	free(child);
	free(w.stack);
	free(w.from);
	free(w.seen);
	return rc;
}

/* ---- traces: grouping and order ----------------------------------------- */

static int
ctl_traces_cmp_span(const void *a, const void *b)
{
	const struct stats_span_rec *x = a, *y = b;
	int c = memcmp(x->trace_id, y->trace_id, sizeof(x->trace_id));

	if (c != 0)
		return c;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return memcmp(x->span_id, y->span_id, sizeof(x->span_id));
}

static int
ctl_traces_cmp_recent(const void *a, const void *b)
{
	const struct ctl_trace *x = a, *y = b;

	if (x->end_ns != y->end_ns)
		return x->end_ns > y->end_ns ? -1 : 1;
	return x->first < y->first ? -1 : 1;
}

static int
ctl_traces_cmp_slow(const void *a, const void *b)
{
	const struct ctl_trace *x = a, *y = b;

	if (x->longest_us != y->longest_us)
		return x->longest_us > y->longest_us ? -1 : 1;
	return ctl_traces_cmp_recent(a, b);
}

static int
ctl_traces_has(const struct stats_span_rec *s, size_t n, const char *service)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strncmp(s[i].service, service, sizeof(s[i].service)) == 0)
			return 1;
	return 0;
}

/* Sort, drop duplicates, cut into traces; *nt traces, malloc'd. */
static struct ctl_trace *
ctl_traces_group(struct stats_span_rec *s, size_t *n, size_t *nt)
{
	struct ctl_trace *t;
	size_t i, k = 0;

	*nt = 0;
	qsort(s, *n, sizeof(*s), ctl_traces_cmp_span);
	for (i = 0; i < *n; i++) {
		if (k > 0 && memcmp(s[k - 1].trace_id, s[i].trace_id, sizeof(s->trace_id)) == 0 &&
		    memcmp(s[k - 1].span_id, s[i].span_id, sizeof(s->span_id)) == 0 &&
		    s[k - 1].start_ns == s[i].start_ns)
			continue;
		if (k != i)
			s[k] = s[i];
		k++;
	}
	*n = k;
	if ((t = calloc(k > 0 ? k : 1, sizeof(*t))) == NULL)
		return NULL;
	for (i = 0; i < k; i++) {
		struct ctl_trace *c = &t[*nt - (*nt > 0 ? 1 : 0)];
		uint64_t end = s[i].start_ns + s[i].duration_us * 1000u;

		if (*nt == 0 || memcmp(s[c->first].trace_id, s[i].trace_id, sizeof(s->trace_id)) != 0) {
			c = &t[(*nt)++];
			c->first = i;
			c->start_ns = s[i].start_ns;   /* sorted: the earliest */
		}
		c->n++;
		if (end > c->end_ns)
			c->end_ns = end;
		if (s[i].duration_us > c->longest_us)
			c->longest_us = s[i].duration_us;
	}
	return t;
}

/* ---- output ------------------------------------------------------------- */

/* A record's text field, printable: control bytes become '?'. */
static void
ctl_traces_text(FILE *out, const char *s, size_t max)
{
	size_t i, n = strnlen(s, max);

	for (i = 0; i < n; i++)
		fputc((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i], out);
}

static void
ctl_traces_when(char *buf, size_t size, uint64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;

	if (gmtime_r(&sec, &tm) == NULL || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "?");
	else
		snprintf(buf + strlen(buf), size - strlen(buf), ".%03u UTC",
		    (unsigned)(ns / 1000000u % 1000u));
}

static void
ctl_traces_print_node(FILE *out, const struct ctl_traces_node *nd)
{
	const struct stats_span_rec *s = nd->span;
	unsigned d = nd->depth < CTL_TRACES_INDENT_MAX ? nd->depth : CTL_TRACES_INDENT_MAX;
	char flags[32], pid[2 * 8 + 1];
	int client = s->kind == STATS_SPAN_CLIENT;

	fprintf(out, "%*s", (int)(2 + 2 * d), "");
	if (s->instance[0] != '\0')
		ctl_traces_text(out, s->instance, sizeof(s->instance));
	else {
		ctl_traces_text(out, s->service, sizeof(s->service));
		fputc('@', out);
		ctl_traces_text(out, s->version, sizeof(s->version));
	}
	fprintf(out, "  %s  ", client ? "client" : "server");
	ctl_traces_text(out, s->method, sizeof(s->method));
	fputc(' ', out);
	ctl_traces_text(out, s->path, sizeof(s->path));
	fprintf(out, "  %s ", client ? "->" : "<-");
	if (s->peer[0] != '\0')
		ctl_traces_text(out, s->peer, sizeof(s->peer));
	else if (client && s->authority[0] != '\0')
		ctl_traces_text(out, s->authority, sizeof(s->authority));  /* no such service */
	else
		fputc('?', out);
	if (s->upstream[0] != '\0') {
		fputc('(', out);
		ctl_traces_text(out, s->upstream, sizeof(s->upstream));
		fputc(')', out);
	}
	if (s->status != 0)
		fprintf(out, "  %s%u%s", s->status >= 500 ? ctl_term_esc(out, CTL_RED) : "",
		    s->status, s->status >= 500 ? ctl_term_esc(out, CTL_RESET) : "");
	else
		fprintf(out, "  ---");
	if (s->flags & STATS_SF_GRPC)
		fprintf(out, "  grpc=%u", s->grpc_status);
	fprintf(out, "  %" PRIu64 ".%03u ms", s->duration_us / 1000u,
	    (unsigned)(s->duration_us % 1000u));
	if (s->retries != 0)
		fprintf(out, "  retries=%u", s->retries);
	otlp_json_flags(flags, sizeof(flags), s->flags);
	if (flags[0] != '\0')
		fprintf(out, "  flags=%s", flags);
	if (nd->orphan) {
		trace_hex(pid, s->parent_id, sizeof(s->parent_id));
		fprintf(out, "  (parent %s not in the rings)", pid);
	}
	fputc('\n', out);
}

static void
ctl_traces_print(FILE *out, const struct stats_span_rec *s, const struct ctl_trace *t,
    const struct ctl_traces_node *nodes, size_t nn)
{
	char tid[2 * 16 + 1], when[64];
	uint64_t us = (t->end_ns - t->start_ns) / 1000u;
	size_t i;

	trace_hex(tid, s[t->first].trace_id, sizeof(s->trace_id));
	ctl_traces_when(when, sizeof(when), t->start_ns);
	fprintf(out, "%strace %s%s  %s  %" PRIu64 ".%03u ms  %zu span%s\n",
	    ctl_term_esc(out, CTL_BOLD), tid, ctl_term_esc(out, CTL_RESET), when,
	    us / 1000u, (unsigned)(us % 1000u), t->n, t->n == 1 ? "" : "s");
	for (i = 0; i < nn; i++)
		ctl_traces_print_node(out, &nodes[i]);
}

static void
ctl_traces_jstr(FILE *out, const char *key, const char *s, size_t max)
{
	char tmp[6 * 256 + 3];

	fprintf(out, ",\"%s\":", key);
	fwrite(tmp, 1, json_esc(tmp, sizeof(tmp), s, strnlen(s, max), NULL), out);
}

static void
ctl_traces_json_node(FILE *out, const struct ctl_traces_node *nd, int first)
{
	static const struct { uint32_t bit; const char *name; } fl[] = {
		{ STATS_SF_UH, "UH" }, { STATS_SF_UF, "UF" }, { STATS_SF_UO, "UO" },
		{ STATS_SF_UT, "UT" }, { STATS_SF_NR, "NR" }, { STATS_SF_UR, "UR" },
		{ STATS_SF_FI, "FI" }, { STATS_SF_DI, "DI" },
	};
	const struct stats_span_rec *s = nd->span;
	char id[2 * 8 + 1];
	size_t i;
	int any = 0;

	trace_hex(id, s->span_id, sizeof(s->span_id));
	fprintf(out, "%s{\"span_id\":\"%s\"", first ? "" : ",", id);
	if (trace_id_zero(s->parent_id, sizeof(s->parent_id)))
		fputs(",\"parent_id\":null", out);
	else {
		trace_hex(id, s->parent_id, sizeof(s->parent_id));
		fprintf(out, ",\"parent_id\":\"%s\"", id);
	}
	fprintf(out, ",\"depth\":%u,\"orphan\":%s", nd->depth, nd->orphan ? "true" : "false");
	ctl_traces_jstr(out, "service", s->service, sizeof(s->service));
	ctl_traces_jstr(out, "version", s->version, sizeof(s->version));
	ctl_traces_jstr(out, "instance", s->instance, sizeof(s->instance));
	fprintf(out, ",\"kind\":\"%s\"", s->kind == STATS_SPAN_CLIENT ? "client" : "server");
	ctl_traces_jstr(out, "method", s->method, sizeof(s->method));
	ctl_traces_jstr(out, "authority", s->authority, sizeof(s->authority));
	ctl_traces_jstr(out, "path", s->path, sizeof(s->path));
	ctl_traces_jstr(out, "peer", s->peer, sizeof(s->peer));
	ctl_traces_jstr(out, "upstream", s->upstream, sizeof(s->upstream));
	fprintf(out, ",\"status\":%u,\"start_ns\":%" PRIu64 ",\"duration_us\":%" PRIu64
	    ",\"retries\":%u,\"flags\":[", s->status, s->start_ns, s->duration_us, s->retries);
	for (i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
		if (s->flags & fl[i].bit) {
			fprintf(out, "%s\"%s\"", any ? "," : "", fl[i].name);
			any = 1;
		}
	fprintf(out, "],\"sampled\":%s", s->flags & STATS_SF_SAMPLED ? "true" : "false");
	if (s->flags & STATS_SF_GRPC)
		fprintf(out, ",\"grpc_status\":%u}", s->grpc_status);
	else
		fputs(",\"grpc_status\":null}", out);
}

static void
ctl_traces_json(FILE *out, const struct stats_span_rec *s, const struct ctl_trace *t,
    const struct ctl_traces_node *nodes, size_t nn, int first)
{
	char tid[2 * 16 + 1];
	size_t i, roots = 0;

	for (i = 0; i < nn; i++)
		roots += nodes[i].depth == 0;
	trace_hex(tid, s[t->first].trace_id, sizeof(s->trace_id));
	fprintf(out, "%s{\"trace_id\":\"%s\",\"start_ns\":%" PRIu64 ",\"duration_us\":%" PRIu64
	    ",\"roots\":%zu,\"spans\":[", first ? "" : ",", tid, t->start_ns,
	    (t->end_ns - t->start_ns) / 1000u, roots);
	for (i = 0; i < nn; i++)
		ctl_traces_json_node(out, &nodes[i], i == 0);
	fputs("]}", out);
}

void
ctl_traces_json_head(FILE *out, const struct ctl_traces_query *q, int running)
{
	char name[6 * CONF_NAME_MAX + 3];

	json_esc(name, sizeof(name), q->mesh != NULL ? q->mesh : "",
	    strnlen(q->mesh != NULL ? q->mesh : "", CONF_NAME_MAX), NULL);
	fprintf(out, "{\"mesh\":%s,\"running\":%s,\"order\":\"%s\",\"traces\":[", name,
	    running ? "true" : "false", q->slow ? "slowest" : "recent");
}

long
ctl_traces_report(FILE *out, struct stats_span_rec *spans, size_t n,
    const struct ctl_traces_query *q)
{
	struct ctl_traces_node *nodes = NULL;
	struct ctl_trace *t;
	size_t nt, i, k = 0, shown = 0;
	long nn;

	if ((t = ctl_traces_group(spans, &n, &nt)) == NULL)
		return -1;
	for (i = 0; i < nt; i++)
		if (q->service == NULL || ctl_traces_has(spans + t[i].first, t[i].n, q->service))
			t[k++] = t[i];
	nt = k;
	qsort(t, nt, sizeof(*t), q->slow ? ctl_traces_cmp_slow : ctl_traces_cmp_recent);
	if (q->json)
		ctl_traces_json_head(out, q, 1);
	for (i = 0; i < nt && shown < q->count; i++, shown++) {
		if ((nodes = calloc(t[i].n, sizeof(*nodes))) == NULL ||
		    (nn = ctl_traces_tree(spans + t[i].first, t[i].n, nodes)) < 0) {
			free(nodes);
			free(t);
			return -1;
		}
		if (q->json)
			ctl_traces_json(out, spans, &t[i], nodes, (size_t)nn, shown == 0);
		else
			ctl_traces_print(out, spans, &t[i], nodes, (size_t)nn);
		free(nodes);
	}
	if (q->json)
		fputs("]}\n", out);
	free(t);
	return (long)shown;
}
