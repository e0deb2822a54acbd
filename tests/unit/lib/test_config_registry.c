/* SPDX-License-Identifier: ISC */
/*
 * test_config_registry: the [mesh] keys of several hosts
 * (config_registry.c): defaults, a full set, relative TLS paths made
 * absolute, the default host_name, and every refusal with its
 * FILE:LINE message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mesh/config.h"
#include "test_config_util.h"

static void
test_defaults(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };

	(void)state;
	assert_int_equal(tload(&t, "[mesh]\nname = one\n", &cfg), 0);
	assert_int_equal(cfg.mesh.registry, CONF_REGISTRY_NONE);
	assert_null(cfg.mesh.etcd);
	assert_null(cfg.mesh.etcd_ca);
	assert_string_equal(cfg.mesh.host_address, "");
	assert_string_equal(cfg.mesh.host_name, "");
	assert_int_equal(cfg.mesh.registry_ttl_us, 10000000);
	config_free(&cfg);
	tload_done(&t);
}

static void
test_full(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };
	char want[600];

	(void)state;
	assert_int_equal(tload(&t, "[mesh]\nregistry = etcd\n"
	    "etcd = https://10.0.0.5:2379, http://10.0.0.6\n"
	    "etcd_ca = tls/ca.pem\netcd_cert = /etc/c.pem\netcd_key = ./k.pem\n"
	    "host_address = 10.0.0.7\nhost_name = pi-kitchen.lan\nregistry_ttl = 30s\n",
	    &cfg), 0);
	assert_int_equal(cfg.mesh.registry, CONF_REGISTRY_ETCD);
	assert_string_equal(cfg.mesh.etcd, "https://10.0.0.5:2379, http://10.0.0.6");
	snprintf(want, sizeof(want), "%s/tls/ca.pem", cfg.dir);
	assert_string_equal(cfg.mesh.etcd_ca, want);
	assert_string_equal(cfg.mesh.etcd_cert, "/etc/c.pem");
	snprintf(want, sizeof(want), "%s/k.pem", cfg.dir);
	assert_string_equal(cfg.mesh.etcd_key, want);
	assert_string_equal(cfg.mesh.host_address, "10.0.0.7");
	assert_string_equal(cfg.mesh.host_name, "pi-kitchen.lan");
	assert_int_equal(cfg.mesh.registry_ttl_us, 30000000);
	config_free(&cfg);
	tload_done(&t);
}

/* host_name absent: this host's name, when it fits. */
static void
test_default_host_name(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };
	char host[256];

	(void)state;
	if (gethostname(host, sizeof(host)) == -1 || strpbrk(host, " /:") != NULL ||
	    strlen(host) >= CONF_HOST_NAME_MAX)
		skip();
	assert_int_equal(tload(&t, "[mesh]\nregistry = etcd\netcd = http://127.0.0.1:2379\n"
	    "host_address = 127.0.0.1\n", &cfg), 0);
	assert_string_equal(cfg.mesh.host_name, host);
	config_free(&cfg);
	tload_done(&t);
}

struct ecase {
	const char *text;
	const char *errs;   /* exact, each line after "PATH:" */
};

#define REG "[mesh]\nregistry = etcd\n"
#define OK_ETCD "etcd = http://127.0.0.1:2379\n"
#define OK_ADDR "host_address = 127.0.0.1\nhost_name = a\n"

static const struct ecase cases[] = {
	{ "[mesh]\nregistry = consul\n",
	  "2: registry = consul: want one of none, etcd\n" },
	{ REG OK_ADDR,
	  "2: registry = etcd: no etcd = URL, ... in [mesh]\n" },
	{ REG OK_ETCD "host_name = a\n",
	  "2: registry = etcd: no host_address = IPv4 in [mesh] (the address other "
	  "hosts reach this host on)\n" },
	{ REG "etcd = ftp://10.0.0.5\n" OK_ADDR,
	  "3: etcd = ftp://10.0.0.5: ftp://10.0.0.5: want an http:// or https:// URL\n" },
	{ REG "etcd = http://10.0.0.5:99999\n" OK_ADDR,
	  "3: etcd = http://10.0.0.5:99999: http://10.0.0.5:99999: bad port\n" },
	{ REG "etcd = https://10.0.0.5\n" OK_ADDR,
	  "3: etcd = https://10.0.0.5: an https:// endpoint needs etcd_ca (the CA "
	  "that signed etcd's certificate)\n" },
	{ REG OK_ETCD OK_ADDR "etcd_cert = c.pem\n",
	  "6: etcd_cert without etcd_key: a client certificate needs both\n" },
	{ REG OK_ETCD OK_ADDR "etcd_key = k.pem\n",
	  "6: etcd_key without etcd_cert: a client certificate needs both\n" },
	{ REG OK_ETCD "host_address = fd00::1\nhost_name = a\n",
	  "4: host_address = fd00::1: want an IPv4 address (the one other hosts "
	  "reach this host's sidecars on)\n" },
	{ REG OK_ETCD "host_address = 0.0.0.0\nhost_name = a\n",
	  "4: host_address = 0.0.0.0: other hosts cannot reach 0.0.0.0\n" },
	{ REG OK_ETCD "host_address = 127.0.0.1\nhost_name = a/b\n",
	  "5: host_name = a/b: want 1..63 of [A-Za-z0-9._-]\n" },
	{ REG OK_ETCD "host_address = 127.0.0.1\nhost_name = ..\n",
	  "5: host_name = ..: want 1..63 of [A-Za-z0-9._-]\n" },
	{ REG OK_ETCD OK_ADDR "registry_ttl = 1s\n",
	  "6: registry_ttl = 1s: out of range 2s..5m\n" },
	{ REG OK_ETCD OK_ADDR "registry_ttl = 10\n",
	  "6: registry_ttl = 10: a duration needs a unit (us, ms, s, m, h)\n" },
	{ "[mesh]\nhost_address = 10.0.0.7\netcd = http://10.0.0.5\n",
	  "2: host_address: set without registry = etcd (one host needs no registry)\n"
	  "3: etcd: set without registry = etcd (one host needs no registry)\n" },
	{ "[service.api]\nregistry = etcd\n",
	  "2: registry = etcd: key belongs in [mesh], not in [service.api]\n" },
	{ "[mesh]\nregistry = none\nregistry_ttl = 5s\n", "" },
};

static void
test_errors(void **state)
{
	struct mesh_config cfg;
	char want[2048], got[2048];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tload t = { 0 };
		const char *p, *nl, *e;
		size_t o = 0, g = 0, plen;
		int n;

		for (p = cases[i].errs; *p != '\0'; p = nl + 1) {
			nl = strchr(p, '\n');
			o += (size_t)snprintf(want + o, sizeof(want) - o, "PATH:%.*s\n",
			    (int)(nl - p), p);
		}
		want[o] = '\0';
		n = tload(&t, cases[i].text, &cfg);
		plen = strlen(t.path);
		for (e = t.errs; *e != '\0' && g < sizeof(got) - 8;) {
			if (strncmp(e, t.path, plen) == 0) {
				g += (size_t)snprintf(got + g, sizeof(got) - g, "PATH");
				e += plen;
			} else {
				got[g++] = *e++;
			}
		}
		got[g] = '\0';
		if (strcmp(got, want) != 0)
			fail_msg("case %zu:\n%s\nwant:\n%s\ngot:\n%s", i, cases[i].text,
			    want, got);
		if (n == 0)
			config_free(&cfg);
		tload_done(&t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_default_host_name),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
