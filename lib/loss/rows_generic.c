/* Portable row kernels for float and double (see rows_generic.inc for the math). */
#include <math.h>

#include "loss.h"
#include "row_math.h"

/* ||z||_2 over the unmasked entries (-inf ones are left out), without overflow or underflow in
   the sum of squares: the plain double sum when it is safely inside the range (for float input
   it cannot overflow: FLT_MAX^2 * 2^31 < DBL_MAX), else a * sqrt(sum (z/a)^2) with a = max |z|.
   A -inf entry makes the plain sum inf, so masked rows take the careful path. A sum of exactly
   0 does too: double entries below ~1e-162 square to 0 without being 0. */
static inline double ln_row_norm(const void *p, int f64, int64_t n) {
  const float *zf = p;
  const double *zd = p;
  double ss = 0.0, amax = 0.0;
  for (int64_t c = 0; c < n; ++c) {
    double v = f64 ? zd[c] : (double)zf[c];
    ss += v * v;
  }
  if (isfinite(ss) && ss >= 1e-280) return sqrt(ss);
  for (int64_t c = 0; c < n; ++c) {
    double v = f64 ? zd[c] : (double)zf[c];
    if (v != -INFINITY && fabs(v) > amax) amax = fabs(v);
  }
  if (amax == 0.0 || !isfinite(amax)) return amax;
  ss = 0.0;
  for (int64_t c = 0; c < n; ++c) {
    double v = f64 ? zd[c] : (double)zf[c];
    if (v != -INFINITY) ss += (v / amax) * (v / amax);
  }
  return amax * sqrt(ss);
}

double ln_row_norm_f32(const float *z, int64_t n) { return ln_row_norm(z, 0, n); }
double ln_row_norm_f64(const double *z, int64_t n) { return ln_row_norm(z, 1, n); }

/* The type table: one row per element type, T, its name suffix SFX and the matching libm exp. */
/*                   T       SFX  EXP */
#define LN_TYPE_F32 (float,  f32, expf)
#define LN_TYPE_F64 (double, f64, exp)

/* The fields of the instantiated row, LN_TYPE. */
#define LN_APPLY(m, args) m args
#define LN_F_T(t, sfx, ex) t
#define LN_F_SFX(t, sfx, ex) sfx
#define LN_F_EXP(t, sfx, ex) ex
#define T LN_APPLY(LN_F_T, LN_TYPE)
#define SFX LN_APPLY(LN_F_SFX, LN_TYPE)
#define EXP LN_APPLY(LN_F_EXP, LN_TYPE)
#define LN_CAT2(a, b) a##b
#define LN_CAT(a, b) LN_CAT2(a, b)
#define LN_FN(name) LN_CAT(name, SFX) /* name with the type's suffix */

#define LN_EC_STEP 1 /* pass 2 keeps e of any number of columns */

#define LN_TYPE LN_TYPE_F32
#include "row_driver.inc"
#include "rows_generic.inc"
#undef LN_TYPE

#define LN_TYPE LN_TYPE_F64
#include "row_driver.inc"
#include "rows_generic.inc"
#undef LN_TYPE
