/* SPDX-License-Identifier: ISC */
/*
 * etcd: a client of etcd 3.4's v3 JSON gateway on a libev loop (meshd's
 * registry, and `meshctl join`; src/lib/etcd*.c), never blocking it (the
 * only blocking call is resolving an endpoint's host name once, in
 * etcd_new(); a numeric address or "localhost" is not looked up).
 *
 * One client owns one key prefix (`/meshctl/<mesh>/`), one lease and one
 * watch of the prefix.  Keys the caller passes and receives are relative
 * to the prefix.
 *
 *   - etcd_put() records key = value as the client's own and puts it under
 *     the client's lease; the lease is kept alive every TTL/3.  etcd_del()
 *     forgets an own key and deletes it.  Both return at once: the client
 *     sends them when it is connected, in order, one request at a time.
 *   - The watch (when on_event is given) delivers first a snapshot (RESET,
 *     one PUT per key, SYNCED with the revision, all from one response and
 *     in one go), then PUT/DELETE events as they happen, in revision order.
 *     The client's own puts come back through the watch like any other.
 *
 * States (on_state is called on every change, with a reason for DOWN):
 *
 *   CONNECTING --lease granted or kept--> UP
 *   CONNECTING/UP --a request fails, times out, or the watch breaks--> DOWN
 *   DOWN --backoff--> CONNECTING (not reported: still DOWN to the caller
 *                                 until UP)
 *   any --etcd_close(c, 1)--> CLOSED (after the lease is revoked, or 1 s)
 *
 * DOWN is reported once per outage, with its first reason; etcd_reason()
 * has the latest failure while the client keeps trying.
 *
 * Reconnection: on a failure both connections are closed and the next
 * endpoint of the list is tried at once; after a whole round of failures
 * the client waits ETCD_BACKOFF_MIN_S, doubling up to ETCD_BACKOFF_MAX_S.
 * While DOWN the caller keeps its last view (nothing is delivered).  Back
 * UP, the client first asks whether its lease is still alive: if it is,
 * nothing else happens; if it expired, a new lease is granted and every
 * own key is put again.  The watch resumes from the last revision it
 * delivered; when etcd has compacted that revision away, or is another
 * store (a new cluster id, or behind that revision: restored from a
 * backup), a new snapshot (RESET ... SYNCED) is delivered instead.  Puts and deletes asked for
 * while DOWN are sent once UP (the latest value of each key wins).
 *
 * Bounds: ETCD_ENDPOINTS_MAX endpoints, ETCD_OWN_MAX own keys,
 * ETCD_KEY_MAX / ETCD_VALUE_MAX bytes per key / value, ETCD_WATCH_KEYS_MAX
 * keys in a snapshot (more is an error: DOWN), ETCD_RESP_MAX bytes in one
 * response (one JSON object of a stream; a snapshot is one response, so
 * the whole prefix must fit).  Every error message names the endpoint URL
 * and the request that failed ("http://10.0.0.5:2379: POST
 * /v3/lease/keepalive: no response within 3 s").
 *
 * Liveness: a stopped etcd that keeps its connections open is noticed by
 * the next keepalive's deadline (TTL/3 + ETCD_REQUEST_TIMEOUT_S at most);
 * the watch stream itself has no deadline once open.
 *
 * TLS (https:// endpoints) needs ca (the server's certificate is verified
 * against it and its name or IP); cert and key, when given, are the
 * client's certificate.
 */
#ifndef MESH_ETCD_H
#define MESH_ETCD_H

#include <stddef.h>
#include <stdint.h>
#include <ev.h>

#define ETCD_ENDPOINTS_MAX   8
#define ETCD_OWN_MAX         256
#define ETCD_KEY_MAX         512
#define ETCD_VALUE_MAX       (64 * 1024)
#define ETCD_WATCH_KEYS_MAX  4096
#define ETCD_RESP_MAX        (4 * 1024 * 1024)
#define ETCD_TTL_DEFAULT     10
#define ETCD_CONNECT_TIMEOUT_S 2.0
#define ETCD_REQUEST_TIMEOUT_S 3.0   /* connect to the end of a response */
#define ETCD_BACKOFF_MIN_S   0.5
#define ETCD_BACKOFF_MAX_S   5.0

enum etcd_state {
	ETCD_CONNECTING,   /* not yet UP since etcd_new() */
	ETCD_UP,           /* lease held, watch running */
	ETCD_DOWN,         /* no endpoint answers: the last view stands */
	ETCD_CLOSED,       /* after etcd_close(c, 1): the last call */
};

enum etcd_ev_type {
	ETCD_EV_RESET,     /* a snapshot follows: forget every key */
	ETCD_EV_PUT,       /* key = value (snapshot or live) */
	ETCD_EV_DELETE,    /* key is gone (deleted or its lease expired) */
	ETCD_EV_SYNCED,    /* the snapshot is complete as of revision */
};

struct etcd_event {
	enum etcd_ev_type type;
	const char *key;   size_t key_len;     /* relative to the prefix */
	const char *value; size_t value_len;   /* PUT only */
	int64_t     revision;                  /* mod revision; SYNCED: the store's */
};

struct etcd;

typedef void etcd_state_fn(void *arg, enum etcd_state st, const char *reason);
typedef void etcd_event_fn(void *arg, const struct etcd_event *ev);

struct etcd_config {
	const char    *endpoints;  /* "http://10.0.0.5:2379, https://..." */
	const char    *ca, *cert, *key;   /* PEM files; NULL: none */
	unsigned       ttl;        /* lease TTL, s; 0: ETCD_TTL_DEFAULT */
	const char    *prefix;     /* "/meshctl/<mesh>/" */
	etcd_state_fn *on_state;   /* may be NULL */
	etcd_event_fn *on_event;   /* NULL: no watch */
	void          *arg;
};

struct conf_mesh;
/* The [mesh] section's etcd keys (config.h) into cfg: endpoints, TLS
 * files, the lease TTL (registry_ttl) and the prefix /meshctl/<name>/,
 * written into prefix (size bytes); the callbacks are left unset. */
void etcd_config_mesh(struct etcd_config *cfg, const struct conf_mesh *cm,
                      char *prefix, size_t size);

/*
 * A client connecting at once (from the loop), or NULL with "why" in err
 * (a bad URL, an unresolvable host, an unreadable CA file).
 */
struct etcd *etcd_new(struct ev_loop *loop, const struct etcd_config *cfg,
                      char *err, size_t errlen);

/* Own key = value under the lease; 0, or -1 (too long, too many keys). */
int  etcd_put(struct etcd *c, const char *key, const char *value, size_t vlen);
/* The same without the lease: the key outlives this client (shared
 * settings); it is forgotten once etcd acknowledged it. */
int  etcd_put_kept(struct etcd *c, const char *key, const char *value, size_t vlen);
/* Forget own key and delete it in etcd (any key under the prefix). */
int  etcd_del(struct etcd *c, const char *key);

enum etcd_state etcd_state(const struct etcd *c);
/* The last failure ("" when none). */
const char *etcd_reason(const struct etcd *c);
/* The lease held (0: none yet). */
int64_t etcd_lease(const struct etcd *c);

/*
 * Stop.  graceful: revoke the lease first (its keys vanish at once), then
 * free and call on_state(CLOSED) from the loop; otherwise free now and
 * call nothing (etcd's lease then expires after TTL).  c is not to be
 * used after this call (it may be called from inside a callback).
 */
void etcd_close(struct etcd *c, int graceful);

#endif
