/* SPDX-License-Identifier: ISC */
/*
 * etcd_frame: a response body into its JSON objects.  The gateway answers
 * a unary call with one object (Content-Length or chunked) and streams a
 * watch or a keepalive as objects in chunks; a chunk boundary need not
 * be an object boundary, so objects are found by their braces (outside
 * strings), not by the chunks.
 */
#include <stdlib.h>
#include <string.h>

#include "mesh/hex.h"
#include "etcd_int.h"

#define ETCD_FRAME_LINE_MAX 1024u   /* a chunk-size line or a trailer line */

enum {
	FR_SIZE, FR_EXT, FR_SIZE_LF, FR_DATA, FR_DATA_CR, FR_DATA_LF,
	FR_TRAILER, FR_TRAILER_LINE, FR_TRAILER_LF, FR_END_LF, FR_END,
};

void
etcd_frame_init(struct etcd_frame *f, int chunked, uint64_t content_length,
    size_t max)
{
	free(f->obj);
	memset(f, 0, sizeof(*f));
	f->chunked = chunked;
	f->left = chunked ? 0 : content_length;
	f->cst = chunked ? FR_SIZE : FR_DATA;
	f->max = max;
	if (!chunked && content_length == 0)
		f->done = 1;
}

void
etcd_frame_free(struct etcd_frame *f)
{
	free(f->obj);
	f->obj = NULL;
	f->len = f->cap = 0;
}

static int
etcd_frame_fail(struct etcd_frame *f, const char *why)
{
	f->err = why;
	return -1;
}

static int
etcd_frame_byte(struct etcd_frame *f, char ch)
{
	if (f->len == f->cap) {
		size_t cap = f->cap == 0 ? 1024 : f->cap * 2;
		char *p;

		if (f->len >= f->max)
			return -1;
		if (cap > f->max)
			cap = f->max;
		if ((p = realloc(f->obj, cap)) == NULL)
			return -1;
		f->obj = p;
		f->cap = cap;
	}
	f->obj[f->len++] = ch;
	return 0;
}

/* Body data bytes into objects. */
static int
etcd_frame_data(struct etcd_frame *f, const char *p, size_t n, etcd_frame_fn *fn,
    void *arg)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = p[i];

		if (f->depth == 0) {
			if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
				continue;
			if (ch != '{')
				return etcd_frame_fail(f, "junk between JSON objects");
			f->len = 0;
		}
		if (etcd_frame_byte(f, ch) == -1)
			return etcd_frame_fail(f, "response object too large");
		if (f->instr) {
			if (f->esc)
				f->esc = 0;
			else if (ch == '\\')
				f->esc = 1;
			else if (ch == '"')
				f->instr = 0;
		} else if (ch == '"') {
			f->instr = 1;
		} else if (ch == '{' || ch == '[') {
			if (++f->depth > (int)JSON_SCAN_DEPTH)
				return etcd_frame_fail(f, "response nested too deep");
		} else if (ch == '}' || ch == ']') {
			if (--f->depth == 0 && fn(arg, f->obj, f->len) != 0)
				return 2;
		}
	}
	return 0;
}

static int
etcd_frame_end(struct etcd_frame *f)
{
	f->done = 1;
	if (f->depth != 0)
		return etcd_frame_fail(f, "body ended inside a JSON object");
	return 1;
}

int
etcd_frame_feed(struct etcd_frame *f, const char *p, size_t n, etcd_frame_fn *fn,
    void *arg)
{
	size_t i = 0, take;
	int x;

	if (f->err != NULL)
		return -1;
	if (f->done)
		return etcd_frame_end(f);
	while (i < n) {
		char ch = p[i];

		switch (f->cst) {
		case FR_DATA:
			take = n - i;
			if (take > f->left)
				take = (size_t)f->left;
			if ((x = etcd_frame_data(f, p + i, take, fn, arg)) != 0)
				return x;
			i += take;
			f->left -= take;
			if (f->left == 0) {
				if (!f->chunked)
					return etcd_frame_end(f);
				f->cst = FR_DATA_CR;
			}
			continue;
		case FR_SIZE:
			if ((x = hex_digit(ch)) >= 0) {
				if (f->left > (UINT64_C(1) << 40))
					return etcd_frame_fail(f, "chunk size too large");
				f->left = f->left * 16 + (uint64_t)x;
				f->line++;
			} else if (f->line == 0) {
				return etcd_frame_fail(f, "invalid chunk size");
			} else if (ch == ';' || ch == ' ' || ch == '\t') {
				f->cst = FR_EXT;
			} else if (ch == '\r') {
				f->cst = FR_SIZE_LF;
			} else {
				return etcd_frame_fail(f, "invalid chunk size");
			}
			break;
		case FR_EXT:
			if (++f->line > ETCD_FRAME_LINE_MAX)
				return etcd_frame_fail(f, "chunk line too long");
			if (ch == '\r')
				f->cst = FR_SIZE_LF;
			else if (ch == '\n' || ch == '\0')
				return etcd_frame_fail(f, "invalid chunk extension");
			break;
		case FR_SIZE_LF:
			if (ch != '\n')
				return etcd_frame_fail(f, "bare cr in chunk line");
			f->line = 0;
			f->cst = f->left == 0 ? FR_TRAILER : FR_DATA;
			break;
		case FR_DATA_CR:
			if (ch != '\r')
				return etcd_frame_fail(f, "missing crlf after chunk data");
			f->cst = FR_DATA_LF;
			break;
		case FR_DATA_LF:
			if (ch != '\n')
				return etcd_frame_fail(f, "missing crlf after chunk data");
			f->cst = FR_SIZE;
			f->left = 0;
			f->line = 0;
			break;
		case FR_TRAILER:
			f->cst = ch == '\r' ? FR_END_LF : FR_TRAILER_LINE;
			f->line = 1;
			break;
		case FR_TRAILER_LINE:
			if (++f->line > ETCD_FRAME_LINE_MAX)
				return etcd_frame_fail(f, "trailer too large");
			if (ch == '\r')
				f->cst = FR_TRAILER_LF;
			else if (ch == '\n')
				return etcd_frame_fail(f, "bare lf in trailer");
			break;
		case FR_TRAILER_LF:
			if (ch != '\n')
				return etcd_frame_fail(f, "bare cr in trailer");
			f->cst = FR_TRAILER;
			break;
		case FR_END_LF:
			if (ch != '\n')
				return etcd_frame_fail(f, "bare cr after the last chunk");
			f->cst = FR_END;
			return etcd_frame_end(f);
		default:
			return etcd_frame_end(f);
		}
		i++;
	}
	return 0;
}
