/* SPDX-License-Identifier: ISC */
/*
 * etcd_keys: the client's own keys (etcd.h): etcd_put() and etcd_del()
 * only record what is wanted, relative to the prefix; etcd_kick() (etcd.c)
 * sends it, a put under the lease, and puts every key again after a new
 * lease.  A kept key (etcd_put_kept()) goes without the lease and is
 * forgotten once etcd has it.  A put waiting for its answer stays dirty until the answer for
 * its own `seq` comes.
 */
#include <stdlib.h>
#include <string.h>

#include "etcd_int.h"

struct etcd_key *
etcd_find(struct etcd_key *set, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(set[i].key, key) == 0)
			return &set[i];
	return NULL;
}

void
etcd_drop(struct etcd_key *set, size_t *n, struct etcd_key *k)
{
	free(k->key);
	free(k->val);
	*k = set[--*n];
	memset(&set[*n], 0, sizeof(set[*n]));
}

size_t
etcd_full(const struct etcd *c, const char *key, char *out)
{
	size_t kl = strlen(key);

	if (c->plen + kl >= ETCD_KEY_MAX)
		return 0;
	memcpy(out, c->prefix, c->plen);
	memcpy(out + c->plen, key, kl + 1);
	return c->plen + kl;
}

static int
etcd_put_any(struct etcd *c, const char *key, const char *value, size_t vlen, int kept)
{
	struct etcd_key *k;
	char full[ETCD_KEY_MAX], *v;

	if (c->dead || c->closing || *key == '\0' || etcd_full(c, key, full) == 0 ||
	    vlen > ETCD_VALUE_MAX)
		return -1;
	if ((k = etcd_find(c->own, c->nown, key)) == NULL) {
		if (c->nown == ETCD_OWN_MAX)
			return -1;
		k = &c->own[c->nown];
		if ((k->key = strdup(key)) == NULL)
			return -1;
		c->nown++;
	}
	if ((v = malloc(vlen + 1)) == NULL)
		return -1;
	memcpy(v, value, vlen);
	v[vlen] = '\0';
	free(k->val);
	k->val = v;
	k->vlen = vlen;
	k->dirty = 1;
	k->kept = kept;
	k->seq++;
	if ((k = etcd_find(c->dels, c->ndel, key)) != NULL)
		etcd_drop(c->dels, &c->ndel, k);
	c->depth++;
	etcd_kick(c);
	c->depth--;
	return 0;
}

int
etcd_put(struct etcd *c, const char *key, const char *value, size_t vlen)
{
	return etcd_put_any(c, key, value, vlen, 0);
}

int
etcd_put_kept(struct etcd *c, const char *key, const char *value, size_t vlen)
{
	return etcd_put_any(c, key, value, vlen, 1);
}

int
etcd_del(struct etcd *c, const char *key)
{
	struct etcd_key *k;
	char full[ETCD_KEY_MAX];

	if (c->dead || c->closing || *key == '\0' || etcd_full(c, key, full) == 0)
		return -1;
	if (etcd_find(c->dels, c->ndel, key) == NULL) {
		if (c->ndel == ETCD_OWN_MAX)
			return -1;
		if ((c->dels[c->ndel].key = strdup(key)) == NULL)
			return -1;
		c->ndel++;
	}
	if ((k = etcd_find(c->own, c->nown, key)) != NULL)
		etcd_drop(c->own, &c->nown, k);
	c->depth++;
	etcd_kick(c);
	c->depth--;
	return 0;
}
