/* SPDX-License-Identifier: ISC */
/*
 * fuzz_spiffe: the identity parsers on arbitrary bytes.
 *   - the input as a SPIFFE ID (spiffe_parse), and a parsed ID must
 *     format back to the same bytes;
 *   - the input as a peer certificate (spiffe_check_der, pki_cert_info),
 *     which is what a sidecar does with whatever a peer presents.
 */
#include <stdint.h>
#include <string.h>

#include "mesh/pki.h"
#include "mesh/spiffe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[SPIFFE_URI_MAX + 1];
	struct pki_certinfo ci;
	struct spiffe_id id;
	int n;

	if (spiffe_parse((const char *)data, size, &id) == SPIFFE_OK) {
		n = spiffe_format(buf, sizeof(buf), id.td, id.svc);
		if (n < 0 || (size_t)n != size || memcmp(buf, data, size) != 0)
			__builtin_trap();
	}
	(void)spiffe_check_der(data, size, "mesh.local", &id);
	(void)pki_cert_info(data, size, &ci);
	return 0;
}
