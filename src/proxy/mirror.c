/* SPDX-License-Identifier: ISC */
/*
 * mirror: the copies of mirrored requests (mirror.h), each in a fixed
 * slot with its own timer and upstream connection:
 *
 *   M_CONNECT  the upstream connection is being set up
 *   M_SEND     the head, then the body buffers, go up
 *   M_HEAD     reading the response head (1xx skipped); its status and
 *              latency are counted
 *   M_BODY     reading the response body and dropping it
 *
 * then the slot frees itself: the connection back to the pool when the
 * response ended cleanly, else closed.  Any failure, and the timer,
 * close the connection and count mirror.errors.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <ev.h>

#include "mesh/breaker.h"
#include "mesh/buf.h"
#include "mesh/http.h"
#include "mesh/log.h"
#include "mesh/mirror.h"
#include "mesh/pstate.h"
#include "mesh/relay.h"
#include "mesh/stats.h"
#include "mesh/transport.h"
#include "mesh/upstream.h"

enum mirror_state { M_FREE, M_CONNECT, M_SEND, M_HEAD, M_BODY };

struct mirror_slot {
	enum mirror_state state;
	struct upconn    *uc;
	struct buf       *head;      /* the copy's head (consumed as it goes) */
	struct buf       *body;      /* the body's buffers, chained by next */
	unsigned          nbody;
	struct flow       res;       /* the response body, dropped */
	ev_timer          timer;
	ev_tstamp         start;
	uint8_t           head_req;  /* a HEAD request: no response body */
	uint8_t           keep;      /* the response says the leg may persist */
	struct epaddr     addr;      /* for the log */
	struct stats_peer_rec *peer; /* the (mirror, service, version) row */
};

static struct mirror_slot mirror_slots[MIRROR_MAX];
static unsigned           mirror_nbusy, mirror_nbufs;

int
mirror_draw(const struct pcfg_mirror *m, struct backoff_rng *rng)
{
	return m->version[0] != '\0' && m->permille != 0 &&
	    backoff_random(rng, 1000) < m->permille;
}

long
mirror_host(char *out, size_t outsz, const char *head, size_t hlen)
{
	const char *p = memchr(head, '\n', hlen), *end = head + hlen, *eol, *v, *ve, *at;
	size_t pre, suf = sizeof(MIRROR_SUFFIX) - 1;

	while (p != NULL && p + 1 < end) {
		p++;   /* the start of a header line */
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return -1;
		if (eol - p >= 5 && strncasecmp(p, "host:", 5) == 0) {
			for (v = p + 5; v < eol && (*v == ' ' || *v == '\t'); v++)
				;
			for (ve = eol; ve > v && (ve[-1] == '\r' || ve[-1] == ' ' ||
			    ve[-1] == '\t'); ve--)
				;
			/* before the port: the last ':' of a name, not of "[::1]" */
			for (at = ve; at > v && at[-1] != ':' && at[-1] != ']'; at--)
				;
			at = at > v && at[-1] == ':' ? at - 1 : ve;
			if (at == v || hlen + suf > outsz)
				return -1;
			pre = (size_t)(at - head);
			memcpy(out, head, pre);
			memcpy(out + pre, MIRROR_SUFFIX, suf);
			memcpy(out + pre + suf, at, hlen - pre);
			return (long)(hlen + suf);
		}
		p = eol;
	}
	return -1;
}

unsigned
mirror_inflight(void)
{
	return mirror_nbusy;
}

/* The copy ended: its connection to the pool (reusable) or closed. */
static void
mirror_free(struct mirror_slot *s, int reusable)
{
	struct buf *b;

	ev_timer_stop(EV_DEFAULT, &s->timer);
	if (s->uc != NULL) {
		if (reusable)
			upstream_release(s->uc, 1);
		else
			upstream_close(s->uc);
		s->uc = NULL;
	}
	buf_put(s->head);
	s->head = NULL;
	while ((b = s->body) != NULL) {
		s->body = b->next;
		b->next = NULL;
		buf_put(b);
	}
	mirror_nbufs -= s->nbody;
	s->nbody = 0;
	s->state = M_FREE;
	mirror_nbusy--;
}

static uint64_t
mirror_elapsed_us(const struct mirror_slot *s)
{
	return (uint64_t)((ev_now(EV_DEFAULT) - s->start) * 1e6);
}

/* A copy that got no final response: an error, on its row as status 0
 * (a timeout counted as one).  A final response already counted is not
 * counted again when its body fails. */
