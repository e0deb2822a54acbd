/* SPDX-License-Identifier: ISC */
/*
 * test_top: the dashboard's model and keys without a terminal —
 * a `status --json` document into services, versions, instances and
 * weights; the canary arithmetic of + and -; the live numbers from real
 * stats files (rate, quantiles, breaker state seen by a caller, the
 * sparkline, gRPC calls and the detail's GRPC line); which columns fit 80 and 120 columns; rows, expansion,
 * search, sort and the confirm prompt.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mesh/stats.h"
#include "mesh/top.h"

static char dir[] = "/tmp/test_top.XXXXXX";

static const char *
status_doc(void)
{
	static char doc[4096];

	snprintf(doc, sizeof(doc),
	    "{\"mesh\":{\"name\":\"shop\",\"config\":\"/x/mesh.ini\",\"state_dir\":\"%s\","
	    "\"meshd_pid\":10,\"uptime_s\":75,\"state\":\"running\",\"running\":true},"
	    "\"services\":["
	    "{\"name\":\"web\",\"version\":\"v1\",\"protocol\":\"http\",\"instances\":["
	    "{\"index\":0,\"name\":\"web.0\",\"id\":\"web@v1.0\",\"state\":\"running\",\"app_pid\":21,"
	    "\"proxy_pid\":20,\"app_port\":9000,\"inbound_port\":15001,\"outbound_port\":15002,"
	    "\"listeners\":[],\"restarts\":1,\"uptime_s\":70,\"last_exit\":null,\"endpoint\":\"up\","
	    "\"cert\":{\"spiffe_id\":\"spiffe://mesh.local/svc/web\",\"serial\":\"ab\","
	    "\"not_before\":\"2030-01-01T00:00:00Z\",\"not_after\":\"2030-01-02T00:00:00Z\"},"
	    "\"stats\":null}]},"
	    "{\"name\":\"api\",\"version\":\"v1\",\"protocol\":\"http\",\"instances\":["
	    "{\"index\":0,\"name\":\"api.0\",\"id\":\"api@v1.0\",\"state\":\"running\",\"app_pid\":31,"
	    "\"proxy_pid\":30,\"app_port\":9100,\"inbound_port\":15003,\"outbound_port\":15004,"
	    "\"restarts\":0,\"endpoint\":\"up\",\"cert\":{\"not_after\":\"2030-01-01T12:00:00Z\"}},"
	    "{\"index\":1,\"name\":\"api.1\",\"id\":\"api@v1.1\",\"state\":\"backoff\",\"app_pid\":null,"
	    "\"proxy_pid\":32,\"app_port\":9101,\"inbound_port\":15005,\"outbound_port\":15006,"
	    "\"restarts\":4,\"endpoint\":\"down\",\"cert\":null}]},"
	    "{\"name\":\"api\",\"version\":\"v2\",\"protocol\":\"http\",\"instances\":["
	    "{\"index\":0,\"name\":\"api@v2.0\",\"id\":\"api@v2.0\",\"state\":\"running\",\"app_pid\":41,"
	    "\"proxy_pid\":40,\"app_port\":9200,\"inbound_port\":15007,\"outbound_port\":15008,"
	    "\"restarts\":0,\"endpoint\":\"up\",\"cert\":null}]},"
	    "{\"name\":\"gw\",\"version\":\"v1\",\"protocol\":\"http\",\"instances\":["
	    "{\"index\":0,\"name\":\"gw.0\",\"id\":\"gw@v1.0\",\"state\":\"ready\",\"app_pid\":null,"
	    "\"proxy_pid\":50,\"app_port\":null,\"inbound_port\":null,\"outbound_port\":15009,"
	    "\"restarts\":0,\"endpoint\":\"none\",\"cert\":null}]}],"
	    "\"routes\":[{\"name\":\"api\",\"split\":[{\"version\":\"v1\",\"weight\":90},"
	    "{\"version\":\"v2\",\"weight\":10}]}]}", dir);
	return doc;
}

static void
test_status(void **state)
{
	struct top_model m;
	const struct top_svc *api, *web;
	char w[64];

	(void)state;
	top_model_init(&m);
	assert_int_equal(top_model_status(&m, status_doc(), strlen(status_doc())), 0);
	assert_string_equal(m.mesh, "shop");
	assert_string_equal(m.state_dir, dir);
	assert_int_equal(m.running, 1);
	assert_int_equal(m.uptime_s, 75);
	assert_int_equal(m.nsvc, 3);          /* api's two versions are one service */
	assert_int_equal(m.ninst, 5);
	assert_int_equal(m.cert_min, 1893499200);   /* 2030-01-01T12:00:00Z, the soonest */
	web = top_model_find(&m, "web");
	api = top_model_find(&m, "api");
	assert_non_null(web);
	assert_non_null(api);
	assert_int_equal(api->nver, 2);
	assert_string_equal(api->ver[1].name, "v2");
	assert_int_equal(api->ver[0].weight, 90);
	assert_int_equal(api->ver[1].weight, 10);
	assert_int_equal(api->ninst, 3);
	assert_int_equal(api->nup, 2);
	assert_int_equal(api->ver[0].nup, 1);
	assert_int_equal(api->ver[0].ninst, 2);
	assert_int_equal(top_model_find(&m, "gw")->nup, 1);   /* a ready pure client is up */
	assert_int_equal(m.inst[web->inst[0]].app_pid, 21);
	assert_int_equal(m.inst[web->inst[0]].restarts, 1);
	assert_int_equal(m.inst[api->inst[1]].app_pid, 0);    /* null */
	assert_string_equal(m.inst[api->inst[2]].id, "api@v2.0");
	top_model_weights(api, w, sizeof(w));
	assert_string_equal(w, "90/10");
	top_model_weights(web, w, sizeof(w));
	assert_string_equal(w, "-");
	/* a broken document keeps the previous picture and says why */
	assert_int_equal(top_model_status(&m, "{\"mesh\":", 8), -1);
	assert_non_null(strstr(m.err, "status --json"));
	assert_int_equal(m.nsvc, 3);
	assert_int_equal(top_model_status(&m, "{\"x\":1}", 7), -1);
	assert_int_equal(m.nsvc, 3);
	top_model_free(&m);
}

