/* -inf logits are masks. A row with masked classes has exactly the loss and gradient of the
   same row with those columns removed (support/loss_ref.c removes them literally and runs the
   plain reference on what is left): cross-entropy without smoothing is then PyTorch's
   cross_entropy on the row, LogitNorm leaves the masked columns out of the norm and the
   softmax, and label smoothing spreads eps / C' over the C' unmasked classes. The masked
   column's gradient is exactly 0 (beta * old with beta != 0). The MEAN divisor does not
   change. A label or target mass on a masked class, or a row with every class masked that
   is not ignored, is bad input: a distinct status, a message naming the row (and the class),
   nothing written. CHECK_FINITE = 1 lets -inf pass and still rejects NaN and +inf.

   Paths: n = 1024 rows (with LN_TEST_QUICK 512 f32, 256 f64) with C <= 104 (f32; 48 f64) reach
   the AVX2 tile path (see test_loss_nan.c for why so many rows); batches of a few rows at
   C = 49, 100 and 4105 take the row path; ctest runs each
   suite on the generic path as well. Tolerances are those of test_loss_values.c, computed on
   the reduced row (support/loss_case.h). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "logitnorm.h"
#include "loss_case.h"
#include "test_util.h"

typedef struct mbatch {
  double *z, *t, *w, *rs;
  int32_t *labels;
} mbatch;

typedef struct mopts {
  double mask_prob;      /* each class of a row is masked with this probability */
  double ignore_frac;    /* share of rows whose label is the ignore index (hard labels) */
  int all_masked_ignored;/* ignored rows have every class masked */
  const int64_t *forced; /* if set, columns masked in every row (nforced of them) */
  int64_t nforced;
} mopts;

/* Random logits, labels and targets with masks; every row that is not ignored keeps its
   label and all of its target mass on unmasked classes. Odd rows of targets are not
   normalised (allowed). */
static void make_batch(lc_case *c, mbatch *B, const mopts *o, uint64_t seed) {
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
  for (int64_t i = 0; i < n; ++i) {
    double *z = B->z + i * c->ld, *t = B->t + i * c->ldt;
    B->rs[i] = (double)(float)(3.0 * tu_uniform(&r) - 1.5);
    int ignored = !c->soft && tu_uniform(&r) < o->ignore_frac;
    int64_t keep = tu_int(&r, 0, C - 1); /* one class that stays unmasked: the label */
    B->labels[i] = ignored ? c->ignore_index : (int32_t)keep;
    double sum = 0.0;
    for (int64_t k = 0; k < C; ++k) {
      z[k] = (double)(float)(6.0 * tu_uniform(&r) - 3.0);
      int masked = k != keep && tu_uniform(&r) < o->mask_prob;
      for (int64_t f = 0; f < o->nforced; ++f)
        if (o->forced[f] == k && k != keep) masked = 1;
      if (ignored && o->all_masked_ignored) masked = 1;
      if (masked) z[k] = -INFINITY;
      t[k] = masked ? 0.0 : tu_uniform(&r);
      sum += t[k];
    }
    for (int64_t k = 0; k < C; ++k) t[k] = (double)(float)(i % 2 == 0 ? t[k] / sum : 1.5 * t[k]);
  }
  c->z = B->z;
  c->t = B->t;
  c->labels = B->labels;
}

static void free_batch(mbatch *B) {
  free(B->z);
  free(B->t);
  free(B->w);
  free(B->rs);
  free(B->labels);
}

/* 64 parts of 16 rows; LN_TEST_QUICK: one tile per part (8 rows f32, 4 rows f64). */
static int64_t tile_rows(int f64) { return tu_quick() ? (f64 ? 256 : 512) : 1024; }

/* One shape through a sweep of options picked by v: weights, smoothing, ignore_index (the
   default, or a class inside [0, C) whose rows are then ignored), every reduction, row_scale,
   alpha, beta (and NaN grad under beta = 0), padded strides, in place, CHECK_FINITE. */
