/* SPDX-License-Identifier: ISC */
/*
 * mreg_rec: an instance record of the registry (mreg.h) to and from its
 * JSON, and the key layout.  Decoding is strict: what another host (or
 * anyone with write access to etcd) puts there is untrusted input.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mesh/json_esc.h"
#include "mesh/json_scan.h"
#include "mesh/mreg.h"

#define MREG_TOKENS_MAX 64

int
mreg_rec_encode(const struct mreg_rec *rec, char *buf, size_t size)
{
	char sv[2 * CONF_NAME_MAX + 8], ve[2 * CONF_VERSION_MAX + 8];
	char ho[2 * CONF_HOST_NAME_MAX + 8], sp[2 * SPIFFE_URI_MAX + 8];
	char w[32] = "", pr[32] = "";
	int n;

	json_esc(sv, sizeof(sv), rec->service, strlen(rec->service), NULL);
	json_esc(ve, sizeof(ve), rec->version, strlen(rec->version), NULL);
	json_esc(ho, sizeof(ho), rec->host, strlen(rec->host), NULL);
	json_esc(sp, sizeof(sp), rec->spiffe, strlen(rec->spiffe), NULL);
	if (rec->weight >= 0)
		snprintf(w, sizeof(w), ",\"weight\":%d", rec->weight);
	if (rec->protocol[0] != '\0')
		snprintf(pr, sizeof(pr), ",\"protocol\":\"%s\"", rec->protocol);
	n = snprintf(buf, size, "{\"service\":%s,\"version\":%s,\"index\":%u,"
	    "\"host\":%s,\"address\":\"%s\",\"port\":%u,\"spiffe\":%s%s%s}",
	    sv, ve, rec->index, ho, rec->address, (unsigned)rec->port, sp, w, pr);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

static int
mreg_name_ok(const char *s, int dots)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || (dots && s[i] == '.')))
			return 0;
	return i > 0 && s[0] != '-' && s[0] != '.';
}

int
mreg_proto(const char *s)
{
	static const enum conf_proto all[] = { CONF_PROTO_HTTP, CONF_PROTO_HTTP2,
	    CONF_PROTO_GRPC, CONF_PROTO_TCP };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, conf_proto_name(all[i])) == 0)
			return (int)all[i];
	return -1;
}

/* A string member into buf (size: its capacity); 0 or -1. */
static int
mreg_str(const struct json_doc *d, int v, char *buf, size_t size)
{
	int n;

	if (json_scan_type(d, v) != JSON_STRING || d->t[v].len >= size)
		return -1;
	n = json_scan_str(d, v, buf, size);
	return n < 0 || (size_t)n != strlen(buf) ? -1 : 0;
}