static void
mirror_fail(struct mirror_slot *s, const char *why, int timed_out)
{
	log_debug("mirror to " EPADDR_FMT ": %s", EPADDR_ARGS(s->addr), why);
	stats_inc(STAT_MIRROR_ERRORS);
	if (s->state != M_BODY)
		stats_peer_done(s->peer, 0, mirror_elapsed_us(s), 0, timed_out);
	mirror_free(s, 0);
}

/* A response head of n bytes: counted, then its body is dropped. */
static int
mirror_response(struct mirror_slot *s, const struct http_response *res, size_t n)
{
	static const enum stat_id cls[] = { STAT_MIRROR_RESP_2XX, STAT_MIRROR_RESP_3XX,
	    STAT_MIRROR_RESP_4XX, STAT_MIRROR_RESP_5XX };
	struct side *u = &s->uc->s;

	buf_consume(u->in, n);
	if (res->code >= 100 && res->code < 200 && res->code != 101)
		return 0;   /* interim: the final one follows */
	stats_add(STAT_MIRROR_DURATION_US, mirror_elapsed_us(s));
	if (res->code >= 200 && res->code < 600)
		stats_inc(cls[res->code / 100 - 2]);
	stats_peer_done(s->peer, res->code, mirror_elapsed_us(s), 0, 0);
	if (res->code == 101 || res->code < 200)
		return -1;  /* no upgrade on a copy: the connection goes */
	s->keep = (res->flags & HTTP_F_KEEPALIVE) && res->body != HTTP_BODY_EOF;
	if (flow_start(&s->res, relay_kind_from_http(res->body), res->content_length,
	    &pstate.hlim, u) == -1)
		return -1;
	s->state = M_BODY;
	return 0;
}

/* Move the copy along as far as its socket allows. */
static void
mirror_run(struct mirror_slot *s)
{
	struct side *u = &s->uc->s;
	struct http_response res;
	int n;

	if (s->state == M_SEND) {
		if (s->head->len > 0 && !u->wblocked && side_send(u, s->head, NULL, 0) == -1)
			return mirror_fail(s, "write failed", 0);
		while (s->head->len == 0 && s->body != NULL && !u->wblocked) {
			struct buf *b = s->body;

			if (b->len > 0 && side_send(u, b, NULL, 0) == -1)
				return mirror_fail(s, "write failed", 0);
			if (b->len > 0)
				break;
			s->body = b->next;
			b->next = NULL;
			buf_put(b);
			s->nbody--;
			mirror_nbufs--;
		}
		if (s->head->len > 0 || s->body != NULL) {
			side_arm(EV_DEFAULT, u, 0, 1);
			return;
		}
		s->state = M_HEAD;
	}
	for (;;) {
		if (s->state == M_HEAD && u->in != NULL && u->in->len > 0) {
			n = http_parse_response(buf_head(u->in), u->in->len, &pstate.hlim,
			    s->head_req, &res);
			if (n > 0) {
				if (mirror_response(s, &res, (size_t)n) == -1)
					return mirror_free(s, 0);
				continue;
			}
			if (n == HTTP_ERROR || buf_free_total(u->in) == 0)
				return mirror_fail(s, "bad response", 0);
		}
		if (s->state == M_BODY) {
			if (u->in != NULL && s->res.ready > 0) {
				buf_consume(u->in, s->res.ready);
				s->res.ready = 0;
			}
			if (s->res.done)
				return mirror_free(s, s->keep);
		}
		if (!u->readable || side_has_room(u) == 0)
			break;
		n = side_fill(u);
		if (n == 0)
			break;
		if (n == -1) {
			if (s->state == M_BODY && s->res.kind == RELAY_EOF && !u->err)
				return mirror_free(s, 0);   /* a body that ends with the leg */
			return mirror_fail(s, s->state == M_HEAD ? "closed before a response" :
			    "closed during the response body", 0);
		}
		if (s->state == M_BODY && flow_scan(&s->res, u) == -1)
			return mirror_fail(s, "bad chunked body", 0);
	}
	side_arm(EV_DEFAULT, u, 1, u->wblocked);
}