static void run_options(int f64, int kind, int soft, int64_t n, int64_t C, int v, const mopts *o_in,
                        const char *what) {
  lc_case c = lc_default(f64, kind, soft, n, C);
  c.what = what;
  c.reduction = v % 3;
  c.smoothing = (v / 3) % 3 == 0 ? 0.0 : (v / 3) % 3 == 1 ? 0.1 : 0.3;
  c.ignore_index = v % 5 == 4 && C > 2 ? 2 : -100;
  c.check_finite = v % 2;
  c.alpha = v % 4 == 1 ? -0.5 : 1.25;
  c.beta = v % 4 == 2 ? 0.5 : v % 4 == 3 ? -2.0 : 0.0;
  c.nan_grad = c.beta == 0.0 && v % 8 == 0;
  c.in_place = !c.nan_grad && v % 3 == 1;
  int64_t pad = v % 7 == 3 ? 0 : 1 + v % 3;
  c.ld = C + pad;
  c.ldt = C + (v % 2 ? 0 : 2);
  c.ldg = c.in_place ? c.ld : C + (v % 5 == 1 ? 0 : 3);
  c.tau = v % 6 == 5 ? 0.5 : 0.04;
  c.seed = (uint64_t)(C * 131 + v * 7 + kind * 3 + soft);
  mopts o = *o_in;
  if (c.ignore_index == 2) o.ignore_frac = 0.0; /* labels that are 2 are the ignored rows */
  mbatch B;
  make_batch(&c, &B, &o, c.seed);
  c.weights = v % 2 == 0 || v % 5 == 0 ? B.w : NULL;
  c.row_scale = v % 3 != 2 ? B.rs : NULL;
  lc_run(&c);
  free_batch(&B);
}

/* Tile path: C <= 104 (f32; 48 f64), every row in a full group. Loop index: f64 * 2 + soft. */
START_TEST(tile_path) {
  static const int64_t full[] = {2, 3, 5, 8, 9, 16, 17, 33, 48, 64, 104};
  static const int64_t quick[] = {3, 8, 17, 48, 100};
  const int64_t *sizes = tu_quick() ? quick : full;
  int count = tu_quick() ? 5 : 11;
  const mopts o = {0.3, 0.15, 1, NULL, 0};
  for (int kind = 0; kind < 2; ++kind)
    for (int s = 0; s < count; ++s)
      for (int v = s % 2; v < 4; v += 2) {
        /* quick: half of the sizes, one kind and one option set each */
        if (tu_quick() && (v > 1 || (s + kind) % 2 || (s / 2 + _i) % 2)) continue;
        run_options(_i / 2, kind, _i % 2, tile_rows(_i / 2), sizes[s], v + 3 * s + kind, &o, "masks, tile path");
      }
}
END_TEST

/* Row path, C = 49 and 100, with many option sweeps on small batches. Loop index: f64 * 2 + soft. */
START_TEST(row_path) {
  static const int64_t sizes[2] = {49, 100};
  const mopts sparse = {0.2, 0.2, 1, NULL, 0}, dense = {0.9, 0.2, 0, NULL, 0};
  int reps = tu_quick() ? 4 : 30;
  for (int kind = 0; kind < 2; ++kind)
    for (int s = 0; s < 2; ++s)
      for (int v = 0; v < reps; ++v)
        run_options(_i / 2, kind, _i % 2, 9, sizes[s], v, v % 4 == 3 ? &dense : &sparse, "masks, row path");
}
END_TEST

/* The generic shapes of test_loss_values.c (small C, few rows) with masks. Loop index: f64 * 2 + soft. */
START_TEST(small_shapes) {
  const mopts o = {0.35, 0.25, 1, NULL, 0};
  int reps = tu_quick() ? 12 : 40;
  tu_rng r;
  tu_seed(&r, 5 + (uint64_t)_i);
  for (int v = 0; v < reps; ++v)
    run_options(_i / 2, (int)tu_int(&r, 0, 1), _i % 2, tu_int(&r, 1, 12), tu_int(&r, 2, 40), v, &o, "masks, small");
}
END_TEST

/* C = 4105 (the row path's exp cache ends at 4096 floats, 2048 doubles): masks around those
   columns, the vector tails and the row's end, and a row with all but one class masked. */
