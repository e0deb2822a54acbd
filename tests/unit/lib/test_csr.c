/* SPDX-License-Identifier: ISC */
/*
 * test_csr: the sidecar's in-memory key and CSR, what it accepts back
 * from meshd (and what it refuses), the PEM bundle, and renewal timing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_tls_util.h"

#include <wolfssl/wolfcrypt/asn.h>

static struct tca ca1, ca2;

static int
group_setup(void **state)
{
	return tca_open(&ca1) != NULL && tca_open(&ca2) != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	tca_close(&ca1);
	tca_close(&ca2);
	return 0;
}

static void
test_request(void **state)
{
	unsigned char der[CSR_DER_MAX];
	char pem[2048], err[128];
	struct csr_ident *id = csr_new(err, sizeof(err));
	DecodedCert dc;
	size_t len;
	int n;

	assert_non_null(id);
	/* nothing accepted yet */
	assert_null(csr_leaf_der(id, &len));
	assert_int_equal(len, 0);
	assert_int_equal(csr_not_after(id), 0);
	assert_non_null(csr_key_der(id, &len));
	assert_true(len > 100);
	n = csr_request(id, "web", der, sizeof(der));
	assert_true(n > 0);
	/* a well-formed CSR whose signature checks out */
	wc_InitDecodedCert(&dc, der, (word32)n, NULL);
	assert_int_equal(wc_ParseCert(&dc, CERTREQ_TYPE, VERIFY, NULL), 0);
	assert_string_equal(dc.subjectCN, "web");
	wc_FreeDecodedCert(&dc);
	assert_int_equal(csr_request(id, "web", der, 10), -1);
	n = csr_request_pem(id, "web", pem, sizeof(pem));
	assert_true(n > 0);
	assert_int_equal(strncmp(pem, "-----BEGIN CERTIFICATE REQUEST-----", 35), 0);
	assert_int_equal(csr_request_pem(id, "web", pem, 50), -1);
	csr_free(id);
	csr_free(NULL);
}

/* A leaf from `ca` for the CSR of `id`. */
static size_t
issue_for(struct csr_ident *id, struct pki_ca *ca, const char *td, const char *svc,
    time_t now, unsigned char *leaf)
{
	unsigned char csr[CSR_DER_MAX];
	char err[256];
	size_t len;
	int n = csr_request(id, svc, csr, sizeof(csr));

	assert_true(n > 0);
	if (pki_issue(ca, csr, (size_t)n, td, svc, 3600, now, leaf, PKI_CERT_MAX, &len,
	    err, sizeof(err)) != 0)
		fail_msg("%s", err);
	return len;
}

#define ACCEPT(id, l, ll, c, cl, td, svc) \
	csr_accept(id, l, ll, c, cl, td, svc, time(NULL), err, sizeof(err))

static void
test_accept(void **state)
{
	unsigned char leaf[PKI_CERT_MAX], other[PKI_CERT_MAX];
	struct csr_ident *id, *id2;
	const unsigned char *c1, *c2, *p;
	size_t l, ol, cl1, cl2, len;
	char err[256];
	time_t now = time(NULL);

	id = csr_new(err, sizeof(err));
	id2 = csr_new(err, sizeof(err));
	assert_non_null(id);
	assert_non_null(id2);
	c1 = pki_ca_der(ca1.ca, &cl1);
	c2 = pki_ca_der(ca2.ca, &cl2);
	l = issue_for(id, ca1.ca, TD, "web", now, leaf);

	/* refusals first: each leaves the identity empty */
	assert_int_equal(ACCEPT(id, leaf, l, c2, cl2, TD, "web"), -1);     /* other CA */
	assert_non_null(strstr(err, "not signed by its CA"));
	assert_int_equal(ACCEPT(id, leaf, l, c1, cl1, TD, "api"), -1);     /* other service */
	assert_non_null(strstr(err, "another service"));
	assert_int_equal(ACCEPT(id, leaf, l, c1, cl1, "other.local", "web"), -1);
	assert_non_null(strstr(err, "trust domain"));
	assert_int_equal(ACCEPT(id, leaf, l, leaf, l, TD, "web"), -1);     /* "CA" is a leaf */
	assert_non_null(strstr(err, "not a CA"));
	assert_int_equal(ACCEPT(id, leaf, 0, c1, cl1, TD, "web"), -1);
	assert_int_equal(ACCEPT(id, leaf, l - 5, c1, cl1, TD, "web"), -1);
	ol = issue_for(id2, ca1.ca, TD, "web", now, other);                /* someone else's key */
	assert_int_equal(ACCEPT(id, other, ol, c1, cl1, TD, "web"), -1);
	assert_non_null(strstr(err, "not for our key"));
	ol = issue_for(id, ca1.ca, TD, "web", now - 7200, other);          /* expired */
	assert_int_equal(ACCEPT(id, other, ol, c1, cl1, TD, "web"), -1);
	assert_non_null(strstr(err, "expired"));
	assert_null(csr_leaf_der(id, &len));

	/* the good one */
	assert_int_equal(ACCEPT(id, leaf, l, c1, cl1, TD, "web"), 0);
	p = csr_leaf_der(id, &len);
	assert_int_equal(len, l);
	assert_memory_equal(p, leaf, l);
	p = csr_ca_der(id, &len);
	assert_int_equal(len, cl1);
	assert_memory_equal(p, c1, cl1);
	assert_int_equal(csr_not_after(id), now + 3600);
	/* a later refusal keeps what was accepted */
	assert_int_equal(ACCEPT(id, other, ol, c1, cl1, TD, "web"), -1);
	p = csr_leaf_der(id, &len);
	assert_memory_equal(p, leaf, l);
	csr_free(id);
	csr_free(id2);
}

