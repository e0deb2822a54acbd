/* SPDX-License-Identifier: ISC */
/*
 * ports: fixed ports of the config, and the sequential allocator for the
 * rest (see include/mesh/ports.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mesh/log.h"
#include "mesh/ports.h"

int
ports_is_free_at(uint16_t port, uint32_t addr)
{
	struct sockaddr_in sin;
	int fd, one = 1, ok;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(addr);
	ok = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

int
ports_is_free(uint16_t port, void *arg)
{
	(void)arg;
	return ports_is_free_at(port, INADDR_LOOPBACK);
}

static int
ports_push(struct ports_fixed **a, size_t *n, size_t *cap, const struct ports_fixed *f)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct ports_fixed *na = realloc(*a, nc * sizeof(*na));

		if (na == NULL)
			return -1;
		*a = na;
		*cap = nc;
	}
	(*a)[(*n)++] = *f;
	return 0;
}

int
ports_fixed_collect(const struct mesh_config *cfg, struct ports_fixed **out, size_t *n)
{
	size_t cap = 0, s, u;
	unsigned i;

	*out = NULL;
	*n = 0;
	for (s = 0; s < cfg->nservices; s++) {
		const struct conf_service *sv = &cfg->services[s];

		for (i = 0; i < sv->instances; i++) {
			struct ports_fixed f;

			memset(&f, 0, sizeof(f));
			f.svc = sv;
			f.index = i;
			if (sv->port != 0 && (unsigned)sv->port + i <= 65535) {
				f.port = (uint16_t)(sv->port + i);
				f.use = PORTS_APP;
				f.line = sv->port_line ? sv->port_line : sv->line;
				if (ports_push(out, n, &cap, &f) == -1)
					goto fail;
			}
			if (sv->outbound != 0 && (unsigned)sv->outbound + i <= 65535) {
				f.port = (uint16_t)(sv->outbound + i);
				f.use = PORTS_OUTBOUND;
				f.line = sv->outbound_line ? sv->outbound_line : sv->line;
				if (ports_push(out, n, &cap, &f) == -1)
					goto fail;
			}
			for (u = 0; u < sv->nupstreams; u++) {
				const struct conf_upstream *up = &sv->upstreams[u];

				if (up->port == 0 || (unsigned)up->port + i > 65535)
					continue;
				f.port = (uint16_t)(up->port + i);
				f.use = PORTS_LISTEN;
				f.upstream = up->name;
				f.line = up->line ? up->line : sv->line;
				if (ports_push(out, n, &cap, &f) == -1)
					goto fail;
			}
		}
	}
	return 0;
fail:
	free(*out);
	*out = NULL;
	*n = 0;
	return -1;
}

int
ports_check_fixed(const struct mesh_config *cfg, FILE *errs,
    int (*is_free)(uint16_t, void *), void *arg)
{
	struct ports_fixed *f;
	size_t n, i;
	int taken = 0;

	if (is_free == NULL)
		is_free = ports_is_free;
	if (ports_fixed_collect(cfg, &f, &n) == -1) {
		fprintf(errs, "%s: out of memory\n", cfg->path);
		return 1;
	}
	for (i = 0; i < n; i++) {
		char what[CONF_NAME_MAX + 32];

		if (f[i].use == PORTS_APP && f[i].svc->command == NULL)
			continue;
		if (is_free(f[i].port, arg))
			continue;
		switch (f[i].use) {
		case PORTS_APP:
			snprintf(what, sizeof(what), "app port");
			break;
		case PORTS_OUTBOUND:
			snprintf(what, sizeof(what), "outbound");
			break;
		case PORTS_LISTEN:
			snprintf(what, sizeof(what), "upstream %s", f[i].upstream);
			break;
		}
		fprintf(errs, "%s:%d: service %s: port %u (%s) is already in use\n",
		    cfg->path, f[i].line, f[i].svc->name, f[i].port, what);
		taken++;
	}
	free(f);
	return taken;
}

void
ports_alloc_init(struct ports_alloc *a, uint16_t base,
    const struct ports_fixed *fixed, size_t nfixed,
    int (*is_free)(uint16_t, void *), void *arg)
{
	a->next = base;
	a->fixed = fixed;
	a->nfixed = nfixed;
	a->is_free = is_free != NULL ? is_free : ports_is_free;
	a->arg = arg;
}

int
ports_alloc_next(struct ports_alloc *a, uint16_t *out)
{
	for (; a->next <= 65535; a->next++) {
		uint16_t p = (uint16_t)a->next;
		size_t i;

		if (p == 0)
			continue;
		for (i = 0; i < a->nfixed; i++)
			if (a->fixed[i].port == p)
				break;
		if (i < a->nfixed)
			continue;
		if (!a->is_free(p, a->arg)) {
			log_info("port %u is taken on 127.0.0.1: skipped", p);
			continue;
		}
		*out = p;
		a->next++;
		return 0;
	}
	return -1;
}
