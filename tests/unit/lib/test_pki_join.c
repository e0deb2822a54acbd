/* SPDX-License-Identifier: ISC */
/*
 * test_pki_join: joined mode's CA (pki_join.c) and chain checks
 * (pki_chain_verify).  Certificates are made here with the project's own
 * pki code and wolfSSL: roots A and B (same subject name), intermediates
 * under them.  pki_chain_verify: leaf -> intermediate -> root passes;
 * refused are a leaf of an intermediate under another root, a non-CA or
 * no-keyCertSign "intermediate", a root passed as the intermediate, an
 * expired intermediate, a leaf of another intermediate.  The joined
 * layout: loaded and used to issue (issuer = the intermediate); every
 * broken layout refused naming the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "test_tls_util.h"

#include <wolfssl/wolfcrypt/asn.h>

static struct tca ra, rb;
static struct pki_ca *ia, *ib;
static struct pki_bundle bA, bB;

static int
group_setup(void **state)
{
	(void)state;
	if (tca_open(&ra) == NULL || tca_open(&rb) == NULL)
		return -1;
	ia = tinter_good(ra.ca);
	ib = tinter_good(rb.ca);
	assert_int_equal(tbundle_of(&bA, ra.ca), 0);
	assert_int_equal(tbundle_of(&bB, rb.ca), 0);
	return ia != NULL && ib != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	pki_ca_free(ia);
	pki_ca_free(ib);
	tca_close(&ra);
	tca_close(&rb);
	return 0;
}

/* A leaf for "web" from ca (raw DER into out). */
static size_t
leaf_from(struct pki_ca *ca, unsigned char *out)
{
	size_t len = 0;
	struct csr_ident *id = tid_issue_chain(ca, TD, "web", time(NULL), 3600, out, &len);

	assert_non_null(id);
	csr_free(id);
	return len;
}

static void
test_chain_verify(void **state)
{
	unsigned char la[PKI_CERT_MAX], lb[PKI_CERT_MAX], lr[PKI_CERT_MAX], ln[PKI_CERT_MAX];
	unsigned char lk[PKI_CERT_MAX], lx[PKI_CERT_MAX];
	struct pki_ca *noca, *nosign, *old, *ia2;
	const unsigned char *rder;
	size_t a, b, r, n, k, x, rlen;
	time_t now = time(NULL);

	(void)state;
	a = leaf_from(ia, la);
	b = leaf_from(ib, lb);
	r = leaf_from(ra.ca, lr);
	/* the good chain, and a root's own leaf without intermediate */
	assert_int_equal(pki_chain_verify(&bA, la, a, ia->der, ia->derlen), 0);
	assert_int_equal(pki_chain_verify(&bA, lr, r, NULL, 0), 0);
	/* the leaf alone does not reach the root */
	assert_int_equal(pki_chain_verify(&bA, la, a, NULL, 0), -1);
	assert_int_equal(pki_bundle_verify(&bA, la, a), -1);
	/* another root's intermediate, alone or carrying our leaf */
	assert_int_equal(pki_chain_verify(&bA, lb, b, ib->der, ib->derlen), -1);
	assert_int_equal(pki_chain_verify(&bA, la, a, ib->der, ib->derlen), -1);
	assert_int_equal(pki_chain_verify(&bB, la, a, ia->der, ia->derlen), -1);
	/* a leaf of another intermediate under the same root */
	assert_non_null(ia2 = tinter_good(ra.ca));
	x = leaf_from(ia2, lx);
	assert_int_equal(pki_chain_verify(&bA, lx, x, ia2->der, ia2->derlen), 0);
	assert_int_equal(pki_chain_verify(&bA, lx, x, ia->der, ia->derlen), -1);
	/* the root passed as the intermediate */
	rder = pki_ca_der(ra.ca, &rlen);
	assert_int_equal(pki_chain_verify(&bA, lr, r, rder, rlen), -1);
	/* a non-CA "intermediate" signed by the root */
	assert_non_null(noca = tinter_new(ra.ca, 0, "digitalSignature", now - 60, now + 3600));
	n = leaf_from(noca, ln);
	assert_int_equal(pki_chain_verify(&bA, ln, n, noca->der, noca->derlen), -1);
	/* a CA whose keyUsage does not allow signing certificates */
	assert_non_null(nosign = tinter_new(ra.ca, 1, "digitalSignature", now - 60, now + 3600));
	k = leaf_from(nosign, lk);
	assert_int_equal(pki_chain_verify(&bA, lk, k, nosign->der, nosign->derlen), -1);
	/* an expired intermediate */
	assert_non_null(old = tinter_new(ra.ca, 1, "keyCertSign", now - 7200, now - 3600));
	assert_int_equal(pki_chain_verify(&bA, la, a, old->der, old->derlen), -1);
	pki_ca_free(noca);
	pki_ca_free(nosign);
	pki_ca_free(old);
	pki_ca_free(ia2);
}

