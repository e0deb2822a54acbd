/* SPDX-License-Identifier: ISC */
/*
 * pcfg: every line kind, errors with line numbers, missing `end`,
 * format -> parse round trip; which error a line that is wrong twice
 * gets (the order pcfg_key_line checks a row in), and the order
 * pcfg_format writes the keywords in.
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

static const char full[] =
	"# sidecar of api@v1.0\n"
	"instance api v1 0\n"
	"limit header_bytes 8192\n"
	"limit connect_timeout_ms 250\n"
	"inbound 21000 http 9090\n"
	"outbound 21001\n"
	"listen 5433 db\n"
	"\n"
	"service db tcp\n"
	"endpoint db v1 0 21002 up\n"
	"endpoint db v1 1 21003 down   # a comment\n"
	"service auth http\n"
	"endpoint auth v1 0 21004 up\n"
	"endpoint auth v2 0 21005 up\n"
	"split auth v1=90 v2=10\n"
	"end\n";

static void
test_parse_full(void **state)
{
	struct pcfg c;
	char err[256];
	const struct pcfg_service *s;

	(void)state;
	assert_int_equal(pcfg_parse(full, strlen(full), &c, err, sizeof(err)), 0);
	assert_string_equal(c.service, "api");
	assert_string_equal(c.version, "v1");
	assert_int_equal(c.index, 0);
	assert_int_equal(c.limits.header_bytes, 8192);
	assert_int_equal(c.limits.connect_timeout_ms, 250);
	assert_int_equal(c.limits.headers, 100);        /* default kept */
	assert_int_equal(c.inbound_port, 21000);
	assert_int_equal(c.inbound_proto, PCFG_HTTP);
	assert_int_equal(c.app_port, 9090);
	assert_int_equal(c.outbound_port, 21001);
	assert_int_equal(c.nlistens, 1);
	assert_int_equal(c.listens[0].port, 5433);
	assert_string_equal(c.listens[0].service, "db");
	assert_int_equal(c.nservices, 2);
	s = pcfg_service_find(&c, "dbx", 2);
	assert_non_null(s);
	assert_string_equal(s->name, "db");
	assert_int_equal(s->proto, PCFG_TCP);
	assert_int_equal(s->nendpoints, 2);
	assert_int_equal(s->endpoints[1].index, 1);
	assert_int_equal(s->endpoints[1].port, 21003);
	assert_false(s->endpoints[1].up);
	assert_int_equal(s->nsplits, 0);
	s = pcfg_service_find(&c, "auth", 4);
	assert_non_null(s);
	assert_int_equal(s->nsplits, 2);
	assert_string_equal(s->splits[1].version, "v2");
	assert_int_equal(s->splits[1].weight, 10);
	assert_null(pcfg_service_find(&c, "au", 2));
	pcfg_free(&c);
}

static void
test_pure_client(void **state)
{
	static const char doc[] = "instance gateway v1 0\noutbound 21010\n"
	    "listen 21011 web\nservice web http\nend\n";
	struct pcfg c;
	char err[256];

	(void)state;
	assert_int_equal(pcfg_parse(doc, strlen(doc), &c, err, sizeof(err)), 0);
	assert_int_equal(c.inbound_port, 0);
	assert_int_equal(c.nservices, 1);
	assert_int_equal(c.services[0].nendpoints, 0);
	pcfg_free(&c);
}

