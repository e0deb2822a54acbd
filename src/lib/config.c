/* SPDX-License-Identifier: ISC */
/*
 * config: load mesh.ini.  This file holds the reader we put in front of
 * inih, the section headers, and config_load()/config_free().
 *
 * Why a reader of our own (Debian's libinih 55):
 *  - inih's handler gets no line number; our reader counts physical lines
 *    and inih calls the handler synchronously before asking for the next
 *    line, so ctx->lineno is the handler's line.
 *  - inih truncates a line longer than ini_max_line (200 in Debian's build)
 *    and parses the rest as a new line.  Debian builds ini_max_line as a
 *    run-time variable sizing a stack buffer, so we raise it to
 *    CONF_LINE_MAX + 3 for the parse; the reader still never returns more
 *    than the `num` inih passes, and a line over CONF_LINE_MAX is an error.
 *  - inih reports a line without '=' or an unterminated "[section" only as
 *    the first error's line number, and never tells the handler about a
 *    section without keys; so section lines and malformed lines are handled
 *    here and inih sees only "key = value" lines (anything else becomes an
 *    empty line, which keeps the line counts of both in step).
 *  - inih treats an indented line as the continuation of the previous
 *    value (Python style); we strip leading blanks first so indentation
 *    never changes meaning and values are single-line.
 *  - Section names are kept here, not in inih's 50-byte section buffer.
 * inih still splits "key = value", strips blanks and the inline comment
 * (" ;" or "\t;": a ';' after a blank; "a;b" keeps its ';').
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "mesh/config.h"
#include "config_int.h"

/*
 * Messages are kept and printed sorted by line at the end of the load, so
 * a cross-check found after parsing still reads in file order.
 */
void
config_error(struct conf_ctx *ctx, int line, const char *fmt, ...)
{
	struct conf_msg *n;
	va_list ap;
	char *text;
	int rc;

	ctx->nerr++;
	va_start(ap, fmt);
	rc = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (rc == -1 || (n = realloc(ctx->msgs, (ctx->nmsgs + 1) * sizeof(*n))) == NULL) {
		if (rc != -1)
			free(text);
		fprintf(ctx->errs, "%s:%d: out of memory\n", ctx->path, line);
		return;
	}
	ctx->msgs = n;
	n[ctx->nmsgs].line = line;
	n[ctx->nmsgs].seq = ctx->nmsgs;
	n[ctx->nmsgs].text = text;
	ctx->nmsgs++;
}

/*
 * A cross-check run outside a load (faults.c, mirrors.c): the first
 * message (or dflt) into why and every message freed.  0 when no error
 * was counted, else -1.
 */
int
config_error_take(struct conf_ctx *ctx, char *why, size_t whylen, const char *dflt)
{
	size_t i;

	if (ctx->nerr > 0)
		snprintf(why, whylen, "%s", ctx->nmsgs > 0 ? ctx->msgs[0].text : dflt);
	for (i = 0; i < ctx->nmsgs; i++)
		free(ctx->msgs[i].text);
	free(ctx->msgs);
	ctx->msgs = NULL;
	ctx->nmsgs = 0;
	return ctx->nerr > 0 ? -1 : 0;
}

static int
conf_msg_cmp(const void *a, const void *b)
{
	const struct conf_msg *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
conf_flush_errors(struct conf_ctx *ctx)
{
	size_t i;

	if (ctx->nmsgs == 0)
		return;
	qsort(ctx->msgs, ctx->nmsgs, sizeof(*ctx->msgs), conf_msg_cmp);
	for (i = 0; i < ctx->nmsgs; i++) {
		if (ctx->msgs[i].line > 0)
			fprintf(ctx->errs, "%s:%d: %s\n", ctx->path, ctx->msgs[i].line,
			    ctx->msgs[i].text);
		else
			fprintf(ctx->errs, "%s: %s\n", ctx->path, ctx->msgs[i].text);
		free(ctx->msgs[i].text);
	}
	free(ctx->msgs);
	ctx->msgs = NULL;
	ctx->nmsgs = 0;
}

/* ---- the reader in front of inih --------------------------------------- */

static int
conf_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* inih's rule: a ';' starts a comment only after a blank. */
static char *
conf_comment(char *s)
{
	char *p;

	for (p = s; *p != '\0'; p++)
		if (*p == ';' && p > s && conf_blank(p[-1]))
			return p;
	return p;
}

/*
 * Read one physical line into ctx->line.  Returns its length, -1 at EOF,
 * -2 when it is over CONF_LINE_MAX (the rest is consumed), -3 when it holds
 * a NUL byte (which would cut it short in inih).
 */
static int
conf_getline(struct conf_ctx *ctx)
{
	size_t n = 0;
	int c, nul = 0, over = 0;

	while ((c = getc(ctx->fp)) != EOF) {
		if (c == '\n')
			break;
		if (c == '\0')
			nul = 1;
		if (n < CONF_LINE_MAX)
			ctx->line[n++] = (char)c;
		else
			over = 1;
	}
	if (c == EOF && n == 0 && !over && !nul)
		return -1;
	ctx->line[n] = '\0';
	if (over)
		return -2;
	return nul ? -3 : (int)n;
}

/* A "[name]" line: trailing blanks and a comment may follow the ']'. */
static void
conf_header(struct conf_ctx *ctx, char *s)
{
	char *end = strchr(s, ']');
	char *rest;

	if (end == NULL) {
		config_error(ctx, ctx->lineno, "section header '%s' has no ']'", s);
		/* the keys that follow belong to no section we know: skip them */
		ctx->in_section = 1;
		ctx->kind = CONF_KIND_NONE;
		ctx->obj = NULL;
		return;
	}
	*end = '\0';
	rest = end + 1;
	while (conf_blank(*rest))
		rest++;
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		config_error(ctx, ctx->lineno, "[%s]: unexpected '%s' after ']'",
		    s + 1, rest);
		ctx->in_section = 1;
		ctx->kind = CONF_KIND_NONE;
		ctx->obj = NULL;
		return;
	}
	s++;
	while (conf_blank(*s))
		s++;
	for (end = s + strlen(s); end > s && conf_blank(end[-1]); end--)
		end[-1] = '\0';
	config_section(ctx, s);
}

