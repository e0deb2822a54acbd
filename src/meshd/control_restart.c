/* SPDX-License-Identifier: ISC */
/*
 * control_restart: the command `restart [--wait] WHAT` (contract in
 * include/mesh/control.h), WHAT an instance or a service; drain.c does
 * the work.  Without --wait (the dashboard's `r`) the answer comes at
 * once; with it (meshctl restart) each step comes as a LOGLINE and the
 * answer when the last instance is ready again, or one is not.
 */
#include <stdio.h>
#include <string.h>

#include "mesh/control.h"
#include "mesh/drain.h"
#include "mesh/ipc.h"
#include "control_int.h"

static unsigned long control_tickets;   /* 0: nobody waits */

/* drain.h's report, to the client that waits for it if it is still there. */
static void
control_restart_report(struct meshd *m, unsigned long ticket, int done, int rc,
    const char *line)
{
	struct conn *c;

	if (m->ctl == NULL || ticket == 0)
		return;
	for (c = m->ctl->conns; c != NULL; c = c->next) {
		if (c->dead || c->wait != WAIT_RESTART || c->ticket != ticket)
			continue;
		if (!done) {
			control_send_str(c, IPC_LOGLINE, line);
			return;
		}
		c->wait = WAIT_NONE;
		c->ticket = 0;
		control_answer(c, rc == 0 ? 0 : 1, line);
		return;
	}
}

void
control_restart(struct conn *c, const char *args)
{
	struct meshd *m = c->ctl->m;
	unsigned long ticket = 0;
	char msg[512];
	int wait = strncmp(args, "--wait ", 7) == 0;

	if (wait) {
		args += 7;
		if (++control_tickets == 0)
			control_tickets = 1;
		ticket = control_tickets;
	}
	if (drain_restart(m, args, control_restart_report, ticket, msg, sizeof(msg)) == -1) {
		control_answer(c, 1, msg);
		return;
	}
	if (!wait) {
		control_answer(c, 0, msg);
		return;
	}
	c->wait = WAIT_RESTART;
	c->ticket = ticket;
	control_send_str(c, IPC_LOGLINE, msg);
}
