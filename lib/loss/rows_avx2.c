/* The AVX2+FMA loss kernels, as instantiated: every element type of the type table gets the row
   driver (row_driver.inc) with the AVX2 row kernels (rows_avx2.inc), and the tile path
   (tile_avx2.inc), over the vector layer of vec_avx2.h; every loop those files specialise runs
   in one of the modes of the variant table. */
#include "rows_avx2.h"

#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "common/simd_math_avx2.h"
#include "row_math.h"
#include "storage.h"
#include "tile_avx2.h"
#include "vec_avx2.h"

#define LN_FLUSH 8 /* float vectors summed per accumulator before the partial sums go to double */

/* ---- the variant table: every specialised loop and the constant modes it is built in ----
   A specialised loop is an always-inlined body that takes its mode by value; called with one of
   these constants, it becomes a loop of its own with no test of the mode inside. A call with a
   mode formed at run time (named "general" below) is the one variant that tests inside. */

/* Row path, pass 2 over the whole vectors of a row without target sums (rows_avx2.inc), each
   mode once keeping e for pass 3 and once not. */
typedef struct ln_row_p2_mode {
  int logitnorm; /* u = k z and tu = sum e d; cross-entropy needs neither */
  int safe;      /* the row's range of u is at most EXP_SAFE: exp without its clamp and flush */
  int keep_e;    /* e is stored for pass 3 */
} ln_row_p2_mode;
static const ln_row_p2_mode LN_ROW_P2_CE = {.logitnorm = 0, .safe = 0};
static const ln_row_p2_mode LN_ROW_P2_CE_SAFE = {.logitnorm = 0, .safe = 1};
static const ln_row_p2_mode LN_ROW_P2_LOGITNORM = {.logitnorm = 1, .safe = 0};
static const ln_row_p2_mode LN_ROW_P2_LOGITNORM_SAFE = {.logitnorm = 1, .safe = 1};

/* The forms of pass 3's formula (ln_grad_ in rows_avx2.inc): with the LogitNorm term, without
   it, and without it as one fused multiply-add. */
typedef enum ln_grad_form { LN_GRAD_CORR, LN_GRAD_PLAIN, LN_GRAD_FUSED } ln_grad_form;

/* Row path, pass 3 over the whole vectors of a row whose sub_c is constant but at the target
   (no targets, no class weights), with the LogitNorm term or without it (as one FMA), each
   without and with masked columns; other rows: general. */
typedef struct ln_row_p3_mode {
  ln_grad_form form;
  int masked; /* the row has counted masked columns: 0 there */
} ln_row_p3_mode;
static const ln_row_p3_mode LN_ROW_P3_CORR = {.form = LN_GRAD_CORR};
static const ln_row_p3_mode LN_ROW_P3_FUSED = {.form = LN_GRAD_FUSED};
static const ln_row_p3_mode LN_ROW_P3_CORR_MASKED = {.form = LN_GRAD_CORR, .masked = 1};
static const ln_row_p3_mode LN_ROW_P3_FUSED_MASKED = {.form = LN_GRAD_FUSED, .masked = 1};

/* Tile path, pass 2 (tile_avx2.inc): hard labels without smoothing, with every lane's exp safe
   or not (a wider range of u, a masked column); other tiles: general. */
typedef struct ln_tile_p2_mode {
  int safe;  /* every lane's range of u at most EXP_SAFE: exp without its clamp and flush */
  int qsums; /* the target sums sq, squ (targets or smoothing) */
  int soft;  /* probability targets */
} ln_tile_p2_mode;
static const ln_tile_p2_mode LN_TILE_P2_PLAIN = {.safe = 1};
static const ln_tile_p2_mode LN_TILE_P2_CLAMPED = {.safe = 0};

/* Tile path, pass 3: hard labels without class weights and beta = 0, for each kind, and for
   LogitNorm tiles with masked columns; other tiles: general. */
typedef struct ln_tile_p3_mode {
  int soft;          /* probability targets */
  int weights;       /* class weights */
  int beta;          /* beta != 0: the old gradient is added */
  ln_grad_form form; /* LN_GRAD_PLAIN for cross-entropy, else LN_GRAD_CORR */
  int masked;        /* a kept row has masked columns (LN_GRAD_CORR only): 0 there */
} ln_tile_p3_mode;
static const ln_tile_p3_mode LN_TILE_P3_CE = {.form = LN_GRAD_PLAIN};
static const ln_tile_p3_mode LN_TILE_P3_LOGITNORM = {.form = LN_GRAD_CORR};
static const ln_tile_p3_mode LN_TILE_P3_LOGITNORM_MASKED = {.form = LN_GRAD_CORR, .masked = 1};

