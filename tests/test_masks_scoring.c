/* Masks in the logit scorers, score_grad, KL matching and calibration (DESIGN.md, Version
   1.1): a -inf logit is a masked class and the row's result is that of the row with the
   column removed. Each test builds that row literally (sr_drop_masked) and compares with the
   double reference of support/score_ref.c, on rows masked at the first, a middle and the last
   column, at several columns, everywhere but one column, with padded leading dimensions whose
   padding holds NaN and -inf that must never be read. All-masked rows, NaN and +inf are bad
   input: exact status, error text naming the place, nothing written. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "score_ref.h"
#include "test_util.h"

static const int kLogitKinds[] = {LOGITNORM_SCORE_MSP,     LOGITNORM_SCORE_MAX_LOGIT, LOGITNORM_SCORE_ENERGY,
                                  LOGITNORM_SCORE_ENTROPY, LOGITNORM_SCORE_GEN,       LOGITNORM_SCORE_ODIN,
                                  LOGITNORM_SCORE_MAX_COSINE};
#define N_KINDS 7
#define N_PATTERNS 10
#define PAD 3

/* Row pattern p of a c-column row (c >= 4): 1 = masked. */
static void mask_pattern(int p, int c, int *masked) {
  for (int j = 0; j < c; ++j) masked[j] = 0;
  switch (p) {
    case 0: break;                           /* nothing masked */
    case 1: masked[0] = 1; break;            /* first */
    case 2: masked[c / 2] = 1; break;        /* middle */
    case 3: masked[c - 1] = 1; break;        /* last */
    case 4:                                  /* several, both ends included */
      for (int j = 0; j < c; j += 3) masked[j] = 1;
      masked[c - 1] = 1;
      break;
    case 5:                                  /* only the first unmasked */
    case 6:                                  /* only the middle one */
    case 7: {                                /* only the last */
      int keep = p == 5 ? 0 : (p == 6 ? c / 2 : c - 1);
      for (int j = 0; j < c; ++j) masked[j] = j != keep;
      break;
    }
    case 8: masked[1] = masked[c - 2] = 1; break;
    case 9: /* all but two, so GEN's top M = 3 exceeds what is left */
      for (int j = 2; j < c; ++j) masked[j] = 1;
      break;
  }
}

/* n rows of c logits (3 N(0,1)), row i masked by pattern i % N_PATTERNS, ld = c + PAD with
   NaN, -inf, NaN in the padding. */
static float *masked_batch(sr_rng *r, int n, int c) {
  int ld = c + PAD, masked[1000];
  float *z = malloc(sizeof(float) * (size_t)(n * ld));
  for (int i = 0; i < n; ++i) {
    mask_pattern(i % N_PATTERNS, c, masked);
    for (int j = 0; j < c; ++j) z[i * ld + j] = masked[j] ? -INFINITY : (float)(3.0 * sr_normal(r));
    z[i * ld + c] = NAN;
    z[i * ld + c + 1] = -INFINITY;
    z[i * ld + c + 2] = NAN;
  }
  return z;
}

typedef struct params {
  double t, gamma;
  int m;
} params;

static double ref_score(int kind, const double *z, int c, params p) {
  switch (kind) {
    case LOGITNORM_SCORE_MSP:
    case LOGITNORM_SCORE_ODIN: return sr_msp(z, c, p.t);
    case LOGITNORM_SCORE_MAX_LOGIT: return sr_max_logit(z, c);
    case LOGITNORM_SCORE_ENERGY: return sr_energy(z, c, p.t);
    case LOGITNORM_SCORE_ENTROPY: return sr_neg_entropy(z, c);
    case LOGITNORM_SCORE_GEN: return sr_gen(z, c, p.gamma, p.m);
    case LOGITNORM_SCORE_MAX_COSINE: return sr_max_cosine(z, c);
  }
  return NAN;
}

/* A handle of kind and c classes with the parameters the reference is given. */
static logitnorm_scorer *make(int kind, int c, params p) {
  logitnorm_scorer *s = NULL;
  ck_assert_int_eq(logitnorm_scorer_create(&s, kind, c, 0), LOGITNORM_OK);
  if (kind != LOGITNORM_SCORE_ODIN && kind != LOGITNORM_SCORE_ENTROPY && kind != LOGITNORM_SCORE_GEN)
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_TEMPERATURE, p.t), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_TOP_M, p.m), LOGITNORM_OK);
  return s;
}

