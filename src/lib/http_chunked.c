/* SPDX-License-Identifier: ISC */
/*
 * http_chunked: find where a chunked body ends (RFC 9112 7.1).
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *
 * A byte-at-a-time state machine, so the proxy can relay a body as it
 * arrives, split anywhere, without buffering it.  Only the framing is
 * checked; chunk data is counted, never looked at.
 */
#include "mesh/http.h"
#include "http_chars.h"

/* Chunk-size digits: 16 hex digits hold 2^64-1; the value must also stay
 * below 2^63 so it fits any signed size the relay uses. */
#define SIZE_DIGITS_MAX 16
#define SIZE_MAX_VALUE  UINT64_C(0x7fffffffffffffff)

enum {
	CH_SIZE,        /* chunk-size digits (linelen counts the line) */
	CH_EXT_BWS,     /* after the digits: BWS before ';', or CR */
	CH_EXT,         /* inside chunk-ext, up to CR */
	CH_SIZE_LF,     /* CR seen after chunk-size: LF must follow */
	CH_DATA,        /* `remaining` bytes of chunk-data */
	CH_DATA_CR,     /* CRLF after chunk-data */
	CH_DATA_LF,
	CH_TRAILER,     /* start of a trailer line, or of the final CRLF */
	CH_TR_NAME,     /* trailer field name (linelen = name length) */
	CH_TR_VALUE,    /* trailer field value, up to CR */
	CH_TR_LF,       /* CR seen after a trailer field */
	CH_FINAL_LF,    /* CR of the final CRLF seen */
	CH_DONE,        /* body over: nothing more belongs to it */
	CH_ERROR,       /* malformed: every later call fails too */
};

void
http_chunked_init(struct http_chunked *c, const struct http_limits *lim)
{
	c->state = CH_SIZE;
	c->remaining = 0;
	c->linelen = 0;
	c->trailer = 0;
	c->line_max = lim != NULL ? lim->line_bytes : 8192;
	c->trailer_max = lim != NULL ? lim->header_bytes : 16384;
	c->reason = NULL;
}

static long
bad(struct http_chunked *c, const char *reason)
{
	c->state = CH_ERROR;
	c->reason = reason;
	return HTTP_ERROR;
}

/* One byte of the size line or of the trailer section. */
static long
step(struct http_chunked *c, unsigned char b)
{
	switch (c->state) {
	case CH_SIZE:
		if (http_xdigit(b)) {
			unsigned d = http_digit(b) ? b - '0' : (b | 0x20) - 'a' + 10;

			if (c->linelen == SIZE_DIGITS_MAX ||
			    c->remaining > (SIZE_MAX_VALUE - d) / 16)
				return bad(c, "chunk size too large");
			c->remaining = c->remaining * 16 + d;
			return 0;
		}
		if (c->linelen == 0)
			return bad(c, "invalid chunk size");
		c->state = CH_EXT_BWS;
		/* fall through */
	case CH_EXT_BWS:
		if (b == ' ' || b == '\t')
			return 0;
		if (b == ';') {
			c->state = CH_EXT;
			return 0;
		}
		if (b == '\r') {
			c->state = CH_SIZE_LF;
			return 0;
		}
		return bad(c, b == '\n' ? "bare lf" : "invalid chunk size");
	case CH_EXT:
		/* tolerated, not interpreted; only the bytes are checked */
		if (b == '\r')
			c->state = CH_SIZE_LF;
		else if (!http_fchar(b))
			return bad(c, b == '\n' ? "bare lf" : "invalid chunk extension");
		return 0;
	case CH_SIZE_LF:
		if (b != '\n')
			return bad(c, "bare cr");
		c->state = c->remaining > 0 ? CH_DATA : CH_TRAILER;
		return 0;
	case CH_DATA_CR:
		if (b != '\r')
			return bad(c, "missing crlf after chunk data");
		c->state = CH_DATA_LF;
		return 0;
	case CH_DATA_LF:
		if (b != '\n')
			return bad(c, "bare cr");
		c->state = CH_SIZE;
		return 0;
	case CH_TRAILER:
		if (b == '\r') {
			c->state = CH_FINAL_LF;
			return 0;
		}
		if (b == ' ' || b == '\t')
			return bad(c, "obs-fold");
		c->state = CH_TR_NAME;
		/* fall through */
	case CH_TR_NAME:
		if (http_tchar(b))
			return 0;
		if (b == ':' && c->linelen > 0) {
			c->state = CH_TR_VALUE;
			return 0;
		}
		if (b == ' ' || b == '\t')
			return bad(c, "whitespace before colon");
		return bad(c, b == '\n' ? "bare lf" : "invalid trailer");
	case CH_TR_VALUE:
		if (b == '\r')
			c->state = CH_TR_LF;
		else if (!http_fchar(b))
			return bad(c, b == '\n' ? "bare lf" : "invalid trailer");
		return 0;
	case CH_TR_LF:
		if (b != '\n')
			return bad(c, "bare cr");
		c->state = CH_TRAILER;
		return 0;
	case CH_FINAL_LF:
		if (b != '\n')
			return bad(c, "bare cr");
		c->state = CH_DONE;
		return 0;
	default:
		return bad(c, "internal state");
	}
}

/* Bound each size line (CRLF excluded) and the whole trailer section
 * (final CRLF included), and keep linelen for the next step: digits so
 * far on a size line, name bytes so far on a trailer line. */
static long
account(struct http_chunked *c, int from)
{
	switch (from) {
	case CH_SIZE:
	case CH_EXT_BWS:
	case CH_EXT:
		if (c->state != CH_SIZE_LF && ++c->linelen > c->line_max)
			return bad(c, "chunk line too long");
		return 0;
	case CH_SIZE_LF:
	case CH_DATA_LF:
		c->linelen = 0;
		return 0;
	case CH_TRAILER:
	case CH_TR_NAME:
	case CH_TR_VALUE:
	case CH_TR_LF:
	case CH_FINAL_LF:
		if (++c->trailer > c->trailer_max)
			return bad(c, "trailer too large");
		if (c->state == CH_TR_NAME)
			c->linelen++;
		else if (c->state == CH_TRAILER)
			c->linelen = 0;
		return 0;
	default:
		return 0;
	}
}

long
http_chunked_scan(struct http_chunked *c, const char *buf, size_t len, int *done)
{
	size_t i = 0;

	*done = 0;
	if (c->state == CH_ERROR)
		return HTTP_ERROR;
	while (i < len && c->state != CH_DONE) {
		int from = c->state;

		if (from == CH_DATA) {
			size_t n = len - i;

			if (n > c->remaining)
				n = (size_t)c->remaining;
			c->remaining -= n;
			i += n;
			if (c->remaining == 0)
				c->state = CH_DATA_CR;
			continue;
		}
		if (step(c, (unsigned char)buf[i]) != 0 || account(c, from) != 0)
			return HTTP_ERROR;
		i++;
	}
	*done = c->state == CH_DONE;
	return (long)i;
}
