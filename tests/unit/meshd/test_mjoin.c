/* SPDX-License-Identifier: ISC */
/*
 * test_mjoin: the root host's side of joining, without etcd — minting
 * (refused without registry = etcd or without ca.key), then requests fed
 * as watch events to a client that never connects (its own keys show
 * what would be put): a good request gets a certificate whose MAC the
 * joining host checks, the token is then used; a bad MAC, an unknown
 * token, a host name that is the root's own, a malformed request are
 * answered with an error; the same request again is not answered twice;
 * its deletion withdraws the answer; keys of join/ that are not requests
 * are ignored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mesh/csr.h"
#include "mesh/jtok.h"
#include "mesh/meshd_ctx.h"
#include "mesh/mjoin.h"
#include "mesh/outlog.h"
#include "mesh/pki.h"
#include "etcd_int.h"

static char base[64], cadir[128];
static struct meshd m;
static struct ev_loop *loop;
static struct etcd *c;

static int
setup(void **state)
{
	struct etcd_config ec;
	char err[256];
	int created;
	struct pki_ca *ca;

	(void)state;
	snprintf(base, sizeof(base), "/tmp/meshmjoin.XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	snprintf(cadir, sizeof(cadir), "%s/ca", base);
	memset(&m, 0, sizeof(m));
	m.cfg.mesh.state_dir = base;
	snprintf(m.cfg.mesh.name, sizeof(m.cfg.mesh.name), "demo");
	snprintf(m.cfg.mesh.host_name, sizeof(m.cfg.mesh.host_name), "r");
	m.cfg.mesh.registry = CONF_REGISTRY_ETCD;
	if ((ca = pki_ca_open(cadir, "demo", &created, err, sizeof(err))) == NULL)
		return -1;
	pki_ca_free(ca);
	loop = ev_loop_new(EVFLAG_AUTO);
	memset(&ec, 0, sizeof(ec));
	ec.endpoints = "http://127.0.0.1:9";
	ec.prefix = "/meshctl/demo/";
	c = etcd_new(loop, &ec, err, sizeof(err));
	return c != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	etcd_close(c, 0);
	ev_loop_destroy(loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_mint(void **state)
{
	char tok[JTOK_STR_MAX], err[512], path[256];
	static struct jtok_set set;
	struct jtok t;

	(void)state;
	assert_int_equal(mjoin_mint(&m, 60, 1000, tok, sizeof(tok), err, sizeof(err)), 0);
	assert_int_equal(jtok_parse(tok, &t, err, sizeof(err)), 0);
	assert_string_equal(t.mesh, "demo");
	snprintf(path, sizeof(path), "%s/" JTOK_FILE, base);
	assert_int_equal(jtok_load(path, &set, err, sizeof(err)), 0);
	assert_int_equal(set.n, 1);
	assert_int_equal(set.t[0].expiry, 1060);
	assert_int_equal(mjoin_mint(&m, 0, 1000, tok, sizeof(tok), err, sizeof(err)), -1);
	assert_int_equal(mjoin_mint(&m, JTOK_TTL_MAX + 1, 1000, tok, sizeof(tok), err,
	    sizeof(err)), -1);

	m.cfg.mesh.registry = CONF_REGISTRY_NONE;
	assert_int_equal(mjoin_mint(&m, 60, 1000, tok, sizeof(tok), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "registry = etcd"));
	m.cfg.mesh.registry = CONF_REGISTRY_ETCD;
	snprintf(path, sizeof(path), "%s/ca/ca.key", base);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mjoin_mint(&m, 60, 1000, tok, sizeof(tok), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "joined"));
	assert_null(mjoin_new(&m));
}

/* What the client would put at key (NULL: nothing). */
static const char *
own(const char *key)
{
	struct etcd_key *k = etcd_find(c->own, c->nown, key);

	return k != NULL ? k->val : NULL;
}

static void
feed(struct mjoin *j, enum etcd_ev_type type, const char *key, const char *val)
{
	struct etcd_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.key = key;
	ev.key_len = strlen(key);
	ev.value = val != NULL ? val : "";
	ev.value_len = val != NULL ? strlen(val) : 0;
	mjoin_event(j, c, &ev);
}

