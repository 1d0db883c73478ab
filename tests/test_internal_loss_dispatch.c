/* The AVX2+FMA row kernels against the generic ones, called directly on the same job.
   Both evaluate the same formulas in the same precision; they differ only in
   - exp: the vector exp is within 2 ulp, libm's within 1;
   - rounding order: FMA contraction, and pass-2 sums added in a different order (the
     vector kernels add in lanes and blocks, the generic ones left to right);
   - k = 1/(tau (||z|| + eps)) rounded to T from double sums of squares added in another
     order, which can move k by one ulp of T and so every u = k z by one ulp.
   With |u| <= 1/tau = 25 (LogitNorm) or the logits' scale (cross-entropy, |z| <= 8 here),
   one ulp of u is at most 25 * 2^-23 = 3e-6 in float, and p = exp(u - m)/s then moves by that
   relative amount; a few such ulps plus the exp and sum differences stay below 2e-5 in float
   and 1e-12 in double (2^-52 * 25 * a few). The error of a gradient element is measured
   against |ref_c| + max_c |ref_c| of its row plus the size of the terms it is made of:
   the target column is a difference (p_y - 1), and LogitNorm's gradient k g - (g.u) u tau/||z||
   is a difference of two terms of size about k times the row's weights, which can cancel
   almost completely (e.g. C = 2), so its rounding error scales with the terms, not the result. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dispatch.h"
#include "loss/loss.h"
#if defined(LN_HAVE_AVX2) /* the build has the AVX2 kernels (tests/CMakeLists.txt) */
#include "loss/rows_avx2.h"
#include "loss/scan_avx2.h"
#endif
#include "logitnorm.h"
#include "test_util.h"

#define SENTINEL 12345.0

static uint64_t rng_state;
static double uniform(void) { /* in [0, 1) */
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(rng_state >> 11) * 0x1.0p-53;
}

#if defined(LN_HAVE_AVX2)
typedef struct config {
  int f64, soft, kind, weights, row_scale, ignore;
  double smoothing, beta, scale;
  int64_t n, C, pad;
} config;

