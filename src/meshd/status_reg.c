/* SPDX-License-Identifier: ISC */
/*
 * status_reg: the registry's part of `meshctl status` (status.h), with
 * `registry = etcd` only; a single host's output is unchanged.
 *
 * A remote instance's breaker is what this host's sidecars hold on it:
 * the endpoint row of each local instance's stats file that names the
 * remote's service, version, index, host, address and port (stats.h v4
 * rows; status_ep_find_at()).  The worst wins, as for a local instance.
 */
#include <arpa/inet.h>
#include <stdio.h>

#include "mesh/json_esc.h"
#include "mesh/mreg.h"
#include "status_int.h"

/* The remote instance's address, host order (0 when unreadable). */
static uint32_t
status_reg_addr(const struct mreg_rec *x)
{
	struct in_addr a;

	return inet_pton(AF_INET, x->address, &a) == 1 ? ntohl(a.s_addr) : 0;
}

/* The row caller c holds on remote instance x, or NULL. */
static const struct stats_ep_rec *
status_reg_row(const struct status_views *vs, size_t c, const struct mreg_rec *x)
{
	if (c >= vs->n || !vs->ok[c])
		return NULL;
	return status_ep_find_at(&vs->v[c], x->service, x->version, x->index, x->host,
	    status_reg_addr(x), x->port);
}

/* Worst state and how many callers eject remote instance x. */
static void
status_reg_breaker(const struct meshd *m, const struct status_views *vs,
    const struct mreg_rec *x, uint32_t *worst, unsigned *ejected)
{
	const struct stats_ep_rec *e;
	size_t c;

	*worst = STATS_EP_FREE;
	*ejected = 0;
	for (c = 0; c < m->ninst; c++) {
		if ((e = status_reg_row(vs, c, x)) == NULL)
			continue;
		*worst = status_ep_worse(*worst, e->state);
		*ejected += e->ejected != 0;
	}
}

static const struct stats_ep_rec *
status_reg_row_cb(const struct status_views *vs, size_t c, const void *arg)
{
	return status_reg_row(vs, c, arg);
}

/* ,"breaker":{"state","callers":[...]},"ejected" as for a local instance */
static void
status_reg_json_breaker(FILE *f, const struct meshd *m, const struct status_views *vs,
    const struct mreg_rec *x)
{
	uint32_t worst;
	unsigned ejected;

	status_reg_breaker(m, vs, x, &worst, &ejected);
	status_json_breaker_of(f, m, vs, worst, ejected, status_reg_row_cb, x);
}

void
status_json_registry(FILE *f, const struct meshd *m, const struct status_views *vs)
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
		status_reg_json_breaker(f, m, vs, x);
		fputc('}', f);
	}
	fputs("]}", f);
}

void
status_text_registry(FILE *f, const struct meshd *m, const struct status_views *vs)
{
	const struct mreg *r = mreg_get(m);
	const struct mreg_remote *rem;
	const char *why;
	uint32_t worst;
	unsigned ejected;
	size_t i, n;

	if (r == NULL)
		return;
	rem = mreg_remotes(r, &n);
	why = mreg_reason(r);
	fprintf(f, "registry etcd: %s%s%s, host %s at %s, %zu published, "
	    "%zu remote instance(s)\n", mreg_state(r), why[0] != '\0' ? ": " : "",
	    why, m->cfg.mesh.host_name,
	    m->cfg.mesh.host_address, mreg_published(r), n);
	for (i = 0; i < n; i++) {
		fprintf(f, "  remote %s@%s.%u on %s at %s:%u", rem[i].rec.service,
		    rem[i].rec.version, rem[i].rec.index, rem[i].rec.host,
		    rem[i].rec.address, (unsigned)rem[i].rec.port);
		/* as this host's callers see it, when one balances over it */
		status_reg_breaker(m, vs, &rem[i].rec, &worst, &ejected);
		if (worst != STATS_EP_FREE)
			fprintf(f, ", breaker %s%s", status_ep_state(worst),
			    ejected > 0 ? ", ejected" : "");
		fputc('\n', f);
	}
}