START_TEST(wide_rows) {
  enum { C = 4105 };
  static const int64_t forced[] = {0, 1, 7, 8, 2047, 2048, 2049, 4095, 4096, 4097, 4103, 4104};
  const mopts o = {0.05, 0.2, 1, forced, (int64_t)(sizeof forced / sizeof forced[0])};
  const mopts all_but_one = {1.0, 0.0, 0, NULL, 0};
  for (int kind = 0; kind < 2; ++kind)
    for (int soft = 0; soft < 2; ++soft) {
      if (tu_quick() && kind != soft) continue;
      run_options(_i, kind, soft, tu_quick() ? 3 : 5, C, kind * 2 + soft, &o, "masks, C = 4105");
      if (!tu_quick()) run_options(_i, kind, soft, 3, C, 5 + kind * 2 + soft, &all_but_one, "masks, C = 4105, one class left");
    }
}
END_TEST

/* C = 1 with the only class unmasked (loss 0, grad 0 for both kinds, smoothing or not), and
   C = 2 with one class masked, which is the same row; an ignored C = 1 row may be -inf. */
START_TEST(one_class_left) {
  for (int f64 = 0; f64 < 2; ++f64)
    for (int kind = 0; kind < 2; ++kind)
      for (int soft = 0; soft < 2; ++soft) {
        const double z1[3] = {1.5, -2.0, -INFINITY};
        const double t1[3] = {1.0, 0.5, 1.0};
        const int32_t y1[3] = {0, 0, -100};
        const double z2[6] = {-INFINITY, 0.75, 3.0, -INFINITY, -INFINITY, -INFINITY};
        const double t2[6] = {0.0, 1.0, 2.0, 0.0, 0.3, 0.7};
        const int32_t y2[3] = {1, 0, -100};
        for (int sm = 0; sm < 2; ++sm) {
          lc_case c = lc_default(f64, kind, soft, soft ? 2 : 3, 1);
          c.what = "C = 1";
          c.smoothing = sm ? 0.2 : 0.0;
          c.z = z1;
          c.t = t1;
          c.labels = y1;
          c.beta = 0.5;
          lc_run(&c);
          c = lc_default(f64, kind, soft, soft ? 2 : 3, 2);
          c.what = "C = 2, one masked";
          c.smoothing = sm ? 0.2 : 0.0;
          c.z = z2;
          c.t = t2;
          c.labels = y2;
          c.in_place = 1;
          c.beta = sm ? 1.0 : 0.0;
          lc_run(&c);
        }
      }
}
END_TEST

/* ---- bad input ---- */

/* A batch without masks but for what the case puts in row `row`. */
static void plain_batch(lc_case *c, mbatch *B, uint64_t seed) {
  const mopts o = {0.0, 0.0, 0, NULL, 0};
  make_batch(c, B, &o, seed);
}

/* row and class names as the message must carry them */
static void names(char *row_s, size_t rn, char *cls_s, size_t cn, int64_t row, int64_t cls) {
  snprintf(row_s, rn, "row %lld|[%lld]", (long long)row, (long long)row);
  snprintf(cls_s, cn, "class %lld|label %lld|column %lld|[%lld]", (long long)cls, (long long)cls, (long long)cls,
           (long long)cls);
}