/* Runs the generic and the AVX2 kernel on identical inputs and compares the results. */
static void compare(const config *cfg) {
  const int64_t n = cfg->n, C = cfg->C, ld = C + cfg->pad;
  const size_t es = cfg->f64 ? sizeof(double) : sizeof(float);
  const double rtol = cfg->f64 ? 1e-12 : 2e-5;
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, cfg->kind, C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_LABEL_SMOOTHING, cfg->smoothing), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_IGNORE_INDEX, 1), LOGITNORM_OK); /* inside [0, C) */
  double maxw = 1.0;
  if (cfg->weights) {
    float *w = malloc((size_t)C * sizeof *w);
    for (int64_t c = 0; c < C; ++c) {
      w[c] = (float)(0.25 + 2.0 * uniform());
      maxw = fmax(maxw, w[c]);
    }
    ck_assert_int_eq(logitnorm_loss_set_class_weights(L, w), LOGITNORM_OK);
    free(w);
  }
  size_t mat = (size_t)(n * ld + 1);
  double *zd = malloc(mat * sizeof(double)), *td = malloc(mat * sizeof(double)), *gd = malloc(mat * sizeof(double));
  double *rsd = malloc((size_t)(n + 1) * sizeof(double));
  int32_t *labels = malloc((size_t)(n + 1) * sizeof(int32_t));
  for (size_t j = 0; j < mat; ++j) {
    zd[j] = cfg->scale * (2.0 * uniform() - 1.0);
    td[j] = uniform();
    gd[j] = 2.0 * uniform() - 1.0;
  }
  for (int64_t i = 0; i < n; ++i) {
    labels[i] = (int32_t)(uniform() * (double)C);
    if (!cfg->ignore && labels[i] == 1) labels[i] = C > 2 ? 2 : 0; /* 1 is the ignore index */
    if (cfg->ignore && i % 3 == 1) labels[i] = 1;
    rsd[i] = 0.5 + uniform();
    double tsum = 0.0; /* probability rows summing to 1 */
    for (int64_t c = 0; c < C; ++c) tsum += td[i * ld + c];
    for (int64_t c = 0; c < C; ++c) td[i * ld + c] /= tsum;
    for (int64_t c = C; c < ld; ++c) gd[i * ld + c] = SENTINEL;
    if (i == 2 && C > 1) memset(zd + i * ld, 0, (size_t)C * sizeof(double)); /* zero row: k = 1/(tau eps) */
    if (i == 3) for (int64_t c = 0; c < C; ++c) zd[i * ld + c] *= 1e-25; /* sum of squares underflow range */
  }
  /* buffers of the kernel's type */
  void *z = malloc(mat * es), *t = malloc(mat * es), *g_ref = malloc(mat * es), *g_simd = malloc(mat * es);
  void *rl_ref = malloc((size_t)(n + 1) * es), *rl_simd = malloc((size_t)(n + 1) * es), *rs = malloc((size_t)(n + 1) * es);
  for (size_t j = 0; j < mat; ++j) {
    if (cfg->f64) {
      ((double *)z)[j] = zd[j];
      ((double *)t)[j] = td[j];
      ((double *)g_ref)[j] = ((double *)g_simd)[j] = gd[j];
    } else {
      ((float *)z)[j] = (float)zd[j];
      ((float *)t)[j] = (float)td[j];
      ((float *)g_ref)[j] = ((float *)g_simd)[j] = (float)gd[j];
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    if (cfg->f64)
      ((double *)rs)[i] = rsd[i];
    else
      ((float *)rs)[i] = (float)rsd[i];
  }
  ln_loss_job job = {.loss = L, .mode = cfg->soft ? LN_ROWS_TARGETS : LN_ROWS_LABELS, .logits = z, .ld = ld, .labels = cfg->soft ? NULL : labels,
                     .targets = cfg->soft ? t : NULL, .ldt = ld, .row_scale = cfg->row_scale ? rs : NULL,
                     .row_loss = rl_ref, .grad = g_ref, .ldg = ld, .gscale = 0.7, .beta = cfg->beta};
  ln_loss_job job2 = job;
  job2.row_loss = rl_simd;
  job2.grad = g_simd;
  ln_loss_rows_fn ref = cfg->f64 ? ln_loss_rows_f64 : ln_loss_rows_f32;
  ln_loss_rows_fn simd = cfg->f64 ? ln_loss_rows_f64_avx2 : ln_loss_rows_f32_avx2;
  double tot_ref = ref(&job, 0, n, NULL), tot_simd = simd(&job2, 0, n, NULL);
  ck_assert_msg(fabs(tot_ref - tot_simd) <= rtol * (1.0 + fabs(tot_ref)) * (double)(n + 1),
                "total %.17g vs %.17g (f64 %d soft %d C %lld)", tot_ref, tot_simd, cfg->f64, cfg->soft, (long long)C);
  for (int64_t i = 0; i < n; ++i) {
    double a = cfg->f64 ? ((double *)rl_ref)[i] : ((float *)rl_ref)[i];
    double b = cfg->f64 ? ((double *)rl_simd)[i] : ((float *)rl_simd)[i];
    ck_assert_msg(fabs(a - b) <= rtol * (1.0 + fabs(a)), "row_loss[%lld] %.17g vs %.17g", (long long)i, a, b);
    double rowmax = 0.0, ss = 0.0;
    for (int64_t c = 0; c < C; ++c) {
      double r = cfg->f64 ? ((double *)g_ref)[i * ld + c] : ((float *)g_ref)[i * ld + c];
      double zc = cfg->f64 ? ((double *)z)[i * ld + c] : ((float *)z)[i * ld + c];
      rowmax = fmax(rowmax, fabs(r));
      ss += zc * zc;
    }
    /* size of the two gradient terms: gscale * row_scale * k * (1 + max weight), and beta grad */
    double k = cfg->kind == LOGITNORM_LOSS_LOGITNORM ? 1.0 / (0.04 * (sqrt(ss) + 1e-7)) : 1.0;
    double terms = 0.7 * (cfg->row_scale ? rsd[i] * 1.01 : 1.0) * k * (1.0 + maxw) + fabs(cfg->beta);
    for (int64_t c = 0; c < ld; ++c) {
      double r = cfg->f64 ? ((double *)g_ref)[i * ld + c] : ((float *)g_ref)[i * ld + c];
      double s = cfg->f64 ? ((double *)g_simd)[i * ld + c] : ((float *)g_simd)[i * ld + c];
      if (c >= C) {
        ck_assert_msg(s == SENTINEL, "padding grad[%lld][%lld] touched", (long long)i, (long long)c);
        continue;
      }
      if (!cfg->soft && labels[i] == 1) { /* ignored: exactly what the generic kernel writes */
        ck_assert_msg(s == r, "ignored row %lld: %.17g vs %.17g", (long long)i, s, r);
        continue;
      }
      ck_assert_msg(fabs(r - s) <= rtol * (fabs(r) + rowmax + terms),
                    "grad[%lld][%lld] %.17g vs %.17g (f64 %d soft %d kind %d C %lld beta %g)", (long long)i,
                    (long long)c, r, s, cfg->f64, cfg->soft, cfg->kind, (long long)C, cfg->beta);
    }
  }
  /* in place: grad == logits gives the same bits as a separate grad holding the same values */
  if (cfg->beta == 0.0 || cfg->beta == 1.0) {
    void *zin = malloc(mat * es), *gsep = malloc(mat * es);
    memcpy(zin, z, mat * es);
    memcpy(gsep, z, mat * es);
    ln_loss_job sep = job2, inpl = job2;
    sep.grad = gsep;
    inpl.logits = zin;
    inpl.grad = zin;
    double a = simd(&sep, 0, n, NULL), b = simd(&inpl, 0, n, NULL);
    ck_assert(a == b);
    ck_assert_msg(memcmp(zin, gsep, mat * es) == 0, "in-place result differs (C %lld)", (long long)C);
    free(zin);
    free(gsep);
  }
  /* forward only: same losses, grad untouched */
  job2.grad = NULL;
  job2.row_loss = rl_simd;
  double tot_fwd = simd(&job2, 0, n, NULL);
  ck_assert(tot_fwd == tot_simd);
  free(z); free(t); free(g_ref); free(g_simd); free(rl_ref); free(rl_simd); free(rs);
  free(zd); free(td); free(gd); free(rsd); free(labels);
  logitnorm_loss_free(L);
}

