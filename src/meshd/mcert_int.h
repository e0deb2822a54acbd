/* SPDX-License-Identifier: ISC */
/*
 * mcert internals shared by mcert.c (the CA, issuing, listing) and
 * mcert_roll.c (the root rollover).  Not a contract: see mcert.h.
 */
#ifndef MESH_MCERT_INT_H
#define MESH_MCERT_INT_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "mesh/ipc.h"
#include "mesh/pki.h"

#define MCERT_SERIAL_MAX sizeof(((struct pki_certinfo *)0)->serial)

/* What a sidecar last said it holds (IPC_IDENT) since it said HELLO. */
struct mcert_rep {
	int              ok;       /* a report came */
	struct ipc_ident id;       /* id.leaf "": none */
};

struct mcert_state {
	struct pki_ca       *ca;        /* the active root (ca.*) */
	struct pki_ca       *next;      /* the new root during a rollover (next.*) */
	struct pki_roll      roll;      /* phase NONE: no rollover */
	time_t               out_since; /* SIGN: every leaf has been out since (0: not yet) */
	char                 dir[PATH_MAX + 8];
	struct pki_certinfo *info;      /* [ninst], parallel to m->insts */
	unsigned char       *has;       /* [ninst]: info[i] is set */
	unsigned char       *from_next; /* [ninst]: info[i] was signed by next */
	unsigned char       *rotating;  /* [ninst]: waiting for a new serial */
	char               (*old)[MCERT_SERIAL_MAX];
	struct mcert_rep    *rep;       /* [ninst] */
	size_t               ninst;
};

extern struct mcert_state mc;

/* The root that signs leaves now: next in phase SIGN, else ca. */
struct pki_ca *mcert_signer(void);
/* The trust bundle of the current phase. */
void mcert_bundle(struct pki_bundle *b);
/* The roots, after the leaves of `certs`: a table, or (json) the members
 * ,"roots":[...],"rollover":{...} */
void mcert_roots_format(FILE *f, int json);
/* ISO 8601 UTC of t into buf. */
void mcert_time(time_t t, char *buf, size_t size);
/* The names of the instances i that pick(m, i, arg) chooses, ", "-separated
 * into buf (cut at size); returns how many there are. */
struct meshd;
typedef int mcert_pick_fn(const struct meshd *m, size_t i, const void *arg);
size_t mcert_names(const struct meshd *m, char *buf, size_t size, mcert_pick_fn *pick,
                   const void *arg);

#endif
