/* SPDX-License-Identifier: ISC */
/*
 * mjoin: answering join requests on the root host (mjoin.h).  Requests
 * are rare: each loads the root's key and the tokens file afresh, so a
 * root rollover or a token minted a moment ago is simply seen.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mesh/jtok.h"
#include "mesh/mjoin.h"
#include "mesh/outlog.h"
#include "mesh/pki.h"

struct mjoin_pending {
	char host[CONF_HOST_NAME_MAX];
	char mac[2 * JTOK_MAC_LEN + 1];
};

struct mjoin {
	struct meshd        *m;
	struct mjoin_pending p[MJOIN_PENDING_MAX];
	size_t               np;
	size_t               next;   /* the slot a full table gives up */
	struct jtok_req      req;    /* scratch: too big for the stack */
	struct jtok_answer   ans;
	struct jtok_set      set;
	char                 msg[JTOK_MSG_MAX];
};

static int
mjoin_path(const struct meshd *m, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", m->cfg.mesh.state_dir, name);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* 1 when <state_dir>/ca/ca.key exists: this host is the root. */
static int
mjoin_is_root(const struct meshd *m)
{
	char p[4096];
	struct stat st;

	return mjoin_path(m, "ca/" PKI_KEY_FILE, p, sizeof(p)) == 0 && stat(p, &st) == 0;
}

int
mjoin_mint(const struct meshd *m, unsigned ttl_s, time_t now, char *out, size_t size,
    char *err, size_t errlen)
{
	static struct jtok_set set;
	char path[4096];
	struct jtok t;

	if (m->cfg.mesh.registry != CONF_REGISTRY_ETCD) {
		snprintf(err, errlen, "join tokens need `registry = etcd` in [mesh] (the "
		    "joining host finds this one through etcd)");
		return -1;
	}
	if (!mjoin_is_root(m)) {
		snprintf(err, errlen, "this host joined mesh %s (no %s/ca/%s): mint join "
		    "tokens on the root host, which holds the root CA key",
		    m->cfg.mesh.name, m->cfg.mesh.state_dir, PKI_KEY_FILE);
		return -1;
	}
	if (ttl_s == 0 || ttl_s > JTOK_TTL_MAX) {
		snprintf(err, errlen, "token lifetime %us out of range (1s..24h)", ttl_s);
		return -1;
	}
	if (mjoin_path(m, JTOK_FILE, path, sizeof(path)) != 0 ||
	    jtok_load(path, &set, err, errlen) != 0)
		return -1;
	jtok_prune(&set, now);
	if (set.n == JTOK_FILE_MAX) {
		snprintf(err, errlen, "%s: %d tokens unexpired already; use or let some expire",
		    path, JTOK_FILE_MAX);
		return -1;
	}
	if (jtok_new(&t, m->cfg.mesh.name, (int64_t)now + ttl_s) != 0 ||
	    jtok_format(&t, out, size) < 0) {
		snprintf(err, errlen, "cannot make a token (random generator)");
		return -1;
	}
	set.t[set.n++] = t;
	if (jtok_save(path, &set, now, err, errlen) != 0)
		return -1;
	memset(&set, 0, sizeof(set));
	memset(&t, 0, sizeof(t));
	return 0;
}

struct mjoin *
mjoin_new(struct meshd *m)
{
	struct mjoin *j;

	if (!mjoin_is_root(m))
		return NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	j->m = m;
	return j;
}

void
mjoin_free(struct mjoin *j)
{
	if (j == NULL)
		return;
	memset(&j->set, 0, sizeof(j->set));
	free(j);
}

static struct mjoin_pending *
mjoin_pending(struct mjoin *j, const char *host)
{
	size_t i;

	for (i = 0; i < j->np; i++)
		if (strcmp(j->p[i].host, host) == 0)
			return &j->p[i];
	return NULL;
}

/* The answer in j->ans to join/certs/<host>. */
static void
mjoin_answer(struct mjoin *j, struct etcd *c, const char *host, const char *mac)
{
	struct mjoin_pending *p;
	char key[ETCD_KEY_MAX];
	int n;

	if (j->ans.error[0] != '\0')
		outlog_event("join: host %s refused: %s", host, j->ans.error);
	if ((p = mjoin_pending(j, host)) == NULL) {
		if (j->np < MJOIN_PENDING_MAX) {
			p = &j->p[j->np++];
		} else {
			/* full: the oldest answer stays in etcd, forgotten here */
			p = &j->p[j->next];
			j->next = (j->next + 1) % MJOIN_PENDING_MAX;
		}
	}
	snprintf(p->host, sizeof(p->host), "%s", host);
	snprintf(p->mac, sizeof(p->mac), "%s", mac);
	snprintf(key, sizeof(key), JTOK_CERT_DIR "%s", host);
	if ((n = jtok_answer_encode(&j->ans, j->msg, sizeof(j->msg))) < 0 ||
	    etcd_put(c, key, j->msg, (size_t)n) != 0)
		outlog_event("join: host %s: the answer could not be put in etcd (%s)", host,
		    n < 0 ? "too long" : "too many keys of this host");
}

static void mjoin_refuse(struct mjoin *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
mjoin_refuse(struct mjoin *j, const char *fmt, ...)
{
	va_list ap;

	memset(&j->ans, 0, sizeof(j->ans));
	va_start(ap, fmt);
	vsnprintf(j->ans.error, sizeof(j->ans.error), fmt, ap);
	va_end(ap);
}

/* Judge j->req from host; j->ans says the outcome. */
static void
mjoin_judge(struct mjoin *j, const char *host, time_t now)
{
	const struct conf_mesh *cm = &j->m->cfg.mesh;
	unsigned char id[JTOK_ID_LEN], der[PKI_CERT_MAX], csr[PKI_CSR_MAX];
	char path[4096], err[384], dir[4096];
	struct pki_certinfo ci;
	struct pki_ca *ca;
	struct jtok *t;
	size_t len, rlen;
	const char *rpem;
	int n;

	if (mjoin_path(j->m, JTOK_FILE, path, sizeof(path)) != 0 ||
	    jtok_load(path, &j->set, err, sizeof(err)) != 0) {
		outlog_event("join: host %s: %s", host, err);
		mjoin_refuse(j, "%s", "the root host cannot read its tokens file (its log says why)");
		return;
	}
	if (jtok_unhex(j->req.id, strlen(j->req.id), id, sizeof(id)) != 0 ||
	    (t = jtok_find(&j->set, id)) == NULL) {
		mjoin_refuse(j, "unknown join token %s (never minted here, or expired and "
		    "forgotten)", j->req.id);
		return;
	}
	if (!jtok_mac_ok(t->secret, j->req.csr, strlen(j->req.csr), host, j->req.mac)) {
		mjoin_refuse(j, "bad MAC for token %s: the secret does not match", j->req.id);
		return;
	}
	if (t->expiry <= (int64_t)now) {
		mjoin_refuse(j, "join token %s expired", j->req.id);
		return;
	}
	if (t->used) {
		mjoin_refuse(j, "join token %s already used", j->req.id);
		return;
	}
	n = pki_csr_pem_to_der(j->req.csr, strlen(j->req.csr), csr, sizeof(csr));
	snprintf(dir, sizeof(dir), "%s/ca", cm->state_dir);
	if (n <= 0) {
		mjoin_refuse(j, "%s", "bad CSR: not a PEM certificate request");
		return;
	}
	if ((ca = pki_ca_load_root(dir, err, sizeof(err))) == NULL) {
		outlog_event("join: host %s: %s", host, err);
		mjoin_refuse(j, "%s", "the root host cannot load its CA (its log says why)");
		return;
	}
	if (pki_issue_ca(ca, csr, (size_t)n, host, cm->name, now, der, sizeof(der), &len,
	    err, sizeof(err)) != 0) {
		pki_ca_free(ca);
		mjoin_refuse(j, "bad CSR: %s", err);
		return;
	}
	rpem = pki_ca_pem(ca, &rlen);
	memset(&j->ans, 0, sizeof(j->ans));
	n = rlen < sizeof(j->ans.root) ? pki_der_to_pem(der, len, j->ans.cert,
	    sizeof(j->ans.cert)) : -1;
	if (n > 0)
		memcpy(j->ans.root, rpem, rlen + 1);
	pki_ca_free(ca);
	if (n <= 0) {
		mjoin_refuse(j, "%s", "the certificate does not fit the answer");
		return;
	}
	if (jtok_mac(t->secret, j->ans.cert, strlen(j->ans.cert), j->ans.root, j->ans.mac) != 0) {
		mjoin_refuse(j, "%s", "cannot compute the answer's MAC");
		return;
	}
	t->used = 1;
	if (jtok_save(path, &j->set, (int64_t)now, err, sizeof(err)) != 0) {
		outlog_event("join: host %s: %s", host, err);
		mjoin_refuse(j, "%s", "the root host cannot record the token as used (its log "
		    "says why)");
		return;
	}
	if (pki_cert_info(der, len, &ci) == 0) {
		char when[32];
		struct tm tm;

		if (gmtime_r(&ci.not_after, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			snprintf(when, sizeof(when), "%lld", (long long)ci.not_after);
		outlog_event("join: host %s joined with token %s: intermediate CA serial %s, "
		    "valid until %s", host, j->req.id, ci.serial, when);
	}
}

static void
mjoin_request(struct mjoin *j, struct etcd *c, const char *host, const struct etcd_event *ev)
{
	struct mjoin_pending *p;
	char err[256];

	if (jtok_req_decode(ev->value, ev->value_len, &j->req, err, sizeof(err)) != 0) {
		mjoin_refuse(j, "bad request: %s", err);
		mjoin_answer(j, c, host, "");
		return;
	}
	if ((p = mjoin_pending(j, host)) != NULL && strcmp(p->mac, j->req.mac) == 0)
		return;   /* answered already: a new snapshot shows it again */
	if (strcmp(j->req.host, host) != 0)
		mjoin_refuse(j, "bad request: host \"%s\" is not the key's", j->req.host);
	else if (strcmp(host, j->m->cfg.mesh.host_name) == 0)
		mjoin_refuse(j, "host name %s is the root host's own", host);
	else
		mjoin_judge(j, host, time(NULL));
	mjoin_answer(j, c, host, j->req.mac);
	memset(&j->set, 0, sizeof(j->set));
}

void
mjoin_event(struct mjoin *j, struct etcd *c, const struct etcd_event *ev)
{
	const size_t rl = sizeof(JTOK_REQ_DIR) - 1, cl = sizeof(JTOK_CERT_DIR) - 1;
	char key[ETCD_KEY_MAX + 1], host[CONF_HOST_NAME_MAX];
	struct mjoin_pending *p;
	const char *h;

	if (j == NULL || (ev->type != ETCD_EV_PUT && ev->type != ETCD_EV_DELETE) ||
	    ev->key_len >= sizeof(key))
		return;
	memcpy(key, ev->key, ev->key_len);
	key[ev->key_len] = '\0';
	if (strncmp(key, JTOK_REQ_DIR, rl) == 0)
		h = key + rl;
	else if (strncmp(key, JTOK_CERT_DIR, cl) == 0)
		h = key + cl;
	else
		return;
	if (!conf_host_name_ok(h)) {
		if (ev->type == ETCD_EV_PUT && h == key + rl)
			outlog_event("join: %s: ignored: not a valid host name", key);
		return;
	}
	memcpy(host, h, strlen(h) + 1);   /* conf_host_name_ok(): it fits */
	if (h == key + rl && ev->type == ETCD_EV_PUT) {
		mjoin_request(j, c, host, ev);
		return;
	}
	if (ev->type != ETCD_EV_DELETE || (p = mjoin_pending(j, host)) == NULL)
		return;
	/* the request or the answer went: withdraw the answer, forget both */
	snprintf(key, sizeof(key), JTOK_CERT_DIR "%s", host);
	etcd_del(c, key);
	*p = j->p[--j->np];
	if (j->next >= j->np)
		j->next = 0;
}
