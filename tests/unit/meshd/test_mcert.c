/* SPDX-License-Identifier: ISC */
/*
 * mcert: meshd's CA directory is created 0700 with ca.key 0600; a CSR is
 * answered with a leaf for the instance's own service (the CN in the CSR
 * is ignored) followed by the CA, which the sidecar side (csr.h) accepts;
 * certs text/JSON list identity and serial; a renewal changes the serial
 * and clears a rotation mark; garbage is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "mesh/csr.h"
#include "mesh/mcert.h"
#include "mesh/svc.h"

#include "test_mcert_util.h"

static int
setup(void **state)
{
	return mcert_fx_setup(state, "/tmp/test_mcert.XXXXXX", 1, PROC_IDLE);
}

/* One CSR from a fresh key (CN "evil": must not matter), issued and accepted. */
static void
issue_one(struct fx *fx, struct csr_ident **out)
{
	struct csr_ident *id;
	char pem[PKI_PEM_MAX], err[256], *cert;
	size_t len;
	int n;

	id = csr_new(err, sizeof(err));
	assert_non_null(id);
	n = csr_request_pem(id, "evil", pem, sizeof(pem));
	assert_true(n > 0);
	if (mcert_issue(&fx->m, &fx->in[0], pem, (size_t)n, &cert, &len, err, sizeof(err)) != 0)
		fail_msg("mcert_issue: %s", err);
	assert_int_equal(strlen(cert), len);
	if (csr_accept_pem(id, cert, len, "unit.test", "api", time(NULL), err, sizeof(err)) != 0)
		fail_msg("csr_accept_pem: %s", err);
	free(cert);
	*out = id;
}

static void
test_ca_files(void **state)
{
	struct fx *fx = *state;
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/ca", fx->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/ca/ca.key", fx->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_null(mcert_info(&fx->m, &fx->in[0]));
}

static void
test_issue_and_list(void **state)
{
	struct fx *fx = *state;
	const struct pki_certinfo *ci;
	struct csr_ident *a, *b;
	char first[80], *out;
	size_t len;

	issue_one(fx, &a);
	ci = mcert_info(&fx->m, &fx->in[0]);
	assert_non_null(ci);
	assert_string_equal(ci->uri, "spiffe://unit.test/svc/api");
	assert_false(ci->is_ca);
	assert_true(ci->not_after - time(NULL) <= 60 && ci->not_after - time(NULL) >= 55);
	snprintf(first, sizeof(first), "%s", ci->serial);

	assert_int_equal(mcert_format(&fx->m, 0, &out, &len), 0);
	assert_non_null(strstr(out, "IDENTITY"));
	assert_non_null(strstr(out, "api.0"));
	assert_non_null(strstr(out, first));
	free(out);
	/* single host: status has no CA line */
	{
		FILE *f = open_memstream(&out, &len);

		assert_non_null(f);
		mcert_status_ca(f, 0);
		mcert_status_ca(f, 1);
		fclose(f);
		assert_int_equal(len, 0);
		free(out);
	}
	assert_int_equal(mcert_format(&fx->m, 1, &out, &len), 0);
	assert_non_null(strstr(out, "{\"certs\":[{\"instance\":\"api.0\",\"id\":\"api@v1.0\","
	    "\"cert\":{\"spiffe_id\":\"spiffe://unit.test/svc/api\",\"serial\":\""));
	assert_non_null(strstr(out, "\"not_after\":\"20"));
	free(out);

	/* a rotation: marked until a leaf with another serial is issued */
	mcert_rotate_mark(&fx->m, &fx->in[0]);
	assert_int_equal(mcert_rotate_pending(&fx->m, first + 40, 40), 1);
	issue_one(fx, &b);
	ci = mcert_info(&fx->m, &fx->in[0]);
	assert_string_not_equal(ci->serial, first);
	assert_int_equal(mcert_rotate_pending(&fx->m, NULL, 0), 0);
	csr_free(a);
	csr_free(b);
}

static void
test_refuses_garbage(void **state)
{
	struct fx *fx = *state;
	static const char junk[] = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
	    "-----END CERTIFICATE REQUEST-----\n";
	char err[256], *out = (char *)"x";
	size_t len;

	assert_int_equal(mcert_issue(&fx->m, &fx->in[0], junk, sizeof(junk) - 1, &out, &len,
	    err, sizeof(err)), -1);
	assert_null(out);
	assert_true(strlen(err) > 0);
	assert_int_equal(mcert_issue(&fx->m, &fx->in[0], "", 0, &out, &len, err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_files),
		cmocka_unit_test(test_issue_and_list),
		cmocka_unit_test(test_refuses_garbage),
	};
	return cmocka_run_group_tests(tests, setup, mcert_fx_teardown);
}
