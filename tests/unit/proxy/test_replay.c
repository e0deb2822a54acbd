/* SPDX-License-Identifier: ISC */
/*
 * test_replay: the retry buffer keeps exactly the body bytes that went
 * up, across pooled buffers, gives them back whole on every replay, and
 * gives up past its bound.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mesh/buf.h"
#include "mesh/relay.h"
#include "mesh/replay.h"

#define BUFSZ 4096

static void
cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop; (void)w; (void)revents;
}

static int
setup(void **state)
{
	(void)state;
	buf_pool_init(BUFSZ, 64);
	return 0;
}

static void
pattern(char *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (char)('a' + (i * 7 + seed) % 26);
}

/* Send the chain through a socketpair and read it back. */
static size_t
replay_roundtrip(struct replay *r, char *out, size_t max)
{
	struct side s;
	int sv[2], k;
	size_t got = 0;
	ssize_t n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	memset(&s, 0, sizeof(s));
	assert_int_equal(side_open(&s, &transport_plain, sv[0], 0, cb), 0);
	replay_rewind(r);
	for (;;) {
		k = replay_send(r, &s);
		assert_int_not_equal(k, -1);
		while ((n = read(sv[1], out + got, max - got)) > 0)
			got += (size_t)n;
		if (k == 1)
			break;
		s.wblocked = 0;
	}
	side_close(EV_DEFAULT, &s);
	close(sv[1]);
	return got;
}

static void
test_keeps_across_buffers(void **state)
{
	static char body[3 * BUFSZ + 123], back[sizeof(body)];
	struct replay r;
	size_t off, step = 1000;

	(void)state;
	memset(&r, 0, sizeof(r));
	pattern(body, sizeof(body), 3);
	replay_start(&r, 65536);
	for (off = 0; off < sizeof(body); off += step) {
		size_t n = sizeof(body) - off < step ? sizeof(body) - off : step;

		/* offered n + 17 extra, of which 17 did not go */
		replay_tap(&r, body + off, n);
		replay_tap(&r, "xxxxxxxxxxxxxxxxx", 17);
		replay_untap(&r, 17);
	}
	assert_true(replay_ok(&r));
	assert_int_equal(r.total, sizeof(body));
	assert_int_equal(replay_roundtrip(&r, back, sizeof(back)), sizeof(body));
	assert_memory_equal(back, body, sizeof(body));
	/* a second replay sends the same bytes again */
	memset(back, 0, sizeof(back));
	assert_int_equal(replay_roundtrip(&r, back, sizeof(back)), sizeof(body));
	assert_memory_equal(back, body, sizeof(body));
	/* more body after a replay is kept behind it */
	replay_tap(&r, "tail", 4);
	assert_int_equal(r.total, sizeof(body) + 4);
	replay_end(&r);
	assert_int_equal(r.n, 0);
}

static void
test_untap_across_buffers(void **state)
{
	static char body[2 * BUFSZ];
	struct replay r;

	(void)state;
	memset(&r, 0, sizeof(r));
	pattern(body, sizeof(body), 5);
	replay_start(&r, 65536);
	replay_tap(&r, body, 100);
	replay_tap(&r, body + 100, sizeof(body) - 100);
	assert_int_equal(r.n, 2);
	replay_untap(&r, BUFSZ + 10);   /* frees the second buffer */
	assert_int_equal(r.n, 1);
	assert_int_equal(r.total, BUFSZ - 10);
	replay_end(&r);
}

static void
test_overflow(void **state)
{
	static char body[5000];
	struct replay r;
	size_t before = buf_pool_allocated() - buf_pool_free();

	(void)state;
	memset(&r, 0, sizeof(r));
	replay_start(&r, 8000);
	replay_tap(&r, body, sizeof(body));
	assert_true(replay_ok(&r));
	replay_tap(&r, body, sizeof(body));   /* 10,000 > 8,000 */
	assert_false(replay_ok(&r));
	assert_int_equal(r.n, 0);             /* released at once */
	assert_int_equal(buf_pool_allocated() - buf_pool_free(), before);
	replay_tap(&r, body, 10);             /* no longer tapping */
	assert_int_equal(r.total, 0);
	replay_start(&r, 8000);               /* the next request starts clean */
	assert_true(replay_ok(&r));
	replay_end(&r);
}

static void
test_not_started(void **state)
{
	struct replay r;

	(void)state;
	memset(&r, 0, sizeof(r));
	replay_tap(&r, "abc", 3);
	assert_false(replay_ok(&r));
	assert_int_equal(r.total, 0);
	replay_end(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keeps_across_buffers),
		cmocka_unit_test(test_untap_across_buffers),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_not_started),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