/* ---- the type table: one row per element type ----
   T, the type computed in; ST, the type stored (logits, targets, gradients: see storage.h; the
   half types are computed in float, widened on load and narrowed once on store); the name
   suffix SFX; the vector type V, its intrinsic suffix VS and its LANES; T_MAX, the largest value
   of T; LN_SS_MIN, the smallest sum of squares that cannot hide underflowed squares; EXP_SAFE,
   the largest range of u (max u - min u) for which exp's clamp and underflow flush cannot act
   (their thresholds are ln(FLT_MIN) = -87.34 and ln(DBL_MIN) = -708.40; the margin covers the
   rounding of u - m); TILE_C, the largest C the tile path takes. */
/*                    T       ST        SFX   V        VS  LANES  T_MAX    LN_SS_MIN  EXP_SAFE  TILE_C */
#define LN_TYPE_F32  (float,  float,    f32,  __m256,  ps, 8,     FLT_MAX, 0x1p-60,   80.0,     104)
#define LN_TYPE_F64  (double, double,   f64,  __m256d, pd, 4,     DBL_MAX, 1e-280,    700.0,    48)
#define LN_TYPE_BF16 (float,  uint16_t, bf16, __m256,  ps, 8,     FLT_MAX, 0x1p-60,   80.0,     104)
#define LN_TYPE_F16  (float,  uint16_t, f16,  __m256,  ps, 8,     FLT_MAX, 0x1p-60,   80.0,     104)

/* The fields of the instantiated row, LN_TYPE. */
#define LN_APPLY(m, args) m args
#define LN_F_T(t, st, sfx, v, vs, lanes, tmax, ssmin, expsafe, tilec) t
#define LN_F_ST(t, st, sfx, v, vs, lanes, tmax, ssmin, expsafe, tilec) st
#define LN_F_SFX(t, st, sfx, v, vs, lanes, tmax, ssmin, expsafe, tilec) sfx
#define LN_F_V(t, st, sfx, v, vs, lanes, tmax, ssmin, expsafe, tilec) v
#define LN_F_VS(t, st, sfx, v, vs, lanes, tmax, ssmin, expsafe, tilec) vs
#define LN_F_LANES(t, st, sfx, v, vs, lanes, tmax, ssmin, expsafe, tilec) lanes
#define LN_F_T_MAX(t, st, sfx, v, vs, lanes, tmax, ssmin, expsafe, tilec) tmax
#define LN_F_SS_MIN(t, st, sfx, v, vs, lanes, tmax, ssmin, expsafe, tilec) ssmin
#define LN_F_EXP_SAFE(t, st, sfx, v, vs, lanes, tmax, ssmin, expsafe, tilec) expsafe
#define LN_F_TILE_C(t, st, sfx, v, vs, lanes, tmax, ssmin, expsafe, tilec) tilec
#define T LN_APPLY(LN_F_T, LN_TYPE)
#define ST LN_APPLY(LN_F_ST, LN_TYPE)
#define SFX LN_APPLY(LN_F_SFX, LN_TYPE)
#define V LN_APPLY(LN_F_V, LN_TYPE)
#define VS LN_APPLY(LN_F_VS, LN_TYPE)
#define LANES LN_APPLY(LN_F_LANES, LN_TYPE)
#define T_MAX LN_APPLY(LN_F_T_MAX, LN_TYPE)
#define LN_SS_MIN LN_APPLY(LN_F_SS_MIN, LN_TYPE)
#define EXP_SAFE LN_APPLY(LN_F_EXP_SAFE, LN_TYPE)
#define TILE_C LN_APPLY(LN_F_TILE_C, LN_TYPE)
#define LN_FN(name) LN_CAT(name, SFX) /* name with the type's suffix */

#define LN_EC_STEP LANES /* pass 2 keeps e of whole vectors */

/* ---- the instantiations ---- */
#define LN_TYPE LN_TYPE_F32
#include "row_driver.inc"
#include "rows_avx2.inc"
#include "tile_avx2.inc"
#undef LN_TYPE

#define LN_TYPE LN_TYPE_F64
#include "row_driver.inc"
#include "rows_avx2.inc"
#include "tile_avx2.inc"
#undef LN_TYPE

#define LN_TYPE LN_TYPE_BF16
#include "row_driver.inc"
#include "rows_avx2.inc"
#include "tile_avx2.inc"
#undef LN_TYPE

#define LN_TYPE LN_TYPE_F16
#include "row_driver.inc"
#include "rows_avx2.inc"
#include "tile_avx2.inc"
#undef LN_TYPE
