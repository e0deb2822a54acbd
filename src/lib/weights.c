/* SPDX-License-Identifier: ISC */
/*
 * weights: live canary splits and their file (see include/mesh/weights.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_int.h"
#include "mesh/state.h"
#include "mesh/weights.h"

static struct conf_route *
weights_route(struct mesh_config *cfg, const char *service)
{
	size_t i;

	for (i = 0; i < cfg->nroutes; i++)
		if (strcmp(cfg->routes[i].name, service) == 0)
			return &cfg->routes[i];
	return NULL;
}

int
weights_parse(const struct mesh_config *cfg, const char *line, struct weight *out,
    char *why, size_t whylen)
{
	char buf[CONF_LINE_MAX + 1], *tok, *save = NULL, *eq, *end;
	int seen[WEIGHTS_VER_MAX] = { 0 };
	unsigned sum = 0;
	size_t i, nargs = 0;
	long v;

	memset(out, 0, sizeof(*out));
	if (strlen(line) > CONF_LINE_MAX) {
		snprintf(why, whylen, "weight: line too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", line);
	if ((tok = strtok_r(buf, " \t", &save)) == NULL) {
		snprintf(why, whylen, "weight: no service named");
		return -1;
	}
	if (config_service(cfg, tok, NULL) == NULL) {
		snprintf(why, whylen, "weight: no service '%.64s' in %s", tok, cfg->path);
		return -1;
	}
	snprintf(out->service, sizeof(out->service), "%s", tok);
	for (i = 0; i < cfg->nservices; i++) {
		if (strcmp(cfg->services[i].name, out->service) != 0)
			continue;
		if (out->nsplit == WEIGHTS_VER_MAX) {
			snprintf(why, whylen, "weight: %s has more than %d versions",
			    out->service, WEIGHTS_VER_MAX);
			return -1;
		}
		snprintf(out->split[out->nsplit++].version, CONF_VERSION_MAX, "%s",
		    cfg->services[i].version);
	}
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		nargs++;
		if ((eq = strchr(tok, '=')) == NULL || eq == tok) {
			snprintf(why, whylen, "weight: '%.64s' is not VERSION=PCT", tok);
			return -1;
		}
		*eq++ = '\0';
		for (i = 0; i < out->nsplit; i++)
			if (strcmp(out->split[i].version, tok) == 0)
				break;
		if (i == out->nsplit) {
			snprintf(why, whylen, "weight: service %s has no version '%.32s'",
			    out->service, tok);
			return -1;
		}
		if (seen[i]++) {
			snprintf(why, whylen, "weight: version %s given twice", tok);
			return -1;
		}
		errno = 0;
		v = strtol(eq, &end, 10);
		if (*eq < '0' || *eq > '9' || *end != '\0' || errno != 0 || v < 0 || v > 100) {
			snprintf(why, whylen, "weight: %s=%.16s: the weight must be an integer "
			    "0..100", tok, eq);
			return -1;
		}
		out->split[i].weight = (unsigned)v;
		sum += (unsigned)v;
	}
	if (nargs == 0) {
		snprintf(why, whylen, "weight: no VERSION=PCT given for %s", out->service);
		return -1;
	}
	if (sum != 100) {
		snprintf(why, whylen, "weight: the weights of %s sum to %u, not 100",
		    out->service, sum);
		return -1;
	}
	return 0;
}

/* Put a split into cfg's route; the route's old split goes to *old when asked. */
static int
weights_put(struct mesh_config *cfg, const struct weight *w, struct weight *old)
{
	struct conf_route *r = config_route_make(cfg, w->service);
	struct conf_split *s;
	size_t i;

	if (r == NULL || (s = calloc(w->nsplit, sizeof(*s))) == NULL)
		return -1;
	if (old != NULL) {
		old->nfile = r->nsplit < WEIGHTS_VER_MAX ? r->nsplit : WEIGHTS_VER_MAX;
		if (old->nfile > 0)
			memcpy(old->file, r->split, old->nfile * sizeof(*r->split));
	}
	for (i = 0; i < w->nsplit; i++)
		s[i] = w->split[i];
	free(r->split);
	r->split = s;
	r->nsplit = w->nsplit;
	return 0;
}

