/* SPDX-License-Identifier: ISC */
/*
 * stats endpoint rows of version 4 (issue 16, several hosts): rows are
 * keyed on (service, version, index, address, port), so this host's
 * api@v1.0 and another host's, same port, stay two rows with their own
 * breaker state and host name; a found row takes a new host name; a
 * version 3 file (160-byte rows, no address or host) still reads, its
 * rows at address 0 and host "".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mesh/stats.h"
#include "mesh/stats_layout.h"

#define STATS_TEST_DIR "/tmp/test_stats_ep_hosts.XXXXXX"
#include "test_stats_util.h"

#define ADDR_B 0x0a000002u   /* 10.0.0.2 */

static const struct stats_ep_rec *
row_of(const struct stats_view *v, uint32_t addr)
{
	size_t i;

	for (i = 0; i < v->neps; i++)
		if (v->eps[i].addr == addr)
			return &v->eps[i];
	return NULL;
}

static void
test_two_hosts(void **state)
{
	struct stats_ep_rec *here, *there;
	const struct stats_ep_rec *r;
	struct stats_view v;

	(void)state;
	assert_int_equal(stats_open(path), 0);
	here = stats_ep("api", "v1.0", 0, 0, 15001, NULL);
	there = stats_ep("api", "v1.0", 0, ADDR_B, 15001, "b");
	assert_non_null(here);
	assert_non_null(there);
	assert_ptr_not_equal(here, there);
	/* found again by the whole key, the host name not part of it */
	assert_ptr_equal(stats_ep("api", "v1.0", 0, 0, 15001, ""), here);
	assert_ptr_equal(stats_ep("api", "v1.0", 0, STATS_EP_LOOPBACK, 15001, ""), here);
	assert_ptr_equal(stats_ep("api", "v1.0", 0, ADDR_B, 15001, "b"), there);
	/* another port on the same address: another row */
	assert_ptr_not_equal(stats_ep("api", "v1.0", 0, ADDR_B, 15002, "b"), there);
	stats_ep_put32(there, &there->state, STATS_EP_OPEN);
	stats_ep_put32(there, &there->ejected, 1);
	stats_ep_put(there, &there->requests, 7);
	stats_ep_put(here, &here->requests, 3);

	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	assert_int_equal(v.snap.version, 4);
	assert_int_equal(v.neps, 3);
	assert_null(row_of(&v, 0));        /* 0 is written as 127.0.0.1 */
	assert_non_null(r = row_of(&v, STATS_EP_LOOPBACK));
	assert_int_equal(r->state, STATS_EP_CLOSED);
	assert_int_equal(r->ejected, 0);
	assert_int_equal(r->requests, 3);
	assert_string_equal(r->host, "");
	assert_non_null(r = row_of(&v, ADDR_B));
	assert_string_equal(r->host, "b");
	assert_string_equal(r->service, "api");
	assert_string_equal(r->version, "v1.0");
	assert_int_equal(r->index, 0);
	stats_view_free(&v);

	/* the host renamed: the same row, the new name */
	assert_ptr_equal(stats_ep("api", "v1.0", 0, ADDR_B, 15001, "b2"), there);
	assert_string_equal(there->host, "b2");
	assert_int_equal(there->requests, 7);
	/* a freed row is reused with its host and address reset */
	stats_ep_free(there);
	assert_ptr_equal(stats_ep("db", "v1", 2, 0, 16000, NULL), there);
	assert_int_equal(there->addr, STATS_EP_LOOPBACK);
	assert_string_equal(there->host, "");
	assert_int_equal(there->requests, 0);
	/* a host name too long is cut, NUL-terminated */
	{
		char longname[2 * STATS_NAME_LEN];

		memset(longname, 'h', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		here = stats_ep("x", "v", 9, 1, 1, longname);
		assert_non_null(here);
		assert_int_equal(strlen(here->host), STATS_NAME_LEN - 1);
	}
}

/* Round up to the next multiple of 64, as the writer places sections. */
static uint32_t
r64(uint64_t off)
{
	return (uint32_t)((off + 63u) & ~(uint64_t)63u);
}

/* A version 3 file with two endpoint rows, 160 bytes apart. */
static void
test_v3_file(void **state)
{
	const uint32_t ecap = 3;
	uint32_t u, eoff, size, n = STAT__COUNT;
	struct stats_ep_rec row;
	struct stats_view v;
	unsigned char *b;
	FILE *f;

	(void)state;
	eoff = r64(STATS_HDR_SIZE + (uint64_t)n * 8);
	size = r64(eoff + (uint64_t)ecap * STATS_V3_EP_REC);
	assert_non_null(b = calloc(1, size));
	memcpy(b, STATS_MAGIC, STATS_MAGIC_LEN);
	u = 3;
	memcpy(b + 8, &u, 4);
	memcpy(b + 12, &size, 4);
	memcpy(b + 32, &n, 4);
	u = STATS_HDR_SIZE;
	memcpy(b + 36, &u, 4);
	memcpy(b + 48, &eoff, 4);
	memcpy(b + 52, &ecap, 4);
	memset(&row, 0, sizeof(row));
	row.state = STATS_EP_HALF_OPEN;
	strcpy(row.service, "api");
	strcpy(row.version, "v1");
	row.index = 0;
	row.port = 15001;
	row.requests = 11;
	memcpy(b + eoff, &row, STATS_V3_EP_REC);
	row.state = STATS_EP_CLOSED;
	row.index = 1;
	row.port = 15002;
	row.requests = 22;
	memcpy(b + eoff + STATS_V3_EP_REC, &row, STATS_V3_EP_REC);
	/* the third row stays free (state 0) */
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(b, 1, size, f), size);
	fclose(f);

	assert_int_equal(stats_view_read(path, &v), STATS_OK);
	assert_int_equal(v.snap.version, 3);
	assert_int_equal(v.neps, 2);
	assert_int_equal(v.eps[0].state, STATS_EP_HALF_OPEN);
	assert_int_equal(v.eps[0].port, 15001);
	assert_int_equal(v.eps[0].requests, 11);
	assert_int_equal(v.eps[1].index, 1);
	assert_int_equal(v.eps[1].port, 15002);
	assert_int_equal(v.eps[1].requests, 22);
	for (u = 0; u < 2; u++) {
		assert_int_equal(v.eps[u].addr, 0);
		assert_string_equal(v.eps[u].host, "");
	}
	stats_view_free(&v);
	/* the same bytes as version 4: three 216-byte rows do not fit */
	u = 4;
	poke(8, &u, 4);
	assert_int_equal(stats_view_read(path, &v), STATS_ERR_LAYOUT);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v3_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
