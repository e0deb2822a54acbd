/* SPDX-License-Identifier: ISC */
/*
 * mcert_roll: the root rollover's state machine (contract in
 * include/mesh/mcert.h; files in pki.h; the procedure in docs/trust.md).
 * It decides; control_roll.c sends what it decides.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh/json_esc.h"
#include "mesh/log.h"
#include "mesh/mcert.h"
#include "mesh/svc.h"
#include "mcert_int.h"

static const char *const mcert_phase_names[] = {
	[PKI_ROLL_NONE] = "none", [PKI_ROLL_TRUST] = "trust",
	[PKI_ROLL_SIGN] = "sign", [PKI_ROLL_RETIRE] = "retire",
};

enum pki_roll_phase
mcert_roll_phase(void)
{
	return mc.roll.phase;
}

void
mcert_bundle(struct pki_bundle *b)
{
	const unsigned char *der;
	size_t len;
	char err[128];

	b->n = 0;
	/* the signing root first: it is the one a new leaf chains to */
	if (mc.roll.phase == PKI_ROLL_SIGN && mc.next != NULL) {
		der = pki_ca_der(mc.next, &len);
		(void)pki_bundle_add(b, der, len, err, sizeof(err));
	}
	if (mc.ca != NULL) {
		/* joined mode: the root above our intermediate, never the latter */
		der = pki_ca_root_der(mc.ca, &len);
		(void)pki_bundle_add(b, der, len, err, sizeof(err));
	}
	if (mc.roll.phase == PKI_ROLL_TRUST && mc.next != NULL) {
		der = pki_ca_der(mc.next, &len);
		(void)pki_bundle_add(b, der, len, err, sizeof(err));
	}
}

int
mcert_bundle_pem(char **out, size_t *len)
{
	struct pki_bundle *b = malloc(sizeof(*b));
	char *pem = malloc(PKI_PEM_MAX * PKI_BUNDLE_MAX);
	int n = -1;

	if (b != NULL && pem != NULL) {
		mcert_bundle(b);
		n = pki_bundle_to_pem(b, pem, PKI_PEM_MAX * PKI_BUNDLE_MAX);
	}
	free(b);
	if (n <= 0) {
		free(pem);
		return -1;
	}
	*out = pem;
	*len = (size_t)n;
	return 0;
}

/* The serial of a root (its certinfo), "" when absent. */
static void
mcert_root_serial(struct pki_ca *ca, char *out, size_t size)
{
	struct pki_certinfo ci;
	const unsigned char *der;
	size_t len;

	out[0] = '\0';
	if (ca != NULL && (der = pki_ca_der(ca, &len)) != NULL && pki_cert_info(der, len, &ci) == 0)
		snprintf(out, size, "%s", ci.serial);
}

