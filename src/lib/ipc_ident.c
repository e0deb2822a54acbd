/* SPDX-License-Identifier: ISC */
/*
 * ipc_ident: the IPC_IDENT payload, "leaf <serial>|- roots <serial>...",
 * which a sidecar sends after every change of what it presents or trusts
 * and meshd's root rollover reads (mcert_roll.c).  Here, apart from
 * meshd, so that it can be fuzzed (tests/fuzz/fuzz_ipc.c).
 */
#include <string.h>

#include "mesh/ipc.h"
#include "mesh/pki.h"

_Static_assert(IPC_IDENT_SERIAL_MAX == sizeof(((struct pki_certinfo *)0)->serial),
    "an IPC_IDENT serial is a pki_certinfo serial");
_Static_assert(IPC_IDENT_ROOTS_MAX == PKI_BUNDLE_MAX,
    "a sidecar trusts at most a bundle of roots");

/* One serial: 2..64 lower-case hex digits, or (dash) "-" for no leaf. */
static int
ipc_ident_serial(const char *s, size_t n, int dash)
{
	size_t i;

	if (dash && n == 1 && s[0] == '-')
		return 1;
	if (n < 2 || n >= IPC_IDENT_SERIAL_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
ipc_ident_parse(const char *p, size_t len, struct ipc_ident *out)
{
	const char *w, *end = p + len;
	struct ipc_ident r;
	size_t k = 0, n;
	int field = 0;

	memset(&r, 0, sizeof(r));
	/* words, separated by blanks: "leaf" SERIAL "roots" SERIAL... */
	for (w = p; w < end; w += n) {
		while (w < end && *w == ' ')
			w++;
		if (w >= end)
			break;
		for (n = 0; w + n < end && w[n] != ' '; n++)
			;
		if (field == 0 && n == 4 && memcmp(w, "leaf", 4) == 0) {
			field = 1;
		} else if (field == 1 && ipc_ident_serial(w, n, 1)) {
			if (w[0] != '-')
				memcpy(r.leaf, w, n);
			field = 2;
		} else if (field == 2 && n == 5 && memcmp(w, "roots", 5) == 0) {
			field = 3;
		} else if (field == 3 && k < IPC_IDENT_ROOTS_MAX && ipc_ident_serial(w, n, 0)) {
			memcpy(r.roots[k++], w, n);
		} else {
			return -1;
		}
	}
	if (field != 3)
		return -1;
	r.nroots = k;
	*out = r;
	return 0;
}
