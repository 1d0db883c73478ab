/* Extreme values and parameter ranges of the loss:
   (a) cross-entropy on rows holding +-FLT_MAX (f32) or values near +-DBL_MAX (f64) with label
       smoothing 0.1, on the AVX2 tile path (C = 2, every row in a full group) and row path
       (C = 100), against the double reference. Worked by hand for C = 2, z = (M, -M), y = 0:
       p = (1, 0), l = 0.9 * 0 + 0.05 (0 + 2M) = 0.1 M (3.40e37 for M = FLT_MAX); for C = 100,
       z = (M, -M, 0, ...), y = 0: l = 0.001 (2M + 98 M) = 0.1 M. The loss is checked to a
       relative 1e-5 (f32) or 1e-12 (f64), the gradient (entries of Q p - q, at most 1) to
       an absolute 1e-5 or 1e-12.
   (b) TEMPERATURE below 1e-30 is INVALID_ARGUMENT with the range in the message and the
       handle unchanged; 1e-30 is accepted and an f32 forward on finite logits stays finite
       and agrees with the reference (tolerance of test_loss_values.c).
   (c) TEMPERATURE on a CROSS_ENTROPY handle is UNSUPPORTED; getting it still works.
   (d) n = 0 accepts NULL for every data pointer of every loss entry point (loss_out 0 under
       SUM and NONE; under MEAN, which the header leaves open for n = 0, only OK and nothing
       but loss_out written).
   (e) a NaN in the one-dimensional row_scale is reported as row_scale[i].
   (f) rows whose range of u lies on either side of exp's underflow threshold (and of the
       kernels' cut for exp without clamp and flush), on the tile and row paths. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "loss_ref.h"
#include "test_util.h"
#include "parts.h"

/* 64 parts of 16 rows: every row in a full tile group (see test_loss_nan.c); LN_TEST_QUICK
   (valgrind, emulators): one tile per part (8 rows f32, 4 rows f64). */
static int64_t tile_rows(int f64) { return tu_quick() ? (f64 ? 256 : 512) : 1024; }

/* ---------------- (a) extreme cross-entropy rows ---------------- */

/* Rows of kind r (mod 4) for C classes and magnitude M:
     0: (M, -M, 0, ...), y = 0            1: (-M, M, 0, ...), y = 1
     2: (M, M, 0, ...), y = 1             3: (0, ..., M at C / 2, -M at C - 1), y = C / 2
   every label on a largest logit, so the row loss stays near 0.1 M (or log 2 + 0.1 M). */
/* Only every `every`-th row is extreme (the others hold small integers, label 0), so that
   the sum of the f64 row losses near 0.05 DBL_MAX stays finite. */
static void extreme_rows(int64_t n, int64_t C, double M, int64_t every, double *z, int32_t *y, double *t) {
  for (int64_t i = 0; i < n; ++i) {
    double *row = z + i * C, *ti = t + i * C;
    for (int64_t k = 0; k < C; ++k) row[k] = ti[k] = 0.0;
    if (i % every != every / 2) {
      for (int64_t k = 0; k < C; ++k) row[k] = (double)((i + k) % 7) - 3.0;
      y[i] = 0;
      ti[0] = 1.0;
      continue;
    }
    switch ((i / every) % 4) {
      case 0: row[0] = M; row[1] = -M; y[i] = 0; break;
      case 1: row[0] = -M; row[1] = M; y[i] = 1; break;
      case 2: row[0] = M; row[1] = M; y[i] = 1; break;
      default: row[C / 2] = M; row[C - 1] = -M; y[i] = (int32_t)(C / 2); break;
    }
    if (C == 2 && (i / every) % 4 == 3) { /* no room for kind 3: kind 0 again */
      row[0] = M;
      row[1] = -M;
      y[i] = 0;
    }
    ti[y[i]] = 1.0;
  }
}

