/* SPDX-License-Identifier: ISC */
/*
 * etcd_int: the pieces of the etcd client (etcd.h), one file each:
 *   etcd_url.c    the endpoint list (src/lib, mesh/etcd_url.h)
 *   etcd_frame.c  a response body (Content-Length or chunked) into JSON objects
 *   etcd_json.c   request bodies, responses, base64
 *   etcd_http.c   one HTTP/1.1 exchange on the loop (a unary call or a stream)
 *   etcd_tls.c    wolfSSL for https:// endpoints
 *   etcd.c        the client: lease, own keys, watch, failover
 */
#ifndef MESH_ETCD_INT_H
#define MESH_ETCD_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <ev.h>

#include "mesh/etcd.h"
#include "mesh/etcd_url.h"
#include "mesh/json_scan.h"

/* ---- etcd_url.c: include/mesh/etcd_url.h (libmesh: config checks it too) */

/* ---- etcd_frame.c -------------------------------------------------- */

/*
 * A response body cut into its top-level JSON objects ({...}{...} with
 * whitespace between, as the gateway streams them), whatever the read
 * boundaries, through Content-Length or chunked framing.
 */
typedef int etcd_frame_fn(void *arg, const char *json, size_t len);   /* !0: stop */

struct etcd_frame {
	int      chunked;      /* private */
	uint64_t left;         /* private: body (length) or chunk bytes left */
	int      cst;          /* private: chunk parser state */
	uint32_t line;         /* private: size line bytes */
	char    *obj;          /* private: the object being gathered */
	size_t   len, cap, max;/* private */
	int      depth, instr, esc;  /* private */
	int      done;         /* ro: the body ended */
	const char *err;       /* ro: on -1, static string */
};

/* chunked, else content_length bytes; max: the largest object. */
void etcd_frame_init(struct etcd_frame *f, int chunked, uint64_t content_length,
                     size_t max);
void etcd_frame_free(struct etcd_frame *f);
/* Feed n body bytes; fn for each complete object.  1 when the body ended
 * (bytes after it are ignored), 0 for more, 2 when fn said stop (f is
 * then not to be fed again), -1 with f->err. */
int  etcd_frame_feed(struct etcd_frame *f, const char *p, size_t n,
                     etcd_frame_fn *fn, void *arg);

/* ---- etcd_json.c --------------------------------------------------- */

/* base64 (RFC 4648, padded) of p[0..n) into out, NUL-terminated; length
 * or -1 when it does not fit. */
int  etcd_json_b64enc(const void *p, size_t n, char *out, size_t size);
/* Decode s[0..n) into out[0..size); length, or -1 (bad input, too long). */
long etcd_json_b64dec(const char *s, size_t n, char *out, size_t size);
/* The end of a prefix range: prefix with its last byte plus one. */
size_t etcd_json_range_end(const char *prefix, size_t n, char *out);

/* Request bodies into out[0..size); length or -1 when it does not fit. */
int etcd_json_put(char *out, size_t size, const char *key, size_t klen,
                  const char *val, size_t vlen, int64_t lease);
int etcd_json_del(char *out, size_t size, const char *key, size_t klen);
int etcd_json_range(char *out, size_t size, const char *prefix, size_t plen,
                    unsigned limit);
int etcd_json_watch(char *out, size_t size, const char *prefix, size_t plen,
                    int64_t start_rev);
int etcd_json_grant(char *out, size_t size, unsigned ttl);
int etcd_json_lease(char *out, size_t size, int64_t id);   /* keepalive, revoke */

/* An int64 as the gateway writes it ("123" or 123); def when absent. */
int64_t etcd_json_i64(const struct json_doc *d, int tok, int64_t def);
/* A gateway error ({"error":..,"code":N}): code, message into msg; else 0. */
int etcd_json_error(const struct json_doc *d, char *msg, size_t size);

struct etcd_kv {
	const char *key;   size_t key_len;     /* decoded, full key */
	const char *value; size_t value_len;
	int64_t     mod_rev;
	int         del;                       /* a DELETE event */
};
/* Each kv of a range response's "kvs" (or a watch result's "events") to
 * fn, decoded into scratch (ETCD_KEY_MAX + ETCD_VALUE_MAX + 2 bytes).
 * 0, or -1 with why in err (bad base64, too long, fn said stop). */
typedef int etcd_json_kv_fn(void *arg, const struct etcd_kv *kv);
int etcd_json_kvs(const struct json_doc *d, int arr, int events, char *scratch,
                  etcd_json_kv_fn *fn, void *arg, char *err, size_t errlen);

/* ---- etcd_tls.c ---------------------------------------------------- */

struct etcd_tls;   /* a wolfSSL context for all https endpoints */
struct etcd_tls *etcd_tls_new(const char *ca, const char *cert, const char *key,
                              char *err, size_t errlen);
void  etcd_tls_free(struct etcd_tls *t);
/* A session on fd checking the name (or IP) host; NULL when out of memory. */
void *etcd_tls_session(struct etcd_tls *t, int fd, const char *host);
void  etcd_tls_session_free(void *s);
/* Non-blocking handshake: 1 done, 0 wants *events (EV_READ/EV_WRITE), -1 err. */
int   etcd_tls_handshake(void *s, int *events, char *err, size_t errlen);
/* Like read()/write(): bytes, 0 on EOF (read), -1 with errno EAGAIN (wants
 * *events) or another error (text in err). */
long  etcd_tls_read(void *s, void *buf, size_t n, int *events, char *err, size_t errlen);
long  etcd_tls_write(void *s, const void *buf, size_t n, int *events, char *err, size_t errlen);

/* ---- etcd_http.c --------------------------------------------------- */

struct etcd_http;
/* One JSON object of the response, with the response's status code. */
typedef void etcd_http_msg_fn(struct etcd_http *h, int status, const char *json,
                              size_t len);
