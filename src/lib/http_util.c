/* SPDX-License-Identifier: ISC */
/*
 * http_util: lookups over parsed headers, token lists, authorities and
 * status phrases.  No state, no allocation.
 */
#include <string.h>

#include "mesh/http.h"
#include "http_chars.h"

const struct http_header *
http_header_find(const struct http_header *h, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (h[i].name_len == len && http_ci_eq(h[i].name, name, len))
			return &h[i];
	return NULL;
}

static int
ows(char c)
{
	return c == ' ' || c == '\t';
}

int
http_token_list_has(const char *value, size_t len, const char *token)
{
	size_t tlen = strlen(token), i = 0;

	while (i < len) {
		size_t start, stop;

		/* RFC 9110 5.6.1: empty list elements and OWS are allowed */
		while (i < len && (ows(value[i]) || value[i] == ','))
			i++;
		start = i;
		while (i < len && value[i] != ',')
			i++;
		stop = i;
		while (stop > start && ows(value[stop - 1]))
			stop--;
		if (stop > start && stop - start == tlen &&
		    http_ci_eq(value + start, token, tlen))
			return 1;
	}
	return 0;
}

int
http_upgrade_has_h2c(const char *value, size_t len)
{
	size_t i = 0;

	/* protocol-name ["/" protocol-version] (RFC 9110 7.8), in a list */
	while (i < len) {
		size_t start, stop;

		while (i < len && (ows(value[i]) || value[i] == ','))
			i++;
		start = i;
		while (i < len && value[i] != ',' && value[i] != '/' && !ows(value[i]))
			i++;
		stop = i;
		if (stop - start == 3 && http_ci_eq(value + start, "h2c", 3))
			return 1;
		while (i < len && value[i] != ',')
			i++;
	}
	return 0;
}

/* 1..65535 as 1 to 5 digits; returns 0 when invalid. */
static unsigned
port_value(const char *p, size_t n)
{
	unsigned v = 0;

	if (n == 0 || n > 5)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!http_digit((unsigned char)p[i]))
			return 0;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	return v <= 65535 ? v : 0;
}

/* Length of the host part of an authority ("[::1]" keeps its brackets). */
static size_t
host_len(const char *a, size_t n)
{
	const char *c;

	if (n > 0 && a[0] == '[') {
		c = memchr(a, ']', n);
		return c != NULL ? (size_t)(c - a) + 1 : n;
	}
	c = memchr(a, ':', n);
	return c != NULL ? (size_t)(c - a) : n;
}

int
http_authority_valid(const char *a, size_t n, int need_port)
{
	size_t h = host_len(a, n);

	if (h == 0)
		return 0;
	if (a[0] == '[') {
		/* IP-literal: hex, ':' and '.' (an IPv4 tail), at least one ':' */
		if (h < 4 || a[h - 1] != ']' || memchr(a + 1, ':', h - 2) == NULL)
			return 0;
		for (size_t i = 1; i < h - 1; i++)
			if (!http_xdigit((unsigned char)a[i]) && a[i] != ':' && a[i] != '.')
				return 0;
	} else {
		/* reg-name or IPv4: unreserved characters only.  No '%'
		 * (percent-encoded names), no '@' (userinfo), no sub-delims:
		 * nothing a router or a log could read two ways. */
		for (size_t i = 0; i < h; i++) {
			unsigned char c = (unsigned char)a[i];
			if (!http_alpha(c) && !http_digit(c) && c != '-' && c != '.' &&
			    c != '_' && c != '~')
				return 0;
		}
	}
	if (h == n)
		return !need_port;
	return a[h] == ':' && port_value(a + h + 1, n - h - 1) != 0;
}

int
http_authority_equal(const char *a, size_t an, const char *b, size_t bn)
{
	size_t ah = host_len(a, an), bh = host_len(b, bn);
	unsigned ap = ah < an ? port_value(a + ah + 1, an - ah - 1) : 80;
	unsigned bp = bh < bn ? port_value(b + bh + 1, bn - bh - 1) : 80;

	return ah == bh && http_ci_eq(a, b, ah) && ap == bp;
}

const char *
http_status_text(int code)
{
	switch (code) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 103: return "Early Hints";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 203: return "Non-Authoritative Information";
	case 204: return "No Content";
	case 205: return "Reset Content";
	case 206: return "Partial Content";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 422: return "Unprocessable Content";
	case 426: return "Upgrade Required";
	case 428: return "Precondition Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default:
		/* RFC 9110 15: an unknown code is treated as the x00 of its class */
		if (code >= 100 && code < 600 && code % 100 != 0)
			return http_status_text(code - code % 100);
		return "Unknown";
	}
}