static void check_extreme(int f64, int soft, int64_t n, int64_t C, double M, int64_t every, const char *what) {
  double *z = calloc((size_t)(n * C), sizeof *z), *t = calloc((size_t)(n * C), sizeof *t);
  int32_t *y = calloc((size_t)n, sizeof *y);
  double *want_rows = calloc((size_t)n, sizeof(double)), *want_grad = calloc((size_t)(n * C), sizeof(double));
  double *rows = calloc((size_t)n, sizeof(double)), *grad = calloc((size_t)(n * C), sizeof(double));
  float *zf = calloc((size_t)(n * C), sizeof *zf), *tf = calloc((size_t)(n * C), sizeof *tf);
  float *rowsf = calloc((size_t)n, sizeof *rowsf), *gradf = calloc((size_t)(n * C), sizeof *gradf);
  ck_assert(z && t && y && want_rows && want_grad && rows && grad && zf && tf && rowsf && gradf);
  extreme_rows(n, C, M, every, z, y, t);
  for (int64_t k = 0; k < n * C; ++k) {
    zf[k] = (float)z[k];
    tf[k] = (float)t[k];
  }
  lr_config cfg;
  lr_config_init(&cfg, LOGITNORM_LOSS_CROSS_ENTROPY, C);
  cfg.smoothing = 0.1;
  cfg.reduction = LOGITNORM_REDUCTION_SUM;
  double want = soft ? lr_batch_soft(&cfg, n, z, C, t, C, want_rows, want_grad)
                     : lr_batch_hard(&cfg, n, z, C, y, want_rows, want_grad);

  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_CROSS_ENTROPY, C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_LABEL_SMOOTHING, 0.1), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_SUM), LOGITNORM_OK);
  double loss = NAN;
  logitnorm_status st;
  if (f64)
    st = soft ? logitnorm_loss_forward_backward_soft_f64(L, n, z, C, t, C, &loss, rows, 1.0, 0.0, grad, C)
              : logitnorm_loss_forward_backward_f64(L, n, z, C, y, &loss, rows, 1.0, 0.0, grad, C);
  else
    st = soft ? logitnorm_loss_forward_backward_soft_f32(L, n, zf, C, tf, C, &loss, rowsf, 1.0f, 0.0f, gradf, C)
              : logitnorm_loss_forward_backward_f32(L, n, zf, C, y, &loss, rowsf, 1.0f, 0.0f, gradf, C);
  ck_assert_msg(st == LOGITNORM_OK, "%s: status %d: %s", what, (int)st, logitnorm_last_error());
  if (!f64)
    for (int64_t k = 0; k < n * C; ++k) grad[k] = gradf[k];
  if (!f64)
    for (int64_t i = 0; i < n; ++i) rows[i] = rowsf[i];
  const double rel = f64 ? 1e-12 : 1e-5, gabs = f64 ? 1e-12 : 1e-5;
  for (int64_t i = 0; i < n; ++i)
    if (!(isfinite(rows[i]) && fabs(rows[i] - want_rows[i]) <= rel * fabs(want_rows[i]) + gabs))
      ck_abort_msg("%s (%s %s): row_loss[%lld] = %.9g, reference %.9g", what, f64 ? "f64" : "f32",
                   soft ? "soft" : "hard", (long long)i, rows[i], want_rows[i]);
  ck_assert_msg(isfinite(loss) && fabs(loss - want) <= rel * fabs(want), "%s (%s %s): loss %.9g, reference %.9g",
                what, f64 ? "f64" : "f32", soft ? "soft" : "hard", loss, want);
  for (int64_t k = 0; k < n * C; ++k)
    if (!(isfinite(grad[k]) && fabs(grad[k] - want_grad[k]) <= gabs))
      ck_abort_msg("%s (%s %s): grad[%lld][%lld] = %.9g, reference %.9g", what, f64 ? "f64" : "f32",
                   soft ? "soft" : "hard", (long long)(k / C), (long long)(k % C), grad[k], want_grad[k]);
  logitnorm_loss_free(L);
  free(z), free(t), free(y), free(want_rows), free(want_grad), free(rows), free(grad);
  free(zf), free(tf), free(rowsf), free(gradf);
}

