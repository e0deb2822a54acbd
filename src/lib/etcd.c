/* SPDX-License-Identifier: ISC */
/*
 * etcd: the client (etcd.h) — its lease, its own keys, and failover
 * between endpoints; the snapshot and the watch stream are etcd_watch.c.
 *
 * Two connections to the current endpoint: `unary` carries one request
 * at a time, chosen by etcd_kick() from what is wanted, in this order: a
 * lease, a lease check after a reconnect, the periodic keepalive, dirty
 * own keys, deletes, a snapshot; `watch` carries the watch stream.  The
 * gateway's keepalive is a stream too, but one request gets one answer
 * and the stream ends, so a keepalive is a unary call here (a new POST
 * every TTL/3 on the kept connection).  Any failure of
 * either (connect, timeout, a status other than 200 that is not "lease not
 * found", the stream ending) is etcd_down(): both closed, the next
 * endpoint, backoff after a whole round.
 *
 * Callbacks into the caller run from inside our own callbacks; etcd_close
 * there only marks the client dead and its memory is freed from the loop
 * (`depth`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/config.h"
#include "mesh/container_of.h"
#include "etcd_int.h"

#define ETCD_CLOSE_S   1.0
#define ETCD_NOT_FOUND 5           /* gRPC NotFound: "requested lease not found" */

static const char *const etcd_paths[] = {
	[OP_GRANT] = "/v3/lease/grant", [OP_CHECK] = "/v3/lease/keepalive",
	[OP_KEEPALIVE] = "/v3/lease/keepalive", [OP_PUT] = "/v3/kv/put",
	[OP_DEL] = "/v3/kv/deleterange", [OP_RANGE] = "/v3/kv/range",
	[OP_REVOKE] = "/v3/lease/revoke",
};

static void etcd_free(struct etcd *c);

static void
etcd_set_state(struct etcd *c, enum etcd_state st, const char *why)
{
	if (c->state == st || c->dead || c->closing)
		return;
	c->state = st;
	if (c->on_state != NULL)
		c->on_state(c->arg, st, why);
}

void
etcd_deliver(struct etcd *c, enum etcd_ev_type type, const char *key, size_t klen,
    const char *val, size_t vlen, int64_t rev)
{
	struct etcd_event ev;

	if (c->on_event == NULL || c->dead || c->closing)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.key = key != NULL ? key : "";
	ev.key_len = klen;
	ev.value = val != NULL ? val : "";
	ev.value_len = vlen;
	ev.revision = rev;
	c->on_event(c->arg, &ev);
}

/* The end of a graceful close: on_state(CLOSED) and the free come from
 * the loop (etcd_end_cb), where no frame of ours is on the stack. */
static void
etcd_closed(struct etcd *c)
{
	etcd_http_reset(&c->unary);
	etcd_http_reset(&c->watch);
	c->dead = 1;
	ev_timer_stop(c->loop, &c->end);
	ev_timer_set(&c->end, 0., 0.);
	ev_timer_start(c->loop, &c->end);
}

void
etcd_down(struct etcd *c, const char *why)
{
	double delay = 0;
	unsigned round;

	if (c->closing) {
		etcd_closed(c);
		return;
	}
	etcd_http_reset(&c->unary);
	etcd_http_reset(&c->watch);
	c->watching = 0;
	c->checked = 0;
	c->op = OP_NONE;
	snprintf(c->reason, sizeof(c->reason), "%s", why);
	etcd_set_state(c, ETCD_DOWN, c->reason);
	c->fails++;
	c->cur = (c->cur + 1) % c->nep;
	/* the next endpoint at once; after a whole round, wait */
	if (c->fails % c->nep == 0) {
		round = c->fails / c->nep - 1;
		delay = ETCD_BACKOFF_MIN_S;
		while (round-- > 0 && delay < ETCD_BACKOFF_MAX_S)
			delay *= 2;
		if (delay > ETCD_BACKOFF_MAX_S)
			delay = ETCD_BACKOFF_MAX_S;
	}
	ev_timer_stop(c->loop, &c->retry);
	ev_timer_set(&c->retry, delay, 0.);
	ev_timer_start(c->loop, &c->retry);
}

static void
etcd_up(struct etcd *c)
{
	c->checked = 1;
	c->fails = 0;
	c->reason[0] = '\0';
	etcd_set_state(c, ETCD_UP, NULL);
}

/* prefix + key into out (ETCD_KEY_MAX); its length or 0 when too long. */
/* ---- responses ------------------------------------------------------ */