START_TEST(avx2_matches_generic) {
  rng_state = 42;
  /* tile path up to C = 104 (f32) and 48 (f64); the row path keeps exp for 4096 float / 2048
     double columns on the stack (in place, beta != 0) and computes it again beyond */
  const int64_t Cs[] = {1, 2, 3, 7, 8, 9, 10, 15, 16, 17, 31, 48, 49, 100, 104, 105, 1000, 4105};
  const int64_t ns[] = {0, 1, 7, 8, 13, 37};
  /* under tu_quick (valgrind): every 17th configuration (17 is prime to the 16 variants and 6 n) */
  const int every = tu_quick() ? 17 : 1;
  int cases = 0, index = 0;
  for (size_t ci = 0; ci < sizeof Cs / sizeof Cs[0]; ++ci)
    for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ++ni)
      for (int variant = 0; variant < 16; ++variant) {
        if (index++ % every != 0) continue;
        config cfg;
        cfg.C = Cs[ci];
        cfg.n = ns[ni];
        cfg.f64 = variant & 1;
        cfg.soft = (variant >> 1) & 1;
        cfg.kind = (variant >> 2) & 1 ? LOGITNORM_LOSS_CROSS_ENTROPY : LOGITNORM_LOSS_LOGITNORM;
        cfg.weights = (variant >> 3) & 1;
        cfg.row_scale = (int)(ni % 2);
        cfg.ignore = !cfg.soft && cfg.C > 1 && (variant % 3 != 0);
        cfg.smoothing = (ci + ni) % 2 ? 0.1 : 0.0;
        cfg.beta = (ci + variant) % 3 == 0 ? 0.0 : ((ci + variant) % 3 == 1 ? 1.0 : 0.5);
        cfg.scale = cfg.kind == LOGITNORM_LOSS_CROSS_ENTROPY ? 8.0 : 100.0;
        cfg.pad = (int64_t)((ni + variant) % 3);
        compare(&cfg);
        ++cases;
      }
  printf("%d configurations compared\n", cases);
}
END_TEST
#endif /* LN_HAVE_AVX2 */

