/* SPDX-License-Identifier: ISC */
/*
 * fuzz_etcd_frame: meshd's etcd client on any response body.  The first
 * input byte picks the framing (chunked or a Content-Length of the rest)
 * and a cut; the body is fed whole and in two pieces at the cut, and both
 * give the same objects and the same verdict.  Each object is then read
 * as the client reads it (json_scan, the error object, int64 strings, the
 * kvs of a range and the events of a watch, decoded from base64 within
 * their bounds), and every decoded value is encoded back and compared.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_int.h"

#define CHECK(cond) do {                                                  \
	if (!(cond)) {                                                    \
		fprintf(stderr, "%s:%d: invariant failed: %s\n",          \
		        __FILE__, __LINE__, #cond);                       \
		abort();                                                  \
	}                                                                 \
} while (0)

#define OBJ_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct objs {
	char   text[65536];
	size_t len;
	int    n;
};

static int
keep(void *arg, const char *json, size_t len)
{
	struct objs *o = arg;

	CHECK(len >= 2 && len <= OBJ_MAX && json[0] == '{');
	CHECK(json[len - 1] == '}' || json[len - 1] == ']');
	if (o->len + len + 1 <= sizeof(o->text)) {
		memcpy(o->text + o->len, json, len);
		o->len += len;
		o->text[o->len++] = '\0';
	}
	o->n++;
	return 0;
}

static int
roundtrip(void *arg, const struct etcd_kv *kv)
{
	static char enc[(ETCD_VALUE_MAX + 2) / 3 * 4 + 1], dec[ETCD_VALUE_MAX];
	int n;

	(void)arg;
	CHECK(kv->key_len > 0 && kv->key_len <= ETCD_KEY_MAX);
	CHECK(kv->value_len <= ETCD_VALUE_MAX);
	n = etcd_json_b64enc(kv->value, kv->value_len, enc, sizeof(enc));
	CHECK(n >= 0);
	CHECK(etcd_json_b64dec(enc, (size_t)n, dec, sizeof(dec)) == (long)kv->value_len);
	CHECK(memcmp(dec, kv->value, kv->value_len) == 0);
	return 0;
}

static int
feed(const char *body, size_t n, size_t cut, int chunked, struct objs *o,
    const char **why)
{
	struct etcd_frame f;
	int rc;

	memset(&f, 0, sizeof(f));
	etcd_frame_init(&f, chunked, n, OBJ_MAX);
	rc = f.done ? 1 : etcd_frame_feed(&f, body, cut, keep, o);
	if (rc == 0)
		rc = etcd_frame_feed(&f, body + cut, n - cut, keep, o);
	*why = f.err;
	etcd_frame_free(&f);
	return rc;
}

static void
read_obj(const char *json, size_t len, char *scratch)
{
	struct json_doc d;
	char err[128], msg[128];

	if (json_scan_parse(&d, json, len, 4096, err, sizeof(err)) == -1)
		return;
	(void)etcd_json_error(&d, msg, sizeof(msg));
	(void)etcd_json_i64(&d, json_scan_path(&d, 0, "header.revision"), 0);
	(void)etcd_json_i64(&d, json_scan_path(&d, 0, "result.TTL"), 0);
	(void)etcd_json_kvs(&d, json_scan_key(&d, 0, "kvs"), 0, scratch, roundtrip, NULL,
	    err, sizeof(err));
	(void)etcd_json_kvs(&d, json_scan_path(&d, 0, "result.events"), 1, scratch, roundtrip,
	    NULL, err, sizeof(err));
	json_scan_free(&d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct objs whole, split;
	static char scratch[ETCD_KEY_MAX + ETCD_VALUE_MAX + 2];
	const char *body = (const char *)data + 1, *w1, *w2;
	size_t n, cut, off;
	int chunked, r1, r2;

	if (size < 1)
		return 0;
	n = size - 1;
	chunked = data[0] & 1;
	cut = n == 0 ? 0 : (size_t)(data[0] >> 1) * n / 127;
	if (cut > n)
		cut = n;
	whole.len = split.len = 0;
	whole.n = split.n = 0;
	r1 = feed(body, n, n, chunked, &whole, &w1);
	r2 = feed(body, n, cut, chunked, &split, &w2);
	CHECK(r1 == r2);
	CHECK(whole.n == split.n && whole.len == split.len);
	CHECK(memcmp(whole.text, split.text, whole.len) == 0);
	CHECK((w1 == NULL) == (w2 == NULL));
	for (off = 0; off < whole.len; off += strlen(whole.text + off) + 1)
		read_obj(whole.text + off, strlen(whole.text + off), scratch);
	return 0;
}
