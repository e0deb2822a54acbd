/* SPDX-License-Identifier: ISC */
/*
 * grpc: what the mesh says to a caller that speaks gRPC when it refuses a
 * request itself.  A gRPC client reads the outcome of a call from the
 * `grpc-status` and `grpc-message` of the response (PROTOCOL-HTTP2 of the
 * gRPC project: a "trailers-only" response, HTTP status 200), not from
 * the HTTP status; so each refusal of the mesh (an HTTP status and a
 * reason, as `mesh-error` says) has a gRPC status as well.
 *
 * The mapping follows gRPC's own table for HTTP statuses where it has
 * one, with the cases the mesh knows better: its 504 and 408 are
 * timeouts (DEADLINE_EXCEEDED), its 413 and 431 are limits
 * (RESOURCE_EXHAUSTED), its 501 is a method it does not carry
 * (UNIMPLEMENTED).
 */
#ifndef MESH_GRPC_H
#define MESH_GRPC_H

#include <stddef.h>
#include <stdint.h>

enum grpc_code {
	GRPC_OK = 0,
	GRPC_CANCELLED = 1,
	GRPC_UNKNOWN = 2,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_PERMISSION_DENIED = 7,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
	GRPC_UNAUTHENTICATED = 16,
};

/* Is this Content-Type value gRPC's ("application/grpc", alone or
 * followed by "+codec" or ";params"; case-insensitive)? */
int grpc_content_type(const char *v, size_t n);
/* The gRPC status of a refusal the mesh answers with HTTP status code. */
enum grpc_code grpc_status_of_http(int code);
/* msg as a grpc-message value: bytes outside 0x20..0x7e and '%' become
 * %XX.  Writes at most outsz - 1 bytes and a NUL, never cutting an
 * escape; returns the length written. */
size_t grpc_message_encode(char *out, size_t outsz, const char *msg);

/*
 * A grpc-timeout value (PROTOCOL-HTTP2: 1 to 8 ASCII digits and one unit,
 * H M S m u n; nothing else, no blank) into *ms.  A timeout under a
 * millisecond but above 0 rounds up to 1 ms, as any fraction does: the
 * caller's deadline is never cut shorter than asked.  0 is a valid value
 * (already expired).  0 ok, -1 malformed (*ms untouched).
 */
int grpc_timeout_parse(const char *v, size_t n, uint64_t *ms);
/* A grpc-status value: 1 or 2 ASCII digits.  The code (0..99: codes past
 * 16 are a peer's own and pass through), or -1 when malformed. */
int grpc_status_parse(const char *v, size_t n);

#endif
