/* SPDX-License-Identifier: ISC */
/*
 * fault: the decision of include/mesh/fault.h, with no state of its own
 * (the caller gives the random source), so the tests can draw it often.
 */
#include <string.h>
#include <strings.h>

#include "mesh/fault.h"

int
fault_applies(const struct pcfg_fault *f, const char *version,
              const struct http_header *h, size_t nh)
{
	size_t vlen, i;

	if (!pcfg_fault_active(f))
		return 0;
	if (f->version[0] != '\0' && (version == NULL || strcmp(f->version, version) != 0))
		return 0;
	if (f->match_header[0] == '\0')
		return 1;
	/* any header of that name with exactly the value (a repeated
	 * header is several fields, not one list) */
	vlen = strlen(f->match_value);
	for (i = 0; i < nh; i++)
		if (h[i].name_len == strlen(f->match_header) &&
		    strncasecmp(h[i].name, f->match_header, h[i].name_len) == 0 &&
		    h[i].value_len == vlen && memcmp(h[i].value, f->match_value, vlen) == 0)
			return 1;
	return 0;
}

unsigned
fault_draw(const struct pcfg_fault *f, struct backoff_rng *rng)
{
	unsigned got = 0;

	if (f->delay_permille != 0 && backoff_random(rng, 1000) < f->delay_permille)
		got |= FAULT_DELAY;
	if (f->abort_permille != 0 && backoff_random(rng, 1000) < f->abort_permille)
		got |= FAULT_ABORT;
	return got;
}
