/* A float or double test buffer with a double copy of the values it stores (rounded to the
   element type), so references see exactly what the library reads. One element of slack past
   count is allocated for the tests that check nothing is written past the end. */
#ifndef LN_TESTS_TYPED_BUF_H
#define LN_TESTS_TYPED_BUF_H

#include <stddef.h>

typedef struct typed_buf {
  void *p;      /* float or double elements */
  double *d;    /* the same values as double */
  size_t count; /* elements */
  size_t elem;  /* sizeof(float) or sizeof(double) */
} typed_buf;

typed_buf tb_new(int f64, size_t count); /* zeroed; aborts the test if out of memory */
void tb_free(typed_buf *b);
/* Stores v rounded to the element type at i and keeps the rounded value in d[i]. */
void tb_set(typed_buf *b, size_t i, double v);
/* Element i as the library left it (read back from p). */
double tb_get(const typed_buf *b, size_t i);

#endif
