/* SPDX-License-Identifier: ISC */
/*
 * ports: fixed ports of a config, the fixed-port check and its message,
 * the sequential allocator (skipping fixed and taken ports; bounds), the
 * real bind test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "mesh/config.h"
#include "mesh/ports.h"

static char path[] = "/tmp/test_ports.XXXXXX";

static void
load(const char *text, struct mesh_config *cfg)
{
	int fd = mkstemp(path);

	assert_true(fd != -1);
	assert_true(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	/* stderr itself: reopening /dev/stderr would truncate a log file */
	assert_int_equal(config_load(path, cfg, stderr), 0);
	unlink(path);
	memcpy(path + strlen(path) - 6, "XXXXXX", 6);
}

static const char ini[] =
	"[mesh]\n"
	"port_base = 21400\n"
	"[service.api]\n"
	"command = ./api\n"
	"port = 21410\n"                /* line 5 */
	"instances = 2\n"
	"outbound = 21420\n"            /* line 7 */
	"upstreams = db:21430, auth\n"  /* line 8 */
	"[service.db]\n"
	"port = 21440\n"                /* line 10: external, no command */
	"[service.auth]\n"
	"command = ./auth\n";

/* Ports listed in `taken` are "in use". */
static uint16_t taken[8];
static int
fake_free(uint16_t port, void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < sizeof(taken) / sizeof(taken[0]); i++)
		if (taken[i] == port)
			return 0;
	return 1;
}

static void
test_fixed_collect(void **state)
{
	struct mesh_config cfg;
	struct ports_fixed *f;
	size_t n;

	(void)state;
	load(ini, &cfg);
	assert_int_equal(ports_fixed_collect(&cfg, &f, &n), 0);
	/* api.0: 21410 21420 21430, api.1: 21411 21421 21431, db.0: 21440 */
	assert_int_equal(n, 7);
	assert_int_equal(f[0].port, 21410);
	assert_int_equal(f[0].use, PORTS_APP);
	assert_int_equal(f[0].line, 5);
	assert_int_equal(f[1].port, 21420);
	assert_int_equal(f[1].use, PORTS_OUTBOUND);
	assert_int_equal(f[1].line, 7);
	assert_int_equal(f[2].port, 21430);
	assert_int_equal(f[2].use, PORTS_LISTEN);
	assert_string_equal(f[2].upstream, "db");
	assert_int_equal(f[2].line, 8);
	assert_int_equal(f[3].port, 21411);
	assert_int_equal(f[3].index, 1);
	assert_int_equal(f[4].port, 21421);
	assert_int_equal(f[5].port, 21431);
	assert_int_equal(f[6].port, 21440);
	free(f);
	config_free(&cfg);
}

static void
test_check_fixed(void **state)
{
	struct mesh_config cfg;
	char *out = NULL, want[512];
	size_t len = 0;
	FILE *f;

	(void)state;
	load(ini, &cfg);
	memset(taken, 0, sizeof(taken));
	taken[0] = 21431;   /* api.1's db listener */
	taken[1] = 21440;   /* db's own port: an external app holds it, fine */
	taken[2] = 21410;   /* api.0's app port */
	f = open_memstream(&out, &len);
	assert_int_equal(ports_check_fixed(&cfg, f, fake_free, NULL), 2);
	fclose(f);
	snprintf(want, sizeof(want),
	    "%s:5: service api: port 21410 (app port) is already in use\n"
	    "%s:8: service api: port 21431 (upstream db) is already in use\n",
	    cfg.path, cfg.path);
	assert_string_equal(out, want);
	free(out);
	memset(taken, 0, sizeof(taken));
	config_free(&cfg);
}

static void
test_alloc_skips(void **state)
{
	struct ports_fixed fixed[2];
	struct ports_alloc a;
	uint16_t p;

	(void)state;
	memset(fixed, 0, sizeof(fixed));
	fixed[0].port = 21401;
	fixed[1].port = 21403;
	memset(taken, 0, sizeof(taken));
	taken[0] = 21402;
	ports_alloc_init(&a, 21400, fixed, 2, fake_free, NULL);
	assert_int_equal(ports_alloc_next(&a, &p), 0);
	assert_int_equal(p, 21400);
	assert_int_equal(ports_alloc_next(&a, &p), 0);
	assert_int_equal(p, 21404);   /* 21401 fixed, 21402 taken, 21403 fixed */
	assert_int_equal(ports_alloc_next(&a, &p), 0);
	assert_int_equal(p, 21405);
	memset(taken, 0, sizeof(taken));
}

static void
test_alloc_bounds(void **state)
{
	struct ports_alloc a;
	uint16_t p;

	(void)state;
	memset(taken, 0, sizeof(taken));
	ports_alloc_init(&a, 65534, NULL, 0, fake_free, NULL);
	assert_int_equal(ports_alloc_next(&a, &p), 0);
	assert_int_equal(p, 65534);
	assert_int_equal(ports_alloc_next(&a, &p), 0);
	assert_int_equal(p, 65535);
	assert_int_equal(ports_alloc_next(&a, &p), -1);
	assert_int_equal(ports_alloc_next(&a, &p), -1);
	/* everything taken: exhausted, not an endless loop */
	taken[0] = 65535;
	ports_alloc_init(&a, 65535, NULL, 0, fake_free, NULL);
	assert_int_equal(ports_alloc_next(&a, &p), -1);
	memset(taken, 0, sizeof(taken));
}

static void
test_is_free_real(void **state)
{
	struct sockaddr_in sin;
	int fd;

	(void)state;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(21490);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 || listen(fd, 1) == -1) {
		close(fd);
		skip();
	}
	assert_false(ports_is_free(21490, NULL));
	close(fd);
	assert_true(ports_is_free(21490, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_collect),
		cmocka_unit_test(test_check_fixed),
		cmocka_unit_test(test_alloc_skips),
		cmocka_unit_test(test_alloc_bounds),
		cmocka_unit_test(test_is_free_real),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
