/* SPDX-License-Identifier: ISC */
/*
 * mreg: this host's instances into etcd, the other hosts' out of it
 * (mreg.h).  The etcd client (etcd.h) does the talking, the lease and the
 * reconnecting; this file decides what to publish and keeps the view.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/control.h"
#include "mesh/etcd.h"
#include "mesh/mjoin.h"
#include "mesh/mreg.h"
#include "mesh/outlog.h"
#include "mesh/spiffe.h"

#define MREG_BAD_MAX 64   /* bad keys remembered, so each is logged once */
#define MREG_PUSH_S  0.1  /* view changes within this go to the sidecars as one */

struct mreg {
	struct meshd       *m;
	struct etcd        *c;          /* NULL once closed */
	enum etcd_state     st;
	int                 closing;
	ev_timer            close_deadline;
	unsigned char      *pub;        /* [m->ninst]: its key is in etcd */
	size_t              npub;       /* how many are */
	struct mreg_remote *rem;        /* [MREG_REMOTE_MAX], sorted: the view */
	size_t              nrem;
	/* A snapshot (RESET .. SYNCED) fills `next`; SYNCED swaps it in, so the
	 * sidecars never see a half-read view (nor an empty one while etcd
	 * comes back). */
	struct mreg_remote *next;       /* [MREG_REMOTE_MAX] */
	size_t              nnext;
	int                 full_said;  /* "table full" logged since the last RESET */
	int                 in_snapshot;/* between RESET and SYNCED */
	ev_timer            push;       /* the view changed: new documents soon */
	char               *bad[MREG_BAD_MAX];
	size_t              nbad;
	uint64_t            gen;        /* bumped on every change of the view */
	struct mjoin       *join;       /* keys under join/ (mjoin.h); NULL: not the root */
};

/* ---- publishing ------------------------------------------------------- */

static void
mreg_key(const struct mreg *r, const struct reg_instance *ri, char *buf, size_t size)
{
	snprintf(buf, size, MREG_KEY_DIR "%s/%s", r->m->cfg.mesh.host_name, ri->id);
}

static void
mreg_publish(struct mreg *r, size_t i)
{
	const struct mesh_config *cfg = &r->m->cfg;
	const struct reg_instance *ri = &r->m->reg.inst[i];
	struct mreg_rec rec;
	char key[ETCD_KEY_MAX], val[MREG_REC_MAX];
	int n;

	memset(&rec, 0, sizeof(rec));
	snprintf(rec.service, sizeof(rec.service), "%s", ri->svc->name);
	snprintf(rec.version, sizeof(rec.version), "%s", ri->svc->version);
	rec.index = ri->index;
	snprintf(rec.host, sizeof(rec.host), "%s", cfg->mesh.host_name);
	snprintf(rec.address, sizeof(rec.address), "%s", cfg->mesh.host_address);
	rec.port = ri->inbound_port;
	rec.weight = -1;
	snprintf(rec.protocol, sizeof(rec.protocol), "%s", conf_proto_name(ri->svc->protocol));
	if (spiffe_format(rec.spiffe, sizeof(rec.spiffe), cfg->mesh.trust_domain,
	    ri->svc->name) < 0 ||
	    (n = mreg_rec_encode(&rec, val, sizeof(val))) < 0) {
		outlog_event("registry: %s: record too long; not published", ri->id);
		return;
	}
	mreg_key(r, ri, key, sizeof(key));
	if (etcd_put(r->c, key, val, (size_t)n) == -1) {
		outlog_event("registry: %s: not published (more than %d keys?)",
		    key, ETCD_OWN_MAX);
		return;
	}
	r->pub[i] = 1;
	r->npub++;
}

static void
mreg_withdraw(struct mreg *r, size_t i)
{
	char key[ETCD_KEY_MAX];

	mreg_key(r, &r->m->reg.inst[i], key, sizeof(key));
	etcd_del(r->c, key);
	r->pub[i] = 0;
	r->npub--;
}

