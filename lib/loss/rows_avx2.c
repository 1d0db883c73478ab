/* AVX2+FMA row kernels for float and double: rows_avx2.inc over a small vector layer, plus
   the type-independent pieces of the tile path (transposes, per-row scalars in double). */
#include "rows_avx2.h"

#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "common/simd_math_avx2.h"
#include "row_math.h"

#define LN_CAT2(a, b) a##b
#define LN_CAT(a, b) LN_CAT2(a, b)
#define LN_FLUSH 8     /* float vectors summed per accumulator before the partial sums go to double */


static inline double ln_hsum_pd(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

static inline float ln_hmax_ps(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

static inline float ln_hmin_ps(__m256 v) {
  __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_min_ps(m, _mm_movehl_ps(m, m));
  m = _mm_min_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

static inline double ln_hmin_pd(__m256d v) {
  __m128d m = _mm_min_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_min_sd(m, _mm_unpackhi_pd(m, m)));
}

static inline double ln_hmax_pd(__m256d v) {
  __m128d m = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_max_sd(m, _mm_unpackhi_pd(m, m)));
}

/* acc += v^2 and acc += v, in double: float lanes 0-3 go to acc[0], 4-7 to acc[1]. */
static inline void ln_wacc_sq_ps(__m256d *acc, __m256 v) {
  __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
  acc[0] = _mm256_fmadd_pd(lo, lo, acc[0]);
  acc[1] = _mm256_fmadd_pd(hi, hi, acc[1]);
}

static inline void ln_wacc_add_ps(__m256d *acc, __m256 v) {
  acc[0] = _mm256_add_pd(acc[0], _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
  acc[1] = _mm256_add_pd(acc[1], _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

/* The 8 floats (4 doubles) of v into p[0..8) as doubles. */
static inline void ln_store_wide_ps(double *p, __m256 v) {
  _mm256_storeu_pd(p, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
  _mm256_storeu_pd(p + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

/* 8 lane masks of 64 bits (p[0..8)) as 8 masks of 32 bits: the low half of each. */
static inline __m256 ln_load_keep_ps(const double *p) {
  const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
  __m256i lo = _mm256_permutevar8x32_epi32(_mm256_castpd_si256(_mm256_loadu_pd(p)), even);
  __m256i hi = _mm256_permutevar8x32_epi32(_mm256_castpd_si256(_mm256_loadu_pd(p + 4)), even);
  return _mm256_castsi256_ps(_mm256_permute2x128_si256(lo, hi, 0x20));
}

/* r[j] (row j) becomes column j: the 8 x 8 float transpose (unpack, shuffle, swap halves). */
static inline void ln_transpose_ps(__m256 *r) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  /* s0 = column 0 of rows 0-3 | column 4 of rows 0-3, s1 columns 1 | 5, ... */
  __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee);
  __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee);
  __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xee);
  __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xee);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

static inline void ln_transpose_pd(__m256d *r) {
  __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
  __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
  r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
  r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
  r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
  r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

/* The double forms of the float helpers above, so that rows_avx2.inc names each operation
   once, with the type's suffix (see VF below). */
static inline void ln_wacc_sq_pd(__m256d *acc, __m256d v) { acc[0] = _mm256_fmadd_pd(v, v, acc[0]); }
static inline void ln_wacc_add_pd(__m256d *acc, __m256d v) { acc[0] = _mm256_add_pd(acc[0], v); }
static inline void ln_store_wide_pd(double *p, __m256d v) { _mm256_storeu_pd(p, v); }
static inline __m256d ln_load_wide_pd(const double *p) { return _mm256_loadu_pd(p); }
static inline __m256d ln_load_keep_pd(const double *p) { return _mm256_loadu_pd(p); }

/* 8 doubles p[0..8) as 8 floats. */
static inline __m256 ln_load_wide_ps(const double *p) {
  return _mm256_set_m128(_mm256_cvtpd_ps(_mm256_loadu_pd(p + 4)), _mm256_cvtpd_ps(_mm256_loadu_pd(p)));
}

/* The mask of the first n lanes (n <= lanes). */
static inline __m256i ln_tail_ps(int64_t n) { return _mm256_loadu_si256((const __m256i *)(ln_tail32 + 8 - n)); }
static inline __m256i ln_tail_pd(int64_t n) { return _mm256_loadu_si256((const __m256i *)(ln_tail64 + 4 - n)); }

/* a in lane j, 0 elsewhere, built in registers (a vector stored lane by lane and loaded
   whole stalls on store forwarding). */
static inline __m256 ln_onehot_ps(float a, int64_t j) {
  __m256i eq = _mm256_cmpeq_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int32_t)j));
  return _mm256_and_ps(_mm256_set1_ps(a), _mm256_castsi256_ps(eq));
}
static inline __m256d ln_onehot_pd(double a, int64_t j) {
  __m256i eq = _mm256_cmpeq_epi64(_mm256_setr_epi64x(0, 1, 2, 3), _mm256_set1_epi64x(j));
  return _mm256_and_pd(_mm256_set1_pd(a), _mm256_castsi256_pd(eq));
}

/* The lanes' labels (8 int32 or 4 widened to int64); a column index in every lane (cv, from
   zero, stepped by ln_y_next); and the lanes whose label is that column. */
static inline __m256i ln_y_load_ps(const int32_t *y) { return _mm256_loadu_si256((const __m256i *)y); }
static inline __m256i ln_y_load_pd(const int32_t *y) {
  return _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)y));
}
static inline __m256i ln_y_next_ps(__m256i cv) { return _mm256_sub_epi32(cv, _mm256_set1_epi32(-1)); }
static inline __m256i ln_y_next_pd(__m256i cv) { return _mm256_sub_epi64(cv, _mm256_set1_epi64x(-1)); }
static inline __m256 ln_y_eq_ps(__m256i yv, __m256i cv) { return _mm256_castsi256_ps(_mm256_cmpeq_epi32(yv, cv)); }
static inline __m256d ln_y_eq_pd(__m256i yv, __m256i cv) { return _mm256_castsi256_pd(_mm256_cmpeq_epi64(yv, cv)); }

