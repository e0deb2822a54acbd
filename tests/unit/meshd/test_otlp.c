/* SPDX-License-Identifier: ISC */
/*
 * otlp: the JSON body of two spans of two instances, byte for byte (a
 * golden string, also parsed by nothing but our eyes: keep it readable);
 * escaping and UTF-8 repair of request text; a full-width field with no
 * NUL; the flags list; a gRPC call's attributes and error status; the
 * bounded queue (wrap-around, full, peek order).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/otlp.h"

static void
fill_ids(struct stats_span_rec *s, uint8_t t, uint8_t sp, uint8_t par)
{
	size_t i;

	for (i = 0; i < sizeof(s->trace_id); i++)
		s->trace_id[i] = (uint8_t)(t + i);
	for (i = 0; i < sizeof(s->span_id); i++)
		s->span_id[i] = (uint8_t)(sp + i);
	for (i = 0; par != 0 && i < sizeof(s->parent_id); i++)
		s->parent_id[i] = (uint8_t)(par + i);
}

static void
server_span(struct stats_span_rec *s)
{
	memset(s, 0, sizeof(*s));
	fill_ids(s, 0x01, 0xa1, 0xb1);
	s->start_ns = 1700000000000000000ull;
	s->duration_us = 1500;
	s->kind = STATS_SPAN_SERVER;
	s->status = 200;
	s->flags = STATS_SF_SAMPLED;
	strcpy(s->service, "api");
	strcpy(s->version, "v1");
	strcpy(s->instance, "api@v1.0");
	strcpy(s->peer, "web");
	strcpy(s->method, "GET");
	strcpy(s->authority, "api");
	strcpy(s->path, "/users?id=7");
}

static void
client_span(struct stats_span_rec *s)
{
	memset(s, 0, sizeof(*s));
	fill_ids(s, 0x01, 0xb1, 0);
	s->start_ns = 1700000000000000000ull - 1000;
	s->duration_us = 2000;
	s->kind = STATS_SPAN_CLIENT;
	s->status = 503;
	s->retries = 2;
	s->flags = STATS_SF_UF | STATS_SF_UT | STATS_SF_SAMPLED;
	strcpy(s->service, "web");
	strcpy(s->version, "v2");
	strcpy(s->instance, "web@v2.1");
	strcpy(s->peer, "api");
	strcpy(s->upstream, "v1.0");
	strcpy(s->method, "POST");
	strcpy(s->authority, "api:80");
	/* a quote, a control byte, a bad byte, then a good two-byte é */
	strcpy(s->path, "/a\"b\x01\xff\xc3\xa9");
}

