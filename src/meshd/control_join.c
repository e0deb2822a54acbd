/* SPDX-License-Identifier: ISC */
/*
 * control_join: the command `certs --join-token SECS` (include/mesh/
 * control.h): a one-time token for `meshctl join` (mjoin.h, jtok.h),
 * printed once and never logged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh/jtok.h"
#include "mesh/mjoin.h"
#include "mesh/outlog.h"
#include "control_int.h"

void
control_join_token(struct conn *c, const char *args)
{
	struct meshd *m = c->ctl->m;
	char tok[JTOK_STR_MAX], err[512], msg[JTOK_STR_MAX + 512], when[32];
	unsigned long ttl;
	time_t now = time(NULL), until;
	struct tm tm;
	char *end;

	errno = 0;
	ttl = strtoul(args, &end, 10);
	if (errno != 0 || end == args || *end != '\0' || ttl == 0 || ttl > JTOK_TTL_MAX) {
		control_answer(c, 2, "certs --join-token: want a lifetime of 1s..24h");
		return;
	}
	if (mjoin_mint(m, (unsigned)ttl, now, tok, sizeof(tok), err, sizeof(err)) != 0) {
		control_answer(c, 1, err);
		return;
	}
	until = now + (time_t)ttl;
	if (gmtime_r(&until, &tm) == NULL || strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
	    &tm) == 0)
		snprintf(when, sizeof(when), "%lld", (long long)until);
	outlog_event("join: a token was minted (meshctl certs --join-token), valid until %s",
	    when);
	snprintf(msg, sizeof(msg), "%s\n"
	    "On the new host, before `meshctl up`: meshctl join --token TOKEN -f mesh.ini "
	    "(same mesh name, its own host_name; one use, valid until %s)\n", tok, when);
	control_answer(c, 0, msg);
	memset(tok, 0, sizeof(tok));
	memset(msg, 0, sizeof(msg));
}
