/* SPDX-License-Identifier: ISC */
/*
 * pki_join: a joined host's CA — an intermediate (host.key, host.crt)
 * under the mesh's root (root.crt), loaded and checked.  The layout is in
 * include/mesh/pki.h; `meshctl join` writes it, this only reads it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pki_int.h"

#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn.h>

#define PKI_JOIN_FILE_MAX  16384

int
pki_joined(const char *dir)
{
	char path[4096];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", dir, PKI_HOST_CRT_FILE) >= (int)sizeof(path))
		return 0;
	return lstat(path, &st) == 0;
}

int
pki_ca_is_inter(const struct pki_ca *ca)
{
	return ca != NULL && ca->root != NULL;
}

const unsigned char *
pki_ca_root_der(const struct pki_ca *ca, size_t *len)
{
	if (ca->root == NULL)
		return pki_ca_der(ca, len);
	*len = ca->rootlen;
	return ca->root;
}

const char *
pki_ca_root_pem(const struct pki_ca *ca, size_t *len)
{
	if (ca->root == NULL)
		return pki_ca_pem(ca, len);
	*len = ca->rootpemlen;
	return ca->rootpem;
}

/* The EC P-256 private key of host.key into ca->key.  0 or -1. */
static int
pki_join_key(struct pki_ca *ca, const char *dir, const char *pem, size_t len,
    char *err, size_t errlen)
{
	unsigned char der[512];
	word32 idx = 0;
	int n, rc = -1;

	n = wc_KeyPemToDer((const unsigned char *)pem, (int)len, der, sizeof(der), NULL);
	if (n <= 0 || wc_EccPrivateKeyDecode(der, &idx, &ca->key, (word32)n) != 0)
		pki_err(err, errlen, "%s/%s: not a PEM EC private key", dir, PKI_HOST_KEY_FILE);
	else if (wc_ecc_get_curve_id(ca->key.idx) != ECC_SECP256R1)
		pki_err(err, errlen, "%s/%s: the key is not on P-256", dir, PKI_HOST_KEY_FILE);
	else
		rc = 0;
	memset(der, 0, sizeof(der));
	return rc;
}

/* One PEM certificate file as DER, valid at now.  Its length or -1. */
static int
pki_join_cert(const char *dir, const char *name, const char *pem, size_t len, time_t now,
    unsigned char *der, size_t cap, struct pki_certinfo *ci, char *err, size_t errlen)
{
	char when[32];
	struct tm tm;
	int n = pki_pem_to_der(pem, len, der, cap);

	if (n <= 0 || pki_cert_info(der, (size_t)n, ci) != 0) {
		pki_err(err, errlen, "%s/%s: not a PEM certificate", dir, name);
		return -1;
	}
	if (!ci->is_ca) {
		pki_err(err, errlen, "%s/%s: not a CA certificate (basicConstraints CA:TRUE "
		    "needed)", dir, name);
		return -1;
	}
	if (ci->not_after <= now || ci->not_before > now + PKI_BACKDATE_SEC) {
		time_t t = ci->not_after <= now ? ci->not_after : ci->not_before;

		if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when),
		    "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			snprintf(when, sizeof(when), "%lld", (long long)t);
		pki_err(err, errlen, "%s/%s: %s %s; join the mesh again for a new one", dir, name,
		    ci->not_after <= now ? "expired on" : "not valid before", when);
		return -1;
	}
	return n;
}

/* 0 when inter is signed by root (and valid now). */
static int
pki_join_signed(const unsigned char *inter, size_t ilen, const unsigned char *root,
    size_t rlen)
{
	struct pki_bundle *b = calloc(1, sizeof(*b));
	char e[128];
	int rc = -1;

	if (b != NULL && pki_bundle_add(b, root, rlen, e, sizeof(e)) == 0 &&
	    pki_bundle_verify(b, inter, ilen) == 0)
		rc = 0;
	free(b);
	return rc;
}

