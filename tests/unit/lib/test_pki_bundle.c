/* SPDX-License-Identifier: ISC */
/*
 * test_pki_bundle: trust bundles (several roots from PEM and back, refusals:
 * junk, a leaf, too many; duplicates collapse; a leaf verifies against the
 * bundle that holds its root and not against one without it) and the
 * rollover's files (next.* created 0600 beside ca.*, the state file round
 * trip and refusals, the promotion that retires the old root, recovery
 * of a promotion cut short, next.* without a state file discarded).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "test_tls_util.h"

static struct pki_bundle bA, bB;

static void
pem_of(struct pki_ca *ca, char *out, size_t cap)
{
	size_t len;

	assert_non_null(pki_ca_pem(ca, &len));
	assert_true(len < cap);
	memcpy(out, pki_ca_pem(ca, &len), len + 1);
}

static void
test_bundle_pem(void **state)
{
	struct tca a, b;
	char pa[PKI_PEM_MAX], pb[PKI_PEM_MAX], two[3 * PKI_PEM_MAX], back[3 * PKI_PEM_MAX];
	char err[128], serials[200];
	struct pki_certinfo ia, ib;
	const unsigned char *der;
	size_t len;
	int n;

	(void)state;
	assert_non_null(tca_open(&a));
	assert_non_null(tca_open(&b));
	pem_of(a.ca, pa, sizeof(pa));
	pem_of(b.ca, pb, sizeof(pb));
	der = pki_ca_der(a.ca, &len);
	assert_int_equal(pki_cert_info(der, len, &ia), 0);
	assert_string_equal(ia.cn, "meshctl CA unit");
	der = pki_ca_der(b.ca, &len);
	assert_int_equal(pki_cert_info(der, len, &ib), 0);

	snprintf(two, sizeof(two), "%s\n%s", pa, pb);
	if (pki_bundle_from_pem(&bA, two, strlen(two), err, sizeof(err)) != 0)
		fail_msg("from_pem: %s", err);
	assert_int_equal(bA.n, 2);
	assert_true(pki_bundle_has_serial(&bA, ia.serial));
	assert_true(pki_bundle_has_serial(&bA, ib.serial));
	assert_false(pki_bundle_has_serial(&bA, "00"));
	pki_bundle_serials(&bA, serials, sizeof(serials));
	snprintf(back, sizeof(back), "%s %s", ia.serial, ib.serial);
	assert_string_equal(serials, back);
	/* round trip */
	n = pki_bundle_to_pem(&bA, back, sizeof(back));
	assert_true(n > 0);
	assert_int_equal(pki_bundle_from_pem(&bB, back, (size_t)n, err, sizeof(err)), 0);
	assert_int_equal(bB.n, 2);
	assert_memory_equal(bB.root[1].der, bA.root[1].der, bA.root[1].len);
	/* the same root twice is one root */
	snprintf(two, sizeof(two), "%s%s%s", pa, pa, pb);
	assert_int_equal(pki_bundle_from_pem(&bB, two, strlen(two), err, sizeof(err)), 0);
	assert_int_equal(bB.n, 2);
	/* refusals: empty, junk around, a cut certificate, too many */
	assert_int_equal(pki_bundle_from_pem(&bB, " \n", 2, err, sizeof(err)), -1);
	assert_int_equal(bB.n, 0);
	snprintf(two, sizeof(two), "hello\n%s", pa);
	assert_int_equal(pki_bundle_from_pem(&bB, two, strlen(two), err, sizeof(err)), -1);
	snprintf(two, sizeof(two), "%s trailing", pa);
	assert_int_equal(pki_bundle_from_pem(&bB, two, strlen(two), err, sizeof(err)), -1);
	assert_int_equal(pki_bundle_from_pem(&bB, pa, strlen(pa) - 30, err, sizeof(err)), -1);
	{
		struct tca extra[3];
		char many[6 * PKI_PEM_MAX], p[PKI_PEM_MAX];
		int i;

		snprintf(many, sizeof(many), "%s%s", pa, pb);
		for (i = 0; i < 3; i++) {
			assert_non_null(tca_open(&extra[i]));
			pem_of(extra[i].ca, p, sizeof(p));
			strcat(many, p);
		}
		assert_int_equal(pki_bundle_from_pem(&bB, many, strlen(many), err, sizeof(err)), -1);
		assert_non_null(strstr(err, "more than"));
		for (i = 0; i < 3; i++)
			tca_close(&extra[i]);
	}
	tca_close(&a);
	tca_close(&b);
}