/* The hand-worked value first: (FLT_MAX, -FLT_MAX), y = 0, smoothing 0.1 costs 0.1 FLT_MAX. */
START_TEST(hand_worked_flt_max) {
  lr_config cfg;
  lr_config_init(&cfg, LOGITNORM_LOSS_CROSS_ENTROPY, 2);
  cfg.smoothing = 0.1;
  const double z[2] = {FLT_MAX, -FLT_MAX};
  double q[2];
  lr_targets_hard(&cfg, 0, q);
  double l = lr_row_loss(&cfg, z, q);
  ck_assert_msg(fabs(l - 0.1 * FLT_MAX) <= 1e-12 * l, "reference %.9g", l); /* 3.40e37 */
}
END_TEST

/* Loop index: soft. */
START_TEST(flt_max_tile_path) { check_extreme(0, _i, tile_rows(0), 2, FLT_MAX, 1, "C = 2, FLT_MAX, tile path"); }
END_TEST

START_TEST(flt_max_row_path) { check_extreme(0, _i, 8, 100, FLT_MAX, 1, "C = 100, FLT_MAX, row path"); }
END_TEST

/* f64: M = DBL_MAX / 2, so that the largest difference of two logits (2M) is DBL_MAX and the
   loss (0.1 M, or 0.05 DBL_MAX) is finite; C = 100 sums 98 terms of size M in the smoothing
   part, which must not overflow either. On the tile path one row in 64 is extreme (one per
   part), so that the 16 extreme row losses still add up to a finite loss_out. */
START_TEST(dbl_max_tile_path) { check_extreme(1, _i, tile_rows(1), 2, DBL_MAX / 2, 64, "C = 2, DBL_MAX / 2, tile path"); }
END_TEST

START_TEST(dbl_max_row_path) { check_extreme(1, _i, 8, 100, DBL_MAX / 2, 1, "C = 100, DBL_MAX / 2, row path"); }
END_TEST

/* ---------------- (b) and (c) temperature ---------------- */

static const char *plant_marker(logitnorm_loss *L) {
  double v;
  ck_assert_int_eq(logitnorm_loss_get(L, (logitnorm_loss_param)31337, &v), LOGITNORM_ERR_INVALID_ARGUMENT);
  return logitnorm_last_error();
}

START_TEST(temperature_below_range) {
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_LOGITNORM, 10), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, 0.5), LOGITNORM_OK);
  const double bad[4] = {1e-39, 9.99e-31, 5e-324, 1e-300};
  for (int b = 0; b < 4; ++b) {
    char marker[256];
    strncpy(marker, plant_marker(L), sizeof marker - 1);
    marker[sizeof marker - 1] = '\0';
    ck_assert_msg(logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, bad[b]) == LOGITNORM_ERR_INVALID_ARGUMENT,
                  "temperature %g accepted", bad[b]);
    const char *msg = logitnorm_last_error();
    ck_assert_msg(strcmp(msg, marker) != 0 && strstr(msg, "1e-30") != NULL,
                  "temperature %g: message \"%s\" does not give the range", bad[b], msg);
    double v = NAN;
    ck_assert_int_eq(logitnorm_loss_get(L, LOGITNORM_LOSS_TEMPERATURE, &v), LOGITNORM_OK);
    ck_assert_msg(v == 0.5, "a rejected temperature changed the handle to %g", v);
  }
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, 1e-30), LOGITNORM_OK);
  double v = NAN;
  ck_assert_int_eq(logitnorm_loss_get(L, LOGITNORM_LOSS_TEMPERATURE, &v), LOGITNORM_OK);
  ck_assert(v == 1e-30);
  logitnorm_loss_free(L);
}
END_TEST

/* tau = 1e-30: |u| reaches 1e30, still a float; the f32 forward is finite and agrees with
   the reference. Loop index: 0 tile path (C = 10), 1 row path (C = 100). */