/* z[r ld + y_r] for the lanes r whose label y_r is in [0, C), 0 for the others, by one
   masked gather; (LANES - 1) ld + C must fit an int32 (the caller checks). */
static inline __m256 ln_gather_zy_ps(const float *z, int64_t ld, const int32_t *y, int64_t C) {
  const __m256i yv = _mm256_loadu_si256((const __m256i *)y);
  const __m256i ok = _mm256_and_si256(_mm256_cmpgt_epi32(yv, _mm256_set1_epi32(-1)),
                                      _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)C), yv));
  const __m256i row = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int32_t)ld));
  return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), z, _mm256_add_epi32(yv, row), _mm256_castsi256_ps(ok), 4);
}
static inline __m256d ln_gather_zy_pd(const double *z, int64_t ld, const int32_t *y, int64_t C) {
  const __m128i yv = _mm_loadu_si128((const __m128i *)y);
  const __m128i ok = _mm_and_si128(_mm_cmpgt_epi32(yv, _mm_set1_epi32(-1)), _mm_cmpgt_epi32(_mm_set1_epi32((int32_t)C), yv));
  const __m128i row = _mm_mullo_epi32(_mm_setr_epi32(0, 1, 2, 3), _mm_set1_epi32((int32_t)ld));
  return _mm256_mask_i32gather_pd(_mm256_setzero_pd(), z, _mm_add_epi32(yv, row),
                                  _mm256_castsi256_pd(_mm256_cvtepi32_epi64(ok)), 8);
}

/* The per-row values of a tile (up to 8 rows, one per lane), in double. The tile kernels fill
   the inputs; ln_tile_finish4 computes the outputs, 4 lanes at a time. */
typedef struct ln_tile_rows {
  /* inputs */
  double ss[8];                      /* sum of squares of the row */
  double s[8], tu[8], sq[8], squ[8]; /* s = sum e, tu = sum e (u - m), sq = sum q, squ = sum q (u - m) */
  double uy[8], m[8];                /* u_y (hard labels) and m = max u */
  double k[8], corr[8];              /* k and tau / ||z|| */
  double a[8], rs[8];                /* target weight (1 - smoothing) w_y, and row_scale (1 when unset) */
  double keep[8];                    /* all-ones bits for rows to compute, 0 for ignored rows */
  /* outputs, 0 in ignored rows */
  double loss[8], inv_s[8], tA[8], tk[8], tcorr[8];
  double gucorr[8]; /* g.u corr (unscaled), for saved statistics */
} ln_tile_rows;

/* k = 1/(tau (||z|| + eps)) and corr = tau / ||z|| for lanes [h, h + 4) from their sums of
   squares. Returns the bits of lanes whose sum left the safe range (overflow, or below ss_min,
   where underflowed squares may matter): the caller redoes those with the careful norm. */
