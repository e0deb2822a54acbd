/* SPDX-License-Identifier: ISC */
/*
 * registry with registry = etcd (issue 16): the sidecar's document names
 * its host, binds the inbound on host_address, gives this host's
 * endpoints at host_address and the other hosts' (the view mreg keeps in
 * reg.remote) at theirs; a service declared only on other hosts takes
 * its protocol from their records.  Without a registry nothing of this
 * shows.
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
#include "mesh/mreg.h"
#include "mesh/pcfg.h"
#include "mesh/ports.h"
#include "mesh/registry.h"

static const char ini[] =
	"[mesh]\n"
	"name = shop\n"
	"port_base = 21650\n"
	"registry = etcd\n"
	"etcd = http://10.0.0.5:2379\n"
	"host_address = 10.0.0.7\n"
	"host_name = a\n"
	"[service.web]\n"
	"command = ./web\n"
	"port = 21600\n"
	"upstreams = api, pay:21620\n"
	"[service.api]\n"
	"command = ./api\n"
	"port = 21610\n"
	"allow = web, gw\n"      /* gw: a caller on another host */
	"[route.pay]\n"          /* pay: declared on other hosts only */
	"retries = 2\n";

static int
all_free(uint16_t port, void *arg)
{
	(void)arg;
	(void)port;
	return 1;
}

struct fx {
	struct mesh_config  cfg;
	struct registry     reg;
	struct ports_fixed *fixed;
	struct mreg_remote  rem[3];
};

static void
remote(struct mreg_remote *r, const char *svc, const char *ver, unsigned idx,
       const char *host, const char *addr, uint16_t port, const char *proto)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s@%s.%u", svc, ver, idx);
	snprintf(r->rec.service, sizeof(r->rec.service), "%s", svc);
	snprintf(r->rec.version, sizeof(r->rec.version), "%s", ver);
	r->rec.index = idx;
	snprintf(r->rec.host, sizeof(r->rec.host), "%s", host);
	snprintf(r->rec.address, sizeof(r->rec.address), "%s", addr);
	r->rec.port = port;
	r->rec.weight = -1;
	snprintf(r->rec.protocol, sizeof(r->rec.protocol), "%s", proto);
}

