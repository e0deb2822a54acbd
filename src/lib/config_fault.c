/* SPDX-License-Identifier: ISC */
/*
 * config_fault: the fault.* keys of a [route.NAME] (mesh.ini(5)):
 *
 *   fault.delay   = P% DURATION     P of the requests wait DURATION first
 *   fault.abort   = P% STATUS       P of them get STATUS, never sent
 *   fault.match   = HEADER: VALUE   only requests with that header value
 *   fault.version = VERSION         only requests balanced to that version
 *
 * P is 0..100 with at most one decimal (0.5%), kept in tenths of a
 * percent; DURATION 1ms..1h; STATUS 200..599.  A header name is an HTTP
 * token (matched case-insensitively), a value 1..127 visible bytes
 * without blanks or '#' (matched exactly), so it fits one field of the
 * sidecar's document.  config_validate() checks what needs the whole
 * file: the service speaks http, the version exists, match/version come
 * with a delay or an abort.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mesh/config.h"
#include "config_int.h"

#define FAULT_DELAY_MIN_US UINT64_C(1000)            /* 1ms */
#define FAULT_DELAY_MAX_US (UINT64_C(3600) * 1000000) /* 1h */

/*
 * "N%" or "N.D%" at the start of s: tenths of a percent, *end just past
 * the '%' (config_int.h; the mirror key takes one too).  A malformed share
 * is "<want> (e.g. 10%, 0.5%)" in why.
 */
int
config_share(const char *s, const char **end, unsigned *permille, const char *want,
             char *why, size_t whysz)
{
	unsigned long v = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9' && n < 4) {
		v = v * 10 + (unsigned long)(*s++ - '0');
		n++;
	}
	if (n == 0 || (*s >= '0' && *s <= '9'))
		goto bad;
	v *= 10;
	if (*s == '.' && s[1] >= '0' && s[1] <= '9') {
		v += (unsigned long)(s[1] - '0');
		s += 2;
	}
	if (*s != '%')
		goto bad;
	if (v > 1000) {
		snprintf(why, whysz, "share out of range 0%%..100%%");
		return -1;
	}
	*permille = (unsigned)v;
	*end = s + 1;
	return 0;
bad:
	snprintf(why, whysz, "%s (e.g. 10%%, 0.5%%)", want);
	return -1;
}

/* The share, then one blank-separated word into word (wsz bytes). */
static int
fault_pair(const char *v, unsigned *permille, char *word, size_t wsz,
           const char *what, char *why, size_t whysz)
{
	const char *e;
	size_t len;

	if (config_share(v, &e, permille, "want a share first", why, whysz) == -1)
		return -1;
	if (*e != ' ' && *e != '\t')
		goto bad;
	while (*e == ' ' || *e == '\t')
		e++;
	len = strcspn(e, " \t");
	if (len == 0 || e[len] != '\0' || len >= wsz)
		goto bad;
	memcpy(word, e, len + 1);
	return 0;
bad:
	snprintf(why, whysz, "want P%% %s (e.g. 10%% %s)", what,
	    strcmp(what, "DURATION") == 0 ? "300ms" : "503");
	return -1;
}

int
config_fault_delay(struct conf_ctx *ctx, const struct conf_key *k, const char *v,
                   void *obj, char *why, size_t whysz)
{
	struct conf_fault *f = &((struct conf_route *)obj)->fault;
	char word[32];
	uint64_t us;

	f->delay_line = ctx->lineno;   /* present, even if refused: no "has no" */
	if (fault_pair(v, &f->delay_permille, word, sizeof(word), "DURATION", why, whysz) == -1)
		return -1;
	if (config_parse_duration(word, &us) == -1) {
		snprintf(why, whysz, "'%s' is not a duration (e.g. 300ms, 2s)", word);
		return -1;
	}
	if (us < FAULT_DELAY_MIN_US || us > FAULT_DELAY_MAX_US) {
		snprintf(why, whysz, "delay out of range 1ms..1h");
		return -1;
	}
	f->delay_us = us;
	return 0;
}