/* Each bad document and the start of the error it must give. */
static const struct {
	const char *doc;
	const char *err;
} bad[] = {
	{ "", "line 1: missing 'end'" },
	{ "instance api v1 0\n", "line 2: missing 'end'" },
	{ "instance api v1 0\nservice db tcp\nendpoint db v1 0 21002 up\n", "line 4: missing 'end'" },
	{ "limit headers 5\ninstance a v1 0\nend\n", "line 1: 'limit' before 'instance'" },
	{ "instance a v1 0\ninstance a v1 0\nend\n", "line 2: duplicate 'instance'" },
	{ "instance a v1\nend\n", "line 1: expected 'instance" },
	{ "instance a v1 0\nlimit nope 3\nend\n", "line 2: unknown limit 'nope'" },
	{ "instance a v1 0\nlimit headers 0\nend\n", "line 2: headers: out of range" },
	{ "instance a v1 0\nlimit headers 99999999999\nend\n", "line 2: headers: out of range" },
	{ "instance a v1 0\ninbound 0 http 80\nend\n", "line 2: inbound port: out of range" },
	{ "instance a v1 0\ninbound 70000 http 80\nend\n", "line 2: inbound port: out of range" },
	{ "instance a v1 0\ninbound 1 udp 80\nend\n", "line 2: unknown protocol 'udp'" },
	{ "instance a v1 0\ninbound 1 http 80\ninbound 2 http 81\nend\n", "line 3: duplicate 'inbound'" },
	{ "instance a v1 0\noutbound x1\nend\n", "line 2: outbound port: not a number" },
	{ "instance a v1 0\noutbound 1\noutbound 2\nend\n", "line 3: duplicate 'outbound'" },
	{ "instance a v1 0\nendpoint db v1 0 1 up\nend\n", "line 2: endpoint of 'db' before" },
	{ "instance a v1 0\nservice db tcp\nendpoint db v1 0 1 maybe\nend\n", "line 3: endpoint state" },
	{ "instance a v1 0\nservice db tcp\nservice db tcp\nend\n", "line 3: duplicate service" },
	{ "instance a v1 0\nservice db tcp\nsplit db v1\nend\n", "line 3: split weight 'v1'" },
	{ "instance a v1 0\nservice db tcp\nsplit db v1=101\nend\n", "line 3: split weight: out of range" },
	{ "instance a v1 0\nservice db tcp\nsplit db v1=0\nend\n", "line 4: split of 'db': every weight is 0" },
	{ "instance a v1 0\nlisten 5 db\nend\n", "line 3: listen 5: no 'service' line for 'db'" },
	{ "instance a v1 0\nbogus 1\nend\n", "line 2: unknown keyword 'bogus'" },
	{ "instance a v1 0\nend\noutbound 1\n", "line 3: text after 'end'" },
	{ "instance a  v1 0\nend\n", "line 1: fields are separated by single spaces" },
	{ " instance a v1 0\nend\n", "line 1:" },
	{ "instance a v1 0\r\nend\n", "line 1: NUL, CR or TAB" },
	{ "instance a/b v1 0\nend\n", "line 1: service: bad character" },
	{ "instance a v1 0\nend x\n", "line 2: 'end' takes no arguments" },
	{ "end\n", "line 1: 'end' before 'instance'" },
	{ "instance a v1 0\ntrust_domain Mesh.local\nend\n", "line 2: trust_domain: 'Mesh.local'" },
	{ "instance a v1 0\ntrust_domain a\ntrust_domain b\nend\n", "line 3: duplicate 'trust_domain'" },
	{ "instance a v1 0\ntrust_domain\nend\n", "line 2: expected 'trust_domain <domain>'" },
	{ "instance a v1 0\nallow\nend\n", "line 2: expected 'allow <service> ...'" },
	{ "instance a v1 0\nallow web web\nend\n", "line 2: allow: 'web' twice" },
	{ "instance a v1 0\nallow web\nallow x/y\nend\n", "line 3: allow: bad character" },
};

static void
test_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pcfg c;
		char err[256];

		if (pcfg_parse(bad[i].doc, strlen(bad[i].doc), &c, err, sizeof(err)) != -1)
			fail_msg("case %zu parsed: %s", i, bad[i].doc);
		if (strncmp(err, bad[i].err, strlen(bad[i].err)) != 0)
			fail_msg("case %zu: got '%s', want '%s...'", i, err, bad[i].err);
		assert_int_equal(c.nservices, 0);
		assert_null(c.services);
		assert_null(c.listens);
	}
}

