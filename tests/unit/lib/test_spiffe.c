/* SPDX-License-Identifier: ISC */
/*
 * test_spiffe: SPIFFE ID syntax, formatting, the peer leaf checks (one
 * URI SAN, scheme, trust domain, not a CA) on certificates made by the
 * test CA, and `allow`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mesh/spiffe.h"
#include "test_tls_util.h"

static struct tca ca1;

static int
group_setup(void **state)
{
	return tca_open(&ca1) != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	tca_close(&ca1);
	return 0;
}

static void
test_names(void **state)
{
	char s63[64], s64[65], td255[256], td256[257];

	memset(s63, 'a', 63);
	s63[63] = '\0';
	memset(s64, 'a', 64);
	s64[64] = '\0';
	memset(td255, 'x', 255);
	td255[255] = '\0';
	memset(td256, 'x', 256);
	td256[256] = '\0';
	assert_true(spiffe_valid_service("a", 1));
	assert_true(spiffe_valid_service("api-v2", 6));
	assert_true(spiffe_valid_service("0db", 3));
	assert_true(spiffe_valid_service(s63, 63));
	assert_false(spiffe_valid_service(s64, 64));
	assert_false(spiffe_valid_service("", 0));
	assert_false(spiffe_valid_service("-a", 2));
	assert_false(spiffe_valid_service("Api", 3));
	assert_false(spiffe_valid_service("a_b", 3));
	assert_false(spiffe_valid_service("a/b", 3));
	assert_false(spiffe_valid_service("a\0b", 3));
	assert_true(spiffe_valid_trust_domain("mesh.local", 10));
	assert_true(spiffe_valid_trust_domain("a_b-c.d9", 8));
	assert_true(spiffe_valid_trust_domain(td255, 255));
	assert_false(spiffe_valid_trust_domain(td256, 256));
	assert_false(spiffe_valid_trust_domain("", 0));
	assert_false(spiffe_valid_trust_domain("Mesh.local", 10));
	assert_false(spiffe_valid_trust_domain("mesh.local:8080", 15));
	assert_false(spiffe_valid_trust_domain("user@mesh", 9));
}

static int
parse(const char *uri, struct spiffe_id *id)
{
	return spiffe_parse(uri, strlen(uri), id);
}

static void
test_parse(void **state)
{
	static const struct { const char *uri; int want; } bad[] = {
		{ "SPIFFE://mesh.local/svc/api", SPIFFE_E_SCHEME },
		{ "https://mesh.local/svc/api", SPIFFE_E_SCHEME },
		{ "spiffe:/mesh.local/svc/api", SPIFFE_E_SCHEME },
		{ "spiffe", SPIFFE_E_SCHEME },
		{ "spiffe://mesh.local", SPIFFE_E_SYNTAX },
		{ "spiffe://mesh.local/", SPIFFE_E_SYNTAX },
		{ "spiffe:///svc/api", SPIFFE_E_SYNTAX },
		{ "spiffe://mesh.local/ns/api", SPIFFE_E_SYNTAX },
		{ "spiffe://mesh.local/svc/", SPIFFE_E_SYNTAX },
		{ "spiffe://mesh.local/svc/api/", SPIFFE_E_SYNTAX },
		{ "spiffe://mesh.local/svc/api/x", SPIFFE_E_SYNTAX },
		{ "spiffe://mesh.local/svc/api?x=1", SPIFFE_E_SYNTAX },
		{ "spiffe://mesh.local/svc/api#f", SPIFFE_E_SYNTAX },
		{ "spiffe://mesh.local/svc/a%41", SPIFFE_E_SYNTAX },
		{ "spiffe://user@mesh.local/svc/api", SPIFFE_E_SYNTAX },
		{ "spiffe://mesh.local:443/svc/api", SPIFFE_E_SYNTAX },
		{ "spiffe://Mesh.local/svc/api", SPIFFE_E_SYNTAX },
		{ "spiffe://mesh.local/svc/API", SPIFFE_E_SYNTAX },
		{ "spiffe://mesh.local//svc/api", SPIFFE_E_SYNTAX },
	};
	struct spiffe_id id;
	size_t i;

	assert_int_equal(parse("spiffe://mesh.local/svc/api", &id), SPIFFE_OK);
	assert_string_equal(id.td, "mesh.local");
	assert_string_equal(id.svc, "api");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i].uri, &id) != bad[i].want)
			fail_msg("%s: got %d want %d", bad[i].uri, parse(bad[i].uri, &id), bad[i].want);
	}
	/* length-bounded: an embedded NUL is not the end */
	assert_int_equal(spiffe_parse("spiffe://mesh.local/svc/api\0x", 29, &id), SPIFFE_E_SYNTAX);
	/* ... and bytes past len are not read */
	assert_int_equal(spiffe_parse("spiffe://mesh.local/svc/apiXYZ", 27, &id), SPIFFE_OK);
	assert_string_equal(id.svc, "api");
}

static void
test_format(void **state)
{
	char buf[SPIFFE_URI_MAX + 1], small[20];
	struct spiffe_id id;
	int n;

	n = spiffe_format(buf, sizeof(buf), "mesh.local", "web");
	assert_int_equal(n, (int)strlen("spiffe://mesh.local/svc/web"));
	assert_string_equal(buf, "spiffe://mesh.local/svc/web");
	assert_int_equal(spiffe_parse(buf, (size_t)n, &id), SPIFFE_OK);
	assert_int_equal(spiffe_format(small, sizeof(small), "mesh.local", "web"), -1);
	assert_int_equal(spiffe_format(buf, sizeof(buf), "Mesh", "web"), -1);
	assert_int_equal(spiffe_format(buf, sizeof(buf), "mesh.local", "we b"), -1);
	assert_int_equal(spiffe_format(buf, 28, "mesh.local", "web"), 27);
	assert_int_equal(spiffe_format(buf, 27, "mesh.local", "web"), -1);
}

