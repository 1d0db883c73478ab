/* What every benchmark here times with: a monotonic clock in milliseconds and the comparison
   qsort needs for medians. The including file defines _POSIX_C_SOURCE (clock_gettime) first. */
#ifndef LN_BENCH_TIMING_H
#define LN_BENCH_TIMING_H

#include <time.h>

static inline double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static inline int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

#endif