static const char golden[] =
    "{\"resourceSpans\":["
    "{\"resource\":{\"attributes\":["
    "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"api\"}},"
    "{\"key\":\"service.version\",\"value\":{\"stringValue\":\"v1\"}},"
    "{\"key\":\"service.instance.id\",\"value\":{\"stringValue\":\"api@v1.0\"}},"
    "{\"key\":\"service.namespace\",\"value\":{\"stringValue\":\"shop\"}}]},"
    "\"scopeSpans\":[{\"scope\":{\"name\":\"meshctl\",\"version\":\"" MESH_VERSION "\"},"
    "\"spans\":["
    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"a1a2a3a4a5a6a7a8\","
    "\"parentSpanId\":\"b1b2b3b4b5b6b7b8\",\"name\":\"GET /users\",\"kind\":2,"
    "\"startTimeUnixNano\":\"1700000000000000000\",\"endTimeUnixNano\":\"1700000000001500000\","
    "\"attributes\":["
    "{\"key\":\"http.request.method\",\"value\":{\"stringValue\":\"GET\"}},"
    "{\"key\":\"http.response.status_code\",\"value\":{\"intValue\":\"200\"}},"
    "{\"key\":\"url.path\",\"value\":{\"stringValue\":\"/users\"}},"
    "{\"key\":\"url.query\",\"value\":{\"stringValue\":\"id=7\"}},"
    "{\"key\":\"server.address\",\"value\":{\"stringValue\":\"api\"}},"
    "{\"key\":\"mesh.peer\",\"value\":{\"stringValue\":\"web\"}},"
    "{\"key\":\"mesh.retries\",\"value\":{\"intValue\":\"0\"}}]},"
    /* the same instance's second span joins its group */
    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"c1c2c3c4c5c6c7c8\","
    "\"parentSpanId\":\"b1b2b3b4b5b6b7b8\",\"name\":\"GET /users\",\"kind\":2,"
    "\"startTimeUnixNano\":\"1700000000000000000\",\"endTimeUnixNano\":\"1700000000001500000\","
    "\"attributes\":["
    "{\"key\":\"http.request.method\",\"value\":{\"stringValue\":\"GET\"}},"
    "{\"key\":\"http.response.status_code\",\"value\":{\"intValue\":\"200\"}},"
    "{\"key\":\"url.path\",\"value\":{\"stringValue\":\"/users\"}},"
    "{\"key\":\"url.query\",\"value\":{\"stringValue\":\"id=7\"}},"
    "{\"key\":\"server.address\",\"value\":{\"stringValue\":\"api\"}},"
    "{\"key\":\"mesh.peer\",\"value\":{\"stringValue\":\"web\"}},"
    "{\"key\":\"mesh.retries\",\"value\":{\"intValue\":\"0\"}}]}"
    "]}]},"
    "{\"resource\":{\"attributes\":["
    "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"web\"}},"
    "{\"key\":\"service.version\",\"value\":{\"stringValue\":\"v2\"}},"
    "{\"key\":\"service.instance.id\",\"value\":{\"stringValue\":\"web@v2.1\"}},"
    "{\"key\":\"service.namespace\",\"value\":{\"stringValue\":\"shop\"}}]},"
    "\"scopeSpans\":[{\"scope\":{\"name\":\"meshctl\",\"version\":\"" MESH_VERSION "\"},"
    "\"spans\":["
    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"b1b2b3b4b5b6b7b8\","
    "\"name\":\"POST /a\\\"b\\u0001\\ufffd\xc3\xa9\",\"kind\":3,"
    "\"startTimeUnixNano\":\"1699999999999999000\",\"endTimeUnixNano\":\"1700000000001999000\","
    "\"attributes\":["
    "{\"key\":\"http.request.method\",\"value\":{\"stringValue\":\"POST\"}},"
    "{\"key\":\"http.response.status_code\",\"value\":{\"intValue\":\"503\"}},"
    "{\"key\":\"url.path\",\"value\":{\"stringValue\":\"/a\\\"b\\u0001\\ufffd\xc3\xa9\"}},"
    "{\"key\":\"server.address\",\"value\":{\"stringValue\":\"api:80\"}},"
    "{\"key\":\"mesh.peer\",\"value\":{\"stringValue\":\"api\"}},"
    "{\"key\":\"mesh.upstream\",\"value\":{\"stringValue\":\"v1.0\"}},"
    "{\"key\":\"mesh.retries\",\"value\":{\"intValue\":\"2\"}},"
    "{\"key\":\"mesh.flags\",\"value\":{\"stringValue\":\"UF,UT\"}}],"
    "\"status\":{\"code\":2}}"
    "]}]}"
    "]}";

static void
test_golden(void **state)
{
	struct stats_span_rec s[3];
	const struct stats_span_rec *p[3] = { &s[0], &s[1], &s[2] };
	struct otlp_buf b = { 0 };

	(void)state;
	server_span(&s[0]);
	client_span(&s[1]);
	server_span(&s[2]);
	fill_ids(&s[2], 0x01, 0xc1, 0xb1);
	assert_int_equal(otlp_json_encode(&b, p, 3, "shop"), 0);
	if (strcmp(b.p, golden) != 0) {
		size_t i = 0;

		while (b.p[i] == golden[i])
			i++;
		fprintf(stderr, "differs at %zu:\n got: %.80s\nwant: %.80s\n", i, b.p + i, golden + i);
	}
	assert_string_equal(b.p, golden);
	assert_int_equal(b.len, strlen(golden));
	otlp_buf_free(&b);
}

