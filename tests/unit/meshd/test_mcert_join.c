/* SPDX-License-Identifier: ISC */
/*
 * mcert in joined mode: <state_dir>/ca holds host.key, host.crt (an
 * intermediate under root.crt) and root.crt.  mcert_open() loads them;
 * IPC_CERT is leaf, intermediate, root, which the sidecar side accepts
 * (csr_accept_pem) and whose leaf chains to the root alone; the trust
 * bundle is the root alone; `certs` shows the root and the intermediate,
 * marked; a root rollover is refused with the reason; a broken layout
 * makes mcert_open() fail naming the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_tls_util.h"
#include "mesh/mcert.h"
#include "mesh/svc.h"

/* as test_mcert_util.h's, with one instance api.0 */
static struct {
	char                dir[64];
	struct meshd        m;
	struct conf_service sv;
	struct reg_instance ri[1];
	struct inst         in[1];
} jfx;

static struct tca root, other;
static struct pki_ca *inter;

/* jfx with a joined CA directory for inter; mcert_open()'s result. */
static int
open_joined(struct pki_ca *ca, const char *rootpem, char *err, size_t errlen)
{
	char dir[96], path[128];
	FILE *f;

	memset(&jfx, 0, sizeof(jfx));
	strcpy(jfx.dir, "/tmp/test_mcert_join.XXXXXX");
	assert_non_null(mkdtemp(jfx.dir));
	snprintf(dir, sizeof(dir), "%s/ca", jfx.dir);
	assert_int_equal(tjoin_write(dir, ca), 0);
	if (rootpem != NULL) {
		snprintf(path, sizeof(path), "%s/root.crt", dir);
		assert_non_null(f = fopen(path, "w"));
		fputs(rootpem, f);
		fclose(f);
	}
	jfx.m.cfg.mesh.state_dir = jfx.dir;
	snprintf(jfx.m.cfg.mesh.name, sizeof(jfx.m.cfg.mesh.name), "unit");
	jfx.m.cfg.mesh.trust_domain = (char *)"unit.test";
	jfx.m.cfg.mesh.cert_ttl_us = 60ull * 1000000u;
	snprintf(jfx.sv.name, sizeof(jfx.sv.name), "api");
	jfx.ri[0].svc = &jfx.sv;
	snprintf(jfx.ri[0].name, sizeof(jfx.ri[0].name), "api.0");
	snprintf(jfx.ri[0].id, sizeof(jfx.ri[0].id), "api@v1.0");
	jfx.in[0].ri = &jfx.ri[0];
	jfx.in[0].m = &jfx.m;
	jfx.in[0].proxy.state = PROC_IDLE;
	jfx.m.insts = jfx.in;
	jfx.m.ninst = 1;
	return mcert_open(&jfx.m, err, errlen);
}

static void
close_joined(void)
{
	char cmd[128];

	mcert_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%.63s'", jfx.dir);
	assert_int_equal(system(cmd), 0);
}

static int
group_setup(void **state)
{
	(void)state;
	if (tca_open(&root) == NULL || tca_open(&other) == NULL)
		return -1;
	return (inter = tinter_good(root.ca)) != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	pki_ca_free(inter);
	tca_close(&root);
	tca_close(&other);
	return 0;
}

static size_t
count(const char *s, const char *what)
{
	size_t n = 0;

	while ((s = strstr(s, what)) != NULL) {
		n++;
		s++;
	}
	return n;
}

static void
test_joined(void **state)
{
	char pem[PKI_PEM_MAX], err[512], *cert, *out;
	struct pki_bundle b;
	struct csr_ident *id;
	const unsigned char *der;
	size_t len, dl;
	int n;

	(void)state;
	if (open_joined(inter, NULL, err, sizeof(err)) != 0)
		fail_msg("mcert_open: %s", err);
	assert_non_null(id = csr_new(err, sizeof(err)));
	n = csr_request_pem(id, "api", pem, sizeof(pem));
	assert_true(n > 0);
	if (mcert_issue(&jfx.m, &jfx.in[0], pem, (size_t)n, &cert, &len, err, sizeof(err)) != 0)
		fail_msg("mcert_issue: %s", err);
	/* leaf, intermediate, root */
	assert_int_equal(count(cert, "-----BEGIN CERTIFICATE-----"), 3);
	assert_non_null(strstr(cert, inter->pem));
	assert_non_null(strstr(cert, root.ca->pem));
	if (csr_accept_pem(id, cert, len, "unit.test", "api", time(NULL), err, sizeof(err)) != 0)
		fail_msg("csr_accept_pem: %s", err);
	free(cert);
	der = csr_inter_der(id, &dl);
	assert_int_equal(dl, inter->derlen);
	assert_memory_equal(der, inter->der, dl);
	der = csr_ca_der(id, &dl);
	assert_memory_equal(der, root.ca->der, dl);
	/* the bundle: the root alone, and the leaf chains to it */
	assert_int_equal(mcert_bundle_pem(&out, &len), 0);
	assert_int_equal(pki_bundle_from_pem(&b, out, len, err, sizeof(err)), 0);
	free(out);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.root[0].len, root.ca->derlen);
	der = csr_leaf_der(id, &dl);
	assert_int_equal(pki_chain_verify(&b, der, dl, inter->der, inter->derlen), 0);
	csr_free(id);
	/* certs: the root and the intermediate, marked */
	assert_int_equal(mcert_format(&jfx.m, 0, &out, &len), 0);
	assert_non_null(strstr(out, "meshctl CA unit"));
	assert_non_null(strstr(out, "active (key on the root host)"));
	assert_non_null(strstr(out, "meshctl intermediate"));
	assert_non_null(strstr(out, "intermediate (signs this host's leaves)"));
	free(out);
	assert_int_equal(mcert_format(&jfx.m, 1, &out, &len), 0);
	assert_non_null(strstr(out, ",\"roots\":[{\"subject\":\"meshctl CA unit\""));
	assert_non_null(strstr(out, "],\"intermediate\":{\"subject\":\"meshctl intermediate\""));
	assert_non_null(strstr(out, "\"state\":\"intermediate\"}"));
	assert_non_null(strstr(out, "\"rollover\":{\"phase\":\"none\",\"deadline\":null}}"));
	free(out);
	/* status: a line / a member of "mesh", joined mode only */
	{
		FILE *f = open_memstream(&out, &len);

		assert_non_null(f);
		mcert_status_ca(f, 0);
		mcert_status_ca(f, 1);
		fclose(f);
		assert_non_null(strstr(out, "ca: intermediate meshctl intermediate (serial "));
		assert_non_null(strstr(out, " from `meshctl join`, under root meshctl CA unit (serial "));
		assert_non_null(strstr(out, ",\"ca\":{\"mode\":\"joined\",\"intermediate\":"
		    "{\"subject\":\"meshctl intermediate\""));
		free(out);
	}
	/* no root rollover here */
	assert_int_equal(mcert_roll_begin(&jfx.m, time(NULL), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "this host's CA is an intermediate from `meshctl join`; "
	    "rotate the root on the root host"));
	assert_int_equal(mcert_roll_phase(), PKI_ROLL_NONE);
	close_joined();
}

static void
test_broken(void **state)
{
	char err[512], want[200];

	(void)state;
	/* root.crt of another mesh */
	assert_int_equal(open_joined(inter, other.ca->pem, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%.63s/ca/host.crt: not signed by %.63s/ca/root.crt",
	    jfx.dir, jfx.dir);
	if (strstr(err, want) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", err, want);
	close_joined();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_joined),
		cmocka_unit_test(test_broken),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
