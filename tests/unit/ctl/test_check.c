/* SPDX-License-Identifier: ISC */
/*
 * test_check: `meshctl check`'s host checks (src/ctl/check.c).  Ports used:
 * 24410..24419 on 127.0.0.1 (the config module's test range).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mesh/check.h"
#include "mesh/config.h"
#include "mesh/pki.h"
#include "test_config_util.h"

#define TAKEN_PORT 24411

struct capture {
	char  *buf;
	size_t len;
	FILE  *f;
};

static void
cap_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
}

static void
cap_close(struct capture *c)
{
	fclose(c->f);
}

/* A listener on 127.0.0.1:port, or -1 when it cannot be had. */
static int
listen_on(uint16_t port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 || listen(fd, 1) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
test_run_ok(void **state)
{
	struct tload t = { 0 };
	struct capture out, err;

	tload_write(&t, NULL, "[service.api]\nport = 9090\ninstances = 2\n"
	    "[service.api@v2]\n[service.web]\nupstreams = api\n");
	cap_open(&out);
	cap_open(&err);
	assert_int_equal(check_run(t.path, out.f, err.f), 0);
	cap_close(&out);
	cap_close(&err);
	assert_string_equal(err.buf, "");
	assert_non_null(strstr(out.buf, ": ok: 2 services, 4 instances\n"));
	assert_int_equal(strncmp(out.buf, t.path, strlen(t.path)), 0);
	free(out.buf);
	free(err.buf);
	tload_done(&t);
}

static void
test_run_config_errors(void **state)
{
	struct tload t = { 0 };
	struct capture out, err;
	char want[1024];

	tload_write(&t, NULL, "[service.api]\nport = 0\nlb = ewma\n");
	cap_open(&out);
	cap_open(&err);
	assert_int_equal(check_run(t.path, out.f, err.f), 1);
	cap_close(&out);
	cap_close(&err);
	snprintf(want, sizeof(want), "%s:2: port = 0: out of range 1..65535\n"
	    "%s:3: lb = ewma: key belongs in [route.NAME], not in [service.api]\n",
	    t.path, t.path);
	assert_string_equal(err.buf, want);
	assert_string_equal(out.buf, "");
	free(out.buf);
	free(err.buf);
	tload_done(&t);
}

static void
test_ports_taken(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };
	struct capture err;
	char text[512];
	int fd = listen_on(TAKEN_PORT);

	if (fd == -1)
		skip();
	snprintf(text, sizeof(text),
	    "[mesh]\nmetrics = 127.0.0.1:%d\n"
	    "[service.ext]\nport = %d\n"                /* no command: not checked */
	    "[service.api]\ncommand = ./api\nport = %d\n"
	    "[service.web]\noutbound = %d\n",
	    TAKEN_PORT + 1, TAKEN_PORT, TAKEN_PORT - 1, TAKEN_PORT + 2);
	assert_int_equal(tload(&t, text, &cfg), 0);
	cap_open(&err);
	assert_int_equal(check_ports(&cfg, err.f), 0);
	cap_close(&err);
	assert_string_equal(err.buf, "");
	free(err.buf);
	config_free(&cfg);
	tload_done(&t);

	/* now each kind of fixed port on the taken one, one at a time */
	{
		static const char *const texts[] = {
			"[mesh]\nmetrics = 127.0.0.1:24411\n",
			"[service.api]\ncommand = ./api\nport = 24411\n",
			"[service.api]\ninstances = 2\noutbound = 24410\n",
			"[service.web]\nupstreams = api:24411\n[service.api]\n",
		};
		static const char *const msgs[] = {
			":2: metrics: port 24411 is already in use\n",
			":3: service api: port 24411 (app port) is already in use\n",
			":3: service api: port 24411 (outbound) is already in use\n",
			":2: service web: port 24411 (upstream api) is already in use\n",
		};
		size_t i;

		for (i = 0; i < 4; i++) {
			assert_int_equal(tload(&t, texts[i], &cfg), 0);
			cap_open(&err);
			assert_int_equal(check_ports(&cfg, err.f), 1);
			cap_close(&err);
			if (strstr(err.buf, msgs[i]) == NULL)
				fail_msg("case %zu: got %s", i, err.buf);
			free(err.buf);
			config_free(&cfg);
			tload_done(&t);
		}
	}
	close(fd);
}

