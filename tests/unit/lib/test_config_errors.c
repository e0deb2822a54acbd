/* SPDX-License-Identifier: ISC */
/*
 * test_config_errors: every error path of config_load() that the golden
 * files (tests/config) do not already pin down, each with its exact
 * message, and a load that fails leaves nothing allocated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/config.h"
#include "test_config_util.h"

struct ecase {
	const char *text;
	const char *errs;   /* exact, with "mesh.ini:" for the path */
};

static const struct ecase cases[] = {
	/* [mesh] */
	{ "[mesh]\nmetrics = 9901\n",
	  "2: metrics = 9901: want HOST:PORT with PORT 1..65535\n" },
	{ "[mesh]\nmetrics = example.com:9901\n",
	  "2: metrics = example.com:9901: host must be an IP address or localhost\n" },
	{ "[mesh]\nmetrics = [::1:9901\n",
	  "2: metrics = [::1:9901: host must be an IP address or localhost\n" },
	{ "[mesh]\ntraces = https://collector/v1/traces\n",
	  "2: traces = https://collector/v1/traces: want an http:// URL (OTLP/HTTP JSON)\n" },
	{ "[mesh]\ntraces = http://a b\n",
	  "2: traces = http://a b: blank in URL\n" },
	{ "[mesh]\ntrust_domain = Mesh.Local\n",
	  "2: trust_domain = Mesh.Local: want lowercase letters, digits, '.', '-', '_'\n" },
	{ "[mesh]\nname = my mesh\n",
	  "2: name = my mesh: want 1..63 of [A-Za-z0-9._-]\n" },
	{ "[mesh]\nname = \n",
	  "2: name: empty value\n" },
	{ "[mesh]\ntrace_sample = 0.55%\n",
	  "2: trace_sample = 0.55%: not a percentage (e.g. 1%, 0.5%)\n" },
	{ "[mesh]\ncert_ttl = 30s\n",
	  "2: cert_ttl = 30s: out of range 1m..8760h\n" },
	{ "[mesh]\nmax_header_bytes = 1024\nmax_line_bytes = 2048\n",
	  "1: [mesh]: max_line_bytes 2048 is greater than max_header_bytes 1024\n" },
	{ "[mesh]\nmax_connections = 4294967296\n",
	  "2: max_connections = 4294967296: out of range 1..1000000\n" },
	{ "[mesh]\nmax_headers = 12345678901\n",
	  "2: max_headers = 12345678901: not a number\n" },
	{ "[mesh]\n[mesh]\nname = x\n",
	  "2: [mesh]: duplicate section (first at line 1)\n" },
	{ "[]\nport = 1\n",
	  "1: unknown section [] (want [mesh], [service.NAME], [service.NAME@VERSION] or [route.NAME])\n" },
	{ "[ mesh ]\nname = spaced\n", "" },
	/* [service.*] */
	{ "[service.api@]\n",
	  "1: [service.api@]: bad version '' (want [a-z0-9][a-z0-9.-]{0,31})\n" },
	{ "[service.]\n",
	  "1: [service.]: bad service name '' (want [a-z0-9][a-z0-9-]{0,62})\n" },
	{ "[service.api]\nversion = V1\n",
	  "2: version = V1: bad version (want [a-z0-9][a-z0-9.-]{0,31})\n" },
	{ "[service.api]\nhealth = healthz\n",
	  "2: health = healthz: want a path starting with '/'\n" },
	{ "[service.api]\nport = 80\nhealth = /a b\n",
	  "3: health = /a b: blank or control character in path\n" },
	{ "[service.api]\nhealth = /healthz\n",
	  "2: health = /healthz: service api has no port to check\n" },
	{ "[service.api]\nport = 65535\ninstances = 2\n",
	  "2: port 65535..65536 of api@v1: ports run past 65535 with 2 instances\n" },
	{ "[service.api]\ninstances = 3\nupstreams = db:65534\n[service.db]\n",
	  "3: upstreams db:65534..65536 of api@v1: ports run past 65535 with 3 instances\n" },
	{ "[service.api]\nport = 9000\noutbound = 9000\n",
	  "3: outbound 9000 of api@v1 collides with port 9000 of api@v1 (line 2)\n" },
	{ "[service.api]\nupstreams = a:9000, b:9000\n[service.a]\n[service.b]\n",
	  "2: upstreams b:9000 of api@v1 collides with upstreams a:9000 of api@v1 (line 2)\n" },
	{ "[service.api]\nupstreams = db:x\n",
	  "2: upstreams = db:x: bad port 'x' for db (want 1..65535)\n" },
	{ "[service.api]\nupstreams = db,\n",
	  "2: upstreams = db,: empty item in list\n" },
	{ "[service.api]\nallow = ,\n",
	  "2: allow = ,: empty item in list\n" },
	{ "[service.api]\nallow = ghost\n",
	  "2: allow: no service named 'ghost'\n" },
	{ "[service.api]\nenv.A = 1\nenv.A = 2\n",
	  "3: env.A = 2: duplicate key\n" },
	{ "[service.api]\nenv.http_proxy = x\n",
	  "2: env.http_proxy = x: http_proxy is set by meshd\n" },
	{ "[service.api]\nenv. = x\n",
	  "2: env.: bad variable name (want [A-Za-z_][A-Za-z0-9_]{0,62})\n" },
	{ "[service.api]\nenv.A-B = x\n",
	  "2: env.A-B: bad variable name (want [A-Za-z_][A-Za-z0-9_]{0,62})\n" },
	{ "[service.api]\ncommand =\n",
	  "2: command: empty value\n" },
	{ "[service.api]\n[service.api@v1]\n",
	  "2: [service.api]: version v1 is declared twice (first at line 1)\n" },
	{ "[service.api]\nversion = v2\n[service.api]\n",
	  "3: [service.api]: duplicate section (first at line 1)\n" },
	{ "[service.api]\nport = 80\nprotocol = grpc\nhealth = /healthz\n",
	  "4: health = /healthz: service api is grpc and health checks speak HTTP/1.1; "
	  "without one it is ready when its port accepts (ready_timeout)\n" },
	{ "[service.api]\nhealth = /h\nport = 80\nprotocol = http2\n",
	  "2: health = /h: service api is http2 and health checks speak HTTP/1.1; "
	  "without one it is ready when its port accepts (ready_timeout)\n" },
	{ "[service.api]\nprotocol = grpc\n[service.api@v2]\nprotocol = http2\n",
	  "4: [service.api@v2]: protocol differs from version v1's (line 1); all versions of a service speak one protocol\n" },
	{ "[service.api]\nprotocol = GRPC\n",
	  "2: protocol = GRPC: want one of http, tcp, http2, grpc\n" },
	{ "[service.api]\n[service.api@v2]\nprotocol = tcp\n",
	  "3: [service.api@v2]: protocol differs from version v1's (line 1); all versions of a service speak one protocol\n" },
	/* [route.*] */
	{ "[service.api]\n[route.api]\nsplit = v1:101\n",
	  "3: split = v1:101: bad weight '101' for v1 (want 0..100)\n" },
	{ "[service.api]\n[route.api]\nsplit = V1:100\n",
	  "3: split = V1:100: bad version 'V1'\n" },
	{ "[service.api]\n[route.api]\nsplit = v1:100\n[route.api]\n",
	  "4: [route.api]: duplicate section (first at line 2)\n" },
	{ "[service.api]\n[route.api]\nretry_on = 500, 501, 502, 503, 504, 505, 506, 507, 508\n",
	  "3: retry_on = 500, 501, 502, 503, 504, 505, 506, 507, 508: more than 8 status codes\n" },
	{ "[service.api]\n[route.api]\nretry_on = unavailable, 503, unavailable\n",
	  "3: retry_on = unavailable, 503, unavailable: unavailable listed twice\n" },
	{ "[service.api]\n[route.api]\nretry_on = UNAVAILABLE\n",
	  "3: retry_on = UNAVAILABLE: 'UNAVAILABLE' is not connect-failure, reset, "
	  "unavailable, resource-exhausted, cancelled, deadline-exceeded, internal "
	  "or an HTTP status 400..599\n" },
	{ "[service.api]\n[route.api]\nretry_on = 503, 503\n",
	  "3: retry_on = 503, 503: 503 listed twice\n" },
	{ "[service.api]\n[route.api]\nbackoff = 25ms, 2m\n",
	  "3: backoff = 25ms, 2m: '2m' out of range 1ms..1m\n" },
	{ "[service.api]\n[route.api]\nbackoff = 25, 250ms\n",
	  "3: backoff = 25, 250ms: '25' is not a duration with a unit (us, ms, s, m, h)\n" },
	{ "[service.api]\n[route.api]\nbackoff = 1ms, 2ms, 3ms\n",
	  "3: backoff = 1ms, 2ms, 3ms: want BASE, CAP (two durations)\n" },
	{ "[service.api]\n[route.api]\nretry_budget = 101%\n",
	  "3: retry_budget = 101%: want PERCENT%[, N/s] (e.g. 20%, 10/s)\n" },
	{ "[service.api]\n[route.api]\nretry_budget = 10%, 1/s, 2/s\n",
	  "3: retry_budget = 10%, 1/s, 2/s: want PERCENT%[, N/s] (e.g. 20%, 10/s)\n" },
	{ "[service.api]\n[route.api]\ntimeout = 2h\n",
	  "3: timeout = 2h: out of range 0us..1h\n" },
	{ "[service.api]\n[route.api]\nbreaker.failures = 0\n",
	  "3: breaker.failures = 0: out of range 1..10000\n" },
	{ "[service.api]\n[route.api]\nbreaker.bogus = 1\n",
	  "3: breaker.bogus = 1: unknown key in [route.api]\n" },
	/* syntax */
	{ "port = 1\n",
	  "1: port = 1: key outside any section\n" },
	{ "[service.api]\nport\n",
	  "2: expected 'key = value' or '[section]', not 'port'\n" },
	{ "[service.api]\nport ; = 1\n",
	  "2: expected 'key = value' or '[section]', not 'port ; = 1'\n" },
	{ "[mesh] ; a comment after a header\nname = ok\n", "" },
	{ "[mesh] # so is this\nname = ok\n", "" },
	{ "[mesh]]\n",
	  "1: [mesh]: unexpected ']' after ']'\n" },
};

