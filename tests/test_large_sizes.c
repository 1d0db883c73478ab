/* 64-bit indexing: matrices whose n x ld exceeds 2^31 elements. n = 3 rows with a leading
   dimension of 2^30 (floats: 8 GiB of address space; doubles: 16 GiB) live in an mmap'ed
   MAP_NORESERVE region; only the first C columns of each row are ever touched, so just three
   pages per matrix become real memory. Any 32-bit index (i * ld wrapping) would read or
   write the wrong page, fault on an unmapped one, or give results that differ from the
   reference computed below on the same rows packed densely.
   Where size_t has 32 bits, such a matrix cannot be addressed at all: every call with it is
   then INVALID_ARGUMENT and writes nothing (the last test, the only one run there). */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE under -std=c11 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "logitnorm.h"
#include "test_util.h"

enum { C = 5, N = 3 };
static const int64_t BIG_LD = INT64_C(1) << 30; /* N * BIG_LD = 3 * 2^30 > 2^31 */

static void *big_map(size_t elem) {
  size_t bytes = (size_t)((N - 1) * BIG_LD + C) * elem;
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ck_assert_msg(p != MAP_FAILED, "mmap of %zu bytes (MAP_NORESERVE) failed", bytes);
  return p;
}

static void big_unmap(void *p, size_t elem) { munmap(p, (size_t)((N - 1) * BIG_LD + C) * elem); }

static const double Z[N][C] = {{0.5, -1.0, 2.0, 0.25, -0.75}, {3.0, 1.0, -2.0, 0.0, 0.5}, {-0.3, 0.2, 0.1, 1.5, -1.1}};
static const int32_t Y[N] = {2, 4, 3};

/* Reference for one row (double): cross-entropy (tau = 1, eps = 0, plain z) or LogitNorm
   (u = z / (tau (||z|| + eps))): loss = lse(u) - u_y; grad = dl/dz (docs/math.md). */
static void ref_row(int logitnorm, const double *z, int y, double *loss, double *grad) {
  double tau = 0.04, eps = 1e-7, norm = 0.0;
  for (int c = 0; c < C; ++c) norm += z[c] * z[c];
  norm = sqrt(norm);
  double n = logitnorm ? norm + eps : 1.0, t = logitnorm ? tau : 1.0;
  double u[C], m = -INFINITY, s = 0.0;
  for (int c = 0; c < C; ++c) {
    u[c] = z[c] / (t * n);
    m = fmax(m, u[c]);
  }
  for (int c = 0; c < C; ++c) s += exp(u[c] - m);
  *loss = m + log(s) - u[y];
  double g[C], gz = 0.0;
  for (int c = 0; c < C; ++c) {
    g[c] = exp(u[c] - m) / s - (c == y);
    gz += g[c] * z[c];
  }
  for (int c = 0; c < C; ++c)
    grad[c] = logitnorm ? g[c] / (t * n) - gz * z[c] / (t * n * n * norm) : g[c];
}

/* Tolerances: float inputs are exact (all values above are dyadic or rounded once), the
   library works in float with double sums, so 1e-5 relative covers a few ulps of |u| <= 25. */
static void check_loss_f32(int logitnorm) {
  float *z = big_map(sizeof(float)), *g = big_map(sizeof(float));
  for (int i = 0; i < N; ++i)
    for (int c = 0; c < C; ++c) {
      z[i * BIG_LD + c] = (float)Z[i][c];
      g[i * BIG_LD + c] = 7.0f;
    }
  logitnorm_loss *h;
  ck_assert_int_eq(logitnorm_loss_create(&h, logitnorm ? LOGITNORM_LOSS_LOGITNORM : LOGITNORM_LOSS_CROSS_ENTROPY, C),
                   LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(h, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_SUM), LOGITNORM_OK);
  double loss;
  float row_loss[N];
  /* beta = 1 reads the old gradient, so grad rows are read and written at 64-bit offsets */
  ck_assert_int_eq(logitnorm_loss_forward_backward_f32(h, N, z, BIG_LD, Y, &loss, row_loss, 1.0f, 1.0f, g, BIG_LD),
                   LOGITNORM_OK);
  double total = 0.0;
  for (int i = 0; i < N; ++i) {
    double rl, rg[C];
    ref_row(logitnorm, Z[i], Y[i], &rl, rg);
    total += rl;
    ck_assert_double_eq_tol(row_loss[i], rl, 1e-5 * (1.0 + fabs(rl)));
    for (int c = 0; c < C; ++c)
      ck_assert_double_eq_tol(g[i * BIG_LD + c], 7.0 + rg[c], 1e-5 * (1.0 + fabs(7.0 + rg[c])));
  }
  ck_assert_double_eq_tol(loss, total, 1e-5 * (1.0 + fabs(total)));
  logitnorm_loss_free(h);
  big_unmap(z, sizeof(float));
  big_unmap(g, sizeof(float));
}

