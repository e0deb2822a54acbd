/* SPDX-License-Identifier: ISC */
/*
 * fuzz_trace: the trace context parsers on arbitrary bytes (a header
 * value is whatever a client sends).
 *   - the input as a traceparent and as a single b3 value; a context
 *     either parser accepts must format to a traceparent that parses back
 *     to the same ids, and a version-00 traceparent with flags 00 or 01
 *     must format back to exactly its own bytes;
 *   - the input split at its first two '\n' as the X-B3-TraceId,
 *     X-B3-SpanId and X-B3-Sampled values (no third part: no header).
 */
#include <stdint.h>
#include <string.h>

#include "mesh/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_round_trip(const struct trace_ctx *t)
{
	char out[TRACE_PARENT_LEN + 1];
	struct trace_ctx back;

	if (!t->valid)
		__builtin_trap();
	trace_format(out, t->trace_id, t->span_id, t->sampled);
	if (trace_parse_traceparent(out, TRACE_PARENT_LEN, &back) != 0 ||
	    memcmp(back.trace_id, t->trace_id, 16) != 0 ||
	    memcmp(back.span_id, t->span_id, 8) != 0 || back.sampled != (t->sampled != 0))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *nl1, *nl2;
	struct trace_ctx t;

	if (trace_parse_traceparent(s, size, &t) == 0) {
		fuzz_round_trip(&t);
		if (size == TRACE_PARENT_LEN && memcmp(s, "00-", 3) == 0 &&
		    s[53] == '0' && (s[54] == '0' || s[54] == '1')) {
			char out[TRACE_PARENT_LEN + 1];

			trace_format(out, t.trace_id, t.span_id, t.sampled);
			if (memcmp(out, s, TRACE_PARENT_LEN) != 0)
				__builtin_trap();
		}
	}
	if (trace_parse_b3(s, size, &t) == 0)
		fuzz_round_trip(&t);

	nl1 = memchr(s, '\n', size);
	if (nl1 == NULL)
		return 0;
	nl2 = memchr(nl1 + 1, '\n', size - (size_t)(nl1 + 1 - s));
	if (trace_parse_b3_multi(s, (size_t)(nl1 - s), nl1 + 1,
	    (size_t)((nl2 != NULL ? nl2 : s + size) - (nl1 + 1)),
	    nl2 != NULL ? nl2 + 1 : NULL,
	    nl2 != NULL ? size - (size_t)(nl2 + 1 - s) : 0, &t) == 0)
		fuzz_round_trip(&t);
	return 0;
}
