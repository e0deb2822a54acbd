/* SPDX-License-Identifier: ISC */
/*
 * jtok_file: the root's tokens file, <state_dir>/join-tokens (jtok.h).
 * Small (JTOK_FILE_MAX lines): read whole, replaced whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/jtok.h"

/* One line "ID SECRET EXPIRY USED" into t; 0 or -1 with why. */
static int
jtok_line(char *line, struct jtok *t, const char **why)
{
	char *f[5], *save = NULL, *end;
	long long exp;
	size_t n = 0;

	memset(t, 0, sizeof(*t));
	/* a fifth field counts too: it makes the line wrong */
	for (f[n] = strtok_r(line, " \t", &save); f[n] != NULL && ++n < 5;
	    f[n] = strtok_r(NULL, " \t", &save))
		;
	if (n != 4) {
		*why = "want: ID SECRET EXPIRY USED";
		return -1;
	}
	if (jtok_unhex(f[0], strlen(f[0]), t->id, sizeof(t->id)) != 0) {
		*why = "the id is not 16 hex digits";
		return -1;
	}
	if (jtok_unhex(f[1], strlen(f[1]), t->secret, sizeof(t->secret)) != 0) {
		*why = "the secret is not 64 hex digits";
		return -1;
	}
	errno = 0;
	exp = strtoll(f[2], &end, 10);
	if (errno != 0 || end == f[2] || *end != '\0' || exp <= 0) {
		*why = "the expiry is not a positive number of seconds";
		return -1;
	}
	if (strcmp(f[3], "0") != 0 && strcmp(f[3], "1") != 0) {
		*why = "used must be 0 or 1";
		return -1;
	}
	t->expiry = exp;
	t->used = f[3][0] == '1';
	return 0;
}

int
jtok_load(const char *path, struct jtok_set *s, char *err, size_t errlen)
{
	char line[JTOK_LINE_MAX + 2];
	const char *why = NULL;
	unsigned lineno = 0;
	FILE *f;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);
		char *p = line;

		lineno++;
		if (n > JTOK_LINE_MAX || (n > 0 && line[n - 1] != '\n' && !feof(f))) {
			why = "line too long";
			goto bad;
		}
		line[strcspn(line, "\r\n")] = '\0';
		p += strspn(p, " \t");
		if (*p == '\0' || *p == '#')
			continue;
		if (s->n == JTOK_FILE_MAX) {
			why = "more than 64 tokens";
			goto bad;
		}
		if (jtok_line(p, &s->t[s->n], &why) != 0)
			goto bad;
		if (jtok_find(s, s->t[s->n].id) != NULL) {
			why = "this id is on an earlier line";
			goto bad;
		}
		s->n++;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
	goto out;
bad:
	snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
out:
	fclose(f);
	memset(line, 0, sizeof(line));
	if (rc != 0)
		memset(s, 0, sizeof(*s));
	return rc;
}

void
jtok_prune(struct jtok_set *s, int64_t now)
{
	size_t i, k = 0;

	for (i = 0; i < s->n; i++)
		if (s->t[i].expiry > now)
			s->t[k++] = s->t[i];
	memset(&s->t[k], 0, (s->n - k) * sizeof(s->t[0]));
	s->n = k;
}

struct jtok *
jtok_find(struct jtok_set *s, const unsigned char id[JTOK_ID_LEN])
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (memcmp(s->t[i].id, id, JTOK_ID_LEN) == 0)
			return &s->t[i];
	return NULL;
}

int
jtok_save(const char *path, struct jtok_set *s, int64_t now, char *err, size_t errlen)
{
	char tmp[4096], id[2 * JTOK_ID_LEN + 1], sec[2 * JTOK_SECRET_LEN + 1];
	FILE *f;
	size_t i;
	int fd, bad;

	jtok_prune(s, now);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1 ||
	    (f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	fprintf(f, "# meshctl join tokens: ID SECRET EXPIRY USED (meshd writes this file)\n");
	for (i = 0; i < s->n; i++) {
		jtok_hex(s->t[i].id, JTOK_ID_LEN, id);
		jtok_hex(s->t[i].secret, JTOK_SECRET_LEN, sec);
		fprintf(f, "%s %s %" PRId64 " %d\n", id, sec, s->t[i].expiry, s->t[i].used ? 1 : 0);
	}
	memset(sec, 0, sizeof(sec));
	bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
