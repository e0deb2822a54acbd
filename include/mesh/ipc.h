/* SPDX-License-Identifier: ISC */
/*
 * ipc: typed, framed, length-checked messages on the control socket
 * <state_dir>/run/meshd.sock (Unix stream).
 *
 * Frame: 8-byte header in network byte order, then `len` payload bytes.
 *   uint32 len    payload length, at most IPC_MAX_PAYLOAD
 *   uint16 type   enum ipc_type
 *   uint16 flags  0 (reserved; nonzero is an error)
 * Payloads are text (UTF-8, no NUL) unless a type says otherwise.
 * An unknown type, an oversize length or nonzero flags is a protocol
 * error: the receiver logs it and closes that connection, never crashes.
 */
#ifndef MESH_IPC_H
#define MESH_IPC_H

#include <stddef.h>
#include <stdint.h>

#define IPC_HDR_LEN      8
#define IPC_MAX_PAYLOAD  (1u << 20)
/* What a reader holds at most: one whole frame plus one 64 KiB read. */
#define IPC_READER_MAX   (IPC_HDR_LEN + IPC_MAX_PAYLOAD + 65536u)

enum ipc_type {
	/* mesh-proxy -> meshd */
	IPC_HELLO   = 1,  /* "proxy <instance-id> <pid>"  first message of a sidecar */
	IPC_READY   = 2,  /* "" : every listener is bound and serving */
	IPC_FAIL    = 3,  /* human message, e.g. "cannot listen on 127.0.0.1:5433: Address in use" */
	IPC_CSR     = 4,  /* PEM certificate request; meshd ignores every name in it */
	/* meshd -> mesh-proxy */
	IPC_CONFIG  = 10, /* a whole pcfg document (see pcfg.h); resent on every change */
	IPC_CERT    = 11, /* the issued leaf PEM then the CA certificate PEM;
	                     joined mode (pki.h): leaf, intermediate, root */
	IPC_CERT_FAIL = 12, /* why meshd refused to sign the last IPC_CSR */
	IPC_ROTATE  = 13, /* "" : renew the leaf now (meshctl certs --rotate) */
	IPC_BREAKER_RESET = 14, /* "SERVICE [VERSION.INDEX]": close those endpoints'
	                         * breakers now (meshctl breaker-reset, top's `b`) */
	/* meshctl -> meshd */
	IPC_CMD     = 20, /* "status" | "status --json" | "down" | "wait-ready" | "logs" | "ping" */
	/* meshd -> meshctl */
	IPC_REPLY   = 21, /* command output; the connection stays open for more */
	IPC_DONE    = 22, /* "<exit code>" : the command finished */
	IPC_LOGLINE = 23, /* one prefixed log line (for `logs` and `wait-ready`) */
	/* root rollover (meshctl certs --rotate-root, docs/trust.md) */
	IPC_TRUST   = 30, /* meshd -> mesh-proxy: the roots to trust, 1..PKI_BUNDLE_MAX
	                   * PEM certificates; replaces the previous bundle */
	IPC_IDENT   = 31, /* mesh-proxy -> meshd: "leaf <serial>|- roots <serial>..."
	                   * what it presents and trusts, after every change */
};

int ipc_type_known(uint16_t type);

/* Write a whole frame to a blocking fd.  0 on success, -1 with errno. */
int ipc_send(int fd, uint16_t type, const void *payload, size_t len);

/* Encode a header into out[IPC_HDR_LEN]. */
void ipc_hdr_encode(unsigned char *out, uint16_t type, uint32_t len);

/*
 * Incremental reader for non-blocking sockets.  Feed it what read()
 * returned; take whole messages out with ipc_reader_next().
 */
struct ipc_reader {
	unsigned char *buf;   /* private */
	size_t         len;   /* private: bytes held */
	size_t         cap;   /* private */
	size_t         off;   /* private: start of the next unread frame */
};

void ipc_reader_init(struct ipc_reader *r);
void ipc_reader_free(struct ipc_reader *r);
/* Bytes held that no whole message took yet (a frame begun). */
size_t ipc_reader_held(const struct ipc_reader *r);
/* Append bytes (take every ready message out before feeding more).
 * -1 if the unread bytes would exceed IPC_READER_MAX. */
int  ipc_reader_feed(struct ipc_reader *r, const void *data, size_t len);
/*
 * 1: a message is ready; *type, *payload (NUL-terminated, valid until the
 *    next feed or next call), *len set.
 * 0: need more bytes.
 * -1: protocol error (unknown type, oversize, flags); *err names it.
 */
int  ipc_reader_next(struct ipc_reader *r, uint16_t *type, char **payload,
                     size_t *len, const char **err);

/* Blocking helper for clients: read one whole frame (payload malloc'd,
 * NUL-terminated).  0 ok, -1 error or EOF. */
int ipc_recv(int fd, uint16_t *type, char **payload, size_t *len);

/*
 * The IPC_IDENT payload (src/lib/ipc_ident.c): "leaf SERIAL roots
 * SERIAL...", words separated by blanks; SERIAL is 2..64 lower-case hex
 * digits (a pki_certinfo serial); the leaf's may be "-" (none yet); 0 to
 * IPC_IDENT_ROOTS_MAX (PKI_BUNDLE_MAX) roots.
 */
#define IPC_IDENT_SERIAL_MAX 65   /* 64 hex digits and the NUL */
#define IPC_IDENT_ROOTS_MAX  4

struct ipc_ident {
	char   leaf[IPC_IDENT_SERIAL_MAX];    /* "": "-", no leaf */
	char   roots[IPC_IDENT_ROOTS_MAX][IPC_IDENT_SERIAL_MAX];
	size_t nroots;
};

/* p[0..len) (no NUL needed) into *out.  0, or -1 if malformed (*out
 * untouched). */
int ipc_ident_parse(const char *p, size_t len, struct ipc_ident *out);

#endif
