/*
 * status: what `meshctl status` shows, as meshd knows it.
 *
 * Text: a header line for the mesh, one row per instance grouped by
 * service and version, then the split weights of each route.
 *
 * JSON (one document; the schema is stable, fields are only ever added;
 * man/meshd.8 documents it):
 *   {"mesh":{"name","config","state_dir","meshd_pid","uptime_s","state","running"},
 *    "services":[{"name","version","protocol",
 *      "instances":[{"index","name","id","state","app_pid","proxy_pid",
 *        "app_port","inbound_port","outbound_port",
 *        "listeners":[{"port","upstream"}],
 *        "restarts","uptime_s","last_exit","endpoint",
 *        "stats":{"pid","connections_total",...} or null}]}],
 *    "routes":[{"name","split":[{"version","weight"}]}]}
 * A pid or port that does not exist is null, never 0.  "stats" is the
 * sidecar's stats file (include/mesh/stats.h), a dotted counter name
 * ("refused.not_allowed") a member of a group object; the text table
 * shows REQ IN/OUT, 5XX and REFUSED columns from it.
 */
#ifndef MESH_STATUS_H
#define MESH_STATUS_H

#include <stddef.h>

#include "mesh/meshd.h"

/* Each returns a malloc'd NUL-terminated text in *out (*len bytes); 0 / -1. */
int status_text(const struct meshd *m, char **out, size_t *len);
int status_json(const struct meshd *m, char **out, size_t *len);

/* Write s as a JSON string (quotes included). */
#include <stdio.h>
void status_json_str(FILE *f, const char *s);

#endif