START_TEST(test_loss_f32_cross_entropy) { check_loss_f32(0); }
END_TEST
START_TEST(test_loss_f32_logitnorm) { check_loss_f32(1); }
END_TEST

/* Double rows with probability targets (one-hot, so the same reference applies), in place:
   grad == logits with ldg == ld. 1e-12 relative: double throughout. */
START_TEST(test_loss_f64_soft_in_place) {
  double *z = big_map(sizeof(double)), *t = big_map(sizeof(double));
  for (int i = 0; i < N; ++i)
    for (int c = 0; c < C; ++c) {
      z[i * BIG_LD + c] = Z[i][c];
      t[i * BIG_LD + c] = c == Y[i] ? 1.0 : 0.0;
    }
  logitnorm_loss *h;
  ck_assert_int_eq(logitnorm_loss_create(&h, LOGITNORM_LOSS_LOGITNORM, C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(h, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_NONE), LOGITNORM_OK);
  double row_loss[N], loss;
  ck_assert_int_eq(
      logitnorm_loss_forward_backward_soft_f64(h, N, z, BIG_LD, t, BIG_LD, &loss, row_loss, 1.0, 0.0, z, BIG_LD),
      LOGITNORM_OK);
  for (int i = 0; i < N; ++i) {
    double rl, rg[C];
    ref_row(1, Z[i], Y[i], &rl, rg);
    ck_assert_double_eq_tol(row_loss[i], rl, 1e-12 * (1.0 + fabs(rl)));
    for (int c = 0; c < C; ++c) ck_assert_double_eq_tol(z[i * BIG_LD + c], rg[c], 1e-12 * (1.0 + fabs(rg[c])));
  }
  logitnorm_loss_free(h);
  big_unmap(z, sizeof(double));
  big_unmap(t, sizeof(double));
}
END_TEST

/* A NaN in the last row, 2^31 elements past the start, is found (the finite check indexes
   in 64 bits too) and nothing is written. */
START_TEST(test_loss_nan_far_away) {
  float *z = big_map(sizeof(float));
  for (int i = 0; i < N; ++i)
    for (int c = 0; c < C; ++c) z[i * BIG_LD + c] = (float)Z[i][c];
  z[2 * BIG_LD + 4] = NAN;
  logitnorm_loss *h;
  ck_assert_int_eq(logitnorm_loss_create(&h, LOGITNORM_LOSS_LOGITNORM, C), LOGITNORM_OK);
  float row_loss[N];
  double loss;
  tu_sentinel_fill(row_loss, sizeof row_loss);
  tu_sentinel_fill(&loss, sizeof loss);
  ck_assert_int_eq(logitnorm_loss_forward_f32(h, N, z, BIG_LD, Y, &loss, row_loss), LOGITNORM_ERR_NONFINITE);
  ck_assert_str_ne(logitnorm_last_error(), "");
  ck_assert(tu_sentinel_intact(row_loss, sizeof row_loss) && tu_sentinel_intact(&loss, sizeof loss));
  logitnorm_loss_free(h);
  big_unmap(z, sizeof(float));
}
END_TEST

/* MSP scores and calibration over the same strided rows. MSP = max_c softmax(z)_c. */
START_TEST(test_scorer_and_calibration) {
  float *z = big_map(sizeof(float));
  for (int i = 0; i < N; ++i)
    for (int c = 0; c < C; ++c) z[i * BIG_LD + c] = (float)Z[i][c];
  logitnorm_scorer *s;
  ck_assert_int_eq(logitnorm_scorer_create(&s, LOGITNORM_SCORE_MSP, C, 0), LOGITNORM_OK);
  float scores[N];
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, N, z, BIG_LD, NULL, 0, scores), LOGITNORM_OK);
  int correct = 0;
  for (int i = 0; i < N; ++i) {
    double m = -INFINITY, sum = 0.0;
    int arg = 0;
    for (int c = 0; c < C; ++c)
      if (Z[i][c] > m) {
        m = Z[i][c];
        arg = c;
      }
    for (int c = 0; c < C; ++c) sum += exp(Z[i][c] - m);
    correct += arg == Y[i];
    ck_assert_double_eq_tol(scores[i], 1.0 / sum, 1e-6); /* float result in [0, 1]: a few ulps */
  }
  logitnorm_scorer_free(s);

  logitnorm_calibration *cal;
  ck_assert_int_eq(logitnorm_calibration_create(&cal, C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_add_f32(cal, N, z, BIG_LD, Y), LOGITNORM_OK);
  double count, acc;
  ck_assert_int_eq(logitnorm_calibration_value(cal, LOGITNORM_CALIBRATION_COUNT, &count), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_value(cal, LOGITNORM_CALIBRATION_ACCURACY, &acc), LOGITNORM_OK);
  ck_assert_double_eq(count, 3.0);
  /* rows: argmax 2 (y 2, right), argmax 0 (y 4, wrong), argmax 3 (y 3, right): 2 of 3 */
  ck_assert_int_eq(correct, 2);
  ck_assert_double_eq_tol(acc, 2.0 / 3.0, 1e-15);
  logitnorm_calibration_free(cal);
  big_unmap(z, sizeof(float));
}
END_TEST

