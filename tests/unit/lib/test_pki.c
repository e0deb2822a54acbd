/* SPDX-License-Identifier: ISC */
/*
 * test_pki: the CA's files (create, reuse, permission refusals, broken
 * states) and issuing leaves (fields, CSR names ignored, proof of
 * possession, key type, bounds, capped lifetime, PEM round trip).
 * The exact extensions are checked with openssl in tests/integ/pki_openssl.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include "test_tls_util.h"

#include <wolfssl/wolfcrypt/asn.h>

static char base[64];

static int
setup(void **state)
{
	snprintf(base, sizeof(base), "/tmp/meshpki.XXXXXX");
	return mkdtemp(base) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *
path(const char *name)
{
	static char p[2][128];
	static int i;

	i ^= 1;
	snprintf(p[i], sizeof(p[i]), "%s/%s", base, name);
	return p[i];
}

static mode_t
mode_of(const char *name)
{
	struct stat st;

	assert_int_equal(stat(path(name), &st), 0);
	return st.st_mode & 07777;
}

/* What openssl would print as "critical" for basicConstraints and
 * keyUsage, read back with wolfSSL's parser. */
static void
assert_critical(const unsigned char *der, size_t len, int is_ca)
{
	DecodedCert dc;

	wc_InitDecodedCert(&dc, der, (word32)len, NULL);
	assert_int_equal(wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL), 0);
	assert_true(dc.extBasicConstSet);
	assert_true(dc.extBasicConstCrit);
	assert_int_equal(dc.isCA, is_ca);
	assert_true(dc.extKeyUsageSet);
	assert_true(dc.extKeyUsageCrit);
	assert_int_equal(dc.extKeyUsage, is_ca ? KEYUSE_KEY_CERT_SIGN : KEYUSE_DIGITAL_SIG);
	if (is_ca) {
		assert_true(dc.pathLengthSet);
		assert_int_equal(dc.pathLength, 1);   /* room for a joined host's CA */
	} else {
		assert_int_equal(dc.extExtKeyUsage, EXTKEYUSE_SERVER_AUTH | EXTKEYUSE_CLIENT_AUTH);
	}
	wc_FreeDecodedCert(&dc);
}

