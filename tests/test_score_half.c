/* logitnorm_scorer_score_bf16 and _f16 against logitnorm_scorer_score_f32 on the widened values:
   for every kind, both half types, batch sizes around the blocks the half calls widen in, padded
   leading dimensions, masks, one and two threads, the same status and the same score bits. The
   half data is rounded and widened by the test's own conversions (support/half_ref.c), and part
   of it is tiny, so that f16 subnormals occur. MSP and ENERGY are also checked against the
   double reference on the widened values, and bad input gets the f32 call's status and text. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "half_ref.h"
#include "logitnorm.h"
#include "score_ref.h"
#include "test_util.h"

/* The rows the half calls widen at a time (lib/score/scorer_internal.h): the batch sizes below
   straddle them. */
enum { BLOCK = 256, QUERY_BLOCK = 512, FIT_ROWS = 300 };

static const uint16_t kNan[2] = {0x7fc0u, 0x7e00u}, kPinf[2] = {0x7f80u, 0x7c00u}, kNinf[2] = {0xff80u, 0xfc00u};

static logitnorm_status score_half(th_type t, const logitnorm_scorer *s, int64_t n, const uint16_t *z, int64_t ld,
                                   const uint16_t *h, int64_t ldf, float *out) {
  return t == TH_BF16 ? logitnorm_scorer_score_bf16(s, n, z, ld, h, ldf, out)
                      : logitnorm_scorer_score_f16(s, n, z, ld, h, ldf, out);
}

/* A matrix in a half type and its exact widening, with the same leading dimension; the padding
   holds NaN in both (it must never be read). */
typedef struct pair {
  uint16_t *h;
  float *w;
  int64_t rows, cols, ld;
} pair;

/* Entries: mostly scale x N(0, 1); about 1 in 16 tiny (f16 subnormals), 1 in 32 zero; with
   masks, about 1 in 8 entries -inf (never a whole row: column 0 stays finite). */
static pair pair_make(th_type t, int64_t rows, int64_t cols, int64_t ld, tu_rng *r, double scale, int masks) {
  pair p = {.h = malloc((size_t)(rows * ld + 1) * 2), .w = malloc((size_t)(rows * ld + 1) * 4), .rows = rows,
            .cols = cols, .ld = ld};
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < ld; ++j) {
      uint16_t h = kNan[t];
      if (j < cols) {
        uint64_t u = tu_next(r) % 32;
        double v = u == 0 ? 0.0 : u < 3 ? 3e-6 * tu_normal(r) : scale * tu_normal(r);
        h = th_narrow(t, (float)v);
        if (masks && j > 0 && tu_next(r) % 8 == 0) h = kNinf[t];
      }
      p.h[i * ld + j] = h;
      p.w[i * ld + j] = th_widen(t, h);
    }
  return p;
}

static void pair_free(pair *p) {
  free(p->h);
  free(p->w);
}

static float *random_f32(tu_rng *r, int64_t count, double scale) {
  float *v = malloc((size_t)(count + 1) * sizeof *v);
  for (int64_t i = 0; i < count; ++i) v[i] = (float)(scale * tu_normal(r));
  return v;
}

/* One scorer configuration: the kind, its sizes, a parameter to set, whether it takes -inf masks. */
typedef struct config {
  int kind;
  int64_t c, d;
  int param;
  double value;
} config;

static int logit_input(int kind) { return kind <= LOGITNORM_SCORE_MAX_COSINE || kind == LOGITNORM_SCORE_KL_MATCHING; }

static int needs_head(int kind) {
  return (kind >= LOGITNORM_SCORE_VIM && kind <= LOGITNORM_SCORE_FDBD) || kind >= LOGITNORM_SCORE_GRADNORM;
}

static int fits(int kind) {
  return (kind >= LOGITNORM_SCORE_KL_MATCHING && kind <= LOGITNORM_SCORE_FDBD) || kind == LOGITNORM_SCORE_REACT ||
         kind == LOGITNORM_SCORE_DICE;
}

