/* SPDX-License-Identifier: ISC */
/*
 * etcd_watch: the client's view of the prefix (etcd.h): the snapshot (one
 * range response, checked whole before its RESET is delivered) and the
 * watch stream from the revision after it.  Another store (a new
 * cluster_id), a store behind what we saw, or a compacted revision: a new
 * snapshot.  Any other failure of the stream is etcd_down() (etcd.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_int.h"

/*
 * The cluster_id of a response's header (hdr: "header" or
 * "result.header").  Another one than before is another store (etcd
 * restored from a backup gets a new one): the revisions we saw mean
 * nothing there, so a new snapshot.
 */
void
etcd_cluster(struct etcd *c, const struct json_doc *d, const char *hdr)
{
	char path[40], id[sizeof(c->cluster)];

	snprintf(path, sizeof(path), "%s.cluster_id", hdr);
	if (json_scan_str(d, json_scan_path(d, 0, path), id, sizeof(id)) <= 0)
		return;
	if (c->cluster[0] != '\0' && strcmp(c->cluster, id) != 0) {
		c->rev = 0;
		if (c->watching) {
			c->watching = 0;
			etcd_http_reset(&c->watch);
		}
	}
	memcpy(c->cluster, id, sizeof(id));
}

static int
etcd_snap_check(void *arg, const struct etcd_kv *kv)
{
	(void)arg;
	(void)kv;
	return 0;
}

static int
etcd_snap_kv(void *arg, const struct etcd_kv *kv)
{
	struct etcd *c = arg;

	if (kv->key_len < c->plen || memcmp(kv->key, c->prefix, c->plen) != 0)
		return 0;
	etcd_deliver(c, ETCD_EV_PUT, kv->key + c->plen, kv->key_len - c->plen,
	    kv->value, kv->value_len, kv->mod_rev);
	return 0;
}

void
etcd_snapshot(struct etcd *c, const struct json_doc *d)
{
	int64_t rev = etcd_json_i64(d, json_scan_path(d, 0, "header.revision"), 0);
	int kvs = json_scan_key(d, 0, "kvs");

	if (rev <= 0) {
		snprintf(c->op_err, sizeof(c->op_err), "no revision in the range response");
		return;
	}
	if (json_scan_type(d, kvs) == JSON_ARRAY && d->t[kvs].n > ETCD_WATCH_KEYS_MAX) {
		snprintf(c->op_err, sizeof(c->op_err), "more than %d keys under %.256s",
		    ETCD_WATCH_KEYS_MAX, c->prefix);
		return;
	}
	/* every kv decodes, or the caller sees nothing of this snapshot */
	if (etcd_json_kvs(d, kvs, 0, c->scratch, etcd_snap_check, c, c->op_err,
	    sizeof(c->op_err)) == -1)
		return;
	etcd_deliver(c, ETCD_EV_RESET, NULL, 0, NULL, 0, rev);
	if (etcd_json_kvs(d, kvs, 0, c->scratch, etcd_snap_kv, c, c->op_err,
	    sizeof(c->op_err)) == -1)
		return;
	etcd_deliver(c, ETCD_EV_SYNCED, NULL, 0, NULL, 0, rev);
	c->rev = rev;
	c->op_ok = 1;
}

static int
etcd_watch_kv(void *arg, const struct etcd_kv *kv)
{
	struct etcd *c = arg;

	if (kv->mod_rev > c->rev)
		c->rev = kv->mod_rev;
	if (kv->key_len < c->plen || memcmp(kv->key, c->prefix, c->plen) != 0)
		return 0;
	etcd_deliver(c, kv->del ? ETCD_EV_DELETE : ETCD_EV_PUT, kv->key + c->plen,
	    kv->key_len - c->plen, kv->value, kv->value_len, kv->mod_rev);
	return c->dead || c->closing || !c->watching;   /* the caller closed, or DOWN */
}