static void
test_issue_from_intermediate(void **state)
{
	unsigned char leaf[PKI_CERT_MAX];
	DecodedCert dl, di;
	size_t len;

	(void)state;
	len = leaf_from(ia, leaf);
	wc_InitDecodedCert(&dl, leaf, (word32)len, NULL);
	wc_InitDecodedCert(&di, ia->der, (word32)ia->derlen, NULL);
	assert_int_equal(wc_ParseCert(&dl, CERT_TYPE, NO_VERIFY, NULL), 0);
	assert_int_equal(wc_ParseCert(&di, CERT_TYPE, NO_VERIFY, NULL), 0);
	/* issuer = the intermediate's subject, key id = its key's */
	assert_memory_equal(dl.issuerHash, di.subjectHash, sizeof(dl.issuerHash));
	assert_true(dl.extAuthKeyIdSet && di.extSubjKeyIdSet);
	assert_memory_equal(dl.extAuthKeyId, di.extSubjKeyId, sizeof(dl.extAuthKeyId));
	assert_false(dl.isCA);
	/* capped at the intermediate's notAfter */
	assert_true(dl.afterDateLen > 0);
	wc_FreeDecodedCert(&dl);
	wc_FreeDecodedCert(&di);
	assert_int_equal(pki_ca_is_inter(ia), 1);
	assert_int_equal(pki_ca_is_inter(ra.ca), 0);
}

/* A fresh directory <tmp>/ca with ia's files; returns the ca path. */
static void
joined_dir(char *tmp, size_t cap, struct pki_ca *inter)
{
	snprintf(tmp, cap, "/tmp/meshjoin.XXXXXX");
	assert_non_null(mkdtemp(tmp));
	strcat(tmp, "/ca");
	assert_int_equal(tjoin_write(tmp, inter), 0);
}

static void
rm_dir(const char *ca)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(ca) - 3), ca);
	assert_int_equal(system(cmd), 0);
}

/* pki_ca_open_joined(dir) fails with err containing want. */
static void
refuses(const char *dir, const char *want)
{
	char err[512];
	struct pki_ca *ca = pki_ca_open_joined(dir, err, sizeof(err));

	assert_null(ca);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void
put(const char *dir, const char *name, const char *text, size_t len)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fwrite(text, 1, len, f);
	fclose(f);
}