START_TEST(smallest_temperature_forward) {
  const int64_t C = _i ? 100 : 10, n = _i ? 6 : tile_rows(0);
  tu_rng r;
  tu_seed(&r, 31);
  float *zf = malloc((size_t)(n * C) * sizeof *zf), *rows = malloc((size_t)n * sizeof *rows);
  double *z = malloc((size_t)(n * C) * sizeof *z), *want_rows = malloc((size_t)n * sizeof *want_rows);
  double *q = malloc((size_t)C * sizeof *q);
  int32_t *y = malloc((size_t)n * sizeof *y);
  ck_assert(zf && rows && z && want_rows && q && y);
  for (int64_t k = 0; k < n * C; ++k) z[k] = zf[k] = (float)(4.0 * tu_uniform(&r) - 2.0);
  for (int64_t i = 0; i < n; ++i) y[i] = (int32_t)tu_int(&r, 0, C - 1);
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_LOGITNORM, C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, 1e-30), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_SUM), LOGITNORM_OK);
  double loss = NAN;
  ck_assert_int_eq(logitnorm_loss_forward_f32(L, n, zf, C, y, &loss, rows), LOGITNORM_OK);
  lr_config cfg;
  lr_config_init(&cfg, LOGITNORM_LOSS_LOGITNORM, C);
  cfg.tau = 1e-30;
  cfg.reduction = LOGITNORM_REDUCTION_SUM;
  double want = lr_batch_hard(&cfg, n, z, C, y, want_rows, NULL);
  const double uT = FLT_EPSILON / 2, ud = DBL_EPSILON / 2;
  double tol_sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    lr_targets_hard(&cfg, y[i], q);
    lr_row_scale s = lr_row_size(&cfg, z + i * C, q);
    double tol = 16.0 * (uT * (s.umax + 10.0) + ud * (double)C) * s.Q + 4.0 * uT * fabs(want_rows[i]);
    tol_sum += tol;
    if (!(isfinite(rows[i]) && fabs(rows[i] - want_rows[i]) <= tol))
      ck_abort_msg("tau 1e-30, C = %lld: row_loss[%lld] = %.9g, reference %.9g (tol %.3g)", (long long)C,
                   (long long)i, (double)rows[i], want_rows[i], tol);
  }
  ck_assert_msg(isfinite(loss) && fabs(loss - want) <= tol_sum + 4.0 * ud * fabs(want), "loss %.9g, reference %.9g",
                loss, want);
  logitnorm_loss_free(L);
  free(zf), free(rows), free(z), free(want_rows), free(q), free(y);
}
END_TEST

START_TEST(temperature_on_cross_entropy) {
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_CROSS_ENTROPY, 5), LOGITNORM_OK);
  double before = NAN, after = NAN;
  ck_assert_int_eq(logitnorm_loss_get(L, LOGITNORM_LOSS_TEMPERATURE, &before), LOGITNORM_OK);
  const double values[3] = {0.5, 0.04, 1e-39};
  for (int k = 0; k < 3; ++k) {
    char marker[256];
    strncpy(marker, plant_marker(L), sizeof marker - 1);
    marker[sizeof marker - 1] = '\0';
    ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, values[k]), LOGITNORM_ERR_UNSUPPORTED);
    const char *msg = logitnorm_last_error();
    ck_assert_msg(msg[0] != '\0' && strcmp(msg, marker) != 0, "no fresh message");
    ck_assert_int_eq(logitnorm_loss_get(L, LOGITNORM_LOSS_TEMPERATURE, &after), LOGITNORM_OK);
    ck_assert_msg(memcmp(&before, &after, sizeof before) == 0, "temperature changed from %g to %g", before, after);
  }
  logitnorm_loss_free(L);
}
END_TEST

/* ---------------- (d) n = 0 ---------------- */