static void
test_empty_and_no_namespace(void **state)
{
	struct otlp_buf b = { 0 };
	struct stats_span_rec s;
	const struct stats_span_rec *p = &s;

	(void)state;
	assert_int_equal(otlp_json_encode(&b, NULL, 0, NULL), 0);
	assert_string_equal(b.p, "{\"resourceSpans\":[]}");
	server_span(&s);
	assert_int_equal(otlp_json_encode(&b, &p, 1, NULL), 0);
	assert_null(strstr(b.p, "service.namespace"));
	assert_non_null(strstr(b.p, "\"service.instance.id\""));
	otlp_buf_free(&b);
}

/* Fields that fill their arrays (no NUL) stay inside them. */
static void
test_full_fields(void **state)
{
	struct otlp_buf b = { 0 };
	struct stats_span_rec s;
	const struct stats_span_rec *p = &s;
	char want[sizeof(s.path) + 1];

	(void)state;
	server_span(&s);
	memset(s.path, 'p', sizeof(s.path));
	memset(s.method, 'M', sizeof(s.method));
	memset(s.service, 's', sizeof(s.service));
	s.status = 0;   /* no response at all: an error, no status attribute */
	assert_int_equal(otlp_json_encode(&b, &p, 1, NULL), 0);
	memset(want, 'p', sizeof(s.path));
	want[sizeof(s.path)] = '\0';
	assert_non_null(strstr(b.p, want));
	assert_null(strstr(b.p, "pppp\"p"));
	assert_null(strstr(b.p, "http.response.status_code"));
	assert_non_null(strstr(b.p, "\"status\":{\"code\":2}"));
	/* a path with no method: the name is still there */
	otlp_buf_free(&b);
}

/* A gRPC call: rpc.system and rpc.grpc.status_code after mesh.flags;
 * ERROR as OpenTelemetry's gRPC conventions say (client: any status but
 * OK; server: only the statuses that say the server failed). */
static void
test_grpc(void **state)
{
	static const struct { uint32_t kind, code; int error; } cases[] = {
		{ STATS_SPAN_CLIENT, 0, 0 }, { STATS_SPAN_CLIENT, 5, 1 },
		{ STATS_SPAN_CLIENT, 14, 1 }, { STATS_SPAN_SERVER, 0, 0 },
		{ STATS_SPAN_SERVER, 5, 0 }, { STATS_SPAN_SERVER, 7, 0 },
		{ STATS_SPAN_SERVER, 16, 0 }, { STATS_SPAN_SERVER, 2, 1 },
		{ STATS_SPAN_SERVER, 4, 1 }, { STATS_SPAN_SERVER, 12, 1 },
		{ STATS_SPAN_SERVER, 13, 1 }, { STATS_SPAN_SERVER, 14, 1 },
		{ STATS_SPAN_SERVER, 15, 1 },
	};
	struct otlp_buf b = { 0 };
	struct stats_span_rec s;
	const struct stats_span_rec *p = &s;
	char want[128];
	size_t i;

	(void)state;
	server_span(&s);
	assert_int_equal(otlp_json_encode(&b, &p, 1, NULL), 0);
	assert_null(strstr(b.p, "rpc."));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		server_span(&s);
		s.kind = cases[i].kind;
		s.flags |= STATS_SF_GRPC;
		s.grpc_status = cases[i].code;
		assert_int_equal(otlp_json_encode(&b, &p, 1, NULL), 0);
		snprintf(want, sizeof(want), "{\"key\":\"rpc.system\",\"value\":"
		    "{\"stringValue\":\"grpc\"}},{\"key\":\"rpc.grpc.status_code\","
		    "\"value\":{\"intValue\":\"%u\"}}]", cases[i].code);
		if (strstr(b.p, want) == NULL)
			fail_msg("case %zu: no %s in %s", i, want, b.p);
		if ((strstr(b.p, "\"status\":{\"code\":2}") != NULL) != cases[i].error)
			fail_msg("case %zu: error should be %d: %s", i, cases[i].error, b.p);
	}
	/* a 5xx is an error whatever the gRPC status */
	s.status = 503;
	s.grpc_status = 0;
	assert_int_equal(otlp_json_encode(&b, &p, 1, NULL), 0);
	assert_non_null(strstr(b.p, "\"status\":{\"code\":2}"));
	otlp_buf_free(&b);
}