void
mreg_sync(struct meshd *m)
{
	struct mreg *r = m->mreg;
	size_t i;

	if (r == NULL || r->c == NULL || r->closing)
		return;
	for (i = 0; i < r->m->reg.ninst && i < m->ninst; i++) {
		const struct reg_instance *ri = &m->reg.inst[i];
		int want = m->phase < MESHD_STOPPING && ri->up && ri->inbound_port != 0;

		if (want && !r->pub[i])
			mreg_publish(r, i);
		else if (!want && r->pub[i])
			mreg_withdraw(r, i);
	}
}

/* ---- the view of the other hosts ------------------------------------- */

static int
mreg_rem_cmp(const void *a, const void *b)
{
	const struct mreg_remote *x = a, *y = b;
	int c;

	if ((c = strcmp(x->rec.service, y->rec.service)) != 0 ||
	    (c = strcmp(x->rec.version, y->rec.version)) != 0 ||
	    (c = strcmp(x->rec.host, y->rec.host)) != 0)
		return c;
	if (x->rec.index != y->rec.index)
		return x->rec.index < y->rec.index ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* The view changed: meshd's registry points at it again and, unless a
 * snapshot is being read, the sidecars get new documents shortly. */
static void
mreg_changed(struct mreg *r)
{
	r->gen++;
	r->m->reg.remote = r->rem;
	r->m->reg.nremote = r->nrem;
	if (!r->in_snapshot && !ev_is_active(&r->push))
		ev_timer_start(r->m->loop, &r->push);
}

static void
mreg_push_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mreg *r = w->data;

	(void)loop;
	(void)revents;
	control_push_all(r->m);
}

/* The table events go to: the snapshot being read, or the view. */
static struct mreg_remote *
mreg_tab(struct mreg *r, size_t **n)
{
	*n = r->in_snapshot ? &r->nnext : &r->nrem;
	return r->in_snapshot ? r->next : r->rem;
}

static struct mreg_remote *
mreg_rem_find(struct mreg *r, const char *host, const char *id)
{
	size_t i, *n;
	struct mreg_remote *t = mreg_tab(r, &n);

	for (i = 0; i < *n; i++)
		if (strcmp(t[i].rec.host, host) == 0 && strcmp(t[i].id, id) == 0)
			return &t[i];
	return NULL;
}

static void
mreg_rem_drop(struct mreg *r, const char *host, const char *id)
{
	size_t *n;
	struct mreg_remote *t = mreg_tab(r, &n), *e = mreg_rem_find(r, host, id);

	if (e == NULL)
		return;
	memmove(e, e + 1, (size_t)(t + *n - e - 1) * sizeof(*e));
	(*n)--;
	if (!r->in_snapshot)
		mreg_changed(r);
}

/* 1 when key was not yet known bad (and is now remembered). */
static int
mreg_bad_new(struct mreg *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->nbad; i++)
		if (strcmp(r->bad[i], key) == 0)
			return 0;
	if (r->nbad < MREG_BAD_MAX && (r->bad[r->nbad] = strdup(key)) != NULL)
		r->nbad++;
	return 1;
}

static void
mreg_bad_forget(struct mreg *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->nbad; i++)
		if (strcmp(r->bad[i], key) == 0) {
			free(r->bad[i]);
			r->bad[i] = r->bad[--r->nbad];
			return;
		}
}

static void
mreg_bad_clear(struct mreg *r)
{
	while (r->nbad > 0)
		free(r->bad[--r->nbad]);
}

