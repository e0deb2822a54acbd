/* SPDX-License-Identifier: ISC */
/*
 * fuzz_pcfg: pcfg_parse() on arbitrary documents, as a sidecar takes them
 * from meshd (IPC_CONFIG) or from `mesh-proxy -c FILE`: every keyword,
 * policy, fault and mirror lines included.  A refused document must say
 * which line ("line N: ..."); an accepted one must survive the round trip
 * pcfg.h promises: pcfg_format() writes a document that parses back to the
 * same configuration (field by field: nothing the sidecar would act on is
 * lost or changed) and formats to the very same text.  Anything else
 * aborts, naming what differs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/pcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "fuzz_same.h"

/* A fault's meaning: nothing when it injects nothing; a share's value
 * only with a share. */
static int
fuzz_same_fault(const struct pcfg_fault *a, const struct pcfg_fault *b)
{
	SAME(pcfg_fault_active(a) == pcfg_fault_active(b), "fault in force");
	if (!pcfg_fault_active(a))
		return 1;
	SAME(a->delay_permille == b->delay_permille, "fault delay share");
	SAME(a->delay_permille == 0 || a->delay_ms == b->delay_ms, "fault delay");
	SAME(a->abort_permille == b->abort_permille, "fault abort share");
	SAME(a->abort_permille == 0 || a->abort_status == b->abort_status, "fault abort status");
	SAME(strcmp(a->match_header, b->match_header) == 0, "fault match header");
	SAME(a->match_header[0] == '\0' || strcmp(a->match_value, b->match_value) == 0,
	    "fault match value");
	SAME(strcmp(a->version, b->version) == 0, "fault version");
	return 1;
}

static int
fuzz_same_policy(const struct pcfg_policy *a, const struct pcfg_policy *b)
{
	SAME(a->timeout_ms == b->timeout_ms && a->connect_timeout_ms == b->connect_timeout_ms &&
	    a->retries == b->retries && a->backoff_base_ms == b->backoff_base_ms &&
	    a->backoff_cap_ms == b->backoff_cap_ms && a->budget_percent == b->budget_percent &&
	    a->budget_per_sec == b->budget_per_sec && a->lb == b->lb &&
	    a->breaker_failures == b->breaker_failures &&
	    a->breaker_cooldown_ms == b->breaker_cooldown_ms && a->max_pending == b->max_pending &&
	    a->outlier_failures == b->outlier_failures &&
	    a->outlier_ejection_ms == b->outlier_ejection_ms && a->retry_buffer == b->retry_buffer,
	    "a policy number");
	SAME(a->retry_on == b->retry_on && a->nretry_status == b->nretry_status &&
	    memcmp(a->retry_status, b->retry_status,
	    a->nretry_status * sizeof(a->retry_status[0])) == 0, "policy retry_on");
	return 1;
}

static int
fuzz_same_service(const struct pcfg_service *a, const struct pcfg_service *b)
{
	size_t i;

	SAME(strcmp(a->name, b->name) == 0 && a->proto == b->proto, "a service");
	SAME(a->nendpoints == b->nendpoints, "endpoint count");
	for (i = 0; i < a->nendpoints; i++)
		SAME(strcmp(a->endpoints[i].version, b->endpoints[i].version) == 0 &&
		    a->endpoints[i].index == b->endpoints[i].index &&
		    a->endpoints[i].port == b->endpoints[i].port &&
		    pcfg_endpoint_addr(&a->endpoints[i]) == pcfg_endpoint_addr(&b->endpoints[i]) &&
		    strcmp(a->endpoints[i].host, b->endpoints[i].host) == 0 &&
		    a->endpoints[i].up == b->endpoints[i].up, "an endpoint");
	SAME(a->nsplits == b->nsplits, "split count");
	for (i = 0; i < a->nsplits; i++)
		SAME(strcmp(a->splits[i].version, b->splits[i].version) == 0 &&
		    a->splits[i].weight == b->splits[i].weight, "a split weight");
	if (!fuzz_same_policy(&a->policy, &b->policy) || !fuzz_same_fault(&a->fault, &b->fault))
		return 0;
	SAME(strcmp(a->mirror.version, b->mirror.version) == 0 &&
	    a->mirror.permille == b->mirror.permille, "the mirror");
	return 1;
}

static int
fuzz_same(const struct pcfg *a, const struct pcfg *b)
{
	size_t i;

	SAME(strcmp(a->service, b->service) == 0 && strcmp(a->version, b->version) == 0 &&
	    a->index == b->index, "instance");
	SAME(memcmp(&a->limits, &b->limits, sizeof(a->limits)) == 0, "limits");
	SAME(a->inbound_port == b->inbound_port, "inbound port");
	SAME(a->inbound_port == 0 || (a->inbound_proto == b->inbound_proto &&
	    a->app_port == b->app_port), "inbound");
	SAME(a->inbound_port == 0 || (a->inbound_bind == 0 ? 0x7f000001u : a->inbound_bind) ==
	    (b->inbound_bind == 0 ? 0x7f000001u : b->inbound_bind), "inbound bind");
	SAME(strcmp(a->host, b->host) == 0, "host");
	SAME(a->outbound_port == b->outbound_port, "outbound");
	SAME(a->nlistens == b->nlistens, "listen count");
	for (i = 0; i < a->nlistens; i++)
		SAME(a->listens[i].port == b->listens[i].port &&
		    strcmp(a->listens[i].service, b->listens[i].service) == 0, "a listen");
	SAME(strcmp(a->trust_domain, b->trust_domain) == 0, "trust_domain");
	SAME(a->nallow == b->nallow, "allow count");
	for (i = 0; i < a->nallow; i++)
		SAME(strcmp(a->allow[i], b->allow[i]) == 0, "an allow name");
	SAME(a->trace_permille == b->trace_permille, "trace");
	SAME(a->access_log == b->access_log, "access_log");
	SAME(a->access_log != PCFG_ACCESS_FILE ||
	    strcmp(a->access_log_path, b->access_log_path) == 0, "access_log path");
	SAME(a->nservices == b->nservices, "service count");
	for (i = 0; i < a->nservices; i++)
		if (!fuzz_same_service(&a->services[i], &b->services[i]))
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcfg c, again;
	char err[320], *out = NULL, *out2 = NULL;
	size_t len, len2;

	if (pcfg_parse((const char *)data, size, &c, err, sizeof(err)) != 0) {
		if (strncmp(err, "line ", 5) != 0) {
			fprintf(stderr, "fuzz_pcfg: an error without its line: '%s'\n", err);
			abort();
		}
		return 0;
	}
	if (pcfg_format(&c, &out, &len) != 0)
		goto done;      /* out of memory */
	if (strlen(out) != len) {
		fprintf(stderr, "fuzz_pcfg: pcfg_format's length %zu is not the text's %zu\n",
		    len, strlen(out));
		abort();
	}
	if (pcfg_parse(out, len, &again, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_pcfg: its own document refused: %s\n%s", err, out);
		abort();
	}
	if (!fuzz_same(&c, &again)) {
		fprintf(stderr, "fuzz_pcfg: parse, format, parse: %s differs:\n%.*s---\n%s",
		    differs, (int)size, (const char *)data, out);
		abort();
	}
	if (pcfg_format(&again, &out2, &len2) == 0 &&
	    (len2 != len || memcmp(out, out2, len) != 0)) {
		fprintf(stderr, "fuzz_pcfg: formatted twice, two texts:\n%s---\n%s", out, out2);
		abort();
	}
	pcfg_free(&again);
done:
	free(out);
	free(out2);
	pcfg_free(&c);
	return 0;
}