/* The exchange ended: err NULL when the whole response was read. */
typedef void etcd_http_done_fn(struct etcd_http *h, const char *err);

enum etcd_http_state {
	ETCD_HTTP_IDLE, ETCD_HTTP_CONNECTING, ETCD_HTTP_HANDSHAKE,
	ETCD_HTTP_WRITING, ETCD_HTTP_READING, ETCD_HTTP_KEPT,
};

struct etcd_http {
	struct ev_loop *loop;          /* rw: set before use */
	struct etcd_tls *tls;          /* rw: for https endpoints */
	etcd_http_msg_fn  *msg;        /* rw */
	etcd_http_done_fn *done;       /* rw */
	void            *arg;          /* rw */
	const struct etcd_ep *ep;      /* ro */
	char             path[64];     /* ro: of the exchange, for messages */
	enum etcd_http_state state;    /* ro */
	unsigned         gen;          /* ro: bumped by every reset */
	int              fd;           /* private */
	void            *ssl;          /* private */
	ev_io            io;           /* private */
	ev_timer         timer;        /* private */
	int              stream;       /* private: no deadline after the first object */
	char            *req;          /* private */
	size_t           req_len, sent;/* private */
	char             head[8192];   /* private */
	size_t           head_len;     /* private */
	int              status, keep, got; /* private */
	struct etcd_frame fr;          /* private */
	char             err[512];     /* private */
};

void etcd_http_init(struct etcd_http *h, struct ev_loop *loop);
/* POST body to path on ep; stream: a response of many objects with no
 * deadline once the first came.  done is never called from inside. */
int  etcd_http_post(struct etcd_http *h, const struct etcd_ep *ep, const char *path,
                    const char *body, size_t len, int stream);
int  etcd_http_busy(const struct etcd_http *h);
/* Close the connection, no callback (may be called from msg()). */
void etcd_http_reset(struct etcd_http *h);
/* Reset, and free what the last response left. */
void etcd_http_free(struct etcd_http *h);

/* ---- the client's state (etcd.c, etcd_keys.c, etcd_watch.c) ---------- */

#define ETCD_BODY_MAX  ((ETCD_KEY_MAX + ETCD_VALUE_MAX) / 3 * 4 + 512)
#define ETCD_TOKENS_MAX (ETCD_WATCH_KEYS_MAX * 16u + 64u)

enum etcd_op { OP_NONE, OP_GRANT, OP_CHECK, OP_KEEPALIVE, OP_PUT, OP_DEL,
	OP_RANGE, OP_REVOKE };

struct etcd_key {
	char    *key;        /* relative, NUL-terminated */
	char    *val;        /* put only */
	size_t   vlen;
	int      dirty;      /* put: not yet acknowledged */
	int      kept;       /* put: without the lease (etcd_put_kept()) */
	unsigned seq;        /* put: bumped by every etcd_put() */
};

struct etcd {
	struct ev_loop  *loop;
	struct etcd_ep   eps[ETCD_ENDPOINTS_MAX];
	size_t           nep, cur;
	unsigned         fails;        /* failed attempts since the last UP */
	struct etcd_tls *tls;
	char             prefix[ETCD_KEY_MAX];
	size_t           plen;
	unsigned         ttl;
	etcd_state_fn   *on_state;
	etcd_event_fn   *on_event;
	void            *arg;

	enum etcd_state  state;        /* as reported */
	char             reason[768];
	int64_t          lease;        /* 0: none */
	int              checked;      /* the lease is known alive on this connection */
	int              ka_due;
	int64_t          rev;          /* last revision delivered; 0: snapshot needed */
	char             cluster[24];  /* etcd's cluster_id, as last seen */
	int              watching;
	int              closing;      /* etcd_close(c, 1): no callback but CLOSED */
	int              revoking;     /* ... and the revoke was sent */
	int              dead;         /* no callback at all; freed from the loop */
	int              depth;        /* callbacks of ours on the stack */

	struct etcd_http unary, watch;
	enum etcd_op     op;
	char             op_key[ETCD_KEY_MAX];
	unsigned         op_seq;
	int              op_ok;        /* the response was read and judged */
	char             op_err[384];

	struct etcd_key  own[ETCD_OWN_MAX];
	size_t           nown;
	struct etcd_key  dels[ETCD_OWN_MAX];
	size_t           ndel;

	ev_timer         retry;        /* backoff, and the first attempt */
	ev_timer         ka;           /* every ttl / 3 */
	ev_timer         end;          /* graceful close: the deadline; deferred free */
	char            *scratch;      /* decoded key and value */
	char            *body;         /* a request body */
};

/* etcd.c */
void etcd_deliver(struct etcd *c, enum etcd_ev_type type, const char *key, size_t klen,
                  const char *val, size_t vlen, int64_t rev);
void etcd_down(struct etcd *c, const char *why);
/* The next unary request, if any is wanted and none is in flight. */
void etcd_kick(struct etcd *c);
/* etcd_keys.c */
struct etcd_key *etcd_find(struct etcd_key *set, size_t n, const char *key);
void   etcd_drop(struct etcd_key *set, size_t *n, struct etcd_key *k);
/* prefix + key into out (ETCD_KEY_MAX); its length or 0 when too long. */
size_t etcd_full(const struct etcd *c, const char *key, char *out);
/* etcd_watch.c */
void etcd_cluster(struct etcd *c, const struct json_doc *d, const char *hdr);
void etcd_snapshot(struct etcd *c, const struct json_doc *d);
void etcd_start_watch(struct etcd *c);
void etcd_watch_msg(struct etcd_http *h, int status, const char *json, size_t len);
void etcd_watch_done(struct etcd_http *h, const char *err);

#endif