static void
mirror_notify(void *owner, struct upconn *uc, enum upconn_event ev)
{
	struct mirror_slot *s = owner;

	if (s->uc != uc || s->state == M_FREE)
		return;
	switch (ev) {
	case UC_EV_CONNECTED:
		s->state = M_SEND;
		break;
	case UC_EV_FAILED:
	case UC_EV_TIMEOUT:
		s->uc = NULL;   /* closed by upstream.c */
		return mirror_fail(s, ev == UC_EV_TIMEOUT ? "connect timeout" : "connect failed",
		    ev == UC_EV_TIMEOUT);
	case UC_EV_IO:
		break;
	}
	mirror_run(s);
}

static void
mirror_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mirror_slot *s = (struct mirror_slot *)((char *)w -
	    offsetof(struct mirror_slot, timer));

	(void)loop;
	(void)revents;
	if (s->state != M_FREE)
		mirror_fail(s, "timeout", 1);
}

/* An endpoint of version v, up, its breaker closed; NULL: none. */
static const struct pcfg_endpoint *
mirror_pick(const struct balance_service *bs, const char *v)
{
	const struct pcfg_endpoint *ok[64];
	size_t i, j, n = 0;

	for (i = 0; i < bs->nversions; i++) {
		const struct balance_version *bv = &bs->versions[i];

		if (strcmp(bv->version, v) != 0)
			continue;
		for (j = 0; j < bv->neps && n < sizeof(ok) / sizeof(ok[0]); j++)
			if (bv->eps[j]->up && breaker_gate(bv->beps[j]->addr))
				ok[n++] = bv->eps[j];
	}
	return n == 0 ? NULL : ok[balance_random((uint32_t)n)];
}

/* The kept body into the slot's own buffers: 0, or -1 (skipped). */
static int
mirror_copy_body(struct mirror_slot *s, const struct replay *r)
{
	const struct buf *b;
	struct buf *nb, **tail = &s->body;
	uint64_t total = 0;

	if (mirror_nbufs + r->n > MIRROR_BODY_BUFS)
		return -1;
	for (b = r->first; b != NULL; b = b->next) {
		if ((nb = buf_get()) == NULL)
			return -1;
		*tail = nb;
		tail = &nb->next;
		s->nbody++;
		mirror_nbufs++;
		if (buf_append(nb, b->data + b->off, b->len) != b->len)
			return -1;
		total += b->len;
	}
	return total == r->total ? 0 : -1;
}

void
mirror_send(const struct balance_service *bs, const struct pcfg_mirror *m,
            const char *head, size_t hlen, const struct replay *body,
            uint32_t timeout_ms, uint32_t connect_ms, int head_req)
{
	const struct pcfg_endpoint *ep;
	struct mirror_slot *s = NULL;
	struct upstream *up;
	long len;
	size_t i;

	for (i = 0; i < MIRROR_MAX && s == NULL; i++)
		if (mirror_slots[i].state == M_FREE)
			s = &mirror_slots[i];
	if (s == NULL || (ep = mirror_pick(bs, m->version)) == NULL ||
	    (up = upstream_get_at(balance_ep_addr(ep), transport_mesh())) == NULL) {
		stats_inc(STAT_MIRROR_SKIPPED);
		return;
	}
	memset(s, 0, sizeof(*s));
	s->state = M_CONNECT;
	s->addr = up->addr;
	s->head_req = head_req != 0;
	s->peer = stats_peer(STATS_MIRROR, bs->svc->name, m->version);
	mirror_nbusy++;
	ev_timer_init(&s->timer, mirror_timer_cb,
	    (timeout_ms != 0 ? timeout_ms : MIRROR_TIMEOUT_MS) / 1000.0, 0.);
	if ((s->head = buf_get()) == NULL ||
	    (len = mirror_host(buf_tail(s->head), buf_room(s->head), head, hlen)) == -1 ||
	    (body != NULL && mirror_copy_body(s, body) == -1)) {
		stats_inc(STAT_MIRROR_SKIPPED);
		return mirror_free(s, 0);
	}
	buf_commit(s->head, (size_t)len);
	stats_inc(STAT_MIRROR_REQUESTS);
	s->start = ev_now(EV_DEFAULT);
	ev_timer_start(EV_DEFAULT, &s->timer);
	if (connect_ms != 0)
		up->connect_s = connect_ms / 1000.0;
	/* a copy never waits for a connection (upstream.h, "Opening") */
	if ((s->uc = upstream_acquire(up, 0, mirror_notify, s)) == NULL)
		return mirror_fail(s, errno == EBUSY ? "no connection free" : "connect failed", 0);
	if (s->uc->state == UC_BUSY) {
		s->state = M_SEND;
		mirror_run(s);
	}
}
