/* SPDX-License-Identifier: ISC */
/*
 * mcert: meshd's CA and the leaves it issued (contract in
 * include/mesh/mcert.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>

#include "mesh/json_esc.h"
#include "mesh/log.h"
#include "mesh/mcert.h"
#include "mesh/pki.h"
#include "mesh/svc.h"
#include "mcert_int.h"

struct mcert_state mc;

static size_t
mcert_index(const struct meshd *m, const struct inst *in)
{
	return (size_t)(in - m->insts);
}

struct pki_ca *
mcert_signer(void)
{
	return mc.roll.phase == PKI_ROLL_SIGN && mc.next != NULL ? mc.next : mc.ca;
}

int
mcert_open(struct meshd *m, char *err, size_t errlen)
{
	struct pki_roll st;
	int created = 0;

	memset(&mc, 0, sizeof(mc));
	if (snprintf(mc.dir, sizeof(mc.dir), "%s/ca", m->cfg.mesh.state_dir) >=
	    (int)sizeof(mc.dir)) {
		snprintf(err, errlen, "%s/ca: path too long", m->cfg.mesh.state_dir);
		return -1;
	}
	memset(&st, 0, sizeof(st));
	if (pki_joined(mc.dir)) {
		/* an intermediate from `meshctl join`: no rollover here */
		if ((mc.ca = pki_ca_open_joined(mc.dir, err, errlen)) == NULL)
			return -1;
	} else {
		/* a rollover a crash interrupted: finish a promotion first, so
		 * that ca.key and ca.crt belong together again */
		if (pki_roll_recover(mc.dir, &st, err, errlen) == -1)
			return -1;
		if ((mc.ca = pki_ca_open(mc.dir, m->cfg.mesh.name, &created, err, errlen)) == NULL)
			return -1;
	}
	mc.ninst = m->ninst;
	mc.info = calloc(m->ninst + 1, sizeof(*mc.info));
	mc.has = calloc(m->ninst + 1, 1);
	mc.from_next = calloc(m->ninst + 1, 1);
	mc.rotating = calloc(m->ninst + 1, 1);
	mc.old = calloc(m->ninst + 1, sizeof(*mc.old));
	mc.rep = calloc(m->ninst + 1, sizeof(*mc.rep));
	if (mc.info == NULL || mc.has == NULL || mc.from_next == NULL || mc.rotating == NULL ||
	    mc.old == NULL || mc.rep == NULL) {
		mcert_close();
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (pki_ca_is_inter(mc.ca))
		log_info("joined mode: signing with the intermediate CA %s/%s under the root %s/%s",
		    mc.dir, PKI_HOST_CRT_FILE, mc.dir, PKI_ROOT_CRT_FILE);
	else
		log_info("%s CA in %s", created ? "created the" : "using the", mc.dir);
	if (st.phase != PKI_ROLL_NONE && mcert_roll_resume(m, &st, err, errlen) == -1) {
		mcert_close();
		return -1;
	}
	return 0;
}

void
mcert_close(void)
{
	pki_ca_free(mc.ca);
	pki_ca_free(mc.next);
	free(mc.info);
	free(mc.has);
	free(mc.from_next);
	free(mc.rotating);
	free(mc.old);
	free(mc.rep);
	memset(&mc, 0, sizeof(mc));
}