static void
test_accept_pem(void **state)
{
	unsigned char leaf[PKI_CERT_MAX];
	char bundle[3 * PKI_PEM_MAX], err[256];
	const char *capem;
	struct csr_ident *id = csr_new(err, sizeof(err));
	size_t l, cl, off;
	int n;

	assert_non_null(id);
	l = issue_for(id, ca1.ca, TD, "web", time(NULL), leaf);
	n = pki_der_to_pem(leaf, l, bundle, sizeof(bundle));
	assert_true(n > 0);
	off = (size_t)n;
	/* the leaf alone is not enough */
	assert_int_equal(csr_accept_pem(id, bundle, off, TD, "web", time(NULL), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "expected a leaf and a CA"));
	capem = pki_ca_pem(ca1.ca, &cl);
	memcpy(bundle + off, capem, cl);
	assert_int_equal(csr_accept_pem(id, bundle, off + cl, TD, "web", time(NULL), err,
	    sizeof(err)), 0);
	assert_int_equal(csr_not_after(id) > time(NULL), 1);
	/* three certificates are one too many */
	memcpy(bundle + off + cl, capem, cl);
	assert_int_equal(csr_accept_pem(id, bundle, off + 2 * cl, TD, "web", time(NULL), err,
	    sizeof(err)), -1);
	/* leaf and CA swapped */
	memmove(bundle, capem, cl);
	n = pki_der_to_pem(leaf, l, bundle + cl, sizeof(bundle) - cl);
	assert_int_equal(csr_accept_pem(id, bundle, cl + (size_t)n, TD, "web", time(NULL), err,
	    sizeof(err)), -1);
	/* a broken body */
	memcpy(bundle, capem, cl);
	memcpy(bundle + cl, capem, cl);
	bundle[40] = '*';
	bundle[41] = '*';
	assert_int_equal(csr_accept_pem(id, bundle, 2 * cl, TD, "web", time(NULL), err,
	    sizeof(err)), -1);
	csr_free(id);
}

static void
test_renew_delay(void **state)
{
	time_t now = 1000000;
	double d;
	uint32_t r;

	/* 2/3 of the remaining time, minus up to 1/15 of it */
	assert_true(csr_renew_delay(now + 3600, now, 0) == 2400);
	d = csr_renew_delay(now + 3600, now, UINT32_MAX);
	assert_true(d > 2160 && d < 2161);
	for (r = 1; r < 4000000000u; r += 123456789u) {
		d = csr_renew_delay(now + 86400, now, r);
		assert_true(d >= 86400 * 0.6 && d <= 86400 * 2.0 / 3.0);
	}
	/* late or expired: at once, never zero or negative */
	assert_true(csr_renew_delay(now - 10, now, 5) == 1);
	assert_true(csr_renew_delay(now + 1, now, 5) == 1);
	assert_true(csr_renew_delay(now + 2, now, 0) >= 1);
}

static void
test_fresh_keys(void **state)
{
	char err[128];
	struct csr_ident *a = csr_new(err, sizeof(err)), *b = csr_new(err, sizeof(err));
	const unsigned char *ka, *kb;
	size_t la, lb;

	/* every identity (so every renewal) has its own key */
	ka = csr_key_der(a, &la);
	kb = csr_key_der(b, &lb);
	assert_true(la != lb || memcmp(ka, kb, la) != 0);
	csr_free(a);
	csr_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_accept_pem),
		cmocka_unit_test(test_renew_delay),
		cmocka_unit_test(test_fresh_keys),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
