/* SPDX-License-Identifier: ISC */
/*
 * grpc: the gRPC face of the mesh's refusals, and the two gRPC header
 * values the mesh reads (include/mesh/grpc.h).
 */
#include <string.h>
#include <strings.h>

#include "mesh/grpc.h"

int
grpc_content_type(const char *v, size_t n)
{
	static const char base[] = "application/grpc";
	size_t b = sizeof(base) - 1;

	if (n < b || strncasecmp(v, base, b) != 0)
		return 0;
	return n == b || v[b] == '+' || v[b] == ';' || v[b] == ' ' || v[b] == '\t';
}

enum grpc_code
grpc_status_of_http(int code)
{
	switch (code) {
	case 400: return GRPC_INTERNAL;
	case 401: return GRPC_UNAUTHENTICATED;
	case 403: return GRPC_PERMISSION_DENIED;
	case 404: return GRPC_UNIMPLEMENTED;
	case 408: return GRPC_DEADLINE_EXCEEDED;
	case 413:
	case 431: return GRPC_RESOURCE_EXHAUSTED;
	case 429: return GRPC_UNAVAILABLE;
	case 501: return GRPC_UNIMPLEMENTED;
	case 502:
	case 503: return GRPC_UNAVAILABLE;
	case 504: return GRPC_DEADLINE_EXCEEDED;
	default:  return GRPC_UNKNOWN;
	}
}

size_t
grpc_message_encode(char *out, size_t outsz, const char *msg)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)msg;
	size_t o = 0;

	if (outsz == 0)
		return 0;
	for (; *p != '\0'; p++) {
		if (*p >= 0x20 && *p <= 0x7e && *p != '%') {
			if (o + 1 >= outsz)
				break;
			out[o++] = (char)*p;
		} else {
			if (o + 3 >= outsz)
				break;
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return o;
}

int
grpc_timeout_parse(const char *v, size_t n, uint64_t *ms)
{
	uint64_t val = 0, r;
	size_t i;

	if (n < 2 || n > 9)
		return -1;
	for (i = 0; i < n - 1; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		val = val * 10 + (uint64_t)(v[i] - '0');
	}
	/* 8 digits at most: 99999999 H in ms is about 3.6e14, far from overflow */
	switch (v[n - 1]) {
	case 'H': r = val * 3600000; break;
	case 'M': r = val * 60000; break;
	case 'S': r = val * 1000; break;
	case 'm': r = val; break;
	case 'u': r = (val + 999) / 1000; break;
	case 'n': r = (val + 999999) / 1000000; break;
	default:  return -1;
	}
	*ms = r;
	return 0;
}

int
grpc_status_parse(const char *v, size_t n)
{
	int code = 0;
	size_t i;

	if (n < 1 || n > 2)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		code = code * 10 + (v[i] - '0');
	}
	return code;
}