/* The dispatched public call gives bitwise identical results with THREADS = 1 and 2 (the row
   parts are fixed), on both the tile path (C = 10) and the row path (C = 1000). */
START_TEST(threads_bitwise_identical) {
  rng_state = 7;
  const int64_t shapes[2][2] = {{8192, 10}, {64, 1000}};
  for (int s = 0; s < 2; ++s) {
    int64_t n = shapes[s][0], C = shapes[s][1];
    float *z = malloc((size_t)(n * C) * sizeof *z), *g1 = malloc((size_t)(n * C) * sizeof *g1),
          *g2 = malloc((size_t)(n * C) * sizeof *g2);
    int32_t *y = malloc((size_t)n * sizeof *y);
    for (int64_t j = 0; j < n * C; ++j) z[j] = (float)(10.0 * uniform() - 5.0);
    for (int64_t i = 0; i < n; ++i) y[i] = (int32_t)(uniform() * (double)C);
    logitnorm_loss *L = NULL;
    ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_LOGITNORM, C), LOGITNORM_OK);
    double l1 = 0, l2 = 0;
    ck_assert_int_eq(logitnorm_loss_forward_backward_f32(L, n, z, C, y, &l1, NULL, 1.0f, 0.0f, g1, C), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_THREADS, 2), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_loss_forward_backward_f32(L, n, z, C, y, &l2, NULL, 1.0f, 0.0f, g2, C), LOGITNORM_OK);
    ck_assert(memcmp(&l1, &l2, sizeof l1) == 0);
    ck_assert(memcmp(g1, g2, (size_t)(n * C) * sizeof *g1) == 0);
    logitnorm_loss_free(L);
    free(z); free(g1); free(g2); free(y);
  }
}
END_TEST

#if defined(LN_HAVE_AVX2)
/* The AVX2 finite scan names the first row holding a NaN or an infinity (with masks: a NaN or
   +inf), for contiguous rows (the flat, blocked scan; shapes crossing its 1024-element blocks)
   and padded rows, against a plain loop; with masks, a clean scan also tells whether it met a
   -inf. Padding (NaN and -inf) never counts. */
