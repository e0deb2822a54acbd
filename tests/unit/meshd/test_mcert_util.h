/* SPDX-License-Identifier: ISC */
/*
 * The meshd fixture test_mcert and test_mcert_roll share: a fresh CA
 * directory under a mkdtemp() name, a mesh "unit" in trust domain
 * unit.test (60 s leaves), one service "api" with n instances api.<i>
 * (ids api@v1.<i>, sidecar state `state`), and mcert opened on it.
 * mcert_fx_teardown() closes mcert and removes the directory.
 */
#ifndef TEST_MCERT_UTIL_H
#define TEST_MCERT_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/mcert.h"
#include "mesh/svc.h"

#define MCERT_FX_INSTS 2

struct fx {
	char                dir[64];
	struct meshd        m;
	struct conf_service sv;
	struct reg_instance ri[MCERT_FX_INSTS];
	struct inst         in[MCERT_FX_INSTS];
};

/* The fixture in *state, its directory made from the template tmpl. */
static int
mcert_fx_setup(void **state, const char *tmpl, int n, enum proc_state st)
{
	static struct fx fx;
	char err[256];
	int i;

	assert_true(n >= 1 && n <= MCERT_FX_INSTS);
	assert_true(strlen(tmpl) < sizeof(fx.dir));
	memset(&fx, 0, sizeof(fx));
	strcpy(fx.dir, tmpl);
	assert_non_null(mkdtemp(fx.dir));
	fx.m.cfg.mesh.state_dir = fx.dir;
	snprintf(fx.m.cfg.mesh.name, sizeof(fx.m.cfg.mesh.name), "unit");
	fx.m.cfg.mesh.trust_domain = (char *)"unit.test";
	fx.m.cfg.mesh.cert_ttl_us = 60ull * 1000000u;
	snprintf(fx.sv.name, sizeof(fx.sv.name), "api");
	for (i = 0; i < n; i++) {
		fx.ri[i].svc = &fx.sv;
		snprintf(fx.ri[i].name, sizeof(fx.ri[i].name), "api.%d", i);
		snprintf(fx.ri[i].id, sizeof(fx.ri[i].id), "api@v1.%d", i);
		fx.in[i].ri = &fx.ri[i];
		fx.in[i].m = &fx.m;
		fx.in[i].proxy.state = st;
	}
	fx.m.insts = fx.in;
	fx.m.ninst = n;
	if (mcert_open(&fx.m, err, sizeof(err)) != 0)
		fail_msg("mcert_open: %s", err);
	*state = &fx;
	return 0;
}

static int
mcert_fx_teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	mcert_close();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

#endif