/* A prepared scorer: head and fit rows from f32 data (fitting stays f32). */
static logitnorm_scorer *make_scorer(const config *cf, tu_rng *r) {
  logitnorm_scorer *s = NULL;
  int64_t c = cf->c, d = logit_input(cf->kind) ? 0 : cf->d;
  ck_assert_int_eq(logitnorm_scorer_create(&s, cf->kind, c, d), LOGITNORM_OK);
  if (cf->param != 0) ck_assert_int_eq(logitnorm_scorer_set(s, cf->param, cf->value), LOGITNORM_OK);
  if (needs_head(cf->kind)) {
    float *w = random_f32(r, c * d, 1.0 / sqrt((double)d)), *b = random_f32(r, c, 0.5);
    ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, d, b), LOGITNORM_OK);
    free(w);
    free(b);
  }
  if (fits(cf->kind)) {
    int64_t cols = cf->kind == LOGITNORM_SCORE_KL_MATCHING ? c : d;
    float *x = random_f32(r, FIT_ROWS * cols, 2.0);
    int32_t *y = malloc(FIT_ROWS * sizeof *y);
    for (int i = 0; i < FIT_ROWS; ++i) y[i] = (int32_t)(i % c);
    if (cf->kind == LOGITNORM_SCORE_KL_MATCHING)
      ck_assert_int_eq(logitnorm_scorer_fit_f32(s, FIT_ROWS, NULL, 0, x, cols, y), LOGITNORM_OK);
    else
      ck_assert_int_eq(logitnorm_scorer_fit_f32(s, FIT_ROWS, x, cols, NULL, 0, y), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
    free(x);
    free(y);
  }
  return s;
}

static const config kConfigs[] = {
    {.kind = LOGITNORM_SCORE_MSP, .c = 37, .param = LOGITNORM_SCORER_TEMPERATURE, .value = 2.5},
    {.kind = LOGITNORM_SCORE_MAX_LOGIT, .c = 37},
    {.kind = LOGITNORM_SCORE_ENERGY, .c = 37, .param = LOGITNORM_SCORER_TEMPERATURE, .value = 0.7},
    {.kind = LOGITNORM_SCORE_ENTROPY, .c = 37},
    {.kind = LOGITNORM_SCORE_GEN, .c = 37, .param = LOGITNORM_SCORER_TOP_M, .value = 7},
    {.kind = LOGITNORM_SCORE_ODIN, .c = 37},
    {.kind = LOGITNORM_SCORE_MAX_COSINE, .c = 37},
    {.kind = LOGITNORM_SCORE_KL_MATCHING, .c = 10},
    {.kind = LOGITNORM_SCORE_MAHALANOBIS, .c = 5, .d = 24},
    {.kind = LOGITNORM_SCORE_RMDS, .c = 5, .d = 24},
    {.kind = LOGITNORM_SCORE_KNN, .c = 5, .d = 24},
    {.kind = LOGITNORM_SCORE_VIM, .c = 6, .d = 24},
    {.kind = LOGITNORM_SCORE_NNGUIDE, .c = 6, .d = 24},
    {.kind = LOGITNORM_SCORE_FDBD, .c = 6, .d = 24},
    {.kind = LOGITNORM_SCORE_GRADNORM, .c = 6, .d = 24},
    {.kind = LOGITNORM_SCORE_REACT, .c = 6, .d = 24},
    {.kind = LOGITNORM_SCORE_ASH, .c = 6, .d = 24},
    {.kind = LOGITNORM_SCORE_ASH, .c = 6, .d = 24, .param = LOGITNORM_SCORER_ASH_VARIANT, .value = LOGITNORM_ASH_B},
    {.kind = LOGITNORM_SCORE_ASH, .c = 6, .d = 24, .param = LOGITNORM_SCORER_ASH_VARIANT, .value = LOGITNORM_ASH_P},
    {.kind = LOGITNORM_SCORE_DICE, .c = 6, .d = 24},
    {.kind = LOGITNORM_SCORE_SCALE, .c = 6, .d = 24},
    {.kind = LOGITNORM_SCORE_DML, .c = 6, .d = 24, .param = LOGITNORM_SCORER_LAMBDA, .value = 0.3},
    /* wide rows: GEMMs over more than one k block of BLIS */
    {.kind = LOGITNORM_SCORE_MAHALANOBIS, .c = 4, .d = 300},
    {.kind = LOGITNORM_SCORE_NNGUIDE, .c = 40, .d = 300},
    {.kind = LOGITNORM_SCORE_SCALE, .c = 40, .d = 300},
    {.kind = LOGITNORM_SCORE_DML, .c = 40, .d = 300},
};
enum { N_CONFIGS = (int)(sizeof kConfigs / sizeof kConfigs[0]) };

