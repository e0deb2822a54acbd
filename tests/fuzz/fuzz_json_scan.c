/* SPDX-License-Identifier: ISC */
/*
 * fuzz_json_scan: the dashboard's JSON reader on arbitrary bytes.  A
 * document it accepts is walked whole — every container's children
 * through child/next, every string unescaped into a small buffer, every
 * number converted — and every token's subtree must stay inside the
 * token array and its text inside the input.
 */
#include <stdint.h>
#include <string.h>

#include "mesh/json_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_walk(const struct json_doc *d)
{
	char buf[64];
	size_t i;
	int k, n;

	for (i = 0; i < d->nt; i++) {
		const struct json_tok *t = &d->t[i];

		if (t->next <= i || t->next > d->nt)
			__builtin_trap();
		switch (t->type) {
		case JSON_OBJECT:
		case JSON_ARRAY:
			n = 0;
			for (k = json_scan_child(d, (int)i); k != -1;
			    k = json_scan_next(d, (int)i, k))
				if ((size_t)k <= i || (size_t)k >= d->nt || ++n > (int)d->nt)
					__builtin_trap();
			(void)json_scan_elem(d, (int)i, 1);
			(void)json_scan_key(d, (int)i, "mesh");
			(void)json_scan_path(d, (int)i, "mesh.name");
			break;
		case JSON_STRING:
			if (json_scan_str(d, (int)i, buf, sizeof(buf)) < 0 ||
			    strlen(buf) >= sizeof(buf))
				__builtin_trap();
			(void)json_scan_streq(d, (int)i, "running");
			break;
		case JSON_NUMBER:
			(void)json_scan_num(d, (int)i, 0);
			(void)json_scan_int(d, (int)i, 0);
			break;
		default:
			(void)json_scan_bool(d, (int)i, -1);
			break;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc d;
	char err[128];

	if (json_scan_parse(&d, (const char *)data, size, 4096, err, sizeof(err)) == 0) {
		fuzz_walk(&d);
		json_scan_free(&d);
	}
	return 0;
}
