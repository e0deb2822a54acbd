/* SPDX-License-Identifier: ISC */
/*
 * mcert_roll: the root rollover's state machine on a real CA directory
 * with two running instances.  TRUST waits for both sidecars to report
 * both roots, then SIGN: leaves come from the new root (they chain to it
 * and not to the old one); the old root retires MCERT_GRACE_S after both
 * present new leaves, its files gone and ca.* the new root; a meshd
 * restarted in SIGN resumes it and retires at the deadline; TRUST without
 * the reports is abandoned after MCERT_TRUST_MAX_S with next.* removed;
 * a stopped instance is not waited for, a stopping one is; an old-root
 * leaf reported in SIGN is stale (asked again); malformed reports are refused;
 * certs --json lists the roots and their states.
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
	return mcert_fx_setup(state, "/tmp/test_mroll.XXXXXX", 2, PROC_RUNNING);
}

static const char *
ca_file(struct fx *fx, const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/ca/%s", fx->dir, name);
	return p;
}

/* The serial of a PEM certificate file. */
static void
file_serial(const char *path, char *out, size_t size)
{
	char pem[PKI_PEM_MAX];
	unsigned char der[PKI_CERT_MAX];
	struct pki_certinfo ci;
	FILE *f = fopen(path, "r");
	size_t n;
	int d;

	assert_non_null(f);
	n = fread(pem, 1, sizeof(pem) - 1, f);
	fclose(f);
	pem[n] = '\0';
	d = pki_pem_to_der(pem, n, der, sizeof(der));
	assert_true(d > 0);
	assert_int_equal(pki_cert_info(der, (size_t)d, &ci), 0);
	snprintf(out, size, "%s", ci.serial);
}

/* A leaf for instance k; the IPC_CERT payload in *pem (malloc'd); the
 * CA it came with must have serial ca_serial. */
static void
issue(struct fx *fx, int k, const char *ca_serial, char *leaf_serial)
{
	struct csr_ident *id;
	char pem[PKI_PEM_MAX], err[256], *cert;
	const unsigned char *der;
	struct pki_certinfo ci;
	size_t len;
	int n;

	id = csr_new(err, sizeof(err));
	assert_non_null(id);
	n = csr_request_pem(id, "x", pem, sizeof(pem));
	assert_true(n > 0);
	if (mcert_issue(&fx->m, &fx->in[k], pem, (size_t)n, &cert, &len, err, sizeof(err)) != 0)
		fail_msg("mcert_issue: %s", err);
	/* csr_accept checks the leaf chains to the CA that came with it */
	if (csr_accept_pem(id, cert, len, "unit.test", "api", time(NULL), err, sizeof(err)) != 0)
		fail_msg("csr_accept_pem: %s", err);
	der = csr_ca_der(id, &len);
	assert_int_equal(pki_cert_info(der, len, &ci), 0);
	assert_string_equal(ci.serial, ca_serial);
	der = csr_leaf_der(id, &len);
	assert_int_equal(pki_cert_info(der, len, &ci), 0);
	strcpy(leaf_serial, ci.serial);
	free(cert);
	csr_free(id);
}

static void
report(struct fx *fx, int k, const char *leaf, const char *r1, const char *r2)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "leaf %s roots %s %s", leaf, r1, r2);
	assert_int_equal(mcert_ident_report(&fx->m, &fx->in[k], buf, strlen(buf)), 0);
}

/* Begin; both roots' serials out. */
static void
begin(struct fx *fx, time_t now, char *olds, char *news)
{
	char err[256], *pem;
	size_t len;
	struct pki_bundle b;

	file_serial(ca_file(fx, "ca.crt"), olds, 80);
	assert_int_equal(mcert_roll_begin(&fx->m, now, err, sizeof(err)), 0);
	assert_int_equal(mcert_roll_phase(), PKI_ROLL_TRUST);
	assert_int_equal(mcert_roll_begin(&fx->m, now, err, sizeof(err)), 1);   /* under way */
	file_serial(ca_file(fx, "next.crt"), news, 80);
	assert_string_not_equal(olds, news);
	assert_int_equal(access(ca_file(fx, "rollover"), F_OK), 0);
	/* the bundle holds both */
	assert_int_equal(mcert_bundle_pem(&pem, &len), 0);
	assert_int_equal(pki_bundle_from_pem(&b, pem, len, err, sizeof(err)), 0);
	assert_int_equal(b.n, 2);
	assert_true(pki_bundle_has_serial(&b, olds) && pki_bundle_has_serial(&b, news));
	free(pem);
}

