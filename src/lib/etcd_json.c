/* SPDX-License-Identifier: ISC */
/*
 * etcd_json: what the gateway reads and writes.  Keys and values travel
 * as base64 strings; int64 fields (revisions, lease IDs) as decimal
 * strings.  Every body is built into the caller's buffer, bounded.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "etcd_int.h"

static const char etcd_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
etcd_json_b64enc(const void *p, size_t n, char *out, size_t size)
{
	const unsigned char *s = p;
	size_t i, o = 0;

	if (size == 0 || (n + 2) / 3 * 4 >= size)
		return -1;
	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = etcd_b64[s[i] >> 2];
		out[o++] = etcd_b64[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		out[o++] = etcd_b64[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
		out[o++] = etcd_b64[s[i + 2] & 63];
	}
	if (i < n) {
		out[o++] = etcd_b64[s[i] >> 2];
		if (i + 1 < n) {
			out[o++] = etcd_b64[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
			out[o++] = etcd_b64[(s[i + 1] & 15) << 2];
		} else {
			out[o++] = etcd_b64[(s[i] & 3) << 4];
			out[o++] = '=';
		}
		out[o++] = '=';
	}
	out[o] = '\0';
	return (int)o;
}

static int
etcd_b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
etcd_json_b64dec(const char *s, size_t n, char *out, size_t size)
{
	size_t i, o = 0, pad = 0;
	uint32_t acc = 0;
	int v, k = 0;

	if (n % 4 != 0)
		return -1;
	if (n > 0 && s[n - 1] == '=')
		pad++;
	if (n > 1 && s[n - 2] == '=')
		pad++;
	if (n / 4 * 3 - pad > size)
		return -1;
	for (i = 0; i < n - pad; i++) {
		if ((v = etcd_b64val(s[i])) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		if (++k == 4) {
			out[o++] = (char)(acc >> 16);
			out[o++] = (char)(acc >> 8);
			out[o++] = (char)acc;
			acc = 0;
			k = 0;
		}
	}
	if (k == 3) {
		out[o++] = (char)(acc >> 10);
		out[o++] = (char)(acc >> 2);
	} else if (k == 2) {
		out[o++] = (char)(acc >> 4);
	}
	return (long)o;
}

size_t
etcd_json_range_end(const char *prefix, size_t n, char *out)
{
	memcpy(out, prefix, n);
	/* "/a/" ends before "/a0"; a prefix of 0xff bytes has no end: all keys */
	while (n > 0 && (unsigned char)out[n - 1] == 0xff)
		n--;
	if (n == 0) {
		out[0] = '\0';
		return 1;
	}
	out[n - 1] = (char)((unsigned char)out[n - 1] + 1);
	return n;
}

/* fmt with %s as base64 fields: each "%B" takes (const char *, size_t). */
static int
etcd_json_fmt(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t o = 0;
	const char *f;
	int n;

	va_start(ap, fmt);
	for (f = fmt; *f != '\0'; f++) {
		if (f[0] == '%' && f[1] == 'B') {
			const char *p = va_arg(ap, const char *);
			size_t len = va_arg(ap, size_t);

			if ((n = etcd_json_b64enc(p, len, out + o, size - o)) < 0)
				goto full;
			o += (size_t)n;
			f++;
		} else if (f[0] == '%' && f[1] == 'I') {
			int64_t v = va_arg(ap, int64_t);

			n = snprintf(out + o, size - o, "%" PRId64, v);
			if (n < 0 || (size_t)n >= size - o)
				goto full;
			o += (size_t)n;
			f++;
		} else {
			if (o + 1 >= size)
				goto full;
			out[o++] = *f;
		}
	}
	va_end(ap);
	out[o] = '\0';
	return (int)o;
full:
	va_end(ap);
	return -1;
}

int
etcd_json_put(char *out, size_t size, const char *key, size_t klen,
    const char *val, size_t vlen, int64_t lease)
{
	return etcd_json_fmt(out, size, "{\"key\":\"%B\",\"value\":\"%B\",\"lease\":\"%I\"}",
	    key, klen, val, vlen, lease);
}

int
etcd_json_del(char *out, size_t size, const char *key, size_t klen)
{
	return etcd_json_fmt(out, size, "{\"key\":\"%B\"}", key, klen);
}

int
etcd_json_range(char *out, size_t size, const char *prefix, size_t plen,
    unsigned limit)
{
	char end[ETCD_KEY_MAX];
	size_t elen;

	if (plen == 0 || plen > sizeof(end))
		return -1;
	elen = etcd_json_range_end(prefix, plen, end);
	return etcd_json_fmt(out, size, "{\"key\":\"%B\",\"range_end\":\"%B\",\"limit\":\"%I\"}",
	    prefix, plen, end, elen, (int64_t)limit);
}

