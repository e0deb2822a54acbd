/* SPDX-License-Identifier: ISC */
/*
 * pcfg: the sidecar's configuration, as meshd sends it (IPC_CONFIG) or as
 * a file for `mesh-proxy -c FILE` (tests, debugging).  Each keyword below
 * is one row of src/lib/pcfg_keys.c's table.
 *
 * A line-oriented text document; '#' starts a comment; fields are
 * separated by single spaces.  Addresses are IPv4 dotted quads (strict:
 * four decimal parts 0..255 without leading zeros, no names); a bare port
 * means 127.0.0.1.
 * meshd resends the whole document on every change; the proxy applies the
 * difference (listeners are opened once; endpoints and splits are swapped).
 *
 *   instance <service> <version> <index>     who this sidecar is (required, first)
 *   limit <key> <value>                      one per limit, keys below
 *   host <name>                              the host this sidecar runs on (optional;
 *                                            absent: every endpoint is local)
 *   inbound <port> <proto> <app_port> [bind=<IPv4>]
 *                                            mTLS/plain inbound listener on
 *                                            <IPv4>:<port> (absent: 127.0.0.1;
 *                                            not 0.0.0.0); forwards to
 *                                            127.0.0.1:<app_port> (proto
 *                                            http|tcp|http2|grpc: http2 and grpc
 *                                            apps listen for h2c)
 *   outbound <port>                          HTTP proxy listener (absolute-form and Host)
 *   listen <port> <service>                  NAME:PORT listener for upstream <service>
 *   service <name> <proto>                   a service this sidecar may call (proto
 *                                            as for inbound)
 *   endpoint <service> <version> <index> [<IPv4>:]<port> <state> [host=<name>]
 *                                            an instance's sidecar inbound
 *                                            address (no IPv4: 127.0.0.1; not
 *                                            0.x, multicast or broadcast);
 *                                            state: up | down; host: the host it
 *                                            runs on (absent: this sidecar's)
 *   split <service> <version>=<weight> ...   weights by version (absent: equal)
 *   trust_domain <domain>                    SPIFFE trust domain (mTLS between sidecars)
 *   allow <service> ...                      callers allowed in (absent: every identity
 *                                            of the trust domain); several lines add up
 *   policy <service> <key>=<value> ...       the route's traffic policy (below); at
 *                                            most one per service, after its `service`
 *   fault <service> <key>=<value> ...        faults to inject into requests to the
 *                                            service (struct pcfg_fault); at most one
 *                                            per service, after its `service`
 *   mirror <service> <version> <permille>    copy this share (1..1000 per mille) of
 *                                            the requests to the service to an
 *                                            endpoint of <version> (struct
 *                                            pcfg_mirror); at most one per service,
 *                                            after its `service`
 *   trace <permille>                         start a trace for this share (0..1000 per
 *                                            mille) of the requests that come with no
 *                                            trace context (absent: 0, never start one;
 *                                            a context that comes in still propagates)
 *   access_log json                          one JSON line per request on the sidecar's
 *                                            stdout, which meshd puts in its log
 *   access_log file <path>                   ... appended to <path> instead: absolute,
 *                                            shorter than PCFG_PATH_MAX bytes, with
 *                                            every byte below 0x21, 0x7f, '#' and '%'
 *                                            written %XX (upper-case hex); absent: no
 *                                            access log
 *   end                                      last line (a document without it is
 *                                            truncated and rejected)
 *
 * Locality: an endpoint whose host is set and differs from this
 * sidecar's `host` is remote; the balancer prefers local endpoints
 * (include/mesh/balance.h).  Host names are names (below).
 *
 * Order: `instance` first; `endpoint` and `split` after their `service`
 * line; every `listen` names a service that has a `service` line; at most
 * one host, one inbound, one outbound, one split per service, one
 * trust_domain (lower case [a-z0-9._-], 1..255 bytes), one trace, one
 * access_log; an `allow`
 * name is a service name and appears once.  Names and versions
 * are [A-Za-z0-9._-], shorter than PCFG_NAME_MAX; ports 1..65535; split
 * weights 0..100 with a nonzero sum (the proxy uses them as proportions).
 * meshd's instance ids (IPC_HELLO) are "<service>@<version>.<index>".
 *
 * limit keys (defaults in parentheses): header_bytes (16384), headers (100),
 * line_bytes (8192), header_timeout_ms (10000), idle_timeout_ms (60000),
 * connections (1024), connect_timeout_ms (1000).
 */
