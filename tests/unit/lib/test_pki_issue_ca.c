/* SPDX-License-Identifier: ISC */
/*
 * test_pki_issue_ca: a joined host's intermediate CA — signed from a
 * P-256 CSR it verifies against the root, is a CA with pathlen 0 and
 * keyCertSign + cRLSign, lives at most a year; the host's own check
 * accepts it and refuses a foreign key or root; a P-384 CSR, a CSR with a
 * broken signature and a root with pathlen 0 are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh/csr.h"
#include "mesh/pki.h"
#include "pki_int.h"

#include <wolfssl/wolfcrypt/asn.h>

/* openssl req -new, key secp384r1, subject CN=x (DER) */
static const unsigned char csr384[] = {
  0x30, 0x82, 0x01, 0x03, 0x30, 0x81, 0x8b, 0x02, 0x01, 0x00, 0x30, 0x0c,
  0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x01, 0x78,
  0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
  0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00, 0x04,
  0xf4, 0x27, 0x92, 0xe2, 0xe6, 0x6b, 0x76, 0xbd, 0xb9, 0x04, 0x5a, 0x9a,
  0x04, 0x9b, 0x44, 0xcd, 0x8b, 0xa1, 0x3d, 0xf0, 0x72, 0xd2, 0xa0, 0x7b,
  0x98, 0xc6, 0x49, 0xf6, 0x74, 0xf0, 0xe4, 0x0a, 0xfb, 0xc7, 0x0d, 0xed,
  0x67, 0xc9, 0x26, 0xd4, 0xd8, 0x82, 0xac, 0x13, 0x2d, 0x05, 0x4f, 0xad,
  0xc0, 0xd8, 0xae, 0x70, 0x24, 0x71, 0x68, 0x80, 0x3b, 0xa9, 0x3e, 0xdb,
  0x1e, 0xae, 0xd2, 0x12, 0x71, 0x29, 0x9b, 0x7a, 0xe8, 0x71, 0x06, 0x62,
  0x6e, 0x51, 0xe4, 0x31, 0xbd, 0x00, 0xe1, 0xc2, 0xa3, 0x54, 0x9b, 0x18,
  0x35, 0xf3, 0xe4, 0x99, 0x68, 0x68, 0x83, 0xc5, 0x3c, 0xec, 0x11, 0x65,
  0xa0, 0x00, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04,
  0x03, 0x02, 0x03, 0x67, 0x00, 0x30, 0x64, 0x02, 0x30, 0x13, 0x09, 0x72,
  0xf8, 0xf9, 0xaf, 0x07, 0x99, 0x0b, 0x37, 0xf9, 0x4c, 0xd0, 0x32, 0x10,
  0x62, 0x8f, 0x38, 0x10, 0xfd, 0x8d, 0xcd, 0x8a, 0xfc, 0xbd, 0x62, 0xb5,
  0x43, 0x40, 0xac, 0x63, 0x29, 0x7a, 0x75, 0xe1, 0x43, 0x72, 0x47, 0x87,
  0x56, 0x59, 0xdd, 0x24, 0x8e, 0xd4, 0xf8, 0x3d, 0x71, 0x02, 0x30, 0x1a,
  0x35, 0x05, 0xf9, 0xb3, 0x50, 0x82, 0x13, 0xda, 0x26, 0xf8, 0xdf, 0xa9,
  0x52, 0x69, 0x68, 0x0e, 0x7e, 0x70, 0x42, 0x57, 0x3a, 0x37, 0x97, 0x07,
  0x4c, 0xc9, 0xf0, 0xaa, 0xe1, 0x70, 0xa1, 0xbb, 0x13, 0x51, 0xba, 0x2f,
  0xd7, 0x65, 0x6b, 0xc4, 0xe9, 0xf9, 0x98, 0x63, 0x9c, 0xf1, 0x99
};

