/* The per-row scalars of the AVX2 tile path (tile_avx2.inc), in double, four lanes at a time:
   k and corr from the sums of squares, the labels' weights, the loss and pass 3's coefficients,
   and the running product that replaces a log per row. The rules these rely on (which rows
   reach them, the range of s) are stated once at the top of tile_avx2.inc. Included by
   rows_avx2.c only: it needs AVX2+FMA. */
#ifndef LN_LOSS_TILE_AVX2_H
#define LN_LOSS_TILE_AVX2_H

#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "common/simd_math_avx2.h"
#include "loss.h"

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

/* The kept (not ignored) lanes of a tile, as bits. */
static inline int ln_tile_keep_bits(const ln_tile_rows *R) {
  return _mm256_movemask_pd(_mm256_loadu_pd(R->keep)) | _mm256_movemask_pd(_mm256_loadu_pd(R->keep + 4)) << 4;
}

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
  return (ln_tile_ctx){
      .L = L,
      .soft = job->mode == LN_ROWS_TARGETS,
      .gscale = job->gscale,
      .b = L->smoothing / (double)L->num_classes,
      .tmix = 1.0 - L->smoothing,
      .log_prod = job->mode == LN_ROWS_LABELS && L->weights == NULL && job->row_loss == NULL && job->stats_in == NULL,
  };
}

/* The sum of log s over many rows as one product, prod 2^e2 with prod in [1, 2) per lane: two
   multiplications and an exponent move per tile in place of eight logs. Each multiplication
   rounds prod by at most 2^-53 relative, so the sum of the logs is off by at most 2^-53 per
   multiplication (absolute), as a sum of rounded logs would be. It needs every s in [1, C]
   (tile_avx2.inc, invariant 2). */
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

#endif
