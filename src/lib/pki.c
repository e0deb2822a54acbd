/* SPDX-License-Identifier: ISC */
/*
 * pki: the CA's files — create on first start, load and check afterwards.
 * Issuing leaves is in pki_issue.c; both share pki_int.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pki_int.h"

const struct pki_files pki_files_active = { PKI_KEY_FILE, PKI_CRT_FILE };
const struct pki_files pki_files_next = { PKI_NEXT_KEY_FILE, PKI_NEXT_CRT_FILE };

#define PKI_FILE_MAX   16384   /* a PEM key or certificate is ~1 KiB */

void
pki_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Open dir, creating it 0700 (if create; else -2 when missing); refuse one that others could write into
 * (they could swap the key or the certificate under us). */
int
pki_dir_open(const char *dir, int create, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (create && mkdir(dir, 0700) == -1 && errno != EEXIST) {
		pki_err(err, errlen, "%s: cannot create CA directory: %s", dir, strerror(errno));
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && !create && errno == ENOENT)
		return -2;
	if (fd == -1) {
		pki_err(err, errlen, "%s: cannot open CA directory: %s", dir, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		pki_err(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		pki_err(err, errlen, "%s: CA directory is owned by uid %u, not by us (uid %u)",
		    dir, (unsigned)st.st_uid, (unsigned)geteuid());
		goto fail;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		pki_err(err, errlen, "%s: CA directory mode %04o lets other users replace the CA; "
		    "run: chmod 700 %s", dir, (unsigned)(st.st_mode & 07777), dir);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Read a whole small file below dirfd.  The length, 0 if it does not
 * exist, -1 on error.  With must_be_private, refuse a file that anybody
 * but us may read: the check is on the open descriptor, so no rename can
 * slip another file in between. */
ssize_t
pki_file_read(int dirfd, const char *dir, const char *name, int must_be_private,
    char *buf, size_t cap, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n, got = 0;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		pki_err(err, errlen, "%s/%s: cannot open: %s", dir, name, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		pki_err(err, errlen, "%s/%s: %s", dir, name, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		pki_err(err, errlen, "%s/%s: not a regular file", dir, name);
		goto fail;
	}
	if (must_be_private && st.st_uid != geteuid()) {
		pki_err(err, errlen, "%s/%s: CA key is owned by uid %u, not by us (uid %u)",
		    dir, name, (unsigned)st.st_uid, (unsigned)geteuid());
		goto fail;
	}
	if (must_be_private && (st.st_mode & 077) != 0) {
		pki_err(err, errlen, "%s/%s: CA key has mode %04o and is readable by other users; "
		    "refusing to use it. Run: chmod 600 %s/%s (and consider the key compromised)",
		    dir, name, (unsigned)(st.st_mode & 07777), dir, name);
		goto fail;
	}
	if (st.st_size <= 0 || (size_t)st.st_size >= cap) {
		pki_err(err, errlen, "%s/%s: unexpected size %lld", dir, name, (long long)st.st_size);
		goto fail;
	}
	while ((size_t)got < cap - 1) {
		n = read(fd, buf + got, cap - 1 - (size_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			pki_err(err, errlen, "%s/%s: read: %s", dir, name, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		got += n;
	}
	buf[got] = '\0';
	close(fd);
	return got;
fail:
	close(fd);
	return -1;
}

/* Write name atomically: a temporary file with the final mode, fsync,
 * rename.  A crash leaves either no file or a whole one. */
int
pki_file_write(int dirfd, const char *dir, const char *name, mode_t mode,
    const void *data, size_t len, char *err, size_t errlen)
{
	char tmp[64];
	size_t off = 0;
	ssize_t n;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	(void)unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd == -1) {
		pki_err(err, errlen, "%s/%s: cannot create: %s", dir, tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) == -1)     /* the umask may have taken bits away; fine, but be exact */
		goto fail;
	while (off < len) {
		n = write(fd, (const char *)data + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) == -1)
		goto fail;
	return 0;
fail:
	pki_err(err, errlen, "%s/%s: cannot write: %s", dir, name, strerror(errno));
	if (fd != -1)
		close(fd);
	(void)unlinkat(dirfd, tmp, 0);
	return -1;
}

/* A new root: key, self-signed certificate, both written to disk. */
static int
pki_ca_create(struct pki_ca *ca, int dirfd, const char *dir, const struct pki_files *fn,
    const char *name, char *err, size_t errlen)
{
	unsigned char der[PKI_CERT_MAX], keyder[256];
	char keypem[1024];
	int n, kn, pn;

	if (wc_ecc_make_key_ex(&ca->rng, 32, &ca->key, ECC_SECP256R1) != 0) {
		pki_err(err, errlen, "%s: cannot generate the CA key", dir);
		return -1;
	}
	n = pki_make_root(ca, name, time(NULL), der, sizeof(der));
	if (n < 0) {
		pki_err(err, errlen, "%s: cannot make the root certificate (wolfSSL error %d)", dir, n);
		return -1;
	}
	if (pki_set_root(ca, der, (size_t)n) == -1) {
		pki_err(err, errlen, "%s: cannot encode the root certificate", dir);
		return -1;
	}
	kn = wc_EccKeyToDer(&ca->key, keyder, sizeof(keyder));
	pn = kn > 0 ? wc_DerToPem(keyder, (word32)kn, (byte *)keypem, sizeof(keypem) - 1,
	    ECC_PRIVATEKEY_TYPE) : -1;
	memset(keyder, 0, sizeof(keyder));
	if (pn <= 0) {
		pki_err(err, errlen, "%s: cannot encode the CA key", dir);
		return -1;
	}
	/* Key first: a crash between the two renames leaves a key without a
	 * certificate, which the next start reports instead of guessing. */
	n = pki_file_write(dirfd, dir, fn->key, 0600, keypem, (size_t)pn, err, errlen);
	memset(keypem, 0, sizeof(keypem));
	if (n == -1)
		return -1;
	return pki_file_write(dirfd, dir, fn->crt, 0644, ca->pem, ca->pemlen, err, errlen);
}

static int
pki_ca_load(struct pki_ca *ca, const char *dir, const struct pki_files *fn,
    const char *keypem, size_t keylen, const char *crtpem, size_t crtlen,
    char *err, size_t errlen)
{
	unsigned char keyder[512], der[PKI_CERT_MAX];
	word32 idx = 0;
	int kn, n;

	kn = wc_KeyPemToDer((const unsigned char *)keypem, (int)keylen, keyder, sizeof(keyder), NULL);
	if (kn <= 0 || wc_EccPrivateKeyDecode(keyder, &idx, &ca->key, (word32)kn) != 0) {
		memset(keyder, 0, sizeof(keyder));
		pki_err(err, errlen, "%s/%s: not a PEM EC private key", dir, fn->key);
		return -1;
	}
	memset(keyder, 0, sizeof(keyder));
	if (wc_ecc_get_curve_id(ca->key.idx) != ECC_SECP256R1) {
		pki_err(err, errlen, "%s/%s: CA key is not on P-256", dir, fn->key);
		return -1;
	}
	n = pki_pem_to_der(crtpem, crtlen, der, sizeof(der));
	if (n <= 0) {
		pki_err(err, errlen, "%s/%s: not a PEM certificate", dir, fn->crt);
		return -1;
	}
	if (pki_root_matches(ca, der, (size_t)n) != 0) {
		pki_err(err, errlen, "%s/%s: not a CA certificate for %s/%s; remove both files "
		    "to create a new CA", dir, fn->crt, dir, fn->key);
		return -1;
	}
	if (pki_set_root(ca, der, (size_t)n) == -1) {
		pki_err(err, errlen, "%s/%s: cannot read the root certificate", dir, fn->crt);
		return -1;
	}
	return 0;
}

struct pki_ca *
pki_ca_alloc(const char *dir, char *err, size_t errlen)
{
	struct pki_ca *ca;

	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		pki_err(err, errlen, "%s: out of memory", dir);
		return NULL;
	}
	if (wc_InitRng(&ca->rng) != 0) {
		free(ca);
		pki_err(err, errlen, "%s: cannot seed the random generator", dir);
		return NULL;
	}
	ca->rng_ok = 1;
	if (wc_ecc_init(&ca->key) != 0) {
		pki_ca_free(ca);
		pki_err(err, errlen, "%s: cannot initialise a key", dir);
		return NULL;
	}
	ca->key_ok = 1;
	return ca;
}

struct pki_ca *
pki_ca_get(const char *dir, const struct pki_files *fn, const char *name, int may_create,
    int *created, char *err, size_t errlen)
{
	struct pki_ca *ca;
	char *keypem = NULL, *crtpem = NULL;
	ssize_t kl, cl;
	int dirfd;

	if (created != NULL)
		*created = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((ca = pki_ca_alloc(dir, err, errlen)) == NULL)
		return NULL;
	if ((dirfd = pki_dir_open(dir, may_create, err, errlen)) < 0)
		goto fail;
	keypem = malloc(PKI_FILE_MAX);
	crtpem = malloc(PKI_FILE_MAX);
	if (keypem == NULL || crtpem == NULL) {
		pki_err(err, errlen, "%s: out of memory", dir);
		goto fail_dir;
	}
	kl = pki_file_read(dirfd, dir, fn->key, 1, keypem, PKI_FILE_MAX, err, errlen);
	if (kl == -1)
		goto fail_dir;
	cl = pki_file_read(dirfd, dir, fn->crt, 0, crtpem, PKI_FILE_MAX, err, errlen);
	if (cl == -1)
		goto fail_dir;
	if (kl == 0 && cl == 0) {
		if (!may_create)
			goto fail_dir;     /* no CA yet: not an error */
		if (pki_ca_create(ca, dirfd, dir, fn, name, err, errlen) == -1)
			goto fail_dir;
		if (created != NULL)
			*created = 1;
	} else if (kl == 0 || cl == 0) {
		const char *have = kl ? fn->key : fn->crt;

		pki_err(err, errlen, "%s/%s exists but %s/%s does not; restore it, or remove "
		    "%s/%s to create a new CA", dir, have, dir, kl ? fn->crt : fn->key,
		    dir, have);
		goto fail_dir;
	} else if (pki_ca_load(ca, dir, fn, keypem, (size_t)kl, crtpem, (size_t)cl, err,
	    errlen) == -1) {
		goto fail_dir;
	}
	memset(keypem, 0, PKI_FILE_MAX);
	free(keypem);
	free(crtpem);
	close(dirfd);
	return ca;
fail_dir:
	close(dirfd);
fail:
	if (keypem != NULL)
		memset(keypem, 0, PKI_FILE_MAX);
	free(keypem);
	free(crtpem);
	pki_ca_free(ca);
	return NULL;
}

struct pki_ca *
pki_ca_open(const char *dir, const char *name, int *created, char *err, size_t errlen)
{
	struct pki_ca *ca = pki_ca_get(dir, &pki_files_active, name, 1, created, err, errlen);

	if (ca == NULL && err != NULL && errlen > 0 && err[0] == '\0')
		pki_err(err, errlen, "%s: cannot open the CA", dir);
	return ca;
}

int
pki_ca_check(const char *dir, struct pki_certinfo *root, char *err, size_t errlen)
{
	struct pki_ca *ca;
	char tmp[8];
	int rc;

	if (err == NULL || errlen == 0) {
		err = tmp;
		errlen = sizeof(tmp);
	}
	ca = pki_ca_get(dir, &pki_files_active, NULL, 0, NULL, err, errlen);

	if (ca == NULL)
		return err[0] != '\0' ? -1 : 0;
	rc = pki_cert_info(ca->der, ca->derlen, root) == 0 ? 1 : -1;
	if (rc == -1)
		pki_err(err, errlen, "%s: cannot read the root certificate", dir);
	pki_ca_free(ca);
	return rc;
}

void
pki_ca_free(struct pki_ca *ca)
{
	if (ca == NULL)
		return;
	if (ca->key_ok)
		wc_ecc_free(&ca->key);
	if (ca->rng_ok)
		wc_FreeRng(&ca->rng);
	free(ca->der);
	free(ca->pem);
	free(ca->root);
	free(ca->rootpem);
	memset(ca, 0, sizeof(*ca));
	free(ca);
}

const unsigned char *
pki_ca_der(const struct pki_ca *ca, size_t *len)
{
	*len = ca->derlen;
	return ca->der;
}

const char *
pki_ca_pem(const struct pki_ca *ca, size_t *len)
{
	*len = ca->pemlen;
	return ca->pem;
}

void
pki_trim(void)
{
#ifdef FP_ECC
	wc_ecc_fp_free();
#endif
	/* Hand what the handshakes freed back to the kernel: glibc returns
	 * every whole free page inside the heap, not only its top.  Without
	 * this, 1,000 connections opened at once left a sidecar holding the
	 * freed handshake memory of all of them (15.7 MB VmRSS, 7.3 after). */
	malloc_trim(0);
}