static void
test_long_line_and_nul(void **state)
{
	char *doc;
	struct pcfg c;
	char err[256];
	size_t n = 5000;

	(void)state;
	doc = malloc(n + 64);
	assert_non_null(doc);
	strcpy(doc, "instance a v1 0\n# ");
	memset(doc + strlen(doc), 'x', n);
	strcpy(doc + 18 + n, "\nend\n");
	assert_int_equal(pcfg_parse(doc, strlen(doc), &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2: line longer"));
	free(doc);
	/* an embedded NUL is refused, not read as the end of the text */
	assert_int_equal(pcfg_parse("instance a v1 0\nend\n\0x", 23, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 3"));
}

static void
test_round_trip(void **state)
{
	struct pcfg c, d;
	char err[256], *out, *out2;
	size_t len, len2;

	(void)state;
	assert_int_equal(pcfg_parse(full, strlen(full), &c, err, sizeof(err)), 0);
	assert_int_equal(pcfg_format(&c, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	assert_int_equal(pcfg_parse(out, len, &d, err, sizeof(err)), 0);
	assert_int_equal(pcfg_format(&d, &out2, &len2), 0);
	assert_string_equal(out, out2);
	assert_int_equal(d.limits.connect_timeout_ms, 250);
	assert_int_equal(d.nservices, 2);
	assert_int_equal(d.services[1].nsplits, 2);
	assert_non_null(strstr(out, "split auth v1=90 v2=10\n"));
	assert_non_null(strstr(out, "endpoint db v1 1 21003 down\n"));
	assert_true(len > 4 && strcmp(out + len - 4, "end\n") == 0);
	free(out);
	free(out2);
	pcfg_free(&c);
	pcfg_free(&d);
}

/* trust_domain and allow: absent, present, several allow lines, and a
 * list longer than one formatted line survives a round trip. */
static void
test_identity_lines(void **state)
{
	static const char doc[] =
		"instance api v1 0\n"
		"trust_domain mesh.local\n"
		"allow web admin\n"
		"allow batch\n"
		"end\n";
	struct pcfg c, d;
	char err[256], name[16], *out, *big;
	size_t len, i, off;

	(void)state;
	assert_int_equal(pcfg_parse(full, strlen(full), &c, err, sizeof(err)), 0);
	assert_string_equal(c.trust_domain, "");
	assert_int_equal(c.nallow, 0);
	assert_null(c.allow);
	assert_int_equal(pcfg_format(&c, &out, &len), 0);
	assert_null(strstr(out, "trust_domain"));
	assert_null(strstr(out, "allow"));
	free(out);
	pcfg_free(&c);

	assert_int_equal(pcfg_parse(doc, strlen(doc), &c, err, sizeof(err)), 0);
	assert_string_equal(c.trust_domain, "mesh.local");
	assert_int_equal(c.nallow, 3);
	assert_string_equal(c.allow[0], "web");
	assert_string_equal(c.allow[2], "batch");
	assert_int_equal(pcfg_format(&c, &out, &len), 0);
	assert_non_null(strstr(out, "trust_domain mesh.local\nallow web admin batch\n"));
	free(out);
	pcfg_free(&c);
	assert_null(c.allow);

	/* 40 names: more than PCFG_MAX_FIELDS on one line would allow */
	big = malloc(4096);
	assert_non_null(big);
	off = (size_t)sprintf(big, "instance api v1 0\ntrust_domain t\n");
	for (i = 0; i < 40; i++)
		off += (size_t)sprintf(big + off, "allow s%zu\n", i);
	strcpy(big + off, "end\n");
	assert_int_equal(pcfg_parse(big, strlen(big), &c, err, sizeof(err)), 0);
	assert_int_equal(c.nallow, 40);
	assert_int_equal(pcfg_format(&c, &out, &len), 0);
	assert_int_equal(pcfg_parse(out, len, &d, err, sizeof(err)), 0);
	assert_int_equal(d.nallow, 40);
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "s%zu", i);
		assert_string_equal(d.allow[i], name);
	}
	free(out);
	free(big);
	pcfg_free(&c);
	pcfg_free(&d);
}

/* policy: defaults without a line, every key, round trip, errors. */
static void
test_policy(void **state)
{
	static const char doc[] =
		"instance web v1 0\n"
		"service api http\n"
		"service db tcp\n"
		"policy api timeout_ms=200 connect_timeout_ms=50 retries=3 "
		"retry_on=connect-failure,reset,502,503 backoff_ms=10,80 budget=25,5 "
		"lb=least-request breaker_failures=4 breaker_cooldown_ms=700 "
		"max_pending=9 outlier_failures=6 outlier_ejection_ms=900 retry_buffer=1024\n"
		"policy db\n"
		"end\n";
	static const char *const bad_lines[] = {
		"policy nosuch retries=1\n",
		"policy api retries=11\n",
		"policy api retries\n",
		"policy api =3\n",
		"policy api color=red\n",
		"policy api timeout_ms=-1\n",
		"policy api connect_timeout_ms=0\n",
		"policy api retry_on=reset,,503\n",
		"policy api retry_on=399\n",
		"policy api retry_on=500,501,502,503,504,505,506,507,508\n",
		"policy api backoff_ms=100,10\n",
		"policy api backoff_ms=0,10\n",
		"policy api backoff_ms=10\n",
		"policy api budget=101,1\n",
		"policy api lb=random\n",
		"policy api retries=1\npolicy api retries=2\n",
	};
	struct pcfg c, d;
	const struct pcfg_service *s;
	struct pcfg_policy def;
	char err[256], buf[512], *out, *out2;
	size_t len, len2, i;

	(void)state;
	/* no policy line: the defaults of the header */
	assert_int_equal(pcfg_parse(full, strlen(full), &c, err, sizeof(err)), 0);
	pcfg_policy_default(&def);
	s = pcfg_service_find(&c, "auth", 4);
	assert_false(s->has_policy);
	assert_memory_equal(&s->policy, &def, sizeof(def));
	assert_int_equal(def.connect_timeout_ms, 1000);
	assert_int_equal(def.retry_on, PCFG_RETRY_CONNECT);
	assert_int_equal(def.backoff_base_ms, 25);
	assert_int_equal(def.backoff_cap_ms, 250);
	assert_int_equal(def.budget_percent, 20);
	assert_int_equal(def.budget_per_sec, 10);
	assert_int_equal(def.lb, PCFG_LB_EWMA);
	assert_int_equal(def.retry_buffer, 65536);
	assert_int_equal(pcfg_format(&c, &out, &len), 0);
	assert_null(strstr(out, "policy"));
	free(out);
	pcfg_free(&c);

	assert_int_equal(pcfg_parse(doc, strlen(doc), &c, err, sizeof(err)), 0);
	s = pcfg_service_find(&c, "api", 3);
	assert_true(s->has_policy);
	assert_int_equal(s->policy.timeout_ms, 200);
	assert_int_equal(s->policy.connect_timeout_ms, 50);
	assert_int_equal(s->policy.retries, 3);
	assert_int_equal(s->policy.retry_on, PCFG_RETRY_CONNECT | PCFG_RETRY_RESET);
	assert_int_equal(s->policy.nretry_status, 2);
	assert_int_equal(s->policy.retry_status[0], 502);
	assert_int_equal(s->policy.retry_status[1], 503);
	assert_int_equal(s->policy.backoff_base_ms, 10);
	assert_int_equal(s->policy.backoff_cap_ms, 80);
	assert_int_equal(s->policy.budget_percent, 25);
	assert_int_equal(s->policy.budget_per_sec, 5);
	assert_int_equal(s->policy.lb, PCFG_LB_LEAST_REQUEST);
	assert_int_equal(s->policy.breaker_failures, 4);
	assert_int_equal(s->policy.breaker_cooldown_ms, 700);
	assert_int_equal(s->policy.max_pending, 9);
	assert_int_equal(s->policy.outlier_failures, 6);
	assert_int_equal(s->policy.outlier_ejection_ms, 900);
	assert_int_equal(s->policy.retry_buffer, 1024);
	s = pcfg_service_find(&c, "db", 2);
	assert_true(s->has_policy);
	assert_memory_equal(&s->policy, &def, sizeof(def));

	/* round trip: same document twice, only non-default keys written */
	assert_int_equal(pcfg_format(&c, &out, &len), 0);
	assert_null(strstr(out, "policy db"));
	assert_int_equal(pcfg_parse(out, len, &d, err, sizeof(err)), 0);
	assert_memory_equal(&d.services[0].policy, &c.services[0].policy, sizeof(def));
	assert_int_equal(pcfg_format(&d, &out2, &len2), 0);
	assert_string_equal(out, out2);
	free(out);
	free(out2);
	pcfg_free(&d);

	/* retry_on=none survives too (no bits, no codes) */
	c.services[0].policy.retry_on = 0;
	c.services[0].policy.nretry_status = 0;
	assert_int_equal(pcfg_format(&c, &out, &len), 0);
	assert_non_null(strstr(out, " retry_on=none"));
	assert_int_equal(pcfg_parse(out, len, &d, err, sizeof(err)), 0);
	assert_int_equal(d.services[0].policy.retry_on, 0);
	assert_int_equal(d.services[0].policy.nretry_status, 0);
	free(out);
	pcfg_free(&d);
	pcfg_free(&c);

	for (i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		snprintf(buf, sizeof(buf), "instance web v1 0\nservice api http\n%send\n", bad_lines[i]);
		assert_int_equal(pcfg_parse(buf, strlen(buf), &c, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "line "));
		assert_int_equal(c.nservices, 0);
	}
}

/* http2 and grpc on inbound and service lines: parsed, L7, written back. */
static void
test_proto_h2(void **state)
{
	static const char doc[] =
		"instance api v1 0\n"
		"inbound 21000 grpc 50051\n"
		"listen 5433 pay\n"
		"service pay grpc\n"
		"endpoint pay v1 0 21002 up\n"
		"service web http2\n"
		"service db tcp\n"
		"service auth http\n"
		"end\n";
	struct pcfg c, d;
	char err[256], buf[128], *out, *out2;
	size_t len, len2;

	(void)state;
	assert_int_equal(pcfg_parse(doc, strlen(doc), &c, err, sizeof(err)), 0);
	assert_int_equal(c.inbound_proto, PCFG_GRPC);
	assert_int_equal(pcfg_service_find(&c, "pay", 3)->proto, PCFG_GRPC);
	assert_int_equal(pcfg_service_find(&c, "web", 3)->proto, PCFG_HTTP2);
	assert_int_equal(pcfg_format(&c, &out, &len), 0);
	assert_non_null(strstr(out, "inbound 21000 grpc 50051\n"));
	assert_non_null(strstr(out, "service pay grpc\n"));
	assert_non_null(strstr(out, "service web http2\n"));
	assert_int_equal(pcfg_parse(out, len, &d, err, sizeof(err)), 0);
	assert_int_equal(d.inbound_proto, PCFG_GRPC);
	assert_int_equal(pcfg_format(&d, &out2, &len2), 0);
	assert_string_equal(out, out2);
	free(out);
	free(out2);
	pcfg_free(&d);
	pcfg_free(&c);

	assert_true(pcfg_proto_l7(PCFG_HTTP));
	assert_true(pcfg_proto_l7(PCFG_HTTP2));
	assert_true(pcfg_proto_l7(PCFG_GRPC));
	assert_false(pcfg_proto_l7(PCFG_TCP));
	assert_string_equal(pcfg_proto_name(PCFG_HTTP2), "http2");
	assert_string_equal(pcfg_proto_name(PCFG_GRPC), "grpc");

	/* the words are exact: no case folding, no h2 or grpc-web */
	snprintf(buf, sizeof(buf), "instance a v1 0\nservice db GRPC\nend\n");
	assert_int_equal(pcfg_parse(buf, strlen(buf), &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2: unknown protocol 'GRPC' (http|tcp|http2|grpc)"));
	snprintf(buf, sizeof(buf), "instance a v1 0\ninbound 1 h2 2\nend\n");
	assert_int_equal(pcfg_parse(buf, strlen(buf), &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2: unknown protocol 'h2'"));
}

/* retry_on's gRPC words: each bit, a mix with status codes, round trip. */
static void
test_policy_grpc_retry(void **state)
{
	static const struct { const char *word; unsigned bit; } w[] = {
		{ "unavailable", PCFG_RETRY_UNAVAILABLE },
		{ "resource-exhausted", PCFG_RETRY_RESOURCE_EXHAUSTED },
		{ "cancelled", PCFG_RETRY_CANCELLED },
		{ "deadline-exceeded", PCFG_RETRY_DEADLINE_EXCEEDED },
		{ "internal", PCFG_RETRY_INTERNAL },
	};
	static const char doc[] =
		"instance web v1 0\n"
		"service pay grpc\n"
		"policy pay retries=2 retry_on=internal,unavailable,503,"
		"deadline-exceeded,reset,cancelled,resource-exhausted\n"
		"end\n";
	struct pcfg_policy p;
	struct pcfg c, d;
	char why[256], kv[64], err[256], *out, *out2;
	size_t len, len2, i;

	(void)state;
	assert_int_equal(PCFG_RETRY_UNAVAILABLE, 0x4);
	assert_int_equal(PCFG_RETRY_RESOURCE_EXHAUSTED, 0x8);
	assert_int_equal(PCFG_RETRY_CANCELLED, 0x10);
	assert_int_equal(PCFG_RETRY_DEADLINE_EXCEEDED, 0x20);
	assert_int_equal(PCFG_RETRY_INTERNAL, 0x40);
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		pcfg_policy_default(&p);
		snprintf(kv, sizeof(kv), "retry_on=%s", w[i].word);
		assert_int_equal(pcfg_policy_set(&p, kv, why, sizeof(why)), 0);
		assert_int_equal(p.retry_on, w[i].bit);
		assert_int_equal(p.nretry_status, 0);
	}
	pcfg_policy_default(&p);
	assert_int_equal(pcfg_policy_set(&p, "retry_on=unavailablex", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "deadline-exceeded"));
	assert_int_equal(pcfg_policy_set(&p, "retry_on=Unavailable", why, sizeof(why)), -1);
	assert_int_equal(pcfg_policy_set(&p, "retry_on=resource-exhausted-and-more",
	    why, sizeof(why)), -1);

	assert_int_equal(pcfg_parse(doc, strlen(doc), &c, err, sizeof(err)), 0);
	p = c.services[0].policy;
	assert_int_equal(p.retry_on, PCFG_RETRY_RESET | PCFG_RETRY_UNAVAILABLE |
	    PCFG_RETRY_RESOURCE_EXHAUSTED | PCFG_RETRY_CANCELLED |
	    PCFG_RETRY_DEADLINE_EXCEEDED | PCFG_RETRY_INTERNAL);
	assert_int_equal(p.nretry_status, 1);
	assert_int_equal(p.retry_status[0], 503);
	assert_int_equal(pcfg_format(&c, &out, &len), 0);
	/* written in the table's order, the codes last */
	assert_non_null(strstr(out, " retry_on=reset,unavailable,resource-exhausted,"
	    "cancelled,deadline-exceeded,internal,503\n"));
	assert_int_equal(pcfg_parse(out, len, &d, err, sizeof(err)), 0);
	assert_memory_equal(&d.services[0].policy, &c.services[0].policy, sizeof(p));
	assert_int_equal(pcfg_format(&d, &out2, &len2), 0);
	assert_string_equal(out, out2);
	free(out);
	free(out2);
	pcfg_free(&d);
	pcfg_free(&c);
}

/* fault: none without a line, every key, round trip, errors. */
static void
test_fault(void **state)
{
	static const char doc[] =
		"instance web v1 0\n"
		"service api http\n"
		"fault api delay=100,300 abort=5,503 match=x-chaos:1 version=v2\n"
		"end\n";
	static const char *const bad_lines[] = {
		"fault nosuch abort=5,503\n",
		"fault api abort=1001,503\n",
		"fault api abort=5,99\n",
		"fault api abort=5,600\n",
		"fault api abort=5\n",
		"fault api delay=5,0\n",
		"fault api match=x chaos\n",
		"fault api match=:1\n",
		"fault api match=x-chaos:\n",
		"fault api version=v/2\n",
		"fault api color=red\n",
		"fault api abort=5,503\nfault api delay=5,10\n",
	};
	struct pcfg c, d;
	const struct pcfg_service *s;
	char err[256], buf[512], *out, *out2;
	size_t len, len2, i;

	(void)state;
	assert_int_equal(pcfg_parse(full, strlen(full), &c, err, sizeof(err)), 0);
	s = pcfg_service_find(&c, "auth", 4);
	assert_false(s->has_fault);
	assert_false(pcfg_fault_active(&s->fault));
	assert_int_equal(pcfg_format(&c, &out, &len), 0);
	assert_null(strstr(out, "fault"));
	free(out);
	pcfg_free(&c);

	assert_int_equal(pcfg_parse(doc, strlen(doc), &c, err, sizeof(err)), 0);
	s = pcfg_service_find(&c, "api", 3);
	assert_true(s->has_fault);
	assert_int_equal(s->fault.delay_permille, 100);
	assert_int_equal(s->fault.delay_ms, 300);
	assert_int_equal(s->fault.abort_permille, 5);
	assert_int_equal(s->fault.abort_status, 503);
	assert_string_equal(s->fault.match_header, "x-chaos");
	assert_string_equal(s->fault.match_value, "1");
	assert_string_equal(s->fault.version, "v2");
	assert_int_equal(pcfg_format(&c, &out, &len), 0);
	assert_non_null(strstr(out, "fault api delay=100,300 abort=5,503 match=x-chaos:1 version=v2\n"));
	assert_int_equal(pcfg_parse(out, len, &d, err, sizeof(err)), 0);
	assert_memory_equal(&d.services[0].fault, &c.services[0].fault, sizeof(struct pcfg_fault));
	assert_int_equal(pcfg_format(&d, &out2, &len2), 0);
	assert_string_equal(out, out2);
	free(out);
	free(out2);
	pcfg_free(&d);
	pcfg_free(&c);

	for (i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		snprintf(buf, sizeof(buf), "instance web v1 0\nservice api http\n%send\n", bad_lines[i]);
		assert_int_equal(pcfg_parse(buf, strlen(buf), &c, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "line "));
	}
}

/* mirror: none without a line, the line, round trip, errors. */
static void
test_mirror(void **state)
{
	static const char doc[] =
		"instance web v1 0\n"
		"service api http\n"
		"endpoint api v2 0 21001 up\n"
		"mirror api v2 100\n"
		"end\n";
	static const char *const bad_lines[] = {
		"mirror nosuch v2 100\n",
		"mirror api v2 0\n",
		"mirror api v2 1001\n",
		"mirror api v/2 100\n",
		"mirror api v2\n",
		"mirror api v2 100 x\n",
		"mirror api v2 100\nmirror api v3 5\n",
	};
	struct pcfg c, d;
	const struct pcfg_service *s;
	char err[256], buf[512], *out, *out2;
	size_t len, len2, i;

	(void)state;
	assert_int_equal(pcfg_parse(full, strlen(full), &c, err, sizeof(err)), 0);
	s = pcfg_service_find(&c, "auth", 4);
	assert_string_equal(s->mirror.version, "");
	assert_int_equal(pcfg_format(&c, &out, &len), 0);
	assert_null(strstr(out, "mirror"));
	free(out);
	pcfg_free(&c);

	assert_int_equal(pcfg_parse(doc, strlen(doc), &c, err, sizeof(err)), 0);
	s = pcfg_service_find(&c, "api", 3);
	assert_string_equal(s->mirror.version, "v2");
	assert_int_equal(s->mirror.permille, 100);
	assert_int_equal(pcfg_format(&c, &out, &len), 0);
	assert_non_null(strstr(out, "mirror api v2 100\n"));
	assert_int_equal(pcfg_parse(out, len, &d, err, sizeof(err)), 0);
	assert_memory_equal(&d.services[0].mirror, &c.services[0].mirror, sizeof(struct pcfg_mirror));
	assert_int_equal(pcfg_format(&d, &out2, &len2), 0);
	assert_string_equal(out, out2);
	free(out);
	free(out2);
	pcfg_free(&d);
	pcfg_free(&c);

	for (i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		snprintf(buf, sizeof(buf), "instance web v1 0\nservice api http\n%send\n", bad_lines[i]);
		if (pcfg_parse(buf, strlen(buf), &c, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad_lines[i]);
		assert_non_null(strstr(err, "line "));
	}
}

/* Lines wrong in two ways, and the whole error each gets: context, then
 * arity, then once-per-document, then the service it names (access_log
 * checks its two shapes itself, after `once`). */
static const struct {
	const char *doc;
	const char *err;
} twice[] = {
	{ "bogus 1\nend\n", "line 1: 'bogus' before 'instance' (instance must come first)" },
	{ "instance a v1 0\ninstance a v1\nend\n",
	  "line 2: expected 'instance <service> <version> <index>'" },
	{ "instance a v1 0\noutbound 1\noutbound 0\nend\n", "line 3: duplicate 'outbound'" },
	{ "instance a v1 0\noutbound 1\noutbound\nend\n", "line 3: expected 'outbound <port>'" },
	{ "instance a v1 0\ntrace 5\ntrace 1001\nend\n", "line 3: duplicate 'trace'" },
	{ "instance a v1 0\ntrace 1001\nend\n", "line 2: trace: out of range: '1001'" },
	{ "instance a v1 0\naccess_log json\naccess_log\nend\n", "line 3: duplicate 'access_log'" },
	{ "instance a v1 0\naccess_log json x\nend\n",
	  "line 2: expected 'access_log json' or 'access_log file <path>'" },
	{ "instance a v1 0\nendpoint nope v1 0 1\nend\n",
	  "line 2: expected 'endpoint <service> <version> <index> [<IPv4>:]<port> <state> [host=<name>]'" },
	{ "instance a v1 0\nsplit nope\nend\n",
	  "line 2: expected 'split <service> <version>=<weight> ...'" },
	{ "instance a v1 0\npolicy nope retries=x\nend\n",
	  "line 2: policy of 'nope' before its 'service' line" },
	{ "instance a v1 0\nservice db tcp\nsplit db v1=1\nsplit db x\nend\n",
	  "line 4: duplicate split for 'db'" },
	{ "instance a v1 0\nservice db tcp\npolicy db\npolicy db retries=x\nend\n",
	  "line 4: duplicate policy for 'db'" },
	{ "instance a v1 0\nservice db/x tcp\nend\n", "line 2: service: bad character in 'db/x'" },
	{ "instance a v1 0\nlimit nope x\nend\n", "line 2: unknown limit 'nope'" },
};

static void
test_error_order(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(twice) / sizeof(twice[0]); i++) {
		struct pcfg c;
		char err[256];

		if (pcfg_parse(twice[i].doc, strlen(twice[i].doc), &c, err, sizeof(err)) != -1)
			fail_msg("case %zu parsed: %s", i, twice[i].doc);
		if (strcmp(err, twice[i].err) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, err, twice[i].err);
	}
}

/* Every keyword, in any order in: out in one fixed order. */
static void
test_format_order(void **state)
{
	static const char in[] =
		"instance api v1 0\n"
		"access_log file /var/log/mesh%20api.log\n"
		"trace 25\n"
		"allow web batch\n"
		"trust_domain mesh.local\n"
		"outbound 21001\n"
		"inbound 21000 tcp 9090\n"
		"limit headers 50\n"
		"listen 5433 db\n"
		"service db tcp\n"
		"policy db retries=2\n"
		"split db v1=90 v2=10\n"
		"endpoint db v1 0 21002 up\n"
		"endpoint db v2 0 21003 down\n"
		"service web http\n"
		"end\n";
	static const char want[] =
		"instance api v1 0\n"
		"limit header_bytes 16384\n"
		"limit headers 50\n"
		"limit line_bytes 8192\n"
		"limit header_timeout_ms 10000\n"
		"limit idle_timeout_ms 60000\n"
		"limit connections 1024\n"
		"limit connect_timeout_ms 1000\n"
		"inbound 21000 tcp 9090\n"
		"outbound 21001\n"
		"trust_domain mesh.local\n"
		"allow web batch\n"
		"trace 25\n"
		"access_log file /var/log/mesh%20api.log\n"
		"listen 5433 db\n"
		"service db tcp\n"
		"endpoint db v1 0 21002 up\n"
		"endpoint db v2 0 21003 down\n"
		"split db v1=90 v2=10\n"
		"policy db retries=2\n"
		"service web http\n"
		"end\n";
	struct pcfg c;
	char err[256], *out;
	size_t len;

	(void)state;
	assert_int_equal(pcfg_parse(in, strlen(in), &c, err, sizeof(err)), 0);
	assert_int_equal(pcfg_format(&c, &out, &len), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, sizeof(want) - 1);
	free(out);
	pcfg_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_pure_client),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_order),
		cmocka_unit_test(test_format_order),
		cmocka_unit_test(test_long_line_and_nul),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_identity_lines),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_proto_h2),
		cmocka_unit_test(test_policy_grpc_retry),
		cmocka_unit_test(test_fault),
		cmocka_unit_test(test_mirror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
