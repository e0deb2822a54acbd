/* SPDX-License-Identifier: ISC */
/*
 * journal: structured entries to systemd-journald over its native
 * protocol, without libsystemd.
 *
 * Why not sd_journal_sendv(): libsystemd pulls six more libraries
 * (libgcrypt, libgpg-error, liblzma, libzstd, liblz4, libcap) into every
 * process; in a sidecar they were 0.7 MB of its 5 MB RSS, for one
 * sendmsg.  meshd still links libsystemd for sd_notify.
 *
 * The protocol (systemd's "Native Journal Protocol"): one datagram on the
 * AF_UNIX socket /run/systemd/journal/socket; each field is "NAME=value\n",
 * or, when the value holds a newline, "NAME\n" + the value's length as a
 * little-endian u64 + the value + "\n".  Every iovec is one "NAME=value"
 * field, as sd_journal_sendv() takes them.  The datagram is built in a
 * bounded stack buffer (JOURNAL_DGRAM_MAX): an entry that does not fit is
 * refused (-EMSGSIZE) and the caller logs to stderr instead.
 */
#ifndef MESH_JOURNAL_H
#define MESH_JOURNAL_H

#include <sys/uio.h>

#define JOURNAL_SOCKET    "/run/systemd/journal/socket"
#define JOURNAL_DGRAM_MAX 8192

/* 0, or a negative errno value (as sd_journal_sendv). */
int  journal_sendv(const struct iovec *iov, int n);
/* Tests: send to another socket path (NULL: the journal's). */
void journal_set_socket(const char *path);

#endif
