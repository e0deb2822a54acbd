/* SPDX-License-Identifier: ISC */
/*
 * json_scan: a bounded, non-recursive JSON tokenizer and lookups (see
 * include/mesh/json_scan.h).
 *
 * The parser is one loop over an explicit state; nesting lives on a fixed
 * array of JSON_SCAN_DEPTH container indices, so hostile input can cost
 * neither stack nor more than max_tokens tokens.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/json_scan.h"

enum json_state {
	JS_VALUE,      /* a value must come */
	JS_ARR_FIRST,  /* just after '[': a value or ']' */
	JS_OBJ_FIRST,  /* just after '{': a key or '}' */
	JS_KEY,        /* after ',' in an object: a key */
	JS_AFTER,      /* after a value: ',' or the container's close (or the end) */
};

struct json_parser {
	struct json_doc *d;
	const char      *s;
	size_t           len, pos, cap, max;
	uint32_t         stack[JSON_SCAN_DEPTH];
	unsigned         depth;
	char            *err;
	size_t           errlen;
};

static int
json_fail(struct json_parser *p, const char *why)
{
	snprintf(p->err, p->errlen, "offset %zu: %s", p->pos, why);
	return -1;
}

static void
json_ws(struct json_parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
	    p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

/* Append a token; counts it as a child of the open container. */
static int
json_push_tok(struct json_parser *p, enum json_type type, size_t start, size_t len)
{
	struct json_doc *d = p->d;
	struct json_tok *t;

	if (d->nt >= p->max)
		return json_fail(p, "too many tokens");
	if (d->nt == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 64;

		if (ncap > p->max)
			ncap = p->max;
		if ((t = realloc(d->t, ncap * sizeof(*t))) == NULL)
			return json_fail(p, "out of memory");
		d->t = t;
		p->cap = ncap;
	}
	t = &d->t[d->nt];
	t->type = (uint8_t)type;
	t->start = (uint32_t)start;
	t->len = (uint32_t)len;
	t->next = (uint32_t)d->nt + 1;
	t->n = 0;
	return (int)d->nt++;
}

static int
json_hex4(const char *s)
{
	int i, v = 0;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* A string at p->pos (the opening quote): its token. */
static int
json_string(struct json_parser *p)
{
	size_t start = ++p->pos;

	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->s[p->pos];

		if (c == '"') {
			int t = json_push_tok(p, JSON_STRING, start, p->pos - start);

			p->pos++;
			return t;
		}
		if (c < 0x20)
			return json_fail(p, "control character in a string");
		if (c == '\\') {
			if (p->pos + 1 >= p->len)
				break;
			c = (unsigned char)p->s[p->pos + 1];
			if (c == 'u') {
				if (p->pos + 6 > p->len || json_hex4(p->s + p->pos + 2) == -1)
					return json_fail(p, "bad \\u escape");
				p->pos += 6;
				continue;
			}
			if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
				return json_fail(p, "bad escape");
			p->pos += 2;
			continue;
		}
		p->pos++;
	}
	return json_fail(p, "unterminated string");
}

static int
json_digits(struct json_parser *p)
{
	size_t from = p->pos;

	while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
		p->pos++;
	return p->pos > from ? 0 : -1;
}

static int
json_number(struct json_parser *p)
{
	size_t start = p->pos;

	if (p->s[p->pos] == '-')
		p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '0')
		p->pos++;
	else if (json_digits(p) == -1)
		return json_fail(p, "bad number");
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		if (json_digits(p) == -1)
			return json_fail(p, "bad fraction");
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (json_digits(p) == -1)
			return json_fail(p, "bad exponent");
	}
	return json_push_tok(p, JSON_NUMBER, start, p->pos - start);
}

static int
json_literal(struct json_parser *p, const char *word, enum json_type type)
{
	size_t n = strlen(word);
	int t;

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return json_fail(p, "unexpected character");
	t = json_push_tok(p, type, p->pos, n);
	p->pos += n;
	return t;
}

/* Count one more child of the innermost container: an element of an
 * array here, a member of an object at its key (json_key). */
static void
json_count(struct json_parser *p, int key)
{
	struct json_tok *t;

	if (p->depth == 0)
		return;
	t = &p->d->t[p->stack[p->depth - 1]];
	if (key || t->type == JSON_ARRAY)
		t->n++;
}

