/* SPDX-License-Identifier: ISC */
/*
 * hex: one hexadecimal digit, either case, as its value.
 */
#ifndef MESH_HEX_H
#define MESH_HEX_H

/* 0..15, or -1 when c is not [0-9a-fA-F]. */
int hex_digit(char c);

#endif