static void
etcd_judge(struct etcd *c, const struct json_doc *d, int status)
{
	struct etcd_key *k;
	char msg[256];
	int code = etcd_json_error(d, msg, sizeof(msg)), r;

	if (code == ETCD_NOT_FOUND && (c->op == OP_PUT || c->op == OP_CHECK ||
	    c->op == OP_KEEPALIVE || c->op == OP_REVOKE)) {
		c->lease = 0;    /* expired: a new one, and every own key again */
		c->op_ok = 1;
		return;
	}
	if (code != 0 || status != 200) {
		snprintf(c->op_err, sizeof(c->op_err), "status %d: %s", status,
		    code != 0 ? msg : "no error message");
		return;
	}
	switch (c->op) {
	case OP_GRANT:
		c->lease = etcd_json_i64(d, json_scan_key(d, 0, "ID"), 0);
		if (c->lease == 0) {
			snprintf(c->op_err, sizeof(c->op_err), "no lease ID in the response");
			return;
		}
		for (k = c->own; k < c->own + c->nown; k++)
			k->dirty = 1;
		break;
	case OP_CHECK:
	case OP_KEEPALIVE:
		r = json_scan_key(d, 0, "result");
		if (etcd_json_i64(d, json_scan_key(d, r, "TTL"), 0) <= 0)
			c->lease = 0;    /* the gateway leaves TTL out when it expired */
		break;
	case OP_PUT:
		if ((k = etcd_find(c->own, c->nown, c->op_key)) != NULL && k->seq == c->op_seq) {
			k->dirty = 0;
			if (k->kept)   /* etcd keeps it: nothing to put again */
				etcd_drop(c->own, &c->nown, k);
		}
		break;
	case OP_DEL:
		if ((k = etcd_find(c->dels, c->ndel, c->op_key)) != NULL)
			etcd_drop(c->dels, &c->ndel, k);
		break;
	case OP_RANGE:
		etcd_snapshot(c, d);
		return;
	default:
		break;
	}
	c->op_ok = 1;
}

static void
etcd_unary_msg(struct etcd_http *h, int status, const char *json, size_t len)
{
	struct etcd *c = h->arg;
	struct json_doc d;
	char err[128];

	if (c->dead || c->op_ok || c->op_err[0] != '\0')
		return;    /* one object per unary answer; more is ignored */
	if (json_scan_parse(&d, json, len, ETCD_TOKENS_MAX, err, sizeof(err)) == -1) {
		snprintf(c->op_err, sizeof(c->op_err), "bad JSON: %s", err);
		return;
	}
	c->depth++;
	etcd_cluster(c, &d, "header");
	etcd_judge(c, &d, status);
	c->depth--;
	json_scan_free(&d);
}

static void
etcd_unary_end(struct etcd *c, const char *err)
{
	enum etcd_op op = c->op;
	char why[sizeof(c->reason)];

	c->op = OP_NONE;
	if (c->dead)
		return;
	if (op == OP_REVOKE) {
		etcd_closed(c);
		return;
	}
	if (c->closing)
		return;    /* a request from before etcd_close(): the revoke comes next */
	if (err == NULL && !c->op_ok && c->op_err[0] == '\0')
		snprintf(c->op_err, sizeof(c->op_err), "an empty response");
	if (err != NULL || !c->op_ok) {
		if (err == NULL)
			snprintf(why, sizeof(why), "%s: POST %s: %s", c->eps[c->cur].url,
			    etcd_paths[op], c->op_err);
		else
			snprintf(why, sizeof(why), "%s", err);
		etcd_down(c, why);
		return;
	}
	if ((op == OP_GRANT || op == OP_CHECK) && c->lease != 0)
		etcd_up(c);
	if (op == OP_KEEPALIVE)
		c->ka_due = 0;
	etcd_kick(c);
}

static void
etcd_unary_done(struct etcd_http *h, const char *err)
{
	struct etcd *c = h->arg;

	c->depth++;
	etcd_unary_end(c, err);
	c->depth--;
}

/* ---- requests ------------------------------------------------------- */

static void
etcd_send(struct etcd *c, enum etcd_op op, int len)
{
	char why[sizeof(c->reason)];

	c->op = op;
	c->op_ok = 0;
	c->op_err[0] = '\0';
	if (len < 0 || etcd_http_post(&c->unary, &c->eps[c->cur], etcd_paths[op], c->body,
	    (size_t)len, 0) == -1) {
		snprintf(why, sizeof(why), "%s: POST %s: cannot make the request (%s)",
		    c->eps[c->cur].url, etcd_paths[op], len < 0 ? "too large" : "out of memory");
		c->op = OP_NONE;
		etcd_down(c, why);
	}
}