/* A value at p->pos; containers are opened (the new state in *st). */
static int
json_value(struct json_parser *p, enum json_state *st)
{
	char c = p->s[p->pos];
	int t;

	json_count(p, 0);
	if (c == '{' || c == '[') {
		if (p->depth == JSON_SCAN_DEPTH)
			return json_fail(p, "nested too deep");
		if ((t = json_push_tok(p, c == '{' ? JSON_OBJECT : JSON_ARRAY, p->pos, 1)) == -1)
			return -1;
		p->stack[p->depth++] = (uint32_t)t;
		p->pos++;
		*st = c == '{' ? JS_OBJ_FIRST : JS_ARR_FIRST;
		return 0;
	}
	if (c == '"')
		t = json_string(p);
	else if (c == '-' || (c >= '0' && c <= '9'))
		t = json_number(p);
	else if (c == 't')
		t = json_literal(p, "true", JSON_TRUE);
	else if (c == 'f')
		t = json_literal(p, "false", JSON_FALSE);
	else if (c == 'n')
		t = json_literal(p, "null", JSON_NULL);
	else
		return json_fail(p, "unexpected character");
	if (t == -1)
		return -1;
	*st = JS_AFTER;
	return 0;
}

/* The innermost container closes with c; 0 or -1 (wrong bracket). */
static int
json_close(struct json_parser *p, char c)
{
	struct json_tok *t = &p->d->t[p->stack[p->depth - 1]];

	if ((c == '}') != (t->type == JSON_OBJECT))
		return json_fail(p, "mismatched bracket");
	t->next = (uint32_t)p->d->nt;
	t->len = (uint32_t)(p->pos + 1 - t->start);
	p->depth--;
	p->pos++;
	return 0;
}

static int
json_key(struct json_parser *p, enum json_state *st)
{
	if (p->s[p->pos] != '"')
		return json_fail(p, "expected a key");
	json_count(p, 1);
	if (json_string(p) == -1)
		return -1;
	json_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != ':')
		return json_fail(p, "expected ':'");
	p->pos++;
	*st = JS_VALUE;
	return 0;
}

static int
json_step(struct json_parser *p, enum json_state *st)
{
	char c = p->s[p->pos];
	int in_obj = p->depth > 0 && p->d->t[p->stack[p->depth - 1]].type == JSON_OBJECT;

	switch (*st) {
	case JS_VALUE:
		return json_value(p, st);
	case JS_ARR_FIRST:
		if (c == ']') {
			*st = JS_AFTER;
			return json_close(p, c);
		}
		return json_value(p, st);
	case JS_OBJ_FIRST:
		if (c == '}') {
			*st = JS_AFTER;
			return json_close(p, c);
		}
		return json_key(p, st);
	case JS_KEY:
		return json_key(p, st);
	case JS_AFTER:
		if (p->depth == 0)
			return json_fail(p, "text after the document");
		if (c == ',') {
			p->pos++;
			*st = in_obj ? JS_KEY : JS_VALUE;
			return 0;
		}
		if (c == '}' || c == ']')
			return json_close(p, c);
		return json_fail(p, in_obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
	return json_fail(p, "bad state");
}

int
json_scan_parse(struct json_doc *d, const char *text, size_t len,
    size_t max_tokens, char *err, size_t errlen)
{
	struct json_parser p;
	enum json_state st = JS_VALUE;

	memset(d, 0, sizeof(*d));
	memset(&p, 0, sizeof(p));
	d->text = text;
	p.d = d;
	p.s = text;
	p.len = len;
	p.max = max_tokens;
	p.err = err;
	p.errlen = errlen;
	if (len >= UINT32_MAX) {
		json_fail(&p, "document too large");
		goto fail;
	}
	for (;;) {
		json_ws(&p);
		if (p.pos >= p.len)
			break;
		if (json_step(&p, &st) == -1)
			goto fail;
	}
	if (st != JS_AFTER || p.depth != 0) {
		json_fail(&p, d->nt == 0 ? "empty document" : "unexpected end");
		goto fail;
	}
	return 0;
fail:
	json_scan_free(d);
	return -1;
}

void
json_scan_free(struct json_doc *d)
{
	free(d->t);
	d->t = NULL;
	d->nt = 0;
}
