/* SPDX-License-Identifier: ISC */
/*
 * container_of: from a pointer to a member back to the struct holding it.
 * The libev idiom (ev.pod, "associating custom data with a watcher"): a
 * watcher is embedded in its connection, and its callback gets the
 * connection back from the watcher it was handed, with no lookup.
 */
#ifndef MESH_CONTAINER_OF_H
#define MESH_CONTAINER_OF_H

#include <stddef.h>

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
