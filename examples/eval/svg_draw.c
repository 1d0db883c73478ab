/* Drawing primitives of logitnorm-eval's SVG files (see svg_draw.h). */
#include "eval/svg_draw.h"

#include <math.h>
#include <string.h>

const char *const eval_svg_id_colour = "#1b9e77";
static const char *const ood_colours[] = {"#d95f02", "#7570b3", "#e7298a", "#66a61e",
                                          "#e6ab02", "#a6761d", "#666666", "#1f78b4"};
#define NUM_OOD_COLOURS (int)(sizeof ood_colours / sizeof *ood_colours)

const char *eval_svg_ood_colour(int k) { return ood_colours[k % NUM_OOD_COLOURS]; }

/* Text with XML's special characters escaped. */
void eval_svg_escaped(FILE *f, const char *s) {
  for (; *s; ++s) {
    switch (*s) {
      case '<': fputs("&lt;", f); break;
      case '>': fputs("&gt;", f); break;
      case '&': fputs("&amp;", f); break;
      case '\'': fputs("&apos;", f); break;
      case '"': fputs("&quot;", f); break;
      default: fputc(*s, f);
    }
  }
}

/* <text> at (x, y) with a class ("" for the default), an anchor ("" for start), a rotation in
   degrees about (x, y), and printf arguments. */
static void text_rot(FILE *f, double x, double y, double rotate, const char *cls, const char *anchor, const char *fmt,
                     va_list ap) {
  char buf[512];
  vsnprintf(buf, sizeof buf, fmt, ap);
  fprintf(f, "<text x='%.1f' y='%.1f'", x, y);
  if (cls[0]) fprintf(f, " class='%s'", cls);
  if (anchor[0]) fprintf(f, " text-anchor='%s'", anchor);
  if (rotate != 0.0) fprintf(f, " transform='rotate(%g %.1f %.1f)'", rotate, x, y);
  fputc('>', f);
  eval_svg_escaped(f, buf);
  fputs("</text>\n", f);
}

void eval_svg_text(FILE *f, double x, double y, const char *cls, const char *anchor, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  text_rot(f, x, y, 0.0, cls, anchor, fmt, ap);
  va_end(ap);
}

/* A y-axis title, written upward, centred on the box's left side. */
void eval_svg_y_title(FILE *f, double x, double y, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  text_rot(f, x, y, -90.0, "small", "middle", fmt, ap);
  va_end(ap);
}

void eval_svg_box(FILE *f, double x0, double y0, double w, double h) {
  fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#444'/>\n", x0, y0, w, h);
}

void eval_svg_legend(FILE *f, double x, double y, const char *colour, const char *label) {
  fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='2'/>\n", x, y - 4, x + 16,
          y - 4, colour);
  eval_svg_text(f, x + 20, y, "small", "", "%s", label);
}

/* A round step for about `ticks` intervals over [0, hi]. */
double eval_svg_nice_step(double hi, int ticks) {
  double raw = hi / ticks, p = pow(10.0, floor(log10(raw))), m = raw / p;
  return (m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 2.5 ? 2.5 : m <= 5.0 ? 5.0 : 10.0) * p;
}

/* Ticks lo, lo + step, ... up to hi on the left side of a box, labels printed with fmt after
   multiplying by scale. */
void eval_svg_y_ticks(FILE *f, double x0, double y0, double h, double lo, double hi, double step, const char *fmt, double scale) {
  for (int i = 0;; ++i) {
    double v = lo + i * step;
    if (v > hi * (1 + 1e-9) + 1e-300) break;
    double y = y0 + h - (v - lo) / (hi - lo) * h;
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#444'/>\n", x0 - 4, y, x0, y);
    char buf[32];
    snprintf(buf, sizeof buf, fmt, v * scale);
    eval_svg_text(f, x0 - 6, y + 3.5, "small", "end", "%s", buf);
  }
}


void eval_svg_begin(FILE *f, double width, double height) {
  fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' viewBox='0 0 %.0f %.0f'>\n", width,
          height, width, height);
  fprintf(f, "<style>text{font-family:sans-serif;font-size:13px} .small{font-size:10px} "
             ".title{font-size:17px;font-weight:bold} .section{font-size:15px;font-weight:bold} "
             ".bold{font-weight:bold}</style>\n");
  fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
}

void eval_svg_unit_x_axis(FILE *f, double x0, double y0, double w, double h, const char *title) {
  for (int i = 0; i <= 4; ++i) {
    double x = x0 + w * i / 4.0;
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#444'/>\n", x, y0 + h, x, y0 + h + 4);
    eval_svg_text(f, x, y0 + h + 14, "small", i == 0 ? "start" : i == 4 ? "end" : "middle", "%g%%", 25.0 * i);
  }
  eval_svg_text(f, x0 + w / 2.0, y0 + h + 14 + EVAL_SVG_LINE, "small", "middle", "%s", title);
}
