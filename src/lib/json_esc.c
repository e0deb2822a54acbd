/* SPDX-License-Identifier: ISC */
/*
 * json_esc: JSON strings from untrusted bytes (include/mesh/json_esc.h).
 */
#include <string.h>

#include "mesh/json_esc.h"

/* Length of the well-formed UTF-8 sequence at s[0..n), or 0. */
static size_t
json_esc_utf8(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;          /* overlong below U+0800 */
		else if (s[0] == 0xed)
			hi = 0x9f;          /* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;          /* overlong below U+10000 */
		else if (s[0] == 0xf4)
			hi = 0x8f;          /* past U+10FFFF */
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

size_t
json_esc(char *out, size_t size, const char *s, size_t n, size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i, k, plen, len = 1;
	char esc[6];
	const char *p;

	if (used != NULL)
		*used = 0;
	if (size < 3) {
		if (size > 0)
			out[0] = '\0';
		return 0;
	}
	out[0] = '"';
	for (i = 0; i < n; i += k) {
		/* a run of bytes that need nothing, as far as it fits */
		for (k = 0; i + k < n && u[i + k] >= 0x20 && u[i + k] < 0x7f &&
		    u[i + k] != '"' && u[i + k] != '\\'; k++)
			;
		if (k > 0) {
			if (k > size - len - 2)
				k = size - len - 2;
			memcpy(out + len, s + i, k);
			len += k;
			if (k == 0)
				break;
			continue;
		}
		k = 1;
		p = esc;
		plen = 2;
		esc[0] = '\\';
		switch (u[i]) {
		case '"':  esc[1] = '"';  break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n';  break;
		case '\r': esc[1] = 'r';  break;
		case '\t': esc[1] = 't';  break;
		default:
			if (u[i] < 0x80) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[u[i] >> 4];
				esc[5] = hex[u[i] & 0xf];
				plen = 6;
			} else if ((k = json_esc_utf8(u + i, n - i)) != 0) {
				p = s + i;
				plen = k;
			} else {
				k = 1;
				p = "\\ufffd";
				plen = 6;
			}
		}
		/* a whole piece or nothing */
		if (len + plen + 2 > size)
			break;
		memcpy(out + len, p, plen);
		len += plen;
	}
	out[len++] = '"';
	out[len] = '\0';
	if (used != NULL)
		*used = i < n ? i : n;
	return len;
}

void
json_esc_file(FILE *f, const char *s)
{
	char buf[256];
	size_t n = strlen(s), len, used;

	/* each piece without its quotes; json_esc() cuts only between whole
	 * characters, so every piece makes progress */
	fputc('"', f);
	while (n > 0) {
		len = json_esc(buf, sizeof(buf), s, n, &used);
		fwrite(buf + 1, 1, len - 2, f);
		s += used;
		n -= used;
	}
	fputc('"', f);
}