/* A leaf signed by the test CA with raw SAN bytes and a CA flag. */
static int
leaf(const unsigned char *san, size_t sanlen, int is_ca, unsigned char *out)
{
	unsigned char kd[160];
	size_t kl;
	ecc_key k;
	int n;

	assert_int_equal(tkey_new(ca1.ca, &k, kd, &kl), 0);
	n = tleaf_raw(ca1.ca, &k, san, sanlen, is_ca, out, PKI_CERT_MAX);
	wc_ecc_free(&k);
	assert_true(n > 0);
	return n;
}

static int
check_uris(const char *const *uris, size_t n, int is_ca, struct spiffe_id *id)
{
	unsigned char san[600], der[PKI_CERT_MAX];
	int len = leaf(san, tsan_uris(san, uris, n), is_ca, der);

	return spiffe_check_der(der, (size_t)len, TD, id);
}

static void
test_check_leaf(void **state)
{
	const char *good[] = { "spiffe://" TD "/svc/web" };
	const char *two[] = { "spiffe://" TD "/svc/web", "spiffe://" TD "/svc/admin" };
	const char *other[] = { "spiffe://other.local/svc/web" };
	const char *https[] = { "https://" TD "/svc/web" };
	const char *ns[] = { "spiffe://" TD "/ns/default/sa/web" };
	/* a DNS name next to the URI is ignored */
	const unsigned char dns_uri[] = {
		0x30, 0x23, 0x82, 0x03, 'w', 'e', 'b',
		0x86, 0x1c, 's', 'p', 'i', 'f', 'f', 'e', ':', '/', '/', 'm', 'e', 's', 'h',
		'.', 'l', 'o', 'c', 'a', 'l', '/', 's', 'v', 'c', '/', 'w', 'e', 'b', '!',
	};
	unsigned char der[PKI_CERT_MAX], junk[64];
	struct spiffe_id id;
	WOLFSSL_X509 *x;
	const unsigned char *p;
	int n;

	assert_int_equal(check_uris(good, 1, 0, &id), SPIFFE_OK);
	assert_string_equal(id.svc, "web");
	assert_int_equal(check_uris(two, 2, 0, &id), SPIFFE_E_MANY_URI);
	assert_int_equal(check_uris(other, 1, 0, &id), SPIFFE_E_DOMAIN);
	assert_int_equal(check_uris(https, 1, 0, &id), SPIFFE_E_SCHEME);
	assert_int_equal(check_uris(ns, 1, 0, &id), SPIFFE_E_SYNTAX);
	assert_int_equal(check_uris(good, 1, 1, &id), SPIFFE_E_CA);
	/* no SAN at all */
	n = leaf(NULL, 0, 0, der);
	assert_int_equal(spiffe_check_der(der, (size_t)n, TD, &id), SPIFFE_E_NO_URI);
	/* DNS + URI: the URI decides ('!' makes it invalid: proves it was read) */
	n = leaf(dns_uri, sizeof(dns_uri), 0, der);
	assert_int_equal(spiffe_check_der(der, (size_t)n, TD, &id), SPIFFE_E_SYNTAX);
	/* garbage, truncation, nothing */
	memset(junk, 0x30, sizeof(junk));
	assert_int_equal(spiffe_check_der(junk, sizeof(junk), TD, &id), SPIFFE_E_CERT);
	n = leaf(NULL, 0, 0, der);
	assert_int_equal(spiffe_check_der(der, (size_t)n - 10, TD, &id), SPIFFE_E_CERT);
	assert_int_equal(spiffe_check_der(NULL, 0, TD, &id), SPIFFE_E_CERT);
	assert_int_equal(spiffe_check_x509(NULL, TD, &id), SPIFFE_E_CERT);
	/* the WOLFSSL_X509 form agrees */
	{
		unsigned char san[200];
		size_t sl = tsan_uris(san, good, 1);

		n = leaf(san, sl, 0, der);
	}
	p = der;
	x = wolfSSL_X509_d2i(NULL, p, n);
	assert_non_null(x);
	assert_int_equal(spiffe_check_x509(x, TD, &id), SPIFFE_OK);
	assert_string_equal(id.svc, "web");
	assert_int_equal(spiffe_check_x509(x, "other.local", &id), SPIFFE_E_DOMAIN);
	wolfSSL_X509_free(x);
	/* a pki_issue leaf passes, and out may be NULL */
	{
		unsigned char raw[PKI_CERT_MAX];
		size_t rl = 0;
		struct csr_ident *i = tid_issue(ca1.ca, TD, "api", time(NULL), 600, raw, &rl);

		assert_non_null(i);
		assert_int_equal(spiffe_check_der(raw, rl, TD, NULL), SPIFFE_OK);
		csr_free(i);
	}
}

static void
test_allow(void **state)
{
	const char *list[] = { "web", "admin" };

	assert_true(spiffe_allowed("anyone", NULL, 0));
	assert_true(spiffe_allowed("web", list, 2));
	assert_true(spiffe_allowed("admin", list, 2));
	assert_false(spiffe_allowed("db", list, 2));
	assert_false(spiffe_allowed("we", list, 2));
	assert_false(spiffe_allowed("webx", list, 2));
}

static void
test_strerror(void **state)
{
	int e;

	for (e = SPIFFE_OK; e <= SPIFFE_E_CA; e++)
		assert_true(strlen(spiffe_strerror(e)) > 0);
	assert_string_equal(spiffe_strerror(999), "unknown SPIFFE error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_check_leaf),
		cmocka_unit_test(test_allow),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