static void
test_flags(void **state)
{
	char f[32];

	(void)state;
	otlp_json_flags(f, sizeof(f), 0);
	assert_string_equal(f, "");
	otlp_json_flags(f, sizeof(f), STATS_SF_SAMPLED);
	assert_string_equal(f, "");
	otlp_json_flags(f, sizeof(f), STATS_SF_UH | STATS_SF_UO | STATS_SF_NR | STATS_SF_UR);
	assert_string_equal(f, "UH,UO,NR,UR");
	otlp_json_flags(f, 6, STATS_SF_UH | STATS_SF_UF | STATS_SF_UO);
	assert_string_equal(f, "UH,UF");
}

static void
mark(struct stats_span_rec *s, unsigned n)
{
	memset(s, 0, sizeof(*s));
	s->retries = n;
}

static void
test_queue(void **state)
{
	struct otlp_queue q;
	struct stats_span_rec in[12];
	const struct stats_span_rec *out[12];
	size_t i, n;

	(void)state;
	for (i = 0; i < 12; i++)
		mark(&in[i], (unsigned)i);
	assert_int_equal(otlp_queue_init(&q, 8), 0);
	assert_int_equal(otlp_queue_push(&q, in, 5), 5);
	otlp_queue_pop(&q, 3);
	assert_int_equal(q.len, 2);
	/* wraps around the end of the array: 6 fit, the 7th does not */
	assert_int_equal(otlp_queue_push(&q, in + 5, 7), 6);
	assert_int_equal(q.len, 8);
	assert_int_equal(otlp_queue_push(&q, in, 1), 0);
	n = otlp_queue_peek(&q, out, 12);
	assert_int_equal(n, 8);
	for (i = 0; i < n; i++)
		assert_int_equal(out[i]->retries, 3 + i);
	/* a smaller peek gives the oldest */
	assert_int_equal(otlp_queue_peek(&q, out, 3), 3);
	assert_int_equal(out[2]->retries, 5);
	otlp_queue_pop(&q, 100);
	assert_int_equal(q.len, 0);
	assert_int_equal(otlp_queue_peek(&q, out, 12), 0);
	otlp_queue_free(&q);
	assert_int_equal(otlp_queue_init(&q, 0), -1);
}

/* room/commit hand out contiguous free space only */
static void
test_queue_room(void **state)
{
	struct otlp_queue q;
	struct stats_span_rec in[8];
	size_t room;

	(void)state;
	memset(in, 0, sizeof(in));
	assert_int_equal(otlp_queue_init(&q, 8), 0);
	assert_non_null(otlp_queue_room(&q, &room));
	assert_int_equal(room, 8);
	otlp_queue_push(&q, in, 6);
	otlp_queue_pop(&q, 4);
	assert_non_null(otlp_queue_room(&q, &room));
	assert_int_equal(room, 2);      /* to the end of the array */
	otlp_queue_commit(&q, 2);
	assert_non_null(otlp_queue_room(&q, &room));
	assert_int_equal(room, 4);      /* wrapped: up to the head */
	otlp_queue_commit(&q, 4);
	assert_null(otlp_queue_room(&q, &room));
	assert_int_equal(room, 0);
	otlp_queue_free(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_empty_and_no_namespace),
		cmocka_unit_test(test_full_fields),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_grpc),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_queue_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
