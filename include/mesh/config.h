/* SPDX-License-Identifier: ISC */
/*
 * config: mesh.ini, as mesh.ini(5) defines it.
 *
 * Parsed with inih through ini_parse_stream() and a reader of our own that
 * counts lines and rejects lines over CONF_LINE_MAX, so no line is silently
 * truncated.  Every key is a row in one table (name, type, bounds, default,
 * target field).  Every error is collected, never only the first, each as
 * "FILE:LINE: message".  ${VAR} and ${VAR:-default} expand from the
 * environment before a value is interpreted.
 */
#ifndef MESH_CONFIG_H
#define MESH_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONF_LINE_MAX   1024
#define CONF_NAME_MAX   64     /* service names: [a-z0-9][a-z0-9-]{0,62} */
#define CONF_VERSION_MAX 32
#define CONF_VALUE_MAX  4096   /* a value after ${VAR} expansion */

/* http2 and grpc: the app listens for h2c with prior knowledge (issue 14) */
enum conf_proto   { CONF_PROTO_HTTP, CONF_PROTO_TCP, CONF_PROTO_HTTP2, CONF_PROTO_GRPC };
enum conf_restart { CONF_RESTART_ON_FAILURE, CONF_RESTART_ALWAYS, CONF_RESTART_NEVER };
enum conf_lb      { CONF_LB_EWMA, CONF_LB_ROUND_ROBIN, CONF_LB_LEAST_REQUEST };
enum conf_access  { CONF_ACCESS_OFF, CONF_ACCESS_JSON, CONF_ACCESS_PATH };
/* registry: none (one host, the default) or etcd (several hosts, issue 16) */
enum conf_registry { CONF_REGISTRY_NONE, CONF_REGISTRY_ETCD };

#define CONF_HOST_NAME_MAX 64   /* host_name: [A-Za-z0-9._-]{1,63} */
#define CONF_HOST_ADDR_MAX 16   /* host_address: dotted IPv4 */

/* retry_on bits */
#define CONF_RETRY_CONNECT_FAILURE 0x1u
#define CONF_RETRY_RESET           0x2u
/* gRPC status words: a response whose grpc-status is that code */
#define CONF_RETRY_UNAVAILABLE        0x4u    /* 14 */
#define CONF_RETRY_RESOURCE_EXHAUSTED 0x8u    /* 8 */
#define CONF_RETRY_CANCELLED          0x10u   /* 1 */
#define CONF_RETRY_DEADLINE_EXCEEDED  0x20u   /* 4 */
#define CONF_RETRY_INTERNAL           0x40u   /* 13 */

struct conf_upstream {
	char     name[CONF_NAME_MAX];
	uint16_t port;          /* NAME:PORT listener; 0 = only through the HTTP proxy */
	int      line;
};

struct conf_env {
	char *key;
	char *value;
};

struct conf_service {
	char                  name[CONF_NAME_MAX];
	char                  version[CONF_VERSION_MAX]; /* "v1" unless version= or @VERSION */
	int                   line;          /* the [service.*] header line */
	char                 *command;       /* NULL: meshd starts no app */
	uint16_t              port;          /* 0: none */
	int                   port_line;
	unsigned              instances;     /* default 1, 1..64 */
	enum conf_proto       protocol;
	char                 *health;        /* NULL: no active check */
	struct conf_upstream *upstreams;
	size_t                nupstreams;
	char                (*allow)[CONF_NAME_MAX];
	size_t                nallow;        /* 0: every identity of the mesh */
	uint16_t              outbound;      /* 0: auto-assigned */
	int                   outbound_line;
	enum conf_restart     restart;
	uint64_t              ready_timeout_us; /* 0: [mesh]'s (config_ready_timeout()) */
	struct conf_env      *env;
	size_t                nenv;
	/* where keys were set (0: not set), for messages about them */
	int                   versioned;     /* declared as [service.NAME@VERSION] */
	int                   version_line;
	int                   protocol_line;
	int                   health_line;
	int                   allow_line;
};

struct conf_split {
	char     version[CONF_VERSION_MAX];
	unsigned weight;
};

/*
 * fault.* of a [route.NAME] (mesh.ini(5)): faults the caller's sidecar
 * injects into the requests it sends on the route.  A share is in tenths
 * of a percent (0..1000); 0 injects nothing.
 */
#define CONF_FAULT_HEADER_MAX 64   /* fault.match header name bytes + NUL */
#define CONF_FAULT_VALUE_MAX  128  /* fault.match value bytes + NUL */

struct conf_fault {
	unsigned           delay_permille;     /* fault.delay = P% DURATION */
	uint64_t           delay_us;
	unsigned           abort_permille;     /* fault.abort = P% STATUS */
	unsigned           abort_status;       /* 200..599 */
	char               match_header[CONF_FAULT_HEADER_MAX]; /* "": every request */
	char               match_value[CONF_FAULT_VALUE_MAX];
	char               version[CONF_VERSION_MAX];  /* fault.version; "": every version */
	int                delay_line, abort_line, match_line, version_line; /* 0: not set */
};

/*
 * mirror = SERVICE@VERSION P% of a [route.NAME] (mesh.ini(5)): the caller's
 * sidecar sends a fire-and-forget copy of that share of the route's
 * requests to VERSION of the route's service.  The share is in tenths of
 * a percent (0..1000); 0 mirrors nothing.
 */
struct conf_mirror {
	char               service[CONF_NAME_MAX];     /* must be the route's */
	char               version[CONF_VERSION_MAX];
	unsigned           permille;
	int                line;                       /* 0: no mirror key */
};

