/* SPDX-License-Identifier: ISC */
/*
 * pcfg, addresses and hosts (issue 16): `endpoint ... <IPv4>:<port> ...
 * [host=<name>]`, `host <name>`, `inbound ... [bind=<IPv4>]`; what they
 * parse to, the exact canonical text they format back to, locality, and
 * the refusals, each naming its line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/pcfg.h"

/* Canonical: pcfg_format writes exactly this text back. */
static const char canon[] =
	"instance api v1 0\n"
	"limit header_bytes 16384\n"
	"limit headers 100\n"
	"limit line_bytes 8192\n"
	"limit header_timeout_ms 10000\n"
	"limit idle_timeout_ms 60000\n"
	"limit connections 1024\n"
	"limit connect_timeout_ms 1000\n"
	"host alpha\n"
	"inbound 21000 http 9090 bind=10.0.0.5\n"
	"outbound 21001\n"
	"service db tcp\n"
	"endpoint db v1 0 21002 up host=alpha\n"
	"endpoint db v1 1 127.0.0.2:21003 up host=beta\n"
	"endpoint db v1 2 10.1.2.3:21004 down\n"
	"endpoint db v1 3 192.168.255.254:21005 up host=alpha.b_c-d\n"
	"end\n";

static void
test_parse_addrs(void **state)
{
	struct pcfg c;
	char err[256];
	const struct pcfg_service *s;

	(void)state;
	assert_int_equal(pcfg_parse(canon, strlen(canon), &c, err, sizeof(err)), 0);
	assert_string_equal(c.host, "alpha");
	assert_int_equal(c.inbound_bind, 0x0a000005u);
	assert_int_equal(c.inbound_port, 21000);
	assert_int_equal(c.app_port, 9090);
	s = pcfg_service_find(&c, "db", 2);
	assert_non_null(s);
	assert_int_equal(s->nendpoints, 4);
	assert_int_equal(pcfg_endpoint_addr(&s->endpoints[0]), 0x7f000001u);
	assert_int_equal(s->endpoints[0].port, 21002);
	assert_string_equal(s->endpoints[0].host, "alpha");
	assert_int_equal(s->endpoints[1].addr, 0x7f000002u);
	assert_int_equal(s->endpoints[1].port, 21003);
	assert_string_equal(s->endpoints[1].host, "beta");
	assert_int_equal(s->endpoints[2].addr, 0x0a010203u);
	assert_false(s->endpoints[2].up);
	assert_string_equal(s->endpoints[2].host, "");
	assert_int_equal(s->endpoints[3].addr, 0xc0a8fffeu);
	/* locality */
	assert_false(pcfg_endpoint_remote(&c, &s->endpoints[0]));
	assert_true(pcfg_endpoint_remote(&c, &s->endpoints[1]));
	assert_false(pcfg_endpoint_remote(&c, &s->endpoints[2]));   /* no host=: ours */
	assert_true(pcfg_endpoint_remote(&c, &s->endpoints[3]));
	c.host[0] = '\0';                                            /* no host line */
	assert_false(pcfg_endpoint_remote(&c, &s->endpoints[1]));
	pcfg_free(&c);
}

static void
test_round_trip_exact(void **state)
{
	struct pcfg c;
	char err[256], *out;
	size_t len;

	(void)state;
	assert_int_equal(pcfg_parse(canon, strlen(canon), &c, err, sizeof(err)), 0);
	assert_int_equal(pcfg_format(&c, &out, &len), 0);
	assert_string_equal(out, canon);
	free(out);
	pcfg_free(&c);
}

/* 127.0.0.1:<port> and bind=127.0.0.1 come back in the short form; a
 * zeroed struct (meshd builds them with calloc) is 127.0.0.1. */
static void
test_loopback_short_form(void **state)
{
	static const char doc[] =
		"instance api v1 0\n"
		"inbound 21000 tcp 9090 bind=127.0.0.1\n"
		"service db tcp\n"
		"endpoint db v1 0 127.0.0.1:21002 up\n"
		"end\n";
	struct pcfg c;
	char err[256], *out;
	size_t len;

	(void)state;
	assert_int_equal(pcfg_parse(doc, strlen(doc), &c, err, sizeof(err)), 0);
	assert_int_equal(pcfg_format(&c, &out, &len), 0);
	assert_non_null(strstr(out, "\ninbound 21000 tcp 9090\n"));
	assert_non_null(strstr(out, "\nendpoint db v1 0 21002 up\n"));
	free(out);
	c.services[0].endpoints[0].addr = 0;
	c.inbound_bind = 0;
	assert_int_equal(pcfg_endpoint_addr(&c.services[0].endpoints[0]), 0x7f000001u);
	assert_int_equal(pcfg_format(&c, &out, &len), 0);
	assert_non_null(strstr(out, "\nendpoint db v1 0 21002 up\n"));
	assert_null(strstr(out, "bind="));
	free(out);
	pcfg_free(&c);
}

