/* Order statistics of float arrays: quickselect and the linear-interpolation percentile. */
#include <math.h>

#include "scorer_internal.h"

/* Places the element of rank r (0-based, ascending) at v[r], smaller-or-equal ones before
   it and greater-or-equal ones after it (Hoare partition around a median-of-three pivot). */
static void ln_select_f32(float *v, int64_t n, int64_t r) {
  int64_t lo = 0, hi = n - 1;
  while (hi > lo) {
    int64_t mid = lo + (hi - lo) / 2;
    float a = v[lo], b = v[mid], c = v[hi];
    float pivot = (a < b) ? ((b < c) ? b : (a < c ? c : a)) : ((a < c) ? a : (b < c ? c : b));
    int64_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) ++i;
      while (v[j] > pivot) --j;
      if (i <= j) {
        float t = v[i];
        v[i] = v[j];
        v[j] = t;
        ++i;
        --j;
      }
    }
    /* now [lo, j] <= pivot <= [i, hi], and entries strictly between j and i equal pivot */
    if (r <= j)
      hi = j;
    else if (r >= i)
      lo = i;
    else
      return;
  }
}

/* numpy's default ("linear"): position q = pct / 100 * (n - 1) between the sorted values
   v_(floor q) and v_(floor q + 1). */
double ln_percentile_f32(float *v, int64_t n, double pct) {
  double q = pct / 100.0 * (double)(n - 1);
  int64_t lo = (int64_t)floor(q);
  if (lo >= n - 1) lo = n - 1;
  double t = q - (double)lo;
  ln_select_f32(v, n, lo);
  double a = v[lo];
  if (t == 0.0 || lo + 1 >= n) return a;
  float b = v[lo + 1]; /* the smallest entry above rank lo */
  for (int64_t i = lo + 2; i < n; ++i)
    if (v[i] < b) b = v[i];
  return a + ((double)b - a) * t;
}

/* The value of rank r in descending order (r = 0 is the largest); reorders v. */
float ln_kth_largest_f32(float *v, int64_t n, int64_t r) {
  ln_select_f32(v, n, n - 1 - r);
  return v[n - 1 - r];
}