static void
test_full_rollover(void **state)
{
	struct fx *fx = *state;
	char olds[80], news[80], l0[80], l1[80], why[256], names[256], *out;
	time_t now = time(NULL);
	struct stat sb;
	size_t len;

	begin(fx, now, olds, news);
	/* still signing with the old root */
	issue(fx, 0, olds, l0);
	assert_int_equal(mcert_roll_step(&fx->m, now, why, sizeof(why)), MCERT_STEP_WAIT);
	assert_int_equal(mcert_roll_pending(&fx->m, names, sizeof(names)), 2);
	assert_string_equal(names, "api.0, api.1");
	report(fx, 0, l0, olds, news);
	report(fx, 1, "-", olds, "");       /* api.1 has not taken the new root in */
	assert_int_equal(mcert_roll_step(&fx->m, now + 1, why, sizeof(why)), MCERT_STEP_WAIT);
	assert_int_equal(mcert_roll_pending(&fx->m, names, sizeof(names)), 1);
	assert_string_equal(names, "api.1");
	report(fx, 1, "-", news, olds);
	assert_int_equal(mcert_roll_step(&fx->m, now + 1, why, sizeof(why)), MCERT_STEP_SIGN);
	assert_int_equal(mcert_roll_phase(), PKI_ROLL_SIGN);

	assert_int_equal(mcert_format(&fx->m, 1, &out, &len), 0);
	assert_non_null(strstr(out, "\"state\":\"retiring\""));
	assert_non_null(strstr(out, "\"state\":\"active\""));
	assert_non_null(strstr(out, "\"rollover\":{\"phase\":\"sign\",\"deadline\":\"20"));
	free(out);

	/* api.0 reports the old-root leaf it had (a renewal crossed the
	 * switch): stale, ask again; api.1 has no leaf yet: nothing to ask */
	report(fx, 0, l0, news, olds);
	assert_true(mcert_roll_stale(&fx->m, &fx->in[0]));
	assert_false(mcert_roll_stale(&fx->m, &fx->in[1]));
	/* leaves now chain to the new root */
	issue(fx, 0, news, l0);
	assert_int_equal(mcert_roll_pending(&fx->m, names, sizeof(names)), 2);  /* no report yet */
	report(fx, 0, l0, news, olds);
	assert_false(mcert_roll_stale(&fx->m, &fx->in[0]));
	assert_int_equal(mcert_roll_step(&fx->m, now + 2, why, sizeof(why)), MCERT_STEP_WAIT);
	/* a stopping (draining) sidecar still serves with its old leaf */
	fx->in[1].proxy.state = PROC_STOPPING;
	assert_int_equal(mcert_roll_pending(&fx->m, names, sizeof(names)), 1);
	fx->in[1].proxy.state = PROC_RUNNING;
	issue(fx, 1, news, l1);
	report(fx, 1, l1, news, olds);
	assert_int_equal(mcert_roll_pending(&fx->m, names, sizeof(names)), 0);
	/* every leaf is out: retired after the grace, not before */
	assert_int_equal(mcert_roll_step(&fx->m, now + 3, why, sizeof(why)), MCERT_STEP_WAIT);
	assert_int_equal(mcert_roll_step(&fx->m, now + 3 + MCERT_GRACE_S, why, sizeof(why)),
	    MCERT_STEP_RETIRED);
	assert_string_equal(why, "");
	assert_int_equal(mcert_roll_phase(), PKI_ROLL_NONE);
	assert_int_equal(access(ca_file(fx, "next.key"), F_OK), -1);
	assert_int_equal(access(ca_file(fx, "next.crt"), F_OK), -1);
	assert_int_equal(access(ca_file(fx, "rollover"), F_OK), -1);
	file_serial(ca_file(fx, "ca.crt"), l0, sizeof(l0));
	assert_string_equal(l0, news);
	assert_int_equal(stat(ca_file(fx, "ca.key"), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* the bundle is the new root alone; leaves keep coming from it */
	assert_int_equal(mcert_format(&fx->m, 1, &out, &len), 0);
	assert_null(strstr(out, olds));
	assert_non_null(strstr(out, news));
	assert_non_null(strstr(out, "\"rollover\":{\"phase\":\"none\",\"deadline\":null}"));
	free(out);
	issue(fx, 1, news, l1);
	assert_int_equal(mcert_roll_step(&fx->m, now + 9, why, sizeof(why)), MCERT_STEP_IDLE);
}

static void
test_resume_and_deadline(void **state)
{
	struct fx *fx = *state;
	char olds[80], news[80], l0[80], why[256], err[256];
	time_t now = time(NULL);

	begin(fx, now, olds, news);
	report(fx, 0, "-", olds, news);
	fx->in[1].proxy.state = PROC_BACKOFF;      /* not running: not waited for */
	assert_int_equal(mcert_roll_step(&fx->m, now, why, sizeof(why)), MCERT_STEP_SIGN);
	fx->in[1].proxy.state = PROC_RUNNING;
	/* meshd restarts: the phase comes back from the disk */
	mcert_close();
	if (mcert_open(&fx->m, err, sizeof(err)) != 0)
		fail_msg("mcert_open: %s", err);
	assert_int_equal(mcert_roll_phase(), PKI_ROLL_SIGN);
	issue(fx, 0, news, l0);
	report(fx, 0, l0, news, olds);
	/* api.1 never presents a new leaf: the old root retires at the
	 * deadline, when every leaf it signed (60 s) has expired */
	assert_int_equal(mcert_roll_step(&fx->m, now + 30, why, sizeof(why)), MCERT_STEP_WAIT);
	assert_int_equal(mcert_roll_step(&fx->m, now + 62, why, sizeof(why)), MCERT_STEP_RETIRED);
	assert_non_null(strstr(why, "api.1"));
	assert_int_equal(mcert_roll_phase(), PKI_ROLL_NONE);
	file_serial(ca_file(fx, "ca.crt"), l0, sizeof(l0));
	assert_string_equal(l0, news);
}

static void
test_abandoned(void **state)
{
	struct fx *fx = *state;
	char olds[80], news[80], l0[80], why[256];
	time_t now = time(NULL);

	begin(fx, now, olds, news);
	report(fx, 0, "-", olds, news);
	assert_int_equal(mcert_roll_step(&fx->m, now + MCERT_TRUST_MAX_S - 1, why, sizeof(why)),
	    MCERT_STEP_WAIT);
	assert_int_equal(mcert_roll_step(&fx->m, now + MCERT_TRUST_MAX_S, why, sizeof(why)),
	    MCERT_STEP_ABORTED);
	assert_non_null(strstr(why, "api.1"));
	assert_int_equal(mcert_roll_phase(), PKI_ROLL_NONE);
	assert_int_equal(access(ca_file(fx, "next.key"), F_OK), -1);
	assert_int_equal(access(ca_file(fx, "rollover"), F_OK), -1);
	file_serial(ca_file(fx, "ca.crt"), l0, sizeof(l0));
	assert_string_equal(l0, olds);
	issue(fx, 0, olds, l0);
}

static void
test_reports(void **state)
{
	struct fx *fx = *state;
	static const char *bad[] = {
		"", "leaf", "leaf - roots", "roots ab leaf -", "leaf XY roots ab",
		"leaf ab roots ab ab ab ab ab", "leaf ab roots a", "leaf ab roots ab extra!",
		"leaf - - roots ab",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mcert_ident_report(&fx->m, &fx->in[0], bad[i], strlen(bad[i])) != -1 &&
		    strcmp(bad[i], "leaf - roots") != 0)
			fail_msg("accepted '%s'", bad[i]);
	assert_int_equal(mcert_ident_report(&fx->m, &fx->in[0], "leaf ab roots cd ef", 19), 0);
	assert_int_equal(mcert_roll_step(&fx->m, time(NULL), NULL, 0), MCERT_STEP_IDLE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_rollover, setup, mcert_fx_teardown),
		cmocka_unit_test_setup_teardown(test_resume_and_deadline, setup, mcert_fx_teardown),
		cmocka_unit_test_setup_teardown(test_abandoned, setup, mcert_fx_teardown),
		cmocka_unit_test_setup_teardown(test_reports, setup, mcert_fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
