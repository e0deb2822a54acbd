/* SPDX-License-Identifier: ISC */
/*
 * jtok: the join token, its MAC and the two etcd messages (jtok.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/random.h>

#include "mesh/hex.h"
#include "mesh/jtok.h"
#include "mesh/json_esc.h"
#include "mesh/json_scan.h"

#define JTOK_TOKENS_MAX 32

int
jtok_new(struct jtok *t, const char *mesh, int64_t expiry)
{
	WC_RNG rng;
	int rc;

	memset(t, 0, sizeof(*t));
	if (strlen(mesh) >= sizeof(t->mesh) || wc_InitRng(&rng) != 0)
		return -1;
	rc = wc_RNG_GenerateBlock(&rng, t->id, sizeof(t->id)) == 0 &&
	    wc_RNG_GenerateBlock(&rng, t->secret, sizeof(t->secret)) == 0 ? 0 : -1;
	wc_FreeRng(&rng);
	snprintf(t->mesh, sizeof(t->mesh), "%s", mesh);
	t->expiry = expiry;
	return rc;
}

void
jtok_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int
jtok_unhex(const char *s, size_t len, unsigned char *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (len != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if ((hi = hex_digit(s[2 * i])) < 0 || (lo = hex_digit(s[2 * i + 1])) < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int
jtok_format(const struct jtok *t, char *out, size_t size)
{
	char id[2 * JTOK_ID_LEN + 1], sec[2 * JTOK_SECRET_LEN + 1];
	int n;

	jtok_hex(t->id, sizeof(t->id), id);
	jtok_hex(t->secret, sizeof(t->secret), sec);
	n = snprintf(out, size, JTOK_PREFIX "%s.%s.%s", t->mesh, id, sec);
	memset(sec, 0, sizeof(sec));
	return n < 0 || (size_t)n >= size ? -1 : n;
}

int
jtok_parse(const char *s, struct jtok *t, char *err, size_t errlen)
{
	const size_t pl = sizeof(JTOK_PREFIX) - 1, il = 2 * JTOK_ID_LEN,
	    sl = 2 * JTOK_SECRET_LEN;
	size_t len = strnlen(s, JTOK_STR_MAX + 1), ml, i;

	memset(t, 0, sizeof(*t));
	if (len > JTOK_STR_MAX || strncmp(s, JTOK_PREFIX, pl) != 0) {
		snprintf(err, errlen, "not a join token (want " JTOK_PREFIX
		    "MESH.ID.SECRET, as `meshctl certs --join-token` prints it)");
		return -1;
	}
	if (len < pl + 1 + 1 + il + 1 + sl || s[len - sl - 1] != '.' ||
	    s[len - sl - il - 2] != '.') {
		snprintf(err, errlen, "malformed join token: want " JTOK_PREFIX
		    "MESH.ID(16 hex).SECRET(64 hex)");
		return -1;
	}
	ml = len - pl - il - sl - 2;
	if (ml == 0 || ml >= sizeof(t->mesh)) {
		snprintf(err, errlen, "malformed join token: bad mesh name length");
		return -1;
	}
	for (i = 0; i < ml; i++) {
		char c = s[pl + i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) {
			snprintf(err, errlen, "malformed join token: bad mesh name");
			return -1;
		}
	}
	memcpy(t->mesh, s + pl, ml);
	if (jtok_unhex(s + pl + ml + 1, il, t->id, sizeof(t->id)) != 0 ||
	    jtok_unhex(s + len - sl, sl, t->secret, sizeof(t->secret)) != 0) {
		snprintf(err, errlen, "malformed join token: id and secret must be hex");
		memset(t, 0, sizeof(*t));
		return -1;
	}
	return 0;
}

static int
jtok_mac_raw(const unsigned char secret[JTOK_SECRET_LEN], const char *csr, size_t csrlen,
    const char *host, unsigned char out[JTOK_MAC_LEN])
{
	Hmac h;
	int rc;

	if (wc_HmacInit(&h, NULL, INVALID_DEVID) != 0)
		return -1;
	rc = wc_HmacSetKey(&h, WC_SHA256, secret, JTOK_SECRET_LEN) == 0 &&
	    wc_HmacUpdate(&h, (const byte *)csr, (word32)csrlen) == 0 &&
	    wc_HmacUpdate(&h, (const byte *)"\n", 1) == 0 &&
	    wc_HmacUpdate(&h, (const byte *)host, (word32)strlen(host)) == 0 &&
	    wc_HmacFinal(&h, out) == 0 ? 0 : -1;
	wc_HmacFree(&h);
	return rc;
}

int
jtok_mac(const unsigned char secret[JTOK_SECRET_LEN], const char *csr, size_t csrlen,
    const char *host, char *hex)
{
	unsigned char mac[JTOK_MAC_LEN];

	if (jtok_mac_raw(secret, csr, csrlen, host, mac) != 0)
		return -1;
	jtok_hex(mac, sizeof(mac), hex);
	return 0;
}

int
jtok_mac_ok(const unsigned char secret[JTOK_SECRET_LEN], const char *csr, size_t csrlen,
    const char *host, const char *hex)
{
	unsigned char want[JTOK_MAC_LEN], got[JTOK_MAC_LEN], diff = 0;
	size_t i;

	if (jtok_unhex(hex, strlen(hex), got, sizeof(got)) != 0 ||
	    jtok_mac_raw(secret, csr, csrlen, host, want) != 0)
		return 0;
	for (i = 0; i < sizeof(want); i++)
		diff |= (unsigned char)(want[i] ^ got[i]);
	return diff == 0;
}

/* ---- messages ---------------------------------------------------------- */

