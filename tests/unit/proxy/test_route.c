/* SPDX-License-Identifier: ISC */
/*
 * test_route: authority -> service (src/proxy/route.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/route.h"

static int
name_of(const char *auth, char *out)
{
	const char *n;
	size_t len;

	if (route_authority_name(auth, strlen(auth), &n, &len) == -1)
		return -1;
	memcpy(out, n, len);
	out[len] = '\0';
	return 0;
}

static void
test_mesh_names(void **state)
{
	static const char *const good[] = {
		"api", "api:80", "api.mesh", "api.mesh:80", "API", "Api.Mesh", "api.mesh.",
		"api.", "api.mesh.:80",
	};
	char out[PCFG_NAME_MAX];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(name_of(good[i], out), 0);
		assert_true(strcasecmp(out, "api") == 0);
	}
	assert_int_equal(name_of("my-svc2", out), 0);
	assert_string_equal(out, "my-svc2");
}

static void
test_not_mesh_names(void **state)
{
	static const char *const bad[] = {
		"", ":80", "api:8080", "api:", "api:800", "api:8", "user@api", "api.example.com",
		"api.mesh.x", "a_b", "127.0.0.1", ".mesh", "[::1]:80",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	char out[PCFG_NAME_MAX + 8];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(name_of(bad[i], out), -1);
}

static void
test_lookup_table(void **state)
{
	struct pcfg_endpoint eps[1] = { { "v1", 0, 20901, 1, 0, "" } };
	struct pcfg_service svcs[2] = {
		{ .name = "api", .proto = PCFG_HTTP, .endpoints = eps, .nendpoints = 1 },
		{ .name = "db", .proto = PCFG_TCP },
	};
	struct pcfg cfg = { .services = svcs, .nservices = 2 };
	struct route_table rt;
	struct balance_service *bs;

	assert_int_equal(route_table_init(&rt, &cfg), 0);
	bs = route_lookup(&rt, "api.mesh:80", 11);
	assert_non_null(bs);
	assert_string_equal(bs->svc->name, "api");
	assert_ptr_equal(route_lookup(&rt, "API", 3), bs);
	assert_non_null(route_lookup(&rt, "db", 2));
	assert_null(route_lookup(&rt, "web", 3));          /* not callable from here */
	assert_null(route_lookup(&rt, "api:81", 6));
	assert_ptr_equal(route_service(&rt, "api", 3), bs);
	assert_null(route_service(&rt, "ap", 2));
	assert_int_equal(balance_pick(bs)->port, 20901);
	assert_null(balance_pick(route_service(&rt, "db", 2)));  /* no endpoint: 503 */
	route_table_free(&rt);
}

/* http2 and grpc balance per request with the route's lb, as http does;
 * only tcp rotates per connection (round robin whatever lb says). */
static void
test_balancer_by_proto(void **state)
{
	struct pcfg_service svcs[4] = {
		{ .name = "web", .proto = PCFG_HTTP },
		{ .name = "db", .proto = PCFG_TCP },
		{ .name = "h2", .proto = PCFG_HTTP2 },
		{ .name = "pay", .proto = PCFG_GRPC },
	};
	struct pcfg cfg = { .services = svcs, .nservices = 4 };
	struct route_table rt;
	size_t i;

	for (i = 0; i < 4; i++) {
		pcfg_policy_default(&svcs[i].policy);
		svcs[i].policy.lb = PCFG_LB_LEAST_REQUEST;
	}
	assert_int_equal(route_table_init(&rt, &cfg), 0);
	assert_ptr_equal(route_service(&rt, "web", 3)->ops, balance_ops(PCFG_LB_LEAST_REQUEST));
	assert_ptr_equal(route_service(&rt, "db", 2)->ops, &balance_rr);
	assert_ptr_equal(route_service(&rt, "h2", 2)->ops, balance_ops(PCFG_LB_LEAST_REQUEST));
	assert_ptr_equal(route_service(&rt, "pay", 3)->ops, balance_ops(PCFG_LB_LEAST_REQUEST));
	assert_non_null(route_lookup(&rt, "pay.mesh", 8));
	route_table_free(&rt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mesh_names),
		cmocka_unit_test(test_not_mesh_names),
		cmocka_unit_test(test_lookup_table),
		cmocka_unit_test(test_balancer_by_proto),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
