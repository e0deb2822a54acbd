/* SPDX-License-Identifier: ISC */
/*
 * status_reg: the registry's part of `meshctl status` (status.h), with
 * `registry = etcd` only; a single host's output is unchanged.
 */
#include <stdio.h>

#include "mesh/json_esc.h"
#include "mesh/mreg.h"
#include "status_int.h"

void
status_json_registry(FILE *f, const struct meshd *m)
{
	const struct mreg *r = mreg_get(m);
	const struct mreg_remote *rem;
	size_t i, n;

	if (r == NULL)
		return;
	fputs(",\"registry\":{\"backend\":\"etcd\",\"state\":", f);
	json_esc_file(f, mreg_state(r));
	fputs(",\"reason\":", f);
	json_esc_file(f, mreg_reason(r));
	fputs(",\"host\":", f);
	json_esc_file(f, m->cfg.mesh.host_name);
	fputs(",\"address\":", f);
	json_esc_file(f, m->cfg.mesh.host_address);
	fprintf(f, ",\"published\":%zu,\"remote\":[", mreg_published(r));
	rem = mreg_remotes(r, &n);
	for (i = 0; i < n; i++) {
		const struct mreg_rec *x = &rem[i].rec;

		fputs(i ? ",{\"id\":" : "{\"id\":", f);
		json_esc_file(f, rem[i].id);
		fputs(",\"service\":", f);
		json_esc_file(f, x->service);
		fputs(",\"version\":", f);
		json_esc_file(f, x->version);
		fprintf(f, ",\"index\":%u,\"host\":", x->index);
		json_esc_file(f, x->host);
		fputs(",\"address\":", f);
		json_esc_file(f, x->address);
		fprintf(f, ",\"port\":%u,\"spiffe\":", (unsigned)x->port);
		json_esc_file(f, x->spiffe);
		if (x->weight >= 0)
			fprintf(f, ",\"weight\":%d", x->weight);
		fputc('}', f);
	}
	fputs("]}", f);
}

void
status_text_registry(FILE *f, const struct meshd *m)
{
	const struct mreg *r = mreg_get(m);
	const struct mreg_remote *rem;
	const char *why;
	size_t i, n;

	if (r == NULL)
		return;
	rem = mreg_remotes(r, &n);
	why = mreg_reason(r);
	fprintf(f, "registry etcd: %s%s%s, host %s at %s, %zu published, "
	    "%zu remote instance(s)\n", mreg_state(r), why[0] != '\0' ? ": " : "",
	    why, m->cfg.mesh.host_name,
	    m->cfg.mesh.host_address, mreg_published(r), n);
	for (i = 0; i < n; i++)
		fprintf(f, "  remote %s@%s.%u on %s at %s:%u\n", rem[i].rec.service,
		    rem[i].rec.version, rem[i].rec.index, rem[i].rec.host,
		    rem[i].rec.address, (unsigned)rem[i].rec.port);
}