static params kind_params(int kind, int m) {
  params p = {kind == LOGITNORM_SCORE_ODIN ? 1000.0 : 0.7, 0.1, m};
  if (kind == LOGITNORM_SCORE_ENTROPY || kind == LOGITNORM_SCORE_GEN) p.t = 1.0;
  return p;
}

/* Scores are computed in double and rounded once to float: 2e-6 relative (with a floor of 1
   for values near 0) covers the rounding with room to spare. */
static void expect_close(double got, double want, const char *what, int kind, int row) {
  double tol = 2e-6 * fmax(1.0, fabs(want));
  ck_assert_msg(fabs(got - want) <= tol, "%s kind %d row %d: got %.9g want %.9g", what, kind, row, got, want);
}

/* Scores and gradients of masked rows against the reference on the rows without the masked
   columns; the gradient against central differences of that reference (step 1e-4, as in
   test_scorer_logit.c: tolerance 1e-6 + 1e-5 |g|), exactly +0 at masked columns, and the
   padding of grad untouched. Sizes 5, 12 and 40; GEN with top M = 3 (below and above the
   unmasked count) and 100 (above it everywhere). */
START_TEST(test_scores_and_gradients) {
  sr_rng rng;
  sr_seed(&rng, 101);
  const int sizes[] = {5, 12, 40}, n = 3 * N_PATTERNS;
  for (int si = 0; si < 3; ++si) {
    int c = sizes[si], ld = c + PAD, ldg = c + 2;
    float *z = masked_batch(&rng, n, c);
    for (int ki = 0; ki < N_KINDS + 1; ++ki) {
      int kind = ki < N_KINDS ? kLogitKinds[ki] : LOGITNORM_SCORE_GEN;
      params p = kind_params(kind, ki < N_KINDS ? 3 : 100);
      logitnorm_scorer *s = make(kind, c, p);
      float out[3 * N_PATTERNS], out2[3 * N_PATTERNS], *g = malloc(sizeof(float) * (size_t)(n * ldg));
      float *fresh = malloc(sizeof(float) * (size_t)(n * ldg));
      sr_sentinel_fill(g, sizeof(float) * (size_t)(n * ldg));
      sr_sentinel_fill(fresh, sizeof(float) * (size_t)(n * ldg));
      ck_assert_int_eq(logitnorm_scorer_score_f32(s, n, z, ld, NULL, 0, out), LOGITNORM_OK);
      ck_assert_int_eq(logitnorm_scorer_score_grad_f32(s, n, z, ld, out2, g, ldg), LOGITNORM_OK);
      for (int i = 0; i < n; ++i) {
        double zd[40], kept[40];
        int cols[40];
        for (int j = 0; j < c; ++j) zd[j] = z[i * ld + j];
        int u = sr_drop_masked(zd, c, kept, cols);
        double want = ref_score(kind, kept, u, p);
        expect_close(out[i], want, "score", kind, i);
        expect_close(out2[i], want, "grad-call score", kind, i);
        for (int j = 0; j < c; ++j)
          if (zd[j] == -INFINITY)
            ck_assert_msg(g[i * ldg + j] == 0.0f && !signbit(g[i * ldg + j]),
                          "kind %d row %d col %d: masked gradient %g", kind, i, j, g[i * ldg + j]);
        for (int k = 0; k < u; ++k) {
          double h = 1e-4, keep = kept[k];
          kept[k] = keep + h;
          double fp = ref_score(kind, kept, u, p);
          kept[k] = keep - h;
          double fm = ref_score(kind, kept, u, p);
          kept[k] = keep;
          double fd = (fp - fm) / (2 * h), got = g[i * ldg + cols[k]];
          ck_assert_msg(fabs(got - fd) <= 1e-6 + 1e-5 * fabs(fd), "kind %d row %d col %d: %.9g vs fd %.9g", kind,
                        i, cols[k], got, fd);
        }
        /* the two padding columns of grad still hold the sentinel bytes */
        ck_assert_msg(memcmp(g + i * ldg + c, fresh + i * ldg + c, 2 * sizeof(float)) == 0, "padding written");
      }
      free(g);
      free(fresh);
      logitnorm_scorer_free(s);
    }
    free(z);
  }
}
END_TEST

