/* SPDX-License-Identifier: ISC */
/*
 * top_detail: the detail view (Enter) and the help screen (?) of
 * `meshctl top`: per instance pid, restarts, ports, health, EWMA,
 * ejections, breaker; the route policies; recent slow or failed requests.
 */
#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mesh/config.h"
#include "mesh/top.h"
#include "top_int.h"

/* One route's policy in a line ("defaults" without a section). */
static void
top_route_line(char *buf, size_t size, const struct mesh_config *cfg, const char *name)
{
	static const char *lbs[] = { "ewma", "round-robin", "least-request" };
	const struct conf_route *rt = NULL;
	char to[24];
	size_t i;

	for (i = 0; cfg != NULL && i < cfg->nroutes; i++)
		if (strcmp(cfg->routes[i].name, name) == 0)
			rt = &cfg->routes[i];
	if (rt == NULL) {
		snprintf(buf, size, "%-12s default policy", name);
		return;
	}
	top_fmt_us(to, sizeof(to), rt->timeout_us, rt->timeout_us != 0);
	snprintf(buf, size, "%-12s timeout %s  retries %u  lb %s  breaker %u/%llus  outlier %u/%llus",
	    name, to, rt->retries, (unsigned)rt->lb < 3 ? lbs[rt->lb] : "?",
	    rt->breaker_failures, (unsigned long long)(rt->breaker_cooldown_us / 1000000),
	    rt->outlier_failures, (unsigned long long)(rt->outlier_ejection_us / 1000000));
}

/*
 * Chaos, counted apart from real errors: what this service's sidecars
 * injected into their calls and copied to mirrors, since each started
 * (their OK% counts an injected abort as the status it answered).
 */
static void
top_detail_chaos(const struct top_ui *ui, const struct top_model *m, const struct top_svc *s,
    int *y)
{
	uint64_t faults = 0, mirrored = 0;
	char line[160];
	size_t k;

	for (k = 0; k < s->ninst; k++) {
		faults += m->inst[s->inst[k]].faults;
		mirrored += m->inst[s->inst[k]].mirrored;
	}
	if (faults == 0 && mirrored == 0)
		return;
	snprintf(line, sizeof(line), "CHAOS  faults injected into its calls: %llu   "
	    "copies sent to mirrors: %llu", (unsigned long long)faults,
	    (unsigned long long)mirrored);
	attron(top_pair(ui, CP_YELLOW));
	mvaddnstr((*y)++, 0, line, COLS);
	attroff(top_pair(ui, CP_YELLOW));
}

/* ok of calls (> 0) as "97.5%", never rounded up to 100%. */
static void
top_grpc_pct(char *buf, size_t size, uint64_t ok, uint64_t calls)
{
	if (ok >= calls)
		snprintf(buf, size, "100%%");
	else
		snprintf(buf, size, "%.1f%%", (double)(ok * 1000 / calls) / 10);
}

/*
 * The gRPC calls of the service (the rows its latency comes from): over
 * the last TOP_WIN_S s, or since its sidecars started when none came in
 * that window; no line for a service that never had one.  Red under 99%.
 */
static void
top_detail_grpc(const struct top_ui *ui, const struct top_svc *s, int *y)
{
	char line[160], pct[16];
	uint64_t ok, calls;
	attr_t a;

	if (s->grpc_total == 0)
		return;
	if (s->grpc_calls > 0) {
		calls = s->grpc_calls;
		ok = s->grpc_ok;
		top_grpc_pct(pct, sizeof(pct), ok, calls);
		snprintf(line, sizeof(line), "GRPC   %s OK of %llu calls in the last %d s",
		    pct, (unsigned long long)calls, TOP_WIN_S);
	} else {
		calls = s->grpc_total;
		ok = s->grpc_total_ok;
		top_grpc_pct(pct, sizeof(pct), ok, calls);
		snprintf(line, sizeof(line), "GRPC   no call in the last %d s; %s OK of %llu "
		    "since start", TOP_WIN_S, pct, (unsigned long long)calls);
	}
	a = ok * 100 < calls * 99 ? top_pair(ui, CP_RED) : A_NORMAL;
	attron(a);
	mvaddnstr((*y)++, 0, line, COLS);
	attroff(a);
}