/* Loop index: f64 * 2 + check_finite. Tile path (n rows, C = 40) and row path (C = 100). */
START_TEST(bad_input) {
  int f64 = _i / 2, check = _i % 2;
  static const int64_t shapes[2][2] = {{0, 40}, {11, 100}}; /* n (0: tile_rows()), C */
  for (int sh = 0; sh < 2; ++sh)
    for (int kind = 0; kind < 2; ++kind) {
      int64_t n = shapes[sh][0] ? shapes[sh][0] : tile_rows(f64), C = shapes[sh][1];
      int runs = !tu_quick() || sh == 1; /* the valid variants: on the row path only, when quick */
      int64_t row = n - 3, cls = 13;
      char row_s[64], cls_s[128];
      names(row_s, sizeof row_s, cls_s, sizeof cls_s, row, cls);

      /* a hard label on a masked class */
      lc_case c = lc_default(f64, kind, 0, n, C);
      c.what = "label on a masked class";
      c.check_finite = check;
      c.ld = C + 2;
      mbatch B;
      plain_batch(&c, &B, 11);
      B.labels[row] = (int32_t)cls;
      B.z[row * c.ld + cls] = -INFINITY;
      lc_run_bad(&c, LOGITNORM_ERR_INVALID_LABEL, LOGITNORM_OK, row_s, cls_s);

      /* the same row ignored is fine, and so is that row with every class masked */
      B.labels[row] = c.ignore_index;
      c.what = "ignored row with a masked class";
      if (runs) lc_run(&c);
      for (int64_t k = 0; k < C; ++k) B.z[row * c.ld + k] = -INFINITY;
      c.what = "ignored row, every class masked";
      if (runs) lc_run(&c);

      /* every class masked, not ignored */
      B.labels[row] = 0;
      c.what = "every class masked";
      lc_run_bad(&c, LOGITNORM_ERR_INVALID_ARGUMENT, LOGITNORM_ERR_INVALID_LABEL, row_s, NULL);
      free_batch(&B);

      /* probability targets: mass on a masked class, then every class masked */
      c = lc_default(f64, kind, 1, n, C);
      c.what = "target mass on a masked class";
      c.check_finite = check;
      c.ldt = C + 1;
      plain_batch(&c, &B, 12);
      B.z[row * c.ld + cls] = -INFINITY;
      B.t[row * c.ldt + cls] = 0.125;
      lc_run_bad(&c, LOGITNORM_ERR_INVALID_ARGUMENT, LOGITNORM_OK, row_s, cls_s);
      B.t[row * c.ldt + cls] = 0.0; /* zero mass there is fine */
      c.what = "zero target mass on a masked class";
      if (runs) lc_run(&c);
      for (int64_t k = 0; k < C; ++k) {
        B.z[row * c.ld + k] = -INFINITY;
        B.t[row * c.ldt + k] = 0.0;
      }
      c.what = "every class masked, targets";
      lc_run_bad(&c, LOGITNORM_ERR_INVALID_ARGUMENT, LOGITNORM_ERR_INVALID_LABEL, row_s, NULL);
      free_batch(&B);
    }
}
END_TEST

/* CHECK_FINITE = 1 rejects NaN and +inf (also next to a mask) and nothing is written;
   -inf alone passes (every lc_run above with check_finite = 1). */
START_TEST(check_finite_rejects_nan_and_inf) {
  const double bad[2] = {NAN, INFINITY};
  for (int f64 = 0; f64 < 2; ++f64)
    for (int soft = 0; soft < 2; ++soft)
      for (int b = 0; b < 2; ++b)
        for (int sh = 0; sh < 2; ++sh) {
          int64_t n = sh ? 7 : tile_rows(f64), C = sh ? 100 : 12, row = n - 2;
          lc_case c = lc_default(f64, LOGITNORM_LOSS_LOGITNORM, soft, n, C);
          c.what = "non-finite with CHECK_FINITE = 1";
          mbatch B;
          plain_batch(&c, &B, 21);
          int64_t y = soft ? 0 : B.labels[row];
          int64_t at = (y + 1) % C, m = (y + 2) % C;
          B.z[row * c.ld + at] = bad[b];
          lc_run_bad(&c, LOGITNORM_ERR_NONFINITE, LOGITNORM_OK, NULL, NULL);
          B.z[row * c.ld + m] = -INFINITY;
          B.t[row * c.ldt + m] = 0.0;
          lc_run_bad(&c, LOGITNORM_ERR_NONFINITE, LOGITNORM_OK, NULL, NULL);
          free_batch(&B);
        }
}
END_TEST

static Suite *masks_suite(void) {
  Suite *s = suite_create("loss_masks");
  TCase *tc = tcase_create("masks");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, tile_path, 0, 4);
  tcase_add_loop_test(tc, row_path, 0, 4);
  tcase_add_loop_test(tc, small_shapes, 0, 4);
  tcase_add_loop_test(tc, wide_rows, 0, 2);
  tcase_add_test(tc, one_class_left);
  tcase_add_loop_test(tc, bad_input, 0, 4);
  tcase_add_test(tc, check_finite_rejects_nan_and_inf);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(masks_suite());
}
