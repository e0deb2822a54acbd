/* SPDX-License-Identifier: ISC */
/*
 * faults: live fault injection and its file (see include/mesh/faults.h).
 * The values go through config_fault.c's parsers, the file's own.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "mesh/faults.h"
#include "mesh/state.h"

int
faults_active(const struct conf_fault *f)
{
	return f->delay_permille != 0 || f->abort_permille != 0;
}

/* Two faults inject the same (the key lines aside). */
static int
faults_same(const struct conf_fault *a, const struct conf_fault *b)
{
	return a->delay_permille == b->delay_permille && a->delay_us == b->delay_us &&
	    a->abort_permille == b->abort_permille && a->abort_status == b->abort_status &&
	    strcmp(a->match_header, b->match_header) == 0 &&
	    strcmp(a->match_value, b->match_value) == 0 &&
	    strcmp(a->version, b->version) == 0;
}

int
faults_opt(struct conf_fault *f, const char *key, const char *val, char *why, size_t whylen)
{
	struct conf_route r;
	struct conf_ctx ctx;
	char buf[CONF_LINE_MAX + 1], reason[256];
	conf_parse_fn *fn;
	const char *form = NULL;
	char *pct;
	int rc;

	if (strcmp(key, "delay") == 0) {
		fn = config_fault_delay;
		form = "P%:DURATION (e.g. 10%:300ms)";
	} else if (strcmp(key, "abort") == 0) {
		fn = config_fault_abort;
		form = "P%:STATUS (e.g. 5%:503)";
	} else if (strcmp(key, "version") == 0)
		fn = config_fault_version;
	else if (strcmp(key, "match") == 0)
		fn = config_fault_match;
	else {
		snprintf(why, whylen, "unknown fault key '%.32s'", key);
		return -1;
	}
	if (strlen(val) > CONF_LINE_MAX) {
		snprintf(why, whylen, "%s: value too long", key);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", val);
	/* P%:X is the file's "P% X" */
	if (form != NULL) {
		if ((pct = strchr(buf, '%')) == NULL || pct[1] != ':' || pct[2] == '\0' ||
		    strpbrk(buf, " \t") != NULL) {
			snprintf(why, whylen, "%s '%.64s': want %s", key, val, form);
			return -1;
		}
		pct[1] = ' ';
	}
	memset(&r, 0, sizeof(r));
	r.fault = *f;
	memset(&ctx, 0, sizeof(ctx));
	ctx.lineno = 1;
	if ((rc = fn(&ctx, NULL, buf, &r, reason, sizeof(reason))) == -1) {
		if (form != NULL && strncmp(reason, "want P%", 7) == 0)
			snprintf(reason, sizeof(reason), "want %s", form);
		snprintf(why, whylen, "%s '%.64s': %s", key, val, reason);
		return -1;
	}
	*f = r.fault;
	return 0;
}

int
faults_parse(const struct mesh_config *cfg, const char *line, struct fault_ovr *out,
    char *why, size_t whylen)
{
	static const char *const keys[] = { "delay", "abort", "version", "match" };
	char buf[CONF_LINE_MAX + 1], reason[320], *tok, *val, *save = NULL;
	int seen[4] = { 0 };
	struct conf_route r;
	struct conf_ctx ctx;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (strlen(line) > CONF_LINE_MAX) {
		snprintf(why, whylen, "fault: line too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", line);
	if ((tok = strtok_r(buf, " \t", &save)) == NULL) {
		snprintf(why, whylen, "fault: no service named");
		return -1;
	}
	if (config_service(cfg, tok, NULL) == NULL) {
		snprintf(why, whylen, "fault: no service '%.64s' in %s", tok, cfg->path);
		return -1;
	}
	snprintf(out->service, sizeof(out->service), "%s", tok);
	if ((tok = strtok_r(NULL, " \t", &save)) != NULL && strcmp(tok, "off") == 0) {
		if ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
			snprintf(why, whylen, "fault: %s: nothing may follow 'off'", out->service);
			return -1;
		}
		out->off = 1;
		return 0;
	}
	for (; tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(tok, keys[i]) == 0)
				break;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			snprintf(why, whylen, "fault: %s: unknown word '%.32s' (want delay, "
			    "abort, version, match or off)", out->service, tok);
			return -1;
		}
		if (seen[i]++) {
			snprintf(why, whylen, "fault: %s: %s given twice", out->service, tok);
			return -1;
		}
		if ((val = strtok_r(NULL, " \t", &save)) == NULL) {
			snprintf(why, whylen, "fault: %s: %s needs a value", out->service, tok);
			return -1;
		}
		if (faults_opt(&out->fault, tok, val, reason, sizeof(reason)) == -1) {
			snprintf(why, whylen, "fault: %s: %s", out->service, reason);
			return -1;
		}
	}
	if (!seen[0] && !seen[1]) {
		snprintf(why, whylen, "fault: %s: want a delay or an abort (or off)",
		    out->service);
		return -1;
	}
	/* the file's cross-checks: http, the version exists */
	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", out->service);
	r.fault = out->fault;
	r.fault.delay_line = seen[0];
	r.fault.abort_line = seen[1];
	r.fault.version_line = seen[2];
	r.fault.match_line = seen[3];
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = (struct mesh_config *)(uintptr_t)cfg;
	ctx.path = cfg->path;
	ctx.errs = stderr;
	config_fault_validate(&ctx, &r);
	if (config_error_take(&ctx, why, whylen, "fault: refused") == -1)
		return -1;
	/* the lines stay 0: a live value is on no line of the file */
	out->fault.delay_line = out->fault.abort_line = 0;
	out->fault.version_line = out->fault.match_line = 0;
	return 0;
}