static char base[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/meshica.XXXXXX");
	return mkdtemp(base) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

static struct pki_ca *
root(void)
{
	char err[256];
	int created = 0;
	struct pki_ca *ca = pki_ca_open(base, "t", &created, err, sizeof(err));

	assert_non_null(ca);
	return ca;
}

static void
test_issue_ca(void **state)
{
	struct pki_ca *ca = root();
	struct csr_ident *id = csr_new(NULL, 0), *other = csr_new(NULL, 0);
	unsigned char req[1024], cert[PKI_CERT_MAX];
	const unsigned char *rder, *key, *okey;
	size_t clen = 0, rlen, klen, oklen;
	struct pki_certinfo ci;
	DecodedCert dc;
	char err[256];
	time_t now = time(NULL);
	int n;

	(void)state;
	assert_non_null(id);
	assert_non_null(other);
	n = csr_request(id, "j", req, sizeof(req));
	assert_true(n > 0);
	assert_int_equal(pki_issue_ca(ca, req, (size_t)n, "j", "demo", now, cert,
	    sizeof(cert), &clen, err, sizeof(err)), 0);
	assert_int_equal(pki_cert_info(cert, clen, &ci), 0);
	assert_true(ci.is_ca);
	assert_string_equal(ci.cn, "j intermediate");
	assert_true(ci.not_after <= now + PKI_CA_CHILD_MAX_S);
	assert_true(ci.not_after >= now + PKI_CA_CHILD_MAX_S - 5);

	wc_InitDecodedCert(&dc, cert, (word32)clen, NULL);
	assert_int_equal(wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL), 0);
	assert_true(dc.isCA);
	assert_true(dc.extBasicConstCrit);
	assert_true(dc.pathLengthSet);
	assert_int_equal(dc.pathLength, 0);
	assert_true(dc.extKeyUsageCrit);
	assert_int_equal(dc.extKeyUsage, KEYUSE_KEY_CERT_SIGN | KEYUSE_CRL_SIGN);
	wc_FreeDecodedCert(&dc);

	rder = pki_ca_der(ca, &rlen);
	key = csr_key_der(id, &klen);
	okey = csr_key_der(other, &oklen);
	assert_int_equal(pki_ca_child_check(cert, clen, rder, rlen, key, klen, err,
	    sizeof(err)), 0);
	assert_int_equal(pki_ca_child_check(cert, clen, rder, rlen, okey, oklen, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "not for our key"));
	/* roles swapped: the root is no child of the intermediate */
	assert_int_equal(pki_ca_child_check(rder, rlen, cert, clen, key, klen, err,
	    sizeof(err)), -1);
	csr_free(id);
	csr_free(other);
	pki_ca_free(ca);
}

static void
test_issue_ca_refusals(void **state)
{
	struct pki_ca *ca = root(), *again;
	struct csr_ident *id = csr_new(NULL, 0);
	unsigned char req[1024], cert[PKI_CERT_MAX];
	size_t clen = 0;
	char err[256];
	int n;

	(void)state;
	assert_int_equal(pki_issue_ca(ca, csr384, sizeof(csr384), "j", "demo", time(NULL),
	    cert, sizeof(cert), &clen, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not ECDSA P-256"));
	n = csr_request(id, "j", req, sizeof(req));
	req[n - 3] ^= 0x55;   /* inside the signature */
	assert_int_equal(pki_issue_ca(ca, req, (size_t)n, "j", "demo", time(NULL), cert,
	    sizeof(cert), &clen, err, sizeof(err)), -1);
	assert_int_equal(pki_issue_ca(ca, req, 0, "j", "demo", time(NULL), cert,
	    sizeof(cert), &clen, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "size"));

	/* a root of before joining: pathlen 0 */
	{
		Cert *c = wc_CertNew(NULL);
		unsigned char der[PKI_CERT_MAX];

		assert_non_null(c);
		c->version = 2;
		c->sigType = CTC_SHA256wECDSA;
		c->selfSigned = 1;
		c->isCA = 1;
		c->basicConstSet = 1;
		c->pathLen = 0;
		c->pathLenSet = 1;
		snprintf(c->subject.commonName, CTC_NAME_SIZE, "old");
		assert_int_equal(pki_set_serial(c, &ca->rng), 0);
		assert_int_equal(pki_set_validity(c, time(NULL) - 60, time(NULL) + 86400), 0);
		assert_int_equal(wc_SetKeyUsage(c, "keyCertSign"), 0);
		n = pki_sign(c, der, sizeof(der), &ca->key, &ca->key, &ca->rng);
		wc_CertFree(c);
		assert_true(n > 0);
		assert_int_equal(pki_set_root(ca, der, (size_t)n), 0);
		n = csr_request(id, "j", req, sizeof(req));
		assert_int_equal(pki_issue_ca(ca, req, (size_t)n, "j", "demo", time(NULL), cert,
		    sizeof(cert), &clen, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "pathlen 0"));
	}
	pki_ca_free(ca);

	/* loading never creates */
	again = pki_ca_load_root("/nonexistent/ca", err, sizeof(err));
	assert_null(again);
	again = pki_ca_load_root(base, err, sizeof(err));
	assert_non_null(again);
	pki_ca_free(again);
	csr_free(id);
}

static void
test_key_pem(void **state)
{
	struct csr_ident *id = csr_new(NULL, 0);
	const unsigned char *key;
	char pem[1024];
	size_t klen;

	(void)state;
	key = csr_key_der(id, &klen);
	assert_true(pki_key_to_pem(key, klen, pem, sizeof(pem)) > 0);
	assert_non_null(strstr(pem, "-----BEGIN EC PRIVATE KEY-----"));
	assert_int_equal(pki_key_to_pem(key, klen, pem, 10), -1);
	csr_free(id);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_issue_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_issue_ca_refusals, setup, teardown),
		cmocka_unit_test(test_key_pem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
