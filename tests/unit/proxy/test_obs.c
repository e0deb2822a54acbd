/* SPDX-License-Identifier: ISC */
/*
 * test_obs: what obs (src/proxy/obs.c) records of a gRPC call, end to end
 * through a real stats file as meshd and meshctl read it back:
 * - obs_begin, obs_grpc, obs_end count the call in its peer row by
 *   grpc-status (0..16; anything else as 2 UNKNOWN), beside its HTTP
 *   status class; an exchange without obs_grpc counts no gRPC call;
 * - obs_begin forgets the last exchange's status; obs_grpc outside an
 *   exchange does nothing; the last obs_grpc of an exchange wins;
 * - a sampled exchange's span carries STATS_SF_GRPC and grpc_status, one
 *   that was no gRPC call neither.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/http.h"
#include "mesh/obs.h"
#include "mesh/stats.h"

#define STATS_TEST_DIR "/tmp/test_obs.XXXXXX"
#include "test_stats_util.h"

static struct http_request req;   /* 4 KiB: not on the stack */

static const char grpc_head[] =
	"POST /shop.Cart/Add HTTP/1.1\r\nHost: cart\r\n"
	"content-type: application/grpc\r\nte: trailers\r\n\r\n";

/*
 * One exchange: outbound (inbound 0) to `cart` v1, or inbound from `web`;
 * HTTP status 200; grpc_status < -100: no obs_grpc at all.
 */
static void
exchange(struct obs *o, int inbound, int grpc_status)
{
	static const struct http_limits lim = { 8192, 16384, 100 };

	assert_true(http_parse_request(grpc_head, strlen(grpc_head), &lim, &req) > 0);
	obs_begin(o, &req, inbound, inbound ? "web" : NULL);
	if (!inbound) {
		obs_route(o, "cart");
		obs_upstream(o, "v1", 0);
	}
	obs_status(o, 200);
	if (grpc_status >= -100)
		obs_grpc(o, grpc_status);
	obs_end(o, 0, 10, 20);
}

/* The peer row of (dir, service) in v, or NULL. */
static const struct stats_peer_rec *
row(const struct stats_view *v, enum stats_dir d, const char *service)
{
	size_t i;

	for (i = 0; i < v->npeers; i++)
		if (v->peers[i].dir == (uint32_t)d && strcmp(v->peers[i].service, service) == 0)
			return &v->peers[i];
	return NULL;
}

static uint64_t
grpc_calls(const struct stats_peer_rec *p)
{
	uint64_t n = 0;
	unsigned c;

	for (c = 0; c < STATS_GRPC_CODES; c++)
		n += p->grpc[c];
	return n;
}

static void
test_codes(void **state)
{
	static const int codes[] = { 0, 0, 0, 14, 14, 4, 1, 7, 8, 12, 13, 16 };
	const struct stats_peer_rec *p;
	struct stats_view v;
	struct obs o;
	size_t i;

	(void)state;
	(void)poke;
	memset(&o, 0, sizeof(o));
	obs_configure("shop", "v1", 0, 0, 0);
	assert_int_equal(stats_open(path), 0);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		exchange(&o, 0, codes[i]);
	exchange(&o, 0, 17);        /* past 16: UNKNOWN */
	exchange(&o, 0, -1);        /* negative: UNKNOWN */
	exchange(&o, 0, 1000);
	exchange(&o, 0, -1000);     /* an HTTP/1.1 exchange: no gRPC call */
	exchange(&o, 1, 0);         /* inbound rows count apart */
	exchange(&o, 1, 13);

	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	assert_int_equal(v.snap.version, STATS_VERSION);
	assert_non_null(p = row(&v, STATS_OUT, "cart"));
	assert_string_equal(p->version, "v1");
	assert_int_equal(p->requests, 16);
	assert_int_equal(p->responses[0], 16);      /* the HTTP status counts too */
	assert_int_equal(grpc_calls(p), 15);
	assert_int_equal(p->grpc[0], 3);
	assert_int_equal(p->grpc[14], 2);
	assert_int_equal(p->grpc[2], 3);
	assert_int_equal(p->grpc[4], 1);
	assert_int_equal(p->grpc[1], 1);
	assert_int_equal(p->grpc[7], 1);
	assert_int_equal(p->grpc[8], 1);
	assert_int_equal(p->grpc[12], 1);
	assert_int_equal(p->grpc[13], 1);
	assert_int_equal(p->grpc[16], 1);
	assert_int_equal(p->grpc[3], 0);
	assert_non_null(p = row(&v, STATS_IN, "web"));
	assert_int_equal(p->requests, 2);
	assert_int_equal(grpc_calls(p), 2);
	assert_int_equal(p->grpc[0], 1);
	assert_int_equal(p->grpc[13], 1);
	stats_view_free(&v);
}