/* The next unary request, if any is wanted and none is in flight. */
void
etcd_kick(struct etcd *c)
{
	char full[ETCD_KEY_MAX];
	size_t i, fl;

	if (c->dead || c->closing || ev_is_active(&c->retry) || etcd_http_busy(&c->unary))
		return;
	if (c->lease == 0) {
		etcd_send(c, OP_GRANT, etcd_json_grant(c->body, ETCD_BODY_MAX, c->ttl));
		return;
	}
	if (!c->checked) {
		etcd_send(c, OP_CHECK, etcd_json_lease(c->body, ETCD_BODY_MAX, c->lease));
		return;
	}
	if (c->on_event != NULL && c->rev > 0 && !c->watching)
		etcd_start_watch(c);
	if (c->dead || ev_is_active(&c->retry))
		return;
	/* before the puts: a caller that keeps putting must not starve it */
	if (c->ka_due) {
		etcd_send(c, OP_KEEPALIVE, etcd_json_lease(c->body, ETCD_BODY_MAX, c->lease));
		return;
	}
	for (i = 0; i < c->nown; i++) {
		if (!c->own[i].dirty)
			continue;
		fl = etcd_full(c, c->own[i].key, full);
		snprintf(c->op_key, sizeof(c->op_key), "%s", c->own[i].key);
		c->op_seq = c->own[i].seq;
		etcd_send(c, OP_PUT, etcd_json_put(c->body, ETCD_BODY_MAX, full, fl,
		    c->own[i].val, c->own[i].vlen, c->own[i].kept ? 0 : c->lease));
		return;
	}
	if (c->ndel > 0) {
		fl = etcd_full(c, c->dels[0].key, full);
		snprintf(c->op_key, sizeof(c->op_key), "%s", c->dels[0].key);
		etcd_send(c, OP_DEL, etcd_json_del(c->body, ETCD_BODY_MAX, full, fl));
		return;
	}
	if (c->on_event != NULL && c->rev == 0) {
		etcd_send(c, OP_RANGE, etcd_json_range(c->body, ETCD_BODY_MAX, c->prefix,
		    c->plen, ETCD_WATCH_KEYS_MAX + 1));
		return;
	}
}

/* ---- timers --------------------------------------------------------- */

static void
etcd_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct etcd *c = container_of(w, struct etcd, retry);

	c->depth++;
	etcd_kick(c);
	c->depth--;
}

static void
etcd_ka_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct etcd *c = container_of(w, struct etcd, ka);

	c->ka_due = 1;
	c->depth++;
	etcd_kick(c);
	c->depth--;
}

/* The revoke of a graceful close, from the loop. */
static void
etcd_revoke(struct etcd *c)
{
	int len = etcd_json_lease(c->body, ETCD_BODY_MAX, c->lease);

	c->revoking = 1;
	etcd_http_reset(&c->unary);
	etcd_http_reset(&c->watch);
	ev_timer_set(&c->end, ETCD_CLOSE_S, 0.);
	ev_timer_start(c->loop, &c->end);
	c->op = OP_REVOKE;
	c->op_ok = 0;
	c->op_err[0] = '\0';
	if (c->lease == 0 || len < 0 || etcd_http_post(&c->unary, &c->eps[c->cur],
	    etcd_paths[OP_REVOKE], c->body, (size_t)len, 0) == -1)
		etcd_closed(c);
}

static void
etcd_end_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct etcd *c = container_of(w, struct etcd, end);

	if (c->closing && !c->dead && !c->revoking) {
		etcd_revoke(c);
		return;
	}
	/* graceful: revoked, or the revoke did not come back in time */
	if (c->closing) {
		c->state = ETCD_CLOSED;
		if (c->on_state != NULL)
			c->on_state(c->arg, ETCD_CLOSED, NULL);
	}
	etcd_free(c);
}

/* ---- the API -------------------------------------------------------- */

