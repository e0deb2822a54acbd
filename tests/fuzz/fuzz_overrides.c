/* SPDX-License-Identifier: ISC */
/*
 * fuzz_overrides: the state dir's overrides files, <state_dir>/weights,
 * faults and mirrors (state_lines.c, weights.c, faults.c, mirrors.c), on
 * arbitrary contents.  Their lines are also what `meshctl weight`,
 * `fault` and `mirror` send meshd on the control socket ("weight LINE",
 * ...), parsed by the same weights_parse(), faults_parse() and
 * mirrors_parse(); so this is the fuzz target of meshd's control commands
 * too (control_cmd() itself only picks the parser by the first word).
 *
 * Each input is written as all three files of a state dir and loaded
 * into a fresh config, as meshd does at start: every line meets every
 * parser, and what validates is applied to the routes.  Then:
 *   - what meshd would save, loaded into another fresh config, must load
 *     without one complaint, give every route the same split, fault and
 *     mirror, and save to the very same files;
 *   - a reload's new routes (another mesh.ini) meet the overrides
 *     (*_reapply);
 *   - each line, cut at its first blank, is a `meshctl fault` option
 *     (faults_opt(): "delay 10%:300ms").
 * The files live under /dev/shm when there is one (state_file_write()
 * fsyncs).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mesh/config.h"
#include "mesh/faults.h"
#include "mesh/mirrors.h"
#include "mesh/weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ini_a[] =
	"[mesh]\n"
	"name = fuzz\n"
	"[service.web]\n"
	"upstreams = api, db, tcpd\n"
	"[service.api]\n"
	"port = 21500\n"
	"[service.api@v2]\n"
	"port = 21510\n"
	"[service.api@v3]\n"
	"port = 21520\n"
	"[service.db]\n"
	"port = 21530\n"
	"[service.tcpd]\n"
	"port = 21540\n"
	"protocol = tcp\n"
	"[route.api]\n"
	"split = v1:80, v2:20, v3:0\n"
	"fault.abort = 10% 503\n"
	"mirror = api@v3 5%\n"
	"retries = 2\n";

/* the same mesh after an edit: api's fault and mirror changed, v3 gone */
static const char ini_b[] =
	"[mesh]\n"
	"name = fuzz\n"
	"[service.web]\n"
	"upstreams = api, db, tcpd\n"
	"[service.api]\n"
	"port = 21500\n"
	"[service.api@v2]\n"
	"port = 21510\n"
	"[service.db]\n"
	"port = 21530\n"
	"[service.tcpd]\n"
	"port = 21540\n"
	"protocol = tcp\n"
	"[route.api]\n"
	"fault.delay = 1% 20ms\n"
	"[route.db]\n"
	"mirror = db@v1 1%\n";

static const char *const files[] = { WEIGHTS_FILE, FAULTS_FILE, MIRRORS_FILE };

static char base[64], path_a[96], path_b[96], in_dir[96], out_dir[96], again_dir[96];
static FILE *devnull;

static void
fuzz_put(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0)
		abort();
}

static void
fuzz_cleanup(void)
{
	char p[160];
	const char *const dirs[] = { in_dir, out_dir, again_dir };
	size_t i, k;

	for (i = 0; i < 3; i++) {
		for (k = 0; k < 3; k++) {
			snprintf(p, sizeof(p), "%s/%s", dirs[i], files[k]);
			(void)unlink(p);
		}
		(void)rmdir(dirs[i]);
	}
	(void)unlink(path_a);
	(void)unlink(path_b);
	(void)rmdir(base);
}

