/* SPDX-License-Identifier: ISC */
/*
 * pki_roll: the files of a root rollover beside the active root — the new
 * root (next.key, next.crt), the state file, and the promotion that
 * retires the old root.  Layout and crash rules in include/mesh/pki.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pki_int.h"

static const char *const pki_roll_names[] = {
	[PKI_ROLL_NONE] = "none", [PKI_ROLL_TRUST] = "trust",
	[PKI_ROLL_SIGN] = "sign", [PKI_ROLL_RETIRE] = "retire",
};

struct pki_ca *
pki_ca_open_next(const char *dir, const char *name, int create, int *created,
    char *err, size_t errlen)
{
	return pki_ca_get(dir, &pki_files_next, name, create, created, err, errlen);
}

int
pki_roll_read(const char *dir, struct pki_roll *st, char *err, size_t errlen)
{
	char buf[512], word[16];
	long long since, deadline;
	ssize_t n;
	size_t i;
	int fd, used;

	memset(st, 0, sizeof(*st));
	if ((fd = pki_dir_open(dir, 0, err, errlen)) == -2)
		return 0;
	if (fd < 0)
		return -1;
	n = pki_file_read(fd, dir, PKI_ROLL_FILE, 0, buf, sizeof(buf), err, errlen);
	close(fd);
	if (n <= 0)
		return (int)n;
	if (sscanf(buf, "phase %15s\nsince %lld\ndeadline %lld\n%n", word, &since, &deadline,
	    &used) != 3 || (size_t)used != (size_t)n || since < 0 || deadline < 0) {
		pki_err(err, errlen, "%s/%s: not a rollover state (phase, since, deadline)",
		    dir, PKI_ROLL_FILE);
		return -1;
	}
	for (i = PKI_ROLL_TRUST; i <= PKI_ROLL_RETIRE; i++)
		if (strcmp(word, pki_roll_names[i]) == 0)
			break;
	if (i > PKI_ROLL_RETIRE) {
		pki_err(err, errlen, "%s/%s: unknown phase '%s'", dir, PKI_ROLL_FILE, word);
		return -1;
	}
	st->phase = (enum pki_roll_phase)i;
	st->since = (time_t)since;
	st->deadline = (time_t)deadline;
	return 1;
}

/* fsync the directory: a rename is durable only then. */
static void
pki_roll_sync(int dirfd)
{
	(void)fsync(dirfd);
}

int
pki_roll_write(const char *dir, const struct pki_roll *st, char *err, size_t errlen)
{
	char buf[256];
	int fd, n, rc;

	if ((fd = pki_dir_open(dir, 0, err, errlen)) < 0) {
		if (fd == -2)
			pki_err(err, errlen, "%s: no CA directory", dir);
		return -1;
	}
	if (st->phase == PKI_ROLL_NONE) {
		rc = unlinkat(fd, PKI_ROLL_FILE, 0) == -1 && errno != ENOENT ? -1 : 0;
		if (rc == -1)
			pki_err(err, errlen, "%s/%s: %s", dir, PKI_ROLL_FILE, strerror(errno));
	} else {
		n = snprintf(buf, sizeof(buf), "phase %s\nsince %lld\ndeadline %lld\n",
		    pki_roll_names[st->phase], (long long)st->since, (long long)st->deadline);
		rc = pki_file_write(fd, dir, PKI_ROLL_FILE, 0600, buf, (size_t)n, err, errlen);
	}
	if (rc == 0)
		pki_roll_sync(fd);
	close(fd);
	return rc;
}

int
pki_roll_discard(const char *dir, char *err, size_t errlen)
{
	int fd, rc = 0;

	if ((fd = pki_dir_open(dir, 0, err, errlen)) < 0)
		return fd == -2 ? 0 : -1;
	/* the certificate first: a key alone is reported, never half-used */
	if (unlinkat(fd, PKI_NEXT_CRT_FILE, 0) == -1 && errno != ENOENT)
		rc = -1;
	if (rc == 0 && unlinkat(fd, PKI_NEXT_KEY_FILE, 0) == -1 && errno != ENOENT)
		rc = -1;
	if (rc == -1)
		pki_err(err, errlen, "%s: cannot remove the new root: %s", dir, strerror(errno));
	else
		pki_roll_sync(fd);
	close(fd);
	return rc;
}

/* rename from -> to below dirfd; a missing `from` is a step already done. */
static int
pki_roll_rename(int dirfd, const char *dir, const char *from, const char *to,
    char *err, size_t errlen)
{
	if (renameat(dirfd, from, dirfd, to) == 0 || errno == ENOENT)
		return 0;
	pki_err(err, errlen, "%s: cannot rename %s to %s: %s", dir, from, to, strerror(errno));
	return -1;
}

int
pki_roll_promote(const char *dir, char *err, size_t errlen)
{
	struct pki_roll st = { PKI_ROLL_RETIRE, time(NULL), 0 };
	int fd, rc = -1;

	if (pki_roll_write(dir, &st, err, errlen) == -1)
		return -1;
	if ((fd = pki_dir_open(dir, 0, err, errlen)) < 0)
		return -1;
	/* ca.key stays the old key until the last rename: a crash in between
	 * leaves next.key, and pki_roll_recover() renames it */
	if (pki_roll_rename(fd, dir, PKI_NEXT_CRT_FILE, PKI_CRT_FILE, err, errlen) == 0 &&
	    pki_roll_rename(fd, dir, PKI_NEXT_KEY_FILE, PKI_KEY_FILE, err, errlen) == 0) {
		pki_roll_sync(fd);
		rc = 0;
	}
	close(fd);
	if (rc == 0) {
		st.phase = PKI_ROLL_NONE;
		rc = pki_roll_write(dir, &st, err, errlen);
	}
	return rc;
}

int
pki_roll_recover(const char *dir, struct pki_roll *st, char *err, size_t errlen)
{
	struct pki_ca *next;
	int r;

	if ((r = pki_roll_read(dir, st, err, errlen)) == -1)
		return -1;
	if (r == 1 && st->phase == PKI_ROLL_RETIRE) {
		memset(st, 0, sizeof(*st));
		return pki_roll_promote(dir, err, errlen);
	}
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	next = pki_ca_open_next(dir, NULL, 0, NULL, err, errlen);
	if (r == 0) {
		pki_ca_free(next);
		/* next.* without a state file: a start that did not finish;
		 * nobody was told to trust it */
		if (next != NULL || (err != NULL && err[0] != '\0'))
			return pki_roll_discard(dir, err, errlen);
		return 0;
	}
	if (next == NULL) {
		if (err != NULL && errlen > 0 && err[0] == '\0')
			pki_err(err, errlen, "%s/%s says phase %s, but %s/%s is missing; remove "
			    "%s/%s to go on with the active root alone", dir, PKI_ROLL_FILE,
			    pki_roll_names[st->phase], dir, PKI_NEXT_KEY_FILE, dir, PKI_ROLL_FILE);
		return -1;
	}
	pki_ca_free(next);
	return 0;
}
