/* SPDX-License-Identifier: ISC */
/*
 * test_ptap: the tap lease of a sidecar (src/proxy/ptap.c) and what obs
 * does with it:
 * - where the lease lives, from --stats or --control;
 * - a lease holds while its mtime is at most PTAP_LEASE_S old (and not
 *   that far in the future);
 * - ptap_check() against a real file: none, fresh, stale, touched again,
 *   another service's;
 * - obs: with trace_sample 0 and no tap nothing reaches the ring; tapped,
 *   every exchange does, without STATS_SF_SAMPLED and without span ids,
 *   and not into the slowest-spans table; untapped again, nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "mesh/clock.h"
#include "mesh/http.h"
#include "mesh/obs.h"
#include "mesh/stats.h"
#include "ptap_int.h"

#define STATS_TEST_DIR "/tmp/test_ptap.XXXXXX"
#include "test_stats_util.h"

static void
test_dir(void **state)
{
	char b[64];

	(void)poke;
	assert_int_equal(ptap_dir(b, sizeof(b), NULL, "/s/run/stats/a@v1.0.stats"), 0);
	assert_string_equal(b, "/s/run/tap");
	assert_int_equal(ptap_dir(b, sizeof(b), "/s/run/meshd.sock", NULL), 0);
	assert_string_equal(b, "/s/run/tap");
	/* --stats wins: it is where the stats really go */
	assert_int_equal(ptap_dir(b, sizeof(b), "/x/run/meshd.sock", "/s/r//stats//a.stats"), 0);
	assert_string_equal(b, "/s/r/tap");
	assert_int_equal(ptap_dir(b, sizeof(b), NULL, "run/stats/a.stats"), 0);
	assert_string_equal(b, "run/tap");
	assert_int_equal(ptap_dir(b, sizeof(b), NULL, "/s/a.stats"), 0);
	assert_string_equal(b, "/tap");
	assert_int_equal(ptap_dir(b, sizeof(b), NULL, "/a.stats"), -1);
	assert_int_equal(ptap_dir(b, sizeof(b), NULL, "a.stats"), -1);
	assert_int_equal(ptap_dir(b, sizeof(b), NULL, "stats/a.stats"), -1);
	assert_int_equal(ptap_dir(b, sizeof(b), "meshd.sock", NULL), -1);
	assert_int_equal(ptap_dir(b, sizeof(b), NULL, NULL), -1);
	assert_int_equal(ptap_dir(b, 8, "/s/run/meshd.sock", NULL), -1);   /* too long */
}

static void
test_lease(void **state)
{
	const int64_t s = 1000000000, now = 1700000000 * s;

	assert_true(ptap_lease_live(now, now));
	assert_true(ptap_lease_live(now - 1 * s, now));
	assert_true(ptap_lease_live(now - PTAP_LEASE_S * s, now));
	assert_false(ptap_lease_live(now - PTAP_LEASE_S * s - 1, now));
	assert_false(ptap_lease_live(now - 3600 * s, now));
	assert_false(ptap_lease_live(0, now));
	/* a clock stepped back a little: still the tapper's; far: not */
	assert_true(ptap_lease_live(now + 2 * s, now));
	assert_false(ptap_lease_live(now + PTAP_LEASE_S * s + 1, now));
}

/* Set the lease file's mtime to `ago` seconds before now (creating it). */
static void
lease_at(const char *lease, int ago)
{
	struct timespec ts[2];
	int fd;

	assert_true((fd = open(lease, O_WRONLY | O_CREAT, 0600)) != -1);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= ago;
	ts[1] = ts[0];
	assert_int_equal(futimens(fd, ts), 0);
	close(fd);
}

static struct http_request req;

/* One whole exchange through obs, inbound from "web". */
static void
exchange(const char *head)
{
	static const struct http_limits lim = { 8192, 16384, 100 };
	struct obs o;

	memset(&o, 0, sizeof(o));
	assert_true(http_parse_request(head, strlen(head), &lim, &req) > 0);
	obs_begin(&o, &req, 1, "web");
	obs_status(&o, 503);
	obs_end(&o, 1, 0, 0);
}

static void
test_check_and_obs(void **state)
{
	struct ev_loop *loop = EV_DEFAULT;
	struct stats_span_rec out[8];
	char sock[4300], lease[4400], tapdir[4300];
	uint64_t cursor = 0;
	long got;

	snprintf(sock, sizeof(sock), "%s/run/meshd.sock", dir);
	snprintf(tapdir, sizeof(tapdir), "%s/run", dir);
	assert_int_equal(mkdir(tapdir, 0700), 0);
	snprintf(tapdir, sizeof(tapdir), "%s/run/tap", dir);
	assert_int_equal(mkdir(tapdir, 0700), 0);
	snprintf(lease, sizeof(lease), "%s/api", tapdir);
	assert_int_equal(stats_open(path), 0);

	ptap_start(loop, sock, NULL);
	obs_configure("api", "v1", 0, 0, 0);   /* names the service: checks now */
	assert_false(ptap_on());                /* no lease file */
	exchange("GET /a HTTP/1.1\r\nHost: api\r\n\r\n");

	lease_at(lease, 0);
	ptap_check();
	assert_true(ptap_on());
	exchange("GET /b?x=1 HTTP/1.1\r\nHost: api\r\n\r\n");
	exchange("POST /c HTTP/1.1\r\nHost: api\r\nContent-Length: 0\r\n\r\n");

	lease_at(lease, PTAP_LEASE_S + 1);      /* the tapper went away */
	ptap_check();
	assert_false(ptap_on());
	exchange("GET /d HTTP/1.1\r\nHost: api\r\n\r\n");
	lease_at(lease, 1);                     /* and came back */
	ptap_check();
	assert_true(ptap_on());
	obs_configure("db", "v1", 0, 0, 0);     /* another service's sidecar */
	assert_false(ptap_on());
	ptap_stop(loop);
	assert_false(ptap_on());

	got = stats_spans_read(path, &cursor, out, 8, NULL, 0);
	assert_int_equal(got, 2);               /* /b and /c only */
	assert_string_equal(out[0].path, "/b?x=1");
	assert_string_equal(out[0].method, "GET");
	assert_string_equal(out[0].peer, "web");
	assert_string_equal(out[0].instance, "api@v1.0");
	assert_int_equal(out[0].kind, STATS_SPAN_SERVER);
	assert_int_equal(out[0].status, 503);
	assert_int_equal(out[0].retries, 1);
	assert_int_equal(out[0].flags & STATS_SF_SAMPLED, 0);
	assert_true(out[0].start_ns > 0);
	assert_string_equal(out[1].path, "/c");
	assert_string_equal(out[1].method, "POST");
	/* no trace context, no sampling: no trace, no span */
	assert_true(trace_id_zero(out[0].trace_id, sizeof(out[0].trace_id)));
	assert_true(trace_id_zero(out[0].span_id, sizeof(out[0].span_id)));
	assert_int_equal(stats_spans_read(path, NULL, out, 8, NULL, 1), 0);   /* no slow ones */
	stats_close();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dir),
		cmocka_unit_test(test_lease),
		cmocka_unit_test_setup_teardown(test_check_and_obs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
