/* Drawing primitives of logitnorm-eval's SVG files: escaped text, boxes, ticks and legend
   entries, in one style (every text outside the plot boxes, the same colours and classes). */
#ifndef EVAL_SVG_DRAW_H
#define EVAL_SVG_DRAW_H

#include <stdarg.h>
#include <stdio.h>

#define EVAL_SVG_LINE 13 /* height of a line of small text */

extern const char *const eval_svg_id_colour; /* the ID set; the reference curve of a figure */
const char *eval_svg_ood_colour(int k);      /* the k-th OOD set; the k-th curve of a figure */

/* The <svg> element, its style (classes small, title, section, bold) and a white background. */
void eval_svg_begin(FILE *f, double width, double height);
/* Text with XML's special characters escaped. */
void eval_svg_escaped(FILE *f, const char *s);
/* <text> at (x, y) with a class ("" for the default), an anchor ("" for start) and printf
   arguments, escaped. */
void eval_svg_text(FILE *f, double x, double y, const char *cls, const char *anchor, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;
/* A y-axis title, written upward, centred at (x, y). */
void eval_svg_y_title(FILE *f, double x, double y, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
void eval_svg_box(FILE *f, double x0, double y0, double w, double h);
/* A short coloured line and its label: one legend entry, the text's baseline at y. */
void eval_svg_legend(FILE *f, double x, double y, const char *colour, const char *label);
/* A round step (1, 2, 2.5 or 5 times a power of ten) for about `ticks` intervals over [0, hi]. */
double eval_svg_nice_step(double hi, int ticks);
/* Ticks lo, lo + step, ... up to hi on the left side of the box at (x0, y0) of height h, the
   labels printed with fmt after multiplying by scale. */
void eval_svg_y_ticks(FILE *f, double x0, double y0, double h, double lo, double hi, double step, const char *fmt,
                      double scale);
/* Ticks 0, 1/4, ..., 1 under a unit x axis of width w whose box starts at (x0, y0) with height h,
   labelled in %, and the axis title centred below them. */
void eval_svg_unit_x_axis(FILE *f, double x0, double y0, double w, double h, const char *title);

#endif