static void
test_error_cases(void **state)
{
	struct mesh_config cfg;
	char want[1024];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tload t = { 0 };
		const char *p, *nl;
		size_t o = 0;
		int n;

		/* prefix every expected line with the file's path */
		for (p = cases[i].errs; *p != '\0'; p = nl + 1) {
			nl = strchr(p, '\n');
			o += (size_t)snprintf(want + o, sizeof(want) - o, "%s:%.*s\n",
			    "PATH", (int)(nl - p), p);
		}
		want[o] = '\0';
		n = tload(&t, cases[i].text, &cfg);
		{
			/* replace the temp path with PATH for the comparison */
			char got[1024];
			size_t plen = strlen(t.path), g = 0;
			const char *e = t.errs;

			while (*e != '\0' && g < sizeof(got) - 8) {
				if (strncmp(e, t.path, plen) == 0) {
					g += (size_t)snprintf(got + g, sizeof(got) - g, "PATH");
					e += plen;
				} else {
					got[g++] = *e++;
				}
			}
			got[g] = '\0';
			if (strcmp(got, want) != 0)
				fail_msg("case %zu:\n%s\nwant:\n%s\ngot:\n%s", i,
				    cases[i].text, want, got);
		}
		if (cases[i].errs[0] == '\0') {
			assert_int_equal(n, 0);
			config_free(&cfg);
		} else {
			assert_true(n > 0);
			/* freed already, and zeroed */
			assert_null(cfg.services);
			assert_null(cfg.path);
		}
		tload_done(&t);
	}
}

