/* SPDX-License-Identifier: ISC */
/*
 * test_pstate: which listener role each line of the document asks for
 * (pstate_wanted, src/proxy/pstate.c, included for its static function):
 * an http2 or grpc app's inbound and the listeners of http2 and grpc
 * services are HTTP roles (the data path tells h2c by inbound_proto and
 * by the connection preface); only tcp gets the opaque relay roles.
 * Nothing is opened: no port is bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pstate.c"

static enum conn_role
inbound_role(enum pcfg_proto proto)
{
	struct pcfg cfg = { .service = "api", .inbound_port = 21000, .app_port = 9090,
	    .inbound_proto = proto };
	struct want w[4];

	assert_int_equal(pstate_wanted(&cfg, w, 4), 1);
	assert_int_equal(w[0].port, 21000);
	assert_string_equal(w[0].what, "inbound api");
	return w[0].role;
}

static void
test_inbound_roles(void **state)
{
	(void)state;
	assert_int_equal(inbound_role(PCFG_HTTP), ROLE_INBOUND_HTTP);
	assert_int_equal(inbound_role(PCFG_HTTP2), ROLE_INBOUND_HTTP);
	assert_int_equal(inbound_role(PCFG_GRPC), ROLE_INBOUND_HTTP);
	assert_int_equal(inbound_role(PCFG_TCP), ROLE_INBOUND_TCP);
}

static void
test_listen_roles(void **state)
{
	struct pcfg_listen ls[5] = {
		{ 5001, "web" }, { 5002, "db" }, { 5003, "h2" }, { 5004, "pay" },
		{ 5005, "ghost" },
	};
	struct pcfg_service svcs[4] = {
		{ .name = "web", .proto = PCFG_HTTP },
		{ .name = "db", .proto = PCFG_TCP },
		{ .name = "h2", .proto = PCFG_HTTP2 },
		{ .name = "pay", .proto = PCFG_GRPC },
	};
	struct pcfg cfg = { .service = "gw", .outbound_port = 21001, .listens = ls,
	    .nlistens = 5, .services = svcs, .nservices = 4 };
	struct want w[8];

	(void)state;
	assert_int_equal(pstate_wanted(&cfg, w, 8), 6);
	assert_int_equal(w[0].role, ROLE_OUTBOUND);
	assert_int_equal(w[1].role, ROLE_LISTEN_HTTP);
	assert_int_equal(w[2].role, ROLE_LISTEN_TCP);
	assert_int_equal(w[3].role, ROLE_LISTEN_HTTP);
	assert_string_equal(w[3].service, "h2");
	assert_int_equal(w[4].role, ROLE_LISTEN_HTTP);
	assert_string_equal(w[4].what, "upstream pay");
	/* a listen without its service line: HTTP, as before (404 per request) */
	assert_int_equal(w[5].role, ROLE_LISTEN_HTTP);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inbound_roles),
		cmocka_unit_test(test_listen_roles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
