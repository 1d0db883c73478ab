/* logitnorm_calibration_load on arbitrary bytes (blob format versions 1 and 2): never a crash
   or an over-read; a failed load writes nothing to *out; a loaded accumulator gives finite
   values (or a failing status) and consistent reliability data, and saves to a blob that loads
   and saves to the same bytes. */
#include <math.h>

#include "fuzz_common.h"

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