struct conf_route {
	char               name[CONF_NAME_MAX];
	int                line;
	struct conf_split *split;
	size_t             nsplit;
	uint64_t           timeout_us;          /* 0: none */
	uint64_t           connect_timeout_us;  /* default 1s */
	unsigned           retries;             /* default 0 */
	unsigned           retry_on;            /* CONF_RETRY_* bits */
	uint16_t           retry_status[8];     /* listed status codes */
	size_t             nretry_status;
	uint64_t           backoff_base_us, backoff_cap_us;   /* default 25ms, 250ms */
	unsigned           budget_percent;      /* default 20 */
	unsigned           budget_per_sec;      /* default 10 */
	enum conf_lb       lb;
	unsigned           breaker_failures;    /* default 5 */
	uint64_t           breaker_cooldown_us; /* default 5s */
	unsigned           breaker_max_pending; /* default 1024 */
	unsigned           outlier_failures;    /* default 5 */
	uint64_t           outlier_ejection_us; /* default 30s */
	int                split_line;          /* 0: no split= key */
	struct conf_fault  fault;               /* no fault.* key: all 0 */
	struct conf_mirror mirror;              /* no mirror key: all 0 */
};

struct conf_mesh {
	char             name[CONF_NAME_MAX];   /* default: the file's base name without .ini */
	char            *state_dir;             /* absolute (resolved against the file's dir) */
	char            *trust_domain;          /* default mesh.local */
	uint64_t         cert_ttl_us;           /* default 24h */
	uint16_t         port_base;             /* default 15000 */
	char            *metrics;               /* NULL: off; "HOST:PORT" */
	char            *traces;                /* NULL: off */
	unsigned         trace_sample_permille; /* default 10 (1%) */
	enum conf_access access_log;
	char            *access_log_path;
	/* limits every sidecar applies (our additions to the [mesh] keys) */
	uint32_t         max_header_bytes;      /* max_header_bytes, default 16384 */
	uint32_t         max_headers;           /* max_headers, default 100 */
	uint32_t         max_line_bytes;        /* max_line_bytes, default 8192 */
	uint64_t         header_timeout_us;     /* header_timeout, default 10s */
	uint64_t         idle_timeout_us;       /* idle_timeout, default 60s */
	uint32_t         max_connections;       /* max_connections, default 1024 */
	uint64_t         ready_timeout_us;      /* ready_timeout, default 60s: how long
	                                         * `up -d` waits for an instance */
	uint16_t         metrics_port;          /* the port of metrics, 0: off */
	int              metrics_line;
	int              state_dir_line;        /* 0: the default */
	/* several hosts (issue 16); with registry none every other is unset */
	enum conf_registry registry;            /* registry, default none */
	char            *etcd;                  /* etcd = URL, ...: NULL unless set */
	char            *etcd_ca, *etcd_cert, *etcd_key; /* absolute paths; NULL: none */
	char             host_address[CONF_HOST_ADDR_MAX]; /* "": unset */
	char             host_name[CONF_HOST_NAME_MAX];    /* default gethostname() */
	uint64_t         registry_ttl_us;       /* registry_ttl, default 10s (2s..300s) */
	int              registry_line, etcd_line, etcd_ca_line, etcd_cert_line,
	                 etcd_key_line, host_address_line, host_name_line;
};

struct mesh_config {
	char                *path;      /* as given */
	char                *dir;       /* absolute directory of the file */
	struct conf_mesh     mesh;
	struct conf_service *services;  /* one per [service.NAME] / [service.NAME@VERSION] */
	size_t               nservices;
	struct conf_route   *routes;
	size_t               nroutes;
};

/*
 * Load and validate `path`.  Every error goes to `errs` as one line
 * "FILE:LINE: message\n" (FILE as given).  Returns the number of errors;
 * on 0, *cfg is complete and must be released with config_free().  On
 * errors *cfg is freed already.
 *
 * Validation includes: name syntax, unknown sections/keys, durations
 * without a unit, bounds, upstreams and allow naming known services,
 * routes for known services, split versions that exist and weights that
 * sum to 100, fixed ports that collide with each other.  Messages are
 * printed sorted by line once the whole file is read.  Not thread-safe:
 * inih's line limit (Debian's run-time ini_max_line) is raised
 * process-wide for the duration of the parse.  man/mesh.ini.5 is the
 * user's documentation of every key.
 */
int  config_load(const char *path, struct mesh_config *cfg, FILE *errs);
void config_free(struct mesh_config *cfg);

/* Lookups; NULL when absent.  version NULL: the first declared version. */
const struct conf_service *config_service(const struct mesh_config *cfg,
                                          const char *name, const char *version);
const struct conf_route   *config_route(const struct mesh_config *cfg, const char *name);

/* 1 for a protocol whose requests the sidecars see one by one (http,
 * http2, grpc): routes, policy, faults, mirrors and drain apply; 0 for
 * tcp, an opaque stream. */
int  conf_proto_l7(enum conf_proto p);
/* "http", "tcp", "http2", "grpc": the word mesh.ini uses. */
const char *conf_proto_name(enum conf_proto p);

/* A service's ready_timeout in us: its own, else [mesh]'s. */
uint64_t config_ready_timeout(const struct mesh_config *cfg, const struct conf_service *svc);

/* Parse "250ms", "2s", "1h"...; needs a unit (us ms s m h).  0 ok, -1 bad. */
int  config_parse_duration(const char *s, uint64_t *us);

/* 1 when v is a valid host_name: 1..CONF_HOST_NAME_MAX-1 of [A-Za-z0-9._-],
 * not "." or "..".  meshd's registry records are checked with it too. */
int conf_host_name_ok(const char *v);

#endif
