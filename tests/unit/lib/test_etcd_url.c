/* SPDX-License-Identifier: ISC */
/*
 * etcd_url: endpoint lists (commas, spaces, both), http and https, the
 * default port, IPv6 in brackets, a trailing slash; every refused form
 * with a message naming the URL; the endpoint count bound; numeric and
 * localhost addresses without a lookup.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "etcd_int.h"

static void
test_list(void **state)
{
	struct etcd_ep eps[ETCD_ENDPOINTS_MAX];
	char err[256];
	size_t n;

	(void)state;
	assert_int_equal(etcd_url_parse(" http://10.0.0.5:2379,https://etcd.example:2380/ ,"
	    "  http://[fd00::1]  HTTP://localhost", eps, ETCD_ENDPOINTS_MAX, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 4);
	assert_string_equal(eps[0].url, "http://10.0.0.5:2379");
	assert_string_equal(eps[0].host, "10.0.0.5");
	assert_int_equal(eps[0].port, 2379);
	assert_int_equal(eps[0].tls, 0);
	assert_string_equal(eps[1].host, "etcd.example");
	assert_int_equal(eps[1].port, 2380);
	assert_int_equal(eps[1].tls, 1);
	assert_string_equal(eps[1].hostport, "etcd.example:2380");
	assert_string_equal(eps[2].host, "fd00::1");
	assert_int_equal(eps[2].port, 2379);
	assert_string_equal(eps[2].hostport, "[fd00::1]:2379");
	assert_string_equal(eps[3].host, "localhost");
}

static void
refused(const char *list, const char *msg)
{
	struct etcd_ep eps[ETCD_ENDPOINTS_MAX];
	char err[256];
	size_t n;

	assert_int_equal(etcd_url_parse(list, eps, ETCD_ENDPOINTS_MAX, &n, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
}

static void
test_refused(void **state)
{
	(void)state;
	refused("", "no etcd endpoint in \"\"");
	refused(" , ", "no etcd endpoint in \" , \"");
	refused("10.0.0.5:2379", "10.0.0.5:2379: want an http:// or https:// URL");
	refused("http://a:1, unix:///run/etcd", "unix:///run/etcd: want an http:// or https:// URL");
	refused("http://", "http://: want an http:// or https:// URL");
	refused("http://:2379", "http://:2379: no host");
	refused("http://a:0", "http://a:0: bad port");
	refused("http://a:65536", "http://a:65536: bad port");
	refused("http://a:", "http://a:: bad port");
	refused("http://a:+1", "http://a:+1: bad port");
	refused("http://a:12x", "http://a:12x: bad port");
	refused("http://a/v3", "http://a/v3: an endpoint has no path");
	refused("http://[fd00::1", "http://[fd00::1: unterminated [IPv6 address]");
	refused("http://[fd00::1]x", "http://[fd00::1]x: junk after the ]");
	refused("http://user@a:1", "http://user@a:1: bad host");
}

static void
test_bounds(void **state)
{
	struct etcd_ep eps[ETCD_ENDPOINTS_MAX];
	char list[2048], err[256], big[400];
	size_t n, i, o = 0;

	(void)state;
	for (i = 0; i < ETCD_ENDPOINTS_MAX; i++)
		o += (size_t)sprintf(list + o, "http://10.0.0.%zu:2379,", i + 1);
	assert_int_equal(etcd_url_parse(list, eps, ETCD_ENDPOINTS_MAX, &n, err, sizeof(err)), 0);
	assert_int_equal(n, ETCD_ENDPOINTS_MAX);
	sprintf(list + o, "http://10.0.0.99:2379");
	assert_int_equal(etcd_url_parse(list, eps, ETCD_ENDPOINTS_MAX, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "http://10.0.0.99:2379: more than 8 endpoints"));
	/* a URL longer than the field */
	memset(big, 'a', sizeof(big));
	memcpy(big, "http://", 7);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(etcd_url_parse(big, eps, ETCD_ENDPOINTS_MAX, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "URL too long"));
}

static void
test_resolve(void **state)
{
	struct etcd_ep eps[3];
	struct sockaddr_in *sin;
	char err[256], a[64];
	size_t n;

	(void)state;
	assert_int_equal(etcd_url_parse("http://127.0.0.1:23791 http://localhost:1 http://[::1]:2",
	    eps, 3, &n, err, sizeof(err)), 0);
	assert_int_equal(etcd_url_resolve(&eps[0], err, sizeof(err)), 0);
	sin = (struct sockaddr_in *)&eps[0].addr;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 23791);
	assert_string_equal(inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a)), "127.0.0.1");
	assert_int_equal(etcd_url_resolve(&eps[1], err, sizeof(err)), 0);
	sin = (struct sockaddr_in *)&eps[1].addr;
	assert_string_equal(inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a)), "127.0.0.1");
	assert_int_equal(etcd_url_resolve(&eps[2], err, sizeof(err)), 0);
	assert_int_equal(eps[2].addr.ss_family, AF_INET6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_resolve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
