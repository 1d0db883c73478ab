/* logitnorm_calibration_add_bf16 and _f16 against logitnorm_calibration_add_f32 on the widened
   values: after the same batches, every value, the reliability data and the saved blob are the
   same bits, under both binnings, temperatures other than 1 and masked classes; bad input gets
   the f32 call's status and text and leaves the accumulator as it was. The half data is rounded
   and widened by the test's own conversions (support/half_ref.c); ECE, accuracy, NLL and Brier
   are also checked against the double reference on the widened values. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "half_ref.h"
#include "logitnorm.h"
#include "score_ref.h"
#include "test_util.h"

enum { N_VALUES = 8, BLOB_CAP = 1 << 20 };

static const uint16_t kNan[2] = {0x7fc0u, 0x7e00u}, kPinf[2] = {0x7f80u, 0x7c00u}, kNinf[2] = {0xff80u, 0xfc00u};

static logitnorm_status add_half(th_type t, logitnorm_calibration *c, int64_t n, const uint16_t *z, int64_t ld,
                                 const int32_t *labels) {
  return t == TH_BF16 ? logitnorm_calibration_add_bf16(c, n, z, ld, labels)
                      : logitnorm_calibration_add_f16(c, n, z, ld, labels);
}

static logitnorm_calibration *make(int64_t C, int binning, double temperature) {
  logitnorm_calibration *c = NULL;
  ck_assert_int_eq(logitnorm_calibration_create(&c, C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINS, 12), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINNING, binning), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_TEMPERATURE, temperature), LOGITNORM_OK);
  return c;
}

/* Batch rows: scale x N(0, 1) logits, some tiny (f16 subnormals), about 1 in 6 -inf (never the
   label's class, never a whole row); the padding holds NaN. half gets the bits, wide their
   widening, both with leading dimension ld. */
static void make_batch(th_type t, tu_rng *r, int64_t n, int64_t C, int64_t ld, uint16_t *half, float *wide,
                       int32_t *labels) {
  for (int64_t i = 0; i < n; ++i) {
    labels[i] = (int32_t)tu_int(r, 0, C - 1);
    for (int64_t j = 0; j < ld; ++j) {
      uint16_t h = kNan[t];
      if (j < C) {
        uint64_t u = tu_next(r) % 16;
        h = th_narrow(t, (float)(u == 0 ? 2e-6 * tu_normal(r) : 2.5 * tu_normal(r)));
        if (j != labels[i] && tu_next(r) % 6 == 0) h = kNinf[t];
      }
      half[i * ld + j] = h;
      wide[i * ld + j] = th_widen(t, h);
    }
  }
}

/* Every observable of the two accumulators is the same bits. */
static void expect_same_state(const logitnorm_calibration *a, const logitnorm_calibration *b, const char *what) {
  for (int which = 0; which < N_VALUES; ++which) {
    double va = NAN, vb = NAN;
    logitnorm_status sa = logitnorm_calibration_value(a, which, &va), sb = logitnorm_calibration_value(b, which, &vb);
    ck_assert_msg(sa == sb, "%s value %d: status %d against %d", what, which, (int)sa, (int)sb);
    if (sa == LOGITNORM_OK)
      ck_assert_msg(memcmp(&va, &vb, sizeof va) == 0, "%s value %d: %.17g against %.17g", what, which, va, vb);
  }
  double ca[12], fa[12], aa[12], cb[12], fb[12], ab[12];
  int64_t na = -1, nb = -1;
  logitnorm_status sa = logitnorm_calibration_bins(a, ca, fa, aa, 12, &na);
  logitnorm_status sb = logitnorm_calibration_bins(b, cb, fb, ab, 12, &nb);
  ck_assert_msg(sa == sb && na == nb, "%s bins: %d/%lld against %d/%lld", what, (int)sa, (long long)na, (int)sb,
                (long long)nb);
  if (sa == LOGITNORM_OK)
    ck_assert_msg(memcmp(ca, cb, (size_t)na * sizeof *ca) == 0 && memcmp(fa, fb, (size_t)na * sizeof *fa) == 0 &&
                      memcmp(aa, ab, (size_t)na * sizeof *aa) == 0,
                  "%s: reliability data differ", what);
  unsigned char *ba = malloc(BLOB_CAP), *bb = malloc(BLOB_CAP);
  size_t la = 0, lb = 0;
  ck_assert_int_eq(logitnorm_calibration_save(a, ba, BLOB_CAP, &la), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_save(b, bb, BLOB_CAP, &lb), LOGITNORM_OK);
  ck_assert_msg(la == lb && memcmp(ba, bb, la) == 0, "%s: saved blobs differ (%zu and %zu bytes)", what, la, lb);
  free(ba);
  free(bb);
}

static const double kTemperatures[3] = {1.0, 0.6, 2.5};

/* Loop index: binning (2) x temperature (3). Batches of sizes 0, 1, 57 and 300 (padded ld), each
   added through f32 to one accumulator and through each half type to another. */