static void
mreg_on_put(struct mreg *r, const char *key, const char *host, const char *id,
            const struct etcd_event *ev)
{
	struct mreg_remote *e, *t;
	struct mreg_rec rec;
	size_t *n;
	char why[160];

	if (mreg_rec_decode(ev->value, ev->value_len, &rec, why, sizeof(why)) == 0 &&
	    strcmp(rec.host, host) != 0)
		snprintf(why, sizeof(why), "host \"%s\" is not the key's", rec.host);
	else if (rec.host[0] != '\0') {
		mreg_bad_forget(r, key);
		t = mreg_tab(r, &n);
		if ((e = mreg_rem_find(r, host, id)) == NULL) {
			if (*n == MREG_REMOTE_MAX) {
				if (!r->full_said)
					outlog_event("registry: more than %d remote instances; "
					    "%s and later ones ignored", MREG_REMOTE_MAX, key);
				r->full_said = 1;
				return;
			}
			e = &t[(*n)++];
		}
		snprintf(e->id, sizeof(e->id), "%s", id);
		e->rec = rec;
		if (!r->in_snapshot) {
			qsort(r->rem, r->nrem, sizeof(*r->rem), mreg_rem_cmp);
			mreg_changed(r);
		}
		return;
	}
	mreg_rem_drop(r, host, id);
	if (mreg_bad_new(r, key))
		outlog_event("registry: %s: ignored: %s", key, why);
}

static void
mreg_event_cb(void *arg, const struct etcd_event *ev)
{
	struct mreg *r = arg;
	char key[ETCD_KEY_MAX + 1], host[CONF_HOST_NAME_MAX], id[REG_ID_MAX];

	switch (ev->type) {
	case ETCD_EV_RESET:
		r->nnext = 0;
		r->full_said = 0;
		r->in_snapshot = 1;
		mreg_bad_clear(r);
		return;
	case ETCD_EV_SYNCED: {
		struct mreg_remote *t = r->rem;

		qsort(r->next, r->nnext, sizeof(*r->next), mreg_rem_cmp);
		r->rem = r->next;
		r->nrem = r->nnext;
		r->next = t;
		r->nnext = 0;
		r->in_snapshot = 0;
		mreg_changed(r);
		outlog_event("registry: %zu instance(s) on other hosts (etcd revision %lld)",
		    r->nrem, (long long)ev->revision);
		return;
	}
	case ETCD_EV_PUT:
	case ETCD_EV_DELETE:
		break;
	}
	if (ev->key_len >= sizeof(key))
		return;
	memcpy(key, ev->key, ev->key_len);
	key[ev->key_len] = '\0';
	if (strncmp(key, MREG_OVR_DIR, sizeof(MREG_OVR_DIR) - 1) == 0) {
		/* a delete does not undo an override: `meshctl` sets the next */
		if (ev->type == ETCD_EV_PUT)
			mreg_ovr_event(r->m, key, ev->value, ev->value_len);
		return;
	}
	if (strncmp(key, MJOIN_DIR, sizeof(MJOIN_DIR) - 1) == 0) {
		mjoin_event(r->join, r->c, ev);
		return;
	}
	if (mreg_key_split(ev->key, ev->key_len, host, sizeof(host), id, sizeof(id)) == -1) {
		if (strncmp(key, MREG_KEY_DIR, sizeof(MREG_KEY_DIR) - 1) == 0 &&
		    mreg_bad_new(r, key))
			outlog_event("registry: %s: ignored: not instances/HOST/ID", key);
		return;   /* other kinds of keys are for later steps */
	}
	if (strcmp(host, r->m->cfg.mesh.host_name) == 0)
		return;   /* ours: svc knows better */
	if (ev->type == ETCD_EV_DELETE) {
		mreg_bad_forget(r, key);
		mreg_rem_drop(r, host, id);
	} else {
		mreg_on_put(r, key, host, id, ev);
	}
}

/* ---- the client's life ------------------------------------------------ */

static void
mreg_state_cb(void *arg, enum etcd_state st, const char *reason)
{
	struct mreg *r = arg;

	r->st = st;
	switch (st) {
	case ETCD_UP:
		outlog_event("registry: etcd up (lease %lld, host %s at %s)",
		    (long long)etcd_lease(r->c), r->m->cfg.mesh.host_name,
		    r->m->cfg.mesh.host_address);
		break;
	case ETCD_DOWN:
		outlog_event("registry: etcd down: %s; keeping the last view of %zu "
		    "remote instance(s)", reason != NULL ? reason : "", r->nrem);
		break;
	case ETCD_CLOSED:
		r->c = NULL;
		if (r->closing)
			ev_break(r->m->loop, EVBREAK_ONE);
		break;
	case ETCD_CONNECTING:
		break;
	}
}

