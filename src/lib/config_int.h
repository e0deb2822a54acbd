/* SPDX-License-Identifier: ISC */
/*
 * config_int: what the config_*.c files share and nobody else needs.
 *
 *   config.c           load/free, the line reader in front of inih, errors
 *   config_section.c   section headers and the name syntax
 *   config_table.c     the key table: one row per key, and the value parsers
 *   config_duration.c  durations ("250ms") to microseconds and back
 *   config_list.c      list-valued keys and env.NAME
 *   config_fault.c     the fault.* keys of a [route.NAME]
 *   config_mirror.c    the mirror key of a [route.NAME]
 *   config_expand.c    ${VAR} and ${VAR:-default}
 *   config_validate.c  cross-checks once the whole file is read
 *   config_registry.c  the [mesh] keys of several hosts (registry = etcd)
 */
#ifndef MESH_CONFIG_INT_H
#define MESH_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mesh/config.h"

/* Section kinds; a key row says in which kinds it may appear. */
enum conf_kind {
	CONF_KIND_NONE    = 0,     /* before any section, or a rejected one */
	CONF_KIND_MESH    = 0x1,
	CONF_KIND_SERVICE = 0x2,
	CONF_KIND_ROUTE   = 0x4,
};

/* Upper bounds on what one file may declare (every input bounded). */
#define CONF_SERVICES_MAX  256
#define CONF_ROUTES_MAX    256
#define CONF_LIST_MAX      64      /* upstreams, allow, env per service */
#define CONF_SPLIT_MAX     16
#define CONF_ENV_NAME_MAX  64
#define CONF_INSTANCES_MAX 64
#define CONF_KEYS_MAX      64      /* rows of the table, for the seen[] map */

/* An error, held until the load ends so all print in line order. */
struct conf_msg {
	int    line;
	size_t seq;
	char  *text;
};

/* Parsing state, one per config_load(). */
struct conf_ctx {
	struct mesh_config *cfg;
	const char         *path;        /* as given, for messages */
	FILE               *fp;
	FILE               *errs;
	int                 nerr;
	struct conf_msg    *msgs;        /* errors so far, printed at the end */
	size_t              nmsgs;

	int                 lineno;      /* physical line the reader handed last */
	char                line[CONF_LINE_MAX + 2];

	int                 in_section;  /* a header was seen (even a bad one) */
	enum conf_kind      kind;        /* the current section, NONE: skip keys */
	void               *obj;         /* its struct conf_mesh/service/route */
	char                section[CONF_LINE_MAX + 1]; /* its name, for messages */
	int                 seen[CONF_KEYS_MAX]; /* line of each key in it, 0: not yet */
	int                 mesh_line;   /* [mesh] header, 0: none */
	int                 version_at;  /* [service.X@V] form: 1 */
};

/*
 * Count an error and keep "FILE:LINE: message" for ctx->errs (line 0:
 * "FILE: message"); config_load() prints them all, sorted by line.
 */