/* The rule says "exactly": each masked row scores, bit for bit, as the row without its masked
   columns scored by a handle of that many classes, and its gradient agrees bit for bit at the
   kept columns. Both sides are library calls, on different inputs: this checks the invariance,
   the reference test above checks the values. */
START_TEST(test_exactly_the_dropped_row) {
  sr_rng rng;
  sr_seed(&rng, 202);
  const int c = 12, n = N_PATTERNS, ld = c + PAD;
  float *z = masked_batch(&rng, n, c);
  for (int ki = 0; ki < N_KINDS; ++ki) {
    int kind = kLogitKinds[ki];
    params p = kind_params(kind, 4);
    logitnorm_scorer *s = make(kind, c, p);
    float out[N_PATTERNS], g[N_PATTERNS * 12];
    ck_assert_int_eq(logitnorm_scorer_score_grad_f32(s, n, z, ld, out, g, c), LOGITNORM_OK);
    for (int i = 0; i < n; ++i) {
      float kept[12], one, gk[12];
      int cols[12], u = 0;
      for (int j = 0; j < c; ++j)
        if (z[i * ld + j] != -INFINITY) {
          cols[u] = j;
          kept[u++] = z[i * ld + j];
        }
      logitnorm_scorer *t = make(kind, u, p);
      ck_assert_int_eq(logitnorm_scorer_score_grad_f32(t, 1, kept, u, &one, gk, u), LOGITNORM_OK);
      ck_assert_msg(memcmp(&one, &out[i], sizeof one) == 0, "kind %d row %d: %.9g vs dropped %.9g", kind, i, out[i],
                    one);
      for (int k = 0; k < u; ++k)
        ck_assert_msg(memcmp(&gk[k], &g[i * c + cols[k]], sizeof(float)) == 0, "kind %d row %d col %d", kind, i,
                      cols[k]);
      logitnorm_scorer_free(t);
    }
    logitnorm_scorer_free(s);
  }
  free(z);
}
END_TEST

/* GEN when an unmasked probability underflows to 0, the value of every masked one: with M at
   least the unmasked count all unmasked classes are in, however small; masked ones never.
   Row (-inf, 800, -inf, 0, -inf): kept (800, 0), p = (1, e^-800 = 0 in double), clamped to
   q = (1 - 1e-7, 1e-7), each term (1e-7 (1 - 1e-7))^0.1. M = 100 takes both terms, M = 1 the
   first, and M = 2 both again (ties at the M-th value fill in index order among unmasked). */
START_TEST(test_gen_underflow) {
  const float z[5] = {-INFINITY, 800.0f, -INFINITY, 0.0f, -INFINITY};
  const double term = pow(1e-7 * (1.0 - 1e-7), 0.1), kept[2] = {800.0, 0.0};
  const int ms[3] = {100, 1, 2};
  for (int k = 0; k < 3; ++k) {
    params p = {1.0, 0.1, ms[k]};
    logitnorm_scorer *s = make(LOGITNORM_SCORE_GEN, 5, p);
    float out, g[5];
    ck_assert_int_eq(logitnorm_scorer_score_grad_f32(s, 1, z, 5, &out, g, 5), LOGITNORM_OK);
    double want = -(ms[k] == 1 ? 1.0 : 2.0) * term;
    expect_close(out, want, "gen underflow", LOGITNORM_SCORE_GEN, k);
    expect_close(out, sr_gen(kept, 2, 0.1, ms[k]), "gen underflow (reference)", LOGITNORM_SCORE_GEN, k);
    for (int j = 0; j < 5; ++j) ck_assert(g[j] == 0.0f && !signbit(g[j])); /* every q is clamped */
    logitnorm_scorer_free(s);
  }
}
END_TEST

