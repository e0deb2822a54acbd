/* SPDX-License-Identifier: ISC */
/*
 * health: the active readiness probe of an app with `health = PATH`.
 *
 * A non-blocking HTTP/1.1 GET of PATH to 127.0.0.1:<app port>, with a
 * HEALTH_TIMEOUT budget for connect + response line.  Until the first
 * 2xx the probe runs every HEALTH_FAST (readiness); then every
 * HEALTH_SLOW; HEALTH_FAILS failures in a row make the app unhealthy and
 * the probe goes back to readiness pace.  The callback runs on each
 * change of `healthy`.
 */
#ifndef MESH_HEALTH_H
#define MESH_HEALTH_H

#include <stdint.h>
#include <ev.h>

#define HEALTH_FIRST   0.2   /* s after start: the first probe */
#define HEALTH_FAST    1.0
#define HEALTH_SLOW    5.0
#define HEALTH_TIMEOUT 1.0
#define HEALTH_FAILS   3

struct health;
typedef void health_fn(struct health *h, int healthy);

/* Explicit phases: IDLE waits for the timer, the others have the timer
 * as their deadline. */
enum health_phase { HEALTH_IDLE, HEALTH_CONNECTING, HEALTH_READING };

struct health {
	struct ev_loop   *loop;     /* private */
	ev_timer          timer;    /* private */
	ev_io             io;       /* private */
	int               fd;       /* private */
	enum health_phase phase;    /* private */
	uint16_t          port;     /* ro */
	const char       *path;     /* ro */
	char              buf[128]; /* private: the response's first bytes */
	size_t            len;      /* private */
	int               healthy;  /* ro */
	unsigned          fails;    /* ro: failures in a row */
	unsigned          running;  /* ro: between start and stop */
	char              last[96]; /* ro: why the last probe failed */
	health_fn        *cb;       /* ro */
	void             *arg;      /* rw: the owner's */
};

void health_init(struct health *h);
void health_start(struct health *h, struct ev_loop *loop, uint16_t port,
                  const char *path, health_fn *cb, void *arg);
void health_stop(struct health *h);

#endif
