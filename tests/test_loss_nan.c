/* NaN is never swallowed. With CHECK_FINITE = 0, a NaN anywhere in the first num_classes
   columns of a row gives that row a NaN loss, a NaN reduced loss and a NaN gradient in all C
   columns, on every dispatch path, for both kinds, hard labels and probability targets, f32
   and f64; every other row equals the double reference (support/loss_case.h has the checks
   and tolerances).

   Each batch puts the NaN of row j at column j mod C over three rows in four, so one call
   covers every position of the row; the fourth row stays clean, and clean rows share their
   SIMD groups with NaN rows. Some NaN rows also hold a masked class (-inf): the mask must not
   hide the NaN either. Half of the NaNs carry a payload in the high and low mantissa bits and
   either sign (an exp that rebuilds 2^n from the bits of a NaN must not lose it).

   Paths. The rows of a call are cut into 64 fixed parts (common/parallel.h), and the AVX2
   tile path (C <= 104 f32, 48 f64) takes each part's rows in whole groups of 8 (f32) or 4
   (f64). So a batch reaches the tile path only with at least 8 (4) rows per part: n = 1024
   (with LN_TEST_QUICK: 512 f32, 256 f64) puts every row in a full group. The row-path tests
   use fewer rows than that (no part holds a full group), so C = 49, 100 and 4105 take the row
   path there,
   4105 with NaN placed around the vector tails and the end of the row path's exp cache
   (4096 floats, 2048 doubles) rather than at every position. The generic path runs the
   same batches (ctest's .generic variant). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "loss_case.h"
#include "test_util.h"

/* A quiet NaN with a payload in both the high and the low bits of the mantissa (so that the
   float it converts to keeps one too) and either sign: kernels must not pass the NaN only
   when its payload happens to be the default's. */
