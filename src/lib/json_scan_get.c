/* SPDX-License-Identifier: ISC */
/*
 * json_scan_get: walking a tokenized document and reading its values (see
 * include/mesh/json_scan.h).  The parser validated every string and
 * number, so these only decode.
 */
#include <stdlib.h>
#include <string.h>

#include "mesh/json_scan.h"

/* Four hex digits the parser already checked. */
static uint32_t
json_hex(const char *s)
{
	char h[5];

	memcpy(h, s, 4);
	h[4] = '\0';
	return (uint32_t)strtoul(h, NULL, 16);
}

static int
json_valid(const struct json_doc *d, int tok)
{
	return tok >= 0 && (size_t)tok < d->nt;
}

int
json_scan_type(const struct json_doc *d, int tok)
{
	return json_valid(d, tok) ? d->t[tok].type : 0;
}

int
json_scan_child(const struct json_doc *d, int tok)
{
	int t = json_scan_type(d, tok);

	if ((t != JSON_OBJECT && t != JSON_ARRAY) || d->t[tok].n == 0)
		return -1;
	return tok + 1;
}

int
json_scan_next(const struct json_doc *d, int parent, int tok)
{
	uint32_t nx;

	if (!json_valid(d, parent) || !json_valid(d, tok))
		return -1;
	nx = d->t[tok].next;
	return nx < d->t[parent].next ? (int)nx : -1;
}

int
json_scan_key(const struct json_doc *d, int obj, const char *key)
{
	int k;

	if (json_scan_type(d, obj) != JSON_OBJECT)
		return -1;
	for (k = json_scan_child(d, obj); k != -1; k = json_scan_next(d, obj, k + 1))
		if (json_scan_streq(d, k, key))
			return k + 1;
	return -1;
}

int
json_scan_path(const struct json_doc *d, int tok, const char *path)
{
	char key[128];

	while (tok != -1 && *path != '\0') {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(key))
			return -1;
		memcpy(key, path, n);
		key[n] = '\0';
		tok = json_scan_key(d, tok, key);
		path += n;
		if (*path == '.')
			path++;
	}
	return tok;
}

int
json_scan_elem(const struct json_doc *d, int arr, size_t i)
{
	int e;

	if (json_scan_type(d, arr) != JSON_ARRAY)
		return -1;
	for (e = json_scan_child(d, arr); e != -1 && i > 0; i--)
		e = json_scan_next(d, arr, e);
	return e;
}

/* UTF-8 of cp into out (4 bytes room); its length. */
static size_t
json_utf8(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* One character of a string at s[*i] (validated by the parser): its bytes. */
static size_t
json_char(const char *s, size_t len, size_t *i, char *out)
{
	static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
	uint32_t cp;
	const char *e;

	if (s[*i] != '\\') {
		out[0] = s[(*i)++];
		return 1;
	}
	if (s[*i + 1] != 'u') {
		e = strchr(esc_in, s[*i + 1]);
		out[0] = e != NULL ? esc_out[e - esc_in] : '?';
		*i += 2;
		return 1;
	}
	cp = json_hex(s + *i + 2);
	*i += 6;
	if (cp >= 0xd800 && cp <= 0xdbff && *i + 6 <= len && s[*i] == '\\' &&
	    s[*i + 1] == 'u') {
		uint32_t lo = json_hex(s + *i + 2);

		if (lo >= 0xdc00 && lo <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			*i += 6;
		}
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		cp = 0xfffd;   /* a lone surrogate */
	return json_utf8(cp, out);
}

int
json_scan_str(const struct json_doc *d, int tok, char *buf, size_t size)
{
	const char *s;
	size_t i = 0, n = 0, len;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	if (json_scan_type(d, tok) != JSON_STRING)
		return -1;
	s = d->text + d->t[tok].start;
	len = d->t[tok].len;
	while (i < len) {
		char ch[4];
		size_t k = json_char(s, len, &i, ch);

		if (n + k >= size)
			break;
		memcpy(buf + n, ch, k);
		n += k;
	}
	buf[n] = '\0';
	return (int)n;
}

int
json_scan_streq(const struct json_doc *d, int tok, const char *want)
{
	const char *s;
	size_t i = 0, n = 0, len, wl = strlen(want);

	if (json_scan_type(d, tok) != JSON_STRING)
		return 0;
	s = d->text + d->t[tok].start;
	len = d->t[tok].len;
	while (i < len) {
		char ch[4];
		size_t k = json_char(s, len, &i, ch);

		if (n + k > wl || memcmp(want + n, ch, k) != 0)
			return 0;
		n += k;
	}
	return n == wl;
}

double
json_scan_num(const struct json_doc *d, int tok, double def)
{
	char buf[64];
	size_t len;

	if (json_scan_type(d, tok) != JSON_NUMBER)
		return def;
	len = d->t[tok].len;
	if (len >= sizeof(buf))
		return def;
	memcpy(buf, d->text + d->t[tok].start, len);
	buf[len] = '\0';
	return strtod(buf, NULL);
}

int64_t
json_scan_int(const struct json_doc *d, int tok, int64_t def)
{
	double v = json_scan_num(d, tok, (double)def);

	if (v >= 9.2e18)
		return INT64_MAX;
	if (v <= -9.2e18)
		return INT64_MIN;
	return (int64_t)v;
}

int
json_scan_bool(const struct json_doc *d, int tok, int def)
{
	int t = json_scan_type(d, tok);

	return t == JSON_TRUE ? 1 : t == JSON_FALSE ? 0 : def;
}
