/* SPDX-License-Identifier: ISC */
/*
 * ctl_join_etcd: `meshctl join`'s exchange with the root host through
 * etcd (jtok.h): put the request, wait for the answer, tidy up.
 *
 * meshd is not running here, so meshctl talks to etcd itself, with the
 * same client meshd uses (etcd.h, src/lib) on a loop of its own: TLS
 * (etcd_ca/cert/key), several endpoints with failover and a watch come
 * with it, where a blocking HTTP client of our own would have repeated
 * all three.  The request goes under this client's lease, so it vanishes
 * when meshctl ends, however it ends (and the root then withdraws its
 * answer).
 */
#include <stdio.h>
#include <string.h>

#include <ev.h>

#include "mesh/ctl.h"
#include "mesh/etcd.h"
#include "mesh/jtok.h"

#define CTL_JOIN_TIDY_S 3.0   /* deleting the keys, then revoking the lease */

struct ctl_join_wait {
	struct ev_loop           *loop;
	struct etcd              *c;
	const struct mesh_config *cfg;
	const unsigned char      *secret;
	struct jtok_answer       *ans;
	char                      ckey[ETCD_KEY_MAX];
	int                       got;        /* an answer for us came */
	int                       gone;       /* tidying: the answer's delete came back */
	int                       closed;
	int                       stale_said;
	enum etcd_state           st;
};

static void
ctl_join_event(void *arg, const struct etcd_event *ev)
{
	struct ctl_join_wait *w = arg;
	char err[256];

	if ((ev->type != ETCD_EV_PUT && ev->type != ETCD_EV_DELETE) ||
	    ev->key_len != strlen(w->ckey) || memcmp(ev->key, w->ckey, ev->key_len) != 0)
		return;
	if (ev->type == ETCD_EV_DELETE) {
		if (w->got) {
			w->gone = 1;
			ev_break(w->loop, EVBREAK_ONE);
		}
		return;
	}
	if (w->got)
		return;
	if (jtok_answer_decode(ev->value, ev->value_len, w->ans, err, sizeof(err)) != 0) {
		ctl_errx("join: %s%s: ignored: %s", "/meshctl/", w->ckey, err);
		return;
	}
	if (w->ans->error[0] == '\0' && !jtok_mac_ok(w->secret, w->ans->cert,
	    strlen(w->ans->cert), w->ans->root, w->ans->mac)) {
		/* an older answer, or one not from the root host: not ours */
		if (!w->stale_said)
			ctl_errx("join: an answer not made with this token is ignored; waiting");
		w->stale_said = 1;
		return;
	}
	w->got = 1;
	ev_break(w->loop, EVBREAK_ONE);
}

static void
ctl_join_state(void *arg, enum etcd_state st, const char *reason)
{
	struct ctl_join_wait *w = arg;

	(void)reason;
	w->st = st;
	if (st == ETCD_CLOSED) {
		w->closed = 1;
		w->c = NULL;
		ev_break(w->loop, EVBREAK_ONE);
	}
}

static void
ctl_join_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)t;
	(void)revents;
	ev_break(loop, EVBREAK_ONE);
}

/* Run the loop until a callback breaks it or secs pass. */
static void
ctl_join_run(struct ctl_join_wait *w, double secs)
{
	ev_timer t;

	ev_timer_init(&t, ctl_join_timeout, secs, 0.);
	ev_timer_start(w->loop, &t);
	ev_run(w->loop, 0);
	ev_timer_stop(w->loop, &t);
}

int
ctl_join_ask(const struct mesh_config *cfg, const char *req, size_t len,
    const unsigned char *secret, unsigned timeout_s, struct jtok_answer *ans)
{
	const struct conf_mesh *cm = &cfg->mesh;
	struct ctl_join_wait w;
	struct etcd_config ec;
	char prefix[CONF_NAME_MAX + 16], rkey[ETCD_KEY_MAX], err[512], why[800];
	int rc = CTL_FAIL;

	memset(&w, 0, sizeof(w));
	if ((w.loop = ev_loop_new(EVFLAG_AUTO)) == NULL) {
		ctl_errx("join: cannot make an event loop");
		return CTL_FAIL;
	}
	w.cfg = cfg;
	w.secret = secret;
	w.ans = ans;
	w.st = ETCD_CONNECTING;
	snprintf(w.ckey, sizeof(w.ckey), JTOK_CERT_DIR "%s", cm->host_name);
	snprintf(rkey, sizeof(rkey), JTOK_REQ_DIR "%s", cm->host_name);
	etcd_config_mesh(&ec, cm, prefix, sizeof(prefix));
	ec.on_state = ctl_join_state;
	ec.on_event = ctl_join_event;
	ec.arg = &w;
	if ((w.c = etcd_new(w.loop, &ec, err, sizeof(err))) == NULL) {
		ctl_errx("join: etcd %s: %s", cm->etcd, err);
		goto out;
	}
	if (etcd_put(w.c, rkey, req, len) != 0) {
		ctl_errx("join: the request does not fit in etcd (%zu bytes)", len);
		goto close;
	}
	ctl_join_run(&w, timeout_s);
	if (!w.got) {
		const char *r = w.c != NULL ? etcd_reason(w.c) : "";

		snprintf(why, sizeof(why), "%s%s", r[0] != '\0' ? "; etcd: " : "", r);
		ctl_errx("join: no answer for host %s within %us from the root host of mesh %s "
		    "through etcd %s (%s%s): is meshd running there, with its ca.key and "
		    "registry = etcd?", cm->host_name, timeout_s, cm->name, cm->etcd,
		    w.st == ETCD_UP ? "request put" : "etcd not reached", why);
		goto close;
	}
	rc = CTL_OK;
	/* tidy: our request and the answer; the lease goes with the close */
	etcd_del(w.c, w.ckey);
	etcd_del(w.c, rkey);
	if (!w.gone)
		ctl_join_run(&w, CTL_JOIN_TIDY_S);
close:
	if (w.c != NULL) {
		etcd_close(w.c, 1);
		if (!w.closed)
			ctl_join_run(&w, CTL_JOIN_TIDY_S);
	}
out:
	ev_loop_destroy(w.loop);
	return rc;
}
