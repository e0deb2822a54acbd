/* SPDX-License-Identifier: ISC */
/*
 * fuzz_pki_bundle: the trust bundle parser (pki_bundle_from_pem, what a
 * sidecar does with meshd's IPC_TRUST) on arbitrary bytes.  A bundle it
 * accepts has 1..PKI_BUNDLE_MAX roots, each a CA, and must come back the
 * same through pki_bundle_to_pem and a second parse.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pki_bundle a, b;
static char pem[PKI_BUNDLE_MAX * PKI_PEM_MAX];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pki_certinfo ci;
	char err[128];
	size_t i;
	int n;

	if (pki_bundle_from_pem(&a, (const char *)data, size, err, sizeof(err)) != 0) {
		if (a.n != 0)
			__builtin_trap();
		return 0;
	}
	if (a.n == 0 || a.n > PKI_BUNDLE_MAX)
		__builtin_trap();
	for (i = 0; i < a.n; i++)
		if (pki_cert_info(a.root[i].der, a.root[i].len, &ci) != 0 || !ci.is_ca ||
		    !pki_bundle_has_serial(&a, ci.serial))
			__builtin_trap();
	n = pki_bundle_to_pem(&a, pem, sizeof(pem));
	if (n <= 0 || pki_bundle_from_pem(&b, pem, (size_t)n, err, sizeof(err)) != 0 ||
	    b.n != a.n)
		__builtin_trap();
	for (i = 0; i < a.n; i++)
		if (b.root[i].len != a.root[i].len ||
		    memcmp(b.root[i].der, a.root[i].der, a.root[i].len) != 0)
			__builtin_trap();
	return 0;
}