void
top_detail(struct top_ui *ui, const struct top_model *m)
{
	const struct top_svc *s = NULL;
	struct top_span spans[TOP_SPANS_MAX];
	char line[512], ew[24], dur[24], grpc[24];
	size_t i, k, n;
	int y = 1;

	for (i = 0; i < m->nsvc; i++)
		if (strcmp(m->svc[i].name, ui->sel_name) == 0)
			s = &m->svc[i];
	if (s == NULL) {
		mvaddnstr(2, 0, "no such service (Esc: back)", COLS);
		return;
	}
	n = (size_t)snprintf(line, sizeof(line), "%s (%s)", s->name, s->protocol);
	for (i = 0; i < s->nver && n < sizeof(line); i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "  %s %u%% %zu/%zu up",
		    s->ver[i].name, s->ver[i].weight, s->ver[i].nup, s->ver[i].ninst);
	attron(A_BOLD);
	mvaddnstr(y++, 0, line, COLS);
	attroff(A_BOLD);
	snprintf(line, sizeof(line), "%-12s %-8s %7s %3s %-11s %-6s %7s %3s %s",
	    "INSTANCE", "STATE", "APP PID", "RST", "APP/INBOUND", "HEALTH", "EWMA", "EJ", "BREAKER");
	attron(A_REVERSE);
	mvhline(y, 0, ' ', COLS);
	mvaddnstr(y++, 0, line, COLS);
	attroff(A_REVERSE);
	for (k = 0; k < s->ninst && y < LINES - 8; k++) {
		const struct top_inst *in = &m->inst[s->inst[k]];
		char pid[24], ports[32];

		if (in->app_pid != 0)
			snprintf(pid, sizeof(pid), "%ld", in->app_pid);
		else
			snprintf(pid, sizeof(pid), "-");
		snprintf(ports, sizeof(ports), "%u/%u", in->app_port, in->inbound_port);
		top_fmt_us(ew, sizeof(ew), in->ewma_us, in->ewma_us != 0);
		snprintf(line, sizeof(line), "%-12.12s %-8.8s %7s %3u %-11.11s %-6.6s %7s %3llu ",
		    in->name, in->state, pid, in->restarts, ports, in->endpoint, ew,
		    (unsigned long long)in->ejections);
		mvaddnstr(y, 0, line, COLS);
		attron(top_brk_attr(ui, in->brk));
		addnstr(top_brk_word(in->brk), COLS - (int)strlen(line) > 0 ? COLS - (int)strlen(line) : 0);
		attroff(top_brk_attr(ui, in->brk));
		/* registry = etcd: the host it runs on (issue 16) */
		if (m->host[0] != '\0' && in->host[0] != '\0') {
			char on[TOP_NAME_MAX + 8];
			int x = getcurx(stdscr);

			snprintf(on, sizeof(on), "  on %s", in->host);
			if (x < COLS)
				addnstr(on, COLS - x);
		}
		y++;
	}
	top_detail_chaos(ui, m, s, &y);
	top_detail_grpc(ui, s, &y);
	y++;
	attron(A_BOLD);
	mvaddnstr(y++, 0, "ROUTES (this service, then each upstream it calls)", COLS);
	attroff(A_BOLD);
	top_route_line(line, sizeof(line), m->cfg, s->name);
	mvaddnstr(y++, 2, line, COLS - 2);
	for (i = 0; m->cfg != NULL && i < m->cfg->nservices && y < LINES - 5; i++) {
		const struct conf_service *cs = &m->cfg->services[i];

		if (strcmp(cs->name, s->name) != 0)
			continue;
		for (k = 0; k < cs->nupstreams && y < LINES - 5; k++) {
			top_route_line(line, sizeof(line), m->cfg, cs->upstreams[k].name);
			mvaddnstr(y++, 2, line, COLS - 2);
		}
		break;
	}
	y++;
	attron(A_BOLD);
	mvaddnstr(y++, 0, "RECENT SLOW OR FAILED REQUESTS (slowest first)", COLS);
	attroff(A_BOLD);
	n = top_stats_spans(m, s, spans, TOP_SPANS_MAX);
	if (n == 0)
		mvaddnstr(y++, 2, "none recorded", COLS - 2);
	for (i = 0; i < n && y < LINES - 2; i++, y++) {
		top_fmt_us(dur, sizeof(dur), spans[i].duration_us, 1);
		if (spans[i].grpc >= 0)
			snprintf(grpc, sizeof(grpc), "grpc=%d ", spans[i].grpc);
		else
			grpc[0] = '\0';
		snprintf(line, sizeof(line), "%-12.12s %8s %3u %-6s %-28.28s %-10.10s %s%s%s%s",
		    spans[i].instance, dur, spans[i].status, spans[i].method, spans[i].path,
		    spans[i].peer, spans[i].flags & 0x3f ? "flags " : "",
		    spans[i].retries ? "retried " : "", grpc, spans[i].trace);
		attron(spans[i].status >= 500 ? top_pair(ui, CP_RED) : A_NORMAL);
		mvaddnstr(y, 2, line, COLS - 2);
		attroff(spans[i].status >= 500 ? top_pair(ui, CP_RED) : A_NORMAL);
	}
}

void
top_help(void)
{
	static const char *lines[] = {
		"meshctl top: keys",
		"",
		"  Up/Down, j/k     select a row         PgUp/PgDn, g/G  page, first, last",
		"  Space, Right/Left expand/collapse a service into versions and instances",
		"  Enter            detail of the selected service (Esc, Enter: back)",
		"  /NAME Enter      select the first service whose name contains NAME",
		"  + / -            move the canary (last-declared version) 5 points up/down",
		"  b                reset the selected service's (or instance's) breakers",
		"  r                restart the selected instance's app",
		"  t                tap: live requests through the selected service (Esc: back)",
		"  l                logs: the last lines of the selected instance (or service)",
		"  f / m            fault / mirror form of the selected service: Tab/Up/Down",
		"                   move, Enter applies (every % 0: off), ^D off, Esc cancels",
		"  s                cycle the sort: name, rps, errors, p99",
		"  ?                this help            q  quit",
		"",
		"Actions ask first: y (a form: Enter) applies through meshd, n (Esc) cancels.",
		"Latency: p50/p95/p99 over the last 10 s; the sparkline is p99 per second",
		"for the last 60 s.  RPS and OK% over the last 10 s.  BREAKER: the worst",
		"state any caller holds for the service's endpoints (EJ: outlier-ejected).",
	};
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]) && (int)i + 1 < LINES - 2; i++)
		mvaddnstr((int)i + 1, 0, lines[i], COLS);
}