/* A request from host for token t (secret flipped when bad). */
static const char *
request(const struct jtok *t, const char *host, int bad, struct csr_ident *id)
{
	static struct jtok_req r;
	static char buf[JTOK_MSG_MAX];
	unsigned char sec[JTOK_SECRET_LEN];

	memset(&r, 0, sizeof(r));
	memcpy(sec, t->secret, sizeof(sec));
	sec[0] ^= (unsigned char)bad;
	jtok_hex(t->id, sizeof(t->id), r.id);
	snprintf(r.host, sizeof(r.host), "%s", host);
	assert_true(csr_request_pem(id, "x", r.csr, sizeof(r.csr)) > 0);
	assert_int_equal(jtok_mac(sec, r.csr, strlen(r.csr), host, r.mac), 0);
	assert_true(jtok_req_encode(&r, buf, sizeof(buf)) > 0);
	return buf;
}

static void
test_requests(void **state)
{
	static struct jtok_answer a;
	struct csr_ident *id = csr_new(NULL, 0);
	static char good[JTOK_MSG_MAX];
	char tok[JTOK_STR_MAX], err[512];
	const char *v;
	struct jtok t, unknown;
	struct mjoin *j;

	(void)state;
	assert_int_equal(mjoin_mint(&m, 600, time(NULL), tok, sizeof(tok), err, sizeof(err)), 0);
	assert_int_equal(jtok_parse(tok, &t, err, sizeof(err)), 0);
	assert_non_null(j = mjoin_new(&m));

	/* a bad MAC: refused, the token stays good */
	feed(j, ETCD_EV_PUT, "join/requests/j", request(&t, "j", 1, id));
	assert_non_null(v = own("join/certs/j"));
	assert_int_equal(jtok_answer_decode(v, strlen(v), &a, err, sizeof(err)), 0);
	assert_non_null(strstr(a.error, "bad MAC"));

	/* good: a certificate, with the answer's MAC */
	snprintf(good, sizeof(good), "%s", request(&t, "j", 0, id));
	feed(j, ETCD_EV_PUT, "join/requests/j", good);
	assert_non_null(v = own("join/certs/j"));
	assert_int_equal(jtok_answer_decode(v, strlen(v), &a, err, sizeof(err)), 0);
	assert_string_equal(a.error, "");
	assert_true(jtok_mac_ok(t.secret, a.cert, strlen(a.cert), a.root, a.mac));

	/* the same request again (a new snapshot): not answered twice */
	feed(j, ETCD_EV_PUT, "join/requests/j", good);
	v = own("join/certs/j");
	assert_int_equal(jtok_answer_decode(v, strlen(v), &a, err, sizeof(err)), 0);
	assert_string_equal(a.error, "");
	/* a new CSR with the used token: refused */
	feed(j, ETCD_EV_PUT, "join/requests/j", request(&t, "j", 0, id));
	v = own("join/certs/j");
	assert_non_null(strstr(v, "already used"));

	/* the request deleted: the answer withdrawn */
	feed(j, ETCD_EV_DELETE, "join/requests/j", NULL);
	assert_null(own("join/certs/j"));
	assert_non_null(etcd_find(c->dels, c->ndel, "join/certs/j"));

	/* refusals */
	assert_int_equal(jtok_new(&unknown, "demo", time(NULL) + 60), 0);
	feed(j, ETCD_EV_PUT, "join/requests/k", request(&unknown, "k", 0, id));
	v = own("join/certs/k");
	assert_non_null(strstr(v, "unknown join token"));
	feed(j, ETCD_EV_PUT, "join/requests/r", request(&t, "r", 0, id));
	assert_non_null(strstr(own("join/certs/r"), "root host's own"));
	feed(j, ETCD_EV_PUT, "join/requests/q", request(&t, "x", 0, id));
	assert_non_null(strstr(own("join/certs/q"), "not the key's"));
	feed(j, ETCD_EV_PUT, "join/requests/p", "{\"id\":1}");
	assert_non_null(strstr(own("join/certs/p"), "bad request"));
	feed(j, ETCD_EV_PUT, "join/requests/bad name", "{}");
	assert_null(own("join/certs/bad name"));
	feed(j, ETCD_EV_PUT, "join/other/x", "{}");
	assert_null(own("join/certs/x"));
	mjoin_free(j);
	csr_free(id);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mint, setup, teardown),
	};

	outlog_init(8, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
