/* The reference trainers' cross-entropy: softmax into a probs buffer (max, exp, sum, divide),
   -log p of the target, and a backward pass that reads the stored probabilities. Three passes
   over the logits in the forward, one over probs and grad in the backward. */
#include "plain_ce_ref.h"

#include <math.h>

double plain_ce_forward(int64_t n, int64_t C, const float *logits, int64_t ld, const int32_t *labels,
                        float *probs) {
  double total = 0.0;
  for (int64_t i = 0; i < n; i++) {
    const float *z = logits + i * ld;
    float *p = probs + i * ld;
    float maxval = -INFINITY;
    for (int64_t c = 0; c < C; c++)
      if (z[c] > maxval) maxval = z[c];
    float sum = 0.0f;
    for (int64_t c = 0; c < C; c++) {
      p[c] = expf(z[c] - maxval);
      sum += p[c];
    }
    for (int64_t c = 0; c < C; c++) p[c] /= sum;
    total += -logf(p[labels[i]]);
  }
  return total / (double)n;
}

void plain_ce_backward(int64_t n, int64_t C, const float *probs, int64_t ld, const int32_t *labels, float *grad) {
  const float dloss = 1.0f / (float)n;
  for (int64_t i = 0; i < n; i++) {
    const float *p = probs + i * ld;
    float *g = grad + i * ld;
    for (int64_t c = 0; c < C; c++) g[c] = p[c] * dloss;
    g[labels[i]] -= dloss;
  }
}