/* "name":<s as JSON> appended at out[*off]; -1 when it does not fit. */
static int
jtok_member(char *out, size_t size, size_t *off, const char *name, const char *s)
{
	size_t n = strlen(s), used, w;
	int k;

	k = snprintf(out + *off, size - *off, "%s\"%s\":", *off > 1 ? "," : "", name);
	if (k < 0 || (size_t)k >= size - *off)
		return -1;
	*off += (size_t)k;
	w = json_esc(out + *off, size - *off, s, n, &used);
	if (w == 0 || used != n)
		return -1;
	*off += w;
	return 0;
}

int
jtok_req_encode(const struct jtok_req *r, char *out, size_t size)
{
	size_t off = 1;

	if (size < 3)
		return -1;
	out[0] = '{';
	if (jtok_member(out, size, &off, "id", r->id) != 0 ||
	    jtok_member(out, size, &off, "host", r->host) != 0 ||
	    jtok_member(out, size, &off, "csr", r->csr) != 0 ||
	    jtok_member(out, size, &off, "mac", r->mac) != 0 || off + 2 > size)
		return -1;
	out[off++] = '}';
	out[off] = '\0';
	return (int)off;
}

int
jtok_answer_encode(const struct jtok_answer *a, char *out, size_t size)
{
	size_t off = 1;

	if (size < 3)
		return -1;
	out[0] = '{';
	if (a->error[0] != '\0') {
		if (jtok_member(out, size, &off, "error", a->error) != 0)
			return -1;
	} else if (jtok_member(out, size, &off, "cert", a->cert) != 0 ||
	    jtok_member(out, size, &off, "root", a->root) != 0 ||
	    jtok_member(out, size, &off, "mac", a->mac) != 0) {
		return -1;
	}
	if (off + 2 > size)
		return -1;
	out[off++] = '}';
	out[off] = '\0';
	return (int)off;
}

struct jtok_field {
	const char *name;
	char       *buf;
	size_t      size;
	int         seen;
};

/* Every member of the object a string that fits its field, each once,
 * no unknown one.  0 or -1 with err. */
static int
jtok_decode(const char *json, size_t len, struct jtok_field *f, size_t nf,
    char *err, size_t errlen)
{
	static char val[PKI_PEM_MAX + 2];   /* one more than any field: a cut shows */
	struct json_doc d;
	char key[32];
	size_t i;
	int k, n, rc = -1;

	if (json_scan_parse(&d, json, len, JTOK_TOKENS_MAX, err, errlen) != 0)
		return -1;
	if (json_scan_type(&d, 0) != JSON_OBJECT) {
		snprintf(err, errlen, "not a JSON object");
		goto out;
	}
	for (k = json_scan_child(&d, 0); k != -1; k = json_scan_next(&d, 0, k + 1)) {
		json_scan_str(&d, k, key, sizeof(key));
		for (i = 0; i < nf && strcmp(f[i].name, key) != 0; i++)
			;
		if (i == nf) {
			snprintf(err, errlen, "unknown member \"%s\"", key);
			goto out;
		}
		if (f[i].seen++ || (n = json_scan_str(&d, k + 1, val, sizeof(val))) < 0 ||
		    (size_t)n >= f[i].size) {
			snprintf(err, errlen, "\"%s\": repeated, not a string or too long", key);
			goto out;
		}
		memcpy(f[i].buf, val, (size_t)n + 1);
	}
	rc = 0;
out:
	json_scan_free(&d);
	return rc;
}

int
jtok_req_decode(const char *json, size_t len, struct jtok_req *r, char *err, size_t errlen)
{
	struct jtok_field f[] = {
		{ "id", r->id, sizeof(r->id), 0 }, { "host", r->host, sizeof(r->host), 0 },
		{ "csr", r->csr, sizeof(r->csr), 0 }, { "mac", r->mac, sizeof(r->mac), 0 },
	};
	size_t i;

	memset(r, 0, sizeof(*r));
	if (jtok_decode(json, len, f, 4, err, errlen) != 0)
		return -1;
	for (i = 0; i < 4; i++)
		if (!f[i].seen) {
			snprintf(err, errlen, "\"%s\" missing", f[i].name);
			return -1;
		}
	return 0;
}

int
jtok_answer_decode(const char *json, size_t len, struct jtok_answer *a, char *err,
    size_t errlen)
{
	struct jtok_field f[] = {
		{ "cert", a->cert, sizeof(a->cert), 0 }, { "root", a->root, sizeof(a->root), 0 },
		{ "error", a->error, sizeof(a->error), 0 }, { "mac", a->mac, sizeof(a->mac), 0 },
	};

	memset(a, 0, sizeof(*a));
	if (jtok_decode(json, len, f, 4, err, errlen) != 0)
		return -1;
	if (f[2].seen ? f[0].seen || f[1].seen || f[3].seen || a->error[0] == '\0' :
	    !f[0].seen || !f[1].seen || !f[3].seen) {
		snprintf(err, errlen, "want {\"cert\",\"root\",\"mac\"} or {\"error\"}");
		return -1;
	}
	return 0;
}