static char *
conf_reader(char *buf, int num, void *stream)
{
	struct conf_ctx *ctx = stream;
	char *s, *sep;
	size_t len;
	int n;

	if (num < 2)
		return NULL;
	n = conf_getline(ctx);
	if (n == -1)
		return NULL;
	ctx->lineno++;
	buf[0] = '\n';
	buf[1] = '\0';
	if (n == -2) {
		config_error(ctx, ctx->lineno, "line longer than %d bytes",
		    CONF_LINE_MAX);
		return buf;
	}
	if (n == -3) {
		config_error(ctx, ctx->lineno, "NUL byte in line");
		return buf;
	}
	s = ctx->line;
	if (ctx->lineno == 1 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (conf_blank(*s))
		s++;
	if (*s == '\0' || *s == ';' || *s == '#')
		return buf;
	if (*s == '[') {
		conf_header(ctx, s);
		return buf;
	}
	sep = s + strcspn(s, "=:");
	if (*sep == '\0' || sep > conf_comment(s)) {
		config_error(ctx, ctx->lineno, "expected 'key = value' or "
		    "'[section]', not '%s'", s);
		return buf;
	}
	len = strlen(s);
	if (len + 2 > (size_t)num) {
		/* only if ini_max_line could not be raised: say so, never cut */
		config_error(ctx, ctx->lineno, "line longer than %d bytes (the "
		    "INI parser's limit)", num - 2);
		return buf;
	}
	memcpy(buf, s, len);
	buf[len] = '\n';
	buf[len + 1] = '\0';
	return buf;
}

static int
conf_handler(void *user, const char *section, const char *name,
             const char *value)
{
	struct conf_ctx *ctx = user;
	char expanded[CONF_VALUE_MAX];

	(void)section;  /* ours, in ctx: inih's is cut at 50 bytes */
	if (ctx->kind == CONF_KIND_NONE) {
		if (!ctx->in_section)
			config_error(ctx, ctx->lineno, "%s = %s: key outside any "
			    "section", name, value);
		return 1;
	}
	if (name[0] == '\0') {
		config_error(ctx, ctx->lineno, "[%s]: a key name is missing before "
		    "'= %s'", ctx->section, value);
		return 1;
	}
	if (config_expand(ctx, name, value, expanded, sizeof(expanded)) == -1)
		return 1;
	config_table_apply(ctx, name, expanded, value);
	return 1;   /* errors are ours to count; inih should read on */
}

/* ---- load / free --------------------------------------------------------- */

/* The absolute directory of path; NULL (reported) if it cannot be had. */
static char *
conf_dir(struct conf_ctx *ctx, const char *path)
{
	char *copy, *slash, *dir;

	copy = strdup(path);
	if (copy == NULL)
		return NULL;
	slash = strrchr(copy, '/');
	if (slash == copy)
		copy[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		strcpy(copy, ".");
	dir = realpath(copy, NULL);
	if (dir == NULL)
		config_error(ctx, 0, "cannot resolve directory %s: %s", copy,
		    strerror(errno));
	free(copy);
	return dir;
}

/* Make a path given in the file absolute, relative to the file's dir. */
static int
conf_abspath(struct conf_ctx *ctx, char **p)
{
	char *abs;

	if (*p == NULL || (*p)[0] == '/')
		return 0;
	if (asprintf(&abs, "%s/%s", ctx->cfg->dir,
	    strncmp(*p, "./", 2) == 0 ? *p + 2 : *p) == -1) {
		config_error(ctx, 0, "out of memory");
		return -1;
	}
	free(*p);
	*p = abs;
	return 0;
}

static void
conf_default_name(struct mesh_config *cfg)
{
	const char *base = strrchr(cfg->path, '/');
	size_t len;

	base = base != NULL ? base + 1 : cfg->path;
	len = strlen(base);
	if (len > 4 && strcmp(base + len - 4, ".ini") == 0)
		len -= 4;
	if (len >= sizeof(cfg->mesh.name))
		len = sizeof(cfg->mesh.name) - 1;
	memcpy(cfg->mesh.name, base, len);
	cfg->mesh.name[len] = '\0';
}

int
config_load(const char *path, struct mesh_config *cfg, FILE *errs)
{
	struct conf_ctx ctx;
	int saved_max = ini_max_line, rc;

	memset(cfg, 0, sizeof(*cfg));
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.path = path;
	ctx.errs = errs;

	cfg->path = strdup(path);
	if (cfg->path == NULL) {
		fprintf(errs, "%s: out of memory\n", path);
		return 1;
	}
	ctx.fp = fopen(path, "r");
	if (ctx.fp == NULL) {
		fprintf(errs, "%s: cannot open: %s\n", path, strerror(errno));
		config_free(cfg);
		return 1;
	}
	cfg->dir = conf_dir(&ctx, path);
	config_table_defaults(&ctx, CONF_KIND_MESH, &cfg->mesh);

	/* Debian's knob; the buffer is a VLA on inih's stack (see above) */
	if (ini_max_line < CONF_LINE_MAX + 3)
		ini_max_line = CONF_LINE_MAX + 3;
	rc = ini_parse_stream(conf_reader, &ctx, conf_handler, &ctx);
	ini_max_line = saved_max;
	if (ferror(ctx.fp))
		config_error(&ctx, ctx.lineno, "read error");
	fclose(ctx.fp);
	if (rc < 0)
		config_error(&ctx, 0, "INI parser failed (%d)", rc);
	else if (rc > 0 && ctx.nerr == 0)
		config_error(&ctx, rc, "syntax error");

	if (cfg->mesh.name[0] == '\0')
		conf_default_name(cfg);
	if (cfg->dir != NULL) {
		conf_abspath(&ctx, &cfg->mesh.state_dir);
		if (cfg->mesh.access_log == CONF_ACCESS_PATH)
			conf_abspath(&ctx, &cfg->mesh.access_log_path);
		conf_abspath(&ctx, &cfg->mesh.etcd_ca);
		conf_abspath(&ctx, &cfg->mesh.etcd_cert);
		conf_abspath(&ctx, &cfg->mesh.etcd_key);
	}
	config_validate(&ctx);
	conf_flush_errors(&ctx);
	if (ctx.nerr != 0)
		config_free(cfg);
	return ctx.nerr;
}

void
config_free(struct mesh_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nservices; i++)
		config_table_free(CONF_KIND_SERVICE, &cfg->services[i]);
	for (i = 0; i < cfg->nroutes; i++)
		config_table_free(CONF_KIND_ROUTE, &cfg->routes[i]);
	config_table_free(CONF_KIND_MESH, &cfg->mesh);
	free(cfg->services);
	free(cfg->routes);
	free(cfg->path);
	free(cfg->dir);
	memset(cfg, 0, sizeof(*cfg));
}

const struct conf_service *
config_service(const struct mesh_config *cfg, const char *name,
               const char *version)
{
	size_t i;

	for (i = 0; i < cfg->nservices; i++) {
		const struct conf_service *s = &cfg->services[i];

		if (strcmp(s->name, name) == 0 &&
		    (version == NULL || strcmp(s->version, version) == 0))
			return s;
	}
	return NULL;
}

const struct conf_route *
config_route(const struct mesh_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nroutes; i++)
		if (strcmp(cfg->routes[i].name, name) == 0)
			return &cfg->routes[i];
	return NULL;
}

struct conf_route *
config_route_make(struct mesh_config *cfg, const char *name)
{
	struct conf_route *r, *routes;
	struct conf_ctx ctx;

	for (r = cfg->routes; r != NULL && r < cfg->routes + cfg->nroutes; r++)
		if (strcmp(r->name, name) == 0)
			return r;
	if ((routes = realloc(cfg->routes, (cfg->nroutes + 1) * sizeof(*routes))) == NULL)
		return NULL;
	cfg->routes = routes;
	r = &routes[cfg->nroutes];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.path = cfg->path;
	ctx.errs = stderr;
	config_table_defaults(&ctx, CONF_KIND_ROUTE, r);
	cfg->nroutes++;
	return r;
}

uint64_t
config_ready_timeout(const struct mesh_config *cfg, const struct conf_service *svc)
{
	return svc->ready_timeout_us != 0 ? svc->ready_timeout_us : cfg->mesh.ready_timeout_us;
}
