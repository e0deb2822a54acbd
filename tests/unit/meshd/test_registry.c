/* SPDX-License-Identifier: ISC */
/*
 * registry: instance ids and names, port assignment in file order, and
 * the document each sidecar gets (only the services it calls, every
 * endpoint with its state, the route's split), parsed back by pcfg.
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
#include "mesh/pcfg.h"
#include "mesh/ports.h"
#include "mesh/registry.h"

static const char ini[] =
	"[mesh]\n"
	"port_base = 21450\n"
	"max_headers = 50\n"
	"idle_timeout = 30s\n"
	"trust_domain = prod.mesh\n"
	"[service.web]\n"
	"command = ./web\n"
	"port = 21400\n"
	"upstreams = api, db:21420\n"
	"[service.api]\n"
	"command = ./api\n"
	"port = 21410\n"
	"instances = 2\n"
	"allow = web, gw\n"
	"[service.api@v2]\n"
	"command = ./api2\n"
	"port = 21415\n"
	"[service.db]\n"
	"port = 21430\n"
	"protocol = tcp\n"
	"[service.gw]\n"
	"upstreams = web:21440\n"
	"outbound = 21445\n"
	"[service.unused]\n"
	"command = ./x\n"
	"port = 21435\n"
	"[route.api]\n"
	"split = v1:90, v2:10\n"
	"mirror = api@v2 2.5%\n"
	"timeout = 2s\n"
	"retries = 2\n"
	"retry_on = connect-failure, reset, 503\n"
	"backoff = 10ms, 100ms\n"
	"lb = round-robin\n"
	"breaker.failures = 3\n"
	"breaker.cooldown = 1500ms\n";

static int
all_free(uint16_t port, void *arg)
{
	(void)arg;
	return port != 21452;   /* pretend something else holds 21452 */
}

struct fx {
	struct mesh_config  cfg;
	struct registry     reg;
	struct ports_fixed *fixed;
};

static int
setup(void **state)
{
	static struct fx fx;
	char path[] = "/tmp/test_registry.XXXXXX";
	struct ports_alloc a;
	size_t n;
	int fd = mkstemp(path);

	assert_true(fd != -1);
	assert_true(write(fd, ini, strlen(ini)) == (ssize_t)strlen(ini));
	close(fd);
	assert_int_equal(config_load(path, &fx.cfg, stderr), 0);
	unlink(path);
	assert_int_equal(ports_fixed_collect(&fx.cfg, &fx.fixed, &n), 0);
	ports_alloc_init(&a, fx.cfg.mesh.port_base, fx.fixed, n, all_free, NULL);
	assert_int_equal(registry_init(&fx.reg, &fx.cfg, &a, stderr), 0);
	*state = &fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	registry_free(&fx->reg);
	free(fx->fixed);
	config_free(&fx->cfg);
	return 0;
}

static void
test_names_and_ports(void **state)
{
	struct fx *fx = *state;
	struct registry *r = &fx->reg;

	assert_int_equal(r->ninst, 7);
	assert_string_equal(r->inst[0].id, "web@v1.0");
	assert_string_equal(r->inst[0].name, "web.0");
	assert_string_equal(r->inst[2].id, "api@v1.1");
	assert_string_equal(r->inst[2].name, "api.1");
	assert_string_equal(r->inst[3].id, "api@v2.0");
	assert_string_equal(r->inst[3].name, "api@v2.0");
	/* file order: web in, web out, api.0 in, (21452 taken) out, ... */
	assert_int_equal(r->inst[0].app_port, 21400);
	assert_int_equal(r->inst[0].inbound_port, 21450);
	assert_int_equal(r->inst[0].outbound_port, 21451);
	assert_int_equal(r->inst[1].inbound_port, 21453);
	assert_int_equal(r->inst[1].outbound_port, 21454);
	assert_int_equal(r->inst[2].app_port, 21411);
	assert_int_equal(r->inst[2].inbound_port, 21455);
	assert_int_equal(r->inst[0].listen_ports[1], 21420);
	assert_int_equal(r->inst[0].listen_ports[0], 0);
	/* gw: a pure client with a fixed outbound */
	assert_string_equal(r->inst[5].name, "gw.0");
	assert_int_equal(r->inst[5].inbound_port, 0);
	assert_int_equal(r->inst[5].app_port, 0);
	assert_int_equal(r->inst[5].outbound_port, 21445);
	assert_ptr_equal(registry_find_id(r, "api@v2.0"), &r->inst[3]);
	assert_null(registry_find_id(r, "api@v3.0"));
	assert_true(registry_calls(&r->inst[0], "api"));
	assert_false(registry_calls(&r->inst[0], "unused"));
}