/* Masked batches give the same bits for any THREADS value. */
START_TEST(test_threads_bitwise) {
  sr_rng rng;
  sr_seed(&rng, 303);
  const int c = 10, n = 1000, ld = c + PAD;
  float *z = masked_batch(&rng, n, c), a[1000], b[1000];
  for (int ki = 0; ki < N_KINDS; ++ki) {
    params p = kind_params(kLogitKinds[ki], 3);
    logitnorm_scorer *s = make(kLogitKinds[ki], c, p);
    ck_assert_int_eq(logitnorm_scorer_score_f32(s, n, z, ld, NULL, 0, a), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_THREADS, 3), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_score_f32(s, n, z, ld, NULL, 0, b), LOGITNORM_OK);
    ck_assert_mem_eq(a, b, sizeof a);
    logitnorm_scorer_free(s);
  }
  free(z);
}
END_TEST

/* A failing call: exact status, error text containing `text`, nothing written. */
#define EXPECT_FAIL(call, status, text, buf, bytes)                                                 \
  do {                                                                                              \
    sr_sentinel_fill((buf), (bytes));                                                               \
    ck_assert_int_eq((call), (status));                                                             \
    ck_assert_msg(strstr(logitnorm_last_error(), (text)) != NULL, "error text \"%s\" lacks \"%s\"", \
                  logitnorm_last_error(), (text));                                                 \
    ck_assert_msg(sr_sentinel_intact((buf), (bytes)), "output was written");                        \
  } while (0)

/* All-masked rows (INVALID_ARGUMENT, naming the row), NaN and +inf (NONFINITE, naming row and
   column), also beside -inf entries, for every logit kind, score and score_grad. */
START_TEST(test_bad_rows) {
  const int c = 4, ld = 6, n = 3;
  float z[3 * 6], out[3], g[3 * 6];
  for (int ki = 0; ki < N_KINDS; ++ki) {
    logitnorm_scorer *s = make(kLogitKinds[ki], c, kind_params(kLogitKinds[ki], 3));
    for (int i = 0; i < n * ld; ++i) z[i] = (float)(i % 5) - 2.0f;
    for (int j = 0; j < c; ++j) z[2 * ld + j] = -INFINITY; /* row 2: every class masked */
    z[1 * ld + 0] = -INFINITY;
    EXPECT_FAIL(logitnorm_scorer_score_f32(s, n, z, ld, NULL, 0, out), LOGITNORM_ERR_INVALID_ARGUMENT, "row 2", out,
                sizeof out);
    EXPECT_FAIL(logitnorm_scorer_score_grad_f32(s, n, z, ld, out, g, ld), LOGITNORM_ERR_INVALID_ARGUMENT, "row 2", g,
                sizeof g);
    ck_assert(sr_sentinel_intact(out, sizeof out));
    /* the same row with its last column unmasked scores */
    z[2 * ld + 3] = 0.5f;
    ck_assert_int_eq(logitnorm_scorer_score_f32(s, n, z, ld, NULL, 0, out), LOGITNORM_OK);
    /* NaN beside a mask; then +inf; then -inf beside NaN in the padding only (fine) */
    z[1 * ld + 2] = NAN;
    EXPECT_FAIL(logitnorm_scorer_score_f32(s, n, z, ld, NULL, 0, out), LOGITNORM_ERR_NONFINITE, "[1][2] is NaN", out,
                sizeof out);
    EXPECT_FAIL(logitnorm_scorer_score_grad_f32(s, n, z, ld, out, g, ld), LOGITNORM_ERR_NONFINITE, "[1][2] is NaN",
                g, sizeof g);
    ck_assert(sr_sentinel_intact(out, sizeof out));
    z[1 * ld + 2] = INFINITY;
    EXPECT_FAIL(logitnorm_scorer_score_f32(s, n, z, ld, NULL, 0, out), LOGITNORM_ERR_NONFINITE, "[1][2] is +inf", out,
                sizeof out);
    EXPECT_FAIL(logitnorm_scorer_score_grad_f32(s, n, z, ld, out, g, ld), LOGITNORM_ERR_NONFINITE, "[1][2] is +inf",
                g, sizeof g);
    z[1 * ld + 2] = 1.0f;
    for (int i = 0; i < n; ++i) {
      z[i * ld + 4] = NAN;
      z[i * ld + 5] = -INFINITY;
    }
    ck_assert_int_eq(logitnorm_scorer_score_grad_f32(s, n, z, ld, out, g, ld), LOGITNORM_OK);
    logitnorm_scorer_free(s);
  }
}
END_TEST