static void
test_state_dir(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };
	struct capture err;
	char path[512];

	/* missing, several levels deep: creatable */
	assert_int_equal(tload(&t, "[mesh]\nstate_dir = a/b/c\n", &cfg), 0);
	assert_int_equal(check_state_dir(&cfg, stderr), 0);
	config_free(&cfg);
	tload_done(&t);

	/* exists as a directory */
	assert_int_equal(tload(&t, "[mesh]\nstate_dir = .\n", &cfg), 0);
	assert_int_equal(check_state_dir(&cfg, stderr), 0);
	config_free(&cfg);
	tload_done(&t);

	/* the file itself: not a directory, and nothing can be made under it */
	assert_int_equal(tload(&t, "[mesh]\nstate_dir = mesh.ini\n", &cfg), 0);
	cap_open(&err);
	assert_int_equal(check_state_dir(&cfg, err.f), 1);
	cap_close(&err);
	assert_non_null(strstr(err.buf, ":2: state_dir "));
	assert_non_null(strstr(err.buf, "/mesh.ini is not a directory\n"));
	free(err.buf);
	config_free(&cfg);
	tload_done(&t);

	assert_int_equal(tload(&t, "[mesh]\nstate_dir = mesh.ini/sub\n", &cfg), 0);
	cap_open(&err);
	assert_int_equal(check_state_dir(&cfg, err.f), 1);
	cap_close(&err);
	assert_non_null(strstr(err.buf, "cannot be created"));
	free(err.buf);
	config_free(&cfg);
	tload_done(&t);

	/* a read-only parent (root writes anywhere: not testable as root) */
	if (geteuid() == 0)
		return;
	assert_int_equal(tload(&t, "[mesh]\nstate_dir = ro/st\n", &cfg), 0);
	snprintf(path, sizeof(path), "%s/ro", t.dir);
	assert_int_equal(mkdir(path, 0500), 0);
	cap_open(&err);
	assert_int_equal(check_state_dir(&cfg, err.f), 1);
	cap_close(&err);
	assert_non_null(strstr(err.buf, "is not a writable directory\n"));
	free(err.buf);
	rmdir(path);
	config_free(&cfg);
	tload_done(&t);
}

/* Make <dir>/.mesh/ca with a key file of `mode`; path of ca/ into ca. */
static void
make_ca(const struct mesh_config *cfg, mode_t dirmode, mode_t keymode,
        char *ca, size_t sz)
{
	char p[600];
	FILE *f;

	assert_int_equal(mkdir(cfg->mesh.state_dir, 0700), 0);
	snprintf(ca, sz, "%s/ca", cfg->mesh.state_dir);
	assert_int_equal(mkdir(ca, 0700), 0);
	assert_int_equal(chmod(ca, dirmode), 0);
	snprintf(p, sizeof(p), "%s/ca.key", ca);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("not really a key\n", f);
	fclose(f);
	assert_int_equal(chmod(p, keymode), 0);
	snprintf(p, sizeof(p), "%s/ca.crt", ca);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("not a certificate\n", f);
	fclose(f);
}

static void
rm_ca(const struct mesh_config *cfg, const char *ca)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/ca.key", ca);
	unlink(p);
	snprintf(p, sizeof(p), "%s/ca.crt", ca);
	unlink(p);
	rmdir(ca);
	rmdir(cfg->mesh.state_dir);
}

