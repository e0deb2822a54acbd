/* SPDX-License-Identifier: ISC */
/*
 * test_config: loading mesh.ini (src/lib/config*.c): defaults, each section,
 * paths, lookups and the line reader in front of inih.  Value parsers
 * and ${VAR} are in test_config_values.c, error paths in
 * test_config_errors.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ini.h>

#include "mesh/config.h"
#include "test_config_util.h"

#define S_US  UINT64_C(1000000)

static void
test_defaults(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };
	const struct conf_service *s;
	const struct conf_route *r;
	char want[400];

	assert_int_equal(tload(&t, "[service.api]\n[route.api]\n", &cfg), 0);
	/* [mesh] */
	assert_string_equal(cfg.mesh.name, "mesh");
	snprintf(want, sizeof(want), "%s/.mesh", cfg.dir);
	assert_string_equal(cfg.mesh.state_dir, want);
	assert_int_equal(cfg.mesh.state_dir_line, 0);
	assert_string_equal(cfg.mesh.trust_domain, "mesh.local");
	assert_true(cfg.mesh.cert_ttl_us == 24 * 3600 * S_US);
	assert_int_equal(cfg.mesh.port_base, 15000);
	assert_null(cfg.mesh.metrics);
	assert_int_equal(cfg.mesh.metrics_port, 0);
	assert_null(cfg.mesh.traces);
	assert_int_equal(cfg.mesh.trace_sample_permille, 10);
	assert_int_equal(cfg.mesh.access_log, CONF_ACCESS_OFF);
	assert_null(cfg.mesh.access_log_path);
	assert_int_equal(cfg.mesh.max_header_bytes, 16384);
	assert_int_equal(cfg.mesh.max_headers, 100);
	assert_int_equal(cfg.mesh.max_line_bytes, 8192);
	assert_true(cfg.mesh.header_timeout_us == 10 * S_US);
	assert_true(cfg.mesh.idle_timeout_us == 60 * S_US);
	assert_int_equal(cfg.mesh.max_connections, 1024);
	assert_true(cfg.mesh.ready_timeout_us == 60 * S_US);
	/* [service.api] */
	assert_int_equal(cfg.nservices, 1);
	s = &cfg.services[0];
	assert_string_equal(s->name, "api");
	assert_string_equal(s->version, "v1");
	assert_int_equal(s->line, 1);
	assert_null(s->command);
	assert_int_equal(s->port, 0);
	assert_int_equal(s->instances, 1);
	assert_int_equal(s->protocol, CONF_PROTO_HTTP);
	assert_null(s->health);
	assert_int_equal(s->nupstreams, 0);
	assert_int_equal(s->nallow, 0);
	assert_int_equal(s->outbound, 0);
	assert_int_equal(s->restart, CONF_RESTART_ON_FAILURE);
	assert_true(s->ready_timeout_us == 0);        /* [mesh]'s, through: */
	assert_true(config_ready_timeout(&cfg, s) == 60 * S_US);
	assert_int_equal(s->nenv, 0);
	assert_int_equal(s->versioned, 0);
	/* [route.api] */
	assert_int_equal(cfg.nroutes, 1);
	r = &cfg.routes[0];
	assert_string_equal(r->name, "api");
	assert_int_equal(r->line, 2);
	assert_int_equal(r->nsplit, 0);
	assert_true(r->timeout_us == 0);
	assert_true(r->connect_timeout_us == S_US);
	assert_int_equal(r->retries, 0);
	assert_int_equal(r->retry_on, CONF_RETRY_CONNECT_FAILURE);
	assert_int_equal(r->nretry_status, 0);
	assert_true(r->backoff_base_us == 25000);
	assert_true(r->backoff_cap_us == 250000);
	assert_int_equal(r->budget_percent, 20);
	assert_int_equal(r->budget_per_sec, 10);
	assert_int_equal(r->lb, CONF_LB_EWMA);
	assert_int_equal(r->breaker_failures, 5);
	assert_true(r->breaker_cooldown_us == 5 * S_US);
	assert_int_equal(r->breaker_max_pending, 1024);
	assert_int_equal(r->outlier_failures, 5);
	assert_true(r->outlier_ejection_us == 30 * S_US);
	config_free(&cfg);
	tload_done(&t);
}