START_TEST(finite_scan_first_bad_row) {
  rng_state = 99;
  const int64_t shapes[][2] = {{1, 1}, {3, 7}, {40, 10}, {300, 17}, {9, 1000}, {5, 2048}, {2, 1500}};
  const double bad[3] = {NAN, INFINITY, -INFINITY};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
    for (int pad = 0; pad < 2; ++pad)
      for (int trial = 0; trial < 12; ++trial) {
        const int64_t rows = shapes[s][0], cols = shapes[s][1], ld = cols + 3 * pad;
        float *f = malloc((size_t)(rows * ld) * sizeof *f);
        double *d = malloc((size_t)(rows * ld) * sizeof *d);
        for (int64_t j = 0; j < rows * ld; ++j) f[j] = (float)(d[j] = 2.0 * uniform() - 1.0);
        for (int64_t i = 0; i < rows && pad; ++i)
          for (int64_t c = cols; c < ld; ++c) /* padding */
            f[i * ld + c] = (float)(d[i * ld + c] = c % 2 ? NAN : -INFINITY);
        if (trial > 0) /* trial 0 stays finite; others get 1 or 2 bad entries */
          for (int k = 0; k < 1 + trial % 2; ++k) {
            int64_t i = (int64_t)(uniform() * (double)rows), c = (int64_t)(uniform() * (double)cols);
            f[i * ld + c] = (float)(d[i * ld + c] = bad[(trial + k) % 3]);
          }
        int64_t want = -1, want_masked = -1;
        int want_neginf = 0;
        for (int64_t i = rows - 1; i >= 0; --i)
          for (int64_t c = 0; c < cols; ++c) {
            double v = d[i * ld + c];
            if (!isfinite(v)) want = i;
            if (v != v || v == INFINITY) want_masked = i;
            want_neginf |= v == -INFINITY;
          }
        int ni_f = 0, ni_d = 0;
        ck_assert_int_eq(ln_first_nonfinite_row_f32_avx2(f, rows, cols, ld, 0, &ni_f), want);
        ck_assert_int_eq(ln_first_nonfinite_row_f64_avx2(d, rows, cols, ld, 0, &ni_d), want);
        ni_f = ni_d = 0;
        ck_assert_int_eq(ln_first_nonfinite_row_f32_avx2(f, rows, cols, ld, 1, &ni_f), want_masked);
        ck_assert_int_eq(ln_first_nonfinite_row_f64_avx2(d, rows, cols, ld, 1, &ni_d), want_masked);
        if (want_masked < 0) {
          ck_assert_int_eq(ni_f, want_neginf);
          ck_assert_int_eq(ni_d, want_neginf);
        }
        free(f);
        free(d);
      }
}
END_TEST

/* The class of a half bit pattern, from the format: exponent field of 8 bits (bf16: 1-8-7) or
   5 bits (f16: 1-5-10) all ones is an infinity when the mantissa is 0, else a NaN. */
enum { H_FINITE = 0, H_NAN = 1, H_PINF = 2, H_NINF = 3 };
static int half_class(int f16, uint16_t h) {
  const unsigned mbits = f16 ? 10u : 7u, ebits = f16 ? 5u : 8u;
  const unsigned exp = (h >> mbits) & ((1u << ebits) - 1u), mant = h & ((1u << mbits) - 1u);
  if (exp != (1u << ebits) - 1u) return H_FINITE;
  return mant ? H_NAN : (h & 0x8000u) ? H_NINF : H_PINF;
}

/* A random finite half: random bits, redrawn while the exponent field is all ones. */
static uint16_t random_finite_half(int f16) {
  uint16_t h;
  do h = (uint16_t)(uniform() * 65536.0); while (half_class(f16, h) != H_FINITE);
  return h;
}

/* The AVX2 half scan names the same first bad row as a plain loop over the classes above
   (without masks: any NaN or infinity; with masks: NaN or +inf) and, on a clean scan with
   masks, whether a -inf is present. One non-finite pattern (NaNs of both signs and several
   payloads, +inf, -inf) is planted at every column of a row (so at every position modulo the
   16- and 32-lane steps and in the scalar tails), on rows contiguous (the flat scan, in blocks
   of 2048 halves, which 3 x 1000 and 2 x 2100 cross) and padded (padding NaN and -inf never
   count); the largest finite patterns (exponent all ones but one bit) sit among the others. */