static void
test_ca(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };
	struct capture err;
	char ca[512];

	assert_int_equal(tload(&t, "[service.api]\n", &cfg), 0);
	assert_int_equal(check_ca(&cfg, stderr), 0);            /* no ca/ yet */

	make_ca(&cfg, 0777, 0644, ca, sizeof(ca));
	cap_open(&err);
	assert_int_equal(check_ca(&cfg, err.f), 3);
	cap_close(&err);
	assert_non_null(strstr(err.buf, "/ca is writable by group or others (mode 0777): chmod 700 it\n"));
	assert_non_null(strstr(err.buf, "/ca/ca.key is accessible by group or others (mode 0644): chmod 600 it\n"));
	assert_non_null(strstr(err.buf, "/ca/ca.crt does not parse\n"));
	free(err.buf);
	rm_ca(&cfg, ca);

	make_ca(&cfg, 0700, 0600, ca, sizeof(ca));
	cap_open(&err);
	assert_int_equal(check_ca(&cfg, err.f), 1);              /* only the crt */
	cap_close(&err);
	assert_non_null(strstr(err.buf, "does not parse\n"));
	free(err.buf);
	rm_ca(&cfg, ca);
	config_free(&cfg);
	tload_done(&t);
}

/* A CA that pki made itself passes. */
static void
test_ca_real(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };
	struct pki_ca *pca;
	char ca[512], why[256];
	int created = 0;

	assert_int_equal(tload(&t, "[service.api]\n", &cfg), 0);
	assert_int_equal(mkdir(cfg.mesh.state_dir, 0700), 0);
	snprintf(ca, sizeof(ca), "%s/ca", cfg.mesh.state_dir);
	assert_int_equal(mkdir(ca, 0700), 0);
	pca = pki_ca_open(ca, "test", &created, why, sizeof(why));
	if (pca == NULL)
		fail_msg("pki_ca_open: %s", why);
	pki_ca_free(pca);
	assert_int_equal(check_ca(&cfg, stderr), 0);
	rm_ca(&cfg, ca);
	config_free(&cfg);
	tload_done(&t);
}

/* While meshd.sock answers, ports are the running mesh's: not checked. */
static void
test_running_mesh(void **state)
{
	struct mesh_config cfg;
	struct tload t = { 0 };
	struct capture out, err;
	struct sockaddr_un sun;
	char run[600], text[256];
	int fd, lfd = listen_on(TAKEN_PORT);

	if (lfd == -1)
		skip();
	snprintf(text, sizeof(text), "[service.api]\noutbound = %d\n", TAKEN_PORT);
	assert_int_equal(tload(&t, text, &cfg), 0);
	assert_int_equal(check_mesh_running(&cfg), 0);
	snprintf(run, sizeof(run), "%s/run", cfg.mesh.state_dir);
	assert_int_equal(mkdir(cfg.mesh.state_dir, 0700), 0);
	assert_int_equal(mkdir(run, 0700), 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd != -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path),
	    "%s/meshd.sock", run) < sizeof(sun.sun_path));
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(check_mesh_running(&cfg), 1);

	cap_open(&out);
	cap_open(&err);
	assert_int_equal(check_run(t.path, out.f, err.f), 0);
	cap_close(&out);
	cap_close(&err);
	assert_string_equal(err.buf, "");
	assert_non_null(strstr(out.buf, "is running: port checks skipped\n"));
	assert_non_null(strstr(out.buf, ": ok: 1 service, 1 instance\n"));
	free(out.buf);
	free(err.buf);

	close(fd);
	unlink(sun.sun_path);
	rmdir(run);
	rmdir(cfg.mesh.state_dir);
	/* stopped: the port is checked again */
	cap_open(&out);
	cap_open(&err);
	assert_int_equal(check_run(t.path, out.f, err.f), 1);
	cap_close(&out);
	cap_close(&err);
	assert_non_null(strstr(err.buf, "port 24411 (outbound) is already in use\n"));
	free(out.buf);
	free(err.buf);
	close(lfd);
	config_free(&cfg);
	tload_done(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_ok),
		cmocka_unit_test(test_run_config_errors),
		cmocka_unit_test(test_ports_taken),
		cmocka_unit_test(test_state_dir),
		cmocka_unit_test(test_ca),
		cmocka_unit_test(test_ca_real),
		cmocka_unit_test(test_running_mesh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