static void
test_bundle_verify(void **state)
{
	struct tca a, b;
	unsigned char leaf[PKI_CERT_MAX];
	size_t leaflen = 0;
	struct csr_ident *id;
	char err[128];
	const unsigned char *der;
	size_t len;

	(void)state;
	assert_non_null(tca_open(&a));
	assert_non_null(tca_open(&b));
	id = tid_issue(b.ca, TD, "api", time(NULL), 600, leaf, &leaflen);
	assert_non_null(id);
	memset(&bA, 0, sizeof(bA));
	der = pki_ca_der(a.ca, &len);
	assert_int_equal(pki_bundle_add(&bA, der, len, err, sizeof(err)), 0);
	/* a leaf is no root */
	assert_int_equal(pki_bundle_add(&bA, leaf, leaflen, err, sizeof(err)), -1);
	assert_int_equal(bA.n, 1);
	assert_int_equal(pki_bundle_verify(&bA, leaf, leaflen), -1);
	der = pki_ca_der(b.ca, &len);
	assert_int_equal(pki_bundle_add(&bA, der, len, err, sizeof(err)), 0);
	assert_int_equal(pki_bundle_verify(&bA, leaf, leaflen), 0);
	assert_int_equal(pki_bundle_add(&bA, der, len, err, sizeof(err)), 0);
	assert_int_equal(bA.n, 2);
	memset(&bB, 0, sizeof(bB));
	assert_int_equal(pki_bundle_verify(&bB, leaf, leaflen), -1);
	csr_free(id);
	tca_close(&a);
	tca_close(&b);
}

static const char *
file_in(const struct tca *t, const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", t->dir, name);
	return p;
}

