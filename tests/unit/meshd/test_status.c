/* SPDX-License-Identifier: ISC */
/*
 * status: the JSON document is valid JSON (a small strict checker below)
 * with the documented fields and real values only (null for what does not
 * exist); the text table has a row per instance and the split.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "mesh/config.h"
#include "mesh/json_esc.h"
#include "mesh/meshd_ctx.h"
#include "mesh/ports.h"
#include "mesh/registry.h"
#include "mesh/stats.h"
#include "mesh/status.h"
#include "mesh/svc.h"

/* ---- a strict JSON checker (RFC 8259 grammar, no extensions) ---- */
static const char *jp;
static int json_value(int depth);

static void json_ws(void) { while (*jp == ' ' || *jp == '\n' || *jp == '\t' || *jp == '\r') jp++; }

static int
json_string(void)
{
	if (*jp++ != '"')
		return 0;
	while (*jp != '"') {
		if ((unsigned char)*jp < 0x20 || *jp == '\0')
			return 0;
		if (*jp == '\\') {
			jp++;
			if (*jp == 'u') {
				int i;

				for (i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", jp[i]) || jp[i] == '\0')
						return 0;
				jp += 4;
			} else if (!strchr("\"\\/bfnrt", *jp) || *jp == '\0')
				return 0;
		}
		jp++;
	}
	jp++;
	return 1;
}

static int
json_number(void)
{
	const char *s = jp;

	if (*jp == '-')
		jp++;
	if (*jp == '0')
		jp++;
	else if (*jp >= '1' && *jp <= '9')
		while (*jp >= '0' && *jp <= '9') jp++;
	else
		return 0;
	if (*jp == '.') {
		jp++;
		if (!(*jp >= '0' && *jp <= '9')) return 0;
		while (*jp >= '0' && *jp <= '9') jp++;
	}
	return jp > s;
}

static int
json_value(int depth)
{
	if (depth > 32)
		return 0;
	json_ws();
	if (*jp == '{') {
		jp++;
		json_ws();
		if (*jp == '}') { jp++; return 1; }
		for (;;) {
			json_ws();
			if (!json_string()) return 0;
			json_ws();
			if (*jp++ != ':') return 0;
			if (!json_value(depth + 1)) return 0;
			json_ws();
			if (*jp == ',') { jp++; continue; }
			if (*jp++ == '}') return 1;
			return 0;
		}
	}
	if (*jp == '[') {
		jp++;
		json_ws();
		if (*jp == ']') { jp++; return 1; }
		for (;;) {
			if (!json_value(depth + 1)) return 0;
			json_ws();
			if (*jp == ',') { jp++; continue; }
			if (*jp++ == ']') return 1;
			return 0;
		}
	}
	if (*jp == '"')
		return json_string();
	if (strncmp(jp, "null", 4) == 0 || strncmp(jp, "true", 4) == 0) { jp += 4; return 1; }
	if (strncmp(jp, "false", 5) == 0) { jp += 5; return 1; }
	return json_number();
}

static int
json_valid(const char *s)
{
	jp = s;
	if (!json_value(0))
		return 0;
	json_ws();
	return *jp == '\0';
}

/* ---- fixture: a meshd context with nothing started ---- */
static const char ini[] =
	"[mesh]\n"
	"name = shop\n"
	"port_base = 21470\n"
	"[service.web]\n"
	"command = ./web\n"
	"port = 21460\n"
	"upstreams = api:21465\n"
	"[service.api]\n"
	"command = ./api\n"
	"port = 21462\n"
	"[service.api@v2]\n"
	"port = 21463\n"
	"[service.pay]\n"
	"port = 21464\n"
	"protocol = grpc\n"
	"[route.api]\n"
	"split = v1:75, v2:25\n"
	"mirror = api@v2 12.5%\n";

static struct meshd m;
static struct ports_fixed *fixed;

static int
setup(void **state)
{
	char path[] = "/tmp/test_status.XXXXXX";
	struct ports_alloc a;
	size_t n;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd != -1);
	assert_true(write(fd, ini, strlen(ini)) == (ssize_t)strlen(ini));
	close(fd);
	assert_int_equal(config_load(path, &m.cfg, stderr), 0);
	snprintf(m.config_path, sizeof(m.config_path), "%s", path);
	unlink(path);
	assert_int_equal(ports_fixed_collect(&m.cfg, &fixed, &n), 0);
	ports_alloc_init(&a, m.cfg.mesh.port_base, fixed, n, NULL, NULL);
	assert_int_equal(registry_init(&m.reg, &m.cfg, &a, stderr), 0);
	m.loop = ev_default_loop(0);
	m.started = ev_now(m.loop);
	m.pid = 4242;
	assert_int_equal(svc_init(&m, NULL), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	svc_free(&m);
	registry_free(&m.reg);
	free(fixed);
	config_free(&m.cfg);
	return 0;
}

static void
test_checker(void **state)
{
	(void)state;
	assert_true(json_valid("{\"a\":[1,-2.5,null,\"x\\n\"],\"b\":{}}"));
	assert_false(json_valid("{\"a\":1,}"));
	assert_false(json_valid("{\"a\":01}"));
	assert_false(json_valid("{\"a\":\"\x01\"}"));
	assert_false(json_valid("[1] x"));
}

static void
test_json(void **state)
{
	char *out;
	size_t len;

	(void)state;
	/* pretend: web's sidecar runs as 100 and was restarted twice */
	m.insts[0].proxy.pid = 100;
	m.insts[0].proxy.state = PROC_RUNNING;
	m.insts[0].proxy.restarts = 2;
	m.insts[0].app.last_status = 3 << 8;
	m.insts[1].app.state = PROC_FATAL;
	assert_int_equal(status_json(&m, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	if (getenv("TEST_STATUS_PRINT") != NULL)
		printf("%s", out);
	if (!json_valid(out))
		fail_msg("invalid JSON: %s", out);
	assert_non_null(strstr(out, "{\"mesh\":{\"name\":\"shop\",\"config\":\""));
	assert_non_null(strstr(out, "\"meshd_pid\":4242,\"uptime_s\":0,\"state\":\"starting\",\"running\":true}"));
	assert_non_null(strstr(out, "{\"name\":\"web\",\"version\":\"v1\",\"protocol\":\"http\","
	    "\"instances\":[{\"index\":0,\"name\":\"web.0\",\"id\":\"web@v1.0\","
	    "\"state\":\"starting\",\"app_pid\":null,\"proxy_pid\":100,\"proxy_ready\":false,"
	    "\"app_port\":21460,"
	    "\"inbound_port\":21470,\"outbound_port\":21471,"
	    "\"listeners\":[{\"port\":21465,\"upstream\":\"api\"}],"
	    "\"restarts\":2,\"uptime_s\":0,\"last_exit\":\"exited with status 3\","
	    "\"endpoint\":\"down\",\"cert\":null,\"stats\":null,"
	    "\"breaker\":{\"state\":null,\"callers\":[]},\"ejected\":false,\"host\":null}],"
	    "\"summary\":{\"instances_up\":0,\"instances_total\":1,\"rps\":0.00,"
	    "\"success_rate\":null,\"p50_ms\":null,\"p95_ms\":null,\"p99_ms\":null,"
	    "\"requests\":0,\"source\":\"inbound\",\"grpc_calls\":0,\"grpc_success\":null}}"));
	/* the protocol as mesh.ini says it */
	assert_non_null(strstr(out, "{\"name\":\"pay\",\"version\":\"v1\",\"protocol\":\"grpc\","));
	assert_non_null(strstr(out, "\"service_totals\":[{\"name\":\"web\",\"versions\":1,"
	    "\"summary\":{"));
	assert_non_null(strstr(out, "{\"name\":\"api\",\"versions\":2,\"summary\":"
	    "{\"instances_up\":0,\"instances_total\":2,"));
	assert_non_null(strstr(out, "\"name\":\"api.0\",\"id\":\"api@v1.0\",\"state\":\"fatal\""));
	assert_non_null(strstr(out, "\"name\":\"api@v2.0\""));
	assert_non_null(strstr(out, "\"routes\":[{\"name\":\"api\",\"split\":"
	    "[{\"version\":\"v1\",\"weight\":75},{\"version\":\"v2\",\"weight\":25}],"
	    "\"fault\":null,\"mirror\":{\"version\":\"v2\",\"percent\":12.5,\"source\":\"file\"}}]}"));
	assert_null(strstr(out, "\"pid\":0"));
	free(out);

	/* a fault in force (the file's: no override in m.faults) */
	{
		struct conf_route *rt = (struct conf_route *)config_route(&m.cfg, "api");
		struct conf_fault saved = rt->fault;

		rt->fault.abort_permille = 5;
		rt->fault.abort_status = 503;
		rt->fault.delay_permille = 100;
		rt->fault.delay_us = 300000;
		snprintf(rt->fault.version, sizeof(rt->fault.version), "v2");
		assert_int_equal(status_json(&m, &out, &len), 0);
		assert_true(json_valid(out));
		assert_non_null(strstr(out, "\"fault\":{\"delay_percent\":10,\"delay_ms\":300,"
		    "\"abort_percent\":0.5,\"abort_status\":503,\"match\":null,"
		    "\"version\":\"v2\",\"source\":\"file\"},\"mirror\":"));
		free(out);
		assert_int_equal(status_text(&m, &out, &len), 0);
		assert_non_null(strstr(out, "\napi: FAULT abort 0.5% 503, delay 10% 300ms, "
		    "version v2 (file)\n"));
		free(out);
		rt->fault = saved;
	}
}

static size_t
count_of(const char *text, const char *needle)
{
	size_t n = 0;

	for (; (text = strstr(text, needle)) != NULL; text++)
		n++;
	return n;
}

/* The widest line of a text, the header line (a path) left out. */
static size_t
max_width(const char *s)
{
	const char *nl;
	size_t w = 0;

	s = strchr(s, '\n') + 1;
	for (; (nl = strchr(s, '\n')) != NULL; s = nl + 1)
		if ((size_t)(nl - s) > w)
			w = (size_t)(nl - s);
	return w;
}

/* A sidecar's stats file shows up in both documents. */
static void
test_stats(void **state)
{
	char dir[] = "/tmp/test_status_sd.XXXXXX", p[4096], *out, *saved;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	saved = m.cfg.mesh.state_dir;
	m.cfg.mesh.state_dir = dir;
	snprintf(p, sizeof(p), "%s/run", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/run/stats", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(stats_path(p, sizeof(p), dir, "web@v1.0"), 0);
	assert_int_equal(stats_open(p), 0);
	stats_add(STAT_REQUESTS_IN, 7);
	stats_inc(STAT_REQUESTS_OUT);
	stats_inc(STAT_RESP_IN_5XX);
	stats_refusal(403);
	stats_close();
	assert_int_equal(status_json(&m, &out, &len), 0);
	if (!json_valid(out))
		fail_msg("invalid JSON: %s", out);
	assert_non_null(strstr(out, "\"endpoint\":\"down\",\"cert\":null,\"stats\":{\"pid\":"));
	assert_non_null(strstr(out, ",\"connections_total\":0,\"connections_open\":0,"
	    "\"requests_in\":7,\"requests_out\":1,"
	    "\"responses_in\":{\"2xx\":0,\"3xx\":0,\"4xx\":0,\"5xx\":1},"
	    "\"responses_out\":{\"2xx\":0,\"3xx\":0,\"4xx\":0,\"5xx\":0},"
	    "\"refused\":{\"bad_request\":0,\"no_route\":0,\"no_upstream\":0,"
	    "\"upstream_error\":0,\"timeout\":0,\"not_allowed\":1},"
	    "\"tls_handshakes_ok\":0,\"tls_handshakes_failed\":0,"
	    "\"bytes_in\":0,\"bytes_out\":0,"));
	/* traffic policy counters, grouped by their dotted names */
	assert_non_null(strstr(out, ",\"outlier\":{\"ejections\":0,\"ejected\":0},"
	    "\"retries\":0,\"retries_budget_exhausted\":0,\"timeouts\":0,"
	    "\"breaker\":{\"opened\":0,\"open\":0},\"overloaded\":0,"
	    "\"requests_in_flight\":0,\"faults\":{\"abort\":0,\"delay\":0},"
	    "\"mirror\":{\"requests\":0,\"2xx\":0,\"3xx\":0,\"4xx\":0,\"5xx\":0,"
	    "\"errors\":0,\"skipped\":0,\"duration_us\":0},"
	    "\"http2\":{\"sessions\":0,\"streams\":0,\"floods\":0},\"peers\":[]}"));
	/* the other instances have no file */
	assert_non_null(strstr(out, "\"stats\":null"));
	free(out);
	assert_int_equal(status_text(&m, &out, &len), 0);
	assert_non_null(strstr(out, "REQ IN/OUT"));
	/* REQ IN/OUT, 5XX, BRK/EJ of web.0 */
	assert_non_null(strstr(out, "        7/1   1 0/0\n"));
	free(out);
	unlink(p);
	snprintf(p, sizeof(p), "%s/run/stats", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/run", dir);
	rmdir(p);
	rmdir(dir);
	m.cfg.mesh.state_dir = saved;
}

/* gRPC calls: per peer row by status, per summary the OK share; the
 * text's GRPC line, within 80 columns. */
static void
test_grpc(void **state)
{
	char dir[] = "/tmp/test_status_gr.XXXXXX", p[4096], *out, *saved;
	struct stats_peer_rec *row;
	size_t len;
	unsigned i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	saved = m.cfg.mesh.state_dir;
	m.cfg.mesh.state_dir = dir;
	snprintf(p, sizeof(p), "%s/run", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/run/stats", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(stats_path(p, sizeof(p), dir, "api@v1.0"), 0);
	assert_int_equal(stats_open(p), 0);
	row = stats_peer(STATS_IN, "web", "");
	for (i = 0; i < 400; i++) {
		stats_peer_done(row, 200, 1000, 0, 0);
		stats_peer_grpc(row, i < 390 ? 0 : i < 399 ? 14 : 4);
	}
	stats_peer_done(stats_peer(STATS_IN, "gateway", ""), 200, 1000, 0, 0);
	stats_close();

	assert_int_equal(status_json(&m, &out, &len), 0);
	if (!json_valid(out))
		fail_msg("invalid JSON: %s", out);
	assert_non_null(strstr(out, "\"p99_ms\":1.000,\"grpc_calls\":400,"
	    "\"grpc_status\":{\"0\":390,\"4\":1,\"14\":9}}"));
	assert_non_null(strstr(out, "\"grpc_calls\":0,\"grpc_status\":{}}"));
	assert_non_null(strstr(out, "\"requests\":401,\"source\":\"inbound\","
	    "\"grpc_calls\":400,\"grpc_success\":0.9750}"));
	/* api's total of v1 and v2 too; web has none */
	assert_non_null(strstr(out, "{\"name\":\"api\",\"versions\":2,\"summary\":"));
	assert_int_equal(count_of(out, "\"grpc_success\":0.9750}"), 2);
	free(out);
	assert_int_equal(status_text(&m, &out, &len), 0);
	if (getenv("TEST_STATUS_PRINT") != NULL)
		printf("%s", out);
	assert_non_null(strstr(out, "\napi v1: GRPC 97.50% OK of 400 calls\n"));
	assert_null(strstr(out, "web v1: GRPC"));
	assert_null(strstr(out, "api v2: GRPC"));
	assert_true(max_width(out) <= 80);
	free(out);
	unlink(p);
	snprintf(p, sizeof(p), "%s/run/stats", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/run", dir);
	rmdir(p);
	rmdir(dir);
	m.cfg.mesh.state_dir = saved;
}

/* The breaker an instance's callers hold and its service's summary, in
 * both documents. */
static void
test_callers(void **state)
{
	char dir[] = "/tmp/test_status_cl.XXXXXX", p[4096], cmd[4200], *out, *saved;
	struct stats_peer_rec *in;
	struct stats_ep_rec *e;
	size_t len;
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	saved = m.cfg.mesh.state_dir;
	m.cfg.mesh.state_dir = dir;
	snprintf(p, sizeof(p), "%s/run/stats", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
	assert_int_equal(system(cmd), 0);
	/* web.0 calls api: api.0's breaker open and ejected, api@v2.0 closed */
	assert_int_equal(stats_path(p, sizeof(p), dir, "web@v1.0"), 0);
	assert_int_equal(stats_open(p), 0);
	e = stats_ep("api", "v1", 0, 0, 21472, NULL);
	stats_ep_put32(e, &e->state, STATS_EP_OPEN);
	stats_ep_put32(e, &e->ejected, 1);
	stats_ep_put(e, &e->ewma_us, 1234);
	stats_ep("api", "v2", 0, 0, 21474, NULL);
	stats_peer_done(stats_peer(STATS_OUT, "api", "v1"), 200, 900, 0, 0);
	/* api.0 served web 11 requests, one 503 */
	assert_int_equal(stats_path(p, sizeof(p), dir, "api@v1.0"), 0);
	assert_int_equal(stats_open(p), 0);
	in = stats_peer(STATS_IN, "web", "");
	for (i = 0; i < 11; i++)
		stats_peer_done(in, i == 5 ? 503 : 200, 2000 + (uint64_t)i * 100, 0, 0);
	stats_close();

	assert_int_equal(status_json(&m, &out, &len), 0);
	if (getenv("TEST_STATUS_PRINT") != NULL)
		printf("%s", out);
	if (!json_valid(out))
		fail_msg("invalid JSON: %s", out);
	assert_non_null(strstr(out, "\"name\":\"api.0\""));
	assert_non_null(strstr(out, "\"breaker\":{\"state\":\"open\",\"callers\":"
	    "[{\"caller\":\"web.0\",\"state\":\"open\",\"ejected\":true,"
	    "\"ewma_ms\":1.234}]},\"ejected\":true,\"host\":null}],\"summary\":{\"instances_up\":0,"
	    "\"instances_total\":1,\"rps\":"));
	/* (RPS counts whole seconds before now: test_status_sum checks it) */
	assert_non_null(strstr(out, "\"success_rate\":0.9091,\"p50_ms\":2.528,\"p95_ms\":2.976,"
	    "\"p99_ms\":2.976,\"requests\":11,\"source\":\"inbound\","
	    "\"grpc_calls\":0,\"grpc_success\":null}}"));
	assert_non_null(strstr(out, "\"breaker\":{\"state\":\"closed\",\"callers\":"
	    "[{\"caller\":\"web.0\",\"state\":\"closed\",\"ejected\":false,"
	    "\"ewma_ms\":null}]},\"ejected\":false,\"host\":null}]"));
	/* the peer rows of each file */
	assert_non_null(strstr(out, "\"peers\":[{\"direction\":\"inbound\",\"service\":\"web\","
	    "\"version\":\"\",\"requests\":11,\"responses\":{\"2xx\":10,\"3xx\":0,"
	    "\"4xx\":0,\"5xx\":1},\"retries\":0,\"timeouts\":0,\"p50_ms\":2.528"));
	assert_non_null(strstr(out, "\"peers\":[{\"direction\":\"outbound\",\"service\":\"api\","
	    "\"version\":\"v1\",\"requests\":1,"));
	/* web is nobody's upstream: summarised by what it sends */
	assert_non_null(strstr(out, "\"requests\":1,\"source\":\"outbound\","));
	free(out);

	assert_int_equal(status_text(&m, &out, &len), 0);
	if (getenv("TEST_STATUS_PRINT") != NULL)
		printf("%s", out);
	assert_non_null(strstr(out, " 90.90% 2.53ms 2.98ms 2.98ms   75% 1 open,1 ej\n"));
	assert_non_null(strstr(out, "\napi     v2  0/1   -       -      -      -      -   25% closed\n"));
	assert_non_null(strstr(out, "\n\nbreaker api.0: open, ejected (web.0 open ejected)\n"));
	assert_null(strstr(out, "breaker api@v2.0"));
	assert_true(max_width(out) <= 80);
	free(out);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	m.cfg.mesh.state_dir = saved;
}

static void
test_json_str(void **state)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	json_esc_file(f, "a\"b\\c\n\x01\x7f");
	fclose(f);
	assert_string_equal(out, "\"a\\\"b\\\\c\\n\\u0001\\u007f\"");
	assert_true(json_valid(out));
	free(out);
}

/* json_esc.h's escaper a buffer at a time: a long string whose two-byte
 * characters straddle the buffer's edges comes out whole, and invalid
 * UTF-8 as U+FFFD (valid JSON whatever the bytes). */
static void
test_json_str_long(void **state)
{
	char in[1200], want[1300], *out = NULL;
	size_t len = 0, i, n = 0, w = 0;
	FILE *f;

	(void)state;
	want[w++] = '"';
	for (i = 0; i < 400; i++) {
		if (i % 97 == 0) {
			in[n++] = 'x';          /* shift the characters' alignment */
			want[w++] = 'x';
		}
		memcpy(in + n, "\xc3\xa9", 2);
		memcpy(want + w, "\xc3\xa9", 2);
		n += 2;
		w += 2;
	}
	in[n] = '\0';
	memcpy(want + w, "\"", 2);
	f = open_memstream(&out, &len);
	json_esc_file(f, in);
	fclose(f);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(out, want, len);
	free(out);

	out = NULL;
	f = open_memstream(&out, &len);
	json_esc_file(f, "a\xff\xc3" "b\r");
	fclose(f);
	assert_string_equal(out, "\"a\\ufffd\\ufffdb\\r\"");
	assert_true(json_valid(out));
	free(out);
}

static void
test_text(void **state)
{
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(status_text(&m, &out, &len), 0);
	assert_non_null(strstr(out, "mesh shop: starting, meshd pid 4242"));
	assert_non_null(strstr(out, "SERVICE"));
	if (getenv("TEST_STATUS_PRINT") != NULL)
		printf("%s", out);
	assert_non_null(strstr(out, "\n\nSERVICE VER  UP RPS SUCCESS P50 P95 P99 SPLIT BREAKERS\n"));
	assert_non_null(strstr(out, "SERVICE VER # STATE    PID PROXY  PORT RST UPTIME REQ IN/OUT 5XX BRK/EJ\n"));
	assert_non_null(strstr(out, "\nweb     v1  0/1   -       -   -   -   -     - -\n"));
	assert_non_null(strstr(out, "\napi     v2  0/1   -       -   -   -   -   25% -\n"));
	assert_non_null(strstr(out, "\napi     *   0/2   -       -   -   -   -     - -\n"));
	assert_non_null(strstr(out, "\nweb     v1  0 starting   -   100 21470   2     0s          -   - -\n"));
	assert_non_null(strstr(out, "\napi     v1  0 fatal      -     - 21472   0     0s          -   - -\n"));
	assert_non_null(strstr(out, "route api: split v1=75 v2=25\n"));
	assert_non_null(strstr(out, "\nroute api: MIRROR v2 12.5%\n"));
	assert_true(max_width(out) <= 80);
	free(out);
}

/*
 * registry = etcd (issue 16): every instance names its host, and a caller
 * that balances over this host's api.0 and host b's namesake (same
 * service, version, index and port, another address) shows api.0 with
 * this host's row only.  m.mreg stays NULL: no "registry" member.
 */
static void
test_hosts(void **state)
{
	char dir[] = "/tmp/test_status_ho.XXXXXX", p[4096], cmd[4200], *out, *saved;
	struct stats_ep_rec *e;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	saved = m.cfg.mesh.state_dir;
	m.cfg.mesh.state_dir = dir;
	m.cfg.mesh.registry = CONF_REGISTRY_ETCD;
	snprintf(m.cfg.mesh.host_name, sizeof(m.cfg.mesh.host_name), "a");
	snprintf(m.cfg.mesh.host_address, sizeof(m.cfg.mesh.host_address), "10.0.0.1");
	snprintf(p, sizeof(p), "%s/run/stats", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(stats_path(p, sizeof(p), dir, "web@v1.0"), 0);
	assert_int_equal(stats_open(p), 0);
	/* host b's api@v1.0 open and ejected, this host's closed */
	e = stats_ep("api", "v1", 0, 0x0a000002u, 21472, "b");
	stats_ep_put32(e, &e->state, STATS_EP_OPEN);
	stats_ep_put32(e, &e->ejected, 1);
	e = stats_ep("api", "v1", 0, 0x0a000001u, 21472, "a");
	stats_ep_put(e, &e->ewma_us, 2000);
	stats_close();

	assert_int_equal(status_json(&m, &out, &len), 0);
	if (getenv("TEST_STATUS_PRINT") != NULL)
		printf("%s", out);
	if (!json_valid(out))
		fail_msg("invalid JSON: %s", out);
	assert_non_null(strstr(out, "\"breaker\":{\"state\":\"closed\",\"callers\":"
	    "[{\"caller\":\"web.0\",\"state\":\"closed\",\"ejected\":false,"
	    "\"ewma_ms\":2.000}]},\"ejected\":false,\"host\":\"a\"}]"));
	assert_null(strstr(out, "\"state\":\"open\""));
	assert_null(strstr(out, "\"host\":null"));
	assert_null(strstr(out, "\"registry\""));
	free(out);

	assert_int_equal(status_text(&m, &out, &len), 0);
	if (getenv("TEST_STATUS_PRINT") != NULL)
		printf("%s", out);
	assert_non_null(strstr(out, " 5XX BRK/EJ HOST\n"));
	assert_non_null(strstr(out, "\napi     v1  0 fatal      -     - 21472   0     0s          -   - -      a\n"));
	assert_non_null(strstr(out, " 75% closed\n"));
	assert_null(strstr(out, "breaker api.0"));
	free(out);

	m.cfg.mesh.registry = CONF_REGISTRY_NONE;
	m.cfg.mesh.host_name[0] = m.cfg.mesh.host_address[0] = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	m.cfg.mesh.state_dir = saved;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_str),
		cmocka_unit_test(test_json_str_long),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_grpc),
		cmocka_unit_test(test_callers),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_hosts),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
