/* SPDX-License-Identifier: ISC */
/*
 * ctl_join: `meshctl join --token TOKEN [-f FILE] [--timeout D]` — before
 * `up`, this host joins the mesh a root host runs (jtok.h, mjoin.h).
 *
 * Local checks first, each refusing with what to do: the token's syntax;
 * its mesh is the file's [mesh] name; registry = etcd; meshd is not
 * running; <state_dir>/ca/ holds neither ca.key (this host has a root of
 * its own) nor host.crt (it joined already).  Then the intermediate CA's
 * P-256 key is made here and never leaves: a CSR goes through etcd
 * (ctl_join_etcd.c), the certificate comes back, and once it is a CA for
 * our key signed by the root that sent it, host.key (0600), root.crt and
 * host.crt are written into <state_dir>/ca/ (0700), each whole (temporary
 * file, fsync, rename), host.crt last: it is the mark of a joined host.
 * Exit 0 joined, 1 refused or failed (the root's reason, or a timeout), 2
 * usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mesh/csr.h"
#include "mesh/ctl.h"
#include "mesh/jtok.h"
#include "mesh/pki.h"

#define CTL_JOIN_TIMEOUT_S 30

/* mkdir -p path, each new level 0700. */
static int
ctl_join_mkdirs(const char *path)
{
	char buf[4096];
	size_t i, n = strlen(path);

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) == -1 && errno != EEXIST)
			return -1;
		buf[i] = path[i];
	}
	return 0;
}