int
mcert_issue(struct meshd *m, struct inst *in, const char *csr_pem, size_t len,
    char **out, size_t *outlen, char *err, size_t errlen)
{
	unsigned char csr[PKI_CSR_MAX], leaf[PKI_CERT_MAX];
	char leafpem[PKI_PEM_MAX];
	const struct conf_mesh *cm = &m->cfg.mesh;
	struct pki_ca *signer = mcert_signer();
	const char *capem, *rootpem = NULL;
	size_t leaflen, calen, rootlen = 0, i = mcert_index(m, in);
	uint64_t ttl = cm->cert_ttl_us / 1000000u;
	int n, pl;

	*out = NULL;
	if (mc.ca == NULL || i >= mc.ninst) {
		snprintf(err, errlen, "meshd has no CA");
		return -1;
	}
	if (len == 0 || len > 4 * PKI_CSR_MAX ||
	    (n = wc_CertPemToDer((const unsigned char *)csr_pem, (int)len, csr,
	    (int)sizeof(csr), CERTREQ_TYPE)) <= 0) {
		snprintf(err, errlen, "the certificate request is not a PEM CSR");
		return -1;
	}
	if (ttl < PKI_TTL_MIN)
		ttl = PKI_TTL_MIN;
	if (ttl > PKI_TTL_MAX)
		ttl = PKI_TTL_MAX;
	/* the name is the instance's service, never one from the CSR */
	if (pki_issue(signer, csr, (size_t)n, cm->trust_domain, in->ri->svc->name,
	    (uint32_t)ttl, time(NULL), leaf, sizeof(leaf), &leaflen, err, errlen) == -1)
		return -1;
	if ((pl = pki_der_to_pem(leaf, leaflen, leafpem, sizeof(leafpem))) <= 0 ||
	    (capem = pki_ca_pem(signer, &calen)) == NULL) {
		snprintf(err, errlen, "cannot encode the certificate");
		return -1;
	}
	/* joined mode: leaf, intermediate, root (csr_accept_pem) */
	if (pki_ca_is_inter(signer) && (rootpem = pki_ca_root_pem(signer, &rootlen)) == NULL) {
		snprintf(err, errlen, "cannot encode the certificate");
		return -1;
	}
	if ((*out = malloc((size_t)pl + calen + rootlen + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(*out, leafpem, (size_t)pl);
	memcpy(*out + pl, capem, calen);
	if (rootlen > 0)
		memcpy(*out + pl + calen, rootpem, rootlen);
	*outlen = (size_t)pl + calen + rootlen;
	(*out)[*outlen] = '\0';
	if (pki_cert_info(leaf, leaflen, &mc.info[i]) == 0) {
		mc.has[i] = 1;
		mc.from_next[i] = signer == mc.next;
		if (mc.rotating[i] && strcmp(mc.old[i], mc.info[i].serial) != 0)
			mc.rotating[i] = 0;
	}
	log_info("%s: issued %s serial %s, valid %llu s", in->ri->name, mc.info[i].uri,
	    mc.info[i].serial, (unsigned long long)ttl);
	pki_trim();   /* issuing is rare: no 800 KB tables kept for it */
	return 0;
}

const struct pki_certinfo *
mcert_info(const struct meshd *m, const struct inst *in)
{
	size_t i = mcert_index(m, in);

	return i < mc.ninst && mc.has[i] ? &mc.info[i] : NULL;
}

void
mcert_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)t);
}

/* A JSON string: an identity, an instance's name or id, each of which
 * fits whole in the escaped size of the longest, the URI. */
static void
mcert_json_str(FILE *f, const char *s)
{
	char tmp[6 * sizeof(((struct pki_certinfo *)0)->uri) + 3];

	_Static_assert(REG_ID_MAX <= sizeof(((struct pki_certinfo *)0)->uri),
	    "an instance id fits where a URI does");
	fwrite(tmp, 1, json_esc(tmp, sizeof(tmp), s, strlen(s), NULL), f);
}

void
mcert_json(FILE *f, const struct pki_certinfo *ci)
{
	char nb[32], na[32];

	if (ci == NULL) {
		fputs("null", f);
		return;
	}
	mcert_time(ci->not_before, nb, sizeof(nb));
	mcert_time(ci->not_after, na, sizeof(na));
	fputs("{\"spiffe_id\":", f);
	mcert_json_str(f, ci->uri);
	fprintf(f, ",\"serial\":\"%s\",\"not_before\":\"%s\",\"not_after\":\"%s\"}",
	    ci->serial, nb, na);
}