struct etcd *
etcd_new(struct ev_loop *loop, const struct etcd_config *cfg, char *err, size_t errlen)
{
	struct etcd *c = calloc(1, sizeof(*c));
	size_t i;
	int tls = 0;

	if (c == NULL || (c->scratch = malloc(ETCD_KEY_MAX + ETCD_VALUE_MAX + 2)) == NULL ||
	    (c->body = malloc(ETCD_BODY_MAX)) == NULL) {
		snprintf(err, errlen, "etcd: out of memory");
		goto fail;
	}
	c->loop = loop;
	etcd_http_init(&c->unary, loop);
	etcd_http_init(&c->watch, loop);
	ev_init(&c->retry, etcd_retry_cb);
	ev_init(&c->ka, etcd_ka_cb);
	ev_init(&c->end, etcd_end_cb);
	if (cfg->endpoints == NULL || etcd_url_parse(cfg->endpoints, c->eps,
	    ETCD_ENDPOINTS_MAX, &c->nep, err, errlen) == -1) {
		if (cfg->endpoints == NULL)
			snprintf(err, errlen, "etcd: no endpoints");
		goto fail;
	}
	for (i = 0; i < c->nep; i++) {
		if (etcd_url_resolve(&c->eps[i], err, errlen) == -1)
			goto fail;
		tls |= c->eps[i].tls;
	}
	if (tls && (c->tls = etcd_tls_new(cfg->ca, cfg->cert, cfg->key, err, errlen)) == NULL)
		goto fail;
	c->plen = cfg->prefix != NULL ? strlen(cfg->prefix) : 0;
	if (c->plen == 0 || c->plen >= ETCD_KEY_MAX / 2) {
		snprintf(err, errlen, "etcd: the key prefix must be 1 to %d bytes",
		    ETCD_KEY_MAX / 2 - 1);
		goto fail;
	}
	memcpy(c->prefix, cfg->prefix, c->plen + 1);
	c->ttl = cfg->ttl != 0 ? cfg->ttl : ETCD_TTL_DEFAULT;
	c->on_state = cfg->on_state;
	c->on_event = cfg->on_event;
	c->arg = cfg->arg;
	c->unary.tls = c->watch.tls = c->tls;
	c->unary.arg = c->watch.arg = c;
	c->unary.msg = etcd_unary_msg;
	c->unary.done = etcd_unary_done;
	c->watch.msg = etcd_watch_msg;
	c->watch.done = etcd_watch_done;
	c->state = ETCD_CONNECTING;
	ev_timer_set(&c->retry, 0., 0.);
	ev_timer_start(loop, &c->retry);
	ev_timer_set(&c->ka, c->ttl / 3.0, c->ttl / 3.0);
	ev_timer_start(loop, &c->ka);
	return c;
fail:
	if (c != NULL) {
		etcd_tls_free(c->tls);
		free(c->scratch);
		free(c->body);
	}
	free(c);
	return NULL;
}

enum etcd_state
etcd_state(const struct etcd *c)
{
	return c->state;
}

const char *
etcd_reason(const struct etcd *c)
{
	return c->reason;
}

int64_t
etcd_lease(const struct etcd *c)
{
	return c->lease;
}

static void
etcd_free(struct etcd *c)
{
	size_t i;

	etcd_http_free(&c->unary);
	etcd_http_free(&c->watch);
	ev_timer_stop(c->loop, &c->retry);
	ev_timer_stop(c->loop, &c->ka);
	ev_timer_stop(c->loop, &c->end);
	for (i = 0; i < c->nown; i++) {
		free(c->own[i].key);
		free(c->own[i].val);
	}
	for (i = 0; i < c->ndel; i++)
		free(c->dels[i].key);
	etcd_tls_free(c->tls);
	free(c->scratch);
	free(c->body);
	free(c);
}

void
etcd_close(struct etcd *c, int graceful)
{
	if (c->dead || c->closing)
		return;
	ev_timer_stop(c->loop, &c->retry);
	ev_timer_stop(c->loop, &c->ka);
	if (!graceful && c->depth == 0) {
		etcd_free(c);
		return;
	}
	/* the rest from the loop: a callback of ours may be on the stack,
	 * reading a response that a reset or a new request would free */
	if (graceful)
		c->closing = 1;
	else
		c->dead = 1;
	ev_timer_stop(c->loop, &c->end);
	ev_timer_set(&c->end, 0., 0.);
	ev_timer_start(c->loop, &c->end);
}

void
etcd_config_mesh(struct etcd_config *cfg, const struct conf_mesh *cm, char *prefix,
                 size_t size)
{
	snprintf(prefix, size, "/meshctl/%s/", cm->name);
	memset(cfg, 0, sizeof(*cfg));
	cfg->endpoints = cm->etcd;
	cfg->ca = cm->etcd_ca;
	cfg->cert = cm->etcd_cert;
	cfg->key = cm->etcd_key;
	cfg->ttl = (unsigned)(cm->registry_ttl_us / 1000000);
	cfg->prefix = prefix;
}
