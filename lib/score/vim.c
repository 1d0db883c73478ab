/* ViM, Virtual-logit Matching (Wang et al., CVPR 2022). With the head z = W h + b:
     u = -pinv(W) b                                 (the origin of the feature space)
     P = top-`kept` eigenvectors of (1/N) sum_i (h_i - u)(h_i - u)^T   (principal space)
     residual(h) = ||(h - u)^T NS||, NS = the remaining eigenvectors
     alpha = mean_i max_j z_ij / mean_i residual(h_i)    over the fit rows
     score = logsumexp(z) - alpha * residual(h). */
#include <math.h>

#include "common/alloc.h"
#include "common/error.h"
#include "head.h"
#include "linalg.h"

int64_t ln_vim_kept(const logitnorm_scorer *s) {
  if (s->vim_dim > 0) return s->vim_dim;
  int64_t half = s->feature_dim / 2;
  return half < 256 ? half : 256;
}

/* Residual norms of rows [0, n) of h: hc = h - u, R = hc NS (GEMM), out_i = ||R_i||. */
static void ln_vim_residuals(const logitnorm_scorer *s, int64_t n, const float *h, int64_t ldf, float *hc,
                             float *r, double *res) {
  int64_t d = s->feature_dim, rest = s->vim_rest;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) hc[i * d + j] = h[i * ldf + j] - s->center[j];
  ln_gemm_f32(s->blas, n, rest, d, 1.0f, hc, d, 1, s->vim_basis, rest, 1, 0.0f, r, rest, 1);
  for (int64_t i = 0; i < n; ++i) {
    double sq = 0.0;
    for (int64_t j = 0; j < rest; ++j) sq += (double)r[i * rest + j] * r[i * rest + j];
    res[i] = sqrt(sq);
  }
}

logitnorm_status ln_vim_prepare(logitnorm_scorer *s) {
  int64_t c = s->num_classes, d = s->feature_dim, nn = s->bank_n, kept = ln_vim_kept(s), rest = d - kept;
  int64_t blk = LN_SCORE_BLOCK;
  if (nn == 0) return ln_fail(LOGITNORM_ERR_INVALID_STATE, "ViM was not fitted with any row");
  logitnorm_status st = LOGITNORM_OK;
  double *u = ln_calloc(d, sizeof *u), *b = ln_calloc(c, sizeof *b), *cov = ln_calloc(d * d, sizeof *cov);
  double *vec = ln_calloc(d * d, sizeof *vec), *w = ln_calloc(d, sizeof *w), *x = ln_calloc(blk * d, sizeof *x);
  double *res = ln_calloc(blk, sizeof *res);
  float *center = ln_calloc(d, sizeof *center), *basis = ln_calloc(d * rest, sizeof *basis);
  float *hc = ln_calloc(blk * d, sizeof *hc), *r = ln_calloc(blk * rest, sizeof *r), *z = ln_calloc(blk * c, sizeof *z);
  if (u == NULL || b == NULL || cov == NULL || vec == NULL || w == NULL || x == NULL || res == NULL ||
      center == NULL || basis == NULL || hc == NULL || r == NULL || z == NULL) {
    st = ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory preparing ViM with D = %lld", (long long)d);
    goto done;
  }
  for (int64_t j = 0; j < c; ++j) b[j] = s->bias[j];
  if (ln_pinv_apply(s->weight, c, d, d, b, u) != 0) {
    st = ln_fail(LOGITNORM_ERR_INVALID_STATE, "the pseudo-inverse of the head could not be computed");
    goto done;
  }
  for (int64_t j = 0; j < d; ++j) {
    u[j] = -u[j];
    center[j] = (float)u[j];
  }
  /* cov = (1/N) sum_i (h_i - u)(h_i - u)^T, one GEMM per block of rows */
  for (int64_t i0 = 0; i0 < nn; i0 += blk) {
    int64_t rows = nn - i0 < blk ? nn - i0 : blk;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < d; ++j) x[i * d + j] = (double)s->bank[(i0 + i) * d + j] - u[j];
    ln_gemm_f64(s->blas, d, d, rows, 1.0 / (double)nn, x, 1, d, x, d, 1, 1.0, cov, d, 1);
  }
  if (ln_sym_eigen(cov, d, w, vec) != 0) {
    st = ln_fail(LOGITNORM_ERR_INVALID_STATE, "the eigendecomposition of the ViM covariance did not converge");
    goto done;
  }
  for (int64_t j = 0; j < d; ++j)
    for (int64_t t = 0; t < rest; ++t) basis[j * rest + t] = (float)vec[j * d + kept + t];
  s->center = center;
  s->vim_basis = basis;
  s->vim_rest = rest;
  /* alpha over the fit rows */
  double max_sum = 0.0, res_sum = 0.0;
  for (int64_t i0 = 0; i0 < nn; i0 += blk) {
    int64_t rows = nn - i0 < blk ? nn - i0 : blk;
    const float *h = s->bank + i0 * d;
    ln_scorer_head_logits(s, s->weight, rows, h, d, z);
    ln_vim_residuals(s, rows, h, d, hc, r, res);
    for (int64_t i = 0; i < rows; ++i) {
      float m = z[i * c];
      for (int64_t j = 1; j < c; ++j)
        if (z[i * c + j] > m) m = z[i * c + j];
      max_sum += m;
      res_sum += res[i];
    }
  }
  if (!(res_sum > 0.0) || !isfinite(max_sum / res_sum)) {
    s->center = NULL;
    s->vim_basis = NULL;
    s->vim_rest = 0;
    st = ln_fail(LOGITNORM_ERR_INVALID_STATE, "the fit rows have no residual outside the principal space");
    goto done;
  }
  s->vim_alpha = max_sum / res_sum; /* the means share the 1/N */
  center = NULL;
  basis = NULL;
  ln_bank_drop(s);
