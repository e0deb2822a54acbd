/* SPDX-License-Identifier: ISC */
/*
 * fuzz_ipc: the control socket's framing and the IPC_IDENT payload, on
 * what a hostile peer of meshd.sock could send.  After its first byte the
 * input is the byte stream, fed to an ipc_reader twice: whole, and in
 * pieces of 1..64 bytes (the first byte says how big) as non-blocking
 * reads would cut it.  Every message taken out must have a known type and
 * a NUL-terminated payload of the length given; a protocol error must stay
 * an error; both feeds must give the same messages and the same end.
 * Each IPC_IDENT payload, and the stream itself, goes through
 * ipc_ident_parse(), whose serials must be 2..64 lower-case hex digits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_serial(const char *s, int may_be_empty)
{
	size_t n = strnlen(s, IPC_IDENT_SERIAL_MAX), i;

	if (n == IPC_IDENT_SERIAL_MAX || (n == 0 && !may_be_empty) || n == 1)
		abort();
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			abort();
}

static void
fuzz_ident(const char *p, size_t len)
{
	struct ipc_ident id;
	size_t k;

	if (ipc_ident_parse(p, len, &id) != 0)
		return;
	fuzz_serial(id.leaf, 1);
	if (id.nroots > IPC_IDENT_ROOTS_MAX)
		abort();
	for (k = 0; k < id.nroots; k++)
		fuzz_serial(id.roots[k], 0);
}

/* What a feed gave: the messages (FNV-1a over type, length, payload),
 * and how it ended. */
struct fuzz_seen {
	uint64_t hash;
	size_t   n;
	int      refused;
};

static void
fuzz_feed(const uint8_t *data, size_t size, size_t piece, struct fuzz_seen *s)
{
	struct ipc_reader r;
	const char *err;
	size_t off = 0, len, i;
	uint16_t type;
	char *p;
	int rc = 0;

	s->hash = 14695981039346656037ull;
	s->n = 0;
	s->refused = 0;
	ipc_reader_init(&r);
	while (off < size && rc != -1) {
		size_t n = size - off < piece ? size - off : piece;

		if (ipc_reader_feed(&r, data + off, n) == -1)
			abort();    /* we take every message out before feeding more */
		off += n;
		while ((rc = ipc_reader_next(&r, &type, &p, &len, &err)) == 1) {
			if (!ipc_type_known(type) || len > IPC_MAX_PAYLOAD || p[len] != '\0')
				abort();
			if (type == IPC_IDENT)
				fuzz_ident(p, len);
			s->hash = (s->hash ^ type) * 1099511628211ull;
			s->hash = (s->hash ^ len) * 1099511628211ull;
			for (i = 0; i < len; i++)
				s->hash = (s->hash ^ (unsigned char)p[i]) * 1099511628211ull;
			s->n++;
		}
		if (rc == -1 && (err == NULL || *err == '\0'))
			abort();
	}
	if (rc == -1) {
		/* the connection is closed on it: asked again, it is still an error */
		if (ipc_reader_next(&r, &type, &p, &len, &err) != -1)
			abort();
		s->refused = 1;
	}
	ipc_reader_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_seen whole, pieces;

	if (size < 1 || size - 1 > IPC_READER_MAX)
		return 0;
	fuzz_feed(data + 1, size - 1, size, &whole);
	fuzz_feed(data + 1, size - 1, (size_t)(data[0] % 64) + 1, &pieces);
	if (whole.n != pieces.n || whole.hash != pieces.hash || whole.refused != pieces.refused) {
		fprintf(stderr, "fuzz_ipc: whole: %zu messages%s; in pieces of %d: %zu%s\n",
		    whole.n, whole.refused ? ", refused" : "", data[0] % 64 + 1, pieces.n,
		    pieces.refused ? ", refused" : "");
		abort();
	}
	fuzz_ident((const char *)data + 1, size - 1);
	return 0;
}
