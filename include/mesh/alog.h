/* SPDX-License-Identifier: ISC */
/*
 * alog: the sidecar's access log (`access_log = json | PATH`), one JSON
 * line per finished HTTP request, written without ever blocking the
 * request path.
 *
 * The line (keys always present, in this order; one line, '\n' ends it):
 *
 *   {"time":"2025-01-31T12:00:00.123456Z","service":"api","instance":"api@v1.0",
 *    "direction":"inbound","method":"GET","authority":"api","path":"/users?id=1",
 *    "status":200,"duration_us":1532,"upstream":"","retries":0,"flags":"-",
 *    "trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","bytes_in":0,"bytes_out":512,
 *    "grpc_status":null}
 *
 *   time       the request's start (span start_ns, CLOCK_REALTIME), RFC 3339
 *              UTC with microseconds
 *   direction  "inbound" (a caller -> this instance's app) or "outbound"
 *              (this instance's app -> a service)
 *   status     the status sent downstream, 0 when none was (aborted)
 *   upstream   the instance that served an outbound request,
 *              "<version>.<index>"; "" for none and for inbound requests
 *   flags      the span's STATS_SF_* response flags as Envoy names them,
 *              comma-separated in the order UH,UF,UO,UT,NR,UR; "-" for none
 *   trace_id   32 lower-case hex digits, "" when the id is all zero
 *   bytes_in / bytes_out   body bytes of the request / of the response
 *   grpc_status  a gRPC call's grpc-status (0..16, obs_grpc()); null when
 *              the exchange was no gRPC call
 *
 * Strings come from fixed-size span fields (truncated there, never here).
 * Escaping: '"' and '\' are escaped; \n \r \t as such; other bytes below
 * 0x20 and 0x7f as \u00XX.  Valid UTF-8 passes through as it is; every
 * byte that is not part of a valid UTF-8 sequence (overlong forms,
 * surrogates and code points past U+10FFFF included) becomes \ufffd, so a
 * line is always valid JSON and valid UTF-8 whatever a client sent.
 *
 * Buffering.  alog_request() formats the line on the stack and copies it
 * into one buffer of ALOG_BUF_SIZE bytes allocated by alog_open(); a libev
 * ev_io watcher writes it out when the target is writable, with
 * non-blocking write(2)s that each end on a line boundary (and, on a
 * pipe, hold at most PIPE_BUF bytes, so a line is never split or
 * interleaved with another writer's).  When the buffer has no room for a
 * line, the line is dropped and counted (alog_dropped()); a write error
 * other than EAGAIN drops what is buffered (counted too) and is logged
 * once until a write succeeds again.  No allocation per request.
 *
 * Targets.
 *   ALOG_FILE  a path, opened O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, 0640;
 *              several sidecars may share it (O_APPEND, whole lines per
 *              write).  alog_reopen() opens it again (log rotation).
 *              A regular file is always "writable": a slow disk can still
 *              stall a write, as for any log file.
 *   ALOG_FD    an fd the caller keeps (the sidecar's stdout, a pipe meshd
 *              reads: `access_log = json`).  alog writes to its own
 *              non-blocking description of it (reopened through
 *              /proc/self/fd, so O_NONBLOCK does not leak to whoever
 *              shares the caller's; if that fails, a dup with O_NONBLOCK).
 *
 * One access log per process (module state, like stats).  Single-threaded:
 * call everything from the loop's thread.
 */
#ifndef MESH_ALOG_H
#define MESH_ALOG_H

#include <stddef.h>
#include <stdint.h>
#include <ev.h>

#include "mesh/stats.h"

#define ALOG_BUF_SIZE  65536u
#define ALOG_LINE_MAX  4096u   /* a line and its '\n' (worst case ~2.7 KiB) */
#define ALOG_PATH_MAX  4096u   /* PATH_MAX */

enum alog_target { ALOG_OFF = 0, ALOG_FD, ALOG_FILE };

/*
 * Start the access log on loop: ALOG_FILE opens path (fd unused), ALOG_FD
 * writes to fd (path unused), ALOG_OFF is alog_close().  Opening the same
 * target again is a no-op; a different one closes the first (its pending
 * lines get one last non-blocking write).  0, or -1 with the reason in err
 * naming the path (the access log is then off).
 */
int  alog_open(struct ev_loop *loop, enum alog_target target, const char *path, int fd,
               char *err, size_t errlen);
/* Flush what one non-blocking write takes, count the rest as dropped,
 * stop the watcher, close, free the buffer.  A no-op when off. */
void alog_close(void);
/* ALOG_FILE: open the path again and write there from now on (pending
 * lines included).  0; -1 (logged, naming the path) keeps the old file.
 * A no-op returning 0 for the other targets. */
int  alog_reopen(void);
/* The current target (ALOG_OFF when not open). */
enum alog_target alog_target(void);

/*
 * One finished request: s is the span record the sidecar built for it
 * (kind, trace ids, start, duration, status, retries, flags, names,
 * method, authority, path); dir says inbound or outbound; the body byte
 * counts are not in the span.  Queues the line, never blocks, never fails
 * (a line that does not fit is counted in alog_dropped()).  A no-op when
 * off.
 */
void alog_request(const struct stats_span_rec *s, enum stats_dir dir,
                  uint64_t bytes_in, uint64_t bytes_out);

/* Lines dropped since the process started (buffer full, write errors,
 * close with lines pending). */
uint64_t alog_dropped(void);
/* Bytes queued and not yet written (tests, status). */
size_t   alog_pending(void);

/*
 * The line alone (pure; the '\n' included, no NUL needed): its length,
 * or 0 when it does not fit in size bytes (never with ALOG_LINE_MAX).
 */
size_t alog_format(char *out, size_t size, const struct stats_span_rec *s,
                   enum stats_dir dir, uint64_t bytes_in, uint64_t bytes_out);

#endif