/* KL matching follows the rule as far as it can: a masked class has p = 0 in the fit rows (it
   adds 0 to the template means) and in the query (0 log 0 = 0 in the KL). Against sr_klm, whose
   softmax gives exp(-inf) = 0 and whose KL skips p = 0. Every class also has unmasked fit rows,
   so no template entry is 0 where a query has mass. */
START_TEST(test_kl_matching) {
  sr_rng rng;
  sr_seed(&rng, 404);
  const int c = 6, nfit = 60, nq = 2 * N_PATTERNS, ld = c + PAD;
  float *fit = malloc(sizeof(float) * (size_t)(nfit * ld)), *q = masked_batch(&rng, nq, c);
  int32_t y[60];
  int yi[60], masked[6];
  double fitd[60 * 6];
  for (int i = 0; i < nfit; ++i) {
    mask_pattern(i % 3 == 0 ? 1 + i % 4 : 0, c, masked); /* first, middle, last or several */
    y[i] = (int32_t)(i % c);
    if (masked[y[i]]) y[i] = (int32_t)((y[i] + 1) % c);
    if (masked[y[i]]) y[i] = (int32_t)((y[i] + 1) % c);
    yi[i] = y[i];
    for (int j = 0; j < c; ++j) {
      fit[i * ld + j] = masked[j] ? -INFINITY : (float)(2.0 * sr_normal(&rng)) + (j == y[i] ? 3.0f : 0.0f);
      fitd[i * c + j] = fit[i * ld + j];
    }
    for (int j = c; j < ld; ++j) fit[i * ld + j] = NAN;
  }
  for (int labelled = 0; labelled < 2; ++labelled) {
    logitnorm_scorer *s = NULL;
    ck_assert_int_eq(logitnorm_scorer_create(&s, LOGITNORM_SCORE_KL_MATCHING, c, 0), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_fit_f32(s, nfit, NULL, 0, fit, ld, labelled ? y : NULL), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
    float out[2 * N_PATTERNS];
    ck_assert_int_eq(logitnorm_scorer_score_f32(s, nq, q, ld, NULL, 0, out), LOGITNORM_OK);
    for (int i = 0; i < nq; ++i) {
      double zd[6];
      for (int j = 0; j < c; ++j) zd[j] = q[i * ld + j];
      double want = sr_klm(fitd, labelled ? yi : NULL, nfit, c, zd);
      ck_assert_msg(fabs(out[i] - want) <= 1e-5 * fmax(1.0, fabs(want)), "labelled %d row %d: %.9g vs %.9g",
                    labelled, i, out[i], want);
    }
    /* an all-masked query row */
    float bad[6] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    EXPECT_FAIL(logitnorm_scorer_score_f32(s, 1, bad, c, NULL, 0, out), LOGITNORM_ERR_INVALID_ARGUMENT, "row 0", out,
                sizeof out);
    logitnorm_scorer_free(s);
  }
  /* fit: a label on a masked class and an all-masked row are rejected, and nothing is added
     (prepare then finds no rows) */
  logitnorm_scorer *s = NULL;
  ck_assert_int_eq(logitnorm_scorer_create(&s, LOGITNORM_SCORE_KL_MATCHING, c, 0), LOGITNORM_OK);
  int32_t ybad[60];
  memcpy(ybad, y, sizeof ybad);
  ybad[3] = 0; /* row 3 has pattern 1 + 3 % 4 = 4: column 0 masked */
  float dummy[1];
  EXPECT_FAIL(logitnorm_scorer_fit_f32(s, nfit, NULL, 0, fit, ld, ybad), LOGITNORM_ERR_INVALID_LABEL,
              "label 0 at row 3", dummy, 0);
  for (int j = 0; j < c; ++j) fit[5 * ld + j] = -INFINITY;
  EXPECT_FAIL(logitnorm_scorer_fit_f32(s, nfit, NULL, 0, fit, ld, NULL), LOGITNORM_ERR_INVALID_ARGUMENT, "row 5",
              dummy, 0);
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_ERR_INVALID_STATE);
  logitnorm_scorer_free(s);
  free(fit);
  free(q);
}
END_TEST