static void
test_document_web(void **state)
{
	struct fx *fx = *state;
	struct registry *r = &fx->reg;
	struct pcfg c;
	const struct pcfg_service *s;
	char *doc, err[128];
	size_t len;

	assert_int_equal(registry_set_up(&r->inst[1], 1), 1);
	assert_int_equal(registry_set_up(&r->inst[1], 1), 0);
	assert_int_equal(registry_document(r, &r->inst[0], &doc, &len), 0);
	assert_int_equal(pcfg_parse(doc, len, &c, err, sizeof(err)), 0);
	assert_string_equal(c.service, "web");
	assert_string_equal(c.version, "v1");
	assert_int_equal(c.index, 0);
	assert_int_equal(c.limits.headers, 50);
	assert_int_equal(c.limits.idle_timeout_ms, 30000);
	assert_int_equal(c.inbound_port, 21450);
	assert_int_equal(c.app_port, 21400);
	assert_int_equal(c.inbound_proto, PCFG_HTTP);
	assert_int_equal(c.outbound_port, 21451);
	assert_int_equal(c.nlistens, 1);
	assert_int_equal(c.listens[0].port, 21420);
	assert_string_equal(c.listens[0].service, "db");
	/* only what web calls: api and db, never gw, unused or web itself */
	assert_int_equal(c.nservices, 2);
	assert_null(pcfg_service_find(&c, "unused", 6));
	assert_null(pcfg_service_find(&c, "web", 3));
	s = pcfg_service_find(&c, "api", 3);
	assert_non_null(s);
	assert_int_equal(s->nendpoints, 3);
	assert_string_equal(s->endpoints[0].version, "v1");
	assert_int_equal(s->endpoints[0].port, 21453);
	assert_true(s->endpoints[0].up);
	assert_false(s->endpoints[1].up);
	assert_int_equal(s->endpoints[1].index, 1);
	assert_string_equal(s->endpoints[2].version, "v2");
	assert_int_equal(s->nsplits, 2);
	assert_string_equal(s->splits[1].version, "v2");
	assert_int_equal(s->splits[1].weight, 10);
	/* [route.api]'s policy: set keys, defaults for the others */
	assert_true(s->has_policy);
	assert_int_equal(s->policy.timeout_ms, 2000);
	assert_int_equal(s->policy.retries, 2);
	assert_int_equal(s->policy.retry_on, PCFG_RETRY_CONNECT | PCFG_RETRY_RESET);
	assert_int_equal(s->policy.nretry_status, 1);
	assert_int_equal(s->policy.retry_status[0], 503);
	assert_int_equal(s->policy.backoff_base_ms, 10);
	assert_int_equal(s->policy.backoff_cap_ms, 100);
	assert_int_equal(s->policy.lb, PCFG_LB_ROUND_ROBIN);
	assert_int_equal(s->policy.breaker_failures, 3);
	assert_int_equal(s->policy.breaker_cooldown_ms, 1500);
	assert_int_equal(s->policy.connect_timeout_ms, 1000);
	assert_int_equal(s->policy.budget_percent, 20);
	assert_int_equal(s->policy.max_pending, 1024);
	assert_int_equal(s->policy.outlier_ejection_ms, 30000);
	assert_non_null(strstr(doc, "\npolicy api "));
	/* [route.api]'s mirror: the caller's sidecar sends the copies */
	assert_string_equal(s->mirror.version, "v2");
	assert_int_equal(s->mirror.permille, 25);
	assert_non_null(strstr(doc, "\nmirror api v2 25\n"));
	s = pcfg_service_find(&c, "db", 2);
	assert_non_null(s);
	assert_int_equal(s->proto, PCFG_TCP);
	assert_int_equal(s->nendpoints, 1);
	assert_int_equal(s->nsplits, 0);
	/* no [route.db]: no policy line, the defaults */
	assert_false(s->has_policy);
	assert_null(strstr(doc, "policy db"));
	assert_null(strstr(doc, "mirror db"));
	assert_int_equal(s->policy.retries, 0);
	assert_int_equal(s->policy.retry_on, PCFG_RETRY_CONNECT);
	assert_int_equal(s->policy.lb, PCFG_LB_EWMA);
	assert_non_null(strstr(doc, "split api v1=90 v2=10\n"));
	/* identity lines: the mesh's trust domain; web has no allow list */
	assert_string_equal(c.trust_domain, "prod.mesh");
	assert_int_equal(c.nallow, 0);
	assert_null(strstr(doc, "allow"));
	free(doc);
	pcfg_free(&c);
	registry_set_up(&r->inst[1], 0);
}