int
config_fault_abort(struct conf_ctx *ctx, const struct conf_key *k, const char *v,
                   void *obj, char *why, size_t whysz)
{
	struct conf_fault *f = &((struct conf_route *)obj)->fault;
	char word[32];
	unsigned long st = 0;
	size_t i;

	f->abort_line = ctx->lineno;
	if (fault_pair(v, &f->abort_permille, word, sizeof(word), "STATUS", why, whysz) == -1)
		return -1;
	for (i = 0; word[i] >= '0' && word[i] <= '9' && i < 4; i++)
		st = st * 10 + (unsigned long)(word[i] - '0');
	if (i == 0 || word[i] != '\0' || st < 200 || st > 599) {
		snprintf(why, whysz, "status '%s' out of range 200..599", word);
		return -1;
	}
	f->abort_status = (unsigned)st;
	return 0;
}

/* An HTTP token character (RFC 9110 tchar). */
static int
fault_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

int
config_fault_match(struct conf_ctx *ctx, const struct conf_key *k, const char *v,
                   void *obj, char *why, size_t whysz)
{
	struct conf_fault *f = &((struct conf_route *)obj)->fault;
	const char *colon = strchr(v, ':'), *val;
	size_t nlen, vlen, i;

	if (colon == NULL || colon == v) {
		snprintf(why, whysz, "want HEADER: VALUE (e.g. x-chaos: 1)");
		return -1;
	}
	nlen = (size_t)(colon - v);
	for (i = 0; i < nlen; i++)
		if (!fault_tchar(v[i]))
			break;
	if (i < nlen || nlen >= sizeof(f->match_header)) {
		snprintf(why, whysz, "header name must be 1..%zu token characters",
		    sizeof(f->match_header) - 1);
		return -1;
	}
	for (val = colon + 1; *val == ' ' || *val == '\t'; val++)
		;
	vlen = strlen(val);
	for (i = 0; i < vlen; i++)
		if (val[i] <= ' ' || val[i] >= 0x7f || val[i] == '#')
			break;
	if (vlen == 0 || i < vlen || vlen >= sizeof(f->match_value)) {
		snprintf(why, whysz, "header value must be 1..%zu visible bytes "
		    "without blanks or '#'", sizeof(f->match_value) - 1);
		return -1;
	}
	memcpy(f->match_header, v, nlen);
	f->match_header[nlen] = '\0';
	memcpy(f->match_value, val, vlen + 1);
	f->match_line = ctx->lineno;
	return 0;
}

int
config_fault_version(struct conf_ctx *ctx, const struct conf_key *k, const char *v,
                     void *obj, char *why, size_t whysz)
{
	struct conf_fault *f = &((struct conf_route *)obj)->fault;

	if (!config_valid_version(v)) {
		snprintf(why, whysz, "bad version (want [a-z0-9][a-z0-9.-]{0,31})");
		return -1;
	}
	snprintf(f->version, sizeof(f->version), "%s", v);
	f->version_line = ctx->lineno;
	return 0;
}

void
config_fault_validate(struct conf_ctx *ctx, const struct conf_route *r)
{
	const struct conf_fault *f = &r->fault;
	const struct conf_service *svc = config_service(ctx->cfg, r->name, NULL);
	int any = f->delay_line != 0 || f->abort_line != 0;

	if (any && svc != NULL && !conf_proto_l7(svc->protocol))
		config_error(ctx, f->delay_line != 0 ? f->delay_line : f->abort_line,
		    "fault: service %s is not http: faults need HTTP requests", r->name);

	if (f->match_line != 0 && !any)
		config_error(ctx, f->match_line, "fault.match: [route.%s] has no "
		    "fault.delay or fault.abort", r->name);
	if (f->version_line != 0 && !any)
		config_error(ctx, f->version_line, "fault.version: [route.%s] has no "
		    "fault.delay or fault.abort", r->name);
	if (f->version_line != 0 && config_service(ctx->cfg, r->name, f->version) == NULL)
		config_error(ctx, f->version_line, "fault.version: service %s has "
		    "no version '%s'", r->name, f->version);
}