/* Bounds on counts: too many items in one key, too many sections. */
static void
test_count_limits(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };
	char *text = malloc(1 << 16);
	size_t o, i;

	assert_non_null(text);
	o = (size_t)sprintf(text, "[service.api]\nupstreams = ");
	for (i = 0; i < 65; i++)
		o += (size_t)sprintf(text + o, "%ss%zu", i ? "," : "", i);
	sprintf(text + o, "\n");
	assert_int_equal(tload(&t, text, &cfg), 1);
	assert_non_null(strstr(t.errs, ": more than 64 upstreams\n"));
	tload_done(&t);

	o = (size_t)sprintf(text, "[service.api]\n[route.api]\nsplit = ");
	for (i = 0; i < 17; i++)
		o += (size_t)sprintf(text + o, "%sv%zu:%d", i ? "," : "", i, i ? 0 : 100);
	sprintf(text + o, "\n");
	assert_int_equal(tload(&t, text, &cfg), 1);
	assert_non_null(strstr(t.errs, ": more than 16 versions\n"));
	tload_done(&t);

	o = 0;
	for (i = 0; i < 257; i++)
		o += (size_t)sprintf(text + o, "[service.s%zu]\n", i);
	assert_int_equal(tload(&t, text, &cfg), 1);
	assert_non_null(strstr(t.errs, ":257: [service.s256]: more than 256 service sections\n"));
	tload_done(&t);

	o = (size_t)sprintf(text, "[service.api]\n");
	for (i = 0; i < 65; i++)
		o += (size_t)sprintf(text + o, "env.E%zu = x\n", i);
	assert_int_equal(tload(&t, text, &cfg), 1);
	assert_non_null(strstr(t.errs, ":66: env.E64: more than 64 env keys\n"));
	tload_done(&t);

	/* a value of 1000 bytes after expansion is fine; CONF_VALUE_MAX is not */
	setenv("MT_BIG", "", 1);
	{
		char *big = malloc(CONF_VALUE_MAX + 1);

		assert_non_null(big);
		memset(big, 'x', CONF_VALUE_MAX);
		big[CONF_VALUE_MAX] = '\0';
		setenv("MT_BIG", big, 1);
		free(big);
	}
	assert_int_equal(tload(&t, "[service.api]\ncommand = ${MT_BIG}\n", &cfg), 1);
	assert_non_null(strstr(t.errs, ":2: command: value longer than 4095 bytes after ${} expansion\n"));
	tload_done(&t);
	unsetenv("MT_BIG");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_cases),
		cmocka_unit_test(test_count_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
