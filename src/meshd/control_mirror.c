/* SPDX-License-Identifier: ISC */
/*
 * control_mirror: the command `mirror SERVICE VERSION=P%` / `mirror
 * SERVICE off` (contract in include/mesh/control.h; the override rules in
 * mirrors.h), sent by `meshctl mirror` and by the dashboard's `m` key:
 * validated against the config meshd runs, applied to m->cfg's route,
 * pushed to the callers' sidecars at once, saved in <state_dir>/mirrors.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mesh/control.h"
#include "mesh/ipc.h"
#include "mesh/meshd_ctx.h"
#include "mesh/mirrors.h"
#include "mesh/mreg.h"
#include "mesh/outlog.h"
#include "control_int.h"

void
control_mirror(struct conn *c, const char *args)
{
	struct meshd *m = c->ctl->m;
	char why[512], desc[96], msg[400];
	struct mirror_ovr o;

	if (mirrors_parse(&m->cfg, args, &o, why, sizeof(why)) == -1)
		goto refused;
	if (mirrors_set(&m->mirrors, &m->cfg, &o) == -1) {
		snprintf(why, sizeof(why), "mirror: %s: %s", o.service,
		    errno == ENOSPC ? "too many overrides" : "out of memory");
		goto refused;
	}
	control_push_callers(m, o.service);
	mreg_ovr_publish(m, MREG_OVR_MIRROR, o.service, args);
	if (!o.off) {
		mirrors_describe(&o.mirror, desc, sizeof(desc));
		snprintf(msg, sizeof(msg), "%s: %s (live; meshctl mirror %s --off clears)",
		    o.service, desc, o.service);
	} else if (mirrors_find(&m->mirrors, o.service) != NULL)
		snprintf(msg, sizeof(msg), "%s: no mirror (live: the file's mirror key is "
		    "suspended until it changes)", o.service);
	else
		snprintf(msg, sizeof(msg), "%s: no mirror", o.service);
	outlog_event("%s (meshctl mirror)", msg);
	if (control_persisted(c, m, mirrors_save(&m->mirrors, m->cfg.mesh.state_dir),
	    MIRRORS_FILE) == -1)
		return;
	control_answer(c, 0, msg);
	return;
refused:
	control_answer(c, 1, why);
}