/* The twelve entry points with n = 0. ptrs: 0 all data pointers NULL, 1 sentinel buffers. */
static logitnorm_status empty_call(const logitnorm_loss *L, int v, int ptrs, double *loss_out, void *buf) {
  int f64 = v & 1, soft = (v >> 1) & 1, op = v >> 2;
  const void *z = ptrs ? buf : NULL, *t = ptrs ? buf : NULL, *rs = ptrs ? buf : NULL;
  const int32_t *y = ptrs ? (const int32_t *)buf : NULL;
  void *row = ptrs ? (char *)buf + 64 : NULL, *g = ptrs ? (char *)buf + 128 : NULL;
  if (f64) {
    if (soft) {
      if (op == 0) return logitnorm_loss_forward_soft_f64(L, 0, z, 3, t, 3, loss_out, row);
      if (op == 1) return logitnorm_loss_backward_soft_f64(L, 0, z, 3, t, 3, rs, 1.0, 0.0, g, 3);
      return logitnorm_loss_forward_backward_soft_f64(L, 0, z, 3, t, 3, loss_out, row, 1.0, 0.0, g, 3);
    }
    if (op == 0) return logitnorm_loss_forward_f64(L, 0, z, 3, y, loss_out, row);
    if (op == 1) return logitnorm_loss_backward_f64(L, 0, z, 3, y, rs, 1.0, 0.0, g, 3);
    return logitnorm_loss_forward_backward_f64(L, 0, z, 3, y, loss_out, row, 1.0, 0.0, g, 3);
  }
  if (soft) {
    if (op == 0) return logitnorm_loss_forward_soft_f32(L, 0, z, 3, t, 3, loss_out, row);
    if (op == 1) return logitnorm_loss_backward_soft_f32(L, 0, z, 3, t, 3, rs, 1.0f, 0.0f, g, 3);
    return logitnorm_loss_forward_backward_soft_f32(L, 0, z, 3, t, 3, loss_out, row, 1.0f, 0.0f, g, 3);
  }
  if (op == 0) return logitnorm_loss_forward_f32(L, 0, z, 3, y, loss_out, row);
  if (op == 1) return logitnorm_loss_backward_f32(L, 0, z, 3, y, rs, 1.0f, 0.0f, g, 3);
  return logitnorm_loss_forward_backward_f32(L, 0, z, 3, y, loss_out, row, 1.0f, 0.0f, g, 3);
}

/* Loop index: kind * 3 + reduction. */
START_TEST(empty_batch) {
  int kind = _i / 3, red = _i % 3;
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, (logitnorm_loss_kind)kind, 3), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, red), LOGITNORM_OK);
  for (int check = 0; check < 2; ++check) {
    ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_CHECK_FINITE, check), LOGITNORM_OK);
    for (int v = 0; v < 12; ++v)
      for (int ptrs = 0; ptrs < 2; ++ptrs) {
        static unsigned char buf[256];
        double loss_out;
        tu_sentinel_fill(buf, sizeof buf);
        tu_sentinel_fill(&loss_out, sizeof loss_out);
        logitnorm_status st = empty_call(L, v, ptrs, &loss_out, buf);
        ck_assert_msg(st == LOGITNORM_OK, "n = 0, variant %d (%s data): status %d: %s", v, ptrs ? "sentinel" : "NULL",
                      (int)st, logitnorm_last_error());
        ck_assert_msg(tu_sentinel_intact(buf, sizeof buf), "n = 0, variant %d: a data buffer was written", v);
        int has_loss_out = (v >> 2) != 1;
        if (has_loss_out && red != LOGITNORM_REDUCTION_MEAN)
          ck_assert_msg(loss_out == 0.0, "n = 0, variant %d: loss_out %g, want 0", v, loss_out);
        if (!has_loss_out) ck_assert(tu_sentinel_intact(&loss_out, sizeof loss_out));
        /* loss_out may be NULL too */
        ck_assert_int_eq(empty_call(L, v, ptrs, NULL, buf), LOGITNORM_OK);
      }
  }
  /* the handle is still required */
  for (int v = 0; v < 12; ++v) ck_assert_int_eq(empty_call(NULL, v, 0, NULL, NULL), LOGITNORM_ERR_NULL_POINTER);
  logitnorm_loss_free(L);
}
END_TEST

/* ---------------- (e) the row_scale message ---------------- */