/* 1 when size_t can hold the byte size of an N x BIG_LD float matrix (8 GiB). */
static int addressable(void) { return (uint64_t)((N - 1) * BIG_LD + C) * sizeof(float) <= SIZE_MAX; }

/* 32-bit targets: the same calls on buffers of N dense rows, with ld = BIG_LD, are rejected
   before any row is read or written (a wrapped offset would land inside or next to these
   small buffers and give a result instead): INVALID_ARGUMENT, a message, outputs untouched. */
START_TEST(test_unaddressable_rejected) {
  float z[N * C], g[N * C], row_loss[N], scores[N];
  double zd[N * C], td[N * C], row_loss_d[N], loss;
  for (int i = 0; i < N; ++i)
    for (int c = 0; c < C; ++c) {
      z[i * C + c] = (float)Z[i][c];
      zd[i * C + c] = Z[i][c];
      td[i * C + c] = c == Y[i] ? 1.0 : 0.0;
    }
  tu_sentinel_fill(g, sizeof g);
  tu_sentinel_fill(row_loss, sizeof row_loss);
  tu_sentinel_fill(row_loss_d, sizeof row_loss_d);
  tu_sentinel_fill(scores, sizeof scores);
  tu_sentinel_fill(&loss, sizeof loss);
  const double zd0 = zd[0];
  logitnorm_loss *h;
  ck_assert_int_eq(logitnorm_loss_create(&h, LOGITNORM_LOSS_LOGITNORM, C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_forward_backward_f32(h, N, z, BIG_LD, Y, &loss, row_loss, 1.0f, 1.0f, g, BIG_LD),
                   LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_str_ne(logitnorm_last_error(), "");
  ck_assert_int_eq(logitnorm_loss_forward_f32(h, N, z, BIG_LD, Y, &loss, row_loss), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(
      logitnorm_loss_forward_backward_soft_f64(h, N, zd, BIG_LD, td, BIG_LD, &loss, row_loss_d, 1.0, 0.0, zd, BIG_LD),
      LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert(tu_sentinel_intact(g, sizeof g) && tu_sentinel_intact(row_loss, sizeof row_loss));
  ck_assert(tu_sentinel_intact(row_loss_d, sizeof row_loss_d) && tu_sentinel_intact(&loss, sizeof loss));
  ck_assert(zd[0] == zd0); /* in place: nothing written */
  logitnorm_loss_free(h);

  logitnorm_scorer *s;
  ck_assert_int_eq(logitnorm_scorer_create(&s, LOGITNORM_SCORE_MSP, C, 0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, N, z, BIG_LD, NULL, 0, scores), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert(tu_sentinel_intact(scores, sizeof scores));
  logitnorm_scorer_free(s);

  logitnorm_calibration *cal;
  double count = -1.0;
  ck_assert_int_eq(logitnorm_calibration_create(&cal, C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_add_f32(cal, N, z, BIG_LD, Y), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(logitnorm_calibration_value(cal, LOGITNORM_CALIBRATION_COUNT, &count), LOGITNORM_OK);
  ck_assert_double_eq(count, 0.0);
  logitnorm_calibration_free(cal);
}
END_TEST

static Suite *large_suite(void) {
  Suite *s = suite_create("large_sizes");
  TCase *tc = tcase_create("large");
  tcase_set_timeout(tc, 60);
  if (addressable()) {
    tcase_add_test(tc, test_loss_f32_cross_entropy);
    tcase_add_test(tc, test_loss_f32_logitnorm);
    tcase_add_test(tc, test_loss_f64_soft_in_place);
    tcase_add_test(tc, test_loss_nan_far_away);
    tcase_add_test(tc, test_scorer_and_calibration);
  } else {
    tcase_add_test(tc, test_unaddressable_rejected);
  }
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(large_suite());
}