static const struct {
	const char *line;   /* line 3, after instance and service */
	const char *err;
} bad[] = {
	{ "endpoint db v1 0 127.0.0.01:21002 up", "line 3: endpoint address: '127.0.0.01' is not an IPv4 address" },
	{ "endpoint db v1 0 127.0.0:21002 up", "line 3: endpoint address: '127.0.0' is not an IPv4" },
	{ "endpoint db v1 0 127.0.0.1.5:21002 up", "line 3: endpoint address: '127.0.0.1.5' is not" },
	{ "endpoint db v1 0 127.0.0.256:21002 up", "line 3: endpoint address: '127.0.0.256' is not" },
	{ "endpoint db v1 0 1277.0.0.1:21002 up", "line 3: endpoint address: '1277.0.0.1' is not" },
	{ "endpoint db v1 0 127..0.1:21002 up", "line 3: endpoint address: '127..0.1' is not" },
	{ "endpoint db v1 0 -1.0.0.1:21002 up", "line 3: endpoint address: '-1.0.0.1' is not" },
	{ "endpoint db v1 0 localhost:21002 up", "line 3: endpoint address: 'localhost' is not" },
	{ "endpoint db v1 0 :21002 up", "line 3: endpoint address: '' is not" },
	{ "endpoint db v1 0 0.0.0.0:21002 up", "line 3: endpoint address: '0.0.0.0' is not a unicast" },
	{ "endpoint db v1 0 224.0.0.1:21002 up", "line 3: endpoint address: '224.0.0.1' is not a unicast" },
	{ "endpoint db v1 0 255.255.255.255:21002 up", "line 3: endpoint address: '255.255.255.255' is not a unicast" },
	{ "endpoint db v1 0 127.0.0.2: up", "line 3: endpoint port: empty number" },
	{ "endpoint db v1 0 127.0.0.2:0 up", "line 3: endpoint port: out of range" },
	{ "endpoint db v1 0 127.0.0.2:65536 up", "line 3: endpoint port: out of range" },
	{ "endpoint db v1 0 127.0.0.2:1:2 up", "line 3: endpoint port: not a number" },
	{ "endpoint db v1 0 21002 up beta", "line 3: endpoint: 'beta' is not host=<name>" },
	{ "endpoint db v1 0 21002 up host=", "line 3: endpoint host: bad length" },
	{ "endpoint db v1 0 21002 up host=a/b", "line 3: endpoint host: bad character" },
	{ "endpoint db v1 0 21002 up host="
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "line 3: endpoint host: bad length" },
	{ "endpoint db v1 0 21002 up host=a x", "line 3: expected 'endpoint <service>" },
	{ "host", "line 3: expected 'host <name>'" },
	{ "host a b", "line 3: expected 'host <name>'" },
	{ "host a:b", "line 3: host: bad character" },
	{ "inbound 21000 http 9090 bind=0.0.0.0", "line 3: inbound bind: '0.0.0.0' is not a unicast" },
	{ "inbound 21000 http 9090 bind=10.0.0", "line 3: inbound bind: '10.0.0' is not an IPv4" },
	{ "inbound 21000 http 9090 bind=", "line 3: inbound bind: '' is not an IPv4" },
	{ "inbound 21000 http 9090 10.0.0.1", "line 3: inbound: '10.0.0.1' is not bind=<IPv4>" },
	{ "inbound 21000 http 9090 bind=10.0.0.1 x", "line 3: expected 'inbound <port>" },
};

static void
test_refusals(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char doc[512], err[256];
		struct pcfg c;

		snprintf(doc, sizeof(doc), "instance api v1 0\nservice db tcp\n%s\nend\n",
		    bad[i].line);
		if (pcfg_parse(doc, strlen(doc), &c, err, sizeof(err)) != -1)
			fail_msg("case %zu parsed: %s", i, bad[i].line);
		if (strncmp(err, bad[i].err, strlen(bad[i].err)) != 0)
			fail_msg("case %zu: got '%s', want '%s...'", i, err, bad[i].err);
		assert_null(c.services);
	}
}

static void
test_host_once(void **state)
{
	static const char doc[] = "instance api v1 0\nhost a\nhost a\nend\n";
	struct pcfg c;
	char err[256];

	(void)state;
	assert_int_equal(pcfg_parse(doc, strlen(doc), &c, err, sizeof(err)), -1);
	assert_string_equal(err, "line 3: duplicate 'host'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_addrs),
		cmocka_unit_test(test_round_trip_exact),
		cmocka_unit_test(test_loopback_short_form),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_host_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
