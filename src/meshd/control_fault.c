/* SPDX-License-Identifier: ISC */
/*
 * control_fault: the commands `fault LINE` and `fault-off-all` (contract
 * in include/mesh/control.h; the override rules in faults.h): validated
 * against the config meshd runs, applied to m->cfg's route, pushed to the
 * callers' sidecars at once, saved in <state_dir>/faults.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mesh/control.h"
#include "mesh/faults.h"
#include "mesh/ipc.h"
#include "mesh/log.h"
#include "mesh/meshd_ctx.h"
#include "mesh/mreg.h"
#include "mesh/outlog.h"
#include "control_int.h"

int
control_persisted(struct conn *c, const struct meshd *m, int rc, const char *name)
{
	char why[512];

	if (rc == 0)
		return 0;
	snprintf(why, sizeof(why), "applied, but not persisted: %s/%s: %s",
	    m->cfg.mesh.state_dir, name, strerror(errno));
	log_warnx("%s", why);
	control_answer(c, 1, why);
	return -1;
}

void
control_fault(struct conn *c, const char *args)
{
	struct meshd *m = c->ctl->m;
	char why[512], desc[400], msg[600];
	struct fault_ovr o;

	if (faults_parse(&m->cfg, args, &o, why, sizeof(why)) == -1) {
		control_answer(c, 1, why);
		return;
	}
	if (faults_set(&m->faults, &m->cfg, &o) == -1) {
		snprintf(why, sizeof(why), "fault: %s: %s", o.service,
		    errno == ENOSPC ? "too many overrides" : "out of memory");
		control_answer(c, 1, why);
		return;
	}
	control_push_callers(m, o.service);
	mreg_ovr_publish(m, MREG_OVR_FAULT, o.service, args);
	if (!o.off) {
		faults_describe(&o.fault, desc, sizeof(desc));
		snprintf(msg, sizeof(msg), "%s: %s (live; meshctl fault %s --off clears)",
		    o.service, desc, o.service);
	} else if (faults_find(&m->faults, o.service) != NULL)
		snprintf(msg, sizeof(msg), "%s: no fault (live: the file's fault.* keys are "
		    "suspended until they change)", o.service);
	else
		snprintf(msg, sizeof(msg), "%s: no fault", o.service);
	outlog_event("%s (meshctl fault)", msg);
	if (control_persisted(c, m, faults_save(&m->faults, m->cfg.mesh.state_dir),
	    FAULTS_FILE) == -1)
		return;
	control_answer(c, 0, msg);
}

void
control_fault_off_all(struct conn *c)
{
	struct meshd *m = c->ctl->m;
	char names[1024] = "", msg[1200];
	int n;

	if ((n = faults_off_all(&m->faults, &m->cfg, names, sizeof(names))) == -1) {
		control_answer(c, 1, "fault --off-all: out of memory");
		return;
	}
	if (n > 0) {
		control_push_all(m);
		mreg_ovr_publish_off(m, MREG_OVR_FAULT, names);
	}
	if (n == 0)
		snprintf(msg, sizeof(msg), "no fault was in force");
	else
		snprintf(msg, sizeof(msg), "faults off: %s", names);
	outlog_event("%s (meshctl fault --off-all)", msg);
	if (control_persisted(c, m, faults_save(&m->faults, m->cfg.mesh.state_dir),
	    FAULTS_FILE) == -1)
		return;
	control_answer(c, 0, msg);
}
