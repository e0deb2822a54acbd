/* SPDX-License-Identifier: ISC */
/*
 * pcfg_fault: the `fault <service> key=value ...` line of the sidecar's
 * document (grammar at struct pcfg_fault in include/mesh/pcfg.h): one
 * key=value at a time, and the line pcfg_format writes (none for a
 * service without faults, so a document without them reads as before).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "mesh/pcfg.h"

/* Decimal digits only, lo..hi; *end: where they stopped. */
static int
fault_num(const char *s, const char **end, uint32_t lo, uint32_t hi, uint32_t *out)
{
	unsigned long v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > hi)
			return -1;
	}
	if (v < lo)
		return -1;
	*end = s;
	*out = (uint32_t)v;
	return 0;
}

/* "A,B": a share 0..1000, then B in lo..hi. */
static int
fault_pair(const char *s, uint32_t lo, uint32_t hi, uint32_t *share, uint32_t *b)
{
	const char *e;

	if (fault_num(s, &e, 0, 1000, share) == -1 || *e != ',' ||
	    fault_num(e + 1, &e, lo, hi, b) == -1 || *e != '\0')
		return -1;
	return 0;
}

static int
fault_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* HEADER:VALUE */
static int
fault_match(struct pcfg_fault *f, const char *v)
{
	const char *colon = strchr(v, ':');
	size_t nlen, vlen, i;

	if (colon == NULL || colon == v)
		return -1;
	nlen = (size_t)(colon - v);
	vlen = strlen(colon + 1);
	if (nlen >= sizeof(f->match_header) || vlen == 0 || vlen >= sizeof(f->match_value))
		return -1;
	for (i = 0; i < nlen; i++)
		if (!fault_tchar(v[i]))
			return -1;
	for (i = 0; i < vlen; i++)
		if (colon[1 + i] <= ' ' || colon[1 + i] >= 0x7f || colon[1 + i] == '#')
			return -1;
	memcpy(f->match_header, v, nlen);
	f->match_header[nlen] = '\0';
	memcpy(f->match_value, colon + 1, vlen + 1);
	return 0;
}

static int
fault_version(struct pcfg_fault *f, const char *v)
{
	size_t len = strlen(v), i;

	if (len == 0 || len >= sizeof(f->version))
		return -1;
	for (i = 0; i < len; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || v[i] == '.' || v[i] == '_' || v[i] == '-'))
			return -1;
	memcpy(f->version, v, len + 1);
	return 0;
}

int
pcfg_fault_set(struct pcfg_fault *f, const char *kv, char *why, size_t whylen)
{
	const char *eq = strchr(kv, '=');
	const char *v;
	size_t klen;

	if (eq == NULL || eq == kv) {
		snprintf(why, whylen, "fault: '%s' is not key=value", kv);
		return -1;
	}
	klen = (size_t)(eq - kv);
	v = eq + 1;
#define KEY(name) (klen == sizeof(name) - 1 && memcmp(kv, name, klen) == 0)
	if (KEY("delay")) {
		if (fault_pair(v, 1, 3600000, &f->delay_permille, &f->delay_ms) == 0)
			return 0;
		snprintf(why, whylen, "fault: delay: want PERMILLE,MS (0..1000, "
		    "1..3600000), not '%s'", v);
		return -1;
	}
	if (KEY("abort")) {
		if (fault_pair(v, 200, 599, &f->abort_permille, &f->abort_status) == 0)
			return 0;
		snprintf(why, whylen, "fault: abort: want PERMILLE,STATUS (0..1000, "
		    "200..599), not '%s'", v);
		return -1;
	}
	if (KEY("match")) {
		if (fault_match(f, v) == 0)
			return 0;
		snprintf(why, whylen, "fault: match: want HEADER:VALUE (a token, "
		    "visible bytes but '#'), not '%s'", v);
		return -1;
	}
	if (KEY("version")) {
		if (fault_version(f, v) == 0)
			return 0;
		snprintf(why, whylen, "fault: version: '%s' is not a version", v);
		return -1;
	}
#undef KEY
	snprintf(why, whylen, "fault: unknown key '%.*s'", (int)klen, kv);
	return -1;
}

int
pcfg_fault_active(const struct pcfg_fault *f)
{
	return f->delay_permille != 0 || f->abort_permille != 0;
}

void
pcfg_fault_format(FILE *fp, const char *service, const struct pcfg_fault *f)
{
	if (!pcfg_fault_active(f))
		return;
	fprintf(fp, "fault %s", service);
	if (f->delay_permille != 0)
		fprintf(fp, " delay=%u,%u", f->delay_permille, f->delay_ms);
	if (f->abort_permille != 0)
		fprintf(fp, " abort=%u,%u", f->abort_permille, f->abort_status);
	if (f->match_header[0] != '\0')
		fprintf(fp, " match=%s:%s", f->match_header, f->match_value);
	if (f->version[0] != '\0')
		fprintf(fp, " version=%s", f->version);
	fputc('\n', fp);
}
