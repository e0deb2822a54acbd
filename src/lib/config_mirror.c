/* SPDX-License-Identifier: ISC */
/*
 * config_mirror: the mirror key of a [route.NAME] (mesh.ini(5)):
 *
 *   mirror = SERVICE@VERSION P%     a copy of P of the route's requests
 *                                   goes to VERSION, fire-and-forget
 *
 * P is 0..100 with at most one decimal (0.5%), kept in tenths of a
 * percent; 0% mirrors nothing.  config_validate() checks what needs the
 * whole file: SERVICE is the route's own service (its sidecar knows the
 * endpoints of every version of it), the version exists, the service
 * speaks http.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "mesh/config.h"
#include "config_int.h"

int
config_mirror_key(struct conf_ctx *ctx, const struct conf_key *k, const char *v,
                  void *obj, char *why, size_t whysz)
{
	struct conf_mirror *m = &((struct conf_route *)obj)->mirror;
	char word[CONF_NAME_MAX + CONF_VERSION_MAX + 1];
	const char *share, *end;
	char *at;
	size_t len;

	(void)k;
	m->line = ctx->lineno;   /* present, even if refused */
	len = strcspn(v, " \t");
	share = v + len;
	while (*share == ' ' || *share == '\t')
		share++;
	if (len == 0 || len >= sizeof(word) || *share == '\0') {
		snprintf(why, whysz, "want SERVICE@VERSION P%% (e.g. api@v2 10%%)");
		return -1;
	}
	memcpy(word, v, len);
	word[len] = '\0';
	if ((at = strchr(word, '@')) == NULL) {
		snprintf(why, whysz, "'%s' names no version (want SERVICE@VERSION)", word);
		return -1;
	}
	*at = '\0';
	if (!config_valid_name(word)) {
		snprintf(why, whysz, "bad service name '%s'", word);
		return -1;
	}
	if (!config_valid_version(at + 1)) {
		snprintf(why, whysz, "bad version '%s' (want [a-z0-9][a-z0-9.-]{0,31})", at + 1);
		return -1;
	}
	if (config_share(share, &end, &m->permille, "want a share after SERVICE@VERSION",
	    why, whysz) == -1)
		return -1;
	if (*end != '\0') {
		snprintf(why, whysz, "want a share after SERVICE@VERSION (e.g. 10%%, 0.5%%), "
		    "nothing after it");
		return -1;
	}
	/* both checked above: a name is shorter than CONF_NAME_MAX, a
	 * version than CONF_VERSION_MAX */
	memcpy(m->service, word, strlen(word) + 1);
	memcpy(m->version, at + 1, strlen(at + 1) + 1);
	return 0;
}

void
config_mirror_validate(struct conf_ctx *ctx, const struct conf_route *r)
{
	const struct conf_mirror *m = &r->mirror;
	const struct conf_service *svc;

	if (m->line == 0 || m->service[0] == '\0')
		return;   /* absent, or refused already */
	if (config_service(ctx->cfg, m->service, NULL) == NULL) {
		config_error(ctx, m->line, "mirror: no service named '%s'", m->service);
		return;
	}
	if (strcmp(m->service, r->name) != 0) {
		config_error(ctx, m->line, "mirror: [route.%s] mirrors to a version of "
		    "%s itself, not to %s", r->name, r->name, m->service);
		return;
	}
	if ((svc = config_service(ctx->cfg, m->service, m->version)) == NULL) {
		config_error(ctx, m->line, "mirror: service %s has no version '%s'",
		    m->service, m->version);
		return;
	}
	if (!conf_proto_l7(svc->protocol))
		config_error(ctx, m->line, "mirror: service %s is not http: a mirror "
		    "copies HTTP requests", m->service);
	else if (svc->protocol != CONF_PROTO_HTTP)
		config_error(ctx, m->line, "mirror: service %s is %s: mirroring copies "
		    "HTTP/1.1 requests only (not HTTP/2 streams yet)", m->service,
		    conf_proto_name(svc->protocol));
}