static void
test_document_client(void **state)
{
	struct fx *fx = *state;
	struct registry *r = &fx->reg;
	struct pcfg c;
	char *doc, err[128];
	size_t len;

	/* gw: no inbound line at all, its listener, web only */
	assert_int_equal(registry_document(r, &r->inst[5], &doc, &len), 0);
	assert_null(strstr(doc, "inbound"));
	assert_int_equal(pcfg_parse(doc, len, &c, err, sizeof(err)), 0);
	assert_int_equal(c.inbound_port, 0);
	assert_int_equal(c.nservices, 1);
	assert_string_equal(c.services[0].name, "web");
	assert_int_equal(c.listens[0].port, 21440);
	free(doc);
	pcfg_free(&c);
	/* api calls nobody: no service lines */
	assert_int_equal(registry_document(r, &r->inst[1], &doc, &len), 0);
	assert_null(strstr(doc, "service "));
	assert_int_equal(pcfg_parse(doc, len, &c, err, sizeof(err)), 0);
	assert_int_equal(c.nservices, 0);
	/* its `allow = web, gw` reaches every instance of that section */
	assert_non_null(strstr(doc, "trust_domain prod.mesh\nallow web gw\n"));
	assert_int_equal(c.nallow, 2);
	assert_string_equal(c.allow[1], "gw");
	free(doc);
	pcfg_free(&c);
}

/* http2 and grpc reach the documents: the inbound line of a grpc app,
 * the service line its callers get, and retry_on's gRPC words. */
static void
test_document_grpc(void **state)
{
	static const char h2ini[] =
		"[mesh]\n"
		"port_base = 21550\n"
		"[service.web]\n"
		"port = 21500\n"
		"protocol = http2\n"
		"upstreams = pay:21520\n"
		"[service.pay]\n"
		"port = 21510\n"
		"protocol = grpc\n"
		"[route.pay]\n"
		"retries = 3\n"
		"retry_on = unavailable, resource-exhausted, cancelled, "
		"deadline-exceeded, internal\n";
	char path[] = "/tmp/test_registry.XXXXXX";
	struct mesh_config cfg;
	struct ports_fixed *fixed;
	struct ports_alloc a;
	struct registry reg;
	struct pcfg c;
	const struct pcfg_service *s;
	char *doc, err[128];
	size_t n, len;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd != -1);
	assert_true(write(fd, h2ini, strlen(h2ini)) == (ssize_t)strlen(h2ini));
	close(fd);
	assert_int_equal(config_load(path, &cfg, stderr), 0);
	unlink(path);
	assert_int_equal(ports_fixed_collect(&cfg, &fixed, &n), 0);
	ports_alloc_init(&a, cfg.mesh.port_base, fixed, n, all_free, NULL);
	assert_int_equal(registry_init(&reg, &cfg, &a, stderr), 0);

	assert_int_equal(registry_document(&reg, &reg.inst[0], &doc, &len), 0);
	assert_non_null(strstr(doc, " http2 21500\n"));
	assert_non_null(strstr(doc, "\nservice pay grpc\n"));
	assert_non_null(strstr(doc, " retry_on=unavailable,resource-exhausted,cancelled,"
	    "deadline-exceeded,internal"));
	assert_int_equal(pcfg_parse(doc, len, &c, err, sizeof(err)), 0);
	assert_int_equal(c.inbound_proto, PCFG_HTTP2);
	s = pcfg_service_find(&c, "pay", 3);
	assert_non_null(s);
	assert_int_equal(s->proto, PCFG_GRPC);
	assert_int_equal(s->policy.retries, 3);
	assert_int_equal(s->policy.retry_on, PCFG_RETRY_UNAVAILABLE |
	    PCFG_RETRY_RESOURCE_EXHAUSTED | PCFG_RETRY_CANCELLED |
	    PCFG_RETRY_DEADLINE_EXCEEDED | PCFG_RETRY_INTERNAL);
	assert_int_equal(c.nlistens, 1);
	assert_int_equal(c.listens[0].port, 21520);
	free(doc);
	pcfg_free(&c);

	assert_int_equal(registry_document(&reg, &reg.inst[1], &doc, &len), 0);
	assert_non_null(strstr(doc, " grpc 21510\n"));
	assert_int_equal(pcfg_parse(doc, len, &c, err, sizeof(err)), 0);
	assert_int_equal(c.inbound_proto, PCFG_GRPC);
	free(doc);
	pcfg_free(&c);

	registry_free(&reg);
	free(fixed);
	config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_ports),
		cmocka_unit_test(test_document_web),
		cmocka_unit_test(test_document_client),
		cmocka_unit_test(test_document_grpc),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