START_TEST(finite_scan_half_first_bad_row) {
  rng_state = 7 + (uint64_t)_i;
  const int f16 = _i;
  const uint16_t exp1 = f16 ? 0x7c00u : 0x7f80u;
  const uint16_t plant[] = {(uint16_t)(exp1 | 1u), (uint16_t)(0x8000u | exp1 | 1u), 0x7fffu, 0xffffu,
                            (uint16_t)(exp1 | (f16 ? 0x200u : 0x40u)), exp1, (uint16_t)(0x8000u | exp1)};
  const int64_t shapes[][2] = {{1, 1}, {2, 15}, {2, 16}, {3, 17}, {2, 31}, {2, 32}, {3, 33}, {3, 47},
                               {2, 64}, {4, 70}, {3, 1000}, {2, 2100}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
    for (int pad = 0; pad < 2; ++pad) {
      const int64_t rows = shapes[s][0], cols = shapes[s][1], ld = cols + 5 * pad;
      uint16_t *h = malloc((size_t)(rows * ld) * sizeof *h);
      const int64_t step = cols > 100 ? 7 : 1; /* long rows: every 7th column, still every residue */
      for (size_t k = 0; k < sizeof plant / sizeof plant[0]; ++k)
        for (int64_t c = -1; c < cols; c += c < 0 ? 1 : step) { /* c = -1: nothing planted */
          for (int64_t j = 0; j < rows * ld; ++j)
            h[j] = j % ld >= cols ? (j % 2 ? 0x7fffu : (uint16_t)(0x8000u | exp1)) /* padding */
                                  : j % 11 == 0 ? (uint16_t)((j % 2 ? 0x8000u : 0u) | (exp1 - 1u))
                                                : random_finite_half(f16);
          const int64_t r = rows - 1 - (c % rows + rows) % rows;
          if (c >= 0) h[r * ld + c] = plant[k];
          int64_t want = -1, want_masked = -1;
          int want_neginf = 0;
          for (int64_t i = rows - 1; i >= 0; --i)
            for (int64_t j = 0; j < cols; ++j) {
              const int cl = half_class(f16, h[i * ld + j]);
              if (cl != H_FINITE) want = i;
              if (cl == H_NAN || cl == H_PINF) want_masked = i;
              want_neginf |= cl == H_NINF;
            }
          const ln_half_kind kind = f16 ? LN_HALF_F16 : LN_HALF_BF16;
          int ni = 0;
          ck_assert_int_eq(ln_first_nonfinite_row_half_avx2(kind, h, rows, cols, ld, 0, &ni), want);
          ni = 0;
          ck_assert_int_eq(ln_first_nonfinite_row_half_avx2(kind, h, rows, cols, ld, 1, &ni), want_masked);
          if (want_masked < 0) ck_assert_int_eq(ni, want_neginf);
        }
      free(h);
    }
}
END_TEST
#endif /* LN_HAVE_AVX2 */

int main(void) {
  Suite *s = suite_create("loss_dispatch");
  TCase *tc = tcase_create("dispatch");
  /* The timeouts bound a hang only: the generic-against-AVX2 sweep takes 40-60 s on a shared
     2-core machine, and several times that under the sanitizers. */
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, threads_bitwise_identical);
  suite_add_tcase(s, tc);
  /* These call the AVX2 kernels directly: in a build without them (LOGITNORM_SIMD=OFF, or a
     CPU other than x86) or on a CPU without AVX2+FMA they are left out, and the suite reports
     itself skipped (after the rest has passed). */
#if defined(LN_HAVE_AVX2)
  if (!tu_cpu_has_avx2())
    return tu_run_suite_partial(s, "loss_dispatch: avx2_matches_generic and finite_scan_first_bad_row need a CPU "
                                   "with AVX2 and FMA; this one lacks them");
  TCase *avx2 = tcase_create("avx2");
  tcase_set_timeout(avx2, 300);
  tcase_add_test(avx2, avx2_matches_generic);
  tcase_add_test(avx2, finite_scan_first_bad_row);
  tcase_add_loop_test(avx2, finite_scan_half_first_bad_row, 0, 2);
  suite_add_tcase(s, avx2);
  return tu_run_suite(s);
#else
  return tu_run_suite_partial(s, "loss_dispatch: avx2_matches_generic and finite_scan_first_bad_row test the "
                                 "AVX2 kernels, which this build leaves out (LOGITNORM_SIMD=OFF or not x86)");
#endif
}
