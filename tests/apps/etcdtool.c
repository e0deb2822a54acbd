/* SPDX-License-Identifier: ISC */
/*
 * etcdtool: meshd's etcd client (include/mesh/etcd.h) on a libev loop,
 * driven by a script, for tests/integ/registry_etcd.sh.
 *
 *   etcdtool --endpoints URLS --prefix P [--ttl S] [--ca F] [--cert F --key F]
 *            [--no-watch] [CMD ...]
 *
 * Commands, one per argument, or (without any) one per line of stdin as
 * they come:
 *   put KEY VALUE    an own key (VALUE is the rest of the line)
 *   del KEY
 *   sleep SECONDS    wait before the next command
 *   exit             close gracefully (the lease is revoked), exit 0
 *   quit             exit at once without closing (the lease expires)
 * The end of stdin is `exit`.
 *
 * Prints, one line each, flushed at once:
 *   state up lease=ID | state down REASON | state closed
 *   reset REV | put KEY VALUE REV | del KEY REV | synced REV
 *   error MESSAGE    (a command refused)
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ev.h>

#include "mesh/etcd.h"

static struct ev_loop *loop;
static struct etcd *cli;
static char **script;
static int nscript, next;
static ev_io in_w;
static ev_timer sleep_w;
static char inbuf[70000];
static size_t inlen;
static int reading_stdin, closing;

static void run_script(void);

static void
on_state(void *arg, enum etcd_state st, const char *why)
{
	(void)arg;
	if (st == ETCD_UP)
		printf("state up lease=%" PRId64 "\n", etcd_lease(cli));
	else if (st == ETCD_DOWN)
		printf("state down %s\n", why != NULL ? why : "");
	else if (st == ETCD_CLOSED) {
		printf("state closed\n");
		ev_break(loop, EVBREAK_ALL);
	}
	fflush(stdout);
}

static void
on_event(void *arg, const struct etcd_event *ev)
{
	(void)arg;
	switch (ev->type) {
	case ETCD_EV_RESET:
		printf("reset %" PRId64 "\n", ev->revision);
		break;
	case ETCD_EV_SYNCED:
		printf("synced %" PRId64 "\n", ev->revision);
		break;
	case ETCD_EV_PUT:
		printf("put %.*s %.*s %" PRId64 "\n", (int)ev->key_len, ev->key,
		    (int)ev->value_len, ev->value, ev->revision);
		break;
	case ETCD_EV_DELETE:
		printf("del %.*s %" PRId64 "\n", (int)ev->key_len, ev->key, ev->revision);
		break;
	}
	fflush(stdout);
}

static void
do_exit(void)
{
	if (closing)
		return;
	closing = 1;
	ev_io_stop(loop, &in_w);
	ev_timer_stop(loop, &sleep_w);
	etcd_close(cli, 1);
}

/* One command; 1 when the script is to wait (sleep, exit). */
static int
command(char *line)
{
	char *verb, *arg, *rest;

	line[strcspn(line, "\r\n")] = '\0';
	verb = line + strspn(line, " \t");
	if (*verb == '\0' || *verb == '#')
		return 0;
	arg = verb + strcspn(verb, " \t");
	if (*arg != '\0')
		*arg++ = '\0';
	arg += strspn(arg, " \t");
	rest = arg + strcspn(arg, " \t");
	if (*rest != '\0')
		*rest++ = '\0';
	if (strcmp(verb, "put") == 0 && *arg != '\0') {
		if (etcd_put(cli, arg, rest, strlen(rest)) == -1)
			printf("error put %s refused\n", arg);
	} else if (strcmp(verb, "del") == 0 && *arg != '\0') {
		if (etcd_del(cli, arg) == -1)
			printf("error del %s refused\n", arg);
	} else if (strcmp(verb, "sleep") == 0) {
		ev_timer_set(&sleep_w, atof(arg), 0.);
		ev_timer_start(loop, &sleep_w);
		return 1;
	} else if (strcmp(verb, "exit") == 0) {
		do_exit();
		return 1;
	} else if (strcmp(verb, "quit") == 0) {
		fflush(stdout);
		_exit(0);
	} else {
		printf("error unknown command: %s\n", verb);
	}
	fflush(stdout);
	return 0;
}

/* Commands from what stdin gave, until one waits. */
static void
run_stdin(void)
{
	char *nl;

	while (!closing && !ev_is_active(&sleep_w) &&
	    (nl = memchr(inbuf, '\n', inlen)) != NULL) {
		size_t n = (size_t)(nl - inbuf) + 1;
		char line[sizeof(inbuf)];

		memcpy(line, inbuf, n - 1);
		line[n - 1] = '\0';
		memmove(inbuf, inbuf + n, inlen - n);
		inlen -= n;
		command(line);
	}
	if (closing || ev_is_active(&sleep_w))
		ev_io_stop(loop, &in_w);
	else
		ev_io_start(loop, &in_w);
}

static void
run_script(void)
{
	if (reading_stdin) {
		run_stdin();
		return;
	}
	while (next < nscript && !closing)
		if (command(script[next++]))
			return;
	if (next == nscript && !closing && !ev_is_active(&sleep_w))
		do_exit();
}

static void
stdin_cb(struct ev_loop *l, ev_io *w, int revents)
{
	ssize_t n = read(0, inbuf + inlen, sizeof(inbuf) - 1 - inlen);

	(void)l;
	(void)revents;
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ev_io_stop(loop, w);
		if (inlen > 0) {
			inbuf[inlen++] = '\n';
			run_stdin();
		}
		do_exit();
		return;
	}
	inlen += (size_t)n;
	if (inlen == sizeof(inbuf) - 1 && memchr(inbuf, '\n', inlen) == NULL) {
		printf("error line too long\n");
		inlen = 0;
	}
	run_stdin();
}

static void
sleep_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	run_script();
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoints", required_argument, NULL, 'e' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "ttl", required_argument, NULL, 't' },
		{ "ca", required_argument, NULL, 'a' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "no-watch", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct etcd_config cfg;
	char err[1024];
	int o, watch = 1;

	memset(&cfg, 0, sizeof(cfg));
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'e': cfg.endpoints = optarg; break;
		case 'p': cfg.prefix = optarg; break;
		case 't': cfg.ttl = (unsigned)atoi(optarg); break;
		case 'a': cfg.ca = optarg; break;
		case 'c': cfg.cert = optarg; break;
		case 'k': cfg.key = optarg; break;
		case 'n': watch = 0; break;
		default:
			fprintf(stderr, "usage: etcdtool --endpoints URLS --prefix P [--ttl S] "
			    "[--ca F] [--cert F --key F] [--no-watch] [CMD ...]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	loop = EV_DEFAULT;
	cfg.on_state = on_state;
	cfg.on_event = watch ? on_event : NULL;
	if ((cli = etcd_new(loop, &cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "etcdtool: %s\n", err);
		return 1;
	}
	script = argv + optind;
	nscript = argc - optind;
	reading_stdin = nscript == 0;
	ev_io_init(&in_w, stdin_cb, 0, EV_READ);
	ev_init(&sleep_w, sleep_cb);
	run_script();
	ev_run(loop, 0);
	ev_loop_destroy(loop);
	return 0;
}