int
mcert_format(const struct meshd *m, int json, char **out, size_t *len)
{
	char nb[32], na[32];
	FILE *f;
	size_t i;

	if ((f = open_memstream(out, len)) == NULL)
		return -1;
	if (json)
		fputs("{\"certs\":[", f);
	else
		fprintf(f, "%-20s %-44s %-34s %-20s %s\n", "INSTANCE", "IDENTITY", "SERIAL",
		    "NOT BEFORE", "NOT AFTER");
	for (i = 0; i < m->ninst && i < mc.ninst; i++) {
		const struct pki_certinfo *ci = mc.has[i] ? &mc.info[i] : NULL;

		if (ci != NULL) {
			mcert_time(ci->not_before, nb, sizeof(nb));
			mcert_time(ci->not_after, na, sizeof(na));
		}
		if (!json) {
			fprintf(f, "%-20s %-44s %-34s %-20s %s\n", m->insts[i].ri->name,
			    ci ? ci->uri : "-", ci ? ci->serial : "-", ci ? nb : "-",
			    ci ? na : "-");
			continue;
		}
		fputs(i > 0 ? ",{\"instance\":" : "{\"instance\":", f);
		mcert_json_str(f, m->insts[i].ri->name);
		fputs(",\"id\":", f);
		mcert_json_str(f, m->insts[i].ri->id);
		fputs(",\"cert\":", f);
		mcert_json(f, ci);
		fputc('}', f);
	}
	if (json)
		fputc(']', f);
	mcert_roots_format(f, json);
	if (json)
		fputs("}\n", f);
	if (ferror(f)) {
		fclose(f);
		free(*out);
		*out = NULL;
		return -1;
	}
	fclose(f);
	return 0;
}

void
mcert_rotate_mark(const struct meshd *m, const struct inst *in)
{
	size_t i = mcert_index(m, in);

	if (i >= mc.ninst)
		return;
	mc.rotating[i] = 1;
	snprintf(mc.old[i], sizeof(mc.old[i]), "%s", mc.has[i] ? mc.info[i].serial : "");
}

size_t
mcert_names(const struct meshd *m, char *buf, size_t size, mcert_pick_fn *pick, const void *arg)
{
	size_t i, n = 0, off = 0;

	if (size > 0)
		buf[0] = '\0';
	for (i = 0; i < mc.ninst && i < m->ninst; i++) {
		if (!pick(m, i, arg))
			continue;
		n++;
		if (off < size)
			off += (size_t)snprintf(buf + off, size - off, "%s%s", n > 1 ? ", " : "",
			    m->insts[i].ri->name);
	}
	return n;
}

static int
mcert_is_rotating(const struct meshd *m, size_t i, const void *arg)
{
	(void)m;
	(void)arg;
	return mc.rotating[i];
}

size_t
mcert_rotate_pending(const struct meshd *m, char *buf, size_t size)
{
	return mcert_names(m, buf, size, mcert_is_rotating, NULL);
}

void
mcert_rotate_clear(void)
{
	if (mc.rotating != NULL)
		memset(mc.rotating, 0, mc.ninst);
}

/* One CA certificate for status: text "CN (serial S, until T)" or a JSON
 * object {"subject","serial","not_after"}. */
static void
mcert_ca_cert(FILE *f, const unsigned char *der, size_t len, int json)
{
	struct pki_certinfo ci;
	char na[32];

	if (pki_cert_info(der, len, &ci) != 0) {
		fputs(json ? "null" : "?", f);
		return;
	}
	mcert_time(ci.not_after, na, sizeof(na));
	if (!json) {
		fprintf(f, "%s (serial %s, until %s)", ci.cn, ci.serial, na);
		return;
	}
	fputs("{\"subject\":", f);
	mcert_json_str(f, ci.cn);
	fprintf(f, ",\"serial\":\"%s\",\"not_after\":\"%s\"}", ci.serial, na);
}

void
mcert_status_ca(FILE *f, int json)
{
	const unsigned char *der;
	size_t len;

	if (!pki_ca_is_inter(mc.ca))
		return;
	fputs(json ? ",\"ca\":{\"mode\":\"joined\",\"intermediate\":" : "ca: intermediate ", f);
	der = pki_ca_der(mc.ca, &len);
	mcert_ca_cert(f, der, len, json);
	fputs(json ? ",\"root\":" : " from `meshctl join`, under root ", f);
	der = pki_ca_root_der(mc.ca, &len);
	mcert_ca_cert(f, der, len, json);
	fputs(json ? "}" : "\n\n", f);
}