void config_error(struct conf_ctx *ctx, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Outside a load: the first message (or dflt) into why, all freed; 0 when
 * no error was counted, else -1 (config.c). */
int  config_error_take(struct conf_ctx *ctx, char *why, size_t whylen, const char *dflt);

/* Value types of the key table. */
enum conf_type {
	CONF_T_STRING,    /* strdup'ed char *; min..max bytes; check() may refuse */
	CONF_T_UINT,      /* decimal, min..max, stored in `size` bytes */
	CONF_T_DURATION,  /* needs a unit; min..max in us; uint64_t */
	CONF_T_PERCENT,   /* "N%", min..max; unsigned */
	CONF_T_PERMILLE,  /* "N%" or "N.D%", stored in tenths of a percent */
	CONF_T_ENUM,      /* one of names[], stored as an int-sized enum */
	CONF_T_CUSTOM,    /* parse() does it all */
};

struct conf_key;
/* A value parser: 0, or -1 with the reason in why (no key, no value). */
typedef int conf_parse_fn(struct conf_ctx *ctx, const struct conf_key *k,
                          const char *value, void *obj, char *why, size_t whysz);

/* One row of the table: every key of the file is one of these. */
struct conf_key {
	const char        *name;
	enum conf_kind     kind;      /* the section it belongs in */
	enum conf_type     type;
	uint64_t           min, max;  /* bounds (length for strings) */
	const char        *def;       /* default, as it would be written; NULL: 0 */
	size_t             off;       /* target field in the section's struct */
	size_t             size;      /* its size */
	size_t             line_off;  /* int field for the key's line; 0: none
	                                 (offset 0 is the name in every struct) */
	const char *const *names;     /* CONF_T_ENUM: index = value */
	conf_parse_fn     *parse;     /* CONF_T_CUSTOM */
	const char      *(*check)(const char *value); /* CONF_T_STRING: reason */
};

/* The table, for tests and documentation checks. */
const struct conf_key *config_table_keys(size_t *n);
const char *config_kind_name(enum conf_kind kind);

/* list-valued keys (config_list.c) */
conf_parse_fn config_list_upstreams, config_list_allow, config_list_split,
              config_list_retry_on, config_list_backoff, config_list_budget;
/* fault.* keys (config_fault.c), and their cross-checks for one route */
conf_parse_fn config_fault_delay, config_fault_abort, config_fault_match,
              config_fault_version;
void config_fault_validate(struct conf_ctx *ctx, const struct conf_route *r);
/* mirror = SERVICE@VERSION P% (config_mirror.c), and its cross-checks */
conf_parse_fn config_mirror_key;
void config_mirror_validate(struct conf_ctx *ctx, const struct conf_route *r);
/* etcd, host_address, host_name (config_registry.c), and the cross-checks
 * of the registry keys once the file is read (default host_name too) */
conf_parse_fn config_registry_etcd, config_registry_address, config_registry_host_name;
void config_registry_validate(struct conf_ctx *ctx);
/* env.NAME = value in a service section (config_list.c) */
void config_list_env(struct conf_ctx *ctx, const char *name, const char *value);

/* "250ms"-style text for a duration in us (largest exact unit);
 * config_duration.c. */
void config_fmt_duration(uint64_t us, char *buf, size_t sz);

/*
 * cfg's route `name`, appended with every default when missing (for the
 * live overrides, weights.h and faults.h).  NULL when out of memory.
 */
struct conf_route *config_route_make(struct mesh_config *cfg, const char *name);

/* Set every key of `kind` that has a default in obj (struct conf_*). */
void config_table_defaults(struct conf_ctx *ctx, enum conf_kind kind, void *obj);
/*
 * Apply `name = value` (value already expanded; raw as written, for
 * messages) to the current section.
 */
void config_table_apply(struct conf_ctx *ctx, const char *name,
                        const char *value, const char *raw);
/* Free what the table's parsers allocated in obj. */
void config_table_free(enum conf_kind kind, void *obj);

/*
 * Expand ${VAR} and ${VAR:-default} in `in` into out (size outsz).
 * Returns 0, or -1 after reporting the error (unset VAR, bad syntax, too
 * long) for key `key` at ctx->lineno.
 */
int  config_expand(struct conf_ctx *ctx, const char *key, const char *in,
                   char *out, size_t outsz);

/* Cross-checks over the whole file; errors through config_error(). */
void config_validate(struct conf_ctx *ctx);

/*
 * A "[name]" header (brackets and blanks stripped): the section that the
 * keys up to the next header go to (config_section.c).
 */
void config_section(struct conf_ctx *ctx, char *name);

/* Name syntax: [a-z0-9][a-z0-9-]{0,62} and [a-z0-9][a-z0-9.-]{0,31}. */
int  config_valid_name(const char *s);
int  config_valid_version(const char *s);

/* "N%" or "N.D%" at the start of s (config_fault.c): tenths of a percent,
 * *end past the '%'; 0, or -1 with "<want> (e.g. 10%, 0.5%)" (or the
 * range) in why. */
int config_share(const char *s, const char **end, unsigned *permille, const char *want,
                 char *why, size_t whysz);

#endif
