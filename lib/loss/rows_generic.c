/* Portable row kernels for float and double (see rows_generic.inc for the math). */
#include <math.h>

#include "loss.h"
#include "row_math.h"
#include "storage.h"

/* ||z||_2 over the unmasked entries (-inf ones are left out), without overflow or underflow in
   the sum of squares: the plain double sum when it is safely inside the range (for float input
   it cannot overflow: FLT_MAX^2 * 2^31 < DBL_MAX), else a * sqrt(sum (z/a)^2) with a = max |z|.
   A -inf entry makes the plain sum inf, so masked rows take the careful path. A sum of exactly
   0 does too: double entries below ~1e-162 square to 0 without being 0. One function per
   storage type (ST, with its widening GET), so that a half row gives the bits of its widened
   float row. */
#define LN_ROW_NORM_DEF(SFX_, S_, GET)                                 \
  double ln_row_norm_##SFX_(const S_ *z, int64_t n) {                   \
    double ss = 0.0, amax = 0.0;                                        \
    for (int64_t c = 0; c < n; ++c) {                                   \
      double v = (double)GET(z[c]);                                     \
      ss += v * v;                                                      \
    }                                                                   \
    if (isfinite(ss) && ss >= 1e-280) return sqrt(ss);                  \
    for (int64_t c = 0; c < n; ++c) {                                   \
      double v = (double)GET(z[c]);                                     \
      if (v != -INFINITY && fabs(v) > amax) amax = fabs(v);             \
    }                                                                   \
    if (amax == 0.0 || !isfinite(amax)) return amax;                    \
    ss = 0.0;                                                           \
    for (int64_t c = 0; c < n; ++c) {                                   \
      double v = (double)GET(z[c]);                                     \
      if (v != -INFINITY) ss += (v / amax) * (v / amax);                \
    }                                                                   \
    return amax * sqrt(ss);                                             \
  }

LN_ROW_NORM_DEF(f32, float, ln_sget_f32)
LN_ROW_NORM_DEF(f64, double, ln_sget_f64)
LN_ROW_NORM_DEF(bf16, uint16_t, ln_sget_bf16)
LN_ROW_NORM_DEF(f16, uint16_t, ln_sget_f16)

/* The type table: one row per element type: T, the type computed in, ST, the type stored (see
   storage.h), the name suffix SFX and the libm exp of T. */
/*                    T       ST         SFX   EXP */
#define LN_TYPE_F32  (float,  float,    f32,  expf)
#define LN_TYPE_F64  (double, double,   f64,  exp)
#define LN_TYPE_BF16 (float,  uint16_t, bf16, expf)
#define LN_TYPE_F16  (float,  uint16_t, f16,  expf)

/* The fields of the instantiated row, LN_TYPE. */
#define LN_APPLY(m, args) m args
#define LN_F_T(t, s, sfx, ex) t
#define LN_F_ST(t, s, sfx, ex) s
#define LN_F_SFX(t, s, sfx, ex) sfx
#define LN_F_EXP(t, s, sfx, ex) ex
#define T LN_APPLY(LN_F_T, LN_TYPE)
#define ST LN_APPLY(LN_F_ST, LN_TYPE)
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

#define LN_TYPE LN_TYPE_BF16
#include "row_driver.inc"
#include "rows_generic.inc"
#undef LN_TYPE

#define LN_TYPE LN_TYPE_F16
#include "row_driver.inc"
#include "rows_generic.inc"
#undef LN_TYPE
