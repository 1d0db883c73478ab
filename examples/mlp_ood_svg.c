/* Drawing primitives of the mlp_ood SVGs (see mlp_ood_svg.h for the layout rule). */
#include "mlp_ood_svg.h"

#include <math.h>
#include <stdarg.h>

#define MAX_TICKS 32

double nice_step(double span, int ticks) {
  if (!(span > 0)) return 1.0;
  double raw = span / ticks, p = pow(10.0, floor(log10(raw))), m = raw / p;
  return (m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 5.0 ? 5.0 : 10.0) * p;
}

scale scale_from_zero(double top, int ticks, const char *fmt, double mult) {
  if (!(top > 0)) top = 1.0;
  double step = nice_step(top, ticks);
  return (scale){.lo = 0.0, .hi = step * ceil(top / step - 1e-9), .step = step, .fmt = fmt, .mult = mult};
}

double frame_x(const frame *fr, const scale *s, double v) { return fr->x + (v - s->lo) / (s->hi - s->lo) * fr->w; }

double frame_y(const frame *fr, const scale *s, double v) {
  return fr->y + fr->h - (v - s->lo) / (s->hi - s->lo) * fr->h;
}

/* The tick values of a scale: lo, the multiples of step at least 3/4 of a step inside both ends,
   and hi. The 3/4 keep an end's number clear of its neighbour's. Returns the count. */
static int tick_values(const scale *s, double *out) {
  int n = 0;
  out[n++] = s->lo;
  if (s->step > 0 && (s->hi - s->lo) / s->step < MAX_TICKS - 2)
    for (double k = ceil((s->lo + 0.75 * s->step) / s->step - 1e-9); k * s->step <= s->hi - 0.75 * s->step + 1e-9;
         k += 1.0)
      out[n++] = k * s->step;
  if (s->hi > s->lo) out[n++] = s->hi;
  return n;
}

void svg_text(FILE *f, double x, double y, const char *cls, const char *anchor, const char *fmt, ...) {
  fprintf(f, "<text x='%.1f' y='%.1f'", x, y);
  if (cls[0]) fprintf(f, " class='%s'", cls);
  if (anchor[0]) fprintf(f, " text-anchor='%s'", anchor);
  fprintf(f, ">");
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fprintf(f, "</text>\n");
}

void svg_box(FILE *f, const frame *fr) {
  fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#444'/>\n", fr->x, fr->y, fr->w,
          fr->h);
}

void svg_line(FILE *f, double x1, double y1, double x2, double y2, const char *style) {
  fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' %s/>\n", x1, y1, x2, y2, style);
}

/* A tick number: the value times the scale's factor, in its format. -0 prints as 0. */
static void tick_label(char *buf, size_t len, const scale *s, double v) {
  double shown = v * s->mult;
  snprintf(buf, len, s->fmt, fabs(shown) < 1e-12 ? 0.0 : shown);
}

void svg_x_axis(FILE *f, const frame *fr, const scale *s, const char *label) {
  double ticks[MAX_TICKS], bottom = fr->y + fr->h;
  int n = tick_values(s, ticks);
  for (int i = 0; i < n; i++) {
    double x = frame_x(fr, s, ticks[i]);
    char buf[32];
    tick_label(buf, sizeof buf, s, ticks[i]);
    svg_line(f, x, bottom, x, bottom + 4, "stroke='#444'");
    svg_text(f, x, bottom + 13, "small xtick", "middle", "%s", buf);
  }
  if (label) svg_text(f, fr->x + fr->w / 2.0, bottom + 13 + LINE, "small axis-label", "middle", "%s", label);
}

void svg_y_axis(FILE *f, const frame *fr, const scale *s, const char *label) {
  double ticks[MAX_TICKS];
  int n = tick_values(s, ticks);
  for (int i = 0; i < n; i++) {
    double y = frame_y(fr, s, ticks[i]);
    char buf[32];
    tick_label(buf, sizeof buf, s, ticks[i]);
    svg_line(f, fr->x - 4, y, fr->x, y, "stroke='#444'");
    svg_text(f, fr->x - 6, y + 3.5, "small ytick", "end", "%s", buf);
  }
  if (!label) return;
  /* rotated by -90 degrees about its anchor: it reads upwards, its glyphs to the left of x */
  double x = fr->x - Y_AXIS_ROOM + 10, y = fr->y + fr->h / 2.0;
  fprintf(f, "<text x='%.1f' y='%.1f' class='small axis-label' text-anchor='middle'", x, y);
  fprintf(f, " transform='rotate(-90 %.1f %.1f)'>%s</text>\n", x, y, label);
}

void svg_legend_entry(FILE *f, double x, double y, const char *colour, const char *cls, const char *label) {
  fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='2'/>\n", x, y - 4, x + 16, y - 4,
          colour);
  svg_text(f, x + 20, y, cls, "", "%s", label);
}

void svg_hist_outline(FILE *f, const frame *fr, const double *bins, int nbins, const scale *ys, const char *colour,
                      int filled) {
  double w = fr->w / nbins, bottom = fr->y + fr->h;
  fprintf(f, "<polyline fill='%s' fill-opacity='0.25' stroke='%s' stroke-width='1.3' points='%.1f,%.1f ",
          filled ? colour : "none", colour, fr->x, bottom);
  for (int b = 0; b < nbins; b++) {
    double y = frame_y(fr, ys, fmin(bins[b], ys->hi));
    fprintf(f, "%.1f,%.1f %.1f,%.1f ", fr->x + b * w, y, fr->x + (b + 1) * w, y);
  }
  fprintf(f, "%.1f,%.1f'/>\n", fr->x + fr->w, bottom);
}
