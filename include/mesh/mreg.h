/* SPDX-License-Identifier: ISC */
/*
 * mreg: meshd's side of the multi-host registry (issue 16), active only
 * with `registry = etcd` in [mesh].
 *
 * Key layout, relative to the etcd client's prefix /meshctl/<mesh name>/:
 *
 *   instances/<host_name>/<instance id>  = an instance record (below)
 *   overrides/<weight|fault|mirror>/<service> = a live override shared by
 *                                          every host (mreg_ovr.c)
 *   join/...   joining hosts (jtok.h), handed to mjoin.h on the root host
 *
 * This host puts one key per instance whose endpoint is up (svc.h: ready
 * and not draining) under its lease (etcd.h), and deletes it when the
 * endpoint goes down, when meshd starts stopping (all of them), and
 * revokes the lease when meshd ends (mreg_close()).  It watches the
 * prefix and keeps a table of the other hosts' instances (its own host's
 * keys are skipped), at most MREG_REMOTE_MAX; when etcd is unreachable
 * the last table stands.
 *
 * The record, one JSON object, every member required but weight:
 *   {"service":"api","version":"v1","index":0,"host":"a",
 *    "address":"10.0.0.5","port":15001,
 *    "spiffe":"spiffe://mesh.local/svc/api","weight":100,"protocol":"grpc"}
 * service and version as in mesh.ini, index 0..63, host the publisher's
 * host_name (the key's host segment must match), address its
 * host_address (IPv4), port the instance's sidecar inbound port, spiffe
 * the service's identity; weight (0..100) is optional and not published
 * yet; protocol (http, http2, grpc, tcp: the service's `protocol`) is
 * optional, http when absent.  A value that does not decode is logged once per key and
 * ignored.
 */
#ifndef MESH_MREG_H
#define MESH_MREG_H

#include <stddef.h>
#include <stdint.h>

#include "mesh/config.h"
#include "mesh/meshd_ctx.h"
#include "mesh/spiffe.h"

#define MREG_REMOTE_MAX  1024   /* other hosts' instances kept */
#define MREG_REC_MAX     1024   /* bytes of an encoded record */
#define MREG_INDEX_MAX   63
#define MREG_KEY_DIR     "instances/"

struct mreg_rec {
	char     service[CONF_NAME_MAX];
	char     version[CONF_VERSION_MAX];
	unsigned index;
	char     host[CONF_HOST_NAME_MAX];
	char     address[CONF_HOST_ADDR_MAX];
	uint16_t port;
	char     spiffe[SPIFFE_URI_MAX + 1];
	int      weight;          /* -1: not given */
	char     protocol[8];     /* "": not given (http); else as in mesh.ini */
};

/* ---- mreg_rec.c: the record's JSON, without the loop ---------------- */

/* rec as JSON into buf; its length, or -1 when it does not fit. */
int  mreg_rec_encode(const struct mreg_rec *rec, char *buf, size_t size);
/* Strictly: every required member once, of its type and bounds, nothing
 * else.  0, or -1 with why in err. */
int  mreg_rec_decode(const char *json, size_t len, struct mreg_rec *rec,
                     char *err, size_t errlen);
/* A record's protocol word as an enum conf_proto, or -1. */
int  mreg_proto(const char *s);
/* Split a relative key "instances/<host>/<id>"; 0, or -1 (not one).
 * host and id are NUL-terminated copies. */
int  mreg_key_split(const char *key, size_t len, char *host, size_t hsize,
                    char *id, size_t isize);

/* ---- mreg.c: the module --------------------------------------------- */

/* A remote instance, as the watch last saw it. */
struct mreg_remote {
	char            id[REG_ID_MAX];   /* the key's last segment */
	struct mreg_rec rec;
};

/*
 * With registry = etcd: the client on m->loop, m->mreg set.  0 (also when
 * there is no registry), or -1 with why in err.
 */
int  mreg_open(struct meshd *m, char *err, size_t errlen);
/* Publish / withdraw after an svc_update() (SVC_EV_CHANGED); with meshd
 * stopping, withdraw everything. */
void mreg_sync(struct meshd *m);
/* Revoke the lease and free, running the loop until the client is
 * closed (1 s at most, etcd.h).  After the main loop ended. */
void mreg_close(struct meshd *m);

/* For status: NULL unless registry = etcd. */
const struct mreg *mreg_get(const struct meshd *m);
/* "connecting", "up", "down", "closed". */
const char *mreg_state(const struct mreg *r);
/* The client's latest failure while not up ("" when up or none). */
const char *mreg_reason(const struct mreg *r);
/* The other hosts' instances, sorted by service, version, host, index. */
const struct mreg_remote *mreg_remotes(const struct mreg *r, size_t *n);
/* How many of this host's instances are published. */
size_t mreg_published(const struct mreg *r);

/* The etcd client while it takes requests (not closing); NULL without a
 * registry. */
struct etcd *mreg_client(const struct meshd *m);

/* ---- mreg_ovr.c: weight, fault, mirror shared by every host ------------ */

#define MREG_OVR_DIR      "overrides/"
#define MREG_OVR_LINE_MAX 1024

enum mreg_ovr { MREG_OVR_WEIGHT, MREG_OVR_FAULT, MREG_OVR_MIRROR };

/* After `meshctl weight|fault|mirror` applied `line` on this host: put it
 * under overrides/<kind>/<service> for every host (no-op without a
 * registry). */
void mreg_ovr_publish(struct meshd *m, enum mreg_ovr kind, const char *service,
                      const char *line);
/* The same with "NAME off" for each of names ("a, b, c"). */
void mreg_ovr_publish_off(struct meshd *m, enum mreg_ovr kind, const char *names);
/* A put under overrides/ from the watch: applied here as the command
 * would, unless it is the line this host last applied or published. */
void mreg_ovr_event(struct meshd *m, const char *key, const char *value, size_t len);
void mreg_ovr_forget(void);
/* The value {"host":..,"line":..}: its length or -1; 0 or -1. */
int  mreg_ovr_encode(const char *host, const char *line, char *buf, size_t size);
int  mreg_ovr_decode(const char *json, size_t len, char *host, size_t hsize,
                     char *line, size_t lsize);

#endif