static void
test_joined_layout(void **state)
{
	char dir[64], path[160], err[512], want[200];
	struct pki_ca *ca, *noca, *old;
	unsigned char leaf[PKI_CERT_MAX], csr[CSR_DER_MAX];
	struct csr_ident *id;
	const unsigned char *der;
	size_t len, ll;
	time_t now = time(NULL);
	int n;

	(void)state;
	joined_dir(dir, sizeof(dir), ia);
	assert_int_equal(pki_joined(dir), 1);
	ca = pki_ca_open_joined(dir, err, sizeof(err));
	if (ca == NULL)
		fail_msg("open_joined: %s", err);
	assert_int_equal(pki_ca_is_inter(ca), 1);
	der = pki_ca_root_der(ca, &len);
	assert_int_equal(len, ra.ca->derlen);
	assert_memory_equal(der, ra.ca->der, len);
	der = pki_ca_der(ca, &len);
	assert_memory_equal(der, ia->der, len);
	/* issues leaves that chain through it */
	assert_non_null(id = csr_new(err, sizeof(err)));
	n = csr_request(id, "web", csr, sizeof(csr));
	assert_int_equal(pki_issue(ca, csr, (size_t)n, TD, "web", 600, now, leaf, sizeof(leaf),
	    &ll, err, sizeof(err)), 0);
	assert_int_equal(pki_chain_verify(&bA, leaf, ll, ia->der, ia->derlen), 0);
	csr_free(id);
	pki_ca_free(ca);

	/* ca.key beside it */
	put(dir, "ca.key", "x\n", 2);
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(want, sizeof(want), "%s/ca.key and %s/host.crt both exist", dir, dir);
	refuses(dir, want);
	assert_int_equal(unlink(path), 0);
	/* host.key readable by others */
	snprintf(path, sizeof(path), "%s/host.key", dir);
	assert_int_equal(chmod(path, 0644), 0);
	refuses(dir, "host.key: CA key has mode 0644");
	/* host.crt without host.key */
	assert_int_equal(unlink(path), 0);
	snprintf(want, sizeof(want), "%s/host.key: missing", dir);
	refuses(dir, want);
	rm_dir(dir);

	/* no root.crt */
	joined_dir(dir, sizeof(dir), ia);
	snprintf(path, sizeof(path), "%s/root.crt", dir);
	assert_int_equal(unlink(path), 0);
	refuses(dir, "root.crt: missing");
	/* root.crt of another mesh: host.crt not signed by it */
	put(dir, "root.crt", rb.ca->pem, rb.ca->pemlen);
	snprintf(want, sizeof(want), "%s/host.crt: not signed by %s/root.crt", dir, dir);
	refuses(dir, want);
	/* root.crt is no certificate */
	put(dir, "root.crt", "hello\n", 6);
	refuses(dir, "root.crt: not a PEM certificate");
	/* the root as host.crt */
	put(dir, "root.crt", ra.ca->pem, ra.ca->pemlen);
	put(dir, "host.crt", ra.ca->pem, ra.ca->pemlen);
	refuses(dir, "host.crt: does not hold the public key of");
	/* another intermediate's certificate beside our key */
	put(dir, "host.crt", ib->pem, ib->pemlen);
	refuses(dir, "host.crt: does not hold the public key of");
	rm_dir(dir);

	/* a non-CA host.crt */
	assert_non_null(noca = tinter_new(ra.ca, 0, "digitalSignature", now - 60, now + 3600));
	joined_dir(dir, sizeof(dir), noca);
	refuses(dir, "host.crt: not a CA certificate");
	rm_dir(dir);
	pki_ca_free(noca);
	/* an expired host.crt */
	assert_non_null(old = tinter_new(ra.ca, 1, "keyCertSign", now - 7200, now - 3600));
	joined_dir(dir, sizeof(dir), old);
	refuses(dir, "host.crt: expired on");
	rm_dir(dir);
	pki_ca_free(old);
	/* no keyCertSign */
	assert_non_null(old = tinter_new(ra.ca, 1, "digitalSignature", now - 60, now + 3600));
	joined_dir(dir, sizeof(dir), old);
	refuses(dir, "host.crt: not an intermediate CA");
	rm_dir(dir);
	pki_ca_free(old);
	/* a single-host CA directory is not joined */
	assert_int_equal(pki_joined(ra.dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_verify),
		cmocka_unit_test(test_issue_from_intermediate),
		cmocka_unit_test(test_joined_layout),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