static void
fuzz_setup(void)
{
	struct stat st;

	snprintf(base, sizeof(base), "%s/fuzz_overrides.%ld",
	    stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
	snprintf(path_a, sizeof(path_a), "%s/a.ini", base);
	snprintf(path_b, sizeof(path_b), "%s/b.ini", base);
	snprintf(in_dir, sizeof(in_dir), "%s/in", base);
	snprintf(out_dir, sizeof(out_dir), "%s/out", base);
	snprintf(again_dir, sizeof(again_dir), "%s/again", base);
	if (mkdir(base, 0700) == -1 || mkdir(in_dir, 0700) == -1 ||
	    mkdir(out_dir, 0700) == -1 || mkdir(again_dir, 0700) == -1)
		abort();
	atexit(fuzz_cleanup);
	fuzz_put(path_a, ini_a, sizeof(ini_a) - 1);
	fuzz_put(path_b, ini_b, sizeof(ini_b) - 1);
	if ((devnull = fopen("/dev/null", "w")) == NULL)
		abort();
}

struct fuzz_state {
	struct mesh_config cfg;
	struct weights     ws;
	struct faults      fs;
	struct mirrors     ms;
};

/* A fresh config from ini_a, and the overrides of state_dir applied. */
static void
fuzz_load(struct fuzz_state *s, const char *state_dir, FILE *log)
{
	memset(s, 0, sizeof(*s));
	if (config_load(path_a, &s->cfg, devnull) != 0)
		abort();
	weights_load(&s->ws, &s->cfg, state_dir, log);
	faults_load(&s->fs, &s->cfg, state_dir, log);
	mirrors_load(&s->ms, &s->cfg, state_dir, log);
}

static void
fuzz_save(const struct fuzz_state *s, const char *state_dir)
{
	if (weights_save(&s->ws, state_dir) == -1 || faults_save(&s->fs, state_dir) == -1 ||
	    mirrors_save(&s->ms, state_dir) == -1)
		abort();
}

static void
fuzz_free(struct fuzz_state *s)
{
	weights_free(&s->ws);
	faults_free(&s->fs);
	mirrors_free(&s->ms);
	config_free(&s->cfg);
}

#include "fuzz_same.h"

/* What a fault does (the line numbers it came from aside). */
static int
fuzz_same_fault(const struct conf_fault *a, const struct conf_fault *b)
{
	SAME(a->delay_permille == b->delay_permille, "fault delay share");
	SAME(a->delay_permille == 0 || a->delay_us == b->delay_us, "fault delay");
	SAME(a->abort_permille == b->abort_permille, "fault abort share");
	SAME(a->abort_permille == 0 || a->abort_status == b->abort_status, "fault abort status");
	SAME(strcmp(a->match_header, b->match_header) == 0, "fault match header");
	SAME(a->match_header[0] == '\0' || strcmp(a->match_value, b->match_value) == 0,
	    "fault match value");
	SAME(strcmp(a->version, b->version) == 0, "fault version");
	return 1;
}

static const struct conf_route *
fuzz_route(const struct mesh_config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nroutes; i++)
		if (strcmp(c->routes[i].name, name) == 0)
			return &c->routes[i];
	return NULL;
}

/* x and y (NULL: no route, which is a route of nothing) split, inject and
 * mirror alike.  An override that had nothing to suspend leaves a route of
 * nothing behind (config_route_make()), which a restart does not bring
 * back: the same thing, as status.c and registry.c see it. */
static int
fuzz_same_route(const struct conf_route *x, const struct conf_route *y)
{
	static const struct conf_route none;
	size_t k;

	if (x == NULL)
		x = &none;
	if (y == NULL)
		y = &none;
	SAME(x->nsplit == y->nsplit, "a split's versions");
	for (k = 0; k < x->nsplit; k++)
		SAME(strcmp(x->split[k].version, y->split[k].version) == 0 &&
		    x->split[k].weight == y->split[k].weight, "a split weight");
	if (!fuzz_same_fault(&x->fault, &y->fault))
		return 0;
	SAME(x->mirror.permille == y->mirror.permille, "a mirror's share");
	SAME(x->mirror.permille == 0 || (strcmp(x->mirror.service, y->mirror.service) == 0 &&
	    strcmp(x->mirror.version, y->mirror.version) == 0), "a mirror's target");
	return 1;
}

