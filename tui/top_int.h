/* SPDX-License-Identifier: ISC */
/*
 * top_int.h: what the curses side of `meshctl top` shares between
 * top_render.c (main view, header, footer), top_detail.c (detail and
 * help views) and top_form.c (the `f` / `m` form's panel).
 */
#ifndef MESH_TOP_INT_H
#define MESH_TOP_INT_H

#include <curses.h>

#include "mesh/top.h"

/* colour pairs (used only when ui->color) */
enum { CP_GREEN = 1, CP_YELLOW, CP_RED, CP_CYAN };

/* A breaker state as a word: it reads in monochrome too. */
const char *top_brk_word(enum top_brk b);
/* COLOR_PAIR(pair) with colour, A_NORMAL without. */
attr_t top_pair(const struct top_ui *ui, int pair);
attr_t top_brk_attr(const struct top_ui *ui, enum top_brk b);

void top_detail(struct top_ui *ui, const struct top_model *m);
void top_stream(struct top_ui *ui);
void top_help(void);
/* The open form (ui->form) as a panel over what is drawn. */
void top_form_draw(const struct top_ui *ui);

#endif