static const char design_example[] =
	"[mesh]\n"
	"name = shop                      ; shown in the dashboard\n"
	"state_dir = .mesh                ; relative to this file\n"
	"trust_domain = mesh.local        ; SPIFFE trust domain\n"
	"cert_ttl = 24h\n"
	"port_base = 15000\n"
	"metrics = 127.0.0.1:9901\n"
	"traces = http://127.0.0.1:4318/v1/traces   ; OTLP/HTTP JSON\n"
	"trace_sample = 1%\n"
	"access_log = off                 ; off | json | PATH\n"
	"\n"
	"[service.api]                    ; service \"api\"\n"
	"version = v1\n"
	"command = ./api --port $PORT     ; optional\n"
	"port = 9090\n"
	"instances = 2\n"
	"protocol = http\n"
	"health = /healthz\n"
	"upstreams = db:5433, auth\n"
	"allow = web, admin\n"
	"outbound = 15001\n"
	"restart = on-failure\n"
	"env.LOG_LEVEL = debug            ; extra environment for command\n"
	"\n"
	"[service.api@v2]\n"
	"command = ./api-v2 --port $PORT\n"
	"port = 9190\n"
	"\n"
	"[service.db]\n"
	"protocol = tcp\n"
	"[service.auth]\n"
	"[service.web]\n"
	"[service.admin]\n"
	"restart = never\n"
	"\n"
	"[route.api]\n"
	"split = v1:90, v2:10\n"
	"timeout = 2s\n"
	"connect_timeout = 250ms\n"
	"retries = 2\n"
	"retry_on = connect-failure, reset, 502, 503, 504\n"
	"backoff = 25ms, 250ms\n"
	"retry_budget = 20%, 10/s\n"
	"lb = ewma\n"
	"breaker.failures = 5\n"
	"breaker.cooldown = 5s\n"
	"breaker.max_pending = 1024\n"
	"outlier.failures = 5\n"
	"outlier.ejection = 30s\n";

static void
test_design_example(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };
	const struct conf_service *s;
	const struct conf_route *r;

	assert_int_equal(tload(&t, design_example, &cfg), 0);
	assert_string_equal(cfg.mesh.name, "shop");
	assert_string_equal(cfg.mesh.metrics, "127.0.0.1:9901");
	assert_int_equal(cfg.mesh.metrics_port, 9901);
	assert_int_equal(cfg.mesh.metrics_line, 7);
	assert_int_equal(cfg.mesh.state_dir_line, 3);
	assert_string_equal(cfg.mesh.traces, "http://127.0.0.1:4318/v1/traces");
	assert_int_equal(cfg.nservices, 6);

	s = config_service(&cfg, "api", NULL);
	assert_non_null(s);
	assert_string_equal(s->version, "v1");
	assert_string_equal(s->command, "./api --port $PORT");
	assert_int_equal(s->port, 9090);
	assert_int_equal(s->port_line, 15);
	assert_int_equal(s->instances, 2);
	assert_string_equal(s->health, "/healthz");
	assert_int_equal(s->health_line, 18);
	assert_int_equal(s->nupstreams, 2);
	assert_string_equal(s->upstreams[0].name, "db");
	assert_int_equal(s->upstreams[0].port, 5433);
	assert_int_equal(s->upstreams[0].line, 19);
	assert_string_equal(s->upstreams[1].name, "auth");
	assert_int_equal(s->upstreams[1].port, 0);
	assert_int_equal(s->nallow, 2);
	assert_string_equal(s->allow[0], "web");
	assert_string_equal(s->allow[1], "admin");
	assert_int_equal(s->allow_line, 20);
	assert_int_equal(s->outbound, 15001);
	assert_int_equal(s->outbound_line, 21);
	assert_int_equal(s->nenv, 1);
	assert_string_equal(s->env[0].key, "LOG_LEVEL");
	assert_string_equal(s->env[0].value, "debug");

	s = config_service(&cfg, "api", "v2");
	assert_non_null(s);
	assert_int_equal(s->versioned, 1);
	assert_int_equal(s->line, 25);
	assert_int_equal(s->port, 9190);
	/* inherits nothing but the name */
	assert_int_equal(s->instances, 1);
	assert_null(s->health);
	assert_int_equal(s->nupstreams, 0);
	assert_int_equal(s->nenv, 0);
	assert_null(config_service(&cfg, "api", "v3"));
	assert_int_equal(config_service(&cfg, "db", NULL)->protocol, CONF_PROTO_TCP);
	assert_int_equal(config_service(&cfg, "admin", NULL)->restart, CONF_RESTART_NEVER);
	assert_null(config_service(&cfg, "nope", NULL));

	r = config_route(&cfg, "api");
	assert_non_null(r);
	assert_int_equal(r->nsplit, 2);
	assert_string_equal(r->split[0].version, "v1");
	assert_int_equal(r->split[0].weight, 90);
	assert_string_equal(r->split[1].version, "v2");
	assert_int_equal(r->split[1].weight, 10);
	assert_int_equal(r->split_line, 37);
	assert_true(r->timeout_us == 2 * S_US);
	assert_true(r->connect_timeout_us == 250000);
	assert_int_equal(r->retries, 2);
	assert_int_equal(r->retry_on, CONF_RETRY_CONNECT_FAILURE | CONF_RETRY_RESET);
	assert_int_equal(r->nretry_status, 3);
	assert_int_equal(r->retry_status[0], 502);
	assert_int_equal(r->retry_status[2], 504);
	assert_null(config_route(&cfg, "db"));
	config_free(&cfg);
	tload_done(&t);
}

