/* SPDX-License-Identifier: ISC */
/*
 * http_chars: byte classes of RFC 9110/9112 shared by http.c,
 * http_chunked.c and http_util.c.  Private to the http module.
 */
#ifndef MESH_HTTP_CHARS_H
#define MESH_HTTP_CHARS_H

#include <stddef.h>

static inline int
http_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline int
http_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* tchar (RFC 9110 5.6.2): method and field names. */
static inline int
http_tchar(unsigned char c)
{
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
	case '+': case '-': case '.': case '^': case '_': case '`': case '|':
	case '~':
		return 1;
	default:
		return http_digit(c) || http_alpha(c);
	}
}

/* field-content bytes (RFC 9110 5.5): VCHAR, obs-text, SP, HTAB.
 * Everything else (NUL, CR, LF, other controls, DEL) is refused. */
static inline int
http_fchar(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Request-target bytes: visible ASCII except '#' (a fragment is never
 * sent).  Some URI delimiters RFC 3986 wants encoded ('|', '{'...) are
 * allowed because common clients send them raw and they are not
 * ambiguous to the parser; non-ASCII bytes are not. */
static inline int
http_uchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '#';
}

static inline int
http_xdigit(unsigned char c)
{
	return http_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static inline unsigned char
http_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* ASCII case-insensitive equality of two byte ranges of length n. */
static inline int
http_ci_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (http_lower((unsigned char)a[i]) != http_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

#endif