done:
  ln_free(u);
  ln_free(b);
  ln_free(cov);
  ln_free(vec);
  ln_free(w);
  ln_free(x);
  ln_free(res);
  ln_free(center);
  ln_free(basis);
  ln_free(hc);
  ln_free(r);
  ln_free(z);
  return st;
}

logitnorm_status ln_vim_score(const logitnorm_scorer *s, const ln_score_block *b) {
  const int64_t n = b->n, ldf = b->ld;
  const float *h = b->rows;
  float *out = b->out;
  int64_t c = s->num_classes, d = s->feature_dim, rest = s->vim_rest, blk = LN_SCORE_BLOCK;
  float *hc = ln_calloc(blk * d, sizeof *hc), *r = ln_calloc(blk * rest, sizeof *r), *z = ln_calloc(blk * c, sizeof *z);
  double *res = ln_calloc(blk, sizeof *res), *zd = ln_calloc(c, sizeof *zd);
  if (hc == NULL || r == NULL || z == NULL || res == NULL || zd == NULL) {
    ln_free(hc);
    ln_free(r);
    ln_free(z);
    ln_free(res);
    ln_free(zd);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for ViM work space");
  }
  for (int64_t i0 = 0; i0 < n; i0 += blk) {
    int64_t rows = n - i0 < blk ? n - i0 : blk;
    const float *hb = h + i0 * ldf;
    ln_scorer_head_logits(s, s->weight, rows, hb, ldf, z);
    ln_vim_residuals(s, rows, hb, ldf, hc, r, res);
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < c; ++j) zd[j] = z[i * c + j];
      out[i0 + i] = (float)(ln_energy(zd, c, 1.0) - s->vim_alpha * res[i]);
    }
  }
  ln_free(hc);
  ln_free(r);
  ln_free(z);
  ln_free(res);
  ln_free(zd);
  return LOGITNORM_OK;
}