/* ---------------- calibration ---------------- */

static double cvalue(const logitnorm_calibration *c, int which) {
  double v = NAN;
  ck_assert_int_eq(logitnorm_calibration_value(c, which, &v), LOGITNORM_OK);
  return v;
}

/* Random masks (each class masked with probability 0.3, at least one left), plus the fixed
   patterns on the first 3 N_PATTERNS rows; labels on unmasked classes, the argmax of the
   unmasked logits 70% of the time. Padding NaN, -inf. */
static void calib_batch(tu_rng *r, int64_t n, int c, float *z, int32_t *y, double scale) {
  int ld = c + 2, masked[64];
  for (int64_t i = 0; i < n; ++i) {
    if (i < 3 * N_PATTERNS) {
      mask_pattern((int)(i % N_PATTERNS), c, masked);
    } else {
      int any = 0;
      for (int j = 0; j < c; ++j) any += !(masked[j] = tu_uniform(r) < 0.3);
      if (!any) masked[tu_int(r, 0, c - 1)] = 0;
    }
    int best = -1, kept[64], u = 0;
    for (int j = 0; j < c; ++j) {
      z[i * ld + j] = masked[j] ? -INFINITY : (float)(scale * tu_normal(r));
      if (!masked[j]) {
        kept[u++] = j;
        if (best < 0 || z[i * ld + j] > z[i * ld + best]) best = j;
      }
    }
    z[i * ld + c] = NAN;
    z[i * ld + c + 1] = -INFINITY;
    y[i] = tu_uniform(r) < 0.7 ? best : kept[tu_int(r, 0, u - 1)];
  }
}

/* Against sr_calibrate_masked. Both compute each sample in double from the same floats; the
   library's sums are exact, the reference's plain over n <= 600 terms: 1e-11 absolute. */
START_TEST(test_calibration_matches_reference) {
  tu_rng r;
  tu_seed(&r, 9100 + (uint64_t)_i);
  int c = (int)tu_int(&r, 4, 16), bins = _i % 2 ? 15 : (int)tu_int(&r, 1, 30);
  int64_t n = tu_int(&r, 3 * N_PATTERNS, 600);
  double t = _i % 3 == 0 ? 1.0 : 0.25 + 3.0 * tu_uniform(&r);
  float *z = malloc(sizeof(float) * (size_t)(n * (c + 2)));
  int32_t *y = malloc(sizeof(int32_t) * (size_t)n);
  calib_batch(&r, n, c, z, y, 1.0 + 4.0 * tu_uniform(&r));
  logitnorm_calibration *cal = NULL;
  ck_assert_int_eq(logitnorm_calibration_create(&cal, c), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_set(cal, LOGITNORM_CALIBRATION_BINS, bins), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_set(cal, LOGITNORM_CALIBRATION_TEMPERATURE, t), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_add_f32(cal, n, z, c + 2, y), LOGITNORM_OK);
  sr_calibration ref;
  sr_calibrate_masked(n, c, z, c + 2, y, t, bins, &ref);
  ck_assert_double_eq_tol(cvalue(cal, LOGITNORM_CALIBRATION_ECE), ref.ece, 1e-11);
  ck_assert_double_eq_tol(cvalue(cal, LOGITNORM_CALIBRATION_MCE), ref.mce, 1e-11);
  ck_assert_double_eq(cvalue(cal, LOGITNORM_CALIBRATION_ACCURACY), ref.accuracy);
  ck_assert_double_eq_tol(cvalue(cal, LOGITNORM_CALIBRATION_NLL), ref.nll, 1e-11);
  ck_assert_double_eq_tol(cvalue(cal, LOGITNORM_CALIBRATION_BRIER), ref.brier, 1e-11);
  ck_assert_double_eq(cvalue(cal, LOGITNORM_CALIBRATION_COUNT), (double)n);
  logitnorm_calibration_free(cal);
  free(z);
  free(y);
}
END_TEST