static void
test_mesh_keys(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };

	assert_int_equal(tload(&t,
	    "[mesh]\n"
	    "state_dir = /var/lib/mesh-test\n"
	    "access_log = logs/access.json\n"
	    "trace_sample = 0.5%\n"
	    "metrics = [::1]:9901\n"
	    "max_header_bytes = 32768\n"
	    "max_headers = 50\n"
	    "max_line_bytes = 4096\n"
	    "header_timeout = 500ms\n"
	    "idle_timeout = 2m\n"
	    "max_connections = 10\n"
	    "cert_ttl = 90m\n"
	    "ready_timeout = 2m\n"
	    "port_base = 20000\n"
	    "[service.api]\n"
	    "[service.web]\n"
	    "ready_timeout = 1500ms\n", &cfg), 0);
	assert_string_equal(cfg.mesh.state_dir, "/var/lib/mesh-test");
	assert_int_equal(cfg.mesh.access_log, CONF_ACCESS_PATH);
	assert_non_null(cfg.mesh.access_log_path);
	assert_int_equal(cfg.mesh.access_log_path[0], '/');
	assert_non_null(strstr(cfg.mesh.access_log_path, "/logs/access.json"));
	assert_int_equal(cfg.mesh.trace_sample_permille, 5);
	assert_int_equal(cfg.mesh.metrics_port, 9901);
	assert_int_equal(cfg.mesh.max_header_bytes, 32768);
	assert_int_equal(cfg.mesh.max_headers, 50);
	assert_int_equal(cfg.mesh.max_line_bytes, 4096);
	assert_true(cfg.mesh.header_timeout_us == 500000);
	assert_true(cfg.mesh.idle_timeout_us == 120 * S_US);
	assert_int_equal(cfg.mesh.max_connections, 10);
	assert_true(cfg.mesh.cert_ttl_us == 90 * 60 * S_US);
	assert_int_equal(cfg.mesh.port_base, 20000);
	/* a [service] ready_timeout wins over [mesh]'s */
	assert_true(cfg.mesh.ready_timeout_us == 120 * S_US);
	assert_true(config_ready_timeout(&cfg, config_service(&cfg, "api", NULL)) == 120 * S_US);
	assert_true(config_ready_timeout(&cfg, config_service(&cfg, "web", NULL)) == 1500000);
	config_free(&cfg);
	tload_done(&t);

	assert_int_equal(tload(&t, "[mesh]\naccess_log = json\n", &cfg), 0);
	assert_int_equal(cfg.mesh.access_log, CONF_ACCESS_JSON);
	assert_null(cfg.mesh.access_log_path);
	config_free(&cfg);
	tload_done(&t);
}

/* The mesh name defaults to the file's base name without ".ini". */
static void
test_name_from_file(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };

	tload_write(&t, "shop.ini", "[service.a]\n");
	assert_int_equal(tload_run(&t, &cfg), 0);
	assert_string_equal(cfg.mesh.name, "shop");
	assert_string_equal(cfg.path, t.path);
	assert_string_equal(cfg.dir, t.dir);
	config_free(&cfg);
	tload_done(&t);

	tload_write(&t, "edge.conf", "");
	assert_int_equal(tload_run(&t, &cfg), 0);
	assert_string_equal(cfg.mesh.name, "edge.conf");
	assert_int_equal(cfg.nservices, 0);
	config_free(&cfg);
	tload_done(&t);
}