/* dir/name = data, whole: a temporary file, fsync, rename. */
static int
ctl_join_write(const char *dir, const char *name, mode_t mode, const char *data)
{
	char path[4096], tmp[4200];
	size_t len = strlen(data);
	int fd, bad;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)) == -1) {
		ctl_err("join: %s", tmp);
		return -1;
	}
	bad = fchmod(fd, mode) == -1 || write(fd, data, len) != (ssize_t)len || fsync(fd) == -1;
	if (close(fd) == -1 || bad || rename(tmp, path) == -1) {
		ctl_err("join: %s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* CTL_OK when <dir> holds neither ca.key nor host.crt and meshd is not up. */
static int
ctl_join_idle(const struct ctl_mesh *m, const char *file, const char *dir)
{
	static const char *const held[] = { PKI_KEY_FILE, "host.crt" };
	char p[4200];
	struct stat st;
	size_t i;
	int fd;

	if (ctl_conn_open(m, &fd) == CTL_OK) {
		close(fd);
		ctl_errx("join: mesh %s is running (%s): join before `meshctl up` (stop it "
		    "with `meshctl down -f %s`)", m->name, m->sock_path, file);
		return CTL_FAIL;
	}
	for (i = 0; i < sizeof(held) / sizeof(held[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, held[i]);
		if (stat(p, &st) == 0) {
			ctl_errx("join: %s exists: this host %s; to join instead, stop the mesh "
			    "and remove %s/ (ca.key, ca.crt, host.key, host.crt, root.crt)", p,
			    i == 0 ? "has a root CA of its own" : "joined already", dir);
			return CTL_FAIL;
		}
	}
	return CTL_OK;
}

/* The request for token t from this host, its key kept in id. */
static int
ctl_join_request(const struct ctl_mesh *m, const struct jtok *t, struct csr_ident *id,
    char *out, size_t size)
{
	static struct jtok_req r;
	char hint[CONF_HOST_NAME_MAX + 16];
	int n;

	memset(&r, 0, sizeof(r));
	jtok_hex(t->id, sizeof(t->id), r.id);
	snprintf(r.host, sizeof(r.host), "%s", m->cfg.mesh.host_name);
	snprintf(hint, sizeof(hint), "%s intermediate", r.host);
	if (csr_request_pem(id, hint, r.csr, sizeof(r.csr)) < 0 ||
	    jtok_mac(t->secret, r.csr, strlen(r.csr), r.host, r.mac) != 0 ||
	    (n = jtok_req_encode(&r, out, size)) < 0) {
		ctl_errx("join: cannot make the request (CSR, MAC)");
		return -1;
	}
	return n;
}

/* Check the answer against our key; write the files; say so. */
static int
ctl_join_accept(const struct ctl_mesh *m, const char *dir, struct csr_ident *id,
    const struct jtok_answer *a)
{
	static unsigned char cert[PKI_CERT_MAX], root[PKI_CERT_MAX];
	static char keypem[1024];
	struct pki_certinfo ci, ri;
	const unsigned char *key;
	size_t klen;
	char err[256];
	int cl, rl;

	key = csr_key_der(id, &klen);
	cl = pki_pem_to_der(a->cert, strlen(a->cert), cert, sizeof(cert));
	rl = pki_pem_to_der(a->root, strlen(a->root), root, sizeof(root));
	if (cl <= 0 || rl <= 0 || pki_ca_child_check(cert, (size_t)cl, root, (size_t)rl, key,
	    klen, err, sizeof(err)) != 0) {
		ctl_errx("join: the root host's answer is refused: %s",
		    cl <= 0 || rl <= 0 ? "its PEM does not decode" : err);
		return CTL_FAIL;
	}
	if (pki_cert_info(cert, (size_t)cl, &ci) != 0 || pki_cert_info(root, (size_t)rl, &ri) != 0 ||
	    pki_key_to_pem(key, klen, keypem, sizeof(keypem)) < 0) {
		ctl_errx("join: cannot read the certificates back");
		return CTL_FAIL;
	}
	if (ctl_join_mkdirs(dir) != 0 || chmod(dir, 0700) != 0) {
		ctl_err("join: %s", dir);
		return CTL_FAIL;
	}
	if (ctl_join_write(dir, "host.key", 0600, keypem) != 0 ||
	    ctl_join_write(dir, "root.crt", 0644, a->root) != 0 ||
	    ctl_join_write(dir, "host.crt", 0644, a->cert) != 0) {
		memset(keypem, 0, sizeof(keypem));
		return CTL_FAIL;
	}
	memset(keypem, 0, sizeof(keypem));
	printf("joined mesh %s as host %s; intermediate CA serial %s, root serial %s\n",
	    m->name, m->cfg.mesh.host_name, ci.serial, ri.serial);
	return CTL_OK;
}

int
ctl_join(const struct ctl_opts *o)
{
	static char req[JTOK_MSG_MAX];
	static struct jtok_answer ans;
	struct csr_ident *id = NULL;
	struct ctl_mesh m;
	struct jtok t;
	char err[256], dir[4096];
	int rc, n;

	if (o->token == NULL) {
		ctl_errx("join: --token TOKEN is needed (`meshctl certs --join-token` on the "
		    "root host prints one)");
		return CTL_USAGE;
	}
	if (jtok_parse(o->token, &t, err, sizeof(err)) != 0) {
		ctl_errx("join: --token: %s", err);
		return CTL_FAIL;
	}
	if ((rc = ctl_mesh_open(o->file, 0, &m)) != CTL_OK)
		return rc;
	rc = CTL_FAIL;
	if (strcmp(t.mesh, m.name) != 0) {
		ctl_errx("join: token is for mesh %s; %s names mesh %s", t.mesh, o->file, m.name);
		goto out;
	}
	if (m.cfg.mesh.registry != CONF_REGISTRY_ETCD) {
		ctl_errx("join: %s: [mesh] needs `registry = etcd` and `etcd = URL` to join "
		    "(the root host is found through etcd)", o->file);
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s/ca", m.cfg.mesh.state_dir);
	if (ctl_join_idle(&m, o->file, dir) != CTL_OK)
		goto out;
	if ((id = csr_new(err, sizeof(err))) == NULL) {
		ctl_errx("join: %s", err);
		goto out;
	}
	if ((n = ctl_join_request(&m, &t, id, req, sizeof(req))) < 0)
		goto out;
	if (ctl_join_ask(&m.cfg, req, (size_t)n, t.secret,
	    o->timeout_s != 0 ? o->timeout_s : CTL_JOIN_TIMEOUT_S, &ans) != CTL_OK)
		goto out;
	if (ans.error[0] != '\0') {
		ctl_errx("join: refused by the root host of mesh %s: %s", m.name, ans.error);
		goto out;
	}
	rc = ctl_join_accept(&m, dir, id, &ans);
out:
	memset(&t, 0, sizeof(t));
	csr_free(id);
	ctl_mesh_close(&m);
	return rc;
}
