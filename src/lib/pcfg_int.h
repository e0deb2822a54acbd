/* SPDX-License-Identifier: ISC */
/*
 * pcfg_int: what the pcfg*.c files share and nobody else needs.
 *
 *   pcfg.c          the document: lines, fields, value parsers, errors
 *   pcfg_keys.c     the keywords: one row each (context, arity, handler or
 *                   target field, printer), the dispatcher, the printer
 *   pcfg_addr.c     the rows with addresses and hosts: host, inbound, endpoint
 *   pcfg_policy.c   the key=value pairs of a `policy` line
 *   pcfg_fault.c    the key=value pairs of a `fault` line
 */
#ifndef MESH_PCFG_INT_H
#define MESH_PCFG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mesh/pcfg.h"

/* Parser state for one document. */
struct pcfg_parser {
	struct pcfg *c;
	char        *err;
	size_t       errlen;
	unsigned     lineno;
	int          have_instance;
	uint32_t     once;      /* bit i: a line of the i-th keyword was read */
};

/* "line N: <fmt>" into p->err; returns -1. */
int pcfg_fail(struct pcfg_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Value parsers: each stores into *out or fails with "<what>: ..." (see
 * include/mesh/pcfg.h for the syntax of names, ports and paths).
 */
int pcfg_name(struct pcfg_parser *p, const char *what, const char *s, char *out);
int pcfg_uint(struct pcfg_parser *p, const char *what, const char *s,
    unsigned long lo, unsigned long hi, unsigned long *out);
int pcfg_port(struct pcfg_parser *p, const char *what, const char *s, uint16_t *out);
/* A strict IPv4 dotted quad into *out (host byte order). */
int pcfg_ipv4(struct pcfg_parser *p, const char *what, const char *s, uint32_t *out);
int pcfg_proto(struct pcfg_parser *p, const char *s, enum pcfg_proto *out);
int pcfg_path(struct pcfg_parser *p, const char *s, char *out);
/* An access_log path byte that the document writes as %XX. */
int pcfg_path_escaped(unsigned char ch);

/* Grow *arr (of *n elements of size sz) by one zeroed element; NULL
 * when out of memory. */
void *pcfg_push(void **arr, size_t *n, size_t sz);

/* Row handlers of pcfg_addr.c (pcfg_keys.c's table: f[0] is the keyword,
 * nf within the row's arity, s the service f[1] names for endpoint). */
int  pcfg_key_host(struct pcfg_parser *p, struct pcfg_service *s, char **f, size_t nf);
void pcfg_key_host_print(FILE *fp, const struct pcfg *c, const struct pcfg_service *s);
int  pcfg_key_inbound(struct pcfg_parser *p, struct pcfg_service *s, char **f, size_t nf);
void pcfg_key_inbound_print(FILE *fp, const struct pcfg *c, const struct pcfg_service *s);
int  pcfg_key_endpoint(struct pcfg_parser *p, struct pcfg_service *s, char **f, size_t nf);
void pcfg_key_endpoint_print(FILE *fp, const struct pcfg *c, const struct pcfg_service *s);

/* One line of the document but `end`, split in nf >= 1 fields (f[0] is
 * the keyword): checked against its row and applied to p->c. */
int  pcfg_key_line(struct pcfg_parser *p, char **f, size_t nf);
/* Every keyword's lines for c, in the table's order (no `end`). */
void pcfg_key_format(FILE *fp, const struct pcfg *c);

#endif