static void
test_canary(void **state)
{
	struct top_svc s;
	char cmd[256], say[256];

	(void)state;
	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "api");
	s.nver = 1;
	snprintf(s.ver[0].name, sizeof(s.ver[0].name), "v1");
	s.ver[0].weight = 100;
	assert_int_equal(top_model_canary(&s, TOP_STEP, cmd, sizeof(cmd), say, sizeof(say)), -1);
	assert_non_null(strstr(say, "one version"));
	s.nver = 2;
	snprintf(s.ver[1].name, sizeof(s.ver[1].name), "v2");
	s.ver[0].weight = 90;
	s.ver[1].weight = 10;
	assert_int_equal(top_model_canary(&s, TOP_STEP, cmd, sizeof(cmd), say, sizeof(say)), 0);
	assert_string_equal(cmd, "weight api v1=85 v2=15");
	assert_non_null(strstr(say, "v2 10% -> 15%"));
	assert_int_equal(top_model_canary(&s, -TOP_STEP, cmd, sizeof(cmd), say, sizeof(say)), 0);
	assert_string_equal(cmd, "weight api v1=95 v2=5");
	s.ver[0].weight = 2;
	s.ver[1].weight = 98;
	assert_int_equal(top_model_canary(&s, TOP_STEP, cmd, sizeof(cmd), say, sizeof(say)), 0);
	assert_string_equal(cmd, "weight api v1=0 v2=100");
	s.ver[0].weight = 0;
	s.ver[1].weight = 100;
	assert_int_equal(top_model_canary(&s, TOP_STEP, cmd, sizeof(cmd), say, sizeof(say)), -1);
	s.ver[0].weight = 97;
	s.ver[1].weight = 3;
	assert_int_equal(top_model_canary(&s, -TOP_STEP, cmd, sizeof(cmd), say, sizeof(say)), 0);
	assert_string_equal(cmd, "weight api v1=100 v2=0");
	/* three versions: + takes from the heaviest other, - gives to the first */
	s.nver = 3;
	snprintf(s.ver[2].name, sizeof(s.ver[2].name), "v3");
	s.ver[0].weight = 50;
	s.ver[1].weight = 48;
	s.ver[2].weight = 2;
	assert_int_equal(top_model_canary(&s, TOP_STEP, cmd, sizeof(cmd), say, sizeof(say)), 0);
	assert_string_equal(cmd, "weight api v1=46 v2=47 v3=7");
	assert_int_equal(top_model_canary(&s, -TOP_STEP, cmd, sizeof(cmd), say, sizeof(say)), 0);
	assert_string_equal(cmd, "weight api v1=52 v2=48 v3=0");
}