/* A relative path: state_dir is still absolute, against the file's dir. */
static void
test_relative_path(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };
	char cwd[512], want[600];

	tload_write(&t, NULL, "[mesh]\nstate_dir = ./st\n");
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(t.dir), 0);
	assert_int_equal(config_load("mesh.ini", &cfg, stderr), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_string_equal(cfg.path, "mesh.ini");
	assert_string_equal(cfg.dir, t.dir);
	snprintf(want, sizeof(want), "%s/st", t.dir);
	assert_string_equal(cfg.mesh.state_dir, want);
	config_free(&cfg);
	tload_done(&t);
}

static void
test_service_version_key(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };

	assert_int_equal(tload(&t,
	    "[service.api]\nversion = 2024.1-rc1\n"
	    "[service.api@v2]\nversion = v2\n", &cfg), 0);
	assert_string_equal(cfg.services[0].version, "2024.1-rc1");
	assert_int_equal(cfg.services[0].version_line, 2);
	assert_string_equal(cfg.services[1].version, "v2");
	assert_int_equal(cfg.services[1].versioned, 1);
	config_free(&cfg);
	tload_done(&t);
}

static void
test_route_keys(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };
	const struct conf_route *r;

	assert_int_equal(tload(&t,
	    "[service.api]\n[service.api@b]\n[service.api@c]\n"
	    "[route.api]\n"
	    "split = v1:0, b:34, c:66\n"
	    "timeout = 0s\n"
	    "retry_on = 429, reset\n"
	    "backoff = 1ms, 1m\n"
	    "retry_budget = 5%\n"
	    "lb = round-robin\n"
	    "breaker.max_pending = 1\n"
	    "outlier.ejection = 1h\n", &cfg), 0);
	r = &cfg.routes[0];
	assert_int_equal(r->nsplit, 3);
	assert_int_equal(r->split[0].weight, 0);
	assert_true(r->timeout_us == 0);
	assert_int_equal(r->retry_on, CONF_RETRY_RESET);
	assert_int_equal(r->nretry_status, 1);
	assert_int_equal(r->retry_status[0], 429);
	assert_true(r->backoff_base_us == 1000);
	assert_true(r->backoff_cap_us == 60 * S_US);
	assert_int_equal(r->budget_percent, 5);
	assert_int_equal(r->budget_per_sec, 0);
	assert_int_equal(r->lb, CONF_LB_ROUND_ROBIN);
	assert_int_equal(r->breaker_max_pending, 1);
	assert_true(r->outlier_ejection_us == 3600 * S_US);
	config_free(&cfg);
	tload_done(&t);
}

/* http2 and grpc: parsed, L7 like http, named back; gRPC retry_on words */
static void
test_proto_h2_grpc(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };
	const struct conf_route *r;

	assert_int_equal(tload(&t,
	    "[service.pay]\nport = 50051\nprotocol = grpc\n"
	    "[service.pay@v2]\nport = 50052\nprotocol = grpc\n"
	    "[service.web]\nport = 8080\nprotocol = http2\nupstreams = pay\n"
	    "[route.pay]\nsplit = v1:90, v2:10\nretries = 2\n"
	    "retry_on = unavailable, resource-exhausted, cancelled, "
	    "deadline-exceeded, internal, reset, 503\n", &cfg), 0);
	assert_int_equal(config_service(&cfg, "pay", NULL)->protocol, CONF_PROTO_GRPC);
	assert_int_equal(config_service(&cfg, "pay", "v2")->protocol, CONF_PROTO_GRPC);
	assert_int_equal(config_service(&cfg, "web", NULL)->protocol, CONF_PROTO_HTTP2);
	assert_int_equal(config_service(&cfg, "web", NULL)->protocol_line, 9);
	r = config_route(&cfg, "pay");
	assert_int_equal(r->retry_on, CONF_RETRY_UNAVAILABLE | CONF_RETRY_RESOURCE_EXHAUSTED |
	    CONF_RETRY_CANCELLED | CONF_RETRY_DEADLINE_EXCEEDED | CONF_RETRY_INTERNAL |
	    CONF_RETRY_RESET);
	assert_int_equal(r->nretry_status, 1);
	assert_int_equal(r->retry_status[0], 503);
	config_free(&cfg);
	tload_done(&t);

	assert_true(conf_proto_l7(CONF_PROTO_HTTP));
	assert_true(conf_proto_l7(CONF_PROTO_HTTP2));
	assert_true(conf_proto_l7(CONF_PROTO_GRPC));
	assert_false(conf_proto_l7(CONF_PROTO_TCP));
	assert_string_equal(conf_proto_name(CONF_PROTO_HTTP), "http");
	assert_string_equal(conf_proto_name(CONF_PROTO_TCP), "tcp");
	assert_string_equal(conf_proto_name(CONF_PROTO_HTTP2), "http2");
	assert_string_equal(conf_proto_name(CONF_PROTO_GRPC), "grpc");
}

