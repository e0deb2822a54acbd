/* SPDX-License-Identifier: ISC */
/*
 * test_overrides_util.h: the fixture test_weights, test_faults and
 * test_mirrors share (the three live overrides: weights.h, faults.h,
 * mirrors.h).  Define OVR_FILE (the override file's name under the state
 * dir) before including it.  Gives:
 *   ovr_dir                   a private temp dir (setup makes, teardown removes)
 *   ovr_load(cfg, text)       text written as mesh.ini there and loaded
 *   ovr_swap_routes(cfg, text)  text's routes put into cfg, as a reload does
 *   ovr_setup, ovr_teardown   for cmocka_run_group_tests
 */
#ifndef TEST_OVERRIDES_UTIL_H
#define TEST_OVERRIDES_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mesh/config.h"

#ifndef OVR_FILE
#error "define OVR_FILE before including test_overrides_util.h"
#endif

static char ovr_dir[] = "/tmp/test_" OVR_FILE ".XXXXXX";

static void
ovr_load(struct mesh_config *cfg, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/mesh.ini", ovr_dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	assert_int_equal(config_load(path, cfg, stderr), 0);
}

static void
ovr_swap_routes(struct mesh_config *cfg, const char *text)
{
	struct mesh_config nc;
	struct conf_route *tmp;
	size_t tn;

	ovr_load(&nc, text);
	tmp = cfg->routes; cfg->routes = nc.routes; nc.routes = tmp;
	tn = cfg->nroutes; cfg->nroutes = nc.nroutes; nc.nroutes = tn;
	config_free(&nc);
}

static int
ovr_setup(void **state)
{
	(void)state;
	return mkdtemp(ovr_dir) == NULL ? -1 : 0;
}

static int
ovr_teardown(void **state)
{
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/mesh.ini", ovr_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/" OVR_FILE, ovr_dir);
	unlink(path);
	rmdir(ovr_dir);
	return 0;
}

#endif