#ifndef MESH_PCFG_H
#define MESH_PCFG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PCFG_NAME_MAX 64
#define PCFG_TD_MAX   256   /* trust domain bytes + NUL (SPIFFE_TD_MAX + 1) */
#define PCFG_PATH_MAX 1280  /* access_log path bytes + NUL (%XX-encoded, it still
                             * fits a document line) */

/* http2 and grpc: the app speaks h2c with prior knowledge (issue 14) */
enum pcfg_proto { PCFG_HTTP, PCFG_TCP, PCFG_HTTP2, PCFG_GRPC };

/* 1 when the sidecar sees the protocol's requests one by one (http, http2,
 * grpc: routes, policy, faults, mirrors), 0 for tcp (an opaque stream). */
int  pcfg_proto_l7(enum pcfg_proto p);
/* The app speaks HTTP/2 (h2c): http2 and grpc (h2.h). */
int  pcfg_proto_h2(enum pcfg_proto p);
/* "http", "tcp", "http2", "grpc": the word of the document */
const char *pcfg_proto_name(enum pcfg_proto p);

enum pcfg_access { PCFG_ACCESS_OFF, PCFG_ACCESS_JSON, PCFG_ACCESS_FILE };

struct pcfg_limits {
	uint32_t header_bytes;
	uint32_t headers;
	uint32_t line_bytes;
	uint32_t header_timeout_ms;
	uint32_t idle_timeout_ms;
	uint32_t connections;
	uint32_t connect_timeout_ms;
};

struct pcfg;

struct pcfg_endpoint {
	char     version[PCFG_NAME_MAX];
	unsigned index;
	uint16_t port;
	int      up;
	uint32_t addr;                  /* IPv4, host byte order; 0 is 127.0.0.1 */
	char     host[PCFG_NAME_MAX];   /* "": this sidecar's host */
};

/* The endpoint's address (127.0.0.1 when e->addr is 0). */
uint32_t pcfg_endpoint_addr(const struct pcfg_endpoint *e);
/* Does the endpoint run on another host than the sidecar of c? (never
 * when c has no `host` line or e no host=) */
int      pcfg_endpoint_remote(const struct pcfg *c, const struct pcfg_endpoint *e);

struct pcfg_split {
	char     version[PCFG_NAME_MAX];
	unsigned weight;
};

enum pcfg_lb { PCFG_LB_EWMA, PCFG_LB_ROUND_ROBIN, PCFG_LB_LEAST_REQUEST };

/* retry_on bits */
#define PCFG_RETRY_CONNECT 0x1u   /* connect-failure */
#define PCFG_RETRY_RESET   0x2u   /* reset before any response byte */
/* gRPC: a response whose grpc-status is (retry_grpc_listed()) */
#define PCFG_RETRY_UNAVAILABLE        0x4u    /* unavailable: 14 */
#define PCFG_RETRY_RESOURCE_EXHAUSTED 0x8u    /* resource-exhausted: 8 */
#define PCFG_RETRY_CANCELLED          0x10u   /* cancelled: 1 */
#define PCFG_RETRY_DEADLINE_EXCEEDED  0x20u   /* deadline-exceeded: 4 */
#define PCFG_RETRY_INTERNAL           0x40u   /* internal: 13 */

