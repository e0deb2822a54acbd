/* SPDX-License-Identifier: ISC */
/*
 * otlp_json: the body of an OTLP/HTTP JSON export (ExportTraceServiceRequest)
 * made from the sidecars' span records.  meshd's exporter (otlp.h) sends
 * it; `meshctl traces --json` names a span's flags with the same words.
 */
#ifndef MESH_OTLP_JSON_H
#define MESH_OTLP_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "mesh/stats.h"

#define OTLP_SCOPE_NAME    "meshctl"

/* A growable text buffer; oom sticks once an allocation failed. */
struct otlp_buf {
	char  *p;
	size_t len, cap;
	int    oom;
};
void otlp_buf_reset(struct otlp_buf *b);
void otlp_buf_free(struct otlp_buf *b);

/*
 * One ExportTraceServiceRequest for spans[0..n) into b (replacing its
 * text): resourceSpans grouped by instance (resource attributes
 * service.name, service.version, service.instance.id and, when mesh_name
 * is not NULL, service.namespace), in the order each instance first
 * appears; one scopeSpans each, scope OTLP_SCOPE_NAME.  A span: traceId,
 * spanId, parentSpanId (absent for a root) in lower-case hex; name
 * "METHOD /path" (no query); kind 2 SERVER or 3 CLIENT;
 * start/endTimeUnixNano as decimal strings; attributes
 * http.request.method, http.response.status_code, url.path, url.query
 * (when there is one), server.address (the authority), mesh.peer,
 * mesh.upstream, mesh.retries, mesh.flags ("UH,UF": Envoy-like flags,
 * absent when none), and for a gRPC call (STATS_SF_GRPC) rpc.system
 * "grpc" and rpc.grpc.status_code; a string attribute that is empty is
 * left out; status code 2 (ERROR) for a 5xx or no status, and for a gRPC
 * call as OpenTelemetry's gRPC conventions say (a client span: any status
 * but 0; a server span: 2, 4, 12, 13, 14, 15), else no status.  Text
 * from requests is escaped and made valid UTF-8 (U+FFFD for bad bytes).
 * 0, or -1 when out of memory.
 */
int otlp_json_encode(struct otlp_buf *b, const struct stats_span_rec *const *spans,
                     size_t n, const char *mesh_name);
/* The flags of a span as "UH,UF" into out (empty when none). */
void otlp_json_flags(char *out, size_t size, uint32_t flags);

#endif
