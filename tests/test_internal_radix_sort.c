/* The radix sort behind the metrics (metrics/radix_sort.h) against qsort on the decoded
   doubles: every key must come back, in non-decreasing numeric order. The sizes and
   distributions reach each path: float keys with buckets sorted by insertion and by the
   two in-cache LSD passes (Gaussian, one binade, heavy ties, all equal), and doubles that
   are not floats (the 64-bit LSD path), with signs, zeros and subnormals. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/radix_sort.h"
#include "test_util.h"

enum { DIST_GAUSS, DIST_BINADE, DIST_TIES, DIST_EQUAL, DIST_WIDE_FLOAT, DIST_DOUBLE, DIST_COUNT };

static double draw(tu_rng *r, int dist) {
  switch (dist) {
    case DIST_GAUSS: return (float)tu_normal(r);
    case DIST_BINADE: return (float)(0.5 + 0.5 * tu_uniform(r)); /* MSP-like: one top bucket */
    case DIST_TIES: return (float)(tu_int(r, -3, 3) / 4.0);
    case DIST_EQUAL: return 1.0f;
    case DIST_WIDE_FLOAT: { /* any finite float, subnormals and both zeros included */
      uint32_t u = (uint32_t)tu_next(r);
      float f;
      memcpy(&f, &u, sizeof f);
      return isfinite(f) ? f : -FLT_MAX;
    }
    default: { /* any finite double */
      uint64_t u = tu_next(r);
      double d;
      memcpy(&d, &u, sizeof d);
      return isfinite(d) ? d : DBL_MIN / 4;
    }
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void check_sort(int dist, int64_t n, uint64_t seed) {
  tu_rng r;
  tu_seed(&r, seed);
  double *v = malloc((size_t)n * sizeof *v);
  uint64_t *keys = malloc((size_t)n * sizeof *keys);
  ck_assert(v != NULL && keys != NULL);
  for (int64_t i = 0; i < n; ++i) {
    v[i] = draw(&r, dist);
    if (v[i] == 0.0) v[i] = 0.0; /* the keys map -0 to +0 */
    keys[i] = ln_key_from_double(v[i]);
  }
  ck_assert_int_eq(ln_radix_sort(keys, n), 0);
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  for (int64_t i = 0; i < n; ++i) {
    double got = ln_double_from_key(keys[i]);
    ck_assert_msg(memcmp(&got, &v[i], sizeof got) == 0, "dist %d n %lld: position %lld holds %a, expected %a",
                  dist, (long long)n, (long long)i, got, v[i]);
  }
  free(v);
  free(keys);
}

START_TEST(matches_qsort) {
  const int64_t sizes[] = {0, 1, 2, 3, 127, 128, 129, 1000, 5003};
  int dist = _i % DIST_COUNT;
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; ++k) check_sort(dist, sizes[k], 77 + (uint64_t)_i);
  /* Buckets of thousands (Gaussian) and one bucket of everything (one binade). */
  if (dist == DIST_GAUSS || dist == DIST_BINADE) check_sort(dist, 30011, 99 + (uint64_t)_i);
}
END_TEST

START_TEST(keys_keep_numeric_order) {
  const double v[] = {-DBL_MAX, -1.0, -FLT_MIN, -DBL_MIN / 8, 0.0, DBL_MIN / 8, FLT_MIN, 1.0, DBL_MAX};
  for (size_t i = 1; i < sizeof v / sizeof v[0]; ++i)
    ck_assert(ln_key_from_double(v[i - 1]) < ln_key_from_double(v[i]));
  ck_assert(ln_key_from_double(-0.0) == ln_key_from_double(0.0));
}
END_TEST

int main(void) {
  Suite *s = suite_create("radix_sort");
  TCase *tc = tcase_create("sort");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, matches_qsort, 0, DIST_COUNT);
  tcase_add_test(tc, keys_keep_numeric_order);
  suite_add_tcase(s, tc);
  return tu_run_suite(s);
}