/* Hand-computed: 3 classes, T = 1, 4 bins (0,.25] (.25,.5] (.5,.75] (.75,1]; column 1 masked:
     (ln 2, -inf, 0), label 0: kept (ln 2, 0), softmax (2/3, 1/3): conf 2/3 (bin 2), correct,
                                NLL ln 1.5, Brier (1/3)^2 + (1/3)^2 + 0 = 2/9
     (0, -inf, ln 9), label 0: kept (0, ln 9), softmax (1/10, 9/10): conf .9 (bin 3), wrong,
                                NLL ln 10, Brier (9/10)^2 + (9/10)^2 = 1.62
   ECE = (|2/3 - 1| + |.9 - 0|) / 2 = 37/60, MCE = .9, accuracy .5,
   NLL = (ln 1.5 + ln 10) / 2 = ln 15 / 2, Brier = (2/9 + 1.62) / 2. The float logs carry ~6e-8. */
START_TEST(test_calibration_hand_computed) {
  const float z[2 * 3] = {logf(2.0f), -INFINITY, 0.0f, 0.0f, -INFINITY, logf(9.0f)};
  const int32_t y[2] = {0, 0};
  logitnorm_calibration *cal = NULL;
  ck_assert_int_eq(logitnorm_calibration_create(&cal, 3), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_set(cal, LOGITNORM_CALIBRATION_BINS, 4), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_add_f32(cal, 2, z, 3, y), LOGITNORM_OK);
  ck_assert_double_eq_tol(cvalue(cal, LOGITNORM_CALIBRATION_ECE), 37.0 / 60.0, 1e-6);
  ck_assert_double_eq_tol(cvalue(cal, LOGITNORM_CALIBRATION_MCE), 0.9, 1e-6);
  ck_assert_double_eq(cvalue(cal, LOGITNORM_CALIBRATION_ACCURACY), 0.5);
  ck_assert_double_eq_tol(cvalue(cal, LOGITNORM_CALIBRATION_NLL), log(15.0) / 2.0, 1e-6);
  ck_assert_double_eq_tol(cvalue(cal, LOGITNORM_CALIBRATION_BRIER), (2.0 / 9.0 + 1.62) / 2.0, 1e-6);
  logitnorm_calibration_free(cal);
}
END_TEST

/* "Exactly": rows that all mask columns 0, 4 and 8 of 9 give the same bits as the 6-class
   accumulator fed the rows without those columns (labels renumbered). */
START_TEST(test_calibration_exactly_the_dropped_rows) {
  tu_rng r;
  tu_seed(&r, 9300);
  const int c = 9, n = 300;
  float z[300 * 9], d[300 * 6];
  int32_t y[300], yd[300];
  for (int i = 0; i < n; ++i) {
    int u = 0;
    for (int j = 0; j < c; ++j) {
      int masked = j % 4 == 0;
      z[i * c + j] = masked ? -INFINITY : (float)(2.5 * tu_normal(&r));
      if (!masked) d[i * 6 + u++] = z[i * c + j];
    }
    yd[i] = (int32_t)tu_int(&r, 0, 5);
    y[i] = yd[i] + 1 + (yd[i] >= 3); /* kept columns 1 2 3 5 6 7 */
  }
  logitnorm_calibration *a = NULL, *b = NULL;
  ck_assert_int_eq(logitnorm_calibration_create(&a, c), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_create(&b, 6), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_set(a, LOGITNORM_CALIBRATION_TEMPERATURE, 1.7), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_set(b, LOGITNORM_CALIBRATION_TEMPERATURE, 1.7), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_add_f32(a, n, z, c, y), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_add_f32(b, n, d, 6, yd), LOGITNORM_OK);
  for (int w = LOGITNORM_CALIBRATION_ECE; w <= LOGITNORM_CALIBRATION_COUNT; ++w) {
    double va = cvalue(a, w), vb = cvalue(b, w);
    ck_assert_msg(memcmp(&va, &vb, sizeof va) == 0, "value %d: %.17g vs %.17g", w, va, vb);
  }
  logitnorm_calibration_free(a);
  logitnorm_calibration_free(b);
}
END_TEST