START_TEST(test_same_accumulator) {
  int binning = _i / 3;
  double temperature = kTemperatures[_i % 3];
  const int64_t C = 11, ld = 14, sizes[4] = {57, 0, 1, 300};
  for (int t = 0; t < 2; ++t) {
    tu_rng r;
    tu_seed(&r, 500 + (uint64_t)_i);
    logitnorm_calibration *viaf = make(C, binning, temperature), *viah = make(C, binning, temperature);
    for (int b = 0; b < 4; ++b) {
      int64_t n = sizes[b];
      uint16_t *half = malloc((size_t)(n * ld + 1) * 2);
      float *wide = malloc((size_t)(n * ld + 1) * 4);
      int32_t *labels = malloc((size_t)(n + 1) * sizeof *labels);
      make_batch((th_type)t, &r, n, C, ld, half, wide, labels);
      ck_assert_int_eq(logitnorm_calibration_add_f32(viaf, n, wide, ld, labels), LOGITNORM_OK);
      ck_assert_int_eq(add_half((th_type)t, viah, n, half, ld, labels), LOGITNORM_OK);
      char what[96];
      snprintf(what, sizeof what, "%s binning %d T %g after batch %d", th_name((th_type)t), binning, temperature, b);
      expect_same_state(viah, viaf, what);
      free(half);
      free(wide);
      free(labels);
    }
    logitnorm_calibration_free(viaf);
    logitnorm_calibration_free(viah);
  }
}
END_TEST

/* ECE, accuracy, NLL and Brier of half batches against the double reference (score_ref.h) on
   the widened values, masked classes left out. */
START_TEST(test_values_against_reference) {
  const int64_t C = 9, ld = 10, n = 400;
  const double temperature = 1.7;
  for (int t = 0; t < 2; ++t) {
    tu_rng r;
    tu_seed(&r, 91 + (uint64_t)t);
    uint16_t *half = malloc((size_t)(n * ld) * 2);
    float *wide = malloc((size_t)(n * ld) * 4);
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    make_batch((th_type)t, &r, n, C, ld, half, wide, labels);
    logitnorm_calibration *c = make(C, LOGITNORM_BINNING_EQUAL_WIDTH, temperature);
    ck_assert_int_eq(add_half((th_type)t, c, n, half, ld, labels), LOGITNORM_OK);
    sr_calibration want;
    sr_calibrate_masked(n, (int)C, wide, ld, labels, temperature, 12, &want);
    const int which[4] = {LOGITNORM_CALIBRATION_ECE, LOGITNORM_CALIBRATION_ACCURACY, LOGITNORM_CALIBRATION_NLL,
                          LOGITNORM_CALIBRATION_BRIER};
    const double ref[4] = {want.ece, want.accuracy, want.nll, want.brier};
    for (int k = 0; k < 4; ++k) {
      double v = NAN;
      ck_assert_int_eq(logitnorm_calibration_value(c, which[k], &v), LOGITNORM_OK);
      ck_assert_msg(fabs(v - ref[k]) <= 1e-9 * fmax(1.0, fabs(ref[k])), "%s value %d: %.17g, reference %.17g",
                    th_name((th_type)t), which[k], v, ref[k]);
    }
    logitnorm_calibration_free(c);
    free(half);
    free(wide);
    free(labels);
  }
}
END_TEST

/* ---- bad input: the f32 call's status and text, and neither accumulator changes ---- */

enum { BC = 4, BN = 3, BLD = 5 };

typedef struct bad_case {
  const char *what;
  int null_handle, null_logits, null_labels;
  int64_t n, ld;
  int row, col, value; /* value: 0 none, 1 NaN, 2 +inf, 3 -inf, 4 the whole row -inf */
  int32_t label1;      /* row 1's label */
  logitnorm_status expect;
} bad_case;

#define HUGE_LD ((int64_t)((SIZE_MAX / 2) / sizeof(float) / 2)) /* 3 rows: addressable as halves only */

static const bad_case kBad[] = {
    {.what = "NaN", .n = BN, .ld = BLD, .row = 1, .col = 2, .value = 1, .label1 = 3, .expect = LOGITNORM_ERR_NONFINITE},
    {.what = "+inf", .n = BN, .ld = BLD, .row = 2, .col = 0, .value = 2, .label1 = 3, .expect = LOGITNORM_ERR_NONFINITE},
    {.what = "-inf on an unlabelled class (a mask)", .n = BN, .ld = BLD, .row = 1, .col = 0, .value = 3, .label1 = 3,
     .expect = LOGITNORM_OK},
    {.what = "label on a masked class", .n = BN, .ld = BLD, .row = 1, .col = 3, .value = 3, .label1 = 3,
     .expect = LOGITNORM_ERR_INVALID_LABEL},
    {.what = "all-masked row", .n = BN, .ld = BLD, .row = 2, .value = 4, .label1 = 3,
     .expect = LOGITNORM_ERR_INVALID_ARGUMENT},
    {.what = "label out of range", .n = BN, .ld = BLD, .label1 = BC, .expect = LOGITNORM_ERR_INVALID_LABEL},
    {.what = "NULL handle", .null_handle = 1, .n = BN, .ld = BLD, .label1 = 3, .expect = LOGITNORM_ERR_NULL_POINTER},
    {.what = "NULL logits", .null_logits = 1, .n = BN, .ld = BLD, .label1 = 3, .expect = LOGITNORM_ERR_NULL_POINTER},
    {.what = "NULL labels", .null_labels = 1, .n = BN, .ld = BLD, .label1 = 3, .expect = LOGITNORM_ERR_NULL_POINTER},
    {.what = "ld below C", .n = BN, .ld = BC - 1, .label1 = 3, .expect = LOGITNORM_ERR_INVALID_ARGUMENT},
    {.what = "negative n", .n = -2, .ld = BLD, .label1 = 3, .expect = LOGITNORM_ERR_INVALID_ARGUMENT},
    {.what = "unaddressable as floats", .n = BN, .ld = HUGE_LD, .label1 = 3,
     .expect = LOGITNORM_ERR_INVALID_ARGUMENT},
};
enum { N_BAD = (int)(sizeof kBad / sizeof kBad[0]) };

