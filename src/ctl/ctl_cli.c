/* SPDX-License-Identifier: ISC */
/*
 * ctl_cli: options and usage text for meshctl's commands.
 *
 * Options follow the command (`meshctl status -f x.ini --json`), each
 * command accepts only the options its table row lists, and anything else
 * is a usage error (exit 2): a typo must never silently act on the wrong
 * mesh.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/ctl.h"

static void
ctl_cli_cmd_usage(FILE *out, const struct ctl_cmd *cmd)
{
	fprintf(out, "usage: meshctl %s%s%s\n", cmd->name,
	    cmd->args[0] != '\0' ? " " : "", cmd->args);
}

void
ctl_cli_usage(FILE *out, const struct ctl_cmd *cmds)
{
	const struct ctl_cmd *c;

	fprintf(out, "usage: meshctl COMMAND [OPTIONS]\n\ncommands:\n");
	for (c = cmds; c->name != NULL; c++) {
		char syn[96];

		snprintf(syn, sizeof(syn), "%s %s", c->name, c->args);
		fprintf(out, "  %-36s %s\n", syn, c->summary);
	}
	fprintf(out,
	    "\noptions:\n"
	    "  -f, --file FILE      the mesh's config file (default ./%s)\n"
	    "  -d, --detach         up: start in the background, return once ready\n"
	    "      --timeout SECS   up -d, down, restart: how long to wait (default: the\n"
	    "                       longest ready_timeout + %d; %d; per instance)\n"
	    "      --json           status, certs, traces: one JSON document\n"
	    "      --rotate         certs: every sidecar renews its certificate now\n"
	    "      --rotate-root    certs: a new root CA, every leaf re-issued from it, no restart\n"
	    "      --slow           traces: the slowest of the last minute, not the latest\n"
	    "  -n N                 traces: how many traces (default %u)\n"
	    "      --service S      traces: only traces through service S\n"
	    "  -i, --interval SECS  top: seconds between frames (default 1; 0.5 allowed)\n"
	    "  -h, --help           this text\n"
	    "\nexit codes: 0 ok, 1 failure, 2 usage error, 3 mesh not running\n",
	    CTL_DEFAULT_FILE, CTL_UP_SLACK_S, CTL_DOWN_TIMEOUT_S, CTL_TRACES_DEFAULT_N);
}

static int ctl_cli_bad(const struct ctl_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
ctl_cli_bad(const struct ctl_cmd *cmd, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctl_errx("%s: %s", cmd->name, msg);
	ctl_cli_cmd_usage(stderr, cmd);
	return CTL_USAGE;
}

static int
ctl_cli_seconds(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v == 0 || v > CTL_TIMEOUT_MAX_S)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Seconds with an optional fraction ("1", "0.5"), 0.1..3600. */
static int
ctl_cli_interval(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.1 && v <= CTL_TIMEOUT_MAX_S))
		return -1;
	*out = v;
	return 0;
}

static int
ctl_cli_count(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v == 0 || v > CTL_TRACES_MAX_N)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int
ctl_cli_parse(const struct ctl_cmd *cmd, int argc, char **argv,
    struct ctl_opts *o)
{
	static const struct option longopts[] = {
		{ "file",    required_argument, NULL, 'f' },
		{ "detach",  no_argument,       NULL, 'd' },
		{ "json",    no_argument,       NULL, 'J' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "rotate",  no_argument,       NULL, 'R' },
		{ "rotate-root", no_argument,   NULL, 'Q' },
		{ "slow",    no_argument,       NULL, 'S' },
		{ "service", required_argument, NULL, 'V' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help",    no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->file = CTL_DEFAULT_FILE;
	/* '+': stop at the first operand; ':' : report a missing argument. */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:f:dhi:n:", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!(cmd->opts & CTL_OPT_FILE))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			if (optarg[0] == '\0')
				return ctl_cli_bad(cmd, "%s", "-f needs a file name");
			o->file = optarg;
			break;
		case 'd':
			if (!(cmd->opts & CTL_OPT_DETACH))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			o->detach = 1;
			break;
		case 'J':
			if (!(cmd->opts & CTL_OPT_JSON))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			o->json = 1;
			break;
		case 'R':
			if (!(cmd->opts & CTL_OPT_ROTATE))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			o->rotate = 1;
			break;
		case 'Q':
			if (!(cmd->opts & CTL_OPT_ROTATE))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			o->rotate = 2;
			break;
		case 'T':
			if (!(cmd->opts & CTL_OPT_TIMEOUT))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			if (ctl_cli_seconds(optarg, &o->timeout_s) == -1)
				return ctl_cli_bad(cmd, "--timeout '%s': want whole seconds, 1..3600", optarg);
			break;
		case 'i':
			if (!(cmd->opts & CTL_OPT_INTERVAL))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			if (ctl_cli_interval(optarg, &o->interval) == -1)
				return ctl_cli_bad(cmd, "-i '%s': want seconds, 0.1..3600 (decimals allowed)", optarg);
			break;
		case 'S':
			if (!(cmd->opts & CTL_OPT_TRACES))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			o->slow = 1;
			break;
		case 'n':
			if (!(cmd->opts & CTL_OPT_TRACES))
				return ctl_cli_bad(cmd, "unknown option '%s'", "-n");
			if (ctl_cli_count(optarg, &o->count) == -1)
				return ctl_cli_bad(cmd, "-n '%s': want a whole number, 1..%u", optarg,
				    CTL_TRACES_MAX_N);
			break;
		case 'V':
			if (!(cmd->opts & CTL_OPT_TRACES))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			if (optarg[0] == '\0')
				return ctl_cli_bad(cmd, "%s", "--service needs a service name");
			o->service = optarg;
			break;
		case 'h':
			ctl_cli_cmd_usage(stdout, cmd);
			return CTL_OK;
		case ':':
			return ctl_cli_bad(cmd, "option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt != 0) {
				char opt[3] = { '-', (char)optopt, '\0' };

				return ctl_cli_bad(cmd, "unknown option '%s'", opt);
			}
			return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc && (cmd->opts & CTL_OPT_ARGS)) {
		o->args = argv + optind;
		o->nargs = argc - optind;
	} else if (optind < argc)
		return ctl_cli_bad(cmd, "unexpected argument '%s'", argv[optind]);
	return -1;
}

static void
ctl_vwarn(const char *fmt, va_list ap, const char *errstr)
{
	fprintf(stderr, "%smeshctl:%s ", ctl_term_esc(stderr, CTL_RED),
	    ctl_term_esc(stderr, CTL_RESET));
	vfprintf(stderr, fmt, ap);
	if (errstr != NULL)
		fprintf(stderr, ": %s", errstr);
	fputc('\n', stderr);
}

void
ctl_errx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vwarn(fmt, ap, NULL);
	va_end(ap);
}

void
ctl_err(const char *fmt, ...)
{
	const char *e = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	ctl_vwarn(fmt, ap, e);
	va_end(ap);
}
