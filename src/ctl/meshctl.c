/* SPDX-License-Identifier: ISC */
/*
 * meshctl: the command line.  A dispatcher only: the command table, then
 * each command in its own src/ctl_<name>.c (see include/mesh/ctl.h).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "mesh/ctl.h"
#include "mesh/log.h"
#include "mesh/top.h"

static const struct ctl_cmd ctl_cmds[] = {
	{ "up", "[-f FILE] [-d] [--timeout SECS]", "start the mesh (-d: in the background)",
	  CTL_OPT_FILE | CTL_OPT_DETACH | CTL_OPT_TIMEOUT, ctl_up },
	{ "down", "[-f FILE] [--timeout SECS]", "stop the mesh and every process it started",
	  CTL_OPT_FILE | CTL_OPT_TIMEOUT, ctl_down },
	{ "status", "[-f FILE] [--json]", "services, instances, pids, ports, states",
	  CTL_OPT_FILE | CTL_OPT_JSON, ctl_status },
	{ "certs", "[-f FILE] [--json] [--rotate | --rotate-root | --join-token [--ttl D]]",
	  "identities: SPIFFE ID, serial, validity",
	  CTL_OPT_FILE | CTL_OPT_JSON | CTL_OPT_ROTATE | CTL_OPT_JOIN_TOKEN, ctl_certs },
	{ "join", "--token TOKEN [-f FILE] [--timeout D]",
	  "before up: join the mesh a root host runs (an intermediate CA through etcd)",
	  CTL_OPT_FILE | CTL_OPT_TIMEOUT | CTL_OPT_TOKEN, ctl_join },
	{ "traces", "[-f FILE] [--slow] [--json] [-n N] [--service S]",
	  "recent (or slowest) traces as trees, from the sidecars' rings",
	  CTL_OPT_FILE | CTL_OPT_JSON | CTL_OPT_TRACES, ctl_traces },
	{ "logs", "[--file FILE] [-f] [-n N] [--since D] [SERVICE|INSTANCE...]",
	  "apps' and sidecars' output, as up prints it (-f: follow)",
	  CTL_OPT_FILE | CTL_OPT_LOGS | CTL_OPT_ARGS, ctl_logs },
	{ "tap", "[-f FILE] [--path PREFIX] [--status S] [-n N] [--json] SERVICE",
	  "live requests through a service's sidecars",
	  CTL_OPT_FILE | CTL_OPT_JSON | CTL_OPT_TAP | CTL_OPT_ARGS, ctl_tap },
	{ "weight", "[-f FILE] SERVICE VERSION=PCT...", "set a canary split live (persisted)",
	  CTL_OPT_FILE | CTL_OPT_ARGS, ctl_weight },
	{ "fault", "[-f FILE] SERVICE --delay P%:D --abort P%:S [--version V] | SERVICE --off | --off-all",
	  "inject delays and aborts into a route live (persisted)",
	  CTL_OPT_FILE | CTL_OPT_ARGS | CTL_OPT_FAULT, ctl_fault },
	{ "mirror", "[-f FILE] SERVICE VERSION=P% | SERVICE --off",
	  "mirror a share of a route's requests to a version live (persisted)",
	  CTL_OPT_FILE | CTL_OPT_ARGS | CTL_OPT_OFF, ctl_mirror },
	{ "reload", "[-f FILE]", "re-read the config file and apply routes and limits live",
	  CTL_OPT_FILE, ctl_reload },
	{ "top", "[-f FILE] [-i SECS]", "live dashboard: latency, errors, breakers, canary keys",
	  CTL_OPT_FILE | CTL_OPT_INTERVAL, top_cmd },
	{ "restart", "[-f FILE] [--timeout SECS] INSTANCE|SERVICE",
	  "restart an instance's app (api.0, api@v1.0), drained first; a SERVICE one "
	  "instance at a time", CTL_OPT_FILE | CTL_OPT_TIMEOUT | CTL_OPT_ARGS, ctl_restart },
	{ "breaker-reset", "[-f FILE] SERVICE [VERSION.INDEX]", "close the breakers callers hold for a service",
	  CTL_OPT_FILE | CTL_OPT_ARGS, ctl_breaker_reset },
	{ "run", "[-f FILE] [--as SERVICE] -- COMMAND...",
	  "run a command as a caller in the mesh (http_proxy, MESH_UPSTREAM_*)",
	  CTL_OPT_FILE | CTL_OPT_AS | CTL_OPT_ARGS, ctl_run },
	{ "check", "[-f FILE]", "validate the config file and the host",
	  CTL_OPT_FILE, ctl_check },
	{ "version", "", "versions of meshctl, wolfSSL and libev",
	  0, ctl_version },
	{ NULL, NULL, NULL, 0, NULL },
};

int
main(int argc, char **argv)
{
	const struct ctl_cmd *c;
	struct ctl_opts o;
	const char *name;
	int rc;

	log_init("meshctl", LOG_LVL_INFO);
	/* A meshd that dies mid-reply must give an error, not kill us. */
	signal(SIGPIPE, SIG_IGN);

	if (argc < 2) {
		ctl_cli_usage(stderr, ctl_cmds);
		return CTL_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "help") == 0 || strcmp(name, "-h") == 0 ||
	    strcmp(name, "--help") == 0) {
		if (argc == 2) {
			ctl_cli_usage(stdout, ctl_cmds);
			return CTL_OK;
		}
		if (argc > 3 || strcmp(name, "help") != 0) {
			ctl_errx("%s: unexpected argument '%s'", name, argv[2]);
			ctl_cli_usage(stderr, ctl_cmds);
			return CTL_USAGE;
		}
		/* `meshctl help CMD` is `meshctl CMD --help`. */
		name = argv[1] = argv[2];
		argv[2] = (char *)"--help";
	}
	if (strcmp(name, "--version") == 0)
		name = "version";
	for (c = ctl_cmds; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			break;
	if (c->name == NULL) {
		ctl_errx("unknown %s '%s'", name[0] == '-' ? "option" : "command", name);
		ctl_cli_usage(stderr, ctl_cmds);
		return CTL_USAGE;
	}
	if ((rc = ctl_cli_parse(c, argc - 1, argv + 1, &o)) != -1)
		return rc;
	return c->run(&o);
}