static int ln_tile_scale4(const logitnorm_loss *L, ln_tile_rows *R, int h, double ss_min) {
  if (L->kind == LOGITNORM_LOSS_CROSS_ENTROPY) {
    _mm256_storeu_pd(R->k + h, _mm256_set1_pd(1.0));
    _mm256_storeu_pd(R->corr + h, _mm256_setzero_pd());
    return 0;
  }
  __m256d ss = _mm256_loadu_pd(R->ss + h);
  __m256d ok = _mm256_and_pd(_mm256_cmp_pd(ss, _mm256_set1_pd(ss_min), _CMP_GE_OQ),
                             _mm256_cmp_pd(ss, _mm256_set1_pd(DBL_MAX), _CMP_LE_OQ));
  __m256d norm = _mm256_sqrt_pd(ss), tau = _mm256_set1_pd(L->tau);
  __m256d k = _mm256_div_pd(_mm256_set1_pd(1.0), _mm256_mul_pd(tau, _mm256_add_pd(norm, _mm256_set1_pd(L->eps))));
  __m256d corr = _mm256_and_pd(_mm256_div_pd(tau, norm), ok); /* finite where ok: norm >= 1e-140 */
  _mm256_storeu_pd(R->k + h, k);
  _mm256_storeu_pd(R->corr + h, corr);
  return ~_mm256_movemask_pd(ok) & 15;
}

/* Lanes [h, h + 4) of a hard-label tile: keep (the label is not the ignore index) and the
   target weight a = (1 - smoothing) w_y (w_y read only for kept rows). */
static void ln_tile_labels4(const logitnorm_loss *L, const int32_t *y, ln_tile_rows *R, int h) {
  __m128i yv = _mm_loadu_si128((const __m128i *)(y + h));
  __m128i ign = _mm_setzero_si128();
  if (L->ignore_index >= INT32_MIN && L->ignore_index <= INT32_MAX)
    ign = _mm_cmpeq_epi32(yv, _mm_set1_epi32((int32_t)L->ignore_index));
  __m256d keep = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm_xor_si128(ign, _mm_set1_epi32(-1))));
  __m256d a = _mm256_set1_pd(1.0);
  if (L->weights) a = _mm256_i32gather_pd(L->weights, _mm_andnot_si128(ign, yv), 8);
  _mm256_storeu_pd(R->keep + h, keep);
  _mm256_storeu_pd(R->a + h, _mm256_and_pd(_mm256_mul_pd(a, _mm256_set1_pd(1.0 - L->smoothing)), keep));
}

/* What the tile path needs per call, with its divisions done once. */
typedef struct ln_tile_ctx {
  const logitnorm_loss *L;
  int soft;      /* probability targets */
  double gscale; /* the job's gscale */
  double b;      /* smoothing / C */
  double tmix;   /* 1 - smoothing */
  int log_prod;  /* the row losses leave out A log s, which goes into an ln_log_prod instead */
} ln_tile_ctx;

/* log_prod is set for hard labels without class weights when no row losses are asked for: then
   A = a + b W (below) is the same for every kept row, and the sum of the row losses is
   A sum(log s) plus the rest of each row's loss. Every log s is >= 0 (s >= 1: the max term is
   1) and so is the rest (-(u_y - m) >= 0, -squ >= 0), so the two sums do not cancel. */
static ln_tile_ctx ln_tile_ctx_make(const ln_loss_job *job) {
  const logitnorm_loss *L = job->loss;
  ln_tile_ctx x = {L, job->targets != NULL, job->gscale, L->smoothing / (double)L->num_classes, 1.0 - L->smoothing,
                   0};
  x.log_prod = job->labels != NULL && L->weights == NULL && job->row_loss == NULL && job->stats_in == NULL;
  return x;
}

/* The sum of log s over many rows as one product, prod 2^e2 with prod in [1, 2) per lane: two
   multiplications and an exponent move per tile in place of eight logs. Each multiplication
   rounds prod by at most 2^-53 relative, so the sum of the logs is off by at most 2^-53 per
   multiplication (absolute), as a sum of rounded logs would be. Only finite rows reach it (the
   tile path sends a row with a NaN or infinite sum of squares to the row path), so every s is
   in [1, C]. */
typedef struct ln_log_prod {
  __m256d prod;
  __m256i e2;
} ln_log_prod;

static void ln_log_prod_init(ln_log_prod *p) {
  p->prod = _mm256_set1_pd(1.0);
  p->e2 = _mm256_setzero_si256();
}

