/* Drawing primitives of the mlp_ood SVGs: text, plot frames, axes with ticks and labels,
   legend entries, histogram outlines.

   Layout rule kept by every primitive: text sits outside the plot frames (titles above, x tick
   numbers and the x label below, y tick numbers and the rotated y label on the left), so no label
   covers a curve. Y_AXIS_ROOM is the room a y axis takes on the left of its frame. */
#ifndef EXAMPLES_MLP_OOD_SVG_H
#define EXAMPLES_MLP_OOD_SVG_H

#include <stdio.h>

#define LINE 13         /* height of one small text line */
#define X_AXIS_ROOM 26  /* below a frame: the tick numbers and the x label */
#define Y_AXIS_ROOM 48  /* left of a frame: the tick numbers and the rotated y label */

/* A plot frame: top-left corner (x, y), width w and height h, in SVG units (y grows down). */
typedef struct frame {
  double x, y, w, h;
} frame;

/* One axis: the range [lo, hi], the tick step, the printf format of a tick number and the
   factor applied before printing (100 for rates printed in %). */
typedef struct scale {
  double lo, hi, step;
  const char *fmt;
  double mult;
} scale;

/* A round step (1, 2 or 5 times a power of ten) giving about `ticks` intervals over `span`. */
double nice_step(double span, int ticks);
/* The axis [0, top rounded up to a multiple of its step], about `ticks` intervals. */
scale scale_from_zero(double top, int ticks, const char *fmt, double mult);

/* The SVG coordinate of value v on the frame's horizontal or vertical axis. */
double frame_x(const frame *fr, const scale *s, double v);
double frame_y(const frame *fr, const scale *s, double v);

/* <text> at (x, y) with a class ("" for none), an anchor ("" for start) and printf arguments. */
void svg_text(FILE *f, double x, double y, const char *cls, const char *anchor, const char *fmt, ...);
void svg_box(FILE *f, const frame *fr);
void svg_line(FILE *f, double x1, double y1, double x2, double y2, const char *style);

/* Ticks and numbers below the frame at both ends of the scale and at the multiples of its step
   between them, and the label centred under the numbers. */
void svg_x_axis(FILE *f, const frame *fr, const scale *s, const char *label);
/* Ticks and numbers left of the frame (same tick rule), and the label rotated, reading upwards,
   centred on the frame's height. A NULL label draws ticks only. */
void svg_y_axis(FILE *f, const frame *fr, const scale *s, const char *label);

/* A short coloured line and a label of class cls: one legend entry, its text baseline at y. */
void svg_legend_entry(FILE *f, double x, double y, const char *colour, const char *cls, const char *label);

/* A histogram as a step outline in the frame: bins[b] over [b, b+1) of nbins equal bins across
   the width, heights on the scale ys; filled with the colour at low opacity if `filled`. */
void svg_hist_outline(FILE *f, const frame *fr, const double *bins, int nbins, const scale *ys, const char *colour,
                      int filled);

#endif
