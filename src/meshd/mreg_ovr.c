/* SPDX-License-Identifier: ISC */
/*
 * mreg_ovr: `meshctl weight`, `fault` and `mirror` set on one host apply
 * on every host of the mesh (issue 16), through etcd.
 *
 * The host where the command ran applies it as it always did (control_*.c)
 * and then puts the override's line under
 *
 *   overrides/<weight|fault|mirror>/<service> = {"host":"a","line":"api v1=90 v2=10"}
 *
 * without a lease (etcd_put_kept()): the mesh's setting outlives the host
 * that made it.  Every meshd, this one included, sees the key through its
 * watch (and in the snapshot when it starts or etcd comes back) and
 * applies the line with the same parser, the same push to the callers and
 * the same <state_dir> file as the command, unless it is the line it last
 * applied or published for that key.  A line this host cannot take (a
 * service or version it does not declare) is logged once and skipped:
 * each host checks the override against its own mesh.ini.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/control.h"
#include "mesh/etcd.h"
#include "mesh/faults.h"
#include "mesh/json_esc.h"
#include "mesh/json_scan.h"
#include "mesh/mirrors.h"
#include "mesh/mreg.h"
#include "mesh/outlog.h"
#include "mesh/weights.h"

#define OVR_SEEN_MAX (WEIGHTS_MAX + FAULTS_MAX + 256)

static const char *const ovr_dir[] = {
	[MREG_OVR_WEIGHT] = "weight", [MREG_OVR_FAULT] = "fault", [MREG_OVR_MIRROR] = "mirror",
};

/* What this host last applied or published, per key: an echo of it is
 * not applied twice, a refusal not logged twice. */
static struct {
	char *key;
	char *line;
} seen[OVR_SEEN_MAX];
static size_t nseen;

/* 1 when key's last line was `line`; else remember it (0). */
static int
ovr_seen(const char *key, const char *line)
{
	size_t i;
	char *l;

	for (i = 0; i < nseen && strcmp(seen[i].key, key) != 0; i++)
		;
	if (i < nseen && strcmp(seen[i].line, line) == 0)
		return 1;
	if ((l = strdup(line)) == NULL)
		return 0;
	if (i == nseen) {
		if (nseen == OVR_SEEN_MAX || (seen[i].key = strdup(key)) == NULL) {
			free(l);
			return 0;
		}
		nseen++;
	} else {
		free(seen[i].line);
	}
	seen[i].line = l;
	return 0;
}

void
mreg_ovr_forget(void)
{
	while (nseen > 0) {
		nseen--;
		free(seen[nseen].key);
		free(seen[nseen].line);
	}
}

int
mreg_ovr_encode(const char *host, const char *line, char *buf, size_t size)
{
	char h[2 * CONF_HOST_NAME_MAX + 8], l[2 * MREG_OVR_LINE_MAX + 8];
	int n;

	if (strlen(line) >= MREG_OVR_LINE_MAX)
		return -1;
	json_esc(h, sizeof(h), host, strlen(host), NULL);
	json_esc(l, sizeof(l), line, strlen(line), NULL);
	n = snprintf(buf, size, "{\"host\":%s,\"line\":%s}", h, l);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

int
mreg_ovr_decode(const char *json, size_t len, char *host, size_t hsize,
                char *line, size_t lsize)
{
	struct json_doc d;
	int k, h, l, n = 0, rc = -1;

	if (json_scan_parse(&d, json, len, 8, NULL, 0) == -1)
		return -1;
	if (json_scan_type(&d, 0) != JSON_OBJECT)
		goto out;
	for (k = json_scan_child(&d, 0); k != -1; k = json_scan_next(&d, 0, k + 1))
		n++;
	h = json_scan_key(&d, 0, "host");
	l = json_scan_key(&d, 0, "line");
	if (n != 2 || h == -1 || l == -1 || json_scan_type(&d, h) != JSON_STRING ||
	    json_scan_type(&d, l) != JSON_STRING ||
	    d.t[h].len >= hsize || d.t[l].len >= lsize ||   /* never cut short */
	    json_scan_str(&d, h, host, hsize) < 0 || !conf_host_name_ok(host) ||
	    json_scan_str(&d, l, line, lsize) < 0 || strlen(line) == 0 ||
	    (size_t)json_scan_str(&d, l, line, lsize) != strlen(line))
		goto out;
	rc = 0;
out:
	json_scan_free(&d);
	return rc;
}

void
mreg_ovr_publish(struct meshd *m, enum mreg_ovr kind, const char *service,
                 const char *line)
{
	struct etcd *c = mreg_client(m);
	char key[ETCD_KEY_MAX], val[2 * MREG_OVR_LINE_MAX + 2 * CONF_HOST_NAME_MAX + 32];
	int n;

	if (c == NULL)
		return;
	snprintf(key, sizeof(key), MREG_OVR_DIR "%s/%s", ovr_dir[kind], service);
	(void)ovr_seen(key, line);
	if ((n = mreg_ovr_encode(m->cfg.mesh.host_name, line, val, sizeof(val))) < 0 ||
	    etcd_put_kept(c, key, val, (size_t)n) == -1)
		outlog_event("registry: %s: not shared with the other hosts (too long, or "
		    "more than %d keys waiting)", key, ETCD_OWN_MAX);
}

/* `meshctl fault --off-all` here: "NAME off" for each service it named
 * ("a, b, c"). */
void
mreg_ovr_publish_off(struct meshd *m, enum mreg_ovr kind, const char *names)
{
	char name[CONF_NAME_MAX], line[CONF_NAME_MAX + 8];
	const char *p = names, *e;

	while (*p != '\0') {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) < sizeof(name)) {
			memcpy(name, p, (size_t)(e - p));
			name[e - p] = '\0';
			snprintf(line, sizeof(line), "%s off", name);
			mreg_ovr_publish(m, kind, name, line);
		}
		p = *e == ',' ? e + 1 : e;
		while (*p == ' ')
			p++;
	}
}