static void
test_roll_files(void **state)
{
	struct tca t;
	struct pki_ca *next, *again;
	struct pki_roll st = { PKI_ROLL_SIGN, 1000, 2000 }, got;
	struct pki_certinfo in, ia;
	const unsigned char *der;
	char err[256];
	struct stat sb;
	size_t len;
	int created = 0;
	FILE *f;

	(void)state;
	assert_non_null(tca_open(&t));
	/* nothing yet: not an error */
	err[0] = 'x';
	assert_null(pki_ca_open_next(t.dir, NULL, 0, NULL, err, sizeof(err)));
	assert_int_equal(err[0], '\0');
	assert_int_equal(pki_roll_read(t.dir, &got, err, sizeof(err)), 0);
	assert_int_equal(got.phase, PKI_ROLL_NONE);

	next = pki_ca_open_next(t.dir, "unit 2", 1, &created, err, sizeof(err));
	assert_non_null(next);
	assert_int_equal(created, 1);
	assert_int_equal(stat(file_in(&t, "next.key"), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(stat(file_in(&t, "next.crt"), &sb), 0);
	der = pki_ca_der(next, &len);
	assert_int_equal(pki_cert_info(der, len, &in), 0);
	assert_string_equal(in.cn, "meshctl CA unit 2");
	assert_true(in.is_ca);
	/* opened again: the same root */
	again = pki_ca_open_next(t.dir, NULL, 0, NULL, err, sizeof(err));
	assert_non_null(again);
	der = pki_ca_der(again, &len);
	assert_int_equal(pki_cert_info(der, len, &ia), 0);
	assert_string_equal(ia.serial, in.serial);
	pki_ca_free(again);

	/* state file round trip, mode 0600 */
	assert_int_equal(pki_roll_write(t.dir, &st, err, sizeof(err)), 0);
	assert_int_equal(stat(file_in(&t, "rollover"), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(pki_roll_read(t.dir, &got, err, sizeof(err)), 1);
	assert_int_equal(got.phase, PKI_ROLL_SIGN);
	assert_int_equal(got.since, 1000);
	assert_int_equal(got.deadline, 2000);
	/* recovery keeps a rollover in progress as it is */
	assert_int_equal(pki_roll_recover(t.dir, &got, err, sizeof(err)), 0);
	assert_int_equal(got.phase, PKI_ROLL_SIGN);
	assert_int_equal(stat(file_in(&t, "next.key"), &sb), 0);

	/* a damaged state file is refused, naming it */
	f = fopen(file_in(&t, "rollover"), "w");
	assert_non_null(f);
	fputs("phase sideways\nsince 1\ndeadline 2\n", f);
	fclose(f);
	assert_int_equal(pki_roll_read(t.dir, &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "rollover"));
	f = fopen(file_in(&t, "rollover"), "w");
	fputs("phase sign\nsince 1\n", f);
	fclose(f);
	assert_int_equal(pki_roll_read(t.dir, &got, err, sizeof(err)), -1);

	/* promotion: next.* become ca.*, nothing else left */
	assert_int_equal(pki_roll_promote(t.dir, err, sizeof(err)), 0);
	assert_int_equal(access(file_in(&t, "next.key"), F_OK), -1);
	assert_int_equal(access(file_in(&t, "next.crt"), F_OK), -1);
	assert_int_equal(access(file_in(&t, "rollover"), F_OK), -1);
	pki_ca_free(t.ca);
	t.ca = pki_ca_open(t.dir, "unit", NULL, err, sizeof(err));
	assert_non_null(t.ca);
	der = pki_ca_der(t.ca, &len);
	assert_int_equal(pki_cert_info(der, len, &ia), 0);
	assert_string_equal(ia.serial, in.serial);
	assert_int_equal(stat(file_in(&t, "ca.key"), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	pki_ca_free(next);
	tca_close(&t);
}

static void
test_roll_recover(void **state)
{
	struct tca t;
	struct pki_ca *next;
	struct pki_roll st = { PKI_ROLL_RETIRE, 1, 0 }, got;
	struct pki_certinfo in, ia;
	const unsigned char *der;
	char err[256], from[128];
	size_t len;

	(void)state;
	assert_non_null(tca_open(&t));
	/* a crash between the two renames of a promotion: ca.crt is the new
	 * root, ca.key still the old key, next.key waiting */
	next = pki_ca_open_next(t.dir, "unit 2", 1, NULL, err, sizeof(err));
	assert_non_null(next);
	der = pki_ca_der(next, &len);
	assert_int_equal(pki_cert_info(der, len, &in), 0);
	assert_int_equal(pki_roll_write(t.dir, &st, err, sizeof(err)), 0);
	snprintf(from, sizeof(from), "%s", file_in(&t, "next.crt"));
	assert_int_equal(rename(from, file_in(&t, "ca.crt")), 0);
	pki_ca_free(t.ca);
	t.ca = pki_ca_open(t.dir, "unit", NULL, err, sizeof(err));
	assert_null(t.ca);                 /* key and certificate disagree */
	assert_int_equal(pki_roll_recover(t.dir, &got, err, sizeof(err)), 0);
	assert_int_equal(got.phase, PKI_ROLL_NONE);
	t.ca = pki_ca_open(t.dir, "unit", NULL, err, sizeof(err));
	assert_non_null(t.ca);
	der = pki_ca_der(t.ca, &len);
	assert_int_equal(pki_cert_info(der, len, &ia), 0);
	assert_string_equal(ia.serial, in.serial);
	assert_int_equal(access(file_in(&t, "rollover"), F_OK), -1);
	pki_ca_free(next);

	/* next.* without a state file: an unfinished start, discarded */
	next = pki_ca_open_next(t.dir, "unit 3", 1, NULL, err, sizeof(err));
	assert_non_null(next);
	pki_ca_free(next);
	assert_int_equal(pki_roll_recover(t.dir, &got, err, sizeof(err)), 0);
	assert_int_equal(got.phase, PKI_ROLL_NONE);
	assert_int_equal(access(file_in(&t, "next.key"), F_OK), -1);
	assert_int_equal(access(file_in(&t, "next.crt"), F_OK), -1);
	/* a state file that names a new root that is not there is refused */
	st.phase = PKI_ROLL_SIGN;
	assert_int_equal(pki_roll_write(t.dir, &st, err, sizeof(err)), 0);
	assert_int_equal(pki_roll_recover(t.dir, &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "next.key"));
	tca_close(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bundle_pem),
		cmocka_unit_test(test_bundle_verify),
		cmocka_unit_test(test_roll_files),
		cmocka_unit_test(test_roll_recover),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