/* Multiplies in the s of lanes [h, h + 4) of R, 1 for ignored rows. */
static void ln_log_prod_add4(ln_log_prod *p, const ln_tile_rows *R, int h) {
  const __m256d one = _mm256_set1_pd(1.0);
  const __m256d s = _mm256_blendv_pd(one, _mm256_loadu_pd(R->s + h), _mm256_loadu_pd(R->keep + h));
  const __m256i bits = _mm256_castpd_si256(_mm256_mul_pd(p->prod, s)); /* in [1, 2 C) */
  p->e2 = _mm256_add_epi64(p->e2, _mm256_sub_epi64(_mm256_srli_epi64(bits, 52), _mm256_set1_epi64x(1023)));
  p->prod = _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0x000fffffffffffffLL)),
                                                _mm256_castpd_si256(one)));
}

/* sum(log s) of every s multiplied in. */
static double ln_log_prod_sum(const ln_log_prod *p) {
  double lg[4];
  int64_t e2[4];
  _mm256_storeu_pd(lg, ln_log_pd(p->prod));
  _mm256_storeu_si256((__m256i *)e2, p->e2);
  return (lg[0] + lg[1]) + (lg[2] + lg[3]) + (double)((e2[0] + e2[1]) + (e2[2] + e2[3])) * 0.69314718055994530942;
}

/* The loss and pass 3's coefficients of lanes [h, h + 4), by the formulas of the generic
   kernels (rows_generic.inc), with lse - u = log s - (u - m):
     hard: l = a (log s - (u_y - m)) + b (W log s - squ),  A = a + b W,
           g.u = A tu / s - a (u_y - m) - b squ            (b = smoothing / C, W = sum w)
     soft: l = sq log s - squ,  A = sq,  g.u = A tu / s - squ
   (tu / s as tu (1/s)) and inv_s = 1/s, tA = A, tk = k scale, tcorr = g.u corr scale (0 where corr = 0).
   With x->log_prod, l leaves out A log s (the caller multiplies s into its ln_log_prod). */
static void ln_tile_finish4(const ln_tile_ctx *x, ln_tile_rows *R, int h) {
  const __m256d s = _mm256_loadu_pd(R->s + h), squ = _mm256_loadu_pd(R->squ + h);
  const __m256d keep = _mm256_loadu_pd(R->keep + h);
  const __m256d inv_s = _mm256_div_pd(_mm256_set1_pd(1.0), s);
  /* ln_log_pd is defined for positive normal x only: a NaN s (a NaN row) must stay NaN */
  const __m256d log_s =
      x->log_prod ? _mm256_setzero_pd() : _mm256_blendv_pd(ln_log_pd(s), s, _mm256_cmp_pd(s, s, _CMP_UNORD_Q));
  const __m256d tus = _mm256_mul_pd(_mm256_loadu_pd(R->tu + h), inv_s);
  __m256d l, A, gu;
  if (!x->soft) {
    const __m256d a = _mm256_loadu_pd(R->a + h), bv = _mm256_set1_pd(x->b), W = _mm256_set1_pd(x->L->weight_sum);
    const __m256d duy = _mm256_sub_pd(_mm256_loadu_pd(R->uy + h), _mm256_loadu_pd(R->m + h));
    l = _mm256_mul_pd(a, _mm256_sub_pd(log_s, duy));
    if (x->b > 0.0) l = _mm256_add_pd(l, _mm256_mul_pd(bv, _mm256_fmsub_pd(W, log_s, squ)));
    A = _mm256_fmadd_pd(bv, W, a);
    gu = _mm256_fnmadd_pd(bv, squ, _mm256_fnmadd_pd(a, duy, _mm256_mul_pd(A, tus)));
  } else {
    A = _mm256_loadu_pd(R->sq + h);
    l = _mm256_fmsub_pd(A, log_s, squ);
    gu = _mm256_fmsub_pd(A, tus, squ);
  }
  const __m256d scale = _mm256_mul_pd(_mm256_set1_pd(x->gscale), _mm256_loadu_pd(R->rs + h));
  const __m256d corr = _mm256_loadu_pd(R->corr + h);
  /* gu may be infinite where corr is 0 (cross-entropy, zero rows): mask the product there */
  const __m256d has_corr = _mm256_cmp_pd(corr, _mm256_setzero_pd(), _CMP_NEQ_OQ);
  const __m256d tcorr = _mm256_and_pd(_mm256_mul_pd(_mm256_mul_pd(gu, corr), scale), has_corr);
  _mm256_storeu_pd(R->loss + h, _mm256_and_pd(l, keep));
  _mm256_storeu_pd(R->inv_s + h, _mm256_and_pd(inv_s, keep));
  _mm256_storeu_pd(R->tA + h, _mm256_and_pd(A, keep));
  _mm256_storeu_pd(R->tk + h, _mm256_and_pd(_mm256_mul_pd(_mm256_loadu_pd(R->k + h), scale), keep));
  _mm256_storeu_pd(R->tcorr + h, _mm256_and_pd(tcorr, keep));
  _mm256_storeu_pd(R->gucorr + h, _mm256_and_pd(_mm256_and_pd(_mm256_mul_pd(gu, corr), has_corr), keep));
}