/* "10%" or "0.5%" for a share in tenths of a percent. */
static void
faults_share(char *buf, size_t size, unsigned permille)
{
	if (permille % 10 != 0)
		snprintf(buf, size, "%u.%u%%", permille / 10, permille % 10);
	else
		snprintf(buf, size, "%u%%", permille / 10);
}

size_t
faults_format(const struct fault_ovr *o, char *buf, size_t size)
{
	const struct conf_fault *f = &o->fault;
	char pct[16], dur[32];
	size_t n;

	n = (size_t)snprintf(buf, size, "%s", o->service);
	if (o->off)
		return n + (size_t)snprintf(buf + (n < size ? n : size), n < size ? size - n : 0,
		    " off");
#define FMT(...) (n += (size_t)snprintf(buf + (n < size ? n : size), \
    n < size ? size - n : 0, __VA_ARGS__))
	if (f->delay_permille != 0 || f->delay_us != 0) {
		faults_share(pct, sizeof(pct), f->delay_permille);
		config_fmt_duration(f->delay_us, dur, sizeof(dur));
		FMT(" delay %s:%s", pct, dur);
	}
	if (f->abort_permille != 0 || f->abort_status != 0) {
		faults_share(pct, sizeof(pct), f->abort_permille);
		FMT(" abort %s:%u", pct, f->abort_status);
	}
	if (f->version[0] != '\0')
		FMT(" version %s", f->version);
	if (f->match_header[0] != '\0')
		FMT(" match %s:%s", f->match_header, f->match_value);
#undef FMT
	return n;
}

void
faults_describe(const struct conf_fault *f, char *buf, size_t size)
{
	char pct[16], dur[32];
	size_t n = 0;

	buf[0] = '\0';
#define ADD(...) (n += (size_t)snprintf(buf + (n < size ? n : size), \
    n < size ? size - n : 0, __VA_ARGS__))
	if (f->abort_permille != 0) {
		faults_share(pct, sizeof(pct), f->abort_permille);
		ADD("abort %s %u", pct, f->abort_status);
	}
	if (f->delay_permille != 0) {
		faults_share(pct, sizeof(pct), f->delay_permille);
		config_fmt_duration(f->delay_us, dur, sizeof(dur));
		ADD("%sdelay %s %s", n ? ", " : "", pct, dur);
	}
	if (n == 0) {
		snprintf(buf, size, "none");
		return;
	}
	if (f->version[0] != '\0')
		ADD(", version %s", f->version);
	if (f->match_header[0] != '\0')
		ADD(", match %s: %s", f->match_header, f->match_value);
#undef ADD
}

const struct fault_ovr *
faults_find(const struct faults *fs, const char *service)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		if (strcmp(fs->f[i].service, service) == 0)
			return &fs->f[i];
	return NULL;
}

static void
faults_drop(struct faults *fs, size_t i)
{
	memmove(&fs->f[i], &fs->f[i + 1], (fs->n - i - 1) * sizeof(*fs->f));
	fs->n--;
}