/* Check and keep the three files' contents in ca.  0 or -1 with err. */
static int
pki_join_load(struct pki_ca *ca, const char *dir, const char *key, size_t kl,
    const char *crt, size_t cl, const char *root, size_t rl, char *err, size_t errlen)
{
	unsigned char ider[PKI_CERT_MAX], rder[PKI_CERT_MAX];
	struct pki_certinfo ici, rci;
	time_t now = time(NULL);
	int in, rn;

	if (pki_join_key(ca, dir, key, kl, err, errlen) == -1)
		return -1;
	rn = pki_join_cert(dir, PKI_ROOT_CRT_FILE, root, rl, now, rder, sizeof(rder), &rci,
	    err, errlen);
	if (rn < 0)
		return -1;
	in = pki_join_cert(dir, PKI_HOST_CRT_FILE, crt, cl, now, ider, sizeof(ider), &ici,
	    err, errlen);
	if (in < 0)
		return -1;
	if (pki_root_matches(ca, ider, (size_t)in) != 0) {
		pki_err(err, errlen, "%s/%s: does not hold the public key of %s/%s", dir,
		    PKI_HOST_CRT_FILE, dir, PKI_HOST_KEY_FILE);
		return -1;
	}
	if (in == rn && memcmp(ider, rder, (size_t)in) == 0) {
		pki_err(err, errlen, "%s/%s: is the root itself (the same as %s/%s); a joined "
		    "host holds an intermediate", dir, PKI_HOST_CRT_FILE, dir, PKI_ROOT_CRT_FILE);
		return -1;
	}
	if (pki_signing_ca(ider, (size_t)in) != 0) {
		pki_err(err, errlen, "%s/%s: not an intermediate CA (self-signed, or its "
		    "keyUsage lacks keyCertSign)", dir, PKI_HOST_CRT_FILE);
		return -1;
	}
	if (pki_join_signed(ider, (size_t)in, rder, (size_t)rn) != 0) {
		pki_err(err, errlen, "%s/%s: not signed by %s/%s (serial %s)", dir,
		    PKI_HOST_CRT_FILE, dir, PKI_ROOT_CRT_FILE, rci.serial);
		return -1;
	}
	if (pki_set_root(ca, ider, (size_t)in) == -1 || (ca->root = malloc((size_t)rn)) == NULL ||
	    (ca->rootpem = malloc(PKI_PEM_MAX)) == NULL) {
		pki_err(err, errlen, "%s: out of memory", dir);
		return -1;
	}
	memcpy(ca->root, rder, (size_t)rn);
	ca->rootlen = (size_t)rn;
	if ((rn = pki_der_to_pem(rder, ca->rootlen, ca->rootpem, PKI_PEM_MAX)) < 0) {
		pki_err(err, errlen, "%s/%s: cannot encode", dir, PKI_ROOT_CRT_FILE);
		return -1;
	}
	ca->rootpemlen = (size_t)rn;
	return 0;
}

struct pki_ca *
pki_ca_open_joined(const char *dir, char *err, size_t errlen)
{
	struct pki_ca *ca;
	char *key = NULL, *crt = NULL, *root = NULL;
	ssize_t kl, cl, rl, ol;
	int dirfd;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((ca = pki_ca_alloc(dir, err, errlen)) == NULL)
		return NULL;
	if ((dirfd = pki_dir_open(dir, 0, err, errlen)) < 0) {
		if (dirfd == -2)
			pki_err(err, errlen, "%s: no CA directory", dir);
		pki_ca_free(ca);
		return NULL;
	}
	key = malloc(PKI_JOIN_FILE_MAX);
	crt = malloc(PKI_JOIN_FILE_MAX);
	root = malloc(PKI_JOIN_FILE_MAX);
	if (key == NULL || crt == NULL || root == NULL) {
		pki_err(err, errlen, "%s: out of memory", dir);
		goto fail;
	}
	/* ca.key beside host.crt: two CAs, and no telling which is meant */
	if ((ol = pki_file_read(dirfd, dir, PKI_KEY_FILE, 1, key, PKI_JOIN_FILE_MAX, err,
	    errlen)) != 0) {
		if (ol > 0)
			pki_err(err, errlen, "%s/%s and %s/%s both exist: a joined host's CA is "
			    "%s + %s (an intermediate under %s); move %s and %s away", dir,
			    PKI_KEY_FILE, dir, PKI_HOST_CRT_FILE, PKI_HOST_KEY_FILE,
			    PKI_HOST_CRT_FILE, PKI_ROOT_CRT_FILE, PKI_KEY_FILE, PKI_CRT_FILE);
		goto fail;
	}
	if ((cl = pki_file_read(dirfd, dir, PKI_HOST_CRT_FILE, 0, crt, PKI_JOIN_FILE_MAX, err,
	    errlen)) < 0 ||
	    (kl = pki_file_read(dirfd, dir, PKI_HOST_KEY_FILE, 1, key, PKI_JOIN_FILE_MAX, err,
	    errlen)) < 0 ||
	    (rl = pki_file_read(dirfd, dir, PKI_ROOT_CRT_FILE, 0, root, PKI_JOIN_FILE_MAX, err,
	    errlen)) < 0)
		goto fail;
	if (cl == 0 || kl == 0 || rl == 0) {
		pki_err(err, errlen, "%s/%s: missing (a joined host needs %s, %s and %s, "
		    "written by meshctl join)", dir, cl == 0 ? PKI_HOST_CRT_FILE : kl == 0 ?
		    PKI_HOST_KEY_FILE : PKI_ROOT_CRT_FILE, PKI_HOST_KEY_FILE, PKI_HOST_CRT_FILE,
		    PKI_ROOT_CRT_FILE);
		goto fail;
	}
	if (pki_join_load(ca, dir, key, (size_t)kl, crt, (size_t)cl, root, (size_t)rl, err,
	    errlen) == -1)
		goto fail;
	memset(key, 0, PKI_JOIN_FILE_MAX);
	free(key);
	free(crt);
	free(root);
	close(dirfd);
	return ca;
fail:
	if (key != NULL)
		memset(key, 0, PKI_JOIN_FILE_MAX);
	free(key);
	free(crt);
	free(root);
	close(dirfd);
	pki_ca_free(ca);
	return NULL;
}
