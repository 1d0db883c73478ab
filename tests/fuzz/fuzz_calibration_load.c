/* logitnorm_calibration_load on arbitrary bytes (blob format versions 1 and 2): never a crash
   or an over-read; a failed load writes nothing to *out; a loaded accumulator gives finite
   values (or a failing status) and consistent reliability data, and saves to a blob that loads
   and saves to the same bytes. A batch made from the input bytes (special values included) is
   then added to two copies of the loaded accumulator, through add_f32 on the values rounded to
   bf16 or f16 and widened back, and through the half twin on the rounded values: the same
   status, and the same saved bytes and values afterwards (the blob as loaded when the add
   failed). White-box: the number of classes is read from the handle. */
#include <math.h>

#include "common/half.h"
#include "fuzz_common.h"
#include "metrics/calibration.h"

enum { ADD_ROWS = 3 };

static float pick_logit(fuzz_bytes *b) {
  static const float special[12] = {0.0f, -0.0f, 1.0f, -1.0f, NAN, INFINITY, -INFINITY, 3.5f, 1e-6f, 65504.0f,
                                    1e5f, -30.0f};
  uint8_t sel = fuzz_u8(b);
  if (sel < 96) return special[sel % 12];
  return (float)(int8_t)fuzz_u8(b) * 0.37f;
}

static void add_half_twin(const unsigned char *blob, size_t len, const uint8_t *data, size_t size) {
  logitnorm_calibration *cf = NULL, *ch = NULL;
  FUZZ_CHECK(logitnorm_calibration_load(&cf, blob, len) == LOGITNORM_OK);
  FUZZ_CHECK(logitnorm_calibration_load(&ch, blob, len) == LOGITNORM_OK);
  int64_t C = cf->num_classes;
  if (C <= 4096) {
    fuzz_bytes b = {.p = data, .size = size};
    const int f16 = fuzz_u8(&b) & 1;
    uint16_t *zh = malloc((size_t)(ADD_ROWS * C) * 2);
    float *zw = malloc((size_t)(ADD_ROWS * C) * 4);
    int32_t labels[ADD_ROWS];
    for (int i = 0; i < ADD_ROWS; ++i) labels[i] = (int32_t)(fuzz_u8(&b) % (C + 1)); /* C is out of range */
    for (int64_t k = 0; k < ADD_ROWS * C; ++k) {
      zh[k] = f16 ? ln_f32_to_f16(pick_logit(&b)) : ln_f32_to_bf16(pick_logit(&b));
      zw[k] = f16 ? ln_f16_to_f32(zh[k]) : ln_bf16_to_f32(zh[k]);
    }
    logitnorm_status sh = f16 ? logitnorm_calibration_add_f16(ch, ADD_ROWS, zh, C, labels)
                              : logitnorm_calibration_add_bf16(ch, ADD_ROWS, zh, C, labels);
    logitnorm_status sf = logitnorm_calibration_add_f32(cf, ADD_ROWS, zw, C, labels);
    FUZZ_CHECK(sh == sf);
    if (sh != LOGITNORM_OK) FUZZ_CHECK_FAILED(sh);
    size_t nh = 0, nf = 0;
    FUZZ_CHECK(logitnorm_calibration_save(ch, NULL, 0, &nh) == LOGITNORM_OK);
    FUZZ_CHECK(logitnorm_calibration_save(cf, NULL, 0, &nf) == LOGITNORM_OK && nf == nh);
    unsigned char *bh = malloc(nh), *bf = malloc(nf);
    FUZZ_CHECK(logitnorm_calibration_save(ch, bh, nh, &nh) == LOGITNORM_OK);
    FUZZ_CHECK(logitnorm_calibration_save(cf, bf, nf, &nf) == LOGITNORM_OK);
    FUZZ_CHECK(memcmp(bh, bf, nh) == 0);
    if (sh != LOGITNORM_OK) FUZZ_CHECK(nh == len && memcmp(bh, blob, len) == 0);
    for (int which = LOGITNORM_CALIBRATION_ECE; which <= LOGITNORM_CALIBRATION_CLASSWISE_ECE; ++which) {
      double vh = NAN, vf = NAN;
      logitnorm_status qh = logitnorm_calibration_value(ch, which, &vh), qf = logitnorm_calibration_value(cf, which, &vf);
      FUZZ_CHECK(qh == qf && (qh != LOGITNORM_OK || memcmp(&vh, &vf, sizeof vh) == 0));
    }
    free(bh), free(bf), free(zh), free(zw);
  }
  logitnorm_calibration_free(cf);
  logitnorm_calibration_free(ch);
}

