/* SPDX-License-Identifier: ISC */
/*
 * config_expand: ${VAR} and ${VAR:-default} in values, from the
 * environment, before a value is interpreted.
 *
 *  - "$" not followed by "{" is kept as is, so `command = ./app --port $PORT`
 *    reaches the shell untouched; there is no escape for a literal "${".
 *  - ${VAR:-default} takes default when VAR is unset or empty (as sh does);
 *    default is literal text up to the first '}' (no nesting).
 *  - An unset ${VAR} without a default is an error naming VAR; so is a "${"
 *    without "}", a bad name, or any other operator than ":-".
 *  - The result is bounded by the caller's buffer (CONF_VALUE_MAX); nothing
 *    is expanded twice.
 */
#include <stdlib.h>
#include <string.h>

#include "mesh/config.h"
#include "config_int.h"

#define VAR_NAME_MAX 128

static int
var_start(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int
var_char(int c)
{
	return var_start(c) || (c >= '0' && c <= '9');
}

/* Append n bytes of s to out; -1 when it would not fit (with the NUL). */
static int
put(char *out, size_t outsz, size_t *len, const char *s, size_t n)
{
	if (n >= outsz - *len)
		return -1;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
	return 0;
}

int
config_expand(struct conf_ctx *ctx, const char *key, const char *in,
              char *out, size_t outsz)
{
	char name[VAR_NAME_MAX];
	const char *p = in, *q, *end, *val, *def;
	size_t len = 0, n;

	out[0] = '\0';
	while (*p != '\0') {
		if (p[0] != '$' || p[1] != '{') {
			q = p + 1;
			while (*q != '\0' && *q != '$')
				q++;
			if (put(out, outsz, &len, p, (size_t)(q - p)) == -1)
				goto toolong;
			p = q;
			continue;
		}
		q = p + 2;
		end = strchr(q, '}');
		if (end == NULL) {
			config_error(ctx, ctx->lineno, "%s = %s: '${' without '}'",
			    key, in);
			return -1;
		}
		if (!var_start(*q)) {
			config_error(ctx, ctx->lineno, "%s = %s: bad variable name in "
			    "'%.*s'", key, in, (int)(end - p + 1), p);
			return -1;
		}
		while (var_char(*q))
			q++;
		n = (size_t)(q - (p + 2));
		if (n >= sizeof(name)) {
			config_error(ctx, ctx->lineno, "%s = %s: variable name longer "
			    "than %d bytes", key, in, VAR_NAME_MAX - 1);
			return -1;
		}
		memcpy(name, p + 2, n);
		name[n] = '\0';
		def = NULL;
		if (q[0] == ':' && q[1] == '-') {
			def = q + 2;
		} else if (q != end) {
			config_error(ctx, ctx->lineno, "%s = %s: bad '%.*s' (want ${VAR} "
			    "or ${VAR:-default})", key, in, (int)(end - p + 1), p);
			return -1;
		}
		val = getenv(name);
		if (def != NULL && (val == NULL || val[0] == '\0')) {
			if (put(out, outsz, &len, def, (size_t)(end - def)) == -1)
				goto toolong;
		} else if (val == NULL) {
			config_error(ctx, ctx->lineno, "%s = %s: environment variable "
			    "%s is not set", key, in, name);
			return -1;
		} else if (put(out, outsz, &len, val, strlen(val)) == -1) {
			goto toolong;
		}
		p = end + 1;
	}
	return 0;
toolong:
	config_error(ctx, ctx->lineno, "%s: value longer than %zu bytes after "
	    "${} expansion", key, outsz - 1);
	return -1;
}
