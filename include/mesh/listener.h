/* SPDX-License-Identifier: ISC */
/*
 * listener: the sidecar's listening sockets (127.0.0.1, or an inbound's bind=).
 *
 * Accepted sockets are non-blocking with TCP_NODELAY and go to
 * conn_new().  While the connection limit is reached every listener is
 * paused (the kernel backlog holds newcomers).  When accept fails for
 * lack of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) the
 * listener stops its watcher and retries from a timer instead of
 * spinning on a readable socket it cannot serve.
 */
#ifndef MESH_LISTENER_H
#define MESH_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "mesh/conn.h"
#include "mesh/pcfg.h"

struct listener {
	int              fd;        /* ro */
	uint32_t         addr;      /* ro: IPv4 bound, host byte order */
	uint16_t         port;      /* ro */
	enum conn_role   role;      /* rw: a new config may change it in place */
	char             service[PCFG_NAME_MAX]; /* rw: listen roles */
	ev_io            io;        /* private */
	ev_timer         retry;     /* private: EMFILE back-off */
	uint8_t          backoff;   /* private: waiting on `retry` */
	ev_tstamp        warned_at; /* private: last EMFILE warning (one per 10 s) */
	uint8_t          mark;      /* private: pstate's sweep */
	struct listener *next;      /* private */
};

/*
 * Bind addr:port (IPv4, host byte order; 127.0.0.1 but for a `bind=`
 * inbound) and start accepting.  NULL with a message in err ("cannot
 * listen on ADDR:PORT (WHAT): REASON").
 */
struct listener *listener_open(uint32_t addr, uint16_t port, enum conn_role role,
                               const char *service, const char *what, char *err,
                               size_t errlen);
void             listener_close(struct listener *l);
struct listener *listener_find(uint32_t addr, uint16_t port);
/* All open listeners, for iteration (l->next). */
struct listener *listener_first(void);
void             listener_pause_all(void);
void             listener_resume_all(void);

#endif