int
mreg_open(struct meshd *m, char *err, size_t errlen)
{
	const struct conf_mesh *cm = &m->cfg.mesh;
	struct etcd_config ec;
	struct mreg *r;
	char prefix[CONF_NAME_MAX + 16];

	m->mreg = NULL;
	if (cm->registry != CONF_REGISTRY_ETCD)
		return 0;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->pub = calloc(m->ninst + 1, 1)) == NULL ||
	    (r->rem = calloc(MREG_REMOTE_MAX, sizeof(*r->rem))) == NULL ||
	    (r->next = calloc(MREG_REMOTE_MAX, sizeof(*r->next))) == NULL) {
		if (r != NULL) {
			free(r->rem);
			free(r->pub);
			free(r);
		}
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->m = m;
	r->st = ETCD_CONNECTING;
	ev_timer_init(&r->push, mreg_push_cb, MREG_PUSH_S, 0.);
	r->push.data = r;
	r->join = mjoin_new(m);
	etcd_config_mesh(&ec, cm, prefix, sizeof(prefix));
	ec.on_state = mreg_state_cb;
	ec.on_event = mreg_event_cb;
	ec.arg = r;
	if ((r->c = etcd_new(m->loop, &ec, err, errlen)) == NULL) {
		free(r->next);
		mjoin_free(r->join);
		free(r->rem);
		free(r->pub);
		free(r);
		return -1;
	}
	m->mreg = r;
	outlog_event("registry: etcd %s, prefix %s, host %s at %s, ttl %us",
	    cm->etcd, prefix, cm->host_name, cm->host_address, ec.ttl);
	return 0;
}

static void
mreg_free(struct mreg *r)
{
	mreg_ovr_forget();
	mreg_bad_clear(r);
	free(r->next);
	mjoin_free(r->join);
	free(r->rem);
	free(r->pub);
	free(r);
}

static void
mreg_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ONE);
}

void
mreg_close(struct meshd *m)
{
	struct mreg *r = m->mreg;

	if (r == NULL)
		return;
	m->mreg = NULL;
	m->reg.remote = NULL;
	m->reg.nremote = 0;
	if (m->loop != NULL)
		ev_timer_stop(m->loop, &r->push);
	if (r->c != NULL && m->loop != NULL) {
		r->closing = 1;
		etcd_close(r->c, 1);
		/* the client says CLOSED within 1 s; never wait much longer */
		ev_timer_init(&r->close_deadline, mreg_deadline_cb, 3.0, 0.);
		ev_timer_start(m->loop, &r->close_deadline);
		if (r->c != NULL)
			ev_run(m->loop, 0);
		ev_timer_stop(m->loop, &r->close_deadline);
		if (r->c != NULL) {
			/* closing already: the client is not ours to touch again */
			outlog_event("registry: etcd did not close in time");
			return;
		}
	} else if (r->c != NULL) {
		etcd_close(r->c, 0);
	}
	mreg_free(r);
}

struct etcd *
mreg_client(const struct meshd *m)
{
	const struct mreg *r = m->mreg;

	return r != NULL && !r->closing ? r->c : NULL;
}

/* ---- for status -------------------------------------------------------- */

const struct mreg *
mreg_get(const struct meshd *m)
{
	return m->mreg;
}

const char *
mreg_state(const struct mreg *r)
{
	switch (r->st) {
	case ETCD_CONNECTING: return "connecting";
	case ETCD_UP:         return "up";
	case ETCD_DOWN:       return "down";
	case ETCD_CLOSED:     return "closed";
	}
	return "?";
}

const char *
mreg_reason(const struct mreg *r)
{
	return r->c != NULL && r->st != ETCD_UP ? etcd_reason(r->c) : "";
}

const struct mreg_remote *
mreg_remotes(const struct mreg *r, size_t *n)
{
	*n = r->nrem;
	return r->rem;
}

size_t
mreg_published(const struct mreg *r)
{
	return r->npub;
}