/* Batch sizes: 0, 1, and around one and several of the blocks the half call widens in (the
   logit-only kinds widen row by row: any sizes do). */
static void batch_sizes(int kind, int64_t *sizes) {
  int64_t b = kind == LOGITNORM_SCORE_KNN || kind == LOGITNORM_SCORE_NNGUIDE ? QUERY_BLOCK
              : kind <= LOGITNORM_SCORE_MAX_COSINE                          ? 64
                                                                             : BLOCK;
  const int64_t v[6] = {0, 1, b - 1, b, b + 1, 2 * b + 5};
  memcpy(sizes, v, sizeof v);
}

static void expect_same_scores(const float *a, const float *b, int64_t n, const char *what) {
  for (int64_t i = 0; i < n; ++i)
    ck_assert_msg(memcmp(&a[i], &b[i], sizeof a[i]) == 0, "%s row %lld: half %.9g, f32 %.9g", what, (long long)i,
                  (double)a[i], (double)b[i]);
}

START_TEST(test_every_kind_bit_equal) {
  const config *cf = &kConfigs[_i];
  tu_rng r;
  tu_seed(&r, 1000 + (uint64_t)_i);
  logitnorm_scorer *s = make_scorer(cf, &r);
  int logits = logit_input(cf->kind);
  int64_t cols = logits ? cf->c : cf->d, ld = cols + 3, sizes[6];
  batch_sizes(cf->kind, sizes);
  /* quick (under emulation): one thread, and n = 0, 1 and one block and a row */
  const int quick = tu_quick();
  for (int t = 0; t < 2; ++t)
    for (int threads = 1; threads <= (quick ? 1 : 2); ++threads) {
      ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_THREADS, threads), LOGITNORM_OK);
      /* two threads (BLIS's threads spin at their barriers) up to one block and a row */
      for (int si = 0; si < (threads == 1 ? 6 : 5); ++si) {
        if (quick && (si == 2 || si == 3 || si == 5)) continue;
        int64_t n = sizes[si];
        pair p = pair_make((th_type)t, n, cols, ld, &r, logits ? 3.0 : 1.5, logits);
        float *half = malloc((size_t)(n + 1) * sizeof *half), *wide = malloc((size_t)(n + 1) * sizeof *wide);
        logitnorm_status sh = logits ? score_half((th_type)t, s, n, p.h, ld, NULL, 0, half)
                                     : score_half((th_type)t, s, n, NULL, 0, p.h, ld, half);
        logitnorm_status sf = logits ? logitnorm_scorer_score_f32(s, n, p.w, ld, NULL, 0, wide)
                                     : logitnorm_scorer_score_f32(s, n, NULL, 0, p.w, ld, wide);
        ck_assert_msg(sh == LOGITNORM_OK && sf == LOGITNORM_OK, "kind %d %s n %lld: status %d and %d (%s)", cf->kind,
                      th_name((th_type)t), (long long)n, (int)sh, (int)sf, logitnorm_last_error());
        char what[96];
        snprintf(what, sizeof what, "kind %d (config %d) %s threads %d n %lld", cf->kind, _i, th_name((th_type)t),
                 threads, (long long)n);
        expect_same_scores(half, wide, n, what);
        free(half);
        free(wide);
        pair_free(&p);
      }
    }
  logitnorm_scorer_free(s);
}
END_TEST

/* MSP and ENERGY of the half call against the double reference on the widened values, with
   the masked columns left out (score_ref.h): 2e-6 relative, as the f32 suites allow. */