/* The vector layer of rows_avx2.inc: every operation is the intrinsic or helper of the type's
   suffix VS (ps or pd), so one table serves both types and an instantiation names only the
   type's constants. */
#define VF(name) LN_CAT(name, VS)
#define V_MASK __m256i
#define V_SET1(x) VF(_mm256_set1_)(x)
#define V_ZERO() VF(_mm256_setzero_)()
#define V_LOADU(p) VF(_mm256_loadu_)(p)
#define V_STOREU(p, v) VF(_mm256_storeu_)(p, v)
#define V_MLOAD(p, m) VF(_mm256_maskload_)(p, m)
#define V_MSTORE(p, m, v) VF(_mm256_maskstore_)(p, m, v)
#define V_ADD(a, b) VF(_mm256_add_)(a, b)
#define V_SUB(a, b) VF(_mm256_sub_)(a, b)
#define V_MUL(a, b) VF(_mm256_mul_)(a, b)
#define V_MAX(a, b) VF(_mm256_max_)(a, b)
#define V_MIN(a, b) VF(_mm256_min_)(a, b)
#define V_AND(a, b) VF(_mm256_and_)(a, b)
#define V_CMPNEQ(a, b) VF(_mm256_cmp_)(a, b, _CMP_NEQ_UQ)
#define V_FMADD(a, b, c) VF(_mm256_fmadd_)(a, b, c)
#define V_FMSUB(a, b, c) VF(_mm256_fmsub_)(a, b, c)
#define V_BLEND(a, b, m) VF(_mm256_blendv_)(a, b, m)
#define V_MASKV(m) VF(_mm256_castsi256_)(m)
#define V_EXPN(x) VF(ln_exp_neg_)(x)
#define V_EXPC(x) VF(ln_exp_core_)(x) /* for arguments in [-EXP_SAFE, 0] or NaN only */
#define V_HMAX(v) VF(ln_hmax_)(v)
#define V_HMIN(v) VF(ln_hmin_)(v)
#define V_TAIL(n) VF(ln_tail_)(n)
#define V_WACC_SQ(acc, v) VF(ln_wacc_sq_)(acc, v)
#define V_WACC_ADD(acc, v) VF(ln_wacc_add_)(acc, v)
#define V_LOAD_W(p) VF(ln_load_wide_)(p)
#define V_STORE_W(p, v) VF(ln_store_wide_)(p, v)
#define V_LOAD_KEEP(p) VF(ln_load_keep_)(p)
#define V_TRANSPOSE(r) VF(ln_transpose_)(r)
#define V_Y_LOAD(y) VF(ln_y_load_)(y)
#define V_Y_EQ(yv, cv) VF(ln_y_eq_)(yv, cv)
#define V_Y_NEXT(cv) VF(ln_y_next_)(cv)
#define V_GATHER_ZY(z, ld, y, C) VF(ln_gather_zy_)(z, ld, y, C)
#define V_ONEHOT(a, j) VF(ln_onehot_)(a, j)
#define V_MASK_ZERO() _mm256_setzero_si256()

/* The instantiations: element type, name suffix, vector type and suffix, lanes, largest value,
   the smallest sum of squares that cannot hide underflowed squares, and the largest row range
   (max u - min u) for which exp's clamp and underflow flush cannot act (their threshold is
   ln(FLT_MIN) = -87.34, ln(DBL_MIN) = -708.40; the margin covers the rounding of u - m), and
   TILE_C, the tile path's largest C (measured: 8 float rows at a time beat the row path up to
   about C = 104, 4 double rows only up to about 48). */
#define T float
#define SFX f32
#define V __m256
#define VS ps
#define LANES 8
#define T_MAX FLT_MAX
#define LN_SS_MIN 0x1p-60
#define EXP_SAFE 80.0
#define TILE_C 104
#include "rows_avx2.inc"
#undef T
#undef SFX
#undef V
#undef VS
#undef LANES
#undef T_MAX
#undef LN_SS_MIN
#undef EXP_SAFE
#undef TILE_C

#define T double
#define SFX f64
#define V __m256d
#define VS pd
#define LANES 4
#define T_MAX DBL_MAX
#define LN_SS_MIN 1e-280
#define EXP_SAFE 700.0
#define TILE_C 48
#include "rows_avx2.inc"
