/* SPDX-License-Identifier: ISC */
/*
 * jtok: joining a host to a mesh with a one-time token (issue 16) — the
 * token, its MAC, the root's tokens file and the two etcd messages.  No
 * CA key travels: the joining host makes its intermediate CA's key
 * itself and sends a CSR; the root signs it (mjoin.h, pki_issue_ca()).
 *
 * The token, printed once by `meshctl certs --join-token` on the root:
 *   meshtok1.<mesh name>.<id: 16 hex>.<secret: 64 hex>
 * (the mesh name may hold dots: the last two fields have fixed lengths).
 *
 * The tokens file <state_dir>/join-tokens (mode 0600), one token a line:
 *   <id hex> <secret hex> <expiry, Unix seconds> <0 | 1: used>
 * '#' lines and blank lines are ignored; at most JTOK_FILE_MAX tokens,
 * lines of at most JTOK_LINE_MAX bytes; anything else is an error naming
 * file:line.  Saving drops the expired tokens (a used one is kept until
 * it expires, so a second use says "already used").
 *
 * Keys, relative to /meshctl/<mesh>/:
 *   join/requests/<host>  {"id":ID,"host":HOST,"csr":PEM,"mac":HEX}
 *                         put by the joining host under its own lease
 *   join/certs/<host>     {"cert":PEM,"root":PEM,"mac":HEX} or {"error":WHY}
 *                         put by the root under its lease
 * A request's mac = hex HMAC-SHA256(secret, csr PEM bytes || "\n" || host);
 * an answer's mac = hex HMAC-SHA256(secret, cert PEM || "\n" || root PEM):
 * the joining host trusts no root that does not prove it knows the
 * secret (anyone who may write to etcd could answer otherwise).  An
 * error is not authenticated: it can only deny.
 */
#ifndef MESH_JTOK_H
#define MESH_JTOK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mesh/config.h"
#include "mesh/pki.h"

#define JTOK_PREFIX       "meshtok1."
#define JTOK_ID_LEN       8
#define JTOK_SECRET_LEN   32
#define JTOK_MAC_LEN      32
#define JTOK_TTL_DEFAULT  3600
#define JTOK_TTL_MAX      (24 * 3600)
#define JTOK_FILE         "join-tokens"
#define JTOK_FILE_MAX     64
#define JTOK_LINE_MAX     256
#define JTOK_STR_MAX      (sizeof(JTOK_PREFIX) + CONF_NAME_MAX + 2 * JTOK_ID_LEN + \
                           2 * JTOK_SECRET_LEN + 4)
#define JTOK_MSG_MAX      (3 * PKI_PEM_MAX + 512)   /* a request or an answer */
#define JTOK_REQ_DIR      "join/requests/"
#define JTOK_CERT_DIR     "join/certs/"

struct jtok {
	char          mesh[CONF_NAME_MAX];
	unsigned char id[JTOK_ID_LEN];
	unsigned char secret[JTOK_SECRET_LEN];
	int64_t       expiry;        /* Unix seconds (the file only) */
	int           used;          /* (the file only) */
};

struct jtok_set {
	struct jtok t[JTOK_FILE_MAX];
	size_t      n;
};

/* ---- jtok.c: the token, the MAC, the messages ------------------------ */

/* A fresh id and secret (wolfSSL's RNG).  0 or -1. */
int  jtok_new(struct jtok *t, const char *mesh, int64_t expiry);
/* The token string into out; its length or -1 when it does not fit. */
int  jtok_format(const struct jtok *t, char *out, size_t size);
/* Parse s; 0, or -1 with why in err. */
int  jtok_parse(const char *s, struct jtok *t, char *err, size_t errlen);
/* Lower-case hex of p[0..n) into out (2n + 1 bytes). */
void jtok_hex(const unsigned char *p, size_t n, char *out);
/* out[0..n) from exactly 2n hex digits of s[0..len); 0 or -1. */
int  jtok_unhex(const char *s, size_t len, unsigned char *out, size_t n);
/* HMAC-SHA256(secret, csr || "\n" || host) as hex (2 * JTOK_MAC_LEN + 1);
 * an answer's: csr = the cert PEM, host = the root PEM. */
int  jtok_mac(const unsigned char secret[JTOK_SECRET_LEN], const char *csr, size_t csrlen,
              const char *host, char *hex);
/* 1 when hex is the MAC of csr and host under secret (constant time). */
int  jtok_mac_ok(const unsigned char secret[JTOK_SECRET_LEN], const char *csr,
                 size_t csrlen, const char *host, const char *hex);

struct jtok_req {
	char id[2 * JTOK_ID_LEN + 1];
	char host[CONF_HOST_NAME_MAX];
	char csr[PKI_PEM_MAX];
	char mac[2 * JTOK_MAC_LEN + 1];
};

struct jtok_answer {
	char cert[PKI_PEM_MAX];   /* "" with error */
	char root[PKI_PEM_MAX];
	char error[256];          /* "" with cert */
	char mac[2 * JTOK_MAC_LEN + 1];   /* with cert */
};

/* Encode into out; the length or -1. */
int  jtok_req_encode(const struct jtok_req *r, char *out, size_t size);
int  jtok_answer_encode(const struct jtok_answer *a, char *out, size_t size);
/* Strictly (the members above, strings, in bounds); 0, or -1 with err. */
int  jtok_req_decode(const char *json, size_t len, struct jtok_req *r,
                     char *err, size_t errlen);
int  jtok_answer_decode(const char *json, size_t len, struct jtok_answer *a,
                        char *err, size_t errlen);

/* ---- jtok_file.c: <state_dir>/join-tokens --------------------------- */

/* Load path into s (missing: empty).  0, or -1 with "path:line: why". */
int  jtok_load(const char *path, struct jtok_set *s, char *err, size_t errlen);
/* Drop the tokens expired at now. */
void jtok_prune(struct jtok_set *s, int64_t now);
/* Prune, then replace path whole (temporary file 0600, fsync, rename).
 * 0, or -1 with err naming the file. */
int  jtok_save(const char *path, struct jtok_set *s, int64_t now, char *err, size_t errlen);
/* The token with this id, or NULL. */
struct jtok *jtok_find(struct jtok_set *s, const unsigned char id[JTOK_ID_LEN]);

#endif