START_TEST(test_values_against_reference) {
  tu_rng r;
  tu_seed(&r, 77);
  const int64_t c = 29, n = 150, ld = 31;
  for (int t = 0; t < 2; ++t)
    for (int k = 0; k < 2; ++k) {
      int kind = k == 0 ? LOGITNORM_SCORE_MSP : LOGITNORM_SCORE_ENERGY;
      double temp = k == 0 ? 1.5 : 0.8;
      logitnorm_scorer *s = NULL;
      ck_assert_int_eq(logitnorm_scorer_create(&s, kind, c, 0), LOGITNORM_OK);
      ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_TEMPERATURE, temp), LOGITNORM_OK);
      pair p = pair_make((th_type)t, n, c, ld, &r, 3.0, 1);
      float out[150];
      ck_assert_int_eq(score_half((th_type)t, s, n, p.h, ld, NULL, 0, out), LOGITNORM_OK);
      for (int64_t i = 0; i < n; ++i) {
        double z[29], kept[29];
        for (int64_t j = 0; j < c; ++j) z[j] = th_widen((th_type)t, p.h[i * ld + j]);
        int u = sr_drop_masked(z, (int)c, kept, NULL);
        double want = k == 0 ? sr_msp(kept, u, temp) : sr_energy(kept, u, temp);
        ck_assert_msg(fabs(out[i] - want) <= 2e-6 * fmax(1.0, fabs(want)), "%s kind %d row %lld: got %.9g want %.9g",
                      th_name((th_type)t), kind, (long long)i, (double)out[i], want);
      }
      pair_free(&p);
      logitnorm_scorer_free(s);
    }
}
END_TEST

/* ---- bad input: the half call's status and text are the f32 call's on the same case ---- */

enum { BC = 3, BD = 4, BN = 3, BLD = 6 };

typedef struct bad_fx {
  logitnorm_scorer *dml, *msp, *headless;
  uint16_t h[2][BN * BLD]; /* per type; features of DML, logits of MSP */
  float w[2][BN * BLD];    /* their widening */
} bad_fx;

/* A case breaks one argument; `logits` selects the MSP handle (else DML); the pointers are
   given for the half call and translated to the f32 buffers by the same offsets. */
typedef struct bad_case {
  const char *what;
  int logits, null_handle, null_data, null_scores, headless, overlap;
  int64_t n, ld;
  int row, col, value; /* value: 0 none, 1 NaN, 2 +inf, 3 -inf, 4 the whole row -inf */
  logitnorm_status expect;
} bad_case;

#define HUGE_LD ((int64_t)((SIZE_MAX / 2) / sizeof(float) / 2)) /* 3 rows: addressable as halves only */