static int
load(struct fx *fx, const char *text, FILE *errs)
{
	char path[] = "/tmp/test_registry_remote.XXXXXX";
	struct ports_alloc a;
	size_t n;
	int fd = mkstemp(path);

	assert_true(fd != -1);
	assert_true(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	memset(fx, 0, sizeof(*fx));
	if (config_load(path, &fx->cfg, errs) != 0) {
		unlink(path);
		return -1;
	}
	unlink(path);
	assert_int_equal(ports_fixed_collect(&fx->cfg, &fx->fixed, &n), 0);
	ports_alloc_init(&a, fx->cfg.mesh.port_base, fx->fixed, n, all_free, NULL);
	assert_int_equal(registry_init(&fx->reg, &fx->cfg, &a, stderr), 0);
	return 0;
}

static void
unload(struct fx *fx)
{
	registry_free(&fx->reg);
	free(fx->fixed);
	config_free(&fx->cfg);
}

static const struct pcfg_endpoint *
endpoint(const struct pcfg_service *s, const char *ver, unsigned idx, const char *host)
{
	size_t i;

	for (i = 0; i < s->nendpoints; i++)
		if (strcmp(s->endpoints[i].version, ver) == 0 && s->endpoints[i].index == idx &&
		    strcmp(s->endpoints[i].host, host) == 0)
			return &s->endpoints[i];
	return NULL;
}

static void
test_remote_endpoints(void **state)
{
	static struct fx fx;
	const struct pcfg_service *api, *pay;
	const struct pcfg_endpoint *e;
	struct pcfg c;
	char *doc, err[160];
	size_t len;

	(void)state;
	assert_int_equal(load(&fx, ini, stderr), 0);
	/* sorted by service, as mreg keeps them */
	remote(&fx.rem[0], "api", "v1", 0, "b", "10.0.0.8", 21651, "http");
	remote(&fx.rem[1], "api", "v2", 0, "c", "10.0.0.9", 21651, "");
	remote(&fx.rem[2], "pay", "v1", 0, "b", "10.0.0.8", 21652, "grpc");
	fx.reg.remote = fx.rem;
	fx.reg.nremote = 3;

	assert_int_equal(registry_document(&fx.reg, &fx.reg.inst[0], &doc, &len), 0);
	assert_non_null(strstr(doc, "\nhost a\n"));
	assert_non_null(strstr(doc, " bind=10.0.0.7"));
	assert_int_equal(pcfg_parse(doc, len, &c, err, sizeof(err)), 0);
	assert_string_equal(c.host, "a");
	assert_int_equal(c.inbound_bind, 0x0a000007u);

	api = pcfg_service_find(&c, "api", 3);
	assert_non_null(api);
	assert_int_equal(api->nendpoints, 3);
	/* this host's own api, at host_address: its inbound is bound there */
	e = endpoint(api, "v1", 0, "a");
	assert_non_null(e);
	assert_int_equal(e->addr, 0x0a000007u);
	assert_int_equal(e->port, fx.reg.inst[1].inbound_port);
	assert_false(e->up);   /* not ready yet */
	assert_false(pcfg_endpoint_remote(&c, e));
	e = endpoint(api, "v1", 0, "b");
	assert_non_null(e);
	assert_int_equal(e->addr, 0x0a000008u);
	assert_int_equal(e->port, 21651);
	assert_true(e->up);
	assert_true(pcfg_endpoint_remote(&c, e));
	e = endpoint(api, "v2", 0, "c");
	assert_non_null(e);
	assert_int_equal(e->addr, 0x0a000009u);

	/* pay: only on other hosts, grpc as b says; its route applies */
	pay = pcfg_service_find(&c, "pay", 3);
	assert_non_null(pay);
	assert_int_equal(pay->proto, PCFG_GRPC);
	assert_int_equal(pay->nendpoints, 1);
	assert_int_equal(pay->policy.retries, 2);
	assert_int_equal(c.nlistens, 1);
	assert_int_equal(c.listens[0].port, 21620);
	free(doc);
	pcfg_free(&c);

	/* no remote instance of pay yet: an empty http block */
	fx.reg.nremote = 2;
	assert_int_equal(registry_pcfg(&fx.reg, &fx.reg.inst[0], &c), 0);
	pay = pcfg_service_find(&c, "pay", 3);
	assert_non_null(pay);
	assert_int_equal(pay->nendpoints, 0);
	assert_int_equal(pay->proto, PCFG_HTTP);
	pcfg_free(&c);
	unload(&fx);
}

static void
test_without_registry(void **state)
{
	static const char one[] =
		"[mesh]\n"
		"port_base = 21650\n"
		"[service.web]\n"
		"command = ./web\n"
		"port = 21600\n"
		"upstreams = api\n"
		"[service.api]\n"
		"command = ./api\n"
		"port = 21610\n";
	static struct fx fx;
	char *doc;
	size_t len;

	(void)state;
	assert_int_equal(load(&fx, one, stderr), 0);
	assert_int_equal(registry_document(&fx.reg, &fx.reg.inst[0], &doc, &len), 0);
	assert_null(strstr(doc, "host "));
	assert_null(strstr(doc, "bind="));
	assert_null(strstr(doc, "10."));
	free(doc);
	unload(&fx);
}

/* Without a registry an undeclared upstream is still an error. */
static void
test_unknown_needs_registry(void **state)
{
	static const char one[] =
		"[mesh]\n"
		"[service.web]\n"
		"command = ./web\n"
		"port = 21600\n"
		"upstreams = pay\n";
	static struct fx fx;
	FILE *devnull = fopen("/dev/null", "w");

	(void)state;
	assert_non_null(devnull);
	assert_int_equal(load(&fx, one, devnull), -1);   /* config_load() freed it */
	fclose(devnull);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remote_endpoints),
		cmocka_unit_test(test_without_registry),
		cmocka_unit_test(test_unknown_needs_registry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