/* Apply one line as the command would; 0, or -1 with why. */
static int
ovr_apply(struct meshd *m, enum mreg_ovr kind, const char *service, const char *line,
          char *why, size_t whylen)
{
	static struct weight w;
	struct fault_ovr f;
	struct mirror_ovr mo;
	const char *svc;
	int rc;

	switch (kind) {
	case MREG_OVR_WEIGHT:
		if (weights_parse(&m->cfg, line, &w, why, whylen) == -1)
			return -1;
		svc = w.service;
		break;
	case MREG_OVR_FAULT:
		if (faults_parse(&m->cfg, line, &f, why, whylen) == -1)
			return -1;
		svc = f.service;
		break;
	default:
		if (mirrors_parse(&m->cfg, line, &mo, why, whylen) == -1)
			return -1;
		svc = mo.service;
		break;
	}
	if (strcmp(svc, service) != 0) {
		snprintf(why, whylen, "the line is about %s, the key about %s", svc, service);
		return -1;
	}
	rc = kind == MREG_OVR_WEIGHT ? weights_set(&m->weights, &m->cfg, &w) :
	    kind == MREG_OVR_FAULT ? faults_set(&m->faults, &m->cfg, &f) :
	    mirrors_set(&m->mirrors, &m->cfg, &mo);
	if (rc == -1) {
		snprintf(why, whylen, "too many overrides, or out of memory");
		return -1;
	}
	control_push_callers(m, service);
	rc = kind == MREG_OVR_WEIGHT ? weights_save(&m->weights, m->cfg.mesh.state_dir) :
	    kind == MREG_OVR_FAULT ? faults_save(&m->faults, m->cfg.mesh.state_dir) :
	    mirrors_save(&m->mirrors, m->cfg.mesh.state_dir);
	if (rc == -1)
		outlog_event("registry: %s override of %s applied, but not saved in %s",
		    ovr_dir[kind], service, m->cfg.mesh.state_dir);
	return 0;
}

void
mreg_ovr_event(struct meshd *m, const char *key, const char *value, size_t len)
{
	char host[CONF_HOST_NAME_MAX], line[MREG_OVR_LINE_MAX], why[512];
	const char *rest = key + sizeof(MREG_OVR_DIR) - 1, *service = NULL;
	enum mreg_ovr kind = MREG_OVR_WEIGHT;
	size_t k, dl;

	for (k = 0; k < sizeof(ovr_dir) / sizeof(ovr_dir[0]); k++) {
		dl = strlen(ovr_dir[k]);
		if (strncmp(rest, ovr_dir[k], dl) == 0 && rest[dl] == '/') {
			kind = (enum mreg_ovr)k;
			service = rest + dl + 1;
			break;
		}
	}
	if (service == NULL || *service == '\0' || strchr(service, '/') != NULL) {
		if (!ovr_seen(key, ""))
			outlog_event("registry: %s: ignored: not overrides/KIND/SERVICE", key);
		return;
	}
	if (mreg_ovr_decode(value, len, host, sizeof(host), line, sizeof(line)) == -1) {
		if (!ovr_seen(key, "\001bad"))
			outlog_event("registry: %s: ignored: not {\"host\":..,\"line\":..}", key);
		return;
	}
	if (ovr_seen(key, line))
		return;   /* ours coming back, or applied already */
	if (ovr_apply(m, kind, service, line, why, sizeof(why)) == -1) {
		outlog_event("registry: %s from host %s not applied here: %s", ovr_dir[kind],
		    host, why);
		return;
	}
	outlog_event("registry: %s %s (meshctl %s on host %s)", ovr_dir[kind], line,
	    ovr_dir[kind], host);
}