static const bad_case kBad[] = {
    {.what = "NaN feature", .n = BN, .ld = BLD, .row = 1, .col = 2, .value = 1, .expect = LOGITNORM_ERR_NONFINITE},
    {.what = "+inf feature", .n = BN, .ld = BLD, .row = 2, .col = 0, .value = 2, .expect = LOGITNORM_ERR_NONFINITE},
    {.what = "-inf feature", .n = BN, .ld = BLD, .row = 0, .col = 3, .value = 3, .expect = LOGITNORM_ERR_NONFINITE},
    {.what = "NaN logit", .logits = 1, .n = BN, .ld = BLD, .row = 1, .col = 1, .value = 1,
     .expect = LOGITNORM_ERR_NONFINITE},
    {.what = "+inf logit", .logits = 1, .n = BN, .ld = BLD, .row = 2, .col = 2, .value = 2,
     .expect = LOGITNORM_ERR_NONFINITE},
    {.what = "-inf logit (a mask)", .logits = 1, .n = BN, .ld = BLD, .row = 0, .col = 1, .value = 3,
     .expect = LOGITNORM_OK},
    {.what = "all-masked row", .logits = 1, .n = BN, .ld = BLD, .row = 1, .value = 4,
     .expect = LOGITNORM_ERR_INVALID_ARGUMENT},
    {.what = "NULL handle", .null_handle = 1, .n = BN, .ld = BLD, .expect = LOGITNORM_ERR_NULL_POINTER},
    {.what = "NULL scores", .null_scores = 1, .n = BN, .ld = BLD, .expect = LOGITNORM_ERR_NULL_POINTER},
    {.what = "NULL features", .null_data = 1, .n = BN, .ld = BLD, .expect = LOGITNORM_ERR_NULL_POINTER},
    {.what = "NULL logits", .logits = 1, .null_data = 1, .n = BN, .ld = BLD, .expect = LOGITNORM_ERR_NULL_POINTER},
    {.what = "ldf below D", .n = BN, .ld = BD - 1, .expect = LOGITNORM_ERR_INVALID_ARGUMENT},
    {.what = "ld below C", .logits = 1, .n = BN, .ld = BC - 1, .expect = LOGITNORM_ERR_INVALID_ARGUMENT},
    {.what = "negative n", .n = -1, .ld = BLD, .expect = LOGITNORM_ERR_INVALID_ARGUMENT},
    {.what = "features unaddressable as floats", .n = BN, .ld = HUGE_LD, .expect = LOGITNORM_ERR_INVALID_ARGUMENT},
    {.what = "logits unaddressable as floats", .logits = 1, .n = BN, .ld = HUGE_LD,
     .expect = LOGITNORM_ERR_INVALID_ARGUMENT},
    {.what = "no head", .headless = 1, .n = BN, .ld = BLD, .expect = LOGITNORM_ERR_INVALID_STATE},
    {.what = "scores overlap features", .overlap = 1, .n = BN, .ld = BLD, .expect = LOGITNORM_ERR_INVALID_ARGUMENT},
    {.what = "scores overlap logits", .logits = 1, .overlap = 1, .n = BN, .ld = BLD,
     .expect = LOGITNORM_ERR_INVALID_ARGUMENT},
};
enum { N_BAD = (int)(sizeof kBad / sizeof kBad[0]) };

