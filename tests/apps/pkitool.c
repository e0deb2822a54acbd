/* SPDX-License-Identifier: ISC */
/*
 * pkitool: drive the pki and csr modules from the shell, so that
 * tests/integ/pki_openssl.sh can check our certificates with openssl.
 *
 *   pkitool ca DIR [NAME]                       open or create the CA; prints created|loaded
 *   pkitool issue DIR TD SVC TTL OUT            in-memory key + CSR (csr.c), leaf from the
 *                                               CA (pki.c), accepted back (csr_accept);
 *                                               leaf PEM to OUT
 *   pkitool sign DIR TD SVC TTL CSR.pem OUT     sign somebody else's CSR (names ignored)
 *   pkitool csr SVC OUT                         a PEM CSR from a fresh key
 *   pkitool info CERT.pem                       serial, not-before, not-after, URI, CA flag
 * Exit 0 on success, 1 with a message on stderr otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>

#include "mesh/csr.h"
#include "mesh/pki.h"

static int
die(const char *what)
{
	fprintf(stderr, "pkitool: %s\n", what);
	return 1;
}

static int
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	if (fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

static long
read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (long)n;
}

static int
write_pem(const char *path, const unsigned char *der, size_t len)
{
	char pem[PKI_PEM_MAX];
	int n = pki_der_to_pem(der, len, pem, sizeof(pem));

	return n < 0 ? -1 : write_file(path, pem, (size_t)n);
}

static int
cmd_issue(struct pki_ca *ca, char **av, const unsigned char *csr, size_t csrlen,
    struct csr_ident *id, const char *out)
{
	unsigned char leaf[PKI_CERT_MAX];
	const unsigned char *cader;
	size_t leaflen, calen;
	char err[256];
	time_t now = time(NULL);

	if (pki_issue(ca, csr, csrlen, av[0], av[1], (uint32_t)strtoul(av[2], NULL, 10), now,
	    leaf, sizeof(leaf), &leaflen, err, sizeof(err)) != 0)
		return die(err);
	cader = pki_ca_der(ca, &calen);
	if (id != NULL && csr_accept(id, leaf, leaflen, cader, calen, av[0], av[1], now,
	    err, sizeof(err)) != 0)
		return die(err);
	if (write_pem(out, leaf, leaflen) != 0)
		return die("cannot write the leaf");
	return 0;
}

static int
cmd_info(const char *path)
{
	char pem[PKI_PEM_MAX];
	unsigned char der[PKI_CERT_MAX];
	struct pki_certinfo ci;
	long n;
	int dl;

	if ((n = read_file(path, pem, sizeof(pem))) <= 0)
		return die("cannot read the certificate");
	if ((dl = pki_pem_to_der(pem, (size_t)n, der, sizeof(der))) <= 0 ||
	    pki_cert_info(der, (size_t)dl, &ci) != 0)
		return die("certificate does not parse");
	printf("serial=%s not_before=%lld not_after=%lld uri=%s ca=%d\n", ci.serial,
	    (long long)ci.not_before, (long long)ci.not_after, ci.uri, ci.is_ca);
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned char csr[CSR_DER_MAX];
	char err[512], pem[PKI_PEM_MAX];
	struct csr_ident *id = NULL;
	struct pki_ca *ca = NULL;
	int created, rc = 1, n;
	long pl;

	if (argc >= 3 && strcmp(argv[1], "info") == 0)
		return cmd_info(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "csr") == 0) {
		if ((id = csr_new(err, sizeof(err))) == NULL)
			return die(err);
		n = csr_request_pem(id, argv[2], pem, sizeof(pem));
		rc = n < 0 || write_file(argv[3], pem, (size_t)n) != 0 ? die("cannot write CSR") : 0;
		csr_free(id);
		return rc;
	}
	if (argc < 3)
		return die("usage: pkitool ca|issue|sign|csr|info ...");
	ca = pki_ca_open(argv[2], argc > 3 && strcmp(argv[1], "ca") == 0 ? argv[3] : "test",
	    &created, err, sizeof(err));
	if (ca == NULL)
		return die(err);
	if (strcmp(argv[1], "ca") == 0) {
		printf("%s\n", created ? "created" : "loaded");
		rc = 0;
	} else if (strcmp(argv[1], "issue") == 0 && argc == 7) {
		if ((id = csr_new(err, sizeof(err))) == NULL ||
		    (n = csr_request(id, argv[4], csr, sizeof(csr))) < 0)
			rc = die("cannot make a CSR");
		else
			rc = cmd_issue(ca, argv + 3, csr, (size_t)n, id, argv[6]);
	} else if (strcmp(argv[1], "sign") == 0 && argc == 8) {
		if ((pl = read_file(argv[6], pem, sizeof(pem))) <= 0 ||
		    (n = wc_CertPemToDer((unsigned char *)pem, (int)pl, csr, sizeof(csr),
		    CERTREQ_TYPE)) <= 0)
			rc = die("cannot read the CSR");
		else
			rc = cmd_issue(ca, argv + 3, csr, (size_t)n, NULL, argv[7]);
	} else {
		rc = die("bad arguments");
	}
	csr_free(id);
	pki_ca_free(ca);
	return rc;
}
