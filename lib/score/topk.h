/* A bounded max-heap that keeps the k smallest of the values pushed into it: KNN keeps the k
   smallest squared distances, NNGuide the k largest inner products (pushed negated, which is
   exact). The heap's contents after a fixed sequence of pushes depend only on that sequence,
   so a row's result does not depend on which thread ran it. */
#ifndef LN_SCORE_TOPK_H
#define LN_SCORE_TOPK_H

#include <stdint.h>

/* heap holds *size <= k values; heap[0] is the largest of them (the k-th smallest once full). */
static inline void ln_heap_push(float *heap, int64_t *size, int64_t k, float v) {
  int64_t i;
  if (*size < k) { /* sift up */
    i = (*size)++;
    while (i > 0 && heap[(i - 1) / 2] < v) {
      heap[i] = heap[(i - 1) / 2];
      i = (i - 1) / 2;
    }
    heap[i] = v;
    return;
  }
  if (!(v < heap[0])) return;
  i = 0; /* replace the largest and sift down */
  for (;;) {
    int64_t l = 2 * i + 1, big = l;
    if (l >= k) break;
    if (l + 1 < k && heap[l + 1] > heap[l]) big = l + 1;
    if (!(heap[big] > v)) break;
    heap[i] = heap[big];
    i = big;
  }
  heap[i] = v;
}

#endif