int
mcert_roll_begin(struct meshd *m, time_t now, char *err, size_t errlen)
{
	struct pki_roll st = { PKI_ROLL_TRUST, now, 0 };
	char name[96], stamp[32];
	struct tm tm;
	int created = 0;

	if (mc.ca == NULL) {
		snprintf(err, errlen, "meshd has no CA");
		return -1;
	}
	if (pki_ca_is_inter(mc.ca)) {
		snprintf(err, errlen, "this host's CA is an intermediate from `meshctl join`; "
		    "rotate the root on the root host (%s/%s is its certificate)", mc.dir,
		    PKI_ROOT_CRT_FILE);
		return -1;
	}
	if (mc.roll.phase != PKI_ROLL_NONE)
		return 1;
	/* another subject than the old root's, so that people and tools tell
	 * them apart (wolfSSL finds a leaf's root by its key id anyway) */
	if (gmtime_r(&now, &tm) == NULL || strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
	snprintf(name, sizeof(name), "%.40s %s", m->cfg.mesh.name, stamp);
	if ((mc.next = pki_ca_open_next(mc.dir, name, 1, &created, err, errlen)) == NULL)
		return -1;
	if (pki_roll_write(mc.dir, &st, err, errlen) == -1) {
		pki_ca_free(mc.next);
		mc.next = NULL;
		(void)pki_roll_discard(mc.dir, NULL, 0);
		return -1;
	}
	mc.roll = st;
	mc.out_since = 0;
	log_info("root rollover: %s new root in %s/%s; phase trust (every sidecar trusts both)",
	    created ? "made a" : "took up the", mc.dir, PKI_NEXT_CRT_FILE);
	return 0;
}

int
mcert_roll_resume(struct meshd *m, const struct pki_roll *st, char *err, size_t errlen)
{
	(void)m;
	if ((mc.next = pki_ca_open_next(mc.dir, NULL, 0, NULL, err, errlen)) == NULL) {
		if (err[0] == '\0')
			snprintf(err, errlen, "%s/%s: missing", mc.dir, PKI_NEXT_KEY_FILE);
		return -1;
	}
	mc.roll = *st;
	/* the sidecars' reports are gone with the old meshd: TRUST waits
	 * for them anew, from now */
	if (mc.roll.phase == PKI_ROLL_TRUST)
		mc.roll.since = time(NULL);
	log_info("root rollover: resuming phase %s%s", mcert_phase_names[mc.roll.phase],
	    mc.roll.phase == PKI_ROLL_SIGN ? " (the old root retires when every sidecar "
	    "presents a new leaf, or at the deadline)" : "");
	return 0;
}

void
mcert_ident_reset(const struct meshd *m, const struct inst *in)
{
	size_t i = (size_t)(in - m->insts);

	if (i < mc.ninst)
		memset(&mc.rep[i], 0, sizeof(mc.rep[i]));
}

int
mcert_ident_report(const struct meshd *m, const struct inst *in, const char *p, size_t len)
{
	size_t i = (size_t)(in - m->insts);
	struct mcert_rep r;

	if (i >= mc.ninst || ipc_ident_parse(p, len, &r.id) == -1)
		return -1;
	r.ok = 1;
	mc.rep[i] = r;
	return 0;
}

static int
mcert_rep_trusts(const struct mcert_rep *r, const char *serial)
{
	size_t k;

	for (k = 0; k < r->id.nroots; k++)
		if (strcmp(r->id.roots[k], serial) == 0)
			return 1;
	return 0;
}

/* The two roots' serials, for mcert_inst_waits. */
struct mcert_serials {
	char ca[MCERT_SERIAL_MAX], next[MCERT_SERIAL_MAX];
};

/* 1 when instance i is not yet where the current phase wants it. */
static int
mcert_inst_waits(const struct meshd *m, size_t i, const void *arg)
{
	const struct mcert_serials *sr = arg;
	const struct mcert_rep *r = &mc.rep[i];

	/* no process, no leaf; a new one starts with the bundle.  A stopping
	 * one still serves (draining) with what it holds: waited for */
	if (m->insts[i].proxy.state != PROC_RUNNING && m->insts[i].proxy.state != PROC_STOPPING)
		return 0;
	if (!r->ok)
		return 1;
	if (mc.roll.phase == PKI_ROLL_TRUST)
		return !(mcert_rep_trusts(r, sr->ca) && mcert_rep_trusts(r, sr->next));
	return !(mc.has[i] && mc.from_next[i] && strcmp(r->id.leaf, mc.info[i].serial) == 0);
}

size_t
mcert_roll_pending(const struct meshd *m, char *buf, size_t size)
{
	struct mcert_serials sr;

	if (size > 0)
		buf[0] = '\0';
	if (mc.roll.phase != PKI_ROLL_TRUST && mc.roll.phase != PKI_ROLL_SIGN)
		return 0;
	mcert_root_serial(mc.ca, sr.ca, sizeof(sr.ca));
	mcert_root_serial(mc.next, sr.next, sizeof(sr.next));
	return mcert_names(m, buf, size, mcert_inst_waits, &sr);
}

int
mcert_roll_stale(const struct meshd *m, const struct inst *in)
{
	size_t i = (size_t)(in - m->insts);
	const struct mcert_rep *r;

	if (mc.roll.phase != PKI_ROLL_SIGN || i >= mc.ninst)
		return 0;
	r = &mc.rep[i];
	return r->ok && r->id.leaf[0] != '\0' &&
	    !(mc.has[i] && mc.from_next[i] && strcmp(r->id.leaf, mc.info[i].serial) == 0);
}

static enum mcert_step
mcert_roll_abort(char *why, size_t size)
{
	struct pki_roll none = { PKI_ROLL_NONE, 0, 0 };
	char err[256];

	if (pki_roll_write(mc.dir, &none, err, sizeof(err)) == -1 ||
	    pki_roll_discard(mc.dir, err, sizeof(err)) == -1)
		log_warnx("root rollover: abandoning: %s", err);
	pki_ca_free(mc.next);
	mc.next = NULL;
	mc.roll = none;
	log_warnx("root rollover abandoned: %s; the old root stays", why);
	(void)size;
	return MCERT_STEP_ABORTED;
}

static enum mcert_step
mcert_roll_retire(const char *how)
{
	struct pki_roll none = { PKI_ROLL_NONE, 0, 0 };
	char err[256];
	size_t i;

	if (pki_roll_promote(mc.dir, err, sizeof(err)) == -1) {
		log_warnx("root rollover: cannot retire the old root yet: %s", err);
		return MCERT_STEP_WAIT;     /* the next step tries again */
	}
	pki_ca_free(mc.ca);
	mc.ca = mc.next;
	mc.next = NULL;
	mc.roll = none;
	mc.out_since = 0;
	for (i = 0; i < mc.ninst; i++)
		mc.from_next[i] = 0;
	log_info("root rollover: the old root retired (%s); its files are gone", how);
	return MCERT_STEP_RETIRED;
}

enum mcert_step
mcert_roll_step(struct meshd *m, time_t now, char *why, size_t size)
{
	char names[512], err[256];
	size_t left;
	uint64_t ttl = m->cfg.mesh.cert_ttl_us / 1000000u;

	if (size > 0)
		why[0] = '\0';
	if (mc.roll.phase == PKI_ROLL_NONE || mc.next == NULL)
		return MCERT_STEP_IDLE;
	left = mcert_roll_pending(m, names, sizeof(names));
	if (mc.roll.phase == PKI_ROLL_TRUST) {
		struct pki_roll st = { PKI_ROLL_SIGN, now, 0 };

		if (left > 0) {
			if (now - mc.roll.since < MCERT_TRUST_MAX_S)
				return MCERT_STEP_WAIT;
			snprintf(why, size, "no sidecar confirmation of the new trust bundle "
			    "within %d s from: %s", MCERT_TRUST_MAX_S, names);
			return mcert_roll_abort(why, size);
		}
		if (ttl < PKI_TTL_MIN)
			ttl = PKI_TTL_MIN;
		if (ttl > PKI_TTL_MAX)
			ttl = PKI_TTL_MAX;
		/* every leaf of the old root was issued before now, valid at
		 * most ttl: none is valid after this */
		st.deadline = now + (time_t)ttl + 1;
		if (pki_roll_write(mc.dir, &st, err, sizeof(err)) == -1) {
			log_warnx("root rollover: %s; still in phase trust", err);
			return MCERT_STEP_WAIT;
		}
		mc.roll = st;
		mc.out_since = 0;
		mcert_time(st.deadline, names, sizeof(names));
		log_info("root rollover: every sidecar trusts both roots; phase sign "
		    "(leaves from the new root; the old one retires by %s at the latest)", names);
		return MCERT_STEP_SIGN;
	}
	if (now >= mc.roll.deadline) {
		if (left > 0)
			snprintf(why, size, "deadline reached; still on the old root: %s", names);
		return mcert_roll_retire("every leaf it signed has expired");
	}
	if (left > 0) {
		mc.out_since = 0;
		return MCERT_STEP_WAIT;
	}
	if (mc.out_since == 0)
		mc.out_since = now;
	if (now - mc.out_since < MCERT_GRACE_S)
		return MCERT_STEP_WAIT;
	return mcert_roll_retire("every running sidecar presents a leaf from the new root");
}

/* One CA certificate: a table row, or a JSON object. */
static void
mcert_cert_row(FILE *f, const unsigned char *der, size_t len, const char *state, int json,
    int first)
{
	struct pki_certinfo ci;
	char na[32], tmp[6 * sizeof(ci.cn) + 3];

	if (der == NULL || pki_cert_info(der, len, &ci) != 0)
		return;
	mcert_time(ci.not_after, na, sizeof(na));
	if (!json) {
		fprintf(f, "%-40s %-34s %-20s %s\n", ci.cn, ci.serial, na, state);
		return;
	}
	fputs(first ? "{\"subject\":" : ",{\"subject\":", f);
	fwrite(tmp, 1, json_esc(tmp, sizeof(tmp), ci.cn, strlen(ci.cn), NULL), f);
	fprintf(f, ",\"serial\":\"%s\",\"not_after\":\"%s\",\"state\":\"%s\"}", ci.serial, na,
	    state);
}

static void
mcert_root_row(FILE *f, struct pki_ca *ca, const char *state, int json, int first)
{
	const unsigned char *der;
	size_t len;

	if (ca != NULL && (der = pki_ca_der(ca, &len)) != NULL)
		mcert_cert_row(f, der, len, state, json, first);
}

/* Joined mode: the root (its key on the root host) and our intermediate. */
static void
mcert_joined_format(FILE *f, int json)
{
	const unsigned char *der;
	size_t len;

	der = pki_ca_root_der(mc.ca, &len);
	mcert_cert_row(f, der, len, json ? "active" : "active (key on the root host)", json, 1);
	if (json) {
		fputs("],\"intermediate\":", f);
		mcert_root_row(f, mc.ca, "intermediate", json, 1);
		fputs(",\"rollover\":{\"phase\":\"none\",\"deadline\":null}", f);
		return;
	}
	mcert_root_row(f, mc.ca, "intermediate (signs this host's leaves)", json, 0);
}

void
mcert_roots_format(FILE *f, int json)
{
	const char *old_state = mc.roll.phase == PKI_ROLL_SIGN ? "retiring" : "active";
	const char *new_state = mc.roll.phase == PKI_ROLL_SIGN ? "active" : "next";
	char dl[32];

	if (mc.ca == NULL)
		return;
	if (json) {
		fputs(",\"roots\":[", f);
	} else {
		fprintf(f, "\n%-40s %-34s %-20s %s\n", "ROOT", "SERIAL", "NOT AFTER", "STATE");
	}
	if (pki_ca_is_inter(mc.ca)) {
		mcert_joined_format(f, json);
		return;
	}
	mcert_root_row(f, mc.ca, old_state, json, 1);
	if (mc.next != NULL)
		mcert_root_row(f, mc.next, new_state, json, 0);
	if (!json) {
		if (mc.roll.phase == PKI_ROLL_SIGN) {
			mcert_time(mc.roll.deadline, dl, sizeof(dl));
			fprintf(f, "rollover: phase sign; the old root retires by %s at the latest\n", dl);
		} else if (mc.roll.phase == PKI_ROLL_TRUST) {
			fputs("rollover: phase trust; sidecars are taking the new root in\n", f);
		}
		return;
	}
	fprintf(f, "],\"rollover\":{\"phase\":\"%s\",\"deadline\":",
	    mcert_phase_names[mc.roll.phase]);
	if (mc.roll.phase == PKI_ROLL_SIGN) {
		mcert_time(mc.roll.deadline, dl, sizeof(dl));
		fprintf(f, "\"%s\"}", dl);
	} else {
		fputs("null}", f);
	}
}
