/* SPDX-License-Identifier: ISC */
/*
 * mjoin: the root host's side of `meshctl join` (issue 16; the token,
 * the messages and the keys are jtok.h).
 *
 * The root host is the one whose <state_dir>/ca/ holds ca.key, with
 * `registry = etcd`.  There `meshctl certs --join-token` asks meshd for a
 * token (mjoin_mint(): kept in <state_dir>/join-tokens), and mreg's
 * watch hands every key under join/ to mjoin_event().  For each
 * join/requests/<host> (live, or in a snapshot: requests made while meshd
 * was down count) it checks, in this order: the host name (valid, not
 * this host's), the message, the token (known), the MAC (constant time),
 * the token again (not expired, not used), the CSR (ECDSA P-256, its
 * self-signature); then signs an intermediate CA with the root
 * (pki_issue_ca()), marks the token used (persisted before the answer
 * goes out: a failed write is a refusal) and puts join/certs/<host> =
 * {"cert","root","mac"} (jtok.h).  A refusal puts {"error":"why"} there
 * and logs the host and the reason.
 *
 * Answers go under meshd's lease (etcd_put(): the client's own keys):
 * they vanish when the root goes, so none outlives the process that
 * could re-answer.  At most MJOIN_PENDING_MAX answers stand at once (of
 * ETCD_OWN_MAX own keys); an answer is withdrawn when its request is
 * deleted (the joining host deleted it, or its lease ended), and the
 * same request (same host and MAC) seen again — a new snapshot after a
 * reconnect — is not answered twice.
 */
#ifndef MESH_MJOIN_H
#define MESH_MJOIN_H

#include <stddef.h>
#include <time.h>

#include "mesh/etcd.h"
#include "mesh/meshd_ctx.h"

#define MJOIN_PENDING_MAX 16
#define MJOIN_DIR         "join/"

struct mjoin;

/*
 * A token for `meshctl certs --join-token`, valid ttl_s seconds
 * (1..JTOK_TTL_MAX), saved in <state_dir>/join-tokens: the token string
 * into out.  0, or -1 with why in err (no registry = etcd, no ca.key: a
 * joined host, the file unwritable).
 */
int  mjoin_mint(const struct meshd *m, unsigned ttl_s, time_t now, char *out, size_t size,
                char *err, size_t errlen);

/* For mreg_open(): the handler, or NULL when this host holds no ca.key
 * (then keys under join/ are not ours to answer). */
struct mjoin *mjoin_new(struct meshd *m);
/* A watch event whose key is under MJOIN_DIR (or RESET/SYNCED: ignored);
 * answers through c. */
void mjoin_event(struct mjoin *j, struct etcd *c, const struct etcd_event *ev);
void mjoin_free(struct mjoin *j);

#endif
