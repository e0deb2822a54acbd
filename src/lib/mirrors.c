/* SPDX-License-Identifier: ISC */
/*
 * mirrors: live traffic mirroring and its file (see include/mesh/mirrors.h).
 * The values go through config_mirror.c's parser, the file's own; the
 * file itself through state_lines.c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "mesh/mirrors.h"
#include "mesh/state.h"

/* The file's parser on "SERVICE@VERSION SHARE", then its cross-checks. */
static int
mirrors_check(const struct mesh_config *cfg, struct mirror_ovr *out, const char *version,
    const char *share, char *why, size_t whylen)
{
	char val[CONF_LINE_MAX + 1], reason[256];
	struct conf_route r;
	struct conf_ctx ctx;

	memset(&r, 0, sizeof(r));
	memset(&ctx, 0, sizeof(ctx));
	snprintf(r.name, sizeof(r.name), "%s", out->service);
	snprintf(val, sizeof(val), "%s@%s %s", out->service, version, share);
	ctx.cfg = (struct mesh_config *)(uintptr_t)cfg;
	ctx.path = cfg->path;
	ctx.errs = stderr;
	ctx.lineno = 1;   /* present: config_mirror_validate() checks it */
	if (config_mirror_key(&ctx, NULL, val, &r, reason, sizeof(reason)) == -1) {
		if (strncmp(reason, "want", 4) == 0)
			snprintf(reason, sizeof(reason), "want VERSION=P%% (e.g. v2=10%%, 0.5%%)");
		snprintf(why, whylen, "mirror: %s: '%.40s=%.16s': %s", out->service, version,
		    share, reason);
		return -1;
	}
	config_mirror_validate(&ctx, &r);
	if (config_error_take(&ctx, why, whylen, "mirror: refused") == -1)
		return -1;
	out->mirror = r.mirror;
	out->mirror.line = 0;   /* a live value is on no line of the file */
	return 0;
}

