/* SPDX-License-Identifier: ISC */
/*
 * mirror: the decision (shares over many draws, none without a version or
 * at 0) and the copy's head (Host gets -shadow after its name, before a
 * port, in any case of the header's name; no Host or no room: -1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/mirror.h"

static unsigned
count(const struct pcfg_mirror *m, unsigned n)
{
	struct backoff_rng rng;
	unsigned i, got = 0;

	backoff_seed(&rng, 7);
	for (i = 0; i < n; i++)
		got += mirror_draw(m, &rng) != 0;
	return got;
}

static void
test_draw(void **state)
{
	struct pcfg_mirror m;

	(void)state;
	memset(&m, 0, sizeof(m));
	assert_int_equal(count(&m, 1000), 0);          /* no mirror line */
	snprintf(m.version, sizeof(m.version), "v2");
	assert_int_equal(count(&m, 1000), 0);          /* 0 per mille */
	m.permille = 1000;
	assert_int_equal(count(&m, 1000), 1000);       /* 100% */
	m.permille = 100;
	{
		unsigned n = count(&m, 10000);            /* 10%: about 1000 */

		if (n < 850 || n > 1150)
			fail_msg("10%% of 10000 draws gave %u", n);
	}
	m.permille = 5;
	{
		unsigned n = count(&m, 100000);           /* 0.5%: about 500 */

		if (n < 350 || n > 650)
			fail_msg("0.5%% of 100000 draws gave %u", n);
	}
	m.version[0] = '\0';
	assert_int_equal(count(&m, 1000), 0);
}

static void
host_is(const char *in, const char *want)
{
	char out[256];
	long n = mirror_host(out, sizeof(out), in, strlen(in));

	if (want == NULL) {
		assert_int_equal(n, -1);
		return;
	}
	assert_int_equal(n, (long)strlen(want));
	out[n] = '\0';
	assert_string_equal(out, want);
}

static void
test_host(void **state)
{
	char small[40];
	static const char req[] = "GET / HTTP/1.1\r\nhost: api\r\n\r\n";

	(void)state;
	host_is("GET / HTTP/1.1\r\nhost: api\r\n\r\n",
	    "GET / HTTP/1.1\r\nhost: api-shadow\r\n\r\n");
	host_is("POST /x HTTP/1.1\r\nContent-Length: 3\r\nHost: api.mesh:80\r\nx: y\r\n\r\n",
	    "POST /x HTTP/1.1\r\nContent-Length: 3\r\nHost: api.mesh-shadow:80\r\nx: y\r\n\r\n");
	host_is("GET / HTTP/1.1\r\nHOST:api.mesh.  \r\n\r\n",
	    "GET / HTTP/1.1\r\nHOST:api.mesh.-shadow  \r\n\r\n");
	host_is("GET / HTTP/1.1\r\nhost: [::1]:8080\r\n\r\n",
	    "GET / HTTP/1.1\r\nhost: [::1]-shadow:8080\r\n\r\n");
	/* a header that only starts like host, then the real one */
	host_is("GET / HTTP/1.1\r\nhostname: a\r\nhost: api\r\n\r\n",
	    "GET / HTTP/1.1\r\nhostname: a\r\nhost: api-shadow\r\n\r\n");
	/* the request line is no header, even if its target says host: */
	host_is("GET /host:x HTTP/1.1\r\nhost: api\r\n\r\n",
	    "GET /host:x HTTP/1.1\r\nhost: api-shadow\r\n\r\n");
	host_is("GET / HTTP/1.1\r\nx: host: a\r\n\r\n", NULL);
	host_is("GET / HTTP/1.1\r\nhost: \r\n\r\n", NULL);
	/* no room for the suffix */
	assert_int_equal(mirror_host(small, sizeof(req) - 1 + 6, req, sizeof(req) - 1), -1);
	assert_int_equal(mirror_host(small, sizeof(req) - 1 + 7, req, sizeof(req) - 1),
	    (long)(sizeof(req) - 1 + 7));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_draw),
		cmocka_unit_test(test_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