/*
 * A route's traffic policy, from the `policy` line (all keys optional;
 * the defaults are [route.NAME]'s in mesh.ini(5)):
 *   policy <service> timeout_ms=N connect_timeout_ms=N retries=N
 *          retry_on=connect-failure,reset,unavailable,502,503 backoff_ms=BASE,CAP
 *          budget=PERCENT,PER_SEC lb=ewma|round-robin|least-request
 *          breaker_failures=N breaker_cooldown_ms=N max_pending=N
 *          outlier_failures=N outlier_ejection_ms=N retry_buffer=BYTES
 */
struct pcfg_policy {
	uint32_t     timeout_ms;          /* 0: none */
	uint32_t     connect_timeout_ms;  /* default 1000 */
	uint32_t     retries;             /* default 0 */
	unsigned     retry_on;            /* PCFG_RETRY_* bits; default CONNECT */
	uint16_t     retry_status[8];
	size_t       nretry_status;
	uint32_t     backoff_base_ms, backoff_cap_ms;   /* default 25, 250 */
	uint32_t     budget_percent;      /* default 20 */
	uint32_t     budget_per_sec;      /* default 10 */
	enum pcfg_lb lb;                  /* default ewma */
	uint32_t     breaker_failures;    /* default 5 */
	uint32_t     breaker_cooldown_ms; /* default 5000 */
	uint32_t     max_pending;         /* default 1024 */
	uint32_t     outlier_failures;    /* default 5 */
	uint32_t     outlier_ejection_ms; /* default 30000 */
	uint32_t     retry_buffer;        /* default 65536: body bytes kept for a retry */
};

void pcfg_policy_default(struct pcfg_policy *p);

/*
 * One `key=value` of a policy line into *p (src/lib/pcfg_policy.c).  0 ok;
 * -1 with the reason in why.  Bounds: timeout_ms 0..3600000 (0: none),
 * *_ms 1..3600000, retries 0..10, backoff_ms BASE,CAP with
 * 1 <= BASE <= CAP <= 60000, budget PERCENT,PER_SEC (0..100, 0..100000),
 * retry_on `none` or up to 8 status codes 400..599 besides the words
 * (connect-failure reset unavailable resource-exhausted cancelled
 * deadline-exceeded internal),
 * retry_buffer 0..1048576.
 */
int  pcfg_policy_set(struct pcfg_policy *p, const char *kv, char *why, size_t whylen);
/* "policy <service> ..." with only the keys that differ from the
 * defaults, and a newline; nothing at all when every key is a default. */
void pcfg_policy_format(FILE *fp, const char *service, const struct pcfg_policy *p);
const char *pcfg_policy_lb_name(enum pcfg_lb lb);

/*
 * The faults this sidecar injects into its requests to a service (the
 * route's fault.* keys, mesh.ini(5)), from the `fault` line:
 *   fault <service> delay=PERMILLE,MS abort=PERMILLE,STATUS
 *         match=HEADER:VALUE version=VERSION
 * every key optional; shares in tenths of a percent (0..1000, 0: never),
 * MS 1..3600000, STATUS 200..599, HEADER an HTTP token shorter than
 * PCFG_FAULT_HEADER_MAX, VALUE visible bytes but '#', shorter than
 * PCFG_FAULT_VALUE_MAX.  One struct a service, replaced whole with every
 * document: a live command (meshctl fault) sets the same struct through
 * the document meshd resends.
 */
#define PCFG_FAULT_HEADER_MAX 64
#define PCFG_FAULT_VALUE_MAX  128

struct pcfg_fault {
	uint32_t delay_permille;                   /* 0: no delay */
	uint32_t delay_ms;
	uint32_t abort_permille;                   /* 0: no abort */
	uint32_t abort_status;
	char     match_header[PCFG_FAULT_HEADER_MAX]; /* "": every request */
	char     match_value[PCFG_FAULT_VALUE_MAX];
	char     version[PCFG_NAME_MAX];           /* "": every version */
};

/* One `key=value` of a fault line into *f (src/lib/pcfg_fault.c): 0, or
 * -1 with the reason in why. */