int
mirrors_parse(const struct mesh_config *cfg, const char *line, struct mirror_ovr *out,
    char *why, size_t whylen)
{
	char buf[CONF_LINE_MAX + 1], *svc, *word, *eq, *save = NULL;
	const struct conf_service *cs;

	memset(out, 0, sizeof(*out));
	if (strlen(line) > CONF_LINE_MAX) {
		snprintf(why, whylen, "mirror: line too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", line);
	if ((svc = strtok_r(buf, " \t", &save)) == NULL) {
		snprintf(why, whylen, "mirror: no service named");
		return -1;
	}
	if ((cs = config_service(cfg, svc, NULL)) == NULL) {
		snprintf(why, whylen, "mirror: no service '%.64s' in %s", svc, cfg->path);
		return -1;
	}
	/* the copies are HTTP/1.1 requests (src/proxy/mirror.c) */
	if (cs->protocol == CONF_PROTO_HTTP2 || cs->protocol == CONF_PROTO_GRPC) {
		snprintf(why, whylen, "mirror: %s is %s: mirroring copies HTTP/1.1 requests only",
		    svc, conf_proto_name(cs->protocol));
		return -1;
	}
	snprintf(out->service, sizeof(out->service), "%s", svc);
	word = strtok_r(NULL, " \t", &save);
	if (word == NULL || strtok_r(NULL, " \t", &save) != NULL) {
		snprintf(why, whylen, "mirror: %s: want one VERSION=P%% (e.g. v2=10%%) or off",
		    out->service);
		return -1;
	}
	if (strcmp(word, "off") == 0) {
		out->off = 1;
		return 0;
	}
	if ((eq = strchr(word, '=')) == NULL || eq == word) {
		snprintf(why, whylen, "mirror: %s: '%.64s': want VERSION=P%% (e.g. v2=10%%) "
		    "or off", out->service, word);
		return -1;
	}
	*eq = '\0';
	return mirrors_check(cfg, out, word, eq + 1, why, whylen);
}

size_t
mirrors_format(const struct mirror_ovr *o, char *buf, size_t size)
{
	unsigned p = o->mirror.permille;

	if (o->off)
		return (size_t)snprintf(buf, size, "%s off", o->service);
	if (p % 10 != 0)
		return (size_t)snprintf(buf, size, "%s %s=%u.%u%%", o->service,
		    o->mirror.version, p / 10, p % 10);
	return (size_t)snprintf(buf, size, "%s %s=%u%%", o->service, o->mirror.version, p / 10);
}

void
mirrors_describe(const struct conf_mirror *mr, char *buf, size_t size)
{
	if (mr->permille == 0)
		snprintf(buf, size, "no mirror");
	else if (mr->permille % 10 != 0)
		snprintf(buf, size, "mirror %s %u.%u%%", mr->version, mr->permille / 10,
		    mr->permille % 10);
	else
		snprintf(buf, size, "mirror %s %u%%", mr->version, mr->permille / 10);
}

const struct mirror_ovr *
mirrors_find(const struct mirrors *ms, const char *service)
{
	size_t i;

	for (i = 0; i < ms->n; i++)
		if (strcmp(ms->m[i].service, service) == 0)
			return &ms->m[i];
	return NULL;
}

/* The same mirror in value (where the key was in the file aside). */
static int
mirrors_same(const struct conf_mirror *a, const struct conf_mirror *b)
{
	return a->permille == b->permille && strcmp(a->service, b->service) == 0 &&
	    strcmp(a->version, b->version) == 0;
}

static void
mirrors_drop(struct mirrors *ms, size_t i)
{
	memmove(&ms->m[i], &ms->m[i + 1], (ms->n - i - 1) * sizeof(*ms->m));
	ms->n--;
}

/* e into its route: its mirror, or none for off. */
static void
mirrors_put(struct conf_route *r, const struct mirror_ovr *e)
{
	if (e->off)
		memset(&r->mirror, 0, sizeof(r->mirror));
	else
		r->mirror = e->mirror;
}

int
mirrors_set(struct mirrors *ms, struct mesh_config *cfg, const struct mirror_ovr *o)
{
	struct conf_route *r = config_route_make(cfg, o->service);
	struct mirror_ovr *grown;
	size_t i;

	if (r == NULL)
		return -1;
	for (i = 0; i < ms->n && strcmp(ms->m[i].service, o->service) != 0; i++)
		continue;
	if (i < ms->n) {
		/* a second override keeps the file's mirror the first one saw */
		ms->m[i].off = o->off;
		ms->m[i].mirror = o->mirror;
	} else {
		if (ms->n == MIRRORS_MAX) {
			errno = ENOSPC;
			return -1;
		}
		if ((grown = realloc(ms->m, (ms->n + 1) * sizeof(*grown))) == NULL)
			return -1;
		ms->m = grown;
		ms->m[i] = *o;
		ms->m[i].file = r->mirror;
		ms->n++;
	}
	mirrors_put(r, &ms->m[i]);
	if (o->off && ms->m[i].file.permille == 0)
		mirrors_drop(ms, i);   /* nothing of the file's to suspend */
	return 0;
}

int
mirrors_reapply(struct mirrors *ms, struct mesh_config *cfg, FILE *log)
{
	char line[MIRRORS_LINE_MAX], why[256];
	struct mirror_ovr check;
	struct conf_mirror none;
	struct conf_route *r;
	size_t i = 0;
	int dropped = 0;

	memset(&none, 0, sizeof(none));
	while (i < ms->n) {
		struct mirror_ovr *e = &ms->m[i];
		const struct conf_route *fr = config_route(cfg, e->service);

		why[0] = '\0';
		mirrors_format(e, line, sizeof(line));
		if (!mirrors_same(fr != NULL ? &fr->mirror : &none, &e->file) ||
		    mirrors_parse(cfg, line, &check, why, sizeof(why)) == -1) {
			if (log != NULL)
				fprintf(log, "route %s: the file's mirror replaces the one set by "
				    "`meshctl mirror`%s%s\n", e->service, why[0] ? ": " : "", why);
			mirrors_drop(ms, i);
			dropped++;
			continue;
		}
		if ((r = config_route_make(cfg, e->service)) == NULL)
			return -1;
		mirrors_put(r, e);
		i++;
	}
	return dropped;
}

static size_t
mirrors_format_item(const void *o, char *buf, size_t size)
{
	return mirrors_format(o, buf, size);
}

int
mirrors_save(const struct mirrors *ms, const char *state_dir)
{
	return state_lines_save(state_dir, MIRRORS_FILE, "mirrors set by `meshctl mirror`",
	    ms->m, ms->n, sizeof(*ms->m), mirrors_format_item);
}

struct mirrors_load_arg {
	struct mirrors     *ms;
	struct mesh_config *cfg;
};

static int
mirrors_load_line(void *arg, const char *line, char *why, size_t whylen)
{
	struct mirrors_load_arg *a = arg;
	struct mirror_ovr o;

	if (mirrors_parse(a->cfg, line, &o, why, whylen) == -1)
		return -1;
	return mirrors_set(a->ms, a->cfg, &o) == -1 ? -2 : 0;
}

void
mirrors_load(struct mirrors *ms, struct mesh_config *cfg, const char *state_dir, FILE *log)
{
	struct mirrors_load_arg a = { ms, cfg };

	state_lines_load(state_dir, MIRRORS_FILE, log, mirrors_load_line, &a);
}

void
mirrors_free(struct mirrors *ms)
{
	free(ms->m);
	ms->m = NULL;
	ms->n = 0;
}