/* A label on a masked class (INVALID_LABEL naming row and class), an all-masked row
   (INVALID_ARGUMENT naming the row), NaN and +inf (NONFINITE naming the entry): the
   accumulator keeps every bit of what it held. */
START_TEST(test_calibration_bad_input) {
  const int c = 5, ld = 7;
  float z[4 * 7];
  int32_t y[4] = {0, 1, 4, 2};
  for (int i = 0; i < 4 * ld; ++i) z[i] = (float)((i * 7) % 11) - 5.0f;
  z[1 * ld + 0] = -INFINITY;
  z[2 * ld + 3] = -INFINITY;
  logitnorm_calibration *cal = NULL;
  ck_assert_int_eq(logitnorm_calibration_create(&cal, c), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_add_f32(cal, 4, z, ld, y), LOGITNORM_OK);
  double before[6], after[6];
  for (int w = 0; w < 6; ++w) before[w] = cvalue(cal, w);
  size_t size = 0;
  ck_assert_int_eq(logitnorm_calibration_save(cal, NULL, 0, &size), LOGITNORM_OK);
  unsigned char *blob0 = malloc(size), *blob1 = malloc(size);
  ck_assert_int_eq(logitnorm_calibration_save(cal, blob0, size, &size), LOGITNORM_OK);

  int32_t ybad[4] = {0, 1, 3, 2}; /* row 2 labelled 3, which it masks */
  ck_assert_int_eq(logitnorm_calibration_add_f32(cal, 4, z, ld, ybad), LOGITNORM_ERR_INVALID_LABEL);
  ck_assert_ptr_nonnull(strstr(logitnorm_last_error(), "label 3 at row 2"));
  ybad[2] = 4;
  ybad[1] = 0;
  ck_assert_int_eq(logitnorm_calibration_add_f32(cal, 4, z, ld, ybad), LOGITNORM_ERR_INVALID_LABEL);
  ck_assert_ptr_nonnull(strstr(logitnorm_last_error(), "label 0 at row 1"));
  float keep = z[3 * ld + 4];
  for (int j = 0; j < c; ++j) z[3 * ld + j] = -INFINITY;
  ck_assert_int_eq(logitnorm_calibration_add_f32(cal, 4, z, ld, y), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(logitnorm_last_error(), "row 3"));
  z[3 * ld + 4] = keep;
  z[3 * ld + 1] = NAN;
  ck_assert_int_eq(logitnorm_calibration_add_f32(cal, 4, z, ld, y), LOGITNORM_ERR_NONFINITE);
  ck_assert_ptr_nonnull(strstr(logitnorm_last_error(), "[3][1] is NaN"));
  z[3 * ld + 1] = INFINITY;
  ck_assert_int_eq(logitnorm_calibration_add_f32(cal, 4, z, ld, y), LOGITNORM_ERR_NONFINITE);
  ck_assert_ptr_nonnull(strstr(logitnorm_last_error(), "[3][1] is +inf"));

  for (int w = 0; w < 6; ++w) after[w] = cvalue(cal, w);
  ck_assert_mem_eq(before, after, sizeof before);
  ck_assert_int_eq(logitnorm_calibration_save(cal, blob1, size, &size), LOGITNORM_OK);
  ck_assert_mem_eq(blob0, blob1, size);
  free(blob0);
  free(blob1);
  logitnorm_calibration_free(cal);
}
END_TEST

int main(void) {
  Suite *suite = suite_create("masks_scoring");
  TCase *tc = tcase_create("masks");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_scores_and_gradients);
  tcase_add_test(tc, test_exactly_the_dropped_row);
  tcase_add_test(tc, test_gen_underflow);
  tcase_add_test(tc, test_threads_bitwise);
  tcase_add_test(tc, test_bad_rows);
  tcase_add_test(tc, test_kl_matching);
  tcase_add_loop_test(tc, test_calibration_matches_reference, 0, 12);
  tcase_add_test(tc, test_calibration_hand_computed);
  tcase_add_test(tc, test_calibration_exactly_the_dropped_rows);
  tcase_add_test(tc, test_calibration_bad_input);
  suite_add_tcase(suite, tc);
  return tu_run_suite(suite);
}