static void save(const logitnorm_calibration *c, unsigned char *blob, size_t *len) {
  ck_assert_int_eq(logitnorm_calibration_save(c, blob, BLOB_CAP, len), LOGITNORM_OK);
}

START_TEST(test_bad_input_as_f32) {
  const bad_case *bc = &kBad[_i % N_BAD];
  int binning = _i / N_BAD;
  for (int t = 0; t < 2; ++t) {
    uint16_t half[BN * BLD];
    float wide[BN * BLD];
    int32_t labels[BN] = {0, bc->label1, 2};
    for (int k = 0; k < BN * BLD; ++k) { /* multiples of 1/4: exact in both types */
      half[k] = th_narrow((th_type)t, (float)(0.25 * (k % 7) - 0.5));
      wide[k] = th_widen((th_type)t, half[k]);
    }
    const uint16_t hv[5] = {0, kNan[t], kPinf[t], kNinf[t], kNinf[t]};
    const float wv[5] = {0, NAN, INFINITY, -INFINITY, -INFINITY};
    for (int j = 0; j < BC && bc->value != 0; ++j)
      if (bc->value == 4 || j == bc->col) {
        half[bc->row * BLD + j] = hv[bc->value];
        wide[bc->row * BLD + j] = wv[bc->value];
      }
    /* accumulators with a batch in them already */
    logitnorm_calibration *ch = make(BC, binning, 1.3), *cf = make(BC, binning, 1.3);
    const float first[2 * BC] = {1, 0, -1, 0.5f, 0, 2, 0.25f, -1};
    uint16_t first_h[2 * BC];
    for (int k = 0; k < 2 * BC; ++k) first_h[k] = th_narrow((th_type)t, first[k]);
    ck_assert_int_eq(add_half((th_type)t, ch, 2, first_h, BC, (const int32_t[]){0, 1}), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_calibration_add_f32(cf, 2, first, BC, (const int32_t[]){0, 1}), LOGITNORM_OK);
    static unsigned char before[BLOB_CAP], after[BLOB_CAP];
    size_t lb = 0, la = 0;
    save(ch, before, &lb);
    uint16_t half_before[BN * BLD];
    memcpy(half_before, half, sizeof half);
    logitnorm_status sh = add_half((th_type)t, bc->null_handle ? NULL : ch, bc->n, bc->null_logits ? NULL : half,
                                   bc->ld, bc->null_labels ? NULL : labels);
    char msg_h[512];
    snprintf(msg_h, sizeof msg_h, "%s", logitnorm_last_error());
    logitnorm_status sf = logitnorm_calibration_add_f32(bc->null_handle ? NULL : cf, bc->n,
                                                        bc->null_logits ? NULL : wide, bc->ld,
                                                        bc->null_labels ? NULL : labels);
    ck_assert_msg(sh == bc->expect && sf == bc->expect, "%s (%s, binning %d): half %d, f32 %d, expected %d (%s)",
                  bc->what, th_name((th_type)t), binning, (int)sh, (int)sf, (int)bc->expect, msg_h);
    if (sh != LOGITNORM_OK) {
      ck_assert_msg(msg_h[0] != '\0' && strcmp(msg_h, logitnorm_last_error()) == 0, "%s (%s): \"%s\" against \"%s\"",
                    bc->what, th_name((th_type)t), msg_h, logitnorm_last_error());
      save(ch, after, &la);
      ck_assert_msg(la == lb && memcmp(before, after, la) == 0, "%s (%s): the accumulator changed", bc->what,
                    th_name((th_type)t));
      ck_assert_msg(memcmp(half_before, half, sizeof half) == 0, "%s: input written", bc->what);
    }
    expect_same_state(ch, cf, bc->what);
    logitnorm_calibration_free(ch);
    logitnorm_calibration_free(cf);
  }
}
END_TEST

static Suite *calibration_half_suite(void) {
  Suite *s = suite_create("calibration_half");
  TCase *tc = tcase_create("half");
  tcase_add_loop_test(tc, test_same_accumulator, 0, 6);
  tcase_add_test(tc, test_values_against_reference);
  tcase_add_loop_test(tc, test_bad_input_as_f32, 0, 2 * N_BAD);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tu_run_suite(calibration_half_suite()); }