int  pcfg_fault_set(struct pcfg_fault *f, const char *kv, char *why, size_t whylen);
/* "fault <service> ..." and a newline; nothing when f injects nothing. */
void pcfg_fault_format(FILE *fp, const char *service, const struct pcfg_fault *f);
/* Does f inject anything at all? */
int  pcfg_fault_active(const struct pcfg_fault *f);

/*
 * The mirror of the requests to a service (the route's `mirror` key,
 * mesh.ini(5)), from the `mirror` line: fire-and-forget copies of
 * `permille` of them go to an endpoint of `version` of the same service
 * (src/proxy/mirror.c).  A document never carries a mirror of 0 per
 * mille: no line is no mirror.
 */
struct pcfg_mirror {
	char     version[PCFG_NAME_MAX];   /* "": no mirror */
	uint32_t permille;                 /* 1..1000 */
};

struct pcfg_service {
	char                  name[PCFG_NAME_MAX];
	enum pcfg_proto       proto;
	struct pcfg_endpoint *endpoints;
	size_t                nendpoints;
	struct pcfg_split    *splits;
	size_t                nsplits;
	struct pcfg_policy    policy;     /* defaults unless a `policy` line says otherwise */
	int                   has_policy; /* a `policy` line was read (at most one) */
	struct pcfg_fault     fault;      /* all 0 unless a `fault` line says otherwise */
	int                   has_fault;  /* a `fault` line was read (at most one) */
	struct pcfg_mirror    mirror;     /* all 0 unless a `mirror` line says otherwise */
};

struct pcfg_listen {
	uint16_t port;
	char     service[PCFG_NAME_MAX];
};

struct pcfg {
	char                service[PCFG_NAME_MAX];
	char                version[PCFG_NAME_MAX];
	unsigned            index;
	struct pcfg_limits  limits;
	char                host[PCFG_NAME_MAX];    /* "": no `host` line */
	/* inbound: port 0 when this instance serves nothing (a pure client) */
	uint16_t            inbound_port;
	uint32_t            inbound_bind;           /* IPv4, host order; 0: 127.0.0.1 */
	enum pcfg_proto     inbound_proto;
	uint16_t            app_port;
	uint16_t            outbound_port;          /* 0: none */
	struct pcfg_listen *listens;
	size_t              nlistens;
	struct pcfg_service *services;
	size_t              nservices;
	/* mTLS: "" when the document has no trust_domain line (`-c FILE`
	 * debugging: the sidecar then speaks plain TCP between sidecars) */
	char                trust_domain[PCFG_TD_MAX];
	/* `allow` lines, concatenated; nallow == 0: every identity of the
	 * trust domain may call this instance */
	char              (*allow)[PCFG_NAME_MAX];
	size_t              nallow;
	/* observability: `trace` (0: never start a trace) and `access_log` */
	unsigned            trace_permille;
	enum pcfg_access    access_log;
	char                access_log_path[PCFG_PATH_MAX];  /* PCFG_ACCESS_FILE: absolute */
};

void pcfg_limits_default(struct pcfg_limits *l);

/*
 * Parse a document.  0 on success; -1 with a message "line N: ..." in
 * err (errlen bytes) on the first error.  On failure *out is left empty.
 */
int  pcfg_parse(const char *text, size_t len, struct pcfg *out, char *err, size_t errlen);
void pcfg_free(struct pcfg *c);
const struct pcfg_service *pcfg_service_find(const struct pcfg *c, const char *name, size_t len);

/*
 * Write `c` as a document (every limit, then host, inbound, outbound,
 * trust_domain, allow, trace and access_log when set, listens, services
 * with their endpoints, split and policy, then "end").  An endpoint or a
 * bind= on 127.0.0.1 (or 0) is written in the short form (no address).  *out is malloc'd
 * (NUL-terminated, *len bytes without the NUL).  0 ok, -1 out of memory.
 * pcfg_parse(pcfg_format(c)) gives back c.
 */
int  pcfg_format(const struct pcfg *c, char **out, size_t *len);

#endif