static void
test_create_then_reuse(void **state)
{
	struct pki_certinfo ci;
	struct pki_ca *ca, *again;
	const unsigned char *d1, *d2;
	const char *pem;
	size_t l1, l2, pl;
	char err[256];
	int created = -1;

	ca = pki_ca_open(path("ca"), "shop", &created, err, sizeof(err));
	assert_non_null(ca);
	assert_int_equal(created, 1);
	assert_int_equal(mode_of("ca"), 0700);
	assert_int_equal(mode_of("ca/ca.key"), 0600);
	assert_int_equal(mode_of("ca/ca.crt"), 0644);
	d1 = pki_ca_der(ca, &l1);
	assert_int_equal(pki_cert_info(d1, l1, &ci), 0);
	assert_int_equal(ci.is_ca, 1);
	assert_int_equal(ci.not_after - ci.not_before, (time_t)PKI_CA_DAYS * 86400 + PKI_BACKDATE_SEC);
	assert_int_equal(strlen(ci.serial), 32);
	assert_critical(d1, l1, 1);
	pem = pki_ca_pem(ca, &pl);
	assert_int_equal(strncmp(pem, "-----BEGIN CERTIFICATE-----", 27), 0);
	assert_int_equal(strlen(pem), pl);

	/* second start: the same root, nothing rewritten */
	again = pki_ca_open(path("ca"), "shop", &created, err, sizeof(err));
	assert_non_null(again);
	assert_int_equal(created, 0);
	d2 = pki_ca_der(again, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(d1, d2, l1);
	pki_ca_free(again);
	pki_ca_free(ca);
}

static void
expect_refusal(const char *needle1, const char *needle2)
{
	char err[512];

	assert_null(pki_ca_open(path("ca"), "shop", NULL, err, sizeof(err)));
	if (strstr(err, needle1) == NULL || (needle2 != NULL && strstr(err, needle2) == NULL))
		fail_msg("message \"%s\" lacks \"%s\"/\"%s\"", err, needle1, needle2 ? needle2 : "");
}

static void
test_permissions(void **state)
{
	char err[256];
	struct pki_ca *ca = pki_ca_open(path("ca"), "shop", NULL, err, sizeof(err));

	assert_non_null(ca);
	pki_ca_free(ca);
	/* a key others may read: refuse, name the file, say what to do */
	assert_int_equal(chmod(path("ca/ca.key"), 0644), 0);
	expect_refusal("ca/ca.key", "chmod 600");
	assert_int_equal(chmod(path("ca/ca.key"), 0640), 0);
	expect_refusal("readable by other users", NULL);
	assert_int_equal(chmod(path("ca/ca.key"), 0604), 0);
	expect_refusal("0604", NULL);
	assert_int_equal(chmod(path("ca/ca.key"), 0600), 0);
	/* a directory others may write into */
	assert_int_equal(chmod(path("ca"), 0777), 0);
	expect_refusal("chmod 700", NULL);
	assert_int_equal(chmod(path("ca"), 0700), 0);
	/* the key as a symlink is not followed */
	assert_int_equal(rename(path("ca/ca.key"), path("key.real")), 0);
	assert_int_equal(symlink(path("key.real"), path("ca/ca.key")), 0);
	expect_refusal("ca.key", NULL);
	assert_int_equal(unlink(path("ca/ca.key")), 0);
	assert_int_equal(rename(path("key.real"), path("ca/ca.key")), 0);
	ca = pki_ca_open(path("ca"), "shop", NULL, err, sizeof(err));
	assert_non_null(ca);
	pki_ca_free(ca);
}

static void
test_check_only(void **state)
{
	struct pki_certinfo root;
	struct pki_ca *ca;
	struct stat st;
	char err[256];

	/* nothing yet: fine, and nothing is created */
	assert_int_equal(pki_ca_check(path("ca"), &root, err, sizeof(err)), 0);
	assert_int_equal(stat(path("ca"), &st), -1);
	assert_int_equal(mkdir(path("ca"), 0700), 0);
	assert_int_equal(pki_ca_check(path("ca"), &root, NULL, 0), 0);
	assert_int_equal(stat(path("ca/ca.key"), &st), -1);
	ca = pki_ca_open(path("ca"), "shop", NULL, err, sizeof(err));
	assert_non_null(ca);
	pki_ca_free(ca);
	assert_int_equal(pki_ca_check(path("ca"), &root, err, sizeof(err)), 1);
	assert_int_equal(root.is_ca, 1);
	assert_true(root.not_after > time(NULL) + 9 * 365 * 86400L);
	assert_int_equal(chmod(path("ca/ca.key"), 0644), 0);
	assert_int_equal(pki_ca_check(path("ca"), &root, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(pki_ca_check(path("ca"), &root, NULL, 0), -1);
}

static void
test_broken_states(void **state)
{
	char err[256], other[160];
	struct pki_ca *ca = pki_ca_open(path("ca"), "shop", NULL, err, sizeof(err)), *ca2;
	FILE *f;

	assert_non_null(ca);
	pki_ca_free(ca);
	/* certificate gone, key left: no silent new root */
	assert_int_equal(rename(path("ca/ca.crt"), path("crt.save")), 0);
	expect_refusal("ca.key exists but", "ca.crt does not");
	/* a certificate of another CA next to our key */
	snprintf(other, sizeof(other), "%s/other", base);
	ca2 = pki_ca_open(other, "other", NULL, err, sizeof(err));
	assert_non_null(ca2);
	pki_ca_free(ca2);
	snprintf(other, sizeof(other), "%s/other/ca.crt", base);
	assert_int_equal(rename(other, path("ca/ca.crt")), 0);
	expect_refusal("not a CA certificate for", NULL);
	assert_int_equal(rename(path("crt.save"), path("ca/ca.crt")), 0);
	/* a key that is not a key */
	assert_int_equal(rename(path("ca/ca.key"), path("key.save")), 0);
	f = fopen(path("ca/ca.key"), "w");
	assert_non_null(f);
	fputs("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", f);
	fclose(f);
	assert_int_equal(chmod(path("ca/ca.key"), 0600), 0);
	expect_refusal("not a PEM EC private key", NULL);
	/* key gone, certificate left */
	assert_int_equal(unlink(path("ca/ca.key")), 0);
	expect_refusal("ca.crt exists but", NULL);
	/* the parent directory does not exist */
	assert_null(pki_ca_open("/nonexistent/dir/ca", "x", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/dir/ca"));
}

/* A P-384 CSR asking for spiffe://evil/svc/root, made once with openssl
 * (ecparam -name secp384r1; req -subj /CN=admin -addext
 * subjectAltName=URI:spiffe://evil/svc/root -outform DER): a wolfSSL built
 * with P-256 alone (scripts/wolfssl.sh) cannot make one itself. */
static const unsigned char csr_p384[] = {
	0x30, 0x82, 0x01, 0x3d, 0x30, 0x81, 0xc3, 0x02, 0x01, 0x00, 0x30, 0x10,
	0x31, 0x0e, 0x30, 0x0c, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x05, 0x61,
	0x64, 0x6d, 0x69, 0x6e, 0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
	0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22,
	0x03, 0x62, 0x00, 0x04, 0x2a, 0xff, 0x7e, 0x3f, 0xf3, 0xc2, 0x3a, 0x09,
	0x02, 0x53, 0x6d, 0xfc, 0x9e, 0x5e, 0xa7, 0x6e, 0x89, 0x85, 0xcd, 0xc9,
	0x81, 0x63, 0x4f, 0x5e, 0x46, 0x09, 0xe2, 0x65, 0x5f, 0x4d, 0x63, 0xef,
	0xaf, 0xb6, 0x04, 0x2c, 0xd0, 0xb5, 0xb7, 0x29, 0xac, 0xb9, 0xd1, 0xaf,
	0x5b, 0xed, 0x72, 0x86, 0x2e, 0x32, 0x98, 0x77, 0xfe, 0x6e, 0x4f, 0x6b,
	0xdc, 0x0a, 0x02, 0x5e, 0x09, 0x0e, 0x1a, 0xe0, 0x66, 0xd1, 0x42, 0x90,
	0x3a, 0xe9, 0x20, 0xe1, 0x78, 0x89, 0xfd, 0x87, 0xdd, 0xa0, 0x25, 0x75,
	0x31, 0xe8, 0xae, 0x7b, 0x31, 0x56, 0x44, 0x6a, 0x3d, 0xd0, 0x51, 0x00,
	0x83, 0x35, 0x74, 0xfd, 0xa0, 0x34, 0x30, 0x32, 0x06, 0x09, 0x2a, 0x86,
	0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e, 0x31, 0x25, 0x30, 0x23, 0x30,
	0x21, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x1a, 0x30, 0x18, 0x86, 0x16,
	0x73, 0x70, 0x69, 0x66, 0x66, 0x65, 0x3a, 0x2f, 0x2f, 0x65, 0x76, 0x69,
	0x6c, 0x2f, 0x73, 0x76, 0x63, 0x2f, 0x72, 0x6f, 0x6f, 0x74, 0x30, 0x0a,
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x69,
	0x00, 0x30, 0x66, 0x02, 0x31, 0x00, 0x8e, 0xfe, 0x4b, 0x80, 0x44, 0x1f,
	0x6a, 0x92, 0xa5, 0x7e, 0xe0, 0xc8, 0x80, 0xd0, 0x42, 0x9b, 0x46, 0x14,
	0x40, 0xfa, 0x70, 0xb6, 0x6e, 0xa3, 0x79, 0x51, 0x60, 0x07, 0x0c, 0x94,
	0xe2, 0x8d, 0x42, 0x5f, 0x32, 0x22, 0x38, 0xb3, 0x36, 0xb2, 0x94, 0xa1,
	0xc7, 0x8a, 0x25, 0x35, 0x50, 0x40, 0x02, 0x31, 0x00, 0xd7, 0x86, 0x2e,
	0xa6, 0x65, 0x5e, 0x7d, 0xdc, 0xe0, 0xa8, 0x60, 0x33, 0xdf, 0x29, 0x7f,
	0xef, 0x7e, 0x53, 0xf9, 0x52, 0x8c, 0xe8, 0xbb, 0x4a, 0x88, 0x53, 0xf8,
	0xa6, 0x4b, 0x5d, 0x4e, 0xab, 0xe5, 0x68, 0x15, 0xfa, 0x38, 0x3b, 0x82,
	0xf0, 0xe9, 0xa7, 0x61, 0x24, 0x20, 0x5d, 0x33, 0xa0,
};

/* A CSR whose subject and extensions ask for much more than they get. */
static int
greedy_csr(struct pki_ca *ca, unsigned char *out, size_t cap, int curve_sz, int curve)
{
	const char *uris[] = { "spiffe://" TD "/svc/admin", "spiffe://evil/svc/root" };
	Cert *c = wc_CertNew(NULL);
	ecc_key k;
	int n;

	assert_non_null(c);
	assert_int_equal(wc_ecc_init(&k), 0);
	assert_int_equal(wc_ecc_make_key_ex(&ca->rng, curve_sz, &k, curve), 0);
	c->version = 0;
	c->sigType = curve == ECC_SECP384R1 ? CTC_SHA384wECDSA : CTC_SHA256wECDSA;
	c->isCA = 1;
	snprintf(c->subject.commonName, CTC_NAME_SIZE, "admin");
	c->altNamesSz = (int)tsan_uris(c->altNames, uris, 2);
	n = wc_MakeCertReq_ex(c, out, (word32)cap, ECC_TYPE, &k);
	if (n >= 0)
		n = wc_SignCert_ex(c->bodySz, c->sigType, out, (word32)cap, ECC_TYPE, &k, &ca->rng);
	wc_CertFree(c);
	wc_ecc_free(&k);
	return n;
}

static void
test_issue(void **state)
{
	unsigned char csr[CSR_DER_MAX], leaf[PKI_CERT_MAX], leaf2[PKI_CERT_MAX];
	struct pki_certinfo ci, ci2, root;
	const unsigned char *rd;
	struct pki_ca *ca;
	size_t len, len2, rl;
	time_t now = 1800000000;   /* 2027-01-15 */
	char err[256], pem[PKI_PEM_MAX];
	int n;

	ca = pki_ca_open(path("ca"), "shop", NULL, err, sizeof(err));
	assert_non_null(ca);
	n = greedy_csr(ca, csr, sizeof(csr), 32, ECC_SECP256R1);
	assert_true(n > 0);
	assert_int_equal(pki_issue(ca, csr, (size_t)n, TD, "web", 86400, now, leaf, sizeof(leaf),
	    &len, err, sizeof(err)), 0);
	assert_int_equal(pki_cert_info(leaf, len, &ci), 0);
	/* meshd's name, not the CSR's; a leaf, not the CA it asked to be */
	assert_string_equal(ci.uri, "spiffe://" TD "/svc/web");
	assert_int_equal(ci.is_ca, 0);
	assert_int_equal(spiffe_check_der(leaf, len, TD, NULL), SPIFFE_OK);
	assert_critical(leaf, len, 0);
	assert_int_equal(ci.not_before, now - PKI_BACKDATE_SEC);
	assert_int_equal(ci.not_after, now + 86400);
	assert_int_equal(strlen(ci.serial), 32);
	/* serials differ */
	assert_int_equal(pki_issue(ca, csr, (size_t)n, TD, "web", 86400, now, leaf2,
	    sizeof(leaf2), &len2, err, sizeof(err)), 0);
	assert_int_equal(pki_cert_info(leaf2, len2, &ci2), 0);
	assert_string_not_equal(ci.serial, ci2.serial);

	/* never past the root */
	rd = pki_ca_der(ca, &rl);
	assert_int_equal(pki_cert_info(rd, rl, &root), 0);
	assert_int_equal(pki_issue(ca, csr, (size_t)n, TD, "web", 3600, root.not_after - 60,
	    leaf, sizeof(leaf), &len, err, sizeof(err)), 0);
	assert_int_equal(pki_cert_info(leaf, len, &ci), 0);
	assert_int_equal(ci.not_after, root.not_after);

	/* PEM round trip */
	n = pki_der_to_pem(leaf, len, pem, sizeof(pem));
	assert_true(n > 0);
	assert_int_equal(pki_pem_to_der(pem, (size_t)n, leaf2, sizeof(leaf2)), (int)len);
	assert_memory_equal(leaf, leaf2, len);
	assert_int_equal(pki_der_to_pem(leaf, len, pem, 100), -1);
	assert_int_equal(pki_pem_to_der("junk", 4, leaf2, sizeof(leaf2)), -1);
	pki_ca_free(ca);
}

static void
test_issue_refusals(void **state)
{
	unsigned char csr[CSR_DER_MAX], leaf[PKI_CERT_MAX];
	struct pki_ca *ca;
	size_t len;
	char err[256];
	int n;

	ca = pki_ca_open(path("ca"), "shop", NULL, err, sizeof(err));
	assert_non_null(ca);
	n = greedy_csr(ca, csr, sizeof(csr), 32, ECC_SECP256R1);
	assert_true(n > 0);
#define ISSUE(c, cl, td, svc, ttl) \
	pki_issue(ca, c, cl, td, svc, ttl, time(NULL), leaf, sizeof(leaf), &len, err, sizeof(err))
	assert_int_equal(ISSUE(csr, (size_t)n, TD, "Web", 3600), -1);
	assert_non_null(strstr(err, "invalid"));
	assert_int_equal(ISSUE(csr, (size_t)n, "bad domain", "web", 3600), -1);
	assert_int_equal(ISSUE(csr, (size_t)n, TD, "web", PKI_TTL_MIN - 1), -1);
	assert_non_null(strstr(err, "lifetime"));
	assert_int_equal(ISSUE(csr, (size_t)n, TD, "web", PKI_TTL_MAX + 1), -1);
	assert_int_equal(ISSUE(csr, 0, TD, "web", 3600), -1);
	assert_int_equal(ISSUE(csr, PKI_CSR_MAX + 1, TD, "web", 3600), -1);
	/* proof of possession: a flipped bit in the signature */
	csr[n - 3] ^= 0x01;
	assert_int_equal(ISSUE(csr, (size_t)n, TD, "web", 3600), -1);
	assert_non_null(strstr(err, "CSR rejected"));
	/* truncated, and not a CSR at all */
	csr[n - 3] ^= 0x01;
	assert_int_equal(ISSUE(csr, (size_t)n - 20, TD, "web", 3600), -1);
	assert_int_equal(ISSUE((const unsigned char *)"hello", 5, TD, "web", 3600), -1);
	/* P-384 is not what sidecars use: made here when this wolfSSL has
	 * P-384, and read from openssl's bytes always */
	if (wc_ecc_get_curve_idx(ECC_SECP384R1) >= 0) {
		n = greedy_csr(ca, csr, sizeof(csr), 48, ECC_SECP384R1);
		assert_true(n > 0);
		assert_int_equal(ISSUE(csr, (size_t)n, TD, "web", 3600), -1);
		assert_non_null(strstr(err, "P-256"));
	}
	assert_int_equal(ISSUE(csr_p384, sizeof(csr_p384), TD, "web", 3600), -1);
	assert_non_null(strstr(err, "P-256"));
#undef ISSUE
	pki_ca_free(ca);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_then_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_issue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_issue_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