static void
etcd_watch_judge(struct etcd *c, const struct json_doc *d, int status, char *why,
    size_t wlen)
{
	char msg[256], err[256];
	int r = json_scan_key(d, 0, "result"), code;

	if ((code = etcd_json_error(d, msg, sizeof(msg))) != 0 || status != 200 || r == -1) {
		snprintf(why, wlen, "status %d: %s", status, code != 0 ? msg : "no result");
		return;
	}
	etcd_cluster(c, d, "result.header");
	if (!c->watching) {
		etcd_kick(c);    /* another store: a new snapshot */
		return;
	}
	if (json_scan_bool(d, json_scan_key(d, r, "created"), 0) &&
	    etcd_json_i64(d, json_scan_path(d, r, "header.revision"), c->rev) < c->rev) {
		/* etcd is behind what we saw (restored from a backup): a watch
		 * from our revision would wait in silence; a new snapshot */
		c->rev = 0;
		c->watching = 0;
		etcd_http_reset(&c->watch);
		etcd_kick(c);
		return;
	}
	if (json_scan_bool(d, json_scan_key(d, r, "canceled"), 0)) {
		if (etcd_json_i64(d, json_scan_key(d, r, "compact_revision"), 0) > 0) {
			/* what we missed is gone: a new snapshot, then watch again */
			c->rev = 0;
			c->watching = 0;
			etcd_http_reset(&c->watch);
			etcd_kick(c);
			return;
		}
		/* another reason (a revision etcd has not reached: restored from
		 * an older backup): after the backoff, a new snapshot */
		c->rev = 0;
		json_scan_str(d, json_scan_key(d, r, "cancel_reason"), msg, sizeof(msg));
		snprintf(why, wlen, "the watch was canceled: %s", msg[0] ? msg : "no reason");
		return;
	}
	if (etcd_json_kvs(d, json_scan_key(d, r, "events"), 1, c->scratch, etcd_watch_kv,
	    c, err, sizeof(err)) == -1 && !c->dead && !c->closing && c->watching)
		snprintf(why, wlen, "%s", err);
}

void
etcd_watch_msg(struct etcd_http *h, int status, const char *json, size_t len)
{
	struct etcd *c = h->arg;
	struct json_doc d;
	char err[128], why[384];

	if (c->dead || c->closing)
		return;
	why[0] = '\0';
	c->depth++;
	if (json_scan_parse(&d, json, len, ETCD_TOKENS_MAX, err, sizeof(err)) == -1) {
		snprintf(why, sizeof(why), "bad JSON: %s", err);
	} else {
		etcd_watch_judge(c, &d, status, why, sizeof(why));
		json_scan_free(&d);
	}
	if (why[0] != '\0' && !c->dead && !c->closing && c->watching) {
		char msg[sizeof(c->reason)];

		snprintf(msg, sizeof(msg), "%s: POST /v3/watch: %s", c->eps[c->cur].url, why);
		etcd_down(c, msg);
	}
	c->depth--;
}

void
etcd_watch_done(struct etcd_http *h, const char *err)
{
	struct etcd *c = h->arg;
	char msg[sizeof(c->reason)];

	if (c->dead || c->closing)
		return;
	snprintf(msg, sizeof(msg), "%s", err != NULL ? err : "");
	if (err == NULL)
		snprintf(msg, sizeof(msg), "%s: POST /v3/watch: the stream ended",
		    c->eps[c->cur].url);
	c->depth++;
	etcd_down(c, msg);
	c->depth--;
}

void
etcd_start_watch(struct etcd *c)
{
	int len = etcd_json_watch(c->body, ETCD_BODY_MAX, c->prefix, c->plen, c->rev + 1);

	if (len < 0 || etcd_http_post(&c->watch, &c->eps[c->cur], "/v3/watch", c->body,
	    (size_t)len, 1) == -1) {
		char why[sizeof(c->reason)];

		snprintf(why, sizeof(why), "%s: POST /v3/watch: cannot make the request",
		    c->eps[c->cur].url);
		etcd_down(c, why);
		return;
	}
	c->watching = 1;
}