static double nan_with_payload(uint64_t j) {
  uint64_t bits = 0x7ff8000000000000ull | ((j * 0x9e3779b97f4a7c15ull) & 0x0007ffffffffffffull);
  if (j & 1) bits |= 0x8000000000000000ull;
  double v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

typedef struct nan_batch {
  double *z, *t, *w, *rs;
  int32_t *labels;
} nan_batch;

/* positions: NaN columns, one per NaN row, taken in turn (NULL: column j mod C for the j-th
   NaN row). */
static void make_batch(lc_case *c, nan_batch *B, const int64_t *positions, int64_t npos, uint64_t seed) {
  tu_rng r;
  tu_seed(&r, seed);
  int64_t n = c->n, C = c->C;
  B->z = calloc((size_t)(n * c->ld), sizeof(double));
  B->t = calloc((size_t)(n * c->ldt), sizeof(double));
  B->w = calloc((size_t)C, sizeof(double));
  B->rs = calloc((size_t)n, sizeof(double));
  B->labels = calloc((size_t)n, sizeof(int32_t));
  ck_assert(B->z && B->t && B->w && B->rs && B->labels);
  for (int64_t k = 0; k < C; ++k) B->w[k] = (double)(float)(0.25 + 1.75 * tu_uniform(&r));
  int64_t j = 0;
  for (int64_t i = 0; i < n; ++i) {
    double *z = B->z + i * c->ld, *t = B->t + i * c->ldt;
    for (int64_t k = 0; k < C; ++k) z[k] = (double)(float)(6.0 * tu_uniform(&r) - 3.0);
    double sum = 0.0;
    for (int64_t k = 0; k < C; ++k) sum += t[k] = tu_uniform(&r);
    for (int64_t k = 0; k < C; ++k) t[k] = (double)(float)(t[k] / sum);
    B->labels[i] = (int32_t)tu_int(&r, 0, C - 1);
    B->rs[i] = (double)(float)(0.5 + tu_uniform(&r));
    if (i % 4 == 3) {
      /* a clean row; some clean rows are ignored */
      if (i % 8 == 7) B->labels[i] = c->ignore_index;
      continue;
    }
    if (positions != NULL && j >= npos) continue;
    int64_t pos = positions ? positions[j] : j % C;
    ++j;
    z[pos] = j % 2 ? NAN : nan_with_payload((uint64_t)j);
    if (C > 2 && i % 3 == 0) {
      /* and a masked class, never the label and without target mass */
      int64_t m = (pos + 1 + i % (C - 1)) % C;
      if (m == pos) m = (m + 1) % C;
      z[m] = -INFINITY;
      t[m] = 0.0;
      if (B->labels[i] == m) B->labels[i] = (int32_t)pos;
    }
  }
  c->z = B->z;
  c->t = B->t;
  c->labels = B->labels;
}

static void free_batch(nan_batch *B) {
  free(B->z);
  free(B->t);
  free(B->w);
  free(B->rs);
  free(B->labels);
}

/* Runs both kinds and both target types on one shape (LN_TEST_QUICK: two of the four,
   chosen by `variant`); the options vary with `variant`. */
static void run_shape(int f64, int64_t n, int64_t C, int64_t pad, int variant, const int64_t *positions,
                      int64_t npos, const char *what) {
  for (int kind = 0; kind < 2; ++kind)
    for (int soft = 0; soft < 2; ++soft) {
      if (tu_quick() && ((kind ^ soft ^ variant) & 1)) continue;
      int v = variant + kind * 2 + soft;
      lc_case c = lc_default(f64, kind, soft, n, C);
      c.what = what;
      c.check_finite = 0;
      c.ld = C + pad;
      c.ldt = C + (pad ? 1 : 0);
      c.ldg = C + (v % 2 ? pad : 0);
      c.reduction = v % 3;
      c.smoothing = v % 4 == 1 ? 0.1 : 0.0;
      c.alpha = v % 2 ? 0.75 : 1.0;
      c.beta = v % 3 == 2 ? 0.5 : 0.0;
      c.nan_grad = c.beta == 0.0 && v % 2 == 0;
      c.seed = (uint64_t)(1000 * C + v);
      nan_batch B;
      make_batch(&c, &B, positions, npos, c.seed);
      c.weights = v % 4 >= 2 ? B.w : NULL;
      c.row_scale = v % 2 ? B.rs : NULL;
      lc_run(&c);
      free_batch(&B);
    }
}

/* 64 parts of 16 rows; LN_TEST_QUICK: one tile per part (8 rows f32, 4 rows f64). */
static int64_t tile_rows(int f64) { return tu_quick() ? (f64 ? 256 : 512) : 1024; }

/* Tile path: C <= 104 (f32; 48 f64: the larger sizes take the row path there), every row in
   a full group, flat (ld = C) and padded (ld = C + 3). Loop index: f64 * 2 + padded;
   LN_TEST_QUICK keeps half of the sizes for each. */
START_TEST(tile_path) {
  static const int64_t sizes[] = {1, 2, 3, 7, 8, 9, 16, 31, 48, 64, 104};
  int f64 = _i / 2, pad = _i % 2 ? 3 : 0;
  for (int s = 0; s < 11; ++s)
    if (!tu_quick() || s % 2 == _i % 2) run_shape(f64, tile_rows(f64), sizes[s], pad, s, NULL, 0, "tile path");
}
END_TEST

/* Row path, C = 49 and 100: NaN at every position. Loop index: f64 * 2 + padded (LN_TEST_QUICK:
   C = 49 flat, C = 100 padded). */
START_TEST(row_path) {
  static const int64_t sizes[2] = {49, 100};
  int f64 = _i / 2, pad = _i % 2 ? 5 : 0;
  for (int s = 0; s < 2; ++s) {
    if (tu_quick() && s != _i % 2) continue;
    int64_t C = sizes[s];
    /* three NaN rows in four: 4C/3 rows give C of them */
    run_shape(f64, (4 * C) / 3 + 4, C, pad, s, NULL, 0, "row path");
  }
}
END_TEST

/* Row path, C = 4105: NaN at the head, around the exp-cache end of either type, at the tail. */
START_TEST(row_path_wide) {
  enum { C = 4105 };
  int64_t pos[64];
  int64_t np = 0;
  const int quick = tu_quick();
  for (int64_t k = 0; k < (quick ? 1 : 10); ++k) pos[np++] = k;
  for (int64_t k = quick ? 2047 : 2044; k < (quick ? 2049 : 2056); ++k) pos[np++] = k;
  for (int64_t k = quick ? 4095 : 4092; k < (quick ? 4097 : 4100); ++k) pos[np++] = k;
  for (int64_t k = C - (quick ? 1 : 9); k < C; ++k) pos[np++] = k;
  tu_rng r;
  tu_seed(&r, 77);
  for (int k = 0; k < (quick ? 1 : 8); ++k) pos[np++] = tu_int(&r, 0, C - 1);
  int64_t n = (4 * np) / 3 + 2;
  run_shape(_i, n, C, _i ? 3 : 0, 1, pos, np, "row path C = 4105");
}
END_TEST

/* The reduced loss is NaN even when the one NaN row is the only row, and a row of nothing
   but NaN is NaN too; on a single row every path is the row path. */
START_TEST(single_rows) {
  for (int f64 = 0; f64 < 2; ++f64)
    for (int kind = 0; kind < 2; ++kind)
      for (int soft = 0; soft < 2; ++soft) {
        const double z1[4] = {NAN, 1.0, -2.0, 0.5}, z2[4] = {NAN, NAN, NAN, NAN};
        const double t[4] = {0.25, 0.25, 0.25, 0.25};
        const int32_t y[1] = {1};
        for (int which = 0; which < 2; ++which)
          for (int red = 0; red < 3; ++red) {
            lc_case c = lc_default(f64, kind, soft, 1, 4);
            c.what = which ? "all-NaN row" : "one NaN row";
            c.check_finite = 0;
            c.reduction = red;
            c.z = which ? z2 : z1;
            c.t = t;
            c.labels = y;
            c.beta = 1.0;
            lc_run(&c);
          }
      }
}
END_TEST

static Suite *nan_suite(void) {
  Suite *s = suite_create("loss_nan");
  TCase *tc = tcase_create("nan");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, tile_path, 0, 4);
  tcase_add_loop_test(tc, row_path, 0, 4);
  tcase_add_loop_test(tc, row_path_wide, 0, 2);
  tcase_add_test(tc, single_rows);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(nan_suite());
}