/* A non-negative integer member no greater than max; 0 or -1. */
static int
mreg_uint(const struct json_doc *d, int v, int64_t max, int64_t *out)
{
	const char *s;
	uint32_t i;

	if (json_scan_type(d, v) != JSON_NUMBER)
		return -1;
	s = d->text + d->t[v].start;
	for (i = 0; i < d->t[v].len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;   /* no sign, fraction or exponent */
	if (d->t[v].len > 10)
		return -1;
	*out = json_scan_int(d, v, -1);
	return *out < 0 || *out > max ? -1 : 0;
}

int
mreg_rec_decode(const char *json, size_t len, struct mreg_rec *rec,
                char *err, size_t errlen)
{
	static const char *const members[] = { "service", "version", "index", "host",
	    "address", "port", "spiffe", "weight", "protocol" };
	struct json_doc d;
	struct in_addr a;
	unsigned seen = 0;
	int64_t v = 0;
	int k, rc = -1;
	size_t i;
	char name[16];
	const char *bad = NULL;

	memset(rec, 0, sizeof(*rec));
	rec->weight = -1;
	if (json_scan_parse(&d, json, len, MREG_TOKENS_MAX, err, errlen) == -1)
		return -1;
	if (json_scan_type(&d, 0) != JSON_OBJECT) {
		snprintf(err, errlen, "not a JSON object");
		goto out;
	}
	for (k = json_scan_child(&d, 0); k != -1; k = json_scan_next(&d, 0, k + 1)) {
		if (json_scan_str(&d, k, name, sizeof(name)) < 0)
			name[0] = '\0';
		for (i = 0; i < sizeof(members) / sizeof(members[0]); i++)
			if (strcmp(name, members[i]) == 0)
				break;
		if (i == sizeof(members) / sizeof(members[0])) {
			snprintf(err, errlen, "unknown member \"%.15s\"", name);
			goto out;
		}
		if (seen & (1u << i)) {
			snprintf(err, errlen, "member \"%s\" twice", name);
			goto out;
		}
		seen |= 1u << i;
		switch (i) {
		case 0:
			if (mreg_str(&d, k + 1, rec->service, sizeof(rec->service)) == -1 ||
			    !mreg_name_ok(rec->service, 0))
				bad = "service";
			break;
		case 1:
			if (mreg_str(&d, k + 1, rec->version, sizeof(rec->version)) == -1 ||
			    !mreg_name_ok(rec->version, 1))
				bad = "version";
			break;
		case 2:
			if (mreg_uint(&d, k + 1, MREG_INDEX_MAX, &v) == -1)
				bad = "index";
			rec->index = (unsigned)v;
			break;
		case 3:
			if (mreg_str(&d, k + 1, rec->host, sizeof(rec->host)) == -1 ||
			    !conf_host_name_ok(rec->host))
				bad = "host";
			break;
		case 4:
			if (mreg_str(&d, k + 1, rec->address, sizeof(rec->address)) == -1 ||
			    inet_pton(AF_INET, rec->address, &a) != 1)
				bad = "address";
			break;
		case 5:
			if (mreg_uint(&d, k + 1, 65535, &v) == -1 || v == 0)
				bad = "port";
			rec->port = (uint16_t)v;
			break;
		case 6:
			if (mreg_str(&d, k + 1, rec->spiffe, sizeof(rec->spiffe)) == -1 ||
			    strncmp(rec->spiffe, "spiffe://", 9) != 0)
				bad = "spiffe";
			break;
		case 7:
			if (mreg_uint(&d, k + 1, 100, &v) == -1)
				bad = "weight";
			rec->weight = (int)v;
			break;
		default:
			if (mreg_str(&d, k + 1, rec->protocol, sizeof(rec->protocol)) == -1 ||
			    mreg_proto(rec->protocol) == -1)
				bad = "protocol";
			break;
		}
		if (bad != NULL) {
			snprintf(err, errlen, "bad \"%s\"", bad);
			goto out;
		}
	}
	for (i = 0; i < 7; i++)
		if (!(seen & (1u << i))) {
			snprintf(err, errlen, "no \"%s\"", members[i]);
			goto out;
		}
	rc = 0;
out:
	json_scan_free(&d);
	if (rc == -1) {
		memset(rec, 0, sizeof(*rec));
		rec->weight = -1;
	}
	return rc;
}

int
mreg_key_split(const char *key, size_t len, char *host, size_t hsize,
               char *id, size_t isize)
{
	const size_t dl = sizeof(MREG_KEY_DIR) - 1;
	const char *h, *slash, *end = key + len;

	if (len <= dl || memcmp(key, MREG_KEY_DIR, dl) != 0)
		return -1;
	h = key + dl;
	if ((slash = memchr(h, '/', (size_t)(end - h))) == NULL || slash == h ||
	    (size_t)(slash - h) >= hsize || slash + 1 == end ||
	    (size_t)(end - slash - 1) >= isize ||
	    memchr(slash + 1, '/', (size_t)(end - slash - 1)) != NULL)
		return -1;
	memcpy(host, h, (size_t)(slash - h));
	host[slash - h] = '\0';
	memcpy(id, slash + 1, (size_t)(end - slash - 1));
	id[end - slash - 1] = '\0';
	return memchr(host, '\0', (size_t)(slash - h)) == NULL &&
	    memchr(id, '\0', (size_t)(end - slash - 1)) == NULL ? 0 : -1;
}
