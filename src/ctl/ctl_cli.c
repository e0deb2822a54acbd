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
#include <time.h>

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
		char syn[128];

		snprintf(syn, sizeof(syn), "%s %s", c->name, c->args);
		fprintf(out, "  %-36s %s\n", syn, c->summary);
	}
	fprintf(out,
	    "\noptions:\n"
	    "  -f, --file FILE      the mesh's config file (default ./%s)\n"
	    "  -d, --detach         up: start in the background, return once ready\n"
	    "      --timeout SECS   up -d, down, restart, join: how long to wait (default:\n"
	    "                       the longest ready_timeout + %d; %d; per instance; 30)\n"
	    "      --json           status, certs, traces: one JSON document\n"
	    "      --rotate         certs: every sidecar renews its certificate now\n"
	    "      --rotate-root    certs: a new root CA, every leaf re-issued from it, no restart\n"
	    "      --slow           traces: the slowest of the last minute, not the latest\n"
	    "  -n N                 traces: how many traces (default %u)\n"
	    "      --service S      traces: only traces through service S\n"
	    "  -i, --interval SECS  top: seconds between frames (default 1; 0.5 allowed)\n"
	    "  -f, --follow         logs: keep printing new lines (logs takes --file only)\n"
	    "  -n N                 logs: the last N lines; tap: stop after N requests\n"
	    "      --since D        logs: lines since D ago (90s, 10m, 2h, 1d) or a time\n"
	    "                       (2026-12-06T14:00)\n"
	    "      --path PREFIX    tap: only requests whose path starts with PREFIX\n"
	    "      --status S       tap: only answers with status S (5xx, 4xx, 503)\n"
	    "      --as SERVICE     run: call as this service (its identity, its allow rules)\n"
	    "      --delay P%%:D     fault: delay P%% of the requests by D (10%%:300ms)\n"
	    "      --abort P%%:S     fault: answer P%% of them with status S (5%%:503)\n"
	    "      --version V      fault: only requests balanced to version V\n"
	    "      --match 'H: V'   fault: only requests with header H equal to V\n"
	    "      --off            fault, mirror: none on SERVICE (the file's suspended too)\n"
	    "      --off-all        fault: no fault anywhere\n"
	    "      --join-token     certs: mint a one-time token for `join` (root host)\n"
	    "      --ttl DURATION   certs --join-token: how long it is valid (default 1h, max 24h)\n"
	    "      --token TOKEN    join: the token `certs --join-token` printed\n"
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

/* Whole seconds, 1..CTL_TIMEOUT_MAX_S: "30", or a duration ("30s", "2m"). */
static int
ctl_cli_seconds(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;
	uint64_t us;

	errno = 0;
	v = strtoul(s, &end, 10);
	if ((errno != 0 || end == s || *end != '\0') && config_parse_duration(s, &us) == 0 &&
	    us % 1000000 == 0) {
		v = (unsigned long)(us / 1000000);
		errno = 0;
		end = (char *)s + strlen(s);
	}
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
ctl_cli_count(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v == 0 || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int
ctl_cli_since(const char *s, int64_t now, int64_t *out)
{
	static const struct { char unit; int64_t secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	struct tm tm;
	const char *end;
	char *num_end;
	unsigned long long v;
	size_t i;

	if (s[0] >= '0' && s[0] <= '9' && strlen(s) <= 12) {
		errno = 0;
		v = strtoull(s, &num_end, 10);
		if (errno == 0 && v <= 100ull * 365 * 86400) {
			if (*num_end == '\0') {
				*out = now - (int64_t)v;
				return 0;
			}
			for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
				if (num_end[0] == units[i].unit && num_end[1] == '\0' &&
				    v <= 100ull * 365 * 86400 / (unsigned long long)units[i].secs) {
					*out = now - (int64_t)v * units[i].secs;
					return 0;
				}
		}
	}
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL)
		return -1;
	if (*end == 'T' || *end == ' ') {
		const char *t = strptime(end + 1, "%H:%M:%S", &tm);

		if (t == NULL)
			t = strptime(end + 1, "%H:%M", &tm);
		if (t == NULL)
			return -1;
		end = t;
	}
	if (strcmp(end, "Z") == 0) {
		*out = (int64_t)timegm(&tm);
		return 0;
	}
	if (*end != '\0')
		return -1;
	tm.tm_isdst = -1;
	*out = (int64_t)mktime(&tm);
	return *out == -1 ? -1 : 0;
}

int
ctl_cli_status(const char *s, unsigned *lo, unsigned *hi)
{
	if (s[0] >= '1' && s[0] <= '5' && (s[1] == 'x' || s[1] == 'X') &&
	    (s[2] == 'x' || s[2] == 'X') && s[3] == '\0') {
		*lo = (unsigned)(s[0] - '0') * 100;
		*hi = *lo + 99;
		return 0;
	}
	if (s[0] >= '1' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' &&
	    s[2] >= '0' && s[2] <= '9' && s[3] == '\0') {
		*lo = *hi = (unsigned)strtoul(s, NULL, 10);
		return 0;
	}
	return -1;
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
		{ "follow",  no_argument,       NULL, 'F' },
		{ "since",   required_argument, NULL, 'W' },
		{ "path",    required_argument, NULL, 'P' },
		{ "status",  required_argument, NULL, 'X' },
		{ "as",      required_argument, NULL, 'A' },
		{ "delay",   required_argument, NULL, 'D' },
		{ "abort",   required_argument, NULL, 'B' },
		{ "version", required_argument, NULL, 'E' },
		{ "match",   required_argument, NULL, 'M' },
		{ "off",     no_argument,       NULL, 'O' },
		{ "off-all", no_argument,       NULL, 'Z' },
		{ "join-token", no_argument,    NULL, 'K' },
		{ "ttl",     required_argument, NULL, 'L' },
		{ "token",   required_argument, NULL, 'N' },
		{ "help",    no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *shorts;
	int c, nops = 0;

	memset(o, 0, sizeof(*o));
	o->file = CTL_DEFAULT_FILE;
	/* '+': stop at the first operand; ':' : report a missing argument. */
	opterr = 0;
	optind = 0;   /* 0: glibc starts afresh, ordering mode included */
	/*
	 * logs: -f is --follow (tail -f, docker logs -f); the file is --file.
	 * Options may come after operands (`tap api --status 5xx`), except
	 * for run, whose operands are a command with options of its own.
	 */
	if (cmd->opts & CTL_OPT_LOGS)
		shorts = "-:fhn:";
	else
		shorts = (cmd->opts & CTL_OPT_AS) ? "+:f:dhi:n:" : "-:f:dhi:n:";
	while ((optarg = NULL, c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		if (c == 'f' && (cmd->opts & CTL_OPT_LOGS) && optarg == NULL)
			c = 'F';
		switch (c) {
		case 1:
			/* an operand where options may follow ('-' mode): kept in
			 * order at the front of argv (slots getopt has passed) */
			if (!(cmd->opts & CTL_OPT_ARGS))
				return ctl_cli_bad(cmd, "unexpected argument '%s'", optarg);
			argv[1 + nops++] = optarg;
			break;
		case 'F':
			if (!(cmd->opts & CTL_OPT_LOGS))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			o->follow = 1;
			break;
		case 'W':
			if (!(cmd->opts & CTL_OPT_LOGS))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			if (ctl_cli_since(optarg, (int64_t)time(NULL), &o->since) == -1)
				return ctl_cli_bad(cmd, "--since '%s': want a duration (90s, 10m, 2h, "
				    "1d) or a time (2026-12-06T14:00, a trailing Z for UTC)", optarg);
			break;
		case 'P':
			if (!(cmd->opts & CTL_OPT_TAP))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			if (optarg[0] != '/')
				return ctl_cli_bad(cmd, "--path '%s': want a path prefix starting "
				    "with '/'", optarg);
			o->path = optarg;
			break;
		case 'X':
			if (!(cmd->opts & CTL_OPT_TAP))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			if (ctl_cli_status(optarg, &o->status_lo, &o->status_hi) == -1)
				return ctl_cli_bad(cmd, "--status '%s': want a class (5xx, 4xx, ...) "
				    "or a code 100..599", optarg);
			break;
		case 'A':
			if (!(cmd->opts & CTL_OPT_AS))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			if (optarg[0] == '\0')
				return ctl_cli_bad(cmd, "%s", "--as needs a service name");
			o->as = optarg;
			break;
		case 'D': case 'B': case 'E': case 'M': case 'O': case 'Z': {
			const char **slot = c == 'D' ? &o->fault_delay : c == 'B' ? &o->fault_abort :
			    c == 'E' ? &o->fault_version : c == 'M' ? &o->fault_match : NULL;

			if (!(cmd->opts & CTL_OPT_FAULT) && !(c == 'O' && (cmd->opts & CTL_OPT_OFF)))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			if (slot != NULL && *slot != NULL)
				return ctl_cli_bad(cmd, "--%s given twice", c == 'D' ? "delay" :
				    c == 'B' ? "abort" : c == 'E' ? "version" : "match");
			if (slot != NULL)
				*slot = optarg;
			else if (c == 'O')
				o->off = 1;
			else
				o->fault_off_all = 1;
			break;
		}
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
				return ctl_cli_bad(cmd, "--timeout '%s': want whole seconds, 1..3600 "
				    "(30 or 30s)", optarg);
			break;
		case 'K':
			if (!(cmd->opts & CTL_OPT_JOIN_TOKEN))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			o->join_token = 1;
			break;
		case 'L':
			if (!(cmd->opts & CTL_OPT_JOIN_TOKEN))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			o->ttl = optarg;
			break;
		case 'N':
			if (!(cmd->opts & CTL_OPT_TOKEN))
				return ctl_cli_bad(cmd, "unknown option '%s'", argv[optind - 1]);
			o->token = optarg;
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
		case 'n': {
			unsigned max = (cmd->opts & CTL_OPT_TRACES) ? CTL_TRACES_MAX_N : CTL_LINES_MAX_N;

			if (!(cmd->opts & (CTL_OPT_TRACES | CTL_OPT_LOGS | CTL_OPT_TAP)))
				return ctl_cli_bad(cmd, "unknown option '%s'", "-n");
			if (ctl_cli_count(optarg, max, &o->count) == -1)
				return ctl_cli_bad(cmd, "-n '%s': want a whole number, 1..%u", optarg, max);
			break;
		}
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
	if (optind < argc && !(cmd->opts & CTL_OPT_ARGS))
		return ctl_cli_bad(cmd, "unexpected argument '%s'", argv[optind]);
	/* after "--" (or, for run, from the first operand on): operands too */
	while (optind < argc)
		argv[1 + nops++] = argv[optind++];
	argv[1 + nops] = NULL;   /* args[nargs] == NULL: run hands it to execvp */
	if (nops > 0) {
		o->args = argv + 1;
		o->nargs = nops;
	}
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
