/* fDBD, feature distance to decision boundaries (Liu & Qin, "Fast Decision Boundary based
   Out-of-Distribution Detector", ICML 2024), as OpenOOD v1.5's fdbd postprocessor computes it
   with its default distance_as_normalizer = True. With z = W h + b and a = argmax z (the first
   index of a tie), the distance from h to the boundary between classes a and j is
   (z_a - z_j) / ||w_a - w_j||, and
     score(h) = (1 / (C - 1)) sum_{j != a} |z_a - z_j| / ||w_a - w_j||  /  ||h - mu||
   with mu the mean fit feature. OpenOOD sums instead of averaging: a factor C - 1, the same
   for every row, which leaves every ranking and metric unchanged.
   The C x C distances ||w_i - w_j|| come from the head when it is set (ln_fdbd_pairs): from
   the Gram matrix W W^T in double, by BLIS in blocks of rows, except where cancellation would
   cost more than half of the double digits (||w_i - w_j||^2 < 1e-8 (||w_i||^2 + ||w_j||^2)),
   where the difference is summed directly. Two equal rows have no boundary between them: such
   a head is rejected. */
#include <math.h>

#include "common/alloc.h"
#include "common/error.h"
#include "head.h"

logitnorm_status ln_fdbd_pairs(const logitnorm_scorer *s, const float *w, float **out) {
  int64_t c = s->num_classes, d = s->feature_dim, blk = LN_SCORE_BLOCK;
  double *wd = ln_calloc(c * d, sizeof *wd), *sq = ln_calloc(c, sizeof *sq), *g = ln_calloc(blk * c, sizeof *g);
  float *dist = ln_calloc(c * c, sizeof *dist);
  logitnorm_status st = LOGITNORM_OK;
  if (wd == NULL || sq == NULL || g == NULL || dist == NULL) {
    st = ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for the %lld x %lld FDBD head distances",
                 (long long)c, (long long)c);
    goto done;
  }
  for (int64_t t = 0; t < c * d; ++t) wd[t] = w[t];
  for (int64_t i = 0; i < c; ++i) {
    double acc = 0.0;
    for (int64_t j = 0; j < d; ++j) acc += wd[i * d + j] * wd[i * d + j];
    sq[i] = acc;
  }
  for (int64_t i0 = 0; i0 < c; i0 += blk) {
    int64_t rows = c - i0 < blk ? c - i0 : blk;
    /* g = W_blk W^T: W^T read in place from the row-major head */
    ln_gemm_f64(s->blas, rows, c, d, 1.0, wd + i0 * d, d, 1, wd, 1, d, 0.0, g, c, 1);
    for (int64_t r = 0; r < rows; ++r) {
      int64_t i = i0 + r;
      for (int64_t j = 0; j < c; ++j) {
        if (j == i) continue;
        double d2 = sq[i] + sq[j] - 2.0 * g[r * c + j];
        if (d2 < 1e-8 * (sq[i] + sq[j])) { /* near-equal rows: the direct sum keeps the digits */
          d2 = 0.0;
          for (int64_t t = 0; t < d; ++t) {
            double e = wd[i * d + t] - wd[j * d + t];
            d2 += e * e;
          }
        }
        if (!(d2 > 0.0)) {
          st = ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT,
                       "FDBD: weight rows %lld and %lld are equal, so the classes have no decision boundary",
                       (long long)(i < j ? i : j), (long long)(i < j ? j : i));
          goto done;
        }
        dist[i * c + j] = (float)sqrt(d2);
      }
    }
  }
  *out = dist;
  dist = NULL;
done:
  ln_free(wd);
  ln_free(sq);
  ln_free(g);
  ln_free(dist);
  return st;
}

logitnorm_status ln_fdbd_prepare(logitnorm_scorer *s) {
  int64_t d = s->feature_dim;
  if (s->fit_n == 0) return ln_fail(LOGITNORM_ERR_INVALID_STATE, "FDBD was not fitted with any row");
  double *mean = ln_calloc(d, sizeof *mean);
  if (mean == NULL) return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for the FDBD feature mean");
  for (int64_t j = 0; j < d; ++j) mean[j] = s->feat_sum[j] / (double)s->fit_n;
  s->fit_mean = mean;
  ln_free(s->feat_sum);
  s->feat_sum = NULL;
  return LOGITNORM_OK;
}

logitnorm_status ln_fdbd_score(const logitnorm_scorer *s, const ln_score_block *b) {
  const int64_t n = b->n, ldf = b->ld;
  const float *h = b->rows;
  float *out = b->out;
  int64_t c = s->num_classes, d = s->feature_dim, blk = LN_SCORE_BLOCK;
  float *z = ln_calloc(blk * c, sizeof *z);
  if (z == NULL) return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for FDBD work space");
  logitnorm_status st = LOGITNORM_OK;
  for (int64_t i0 = 0; i0 < n && st == LOGITNORM_OK; i0 += blk) {
    int64_t rows = n - i0 < blk ? n - i0 : blk;
    const float *hb = h + i0 * ldf;
    ln_scorer_head_logits(s, s->weight, rows, hb, ldf, z);
    for (int64_t i = 0; i < rows; ++i) {
      const float *zi = z + i * c, *hi = hb + i * ldf;
      int64_t a = 0;
      for (int64_t j = 1; j < c; ++j)
        if (zi[j] > zi[a]) a = j; /* strict: the first index of a tie */
      const float *da = s->head_aux + a * c;
      double sum = 0.0, sq = 0.0;
      for (int64_t j = 0; j < c; ++j)
        if (j != a) sum += fabs((double)zi[a] - zi[j]) / da[j];
      for (int64_t j = 0; j < d; ++j) {
        double e = hi[j] - s->fit_mean[j];
        sq += e * e;
      }
      if (!(sq > 0.0)) {
        st = ln_fail(LOGITNORM_ERR_NONFINITE, "FDBD: features row %lld equal the fit mean, so the score is infinite",
                     (long long)(b->first + i0 + i));
        break;
      }
      out[i0 + i] = (float)(sum / (double)(c - 1) / sqrt(sq));
    }
  }
  ln_free(z);
  return st;
}