/* Write a stats file for instance id with n requests of dur_us each. */
static void
write_stats(const char *id, const char *svc, unsigned n, uint64_t dur_us, int caller_of_api)
{
	char path[512];
	struct stats_peer_rec *p;
	unsigned i;

	assert_int_equal(stats_path(path, sizeof(path), dir, id), 0);
	assert_int_equal(stats_open(path), 0);
	stats_identity(svc, "v1", id);
	p = stats_peer(STATS_IN, "web", "");
	for (i = 0; i < n; i++)
		stats_peer_done(p, i % 10 == 0 ? 503 : 200, dur_us, 0, 0);
	if (caller_of_api) {
		struct stats_ep_rec *e = stats_ep("api", "v1", 1, 0, 15005, NULL);

		assert_non_null(e);
		stats_ep_put32(e, &e->state, STATS_EP_OPEN);
		stats_ep_put32(e, &e->ejected, 1);
		stats_ep_put(e, &e->ewma_us, 1234);
	}
	stats_close();
}

static void
test_stats(void **state)
{
	struct top_model m;
	struct timespec ts;
	char sd[512];
	const struct top_svc *api;
	uint64_t now;

	(void)state;
	snprintf(sd, sizeof(sd), "%s/run", dir);
	mkdir(sd, 0700);
	snprintf(sd, sizeof(sd), "%s/run/stats", dir);
	mkdir(sd, 0700);
	write_stats("api@v1.0", "api", 100, 2000, 0);
	write_stats("web@v1.0", "web", 0, 0, 1);
	top_model_init(&m);
	assert_int_equal(top_model_status(&m, status_doc(), strlen(status_doc())), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u;
	/* the rate ring counts whole seconds before now: look from 1 s later */
	top_stats_update(&m, now + 1000000000u);
	api = top_model_find(&m, "api");
	assert_true(m.inst[api->inst[0]].have_stats);
	assert_false(m.inst[api->inst[1]].have_stats);      /* no file */
	assert_true(api->rps > 0);
	assert_true(api->eps > 0 && api->eps < api->rps);
	assert_true(api->have_lat);
	assert_in_range(api->p50, 1900, 2100);
	assert_in_range(api->p99, 1900, 2100);
	/* web's sidecar holds api.1's breaker open and ejects it */
	assert_int_equal(m.inst[api->inst[1]].brk, TOP_BRK_OPEN);
	assert_int_equal(m.inst[api->inst[1]].ejected, 1);
	assert_int_equal(m.inst[api->inst[1]].ewma_us, 1234);
	assert_int_equal(m.inst[api->inst[0]].brk, TOP_BRK_NONE);
	assert_int_equal(api->brk, TOP_BRK_OPEN);
	assert_true(m.rps >= api->rps);
	/* a second later: 100 more at 8 ms; the window sees both, the
	 * sparkline's newest second only the new ones */
	write_stats("api@v1.0", "api", 100, 8000, 0);
	top_stats_update(&m, now + 2000000000u);
	api = top_model_find(&m, "api");
	assert_in_range(api->spark[TOP_SPARK - 1], 7800, 8200);
	assert_int_equal(api->spark[0], 0);
	/* the history survives a new status document */
	assert_int_equal(top_model_status(&m, status_doc(), strlen(status_doc())), 0);
	api = top_model_find(&m, "api");
	assert_in_range(api->spark[TOP_SPARK - 1], 7800, 8200);
	top_model_free(&m);
}

/* Write api@v1.0's stats file: n inbound gRPC calls, the first ok of
 * them with status 0, the others 14 UNAVAILABLE (a new file each time:
 * the totals are the file's, as after a restart of the sidecar). */
static void
write_grpc(unsigned n, unsigned ok)
{
	char path[512];
	struct stats_peer_rec *p;
	unsigned i;

	assert_int_equal(stats_path(path, sizeof(path), dir, "api@v1.0"), 0);
	assert_int_equal(stats_open(path), 0);
	stats_identity("api", "v1", "api@v1.0");
	p = stats_peer(STATS_IN, "web", "");
	for (i = 0; i < n; i++) {
		stats_peer_done(p, 200, 1000, 0, 0);
		stats_peer_grpc(p, i < ok ? 0 : 14);
	}
	stats_peer_done(p, 200, 1000, 0, 0);     /* an HTTP/1.1 request */
	stats_close();
}

/* Row y of the screen as text. */
static const char *
screen_row(int y)
{
	static char buf[512];
	int n = COLS < (int)sizeof(buf) - 1 ? COLS : (int)sizeof(buf) - 1;

	buf[0] = '\0';
	mvinnstr(y, 0, buf, n);
	return buf;
}

/* The first screen row that has s, or NULL. */
static const char *
screen_find(const char *s)
{
	int y;

	for (y = 0; y < LINES; y++)
		if (strstr(screen_row(y), s) != NULL)
			return screen_row(y);
	return NULL;
}

/*
 * gRPC calls of a service: totals, and over the window the quantiles
 * use; the detail view's GRPC line (the window's, else the totals), at
 * 80 columns; none for a service without gRPC calls.
 */
static void
test_grpc(void **state)
{
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	struct top_model m;
	struct top_ui ui;
	struct timespec ts;
	const struct top_svc *api, *web;
	const char *line;
	char sd[512];
	SCREEN *scr;
	uint64_t now;
	int i;

	(void)state;
	snprintf(sd, sizeof(sd), "%s/run", dir);
	mkdir(sd, 0700);
	snprintf(sd, sizeof(sd), "%s/run/stats", dir);
	mkdir(sd, 0700);
	write_stats("web@v1.0", "web", 0, 0, 0);
	write_grpc(100, 97);
	top_model_init(&m);
	assert_int_equal(top_model_status(&m, status_doc(), strlen(status_doc())), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u;
	top_stats_update(&m, now + 1000000000u);
	api = top_model_find(&m, "api");
	web = top_model_find(&m, "web");
	assert_int_equal(api->grpc_total, 100);
	assert_int_equal(api->grpc_total_ok, 97);
	assert_int_equal(api->grpc_calls, 100);     /* the first window: since the start */
	assert_int_equal(api->grpc_ok, 97);
	assert_int_equal(web->grpc_total, 0);
	/* a second later 200 more, 150 of them OK: the window starts at the
	 * first sum kept (second 1), as the quantiles' does */
	write_grpc(300, 247);
	top_stats_update(&m, now + 2000000000u);
	api = top_model_find(&m, "api");
	assert_int_equal(api->grpc_total, 300);
	assert_int_equal(api->grpc_total_ok, 247);
	assert_int_equal(api->grpc_calls, 200);
	assert_int_equal(api->grpc_ok, 150);
	/* a new status document keeps the window */
	assert_int_equal(top_model_status(&m, status_doc(), strlen(status_doc())), 0);
	top_stats_update(&m, now + 3000000000u);
	api = top_model_find(&m, "api");
	assert_int_equal(api->grpc_calls, 200);     /* since the sum of second 1 */
	assert_int_equal(api->grpc_ok, 150);

	assert_non_null(out);
	assert_non_null(in);
	scr = newterm("vt100", out, in);
	assert_non_null(scr);
	set_term(scr);
	resizeterm(24, 80);
	memset(&ui, 0, sizeof(ui));
	top_ui_rows(&ui, &m);
	ui.view = TOP_VIEW_DETAIL;
	snprintf(ui.sel_name, sizeof(ui.sel_name), "api");
	top_render(&ui, &m);
	line = screen_find("GRPC");
	assert_non_null(line);
	assert_non_null(strstr(line, "GRPC   75.0% OK of 200 calls in the last 10 s"));
	/* quiet for a whole window: the totals since the start */
	for (i = 4; i < 4 + TOP_WIN_S + 1; i++)
		top_stats_update(&m, now + (uint64_t)i * 1000000000u);
	api = top_model_find(&m, "api");
	assert_int_equal(api->grpc_calls, 0);
	top_render(&ui, &m);
	assert_non_null(line = screen_find("GRPC"));
	assert_non_null(strstr(line, "GRPC   no call in the last 10 s; 82.3% OK of 300 since start"));
	/* a service without gRPC calls: no line */
	snprintf(ui.sel_name, sizeof(ui.sel_name), "web");
	top_render(&ui, &m);
	assert_null(screen_find("GRPC"));
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
	free(ui.rows);
	top_model_free(&m);
}

/*
 * Several hosts (registry = etcd): host a runs web.0 and api.0; host b
 * runs its own api@v1.0 on the same port (another address) and cart,
 * which host a does not declare.  web's sidecar holds b's api open and
 * ejected, a's closed: each instance shows its own.
 */
static void
test_hosts(void **state)
{
	static char doc[2048];
	struct top_model m;
	struct timespec ts;
	struct stats_ep_rec *e;
	const struct top_svc *api, *cart;
	const struct top_inst *here, *there;
	char path[512], sd[512];
	unsigned c0, c1;
	int spark;

	(void)state;
	snprintf(sd, sizeof(sd), "%s/run", dir);
	mkdir(sd, 0700);
	snprintf(sd, sizeof(sd), "%s/run/stats", dir);
	mkdir(sd, 0700);
	assert_int_equal(stats_path(path, sizeof(path), dir, "web@v1.0"), 0);
	assert_int_equal(stats_open(path), 0);
	e = stats_ep("api", "v1", 0, 0x0a000002u, 15003, "b");
	stats_ep_put32(e, &e->state, STATS_EP_OPEN);
	stats_ep_put32(e, &e->ejected, 1);
	e = stats_ep("api", "v1", 0, 0x0a000001u, 15003, "a");
	stats_ep_put(e, &e->ewma_us, 900);
	stats_close();
	snprintf(doc, sizeof(doc),
	    "{\"mesh\":{\"name\":\"shop\",\"state_dir\":\"%s\",\"running\":true},"
	    "\"services\":["
	    "{\"name\":\"web\",\"version\":\"v1\",\"instances\":[{\"index\":0,\"name\":\"web.0\","
	    "\"id\":\"web@v1.0\",\"state\":\"running\",\"endpoint\":\"up\",\"host\":\"a\"}]},"
	    "{\"name\":\"api\",\"version\":\"v1\",\"instances\":[{\"index\":0,\"name\":\"api.0\","
	    "\"id\":\"api@v1.0\",\"state\":\"running\",\"inbound_port\":15003,"
	    "\"endpoint\":\"up\",\"host\":\"a\"}]}],"
	    "\"registry\":{\"backend\":\"etcd\",\"state\":\"up\",\"host\":\"a\","
	    "\"address\":\"10.0.0.1\",\"remote\":["
	    "{\"id\":\"api@v1.0\",\"service\":\"api\",\"version\":\"v1\",\"index\":0,"
	    "\"host\":\"b\",\"address\":\"10.0.0.2\",\"port\":15003},"
	    "{\"id\":\"cart@v3.0\",\"service\":\"cart\",\"version\":\"v3\",\"index\":0,"
	    "\"host\":\"b\",\"address\":\"10.0.0.2\",\"port\":15009}]}}", dir);
	top_model_init(&m);
	assert_int_equal(top_model_status(&m, doc, strlen(doc)), 0);
	assert_string_equal(m.host, "a");
	assert_int_equal(m.host_addr, 0x0a000001u);
	assert_string_equal(m.reg_state, "up");
	{
		struct top_ui ui;
		struct top_model m2;
		char line[512], d2[512];

		memset(&ui, 0, sizeof(ui));
		top_render_header(&ui, &m, line, sizeof(line));
		assert_non_null(strstr(line, "  host a  etcd up"));
		/* etcd away: the header says so, with why */
		snprintf(d2, sizeof(d2), "{\"mesh\":{\"name\":\"shop\",\"state_dir\":\"%s\","
		    "\"running\":true},\"services\":[],\"registry\":{\"backend\":\"etcd\","
		    "\"state\":\"down\",\"reason\":\"http://10.0.0.5:2379: refused\","
		    "\"host\":\"a\",\"address\":\"10.0.0.1\",\"remote\":[]}}", dir);
		top_model_init(&m2);
		assert_int_equal(top_model_status(&m2, d2, strlen(d2)), 0);
		top_render_header(&ui, &m2, line, sizeof(line));
		assert_non_null(strstr(line, "  host a  etcd down: http://10.0.0.5:2379: refused"));
		top_model_free(&m2);
	}
	api = top_model_find(&m, "api");
	assert_non_null(api);
	assert_int_equal(api->ninst, 2);
	assert_int_equal(api->nup, 2);
	assert_int_equal(api->nver, 1);
	here = &m.inst[api->inst[0]];
	there = &m.inst[api->inst[1]];
	assert_string_equal(here->host, "a");
	assert_false(here->remote);
	assert_true(there->remote);
	assert_string_equal(there->host, "b");
	assert_string_equal(there->id, "api@v1.0/b");
	assert_string_equal(there->state, "remote");
	assert_int_equal(there->inbound_port, 15003);
	assert_non_null(cart = top_model_find(&m, "cart"));
	assert_int_equal(cart->ninst, 1);
	assert_string_equal(cart->ver[0].name, "v3");

	clock_gettime(CLOCK_REALTIME, &ts);
	top_stats_update(&m, (uint64_t)ts.tv_sec * 1000000000u);
	api = top_model_find(&m, "api");
	here = &m.inst[api->inst[0]];
	there = &m.inst[api->inst[1]];
	assert_int_equal(here->brk, TOP_BRK_CLOSED);
	assert_int_equal(here->ejected, 0);
	assert_int_equal(here->ewma_us, 900);
	assert_int_equal(there->brk, TOP_BRK_OPEN);
	assert_int_equal(there->ejected, 1);
	assert_false(there->have_stats);
	assert_int_equal(api->brk, TOP_BRK_OPEN);
	top_model_free(&m);

	/* without a registry no host: what top showed before */
	top_model_init(&m);
	assert_int_equal(top_model_status(&m, status_doc(), strlen(status_doc())), 0);
	assert_string_equal(m.host, "");
	{
		struct top_ui ui;
		char line[512];

		memset(&ui, 0, sizeof(ui));
		top_render_header(&ui, &m, line, sizeof(line));
		assert_null(strstr(line, "etcd"));
	}
	top_model_free(&m);
	/* a HOST column only with hosts */
	c0 = top_render_columns_hosts(160, 0, &spark);
	assert_int_equal(c0, top_render_columns(160, &spark));
	c1 = top_render_columns_hosts(160, 1, &spark);
	assert_int_equal(__builtin_popcount(c1), __builtin_popcount(c0) + 1);
	assert_int_equal(c0 & ~c1, 0);
}

static void
test_columns(void **state)
{
	int spark;
	unsigned c80, c120;

	(void)state;
	c80 = top_render_columns(80, &spark);
	assert_true(spark >= 8);
	assert_true((c80 & 1u) != 0);                 /* the name, always */
	c120 = top_render_columns(120, &spark);
	assert_true(spark > 20);
	assert_true(__builtin_popcount(c120) > __builtin_popcount(c80));
	assert_int_equal(c80 & ~c120, 0);             /* wider never drops one */
	top_render_columns(30, &spark);
	assert_int_equal(spark, 0);
}

static void
test_keys(void **state)
{
	struct top_model m;
	struct top_ui ui;
	const char *cmd;
	size_t i;

	(void)state;
	top_model_init(&m);
	memset(&ui, 0, sizeof(ui));
	assert_int_equal(top_model_status(&m, status_doc(), strlen(status_doc())), 0);
	top_ui_rows(&ui, &m);
	assert_int_equal(ui.nrows, 3);
	assert_string_equal(m.svc[ui.rows[0].svc].name, "api");      /* sorted by name */
	assert_string_equal(ui.sel_name, "api");
	/* Space expands api: versions, then their instances */
	assert_null(top_input_key(&ui, &m, ' '));
	assert_int_equal(ui.nrows, 3 + 2 + 3);
	assert_int_equal(ui.rows[1].kind, 1);
	assert_int_equal(ui.rows[2].kind, 2);
	/* / we Enter selects web (the first row whose name has "we") */
	top_input_key(&ui, &m, '/');
	top_input_key(&ui, &m, 'w');
	top_input_key(&ui, &m, 'e');
	top_input_key(&ui, &m, '\n');
	assert_string_equal(ui.sel_name, "web");
	top_input_key(&ui, &m, '/');
	top_input_key(&ui, &m, 'z');
	top_input_key(&ui, &m, '\n');
	assert_string_equal(ui.sel_name, "web");
	assert_non_null(strstr(ui.msg, "no service matches"));
	/* + on a service of one version says so, asks nothing */
	assert_null(top_input_key(&ui, &m, '+'));
	assert_int_equal(ui.prompt, TOP_PROMPT_NONE);
	/* back to api: + asks, n cancels, + y gives the command */
	top_input_key(&ui, &m, 'g');
	assert_string_equal(ui.sel_name, "api");
	top_input_key(&ui, &m, '+');
	assert_int_equal(ui.prompt, TOP_PROMPT_CONFIRM);
	assert_null(top_input_key(&ui, &m, 'x'));
	assert_null(top_input_key(&ui, &m, 'n'));
	assert_int_equal(ui.prompt, TOP_PROMPT_NONE);
	top_input_key(&ui, &m, '+');
	cmd = top_input_key(&ui, &m, 'y');
	assert_non_null(cmd);
	assert_string_equal(cmd, "weight api v1=85 v2=15");
	/* r on a service of several instances wants an instance */
	assert_null(top_input_key(&ui, &m, 'r'));
	assert_int_equal(ui.prompt, TOP_PROMPT_NONE);
	/* j j: api.0's row (after the @v1 row); r and b name it */
	top_input_key(&ui, &m, 'j');
	top_input_key(&ui, &m, 'j');
	assert_string_equal(ui.sel_inst, "api@v1.0");
	top_input_key(&ui, &m, 'r');
	assert_string_equal(top_input_key(&ui, &m, 'y'), "restart api@v1.0");
	top_input_key(&ui, &m, 'b');
	assert_string_equal(top_input_key(&ui, &m, 'y'), "breaker-reset api v1.0");
	/* the selection stays on api.0 when the rows are rebuilt */
	top_ui_rows(&ui, &m);
	assert_string_equal(ui.sel_inst, "api@v1.0");
	assert_int_equal(ui.rows[ui.sel].kind, 2);
	/* s cycles the sort; Enter and Escape switch views; q quits */
	top_input_key(&ui, &m, 's');
	assert_int_equal(ui.sort, TOP_SORT_RPS);
	for (i = 1; i < TOP_SORT__N; i++)
		top_input_key(&ui, &m, 's');
	assert_int_equal(ui.sort, TOP_SORT_NAME);
	top_input_key(&ui, &m, '\n');
	assert_int_equal(ui.view, TOP_VIEW_DETAIL);
	top_input_key(&ui, &m, 27);
	assert_int_equal(ui.view, TOP_VIEW_MAIN);
	top_input_key(&ui, &m, '?');
	assert_int_equal(ui.view, TOP_VIEW_HELP);
	top_input_key(&ui, &m, 'q');
	assert_int_equal(ui.quit, 1);
	free(ui.rows);
	top_model_free(&m);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_canary),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_grpc),
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_hosts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