START_TEST(row_scale_message) {
  enum { N = 6, C = 4 };
  float zf[N * C], tf[N * C], rsf[N], gf[N * C];
  double zd[N * C], td[N * C], rsd[N], gd[N * C];
  int32_t y[N];
  for (int k = 0; k < N * C; ++k) {
    zf[k] = (float)(zd[k] = 0.25 * (k % 7) - 0.5);
    tf[k] = (float)(td[k] = 0.25);
  }
  for (int i = 0; i < N; ++i) {
    rsf[i] = (float)(rsd[i] = 1.0);
    y[i] = i % C;
  }
  rsf[4] = NAN;
  rsd[4] = NAN;
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_LOGITNORM, C), LOGITNORM_OK);
  for (int v = 0; v < 4; ++v) {
    int f64 = v & 1, soft = v >> 1;
    logitnorm_status st;
    if (f64)
      st = soft ? logitnorm_loss_backward_soft_f64(L, N, zd, C, td, C, rsd, 1.0, 0.0, gd, C)
                : logitnorm_loss_backward_f64(L, N, zd, C, y, rsd, 1.0, 0.0, gd, C);
    else
      st = soft ? logitnorm_loss_backward_soft_f32(L, N, zf, C, tf, C, rsf, 1.0f, 0.0f, gf, C)
                : logitnorm_loss_backward_f32(L, N, zf, C, y, rsf, 1.0f, 0.0f, gf, C);
    ck_assert_int_eq(st, LOGITNORM_ERR_NONFINITE);
    const char *msg = logitnorm_last_error();
    ck_assert_msg(strstr(msg, "row_scale[4]") != NULL && strstr(msg, "row_scale[0]") == NULL,
                  "variant %d: message \"%s\", want it to name row_scale[4]", v, msg);
  }
  logitnorm_loss_free(L);
}
END_TEST

/* ---------------- (f) rows around exp's underflow threshold ---------------- */

/* The AVX2 kernels take exp without its clamp and underflow flush on rows whose range of u
   (max u - min u) is at most 80 (f32; 700 f64), and with them above. n rows of C classes whose
   range of u is `range`: z_c = -s c' / (C - 1) for c' = (c + i) mod C (the maximum moves with
   the row), s = range for cross-entropy; LogitNorm rows use s = 3 and tau chosen so that
   max u - min u = range (u = z / (tau ||z||)). Labels i mod C. Against the double reference:
   row losses and gradient entries (relative to the row's largest) to 1e-5 (f32) / 1e-12 (f64),
   times the range for LogitNorm. */
static void check_range(int f64, int kind, int64_t n, int64_t C, double range) {
  double *z = malloc((size_t)(n * C) * sizeof *z), *want_rows = malloc((size_t)n * sizeof(double));
  double *want_grad = malloc((size_t)(n * C) * sizeof(double)), *rows = malloc((size_t)n * sizeof(double));
  double *grad = malloc((size_t)(n * C) * sizeof(double));
  float *zf = malloc((size_t)(n * C) * sizeof *zf), *rowsf = malloc((size_t)n * sizeof *rowsf);
  float *gradf = malloc((size_t)(n * C) * sizeof *gradf);
  int32_t *y = malloc((size_t)n * sizeof *y);
  ck_assert(z && want_rows && want_grad && rows && grad && zf && rowsf && gradf && y);
  const int ln = kind == LOGITNORM_LOSS_LOGITNORM;
  const double s = ln ? 3.0 : range;
  double norm2 = 0.0;
  for (int64_t c = 0; c < C; ++c) norm2 += (s * c / (double)(C - 1)) * (s * c / (double)(C - 1));
  /* tau rounded to float, so both the library and the reference use the same value */
  const double tau = ln ? (double)(float)(s / (sqrt(norm2) * range)) : 1.0;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t c = 0; c < C; ++c) {
      double v = -s * (double)((c + i) % C) / (double)(C - 1);
      zf[i * C + c] = (float)v;
      z[i * C + c] = f64 ? v : (double)zf[i * C + c];
    }
    y[i] = (int32_t)(i % C);
  }
  lr_config cfg;
  lr_config_init(&cfg, kind, C);
  if (ln) cfg.tau = tau;
  cfg.reduction = LOGITNORM_REDUCTION_SUM;
  lr_batch_hard(&cfg, n, z, C, y, want_rows, want_grad);
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, kind, C), LOGITNORM_OK);
  if (ln) ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, tau), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_SUM), LOGITNORM_OK);
  double loss = NAN;
  logitnorm_status st = f64 ? logitnorm_loss_forward_backward_f64(L, n, z, C, y, &loss, rows, 1.0, 0.0, grad, C)
                            : logitnorm_loss_forward_backward_f32(L, n, zf, C, y, &loss, rowsf, 1.0f, 0.0f, gradf, C);
  ck_assert_msg(st == LOGITNORM_OK, "status %d: %s", (int)st, logitnorm_last_error());
  if (!f64) {
    for (int64_t k = 0; k < n * C; ++k) grad[k] = gradf[k];
    for (int64_t i = 0; i < n; ++i) rows[i] = rowsf[i];
  }
  /* LogitNorm's u - m carries a rounding error of about eps * range, which its gradient (a
     difference of terms of size 1 / (tau ||z||)) amplifies: its tolerance grows with the range.
     A wrong cut would give errors of order 1 or infinities. */
  const double rel = (f64 ? 1e-12 : 1e-5) * (ln ? fmax(1.0, range) : 1.0), gabs = f64 ? 1e-12 : 1e-6;
  const char *name = ln ? "LogitNorm" : "cross-entropy";
  for (int64_t i = 0; i < n; ++i)
    ck_assert_msg(isfinite(rows[i]) && fabs(rows[i] - want_rows[i]) <= rel * fabs(want_rows[i]) + gabs,
                  "%s %s C = %lld, range %g: row_loss[%lld] = %.9g, reference %.9g", name, f64 ? "f64" : "f32",
                  (long long)C, range, (long long)i, rows[i], want_rows[i]);
  for (int64_t i = 0; i < n; ++i) {
    /* the gradient entries cancel: judge them against the row's largest, or against the size
       the row's gradient can reach (k = 1 / (tau ||z||) = range / s for LogitNorm, 1 for
       cross-entropy) when the row is confident and its gradient all but 0 */
    double big = ln ? range / s : 1.0;
    for (int64_t c = 0; c < C; ++c) big = fmax(big, fabs(want_grad[i * C + c]));
    for (int64_t c = 0; c < C; ++c) {
      const int64_t k = i * C + c;
      ck_assert_msg(fabs(grad[k] - want_grad[k]) <= rel * big + gabs,
                    "%s %s C = %lld, range %g: grad[%lld][%lld] = %.9g, reference %.9g", name, f64 ? "f64" : "f32",
                    (long long)C, range, (long long)i, (long long)c, grad[k], want_grad[k]);
    }
  }
  logitnorm_loss_free(L);
  free(z), free(want_rows), free(want_grad), free(rows), free(grad), free(zf), free(rowsf), free(gradf), free(y);
}

