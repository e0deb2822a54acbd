/* SPDX-License-Identifier: ISC */
/*
 * ipc: framing, oversize, unknown type, flags, partial feeds, send/recv,
 * what a reader holds of a frame begun (meshd's frame timeout).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "mesh/ipc.h"

static size_t
frame(unsigned char *out, uint16_t type, const char *payload)
{
	size_t n = strlen(payload);

	ipc_hdr_encode(out, type, (uint32_t)n);
	memcpy(out + IPC_HDR_LEN, payload, n);
	return IPC_HDR_LEN + n;
}

static void
test_header_layout(void **state)
{
	unsigned char h[IPC_HDR_LEN];

	(void)state;
	ipc_hdr_encode(h, IPC_CMD, 0x01020304);
	assert_int_equal(h[0], 1);
	assert_int_equal(h[3], 4);
	assert_int_equal(h[4], 0);
	assert_int_equal(h[5], IPC_CMD);
	assert_int_equal(h[6], 0);
	assert_int_equal(h[7], 0);
}

static void
test_two_frames_one_feed(void **state)
{
	struct ipc_reader r;
	unsigned char buf[128];
	size_t n;
	uint16_t t;
	char *p;
	size_t l;
	const char *err = NULL;

	(void)state;
	n = frame(buf, IPC_CMD, "status");
	n += frame(buf + n, IPC_HELLO, "proxy api@v1.0 42");
	ipc_reader_init(&r);
	assert_int_equal(ipc_reader_feed(&r, buf, n), 0);
	assert_int_equal(ipc_reader_next(&r, &t, &p, &l, &err), 1);
	assert_int_equal(t, IPC_CMD);
	assert_int_equal(l, 6);
	assert_string_equal(p, "status");
	assert_int_equal(ipc_reader_next(&r, &t, &p, &l, &err), 1);
	assert_int_equal(t, IPC_HELLO);
	assert_string_equal(p, "proxy api@v1.0 42");
	assert_int_equal(ipc_reader_next(&r, &t, &p, &l, &err), 0);
	ipc_reader_free(&r);
}

static void
test_byte_by_byte(void **state)
{
	struct ipc_reader r;
	unsigned char buf[256];
	size_t n, i;
	uint16_t t;
	char *p;
	size_t l;
	const char *err = NULL;
	int got = 0;

	(void)state;
	n = frame(buf, IPC_READY, "");
	n += frame(buf + n, IPC_FAIL, "cannot listen on 127.0.0.1:5433");
	ipc_reader_init(&r);
	for (i = 0; i < n; i++) {
		int rc;

		assert_int_equal(ipc_reader_feed(&r, buf + i, 1), 0);
		while ((rc = ipc_reader_next(&r, &t, &p, &l, &err)) == 1) {
			if (got == 0) {
				assert_int_equal(t, IPC_READY);
				assert_int_equal(l, 0);
				assert_string_equal(p, "");
			} else {
				assert_int_equal(t, IPC_FAIL);
				assert_string_equal(p, "cannot listen on 127.0.0.1:5433");
			}
			got++;
		}
		assert_int_equal(rc, 0);
	}
	assert_int_equal(got, 2);
	ipc_reader_free(&r);
}

static void
test_unknown_type(void **state)
{
	struct ipc_reader r;
	unsigned char buf[64];
	size_t n;
	uint16_t t;
	char *p;
	size_t l;
	const char *err = NULL;

	(void)state;
	n = frame(buf, 99, "x");
	ipc_reader_init(&r);
	assert_int_equal(ipc_reader_feed(&r, buf, n), 0);
	assert_int_equal(ipc_reader_next(&r, &t, &p, &l, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err, "type"));
	assert_false(ipc_type_known(0));
	assert_false(ipc_type_known(99));
	assert_true(ipc_type_known(IPC_LOGLINE));
	ipc_reader_free(&r);
}

static void
test_oversize_and_flags(void **state)
{
	struct ipc_reader r;
	unsigned char h[IPC_HDR_LEN];
	uint16_t t;
	char *p;
	size_t l;
	const char *err = NULL;

	(void)state;
	/* length over the limit is refused from the header alone */
	ipc_hdr_encode(h, IPC_CONFIG, IPC_MAX_PAYLOAD + 1);
	ipc_reader_init(&r);
	assert_int_equal(ipc_reader_feed(&r, h, sizeof(h)), 0);
	assert_int_equal(ipc_reader_next(&r, &t, &p, &l, &err), -1);
	assert_non_null(strstr(err, "IPC_MAX_PAYLOAD"));
	ipc_reader_free(&r);

	ipc_hdr_encode(h, IPC_CONFIG, 0);
	h[7] = 1;
	ipc_reader_init(&r);
	assert_int_equal(ipc_reader_feed(&r, h, sizeof(h)), 0);
	assert_int_equal(ipc_reader_next(&r, &t, &p, &l, &err), -1);
	assert_non_null(strstr(err, "flags"));
	ipc_reader_free(&r);

	/* the reader itself is bounded */
	ipc_reader_init(&r);
	assert_int_equal(ipc_reader_feed(&r, NULL, 0), 0);
	{
		size_t big = IPC_READER_MAX + 1;
		unsigned char *b = calloc(1, big);

		assert_non_null(b);
		assert_int_equal(ipc_reader_feed(&r, b, big), -1);
		free(b);
	}
	ipc_reader_free(&r);
	/* ipc_send refuses what no reader would accept */
	assert_int_equal(ipc_send(-1, 99, "", 0), -1);
}

