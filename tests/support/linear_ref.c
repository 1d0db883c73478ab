#include "linear_ref.h"

#include <stdlib.h>

void lin_ref_logits(int64_t n, int64_t d, int64_t C, const double *x, int64_t ldx, const double *w, int64_t ldw,
                    const double *bias, double *z) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < C; ++c) {
      double s = bias ? bias[c] : 0.0;
      for (int64_t k = 0; k < d; ++k) s += x[i * ldx + k] * w[c * ldw + k];
      z[i * C + c] = s;
    }
}

double lin_ref_hard(const lr_config *cfg, int64_t n, int64_t d, const double *x, int64_t ldx, const double *w,
                    int64_t ldw, const double *bias, const int32_t *labels, double *row_loss, double *dx,
                    double *dw, double *db) {
  int64_t C = cfg->num_classes;
  double *z = malloc((size_t)(n * C + 1) * sizeof *z);
  double *g = malloc((size_t)(n * C + 1) * sizeof *g);
  if (z == NULL || g == NULL) abort();
  lin_ref_logits(n, d, C, x, ldx, w, ldw, bias, z);
  double loss = lr_batch_hard(cfg, n, z, C, labels, row_loss, g);
  if (dx) /* dx[i][k] = sum_c G[i][c] W[c][k] */
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < d; ++k) {
        double s = 0.0;
        for (int64_t c = 0; c < C; ++c) s += g[i * C + c] * w[c * ldw + k];
        dx[i * d + k] = s;
      }
  if (dw) /* dW[c][k] = sum_i G[i][c] x[i][k] */
    for (int64_t c = 0; c < C; ++c)
      for (int64_t k = 0; k < d; ++k) {
        double s = 0.0;
        for (int64_t i = 0; i < n; ++i) s += g[i * C + c] * x[i * ldx + k];
        dw[c * d + k] = s;
      }
  if (db) /* db[c] = sum_i G[i][c] */
    for (int64_t c = 0; c < C; ++c) {
      double s = 0.0;
      for (int64_t i = 0; i < n; ++i) s += g[i * C + c];
      db[c] = s;
    }
  free(z);
  free(g);
  return loss;
}
