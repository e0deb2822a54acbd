/* SPDX-License-Identifier: ISC */
/*
 * trace: parse and format trace context headers, make ids, sample (see
 * include/mesh/trace.h).
 *
 * Every parser is strict and total: it reads exactly n bytes, never past
 * them, and any deviation from the syntax is "no context" (-1), because a
 * caller that sent a broken header must still be served; the sidecar then
 * starts a trace of its own.  *t is written only on success.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mesh/trace.h"

/* Value of a lower-case hex digit, -1 for anything else (upper case too:
 * both W3C and B3 say lower-case hex). */
static int
trace_xdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* n hex chars (n even) into n/2 bytes; 0, or -1 on a non-hex char. */
static int
trace_unhex(const char *s, size_t n, uint8_t *out)
{
	size_t i;

	for (i = 0; i < n; i += 2) {
		int hi = trace_xdigit(s[i]), lo = trace_xdigit(s[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
trace_id_zero(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/*
 * version "-" trace-id "-" parent-id "-" flags, at offsets 0, 3, 36, 53.
 * Version 00 is exactly TRACE_PARENT_LEN bytes.  A later version may
 * append fields: its first 55 bytes must parse as version 00's, followed
 * by the end or a '-'.  Version ff is forbidden.
 */
int
trace_parse_traceparent(const char *v, size_t n, struct trace_ctx *t)
{
	struct trace_ctx c;
	uint8_t ver, flags;

	if (n < TRACE_PARENT_LEN)
		return -1;
	if (trace_unhex(v, 2, &ver) == -1 || ver == 0xff)
		return -1;
	if (ver == 0 && n != TRACE_PARENT_LEN)
		return -1;
	if (n > TRACE_PARENT_LEN && v[TRACE_PARENT_LEN] != '-')
		return -1;
	if (v[2] != '-' || v[35] != '-' || v[52] != '-')
		return -1;
	memset(&c, 0, sizeof(c));
	if (trace_unhex(v + 3, 32, c.trace_id) == -1 ||
	    trace_unhex(v + 36, 16, c.span_id) == -1 ||
	    trace_unhex(v + 53, 2, &flags) == -1)
		return -1;
	if (trace_id_zero(c.trace_id, sizeof(c.trace_id)) ||
	    trace_id_zero(c.span_id, sizeof(c.span_id)))
		return -1;
	c.sampled = flags & 0x01;
	c.valid = 1;
	*t = c;
	return 0;
}

/* A B3 trace id: 16 hex (64-bit, left-padded with zeros) or 32 hex. */
static int
trace_b3_trace_id(const char *s, size_t n, uint8_t out[16])
{
	memset(out, 0, 16);
	if (n == 16)
		return trace_unhex(s, 16, out + 8) == -1 || trace_id_zero(out, 16) ? -1 : 0;
	if (n == 32)
		return trace_unhex(s, 32, out) == -1 || trace_id_zero(out, 16) ? -1 : 0;
	return -1;
}

static int
trace_b3_span_id(const char *s, size_t n, uint8_t out[8])
{
	if (n != 16 || trace_unhex(s, 16, out) == -1 || trace_id_zero(out, 8))
		return -1;
	return 0;
}

/* The single header's sampling state: 1 sampled or debug, 0 deny. */
static int
trace_b3_state(const char *s, size_t n)
{
	if (n != 1)
		return -1;
	if (s[0] == '1' || s[0] == 'd')
		return 1;
	if (s[0] == '0')
		return 0;
	return -1;
}

/*
 * b3: TraceId-SpanId[-SamplingState[-ParentSpanId]].  The parent span id
 * is checked but not kept: our span's parent is SpanId.  A lone sampling
 * state ("0", "1", "d") carries no ids, so no context.
 */
int
trace_parse_b3(const char *v, size_t n, struct trace_ctx *t)
{
	struct trace_ctx c;
	const char *f[4];
	size_t fl[4], nf = 0, i, start = 0;
	uint8_t parent[8];

	for (i = 0; i <= n; i++) {
		if (i < n && v[i] != '-')
			continue;
		if (nf == 4)
			return -1;
		f[nf] = v + start;
		fl[nf++] = i - start;
		start = i + 1;
	}
	if (nf < 2)
		return -1;
	memset(&c, 0, sizeof(c));
	if (trace_b3_trace_id(f[0], fl[0], c.trace_id) == -1 ||
	    trace_b3_span_id(f[1], fl[1], c.span_id) == -1)
		return -1;
	if (nf >= 3) {
		int st = trace_b3_state(f[2], fl[2]);

		if (st < 0)
			return -1;
		c.sampled = st;
	} else
		c.sample_deferred = 1;
	if (nf == 4 && trace_b3_span_id(f[3], fl[3], parent) == -1)
		return -1;
	c.valid = 1;
	*t = c;
	return 0;
}

/* X-B3-Sampled: "1"/"true"/"d" sampled, "0"/"false" not; NULL absent. */
int
trace_parse_b3_multi(const char *tid, size_t tn, const char *sid, size_t sn,
    const char *sampled, size_t smn, struct trace_ctx *t)
{
	struct trace_ctx c;

	if (tid == NULL || sid == NULL)
		return -1;
	memset(&c, 0, sizeof(c));
	if (trace_b3_trace_id(tid, tn, c.trace_id) == -1 ||
	    trace_b3_span_id(sid, sn, c.span_id) == -1)
		return -1;
	if (sampled == NULL)
		c.sample_deferred = 1;
	else if ((smn == 1 && (sampled[0] == '1' || sampled[0] == 'd')) ||
	    (smn == 4 && memcmp(sampled, "true", 4) == 0))
		c.sampled = 1;
	else if ((smn == 1 && sampled[0] == '0') ||
	    (smn == 5 && memcmp(sampled, "false", 5) == 0))
		c.sampled = 0;
	else
		return -1;
	c.valid = 1;
	*t = c;
	return 0;
}

/* splitmix64: spreads any seed (0 included) over both state words, so
 * xorshift128+ never starts from the all-zero state it cannot leave. */
static uint64_t
trace_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void
trace_rng_seed(struct trace_rng *r, uint64_t seed)
{
	r->s[0] = trace_splitmix(&seed);
	r->s[1] = trace_splitmix(&seed);
	if (r->s[0] == 0 && r->s[1] == 0)
		r->s[1] = 1;
}

/* xorshift128+ */
static uint64_t
trace_next(struct trace_rng *r)
{
	uint64_t a = r->s[0], b = r->s[1];

	r->s[0] = b;
	a ^= a << 23;
	r->s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
	return r->s[1] + b;
}

void
trace_new_id(struct trace_rng *r, uint8_t *out, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	do {
		uint64_t x = 0;

		for (i = 0; i < n; i++) {
			if (i % 8 == 0)
				x = trace_next(r);
			out[i] = (uint8_t)x;
			x >>= 8;
		}
	} while (trace_id_zero(out, n));
}

int
trace_sample(struct trace_rng *r, unsigned permille)
{
	if (permille == 0)
		return 0;
	if (permille >= 1000)
		return 1;
	/* the high 32 bits are the better ones of xorshift128+; the modulo
	 * bias (1000 / 2^32) is far below anything a rate can show */
	return (unsigned)((trace_next(r) >> 32) % 1000u) < permille;
}

void
trace_hex(char *out, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0xf];
	}
	out[2 * n] = '\0';
}

void
trace_format(char *out, const uint8_t trace_id[16], const uint8_t span_id[8], int sampled)
{
	memcpy(out, "00-", 3);
	trace_hex(out + 3, trace_id, 16);
	out[35] = '-';
	trace_hex(out + 36, span_id, 8);
	out[52] = '-';
	out[53] = '0';
	out[54] = sampled ? '1' : '0';
	out[TRACE_PARENT_LEN] = '\0';
}