int
weights_set(struct weights *ws, struct mesh_config *cfg, const struct weight *w)
{
	struct weight *e = NULL, *grown;
	size_t i;

	for (i = 0; i < ws->n; i++)
		if (strcmp(ws->w[i].service, w->service) == 0)
			e = &ws->w[i];
	if (e != NULL) {
		/* keep the file's split from the first override */
		memcpy(e->split, w->split, sizeof(e->split));
		e->nsplit = w->nsplit;
		return weights_put(cfg, w, NULL);
	}
	if (ws->n == WEIGHTS_MAX) {
		errno = ENOSPC;
		return -1;
	}
	if ((grown = realloc(ws->w, (ws->n + 1) * sizeof(*grown))) == NULL)
		return -1;
	ws->w = grown;
	e = &ws->w[ws->n];
	*e = *w;
	if (weights_put(cfg, w, e) == -1)
		return -1;
	ws->n++;
	return 0;
}

static int
weights_same(const struct conf_split *a, size_t na, const struct conf_split *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (strcmp(a[i].version, b[i].version) != 0 || a[i].weight != b[i].weight)
			return 0;
	return 1;
}

int
weights_reapply(struct weights *ws, struct mesh_config *cfg, FILE *log)
{
	size_t i = 0;
	int dropped = 0;

	while (i < ws->n) {
		struct weight *e = &ws->w[i];
		struct conf_route *r = weights_route(cfg, e->service);
		const struct conf_split *fs = r != NULL ? r->split : NULL;
		size_t nfs = r != NULL ? r->nsplit : 0;

		if (config_service(cfg, e->service, NULL) == NULL ||
		    !weights_same(fs, nfs, e->file, e->nfile)) {
			if (log != NULL)
				fprintf(log, "route %s: the file's split replaces the one set "
				    "by `meshctl weight`\n", e->service);
			memmove(e, e + 1, (ws->n - i - 1) * sizeof(*e));
			ws->n--;
			dropped++;
			continue;
		}
		if (weights_put(cfg, e, NULL) == -1)
			return -1;
		i++;
	}
	return dropped;
}

static size_t
weights_format_item(const void *item, char *buf, size_t size)
{
	const struct weight *w = item;
	size_t n, j;

	n = (size_t)snprintf(buf, size, "%s", w->service);
	for (j = 0; j < w->nsplit; j++)
		n += (size_t)snprintf(buf + (n < size ? n : size), n < size ? size - n : 0,
		    " %s=%u", w->split[j].version, w->split[j].weight);
	return n;
}

int
weights_save(const struct weights *ws, const char *state_dir)
{
	return state_lines_save(state_dir, WEIGHTS_FILE, "canary splits set by `meshctl weight`",
	    ws->w, ws->n, sizeof(*ws->w), weights_format_item);
}

struct weights_load_arg {
	struct weights     *ws;
	struct mesh_config *cfg;
};

static int
weights_load_line(void *arg, const char *line, char *why, size_t whylen)
{
	struct weights_load_arg *a = arg;
	struct weight w;

	if (weights_parse(a->cfg, line, &w, why, whylen) == -1)
		return -1;
	return weights_set(a->ws, a->cfg, &w) == -1 ? -2 : 0;
}

void
weights_load(struct weights *ws, struct mesh_config *cfg, const char *state_dir, FILE *log)
{
	struct weights_load_arg a = { ws, cfg };

	state_lines_load(state_dir, WEIGHTS_FILE, log, weights_load_line, &a);
}

void
weights_free(struct weights *ws)
{
	free(ws->w);
	ws->w = NULL;
	ws->n = 0;
}
