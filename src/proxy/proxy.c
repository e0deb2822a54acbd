/* SPDX-License-Identifier: ISC */
/*
 * mesh-proxy: the sidecar.  One thread, one libev loop.
 *
 *   mesh-proxy -c FILE                      serve a pcfg document (SIGHUP re-reads it)
 *   mesh-proxy --control SOCK --id ID       get the config from meshd
 *
 * The request path, in the order the files read: listener -> conn ->
 * fwd (parse, route, balance) -> upstream -> relay -> response; the legs
 * between sidecars go through transport_mesh().
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "mesh/conn.h"
#include "mesh/fwd.h"
#include "mesh/h2.h"
#include "mesh/ident.h"
#include "mesh/log.h"
#include "mesh/pcfg.h"
#include "mesh/pctl.h"
#include "mesh/alog.h"
#include "mesh/pstate.h"
#include "mesh/pstats.h"
#include "mesh/stats.h"
#include "mesh/upstream.h"
#include "ptap_int.h"

#define DRAIN_S     5.0
#define FILE_MAX    (1u << 20)

static const char *cfg_file;
static ev_timer    drain_timer;
static ev_prepare  reaper;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: mesh-proxy -c FILE [--stats PATH] [-v]\n"
	    "       mesh-proxy --control SOCK --id INSTANCE_ID [-v]\n");
	exit(2);
}

/* Read and apply cfg_file.  0, or -1 with the reason logged. */
static int
load_file(void)
{
	char err[512];
	struct pcfg *cfg;
	char *text;
	ssize_t n;
	size_t len = 0;
	int fd;

	if ((fd = open(cfg_file, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", cfg_file);
		return -1;
	}
	if ((text = malloc(FILE_MAX + 1)) == NULL) {
		close(fd);
		log_warnx("%s: out of memory", cfg_file);
		return -1;
	}
	while (len < FILE_MAX && (n = read(fd, text + len, FILE_MAX - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warn("%s", cfg_file);
			close(fd);
			free(text);
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	text[len] = '\0';
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		free(text);
		return -1;
	}
	if (pcfg_parse(text, len, cfg, err, sizeof(err)) == -1) {
		log_warnx("%s: %s", cfg_file, err);
		free(text);
		free(cfg);
		return -1;
	}
	free(text);
	if (pstate_apply(cfg, err, sizeof(err)) == -1) {
		log_warnx("%s: %s", cfg_file, err);
		return -1;
	}
	return 0;
}

static void
reap_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	conn_reap();
	if (conn_draining() && conn_count() == 0)
		ev_break(loop, EVBREAK_ALL);
}

static void
drain_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	log_warnx("%u connection(s) still busy after %.0f s: closing them", conn_count(), DRAIN_S);
	ev_break(loop, EVBREAK_ALL);
}

static void
stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	if (conn_draining())
		return;
	log_info("signal %d: stopping (in-flight requests get %.0f s)", w->signum, DRAIN_S);
	pctl_stop();
	pstate_close_listeners();
	h2_close_idle();
	upstream_close_idle();
	conn_drain();
	ev_timer_init(&drain_timer, drain_timeout_cb, DRAIN_S, 0.);
	ev_timer_start(loop, &drain_timer);
}

static void
hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)alog_reopen();   /* log rotation: a no-op without an access-log file */
	if (cfg_file == NULL || conn_draining())
		return;
	if (load_file() == 0)
		log_info("%s: reloaded", cfg_file);
}

static void
fatal_start(void)
{
	exit(1);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config",  required_argument, NULL, 'c' },
		{ "control", required_argument, NULL, 'S' },
		{ "id",      required_argument, NULL, 'i' },
		{ "verbose", no_argument,       NULL, 'v' },
		{ "help",    no_argument,       NULL, 'h' },
		{ "stats",   required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL, *id = NULL, *stats_file = NULL;
	enum log_level lvl = LOG_LVL_INFO;
	ev_signal sterm, sint, shup;
	struct ev_loop *loop;
	int ch;

	while ((ch = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfg_file = optarg; break;
		case 'S': sock = optarg; break;
		case 'i': id = optarg; break;
		case 'v': lvl = LOG_LVL_DEBUG; break;
		case 's': stats_file = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || (cfg_file == NULL) == (sock == NULL) || (sock != NULL && id == NULL))
		usage();
	log_init("mesh-proxy", lvl);
	signal(SIGPIPE, SIG_IGN);

	loop = ev_default_loop(EVFLAG_AUTO);
	if (loop == NULL)
		fatalx("cannot initialise libev");
	ev_signal_init(&sterm, stop_cb, SIGTERM);
	ev_signal_init(&sint, stop_cb, SIGINT);
	ev_signal_init(&shup, hup_cb, SIGHUP);
	ev_signal_start(loop, &sterm);
	ev_signal_start(loop, &sint);
	ev_signal_start(loop, &shup);
	/* Closed objects are reclaimed before the loop blocks, when no
	 * callback of this iteration can still hold them. */
	ev_prepare_init(&reaper, reap_cb);
	ev_prepare_start(loop, &reaper);

	stats_open_sidecar(sock, id, stats_file);  /* include/mesh/stats.h: where */
	pstats_start(loop);
	ptap_start(loop, sock, stats_file);   /* before the config names the service */
	fwd_init();
	if (cfg_file != NULL) {
		if (load_file() == -1)
			return 1;
	} else {
		pctl_start(sock, id, fatal_start);
	}
	ev_run(loop, 0);

	pstats_stop(loop);
	ptap_stop(loop);
	alog_close();
	pctl_stop();
	pstate_close_listeners();
	h2_close_idle();
	upstream_close_idle();
	conn_reap();
	pstate_free();
	ident_free();
	log_info("stopped");
	return 0;
}