static void bad_fixture(bad_fx *f) {
  static const float kHead[BC * BD] = {1, 0, 0.5f, 0, 0, 1, 0, -0.25f, 0.75f, 0.5f, 1, 0};
  ck_assert_int_eq(logitnorm_scorer_create(&f->dml, LOGITNORM_SCORE_DML, BC, BD), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(f->dml, kHead, BD, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_create(&f->headless, LOGITNORM_SCORE_DML, BC, BD), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_create(&f->msp, LOGITNORM_SCORE_MSP, BC, 0), LOGITNORM_OK);
  for (int t = 0; t < 2; ++t)
    for (int k = 0; k < BN * BLD; ++k) { /* multiples of 1/4: exact in both types */
      f->h[t][k] = th_narrow((th_type)t, (float)(0.25 * (k % 9) - 1.0));
      f->w[t][k] = th_widen((th_type)t, f->h[t][k]);
    }
}

static void put_value(bad_fx *f, int t, const bad_case *bc) {
  const uint16_t hv[5] = {0, kNan[t], kPinf[t], kNinf[t], kNinf[t]};
  const float wv[5] = {0, NAN, INFINITY, -INFINITY, -INFINITY};
  if (bc->value == 0) return;
  int64_t cols = bc->logits ? BC : BD;
  for (int64_t j = 0; j < cols; ++j)
    if (bc->value == 4 || j == bc->col) {
      f->h[t][bc->row * BLD + j] = hv[bc->value];
      f->w[t][bc->row * BLD + j] = wv[bc->value];
    }
}

START_TEST(test_bad_input_as_f32) {
  const bad_case *bc = &kBad[_i];
  for (int t = 0; t < 2; ++t) {
    bad_fx f;
    bad_fixture(&f);
    put_value(&f, t, bc);
    const logitnorm_scorer *s = bc->null_handle ? NULL : bc->headless ? f.headless : bc->logits ? f.msp : f.dml;
    const uint16_t *hd = bc->null_data ? NULL : f.h[t];
    const float *wd = bc->null_data ? NULL : f.w[t];
    float out_h[BN], out_w[BN];
    tu_sentinel_fill(out_h, sizeof out_h);
    tu_sentinel_fill(out_w, sizeof out_w);
    float *sh_out = bc->null_scores ? NULL : bc->overlap ? (float *)(void *)(f.h[t] + 2) : out_h;
    float *sw_out = bc->null_scores ? NULL : bc->overlap ? f.w[t] + 2 : out_w;
    uint16_t h_before[BN * BLD];
    memcpy(h_before, f.h[t], sizeof h_before);
    logitnorm_status sh = bc->logits ? score_half((th_type)t, s, bc->n, hd, bc->ld, NULL, 0, sh_out)
                                     : score_half((th_type)t, s, bc->n, NULL, 0, hd, bc->ld, sh_out);
    char msg_h[512];
    snprintf(msg_h, sizeof msg_h, "%s", logitnorm_last_error());
    logitnorm_status sw = bc->logits ? logitnorm_scorer_score_f32(s, bc->n, wd, bc->ld, NULL, 0, sw_out)
                                     : logitnorm_scorer_score_f32(s, bc->n, NULL, 0, wd, bc->ld, sw_out);
    ck_assert_msg(sh == bc->expect && sw == bc->expect, "%s (%s): half %d, f32 %d, expected %d (%s)", bc->what,
                  th_name((th_type)t), (int)sh, (int)sw, (int)bc->expect, msg_h);
    if (sh != LOGITNORM_OK) {
      ck_assert_msg(msg_h[0] != '\0' && strcmp(msg_h, logitnorm_last_error()) == 0, "%s (%s): \"%s\" against \"%s\"",
                    bc->what, th_name((th_type)t), msg_h, logitnorm_last_error());
      ck_assert_msg(tu_sentinel_intact(out_h, sizeof out_h), "%s: scores written", bc->what);
      ck_assert_msg(memcmp(h_before, f.h[t], sizeof h_before) == 0, "%s: input written", bc->what);
    } else {
      expect_same_scores(out_h, out_w, bc->n, bc->what);
    }
    logitnorm_scorer_free(f.dml);
    logitnorm_scorer_free(f.msp);
    logitnorm_scorer_free(f.headless);
  }
}
END_TEST

/* An FDBD row at the fit mean has an infinite score: the message numbers the row in the batch,
   past the first block the half call widens. */
START_TEST(test_error_row_numbered_in_batch) {
  static const float kHead[3 * 2] = {1, 0, 0, 1, 3, 1}, kFit[4 * 2] = {1, 0, -1, 0, 2, 1, -2, -1};
  const int64_t n = BLOCK + 40, bad = BLOCK + 17;
  logitnorm_scorer *s = NULL;
  ck_assert_int_eq(logitnorm_scorer_create(&s, LOGITNORM_SCORE_FDBD, 3, 2), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, kHead, 2, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, 4, kFit, 2, NULL, 0, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  for (int t = 0; t < 2; ++t) {
    uint16_t *h = malloc((size_t)n * 2 * sizeof *h);
    for (int64_t i = 0; i < 2 * n; ++i) h[i] = th_narrow((th_type)t, i == 2 * bad || i == 2 * bad + 1 ? 0.0f : 1.0f);
    float *out = malloc((size_t)n * sizeof *out);
    tu_sentinel_fill(out, (size_t)n * sizeof *out);
    ck_assert_int_eq(score_half((th_type)t, s, n, NULL, 0, h, 2, out), LOGITNORM_ERR_NONFINITE);
    char want[64];
    snprintf(want, sizeof want, "row %lld equal the fit mean", (long long)bad);
    ck_assert_msg(strstr(logitnorm_last_error(), want) != NULL, "%s", logitnorm_last_error());
    ck_assert(tu_sentinel_intact(out, (size_t)n * sizeof *out));
    free(h);
    free(out);
  }
  logitnorm_scorer_free(s);
}
END_TEST

static Suite *score_half_suite(void) {
  Suite *s = suite_create("score_half");
  TCase *tc = tcase_create("half");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, test_every_kind_bit_equal, 0, N_CONFIGS);
  tcase_add_test(tc, test_values_against_reference);
  tcase_add_loop_test(tc, test_bad_input_as_f32, 0, N_BAD);
  tcase_add_test(tc, test_error_row_numbered_in_batch);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tu_run_suite(score_half_suite()); }
