/* SPDX-License-Identifier: ISC */
/*
 * mreg_rec: an instance record to JSON and back, with and without weight
 * and protocol;
 * every refusal of the strict decoder (members missing, twice, unknown,
 * of the wrong type or out of bounds, not an object); the key layout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/mreg.h"

static void
rec_fill(struct mreg_rec *r)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->service, "api");
	strcpy(r->version, "v1.2-rc");
	r->index = 3;
	strcpy(r->host, "pi-kitchen.lan");
	strcpy(r->address, "10.0.0.5");
	r->port = 15001;
	strcpy(r->spiffe, "spiffe://mesh.local/svc/api");
	r->weight = -1;
}

static void
test_round_trip(void **state)
{
	struct mreg_rec a, b;
	char buf[MREG_REC_MAX], err[128];
	int n;

	(void)state;
	rec_fill(&a);
	n = mreg_rec_encode(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "{\"service\":\"api\",\"version\":\"v1.2-rc\",\"index\":3,"
	    "\"host\":\"pi-kitchen.lan\",\"address\":\"10.0.0.5\",\"port\":15001,"
	    "\"spiffe\":\"spiffe://mesh.local/svc/api\"}");
	assert_int_equal(mreg_rec_decode(buf, (size_t)n, &b, err, sizeof(err)), 0);
	assert_memory_equal(&a, &b, sizeof(a));

	a.weight = 40;
	n = mreg_rec_encode(&a, buf, sizeof(buf));
	assert_non_null(strstr(buf, ",\"weight\":40}"));
	assert_int_equal(mreg_rec_decode(buf, (size_t)n, &b, err, sizeof(err)), 0);
	assert_int_equal(b.weight, 40);
	assert_memory_equal(&a, &b, sizeof(a));

	snprintf(a.protocol, sizeof(a.protocol), "grpc");
	n = mreg_rec_encode(&a, buf, sizeof(buf));
	assert_non_null(strstr(buf, ",\"weight\":40,\"protocol\":\"grpc\"}"));
	assert_int_equal(mreg_rec_decode(buf, (size_t)n, &b, err, sizeof(err)), 0);
	assert_string_equal(b.protocol, "grpc");
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(mreg_proto("grpc"), CONF_PROTO_GRPC);
	assert_int_equal(mreg_proto("tcp"), CONF_PROTO_TCP);
	assert_int_equal(mreg_proto(""), -1);

	/* too small a buffer: -1, never a cut record */
	assert_int_equal(mreg_rec_encode(&a, buf, 20), -1);
	/* member order and blanks do not matter */
	strcpy(buf, " { \"port\" : 1 , \"spiffe\":\"spiffe://x/svc/a\",\"address\":\"1.2.3.4\","
	    "\"host\":\"b\",\"index\":0,\"version\":\"v1\",\"service\":\"a\" } ");
	assert_int_equal(mreg_rec_decode(buf, strlen(buf), &b, err, sizeof(err)), 0);
	assert_int_equal(b.port, 1);
	assert_int_equal(b.weight, -1);
}

static void
test_refused(void **state)
{
	static const struct { const char *json, *why; } cases[] = {
		{ "[]", "not a JSON object" },
		{ "{\"service\":\"api\"", NULL },
		{ "{\"service\":\"api\"}", "no \"version\"" },
		{ "{\"service\":\"api\",\"service\":\"api\"}", "member \"service\" twice" },
		{ "{\"zone\":1}", "unknown member \"zone\"" },
		{ "{\"service\":\"API\"}", "bad \"service\"" },
		{ "{\"service\":\"\"}", "bad \"service\"" },
		{ "{\"service\":7}", "bad \"service\"" },
		{ "{\"version\":\"v/1\"}", "bad \"version\"" },
		{ "{\"index\":64}", "bad \"index\"" },
		{ "{\"index\":-1}", "bad \"index\"" },
		{ "{\"index\":1.0}", "bad \"index\"" },
		{ "{\"index\":\"1\"}", "bad \"index\"" },
		{ "{\"host\":\"a/b\"}", "bad \"host\"" },
		{ "{\"host\":\"..\"}", "bad \"host\"" },
		{ "{\"address\":\"fd00::1\"}", "bad \"address\"" },
		{ "{\"address\":\"10.0.0.256\"}", "bad \"address\"" },
		{ "{\"port\":0}", "bad \"port\"" },
		{ "{\"port\":65536}", "bad \"port\"" },
		{ "{\"port\":1e3}", "bad \"port\"" },
		{ "{\"spiffe\":\"https://x\"}", "bad \"spiffe\"" },
		{ "{\"weight\":101}", "bad \"weight\"" },
		{ "{\"protocol\":\"h2\"}", "bad \"protocol\"" },
		{ "{\"protocol\":\"\"}", "bad \"protocol\"" },
		{ "{\"protocol\":2}", "bad \"protocol\"" },
		{ "{\"service\":\"a\\u0000b\"}", "bad \"service\"" },
	};
	struct mreg_rec r;
	char err[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		if (mreg_rec_decode(cases[i].json, strlen(cases[i].json), &r, err,
		    sizeof(err)) != -1)
			fail_msg("case %zu (%s) decoded", i, cases[i].json);
		if (cases[i].why != NULL && strcmp(err, cases[i].why) != 0)
			fail_msg("case %zu (%s): got \"%s\", want \"%s\"", i,
			    cases[i].json, err, cases[i].why);
		assert_int_equal(r.weight, -1);
		assert_string_equal(r.service, "");
	}
}

static void
test_key_split(void **state)
{
	char host[CONF_HOST_NAME_MAX], id[REG_ID_MAX];
	const char *k;

	(void)state;
	k = "instances/b/api@v1.0";
	assert_int_equal(mreg_key_split(k, strlen(k), host, sizeof(host), id, sizeof(id)), 0);
	assert_string_equal(host, "b");
	assert_string_equal(id, "api@v1.0");
	/* the length given, not the NUL, ends the key */
	assert_int_equal(mreg_key_split(k, strlen(k) - 2, host, sizeof(host), id,
	    sizeof(id)), 0);
	assert_string_equal(id, "api@v1");
	k = "instances/b/api/x";
	assert_int_equal(mreg_key_split(k, strlen(k), host, sizeof(host), id, sizeof(id)), -1);
	k = "instances//api";
	assert_int_equal(mreg_key_split(k, strlen(k), host, sizeof(host), id, sizeof(id)), -1);
	k = "instances/b/";
	assert_int_equal(mreg_key_split(k, strlen(k), host, sizeof(host), id, sizeof(id)), -1);
	k = "weights/api";
	assert_int_equal(mreg_key_split(k, strlen(k), host, sizeof(host), id, sizeof(id)), -1);
	k = "instances/b\0x/api";
	assert_int_equal(mreg_key_split(k, 17, host, sizeof(host), id, sizeof(id)), -1);
	k = "instances/bbbbbbbb/api";
	assert_int_equal(mreg_key_split(k, strlen(k), host, 4, id, sizeof(id)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_key_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