/* Loop index: f64 * 2 + (kind == LOGITNORM); each runs the tile path (C = 10, and C = 100 for
   f32) and the row path (C = 100 on 16 rows) at ranges on both sides of the cut and of the
   underflow threshold. */
START_TEST(exp_threshold_rows) {
  const int f64 = _i / 2, kind = _i % 2 ? LOGITNORM_LOSS_LOGITNORM : LOGITNORM_LOSS_CROSS_ENTROPY;
  const double r32[] = {40.0, 79.9, 80.1, 86.0, 87.5, 88.0, 90.0, 100.0, 150.0, 1000.0};
  const double r64[] = {650.0, 699.9, 700.1, 708.0, 709.0, 710.0, 720.0, 800.0, 3000.0};
  const double *r = f64 ? r64 : r32;
  const int nr = f64 ? (int)(sizeof r64 / sizeof r64[0]) : (int)(sizeof r32 / sizeof r32[0]);
  for (int j = 0; j < nr; ++j) {
    check_range(f64, kind, tile_rows(f64), 10, r[j]);
    check_range(f64, kind, tile_rows(f64), 100, r[j]);
    check_range(f64, kind, 16, 100, r[j]);
  }
}
END_TEST

TCase *loss_extremes_ranges_tcase(void) {
  TCase *tc = tcase_create("ranges");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, hand_worked_flt_max);
  tcase_add_loop_test(tc, flt_max_tile_path, 0, 2);
  tcase_add_loop_test(tc, flt_max_row_path, 0, 2);
  tcase_add_loop_test(tc, dbl_max_tile_path, 0, 2);
  tcase_add_loop_test(tc, dbl_max_row_path, 0, 2);
  tcase_add_test(tc, temperature_below_range);
  tcase_add_loop_test(tc, smallest_temperature_forward, 0, 2);
  tcase_add_test(tc, temperature_on_cross_entropy);
  tcase_add_loop_test(tc, empty_batch, 0, 6);
  tcase_add_test(tc, row_scale_message);
  tcase_add_loop_test(tc, exp_threshold_rows, 0, 4);
  return tc;
}
