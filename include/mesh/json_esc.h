/* SPDX-License-Identifier: ISC */
/*
 * json_esc: a JSON string from untrusted bytes — the one escaper of the
 * access log, the OTLP exporter and `meshctl traces`.
 *
 * '"' and '\' are escaped, \n \r \t as such, other bytes below 0x20 and
 * 0x7f as \u00XX; valid UTF-8 (RFC 3629: no overlong forms, surrogates
 * or code points past U+10FFFF) passes as it is, and every other byte
 * becomes \ufffd, so the result is valid JSON and valid UTF-8 whatever
 * the input.
 */
#ifndef MESH_JSON_ESC_H
#define MESH_JSON_ESC_H

#include <stddef.h>
#include <stdio.h>

/*
 * s[0..n) as a JSON string, quotes included, NUL-terminated, into
 * out[0..size).  When it does not fit it is cut between two whole pieces
 * (never half an escape or a character) and still closed.  Returns the
 * length written (without the NUL; 0 when size < 3), and in *used (if
 * not NULL) how many bytes of s it holds (n unless cut).
 */
size_t json_esc(char *out, size_t size, const char *s, size_t n, size_t *used);

/* The NUL-terminated s as a JSON string, quotes included, onto f, however
 * long (json_esc() a buffer at a time). */
void   json_esc_file(FILE *f, const char *s);

#endif