/* obs_begin starts each exchange with no gRPC status; obs_grpc outside
 * an exchange is ignored; the last one of an exchange wins. */
static void
test_reset(void **state)
{
	static const struct http_limits lim = { 8192, 16384, 100 };
	const struct stats_peer_rec *p;
	struct stats_view v;
	struct obs o;

	(void)state;
	memset(&o, 0, sizeof(o));
	obs_configure("shop", "v1", 0, 0, 0);
	assert_int_equal(stats_open(path), 0);
	exchange(&o, 0, 14);
	obs_grpc(&o, 5);            /* after obs_end: nothing */
	assert_true(http_parse_request(grpc_head, strlen(grpc_head), &lim, &req) > 0);
	obs_begin(&o, &req, 0, NULL);
	assert_int_equal(o.grpc, OBS_GRPC_NONE);
	obs_route(&o, "cart");
	obs_upstream(&o, "v1", 0);
	obs_status(&o, 200);
	obs_end(&o, 0, 0, 0);       /* no gRPC status this time */
	assert_true(http_parse_request(grpc_head, strlen(grpc_head), &lim, &req) > 0);
	obs_begin(&o, &req, 0, NULL);
	obs_route(&o, "cart");
	obs_upstream(&o, "v1", 0);
	obs_grpc(&o, 14);           /* a retry's status, then the final one */
	obs_grpc(&o, 0);
	obs_end(&o, 1, 0, 0);

	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	assert_non_null(p = row(&v, STATS_OUT, "cart"));
	assert_int_equal(p->requests, 3);
	assert_int_equal(grpc_calls(p), 2);
	assert_int_equal(p->grpc[14], 1);
	assert_int_equal(p->grpc[0], 1);
	assert_int_equal(p->grpc[5], 0);
	stats_view_free(&v);
}

/* Every exchange sampled: the span says whether it was a gRPC call. */
static void
test_span(void **state)
{
	struct stats_span_rec out[8];
	uint64_t cursor = 0;
	struct obs o;
	long got;

	(void)state;
	memset(&o, 0, sizeof(o));
	obs_configure("shop", "v1", 0, 1000, 0);
	assert_int_equal(stats_open(path), 0);
	exchange(&o, 0, 14);
	exchange(&o, 0, -1000);
	exchange(&o, 1, 0);
	got = stats_spans_read(path, &cursor, out, 8, NULL, 0);
	assert_int_equal(got, 3);
	assert_true(out[0].flags & STATS_SF_GRPC);
	assert_true(out[0].flags & STATS_SF_SAMPLED);
	assert_int_equal(out[0].grpc_status, 14);
	assert_int_equal(out[0].status, 200);
	assert_string_equal(out[0].path, "/shop.Cart/Add");
	assert_false(out[1].flags & STATS_SF_GRPC);
	assert_int_equal(out[1].grpc_status, 0);
	assert_true(out[2].flags & STATS_SF_GRPC);
	assert_int_equal(out[2].grpc_status, 0);
	assert_int_equal(out[2].kind, STATS_SPAN_SERVER);
	obs_configure("shop", "v1", 0, 0, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_span, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