/* Every route of a and of b does the same in the other. */
static int
fuzz_same_routes(const struct mesh_config *a, const struct mesh_config *b)
{
	size_t i;

	for (i = 0; i < a->nroutes; i++)
		if (!fuzz_same_route(&a->routes[i], fuzz_route(b, a->routes[i].name)))
			return 0;
	for (i = 0; i < b->nroutes; i++)
		if (!fuzz_same_route(fuzz_route(a, b->routes[i].name), &b->routes[i]))
			return 0;
	return 1;
}

/* The text of state_dir/name (malloc'd) and its length. */
static char *
fuzz_slurp(const char *state_dir, const char *name, size_t *len)
{
	char p[160], *text = NULL;
	FILE *f, *m;
	int c;

	snprintf(p, sizeof(p), "%s/%s", state_dir, name);
	if ((m = open_memstream(&text, len)) == NULL)
		abort();
	if ((f = fopen(p, "r")) != NULL) {
		while ((c = getc(f)) != EOF)
			putc(c, m);
		fclose(f);
	}
	if (fclose(m) != 0)
		abort();
	return text;
}

/* Each line, cut at its first blank, as `meshctl fault --KEY VALUE`. */
static void
fuzz_opts(const uint8_t *data, size_t size)
{
	char line[FAULTS_LINE_MAX], why[256], *sp;
	struct conf_fault f;
	size_t start = 0, end, n;

	while (start < size) {
		for (end = start; end < size && data[end] != '\n'; end++)
			;
		n = end - start < sizeof(line) - 1 ? end - start : sizeof(line) - 1;
		memcpy(line, data + start, n);
		line[n] = '\0';
		if ((sp = strchr(line, ' ')) != NULL) {
			*sp = '\0';
			memset(&f, 0, sizeof(f));
			(void)faults_opt(&f, line, sp + 1, why, sizeof(why));
		}
		start = end + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_state first, second;
	struct mesh_config edited;
	char *complaints = NULL, path[160];
	size_t clen = 0, i;
	FILE *log;

	if (base[0] == '\0')
		fuzz_setup();
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", in_dir, files[i]);
		fuzz_put(path, data, size);
	}

	/* at start: the files as they are */
	fuzz_load(&first, in_dir, devnull);
	fuzz_save(&first, out_dir);

	/* what meshd wrote, it reads back whole and writes again the same */
	if ((log = open_memstream(&complaints, &clen)) == NULL)
		abort();
	fuzz_load(&second, out_dir, log);
	if (fclose(log) != 0)
		abort();
	if (clen != 0) {
		fprintf(stderr, "fuzz_overrides: its own files refused:\n%s", complaints);
		abort();
	}
	free(complaints);
	if (!fuzz_same_routes(&first.cfg, &second.cfg)) {
		fprintf(stderr, "fuzz_overrides: saved and loaded again, %s differs\n", differs);
		for (i = 0; i < 3; i++) {
			size_t l;
			char *t = fuzz_slurp(out_dir, files[i], &l);

			fprintf(stderr, "%s:\n%s", files[i], t);
			free(t);
		}
		abort();
	}
	fuzz_save(&second, again_dir);
	for (i = 0; i < 3; i++) {
		size_t l1, l2;
		char *t1 = fuzz_slurp(out_dir, files[i], &l1);
		char *t2 = fuzz_slurp(again_dir, files[i], &l2);

		if (l1 != l2 || memcmp(t1, t2, l1) != 0) {
			fprintf(stderr, "fuzz_overrides: %s saved, loaded and saved again "
			    "differs:\n%s---\n%s", files[i], t1, t2);
			abort();
		}
		free(t1);
		free(t2);
	}
	fuzz_free(&second);

	/* a reload: the overrides meet the edited file's routes */
	if (config_load(path_b, &edited, devnull) != 0)
		abort();
	(void)weights_reapply(&first.ws, &edited, devnull);
	(void)faults_reapply(&first.fs, &edited, devnull);
	(void)mirrors_reapply(&first.ms, &edited, devnull);
	config_free(&edited);
	fuzz_free(&first);

	fuzz_opts(data, size);
	return 0;
}
