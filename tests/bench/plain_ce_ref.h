/* A plain cross-entropy forward and backward, written the way small C trainers (llm.c and the
   like) write them, for bench_loss to time the library against. Built alone with
   -O3 -march=native -ffast-math (tests/CMakeLists.txt); the library never is. */
#ifndef PLAIN_CE_REF_H
#define PLAIN_CE_REF_H
#include <stdint.h>

/* probs[i, :C] = softmax(logits[i, :C]); returns the mean over rows of -log probs[i, labels[i]]. */
double plain_ce_forward(int64_t n, int64_t C, const float *logits, int64_t ld, const int32_t *labels,
                        float *probs);
/* grad[i, c] = (probs[i, c] - [c == labels[i]]) / n, from the stored probabilities. */
void plain_ce_backward(int64_t n, int64_t C, const float *probs, int64_t ld, const int32_t *labels, float *grad);
#endif
