/* Portable row kernels for float and double (see rows_generic.inc for the math). */
#include <math.h>

#include "loss.h"

/* ||z||_2 = a * sqrt(sum (z/a)^2) with a = max |z| when the plain double sum of squares
   would overflow or lose the row to underflow; otherwise the plain sum (exact enough, and
   for float input it cannot overflow: FLT_MAX^2 * 2^31 < DBL_MAX). A sum of exactly 0 also
   takes the careful path: double entries below ~1e-162 square to 0 without being 0. */
#define LN_ROW_NORM()                                             \
  double ss = 0.0, amax = 0.0;                                    \
  for (int64_t c = 0; c < n; ++c) {                               \
    double v = (double)z[c];                                      \
    ss += v * v;                                                  \
  }                                                               \
  if (isfinite(ss) && ss >= 1e-280) return sqrt(ss);               \
  for (int64_t c = 0; c < n; ++c) {                               \
    double v = fabs((double)z[c]);                                \
    if (v > amax) amax = v;                                       \
  }                                                               \
  if (amax == 0.0 || !isfinite(amax)) return amax;                \
  ss = 0.0;                                                       \
  for (int64_t c = 0; c < n; ++c) {                               \
    double v = (double)z[c] / amax;                               \
    ss += v * v;                                                  \
  }                                                               \
  return amax * sqrt(ss);

double ln_row_norm_f32(const float *z, int64_t n) { LN_ROW_NORM() }
double ln_row_norm_f64(const double *z, int64_t n) { LN_ROW_NORM() }

#define T float
#define SFX f32
#define EXP expf
#include "rows_generic.inc"
#undef T
#undef SFX
#undef EXP

#define T double
#define SFX f64
#define EXP exp
#include "rows_generic.inc"
#undef T
#undef SFX
#undef EXP