/* ---- the reader in front of inih ---------------------------------------- */

static void
test_reader_comments_and_blanks(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };
	const struct conf_service *s;

	assert_int_equal(tload(&t,
	    "\xEF\xBB\xBF[service.api]\r\n"        /* BOM, CRLF */
	    "; comment\r\n"
	    "# comment\n"
	    "   ; indented comment\n"
	    "\n"
	    "command = ./a;b c\t; a comment after a tab\n"
	    "   port = 9090\n"                     /* not a continuation */
	    "\tinstances = 3\n"
	    "env.X = a # not a comment\n"
	    "env.Y = \"quoted ; text\"\n"
	    "env.Z =\n"
	    "  [service.web]  ; an indented header\n"
	    "port: 9191\n", &cfg), 0);
	s = &cfg.services[0];
	assert_string_equal(s->command, "./a;b c");
	assert_int_equal(s->port, 9090);
	assert_int_equal(s->port_line, 7);
	assert_int_equal(s->instances, 3);
	assert_string_equal(s->env[0].value, "a # not a comment");
	assert_string_equal(s->env[1].value, "\"quoted");   /* no quoting */
	assert_string_equal(s->env[2].value, "");
	assert_int_equal(cfg.nservices, 2);
	assert_int_equal(cfg.services[1].line, 12);
	assert_int_equal(cfg.services[1].port, 9191);
	config_free(&cfg);
	tload_done(&t);
}

/* Exactly CONF_LINE_MAX bytes pass whole (inih alone cuts at 200). */
static void
test_reader_long_line(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };
	char *text = malloc(3 * CONF_LINE_MAX);
	const char *head = "[service.api]\ncommand = ";
	size_t n, vlen = CONF_LINE_MAX - strlen("command = ");
	int before = ini_max_line;

	assert_non_null(text);
	n = (size_t)sprintf(text, "%s", head);
	memset(text + n, 'x', vlen);
	n += vlen;
	n += (size_t)sprintf(text + n, "\nport = 9090\n");
	assert_int_equal(tload(&t, text, &cfg), 0);
	assert_int_equal(strlen(cfg.services[0].command), vlen);
	assert_int_equal(cfg.services[0].port_line, 3);
	assert_int_equal(ini_max_line, before);    /* restored */
	config_free(&cfg);
	tload_done(&t);

	/* one byte more: an error, and the next line keeps its number */
	n = (size_t)sprintf(text, "%s", head);
	memset(text + n, 'x', vlen + 1);
	n += vlen + 1;
	sprintf(text + n, "\nport = 0\n");
	assert_int_equal(tload(&t, text, &cfg), 2);
	assert_non_null(strstr(t.errs, "mesh.ini:2: line longer than 1024 bytes\n"));
	assert_non_null(strstr(t.errs, "mesh.ini:3: port = 0: out of range 1..65535\n"));
	tload_done(&t);
	free(text);
}

static void
test_reader_nul_byte(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };
	FILE *f;

	tload_write(&t, NULL, "");
	f = fopen(t.path, "w");
	assert_non_null(f);
	fwrite("[service.api]\nport = 90\0" "90\n", 1, 27, f);
	fclose(f);
	assert_int_equal(tload_run(&t, &cfg), 1);
	assert_non_null(strstr(t.errs, ":2: NUL byte in line"));
	tload_done(&t);
}

static void
test_missing_file(void **state)
{
	struct mesh_config cfg;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_int_equal(config_load("/nonexistent/dir/mesh.ini", &cfg, m), 1);
	fclose(m);
	assert_string_equal(buf, "/nonexistent/dir/mesh.ini: cannot open: "
	    "No such file or directory\n");
	assert_null(cfg.services);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_design_example),
		cmocka_unit_test(test_mesh_keys),
		cmocka_unit_test(test_name_from_file),
		cmocka_unit_test(test_relative_path),
		cmocka_unit_test(test_service_version_key),
		cmocka_unit_test(test_route_keys),
		cmocka_unit_test(test_proto_h2_grpc),
		cmocka_unit_test(test_reader_comments_and_blanks),
		cmocka_unit_test(test_reader_long_line),
		cmocka_unit_test(test_reader_nul_byte),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
