#include "typed_buf.h"

#include <check.h>
#include <stdlib.h>

typed_buf tb_new(int f64, size_t count) {
  typed_buf b;
  b.elem = f64 ? sizeof(double) : sizeof(float);
  b.count = count;
  b.p = calloc(count + 1, b.elem);
  b.d = calloc(count + 1, sizeof(double));
  ck_assert(b.p != NULL && b.d != NULL);
  return b;
}

void tb_free(typed_buf *b) {
  free(b->p);
  free(b->d);
}

void tb_set(typed_buf *b, size_t i, double v) {
  if (b->elem == sizeof(double)) {
    ((double *)b->p)[i] = v;
    b->d[i] = v;
  } else {
    ((float *)b->p)[i] = (float)v;
    b->d[i] = (double)(float)v;
  }
}

double tb_get(const typed_buf *b, size_t i) {
  return b->elem == sizeof(double) ? ((const double *)b->p)[i] : (double)((const float *)b->p)[i];
}
