/* How far the demo's models can be trusted on the ID test set: selective classification by the
   MSP (the risk-coverage metrics of logitnorm_metrics: right predictions are added with
   is_ood = 0, wrong ones with is_ood = 1). */
#include <stdlib.h>

#include <logitnorm.h>

#include "mlp_ood.h"

int selective_metrics(const float *msp, const float *logits, const int32_t *labels, int64_t n, int64_t classes,
                      model_result *r) {
  float *split = malloc((size_t)n * sizeof *split); /* the right ones first, then the wrong ones */
  if (split == NULL) return -1;
  int64_t right = 0;
  for (int64_t i = 0; i < n; i++) {
    const float *z = logits + i * classes;
    int64_t best = 0;
    for (int64_t j = 1; j < classes; j++)
      if (z[j] > z[best]) best = j;
    if (best == labels[i]) split[right++] = msp[i];
  }
  for (int64_t i = 0, w = right; i < n; i++) {
    const float *z = logits + i * classes;
    int64_t best = 0;
    for (int64_t j = 1; j < classes; j++)
      if (z[j] > z[best]) best = j;
    if (best != labels[i]) split[w++] = msp[i];
  }
  logitnorm_metrics *m = NULL;
  logitnorm_status st = logitnorm_metrics_create(&m);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_add_f32(m, split, right, 0);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_add_f32(m, split + right, n - right, 1);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_AURC, &r->aurc);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_value(m, LOGITNORM_METRIC_E_AURC, &r->e_aurc);
  logitnorm_metrics_free(m);
  free(split);
  return st == LOGITNORM_OK ? 0 : -1;
}