int
faults_set(struct faults *fs, struct mesh_config *cfg, const struct fault_ovr *o)
{
	struct fault_ovr *e = (struct fault_ovr *)(uintptr_t)faults_find(fs, o->service);
	struct conf_route *r, *old = config_route_make(cfg, o->service);
	struct fault_ovr *grown;

	if (old == NULL)
		return -1;
	r = old;
	if (e == NULL) {
		if (o->off && !faults_active(&r->fault)) {
			memset(&r->fault, 0, sizeof(r->fault));
			return 0;   /* nothing to suspend: no override */
		}
		if (fs->n == FAULTS_MAX) {
			errno = ENOSPC;
			return -1;
		}
		if ((grown = realloc(fs->f, (fs->n + 1) * sizeof(*grown))) == NULL)
			return -1;
		fs->f = grown;
		e = &fs->f[fs->n++];
		*e = *o;
		e->file = r->fault;   /* the file's, kept from the first override */
	} else {
		e->off = o->off;
		e->fault = o->fault;
		if (o->off && !faults_active(&e->file)) {
			faults_drop(fs, (size_t)(e - fs->f));
			memset(&r->fault, 0, sizeof(r->fault));
			return 0;
		}
	}
	if (o->off)
		memset(&r->fault, 0, sizeof(r->fault));
	else
		r->fault = o->fault;
	return 0;
}

int
faults_off_all(struct faults *fs, struct mesh_config *cfg, char *names, size_t size)
{
	struct fault_ovr off;
	size_t r, len = strlen(names);
	int n = 0;

	for (r = 0; r < cfg->nroutes; r++) {
		const char *name = cfg->routes[r].name;
		const struct fault_ovr *e = faults_find(fs, name);

		if (!faults_active(&cfg->routes[r].fault) && (e == NULL || e->off))
			continue;
		memset(&off, 0, sizeof(off));
		snprintf(off.service, sizeof(off.service), "%s", name);
		off.off = 1;
		if (faults_set(fs, cfg, &off) == -1)
			return -1;
		if (len < size)
			len += (size_t)snprintf(names + len, size - len, "%s%s",
			    len ? ", " : "", name);
		n++;
	}
	return n;
}

int
faults_reapply(struct faults *fs, struct mesh_config *cfg, FILE *log)
{
	char line[FAULTS_LINE_MAX], why[256];
	struct fault_ovr check;
	struct conf_route *r;
	struct conf_fault none;
	size_t i = 0;
	int dropped = 0;

	memset(&none, 0, sizeof(none));
	while (i < fs->n) {
		struct fault_ovr *e = &fs->f[i];
		const struct conf_route *fr = config_route(cfg, e->service);
		const struct conf_fault *ff = fr != NULL ? &fr->fault : &none;

		why[0] = '\0';
		faults_format(e, line, sizeof(line));
		if (!faults_same(ff, &e->file) ||
		    faults_parse(cfg, line, &check, why, sizeof(why)) == -1) {
			if (log != NULL)
				fprintf(log, "route %s: the file's fault replaces the one set by "
				    "`meshctl fault`%s%s\n", e->service, why[0] ? ": " : "", why);
			faults_drop(fs, i);
			dropped++;
			continue;
		}
		if ((r = config_route_make(cfg, e->service)) == NULL)
			return -1;
		if (e->off)
			memset(&r->fault, 0, sizeof(r->fault));
		else
			r->fault = e->fault;
		i++;
	}
	return dropped;
}

static size_t
faults_format_item(const void *o, char *buf, size_t size)
{
	return faults_format(o, buf, size);
}

int
faults_save(const struct faults *fs, const char *state_dir)
{
	return state_lines_save(state_dir, FAULTS_FILE, "faults set by `meshctl fault`",
	    fs->f, fs->n, sizeof(*fs->f), faults_format_item);
}

struct faults_load_arg {
	struct faults      *fs;
	struct mesh_config *cfg;
};

static int
faults_load_line(void *arg, const char *line, char *why, size_t whylen)
{
	struct faults_load_arg *a = arg;
	struct fault_ovr o;

	if (faults_parse(a->cfg, line, &o, why, whylen) == -1)
		return -1;
	return faults_set(a->fs, a->cfg, &o) == -1 ? -2 : 0;
}

void
faults_load(struct faults *fs, struct mesh_config *cfg, const char *state_dir, FILE *log)
{
	struct faults_load_arg a = { fs, cfg };

	state_lines_load(state_dir, FAULTS_FILE, log, faults_load_line, &a);
}

void
faults_free(struct faults *fs)
{
	free(fs->f);
	fs->f = NULL;
	fs->n = 0;
}
