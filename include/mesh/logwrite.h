/* SPDX-License-Identifier: ISC */
/*
 * logwrite: meshd appends every line outlog shows to
 * <state_dir>/log/mesh.log, in logfile.h's format, for `meshctl logs`
 * after the fact (and after a `down`).
 *
 * The file is opened once (O_APPEND) and each line is one write(), so a
 * reader never sees half of one; lines are bounded (LOGFILE_LINE_MAX).
 * When a line would take the file past its cap, mesh.log is renamed to
 * mesh.log.1 (replacing the previous one) and a new mesh.log started:
 * at most about twice the cap on disk.  Under systemd the same lines go
 * to the journal as well (meshd's stdout); this file is written all the
 * same, so `meshctl logs` works there too.
 */
#ifndef MESH_LOGWRITE_H
#define MESH_LOGWRITE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Create <state_dir>/log (0700) and open mesh.log (0600) for appending.
 * cap: rotate past this many bytes (0: LOGFILE_CAP; tests pass less).
 * 0, or -1 with the path and the system error in err.
 */
int  logwrite_open(const char *state_dir, size_t cap, char *err, size_t errlen);
/* Append "TIME name | text"; a no-op while no file is open.  A write or
 * rotation that fails is reported once on stderr, then retried with the
 * next line. */
void logwrite_line(const char *name, const char *text, size_t len);
/* The same with the time given (Unix ms), for tests. */
void logwrite_line_at(int64_t ms, const char *name, const char *text, size_t len);
void logwrite_close(void);

#endif