static void
test_max_payload(void **state)
{
	struct ipc_reader r;
	unsigned char *b;
	size_t n = IPC_HDR_LEN + IPC_MAX_PAYLOAD;
	uint16_t t;
	char *p;
	size_t l;
	const char *err = NULL;

	(void)state;
	b = malloc(n);
	assert_non_null(b);
	ipc_hdr_encode(b, IPC_CONFIG, IPC_MAX_PAYLOAD);
	memset(b + IPC_HDR_LEN, 'a', IPC_MAX_PAYLOAD);
	ipc_reader_init(&r);
	assert_int_equal(ipc_reader_feed(&r, b, n - 1), 0);
	assert_int_equal(ipc_reader_next(&r, &t, &p, &l, &err), 0);
	assert_int_equal(ipc_reader_feed(&r, b + n - 1, 1), 0);
	assert_int_equal(ipc_reader_next(&r, &t, &p, &l, &err), 1);
	assert_int_equal(l, IPC_MAX_PAYLOAD);
	assert_int_equal(p[l - 1], 'a');
	assert_int_equal(p[l], '\0');
	ipc_reader_free(&r);
	free(b);
}

static void
test_send_recv(void **state)
{
	int sv[2];
	uint16_t t;
	char *p;
	size_t l;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(ipc_send(sv[0], IPC_DONE, "0", 1), 0);
	assert_int_equal(ipc_send(sv[0], IPC_READY, NULL, 0), 0);
	assert_int_equal(ipc_recv(sv[1], &t, &p, &l), 0);
	assert_int_equal(t, IPC_DONE);
	assert_string_equal(p, "0");
	free(p);
	assert_int_equal(ipc_recv(sv[1], &t, &p, &l), 0);
	assert_int_equal(t, IPC_READY);
	assert_int_equal(l, 0);
	free(p);
	close(sv[0]);
	assert_int_equal(ipc_recv(sv[1], &t, &p, &l), -1);   /* EOF */
	close(sv[1]);
}

/* ipc_reader_held: 0 between whole frames, the bytes of a frame begun
 * (a header alone, a header and part of its payload) otherwise. */
static void
test_held(void **state)
{
	struct ipc_reader r;
	unsigned char buf[64];
	size_t n, l;
	uint16_t t;
	char *p;
	const char *err = NULL;

	(void)state;
	n = frame(buf, IPC_CMD, "status");
	ipc_reader_init(&r);
	assert_int_equal(ipc_reader_held(&r), 0);
	assert_int_equal(ipc_reader_feed(&r, buf, 5), 0);
	assert_int_equal(ipc_reader_held(&r), 5);
	assert_int_equal(ipc_reader_next(&r, &t, &p, &l, &err), 0);
	assert_int_equal(ipc_reader_feed(&r, buf + 5, 5), 0);
	assert_int_equal(ipc_reader_next(&r, &t, &p, &l, &err), 0);
	assert_int_equal(ipc_reader_held(&r), 10);
	assert_int_equal(ipc_reader_feed(&r, buf + 10, n - 10), 0);
	assert_int_equal(ipc_reader_next(&r, &t, &p, &l, &err), 1);
	assert_int_equal(ipc_reader_held(&r), 0);
	/* a whole frame and the first byte of the next */
	assert_int_equal(ipc_reader_feed(&r, buf, n), 0);
	assert_int_equal(ipc_reader_feed(&r, buf, 1), 0);
	assert_int_equal(ipc_reader_next(&r, &t, &p, &l, &err), 1);
	assert_int_equal(ipc_reader_held(&r), 1);
	ipc_reader_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_two_frames_one_feed),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_oversize_and_flags),
		cmocka_unit_test(test_max_payload),
		cmocka_unit_test(test_send_recv),
		cmocka_unit_test(test_held),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
