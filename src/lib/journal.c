/* SPDX-License-Identifier: ISC */
/*
 * journal: journald's native protocol (include/mesh/journal.h).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mesh/journal.h"

static int         journal_fd = -1;
static const char *journal_path = JOURNAL_SOCKET;

void
journal_set_socket(const char *path)
{
	journal_path = path != NULL ? path : JOURNAL_SOCKET;
}

/* Append one field; -1 when the datagram would be too large. */
static int
journal_field(char *d, size_t *len, const char *f, size_t flen)
{
	const char *eq = memchr(f, '=', flen);
	size_t name, vlen;
	uint64_t le;
	int i;

	if (eq == NULL || eq == f)
		return 0;   /* not a field: sd_journal_sendv refuses it too; skip */
	name = (size_t)(eq - f);
	vlen = flen - name - 1;
	if (memchr(eq + 1, '\n', vlen) == NULL) {
		if (*len + flen + 1 > JOURNAL_DGRAM_MAX)
			return -1;
		memcpy(d + *len, f, flen);
		*len += flen;
		d[(*len)++] = '\n';
		return 0;
	}
	if (*len + name + 1 + 8 + vlen + 1 > JOURNAL_DGRAM_MAX)
		return -1;
	memcpy(d + *len, f, name);
	*len += name;
	d[(*len)++] = '\n';
	for (i = 0, le = vlen; i < 8; i++, le >>= 8)
		d[(*len)++] = (char)(le & 0xff);
	memcpy(d + *len, eq + 1, vlen);
	*len += vlen;
	d[(*len)++] = '\n';
	return 0;
}

int
journal_sendv(const struct iovec *iov, int n)
{
	char d[JOURNAL_DGRAM_MAX];
	struct sockaddr_un sa;
	size_t len = 0;
	int i;

	for (i = 0; i < n; i++)
		if (journal_field(d, &len, iov[i].iov_base, iov[i].iov_len) == -1)
			return -EMSGSIZE;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(journal_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, journal_path);
	if (journal_fd == -1 &&
	    (journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -errno;
	if (sendto(journal_fd, d, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		return -errno;
	return 0;
}
