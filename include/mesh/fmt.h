/* SPDX-License-Identifier: ISC */
/*
 * fmt: short human forms shared by `meshctl status` and `meshctl top`.
 */
#ifndef MESH_FMT_H
#define MESH_FMT_H

#include <stddef.h>

/* Seconds as "45s", "3m07s", "2h05m", "3d04h"; "-" when negative. */
void fmt_duration(char *buf, size_t size, long s);

#endif