static void exercise(const logitnorm_calibration *c) {
  for (int which = LOGITNORM_CALIBRATION_ECE; which <= LOGITNORM_CALIBRATION_CLASSWISE_ECE; ++which) {
    double v = NAN;
    logitnorm_status st = logitnorm_calibration_value(c, which, &v);
    if (st == LOGITNORM_OK)
      FUZZ_CHECK(isfinite(v));
    else
      FUZZ_CHECK_FAILED(st);
  }
  for (int p = LOGITNORM_CALIBRATION_BINS; p <= LOGITNORM_CALIBRATION_BINNING; ++p) {
    double v = NAN;
    FUZZ_CHECK(logitnorm_calibration_get(c, p, &v) == LOGITNORM_OK);
    FUZZ_CHECK(p == LOGITNORM_CALIBRATION_BINNING ? (v == 0.0 || v == 1.0) : (isfinite(v) && v > 0.0));
  }
  /* the reliability data: at most BINS bins, counts that add up to COUNT, ratios in [0, 1] */
  double bins_param = 0.0, count = 0.0;
  FUZZ_CHECK(logitnorm_calibration_get(c, LOGITNORM_CALIBRATION_BINS, &bins_param) == LOGITNORM_OK);
  FUZZ_CHECK(logitnorm_calibration_value(c, LOGITNORM_CALIBRATION_COUNT, &count) == LOGITNORM_OK);
  int64_t n = -1;
  logitnorm_status st = logitnorm_calibration_bins(c, NULL, NULL, NULL, 0, &n);
  if (st != LOGITNORM_OK) {
    FUZZ_CHECK_FAILED(st);
    return;
  }
  FUZZ_CHECK(n >= 1 && (double)n <= bins_param);
  double *cnt = malloc((size_t)n * sizeof *cnt), *conf = malloc((size_t)n * sizeof *conf);
  double *acc = malloc((size_t)n * sizeof *acc), total = 0.0;
  int64_t again = -1;
  FUZZ_CHECK(logitnorm_calibration_bins(c, cnt, conf, acc, n, &again) == LOGITNORM_OK && again == n);
  for (int64_t k = 0; k < n; ++k) {
    FUZZ_CHECK(cnt[k] >= 1.0 && conf[k] >= 0.0 && conf[k] <= 1.0 && acc[k] >= 0.0 && acc[k] <= 1.0);
    total += cnt[k];
  }
  FUZZ_CHECK(total == count);
  free(cnt);
  free(conf);
  free(acc);
}

static int one_input(const uint8_t *data, size_t size) {
  logitnorm_calibration *sentinel = (logitnorm_calibration *)(uintptr_t)0x5e5e5e5e;
  logitnorm_calibration *c = sentinel;
  logitnorm_status st = logitnorm_calibration_load(&c, data, size);
  if (st != LOGITNORM_OK) {
    FUZZ_CHECK_FAILED(st);
    FUZZ_CHECK(c == sentinel);
    return 0;
  }
  exercise(c);
  size_t need = 0;
  FUZZ_CHECK(logitnorm_calibration_save(c, NULL, 0, &need) == LOGITNORM_OK);
  unsigned char *a = malloc(need), *b = malloc(need);
  size_t na = 0, nb = 0;
  FUZZ_CHECK(logitnorm_calibration_save(c, a, need, &na) == LOGITNORM_OK && na == need);
  logitnorm_calibration *c2 = NULL;
  FUZZ_CHECK(logitnorm_calibration_load(&c2, a, na) == LOGITNORM_OK);
  FUZZ_CHECK(logitnorm_calibration_save(c2, b, need, &nb) == LOGITNORM_OK && nb == na);
  FUZZ_CHECK(memcmp(a, b, na) == 0);
  add_half_twin(a, na, data, size);
  if (logitnorm_calibration_merge(c2, c) == LOGITNORM_OK) exercise(c2);
  logitnorm_calibration_free(c2);
  logitnorm_calibration_free(c);
  free(a);
  free(b);
  return 0;
}

/* The input as given (frame checks), then with its frame made consistent (payload checks). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  one_input(data, size);
  unsigned char *fixed = fuzz_fixed_frame(data, size);
  if (fixed != NULL) one_input(fixed, size);
  free(fixed);
  return 0;
}
