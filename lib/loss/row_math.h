/* The per-row scalars shared by the generic and the AVX2 row kernels: the LogitNorm scale,
   the mask-dependent smoothing mass, the row's loss and pass 3's coefficients from the sums of
   pass 2, and the saved row statistics. All in double; see rows_generic.inc for the notation. */
#ifndef LN_LOSS_ROW_MATH_H
#define LN_LOSS_ROW_MATH_H

#include <math.h>
#include <stdint.h>

#include "loss.h"

typedef struct ln_row_head {
  double k, corr;      /* u = k z; corr = tau / ||z|| (0 for cross-entropy and zero rows) */
  double m;            /* max u, as the element type holds it */
  int64_t masked;      /* number of -inf columns */
  double b;            /* smoothing mass per unmasked class: smoothing / C' */
  double t_mix, t_uni; /* targets: t~ = t t_mix + t_uni, t_uni = b */
  double As, gu;       /* A / s and g.u (set by ln_row_finish or from saved statistics) */
  double a;            /* the target weight (1 - smoothing) w_y of a hard label, else 0 (set by the driver) */
} ln_row_head;

/* Pass 3's coefficients: grad_c = tk (As e_c - sub_c) - tcorr u_c, sub_c = b w_c + [c = y] a
   (hard labels) or w_c t~_c (targets). */
typedef struct ln_row_coef {
  double tk, tcorr, As, a, b;
} ln_row_coef;

/* k = 1/(tau (||z|| + eps)) and corr = tau / ||z||. corr overflows only for double rows far
   below eps, where the correction term (of relative size ||z|| / eps) is negligible: it is
   dropped there rather than multiplied by inf. */
static inline void ln_scale_from_norm(const logitnorm_loss *L, double norm, double *k, double *corr) {
  *k = 1.0 / (L->tau * (norm + L->eps));
  double c = norm > 0.0 ? L->tau / norm : 0.0;
  *corr = isfinite(c) ? c : 0.0;
}

/* The smoothing mass of a row with h->masked masked columns (validation guarantees C' >= 1
   on rows that are computed). */
static inline void ln_row_mix(const logitnorm_loss *L, ln_row_head *h) {
  h->t_mix = 1.0 - L->smoothing;
  h->b = h->t_uni = 0.0;
  if (L->smoothing > 0.0) {
    int64_t unmasked = L->num_classes - h->masked;
    h->b = h->t_uni = L->smoothing / (double)(unmasked > 0 ? unmasked : 1);
  }
}

/* The target weight a = (1 - smoothing) w_y of a hard label. */
static inline double ln_row_target_weight(const logitnorm_loss *L, int64_t y) {
  return (1.0 - L->smoothing) * (L->weights ? L->weights[y] : 1.0);
}

/* squ of a row whose q sums were formed by ln_row_qsums_careful is held as squ 2^-LN_SQU_SHIFT
   (sums[4] = LN_SQU_SHIFT, else 0): with cross-entropy logits near the top of the range the sum
   of q (u - m) overflows a double while b squ, and so the loss, does not. */
#define LN_SQU_SHIFT 600

/* The row's loss from the pass-2 sums {s, tu, sq, squ, shift}, written with u - m so huge logits do
   not cancel (at u ~ 1e30, m + log s - u_y would round to 0 instead of log s):
     hard labels: l = a (log s - duy) + b (W' log s - squ),  A = a + b W',
                  g.u = A tu / s - a duy - b squ            (duy = u_y - m, a = h->a)
     targets:     l = sq log s - squ,  A = sq,  g.u = A tu / s - squ
   using sum_c g_c = 0, so g.u = g.(u - m). W' is the handle's weight sum on rows without
   masks and sq (the sum of the unmasked weights) on masked rows. Sets h->As and h->gu. */
static inline double ln_row_finish(const logitnorm_loss *L, ln_row_head *h, const double sums[5], ln_rows_mode mode,
                                   double duy) {
  /* one division per row (1/s), on the way to pass 3 */
  const double s = sums[0], inv_s = 1.0 / s, tus = sums[1] * inv_s, log_s = log(s);
  const double up = sums[4] != 0.0 ? ldexp(1.0, (int)sums[4]) : 1.0;
  double l, A;
  if (mode == LN_ROWS_LABELS) {
    const double a = h->a, b = h->b;
    const double W = h->masked ? sums[2] : L->weight_sum;
    const double bsqu = b > 0.0 ? (b * up) * sums[3] : 0.0;
    l = a * (log_s - duy) + (b > 0.0 ? b * W * log_s - bsqu : 0.0);
    A = a + b * W;
    h->gu = A * tus - a * duy - bsqu;
  } else {
    A = sums[2];
    l = A * log_s - up * sums[3];
    h->gu = A * tus - up * sums[3];
  }
  h->As = A * inv_s;
  return l;
}

static inline void ln_row_coefs(const ln_row_head *h, double scale, ln_row_coef *cf) {
  cf->tk = h->k * scale;
  /* corr is 0 for cross-entropy and zero rows: skip the product, g.u may be infinite there */
  cf->tcorr = h->corr != 0.0 ? h->gu * h->corr * scale : 0.0;
  cf->As = h->As;
  cf->a = h->a;
  cf->b = h->b;
}

/* Coefficients that make pass 3 write p_c = e_c / s: the probabilities of the row. */
static inline void ln_row_probs_coefs(double s, ln_row_coef *cf) {
  *cf = (ln_row_coef){.tk = 1.0, .tcorr = 0.0, .As = 1.0 / s, .a = 0.0, .b = 0.0};
}

/* Saved statistics of a row: {k, m, A / s, g.u corr}, with the sign bit of k set when the
   row has masked columns (their number is then counted again by the backward). */
static inline void ln_row_stats_store(const ln_row_head *h, double *st) {
  st[0] = h->masked ? -h->k : h->k;
  st[1] = h->m;
  st[2] = h->As;
  st[3] = h->corr != 0.0 ? h->gu * h->corr : 0.0;
}

/* The head of a row from its saved statistics; h->masked is 1 when the row had masked columns
   (the caller counts them and calls ln_row_mix again), and h->a is left for the caller. k, corr
   and gu are packed so that ln_row_coefs gives tcorr = st[3] scale. */
static inline void ln_row_stats_load(const logitnorm_loss *L, const double *st, ln_row_head *h) {
  h->k = fabs(st[0]);
  h->masked = signbit(st[0]) ? 1 : 0;
  h->m = st[1];
  h->As = st[2];
  h->gu = st[3];
  h->corr = st[3] != 0.0 ? 1.0 : 0.0;
  h->a = 0.0;
  ln_row_mix(L, h);
}

#endif
