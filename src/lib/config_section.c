/* SPDX-License-Identifier: ISC */
/*
 * config_section: section headers ([mesh], [service.NAME],
 * [service.NAME@VERSION], [route.NAME]) and the name syntax they use.
 * A new section gets its defaults from the key table at once, so a
 * section without keys is complete too.
 */
#include <stdlib.h>
#include <string.h>

#include "mesh/config.h"
#include "config_int.h"

int
config_valid_name(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 1; s[i] != '\0'; i++) {
		if (i >= CONF_NAME_MAX - 1)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-'))
			return 0;
	}
	return 1;
}

int
config_valid_version(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 1; s[i] != '\0'; i++) {
		if (i >= CONF_VERSION_MAX - 1)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '.'))
			return 0;
	}
	return 1;
}

static void
conf_section_service(struct conf_ctx *ctx, char *spec)
{
	struct mesh_config *cfg = ctx->cfg;
	struct conf_service *svc, *n;
	char *at = strchr(spec, '@');
	const char *version = "v1";

	if (at != NULL) {
		*at = '\0';
		version = at + 1;
	}
	if (!config_valid_name(spec)) {
		config_error(ctx, ctx->lineno, "[service.%s%s%s]: bad service name '%s' "
		    "(want [a-z0-9][a-z0-9-]{0,62})", spec, at ? "@" : "",
		    at ? version : "", spec);
		return;
	}
	if (at != NULL && !config_valid_version(version)) {
		config_error(ctx, ctx->lineno, "[service.%s@%s]: bad version '%s' "
		    "(want [a-z0-9][a-z0-9.-]{0,31})", spec, version, version);
		return;
	}
	if (cfg->nservices >= CONF_SERVICES_MAX) {
		config_error(ctx, ctx->lineno, "[service.%s]: more than %d service "
		    "sections", spec, CONF_SERVICES_MAX);
		return;
	}
	n = realloc(cfg->services, (cfg->nservices + 1) * sizeof(*n));
	if (n == NULL) {
		config_error(ctx, ctx->lineno, "out of memory");
		return;
	}
	cfg->services = n;
	svc = &n[cfg->nservices++];
	memset(svc, 0, sizeof(*svc));
	config_table_defaults(ctx, CONF_KIND_SERVICE, svc);
	snprintf(svc->name, sizeof(svc->name), "%s", spec);
	snprintf(svc->version, sizeof(svc->version), "%s", version);
	svc->line = ctx->lineno;
	svc->versioned = at != NULL;
	if (at != NULL)
		svc->version_line = ctx->lineno;
	ctx->kind = CONF_KIND_SERVICE;
	ctx->obj = svc;
	ctx->version_at = at != NULL;
}

static void
conf_section_route(struct conf_ctx *ctx, const char *name)
{
	struct mesh_config *cfg = ctx->cfg;
	struct conf_route *r, *n;
	size_t i;

	if (!config_valid_name(name)) {
		config_error(ctx, ctx->lineno, "[route.%s]: bad service name '%s' "
		    "(want [a-z0-9][a-z0-9-]{0,62})", name, name);
		return;
	}
	for (i = 0; i < cfg->nroutes; i++)
		if (strcmp(cfg->routes[i].name, name) == 0) {
			config_error(ctx, ctx->lineno, "[route.%s]: duplicate section "
			    "(first at line %d)", name, cfg->routes[i].line);
			return;
		}
	if (cfg->nroutes >= CONF_ROUTES_MAX) {
		config_error(ctx, ctx->lineno, "[route.%s]: more than %d route "
		    "sections", name, CONF_ROUTES_MAX);
		return;
	}
	n = realloc(cfg->routes, (cfg->nroutes + 1) * sizeof(*n));
	if (n == NULL) {
		config_error(ctx, ctx->lineno, "out of memory");
		return;
	}
	cfg->routes = n;
	r = &n[cfg->nroutes++];
	memset(r, 0, sizeof(*r));
	config_table_defaults(ctx, CONF_KIND_ROUTE, r);
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->line = ctx->lineno;
	ctx->kind = CONF_KIND_ROUTE;
	ctx->obj = r;
}

/*
 * A "[...]" line.  Until the next header, keys go to the new section; a
 * rejected header leaves kind NONE, and its keys are skipped silently (its
 * one error says enough).
 */
void
config_section(struct conf_ctx *ctx, char *name)
{
	ctx->in_section = 1;
	ctx->kind = CONF_KIND_NONE;
	ctx->obj = NULL;
	ctx->version_at = 0;
	memset(ctx->seen, 0, sizeof(ctx->seen));
	snprintf(ctx->section, sizeof(ctx->section), "%s", name);

	if (strcmp(name, "mesh") == 0) {
		if (ctx->mesh_line != 0) {
			config_error(ctx, ctx->lineno, "[mesh]: duplicate section "
			    "(first at line %d)", ctx->mesh_line);
			return;
		}
		ctx->mesh_line = ctx->lineno;
		ctx->kind = CONF_KIND_MESH;
		ctx->obj = &ctx->cfg->mesh;
	} else if (strncmp(name, "service.", 8) == 0) {
		conf_section_service(ctx, name + 8);
	} else if (strncmp(name, "route.", 6) == 0) {
		conf_section_route(ctx, name + 6);
	} else {
		config_error(ctx, ctx->lineno, "unknown section [%s] (want [mesh], "
		    "[service.NAME], [service.NAME@VERSION] or [route.NAME])", name);
	}
}
