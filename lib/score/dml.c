/* DML, Decoupled MaxLogit (Zhang & Xiang, "Decoupling MaxLogit for Out-of-Distribution
   Detection", CVPR 2023). MaxLogit splits as max_j ||w_j|| ||h|| cos(h, w_j); DML keeps the
   two factors apart and weighs them:
     score(h) = max_j cos(h, w_j) + lambda ||h||      (the bias is not used)
   MaxCosine alone (lambda = 0, the default) is the part the paper finds does the work; the
   authors' code balances the two by dividing each by its sum over the ID test set, which is
   lambda = mean MaxCosine / mean ||h|| over ID data (docs/scores.md).
   The head's unit rows u_j = w_j / ||w_j|| are made when the head is set (ln_dml_units); a
   block of rows is then one GEMM H U^T of the raw rows, and the maximum is divided by ||h||.
   A zero vector has cosine 0 with everything: a zero row of W never wins over another class
   with a positive cosine, and h = 0 scores 0. */
#include <math.h>

#include "common/alloc.h"
#include "common/error.h"
#include "head.h"

logitnorm_status ln_dml_units(const logitnorm_scorer *s, const float *w, float **out) {
  int64_t c = s->num_classes, d = s->feature_dim;
  float *u = ln_calloc(c * d, sizeof *u);
  if (u == NULL)
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for the %lld x %lld DML unit head", (long long)c,
                   (long long)d);
  for (int64_t i = 0; i < c; ++i) ln_bank_normalise_row(w + i * d, d, u + i * d);
  *out = u;
  return LOGITNORM_OK;
}

logitnorm_status ln_dml_score(const logitnorm_scorer *s, const ln_score_block *b) {
  const int64_t n = b->n, ldf = b->ld;
  const float *h = b->rows;
  float *out = b->out;
  int64_t c = s->num_classes, d = s->feature_dim, blk = LN_SCORE_BLOCK;
  float *dots = ln_calloc(blk * c, sizeof *dots);
  if (dots == NULL) return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for DML work space");
  for (int64_t i0 = 0; i0 < n; i0 += blk) {
    int64_t rows = n - i0 < blk ? n - i0 : blk;
    const float *hb = h + i0 * ldf;
    /* dots = H U^T: U^T read in place from the row-major unit head */
    ln_gemm_f32(s->blas, rows, c, d, 1.0f, hb, ldf, 1, s->head_aux, 1, d, 0.0f, dots, c, 1);
    for (int64_t i = 0; i < rows; ++i) {
      const float *hi = hb + i * ldf, *di = dots + i * c;
      double sq = 0.0;
      for (int64_t j = 0; j < d; ++j) sq += (double)hi[j] * hi[j];
      float best = di[0];
      for (int64_t j = 1; j < c; ++j)
        if (di[j] > best) best = di[j];
      double norm = sqrt(sq), cosine = norm > 0.0 ? best / norm : 0.0;
      out[i0 + i] = (float)(cosine + s->lambda * norm);
    }
  }
  ln_free(dots);
  return LOGITNORM_OK;
}