int
etcd_json_watch(char *out, size_t size, const char *prefix, size_t plen,
    int64_t start_rev)
{
	char end[ETCD_KEY_MAX];
	size_t elen;

	if (plen == 0 || plen > sizeof(end))
		return -1;
	elen = etcd_json_range_end(prefix, plen, end);
	return etcd_json_fmt(out, size, "{\"create_request\":{\"key\":\"%B\",\"range_end\":\"%B\","
	    "\"start_revision\":\"%I\"}}", prefix, plen, end, elen, start_rev);
}

int
etcd_json_grant(char *out, size_t size, unsigned ttl)
{
	return etcd_json_fmt(out, size, "{\"TTL\":\"%I\"}", (int64_t)ttl);
}

int
etcd_json_lease(char *out, size_t size, int64_t id)
{
	return etcd_json_fmt(out, size, "{\"ID\":\"%I\"}", id);
}

int64_t
etcd_json_i64(const struct json_doc *d, int tok, int64_t def)
{
	const char *s;
	size_t i, n;
	int neg = 0;
	uint64_t v = 0;

	if (tok < 0 || (size_t)tok >= d->nt)
		return def;
	if (d->t[tok].type == JSON_NUMBER)
		return json_scan_int(d, tok, def);
	if (d->t[tok].type != JSON_STRING)
		return def;
	s = d->text + d->t[tok].start;
	n = d->t[tok].len;
	if (n > 0 && s[0] == '-') {
		neg = 1;
		s++;
		n--;
	}
	if (n == 0 || n > 19)
		return def;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return def;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > INT64_MAX)
		return def;
	return neg ? -(int64_t)v : (int64_t)v;
}

int
etcd_json_error(const struct json_doc *d, char *msg, size_t size)
{
	int e = json_scan_key(d, 0, "error"), m = json_scan_key(d, 0, "message");
	int code = (int)json_scan_int(d, json_scan_key(d, 0, "code"), 0);

	if (e == -1 && m == -1)
		return 0;
	if (json_scan_str(d, m != -1 ? m : e, msg, size) == -1)
		snprintf(msg, size, "unknown error");
	return code != 0 ? code : 2;   /* gRPC's Unknown */
}

/* A base64 string token decoded into out[0..size); length or -1. */
static long
etcd_json_b64tok(const struct json_doc *d, int tok, char *out, size_t size)
{
	if (tok == -1)
		return 0;   /* the gateway leaves out empty fields */
	if (json_scan_type(d, tok) != JSON_STRING)
		return -1;
	return etcd_json_b64dec(d->text + d->t[tok].start, d->t[tok].len, out, size);
}

int
etcd_json_kvs(const struct json_doc *d, int arr, int events, char *scratch,
    etcd_json_kv_fn *fn, void *arg, char *err, size_t errlen)
{
	struct etcd_kv kv;
	long kl, vl;
	int e, kvt;

	if (arr == -1)
		return 0;
	if (json_scan_type(d, arr) != JSON_ARRAY) {
		snprintf(err, errlen, "\"%s\" is not an array", events ? "events" : "kvs");
		return -1;
	}
	for (e = json_scan_child(d, arr); e != -1; e = json_scan_next(d, arr, e)) {
		memset(&kv, 0, sizeof(kv));
		kvt = e;
		if (events) {
			kv.del = json_scan_streq(d, json_scan_key(d, e, "type"), "DELETE");
			kvt = json_scan_key(d, e, "kv");
		}
		if (json_scan_type(d, kvt) != JSON_OBJECT) {
			snprintf(err, errlen, "a kv that is not an object");
			return -1;
		}
		kl = etcd_json_b64tok(d, json_scan_key(d, kvt, "key"), scratch, ETCD_KEY_MAX);
		if (kl <= 0) {
			if (kl == 0)
				snprintf(err, errlen, "a kv without a key");
			else
				snprintf(err, errlen, "a key not base64 or over %d bytes",
				    ETCD_KEY_MAX);
			return -1;
		}
		vl = etcd_json_b64tok(d, json_scan_key(d, kvt, "value"), scratch + kl + 1,
		    ETCD_VALUE_MAX);
		if (vl < 0) {
			snprintf(err, errlen, "the value of %.*s is not base64 or over %d bytes",
			    (int)kl, scratch, ETCD_VALUE_MAX);
			return -1;
		}
		scratch[kl] = '\0';
		scratch[kl + 1 + vl] = '\0';
		kv.key = scratch;
		kv.key_len = (size_t)kl;
		kv.value = scratch + kl + 1;
		kv.value_len = (size_t)vl;
		kv.mod_rev = etcd_json_i64(d, json_scan_key(d, kvt, "mod_revision"), 0);
		if (fn(arg, &kv) != 0) {
			snprintf(err, errlen, "too many keys");
			return -1;
		}
	}
	return 0;
}
