/* SPDX-License-Identifier: ISC */
/*
 * json_scan: a small, bounded JSON reader for the documents meshd sends
 * (`status --json`, `certs --json`), used by the dashboard.
 *
 * json_scan_parse() tokenizes a whole document into a flat array, in
 * document order, without recursion: nesting is tracked on a fixed stack
 * of JSON_SCAN_DEPTH levels, and the number of tokens is capped by the
 * caller, so no input can make it use more than that memory or stack.
 * The text is not copied: tokens point into it, which must outlive the doc.
 *
 * Token layout: a container (object, array) is followed by its children;
 * an object's children alternate key (a string token) and value.  Each
 * token knows `next`, the index just past its whole subtree, so walking
 * siblings is O(1) per step:
 *
 *   for (k = json_scan_child(d, obj); k != -1; k = json_scan_next(d, obj, k + 1))
 *       key k, value k + 1
 *   for (e = json_scan_child(d, arr); e != -1; e = json_scan_next(d, arr, e))
 *       element e
 *
 * Strict RFC 8259 syntax: one value, no trailing commas, no comments,
 * strings without raw control bytes, numbers as the grammar says.
 */
#ifndef MESH_JSON_SCAN_H
#define MESH_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>

#define JSON_SCAN_DEPTH 32u

enum json_type {
	JSON_OBJECT = 1, JSON_ARRAY, JSON_STRING, JSON_NUMBER, JSON_TRUE,
	JSON_FALSE, JSON_NULL,
};

struct json_tok {
	uint8_t  type;     /* enum json_type */
	uint32_t start;    /* offset of its first byte (a string: after the quote) */
	uint32_t len;      /* bytes (a string: without quotes, escapes as written) */
	uint32_t next;     /* index just past this token's subtree */
	uint32_t n;        /* containers: members (object) or elements (array) */
};

struct json_doc {
	const char      *text;   /* ro: not owned */
	struct json_tok *t;      /* ro: [nt] */
	size_t           nt;     /* ro */
};

/*
 * Tokenize text[0..len).  0, or -1 with "offset N: why" in err (bad
 * syntax, deeper than JSON_SCAN_DEPTH, more than max_tokens tokens, a
 * document over 4 GiB, out of memory); the doc is then empty.
 */
int  json_scan_parse(struct json_doc *d, const char *text, size_t len,
                     size_t max_tokens, char *err, size_t errlen);
void json_scan_free(struct json_doc *d);

/* The first child of container tok (an object's first key), or -1. */
int  json_scan_child(const struct json_doc *d, int tok);
/* The token after tok's subtree when that is still inside container
 * `parent` (tok's next sibling; for a value, the next key), else -1. */
int  json_scan_next(const struct json_doc *d, int parent, int tok);
/* The value of `key` in object obj, or -1 (not an object, no such key). */
int  json_scan_key(const struct json_doc *d, int obj, const char *key);
/* Follow a dotted path of keys from tok ("mesh.name"); -1 when absent. */
int  json_scan_path(const struct json_doc *d, int tok, const char *path);
/* Element i of array arr, or -1. */
int  json_scan_elem(const struct json_doc *d, int arr, size_t i);

/*
 * A string token's value, unescaped (\uXXXX to UTF-8, surrogate pairs
 * joined), NUL-terminated and truncated to fit buf.  Returns the length
 * written, or -1 when tok is not a string (buf is then "").
 */
int  json_scan_str(const struct json_doc *d, int tok, char *buf, size_t size);
/* 1 when tok is a string equal to s (compared unescaped). */
int  json_scan_streq(const struct json_doc *d, int tok, const char *s);
/* A number token as a double / an integer (truncated toward 0, clamped);
 * `def` when tok is absent (-1), null or not a number. */
double  json_scan_num(const struct json_doc *d, int tok, double def);
int64_t json_scan_int(const struct json_doc *d, int tok, int64_t def);
/* true/false as 1/0; def otherwise. */
int  json_scan_bool(const struct json_doc *d, int tok, int def);
/* The type of tok, 0 when tok is -1 or out of range. */
int  json_scan_type(const struct json_doc *d, int tok);

#endif
