/* logitnorm_metrics_load on arbitrary bytes (formats 1 and 2): never a crash or an over-read; a
   failed load writes nothing to *out; a loaded accumulator answers every query, the selective
   ones included, without crashing, gives finite values when it succeeds, and saves to a blob
   that loads and saves to the same bytes. */
#include <math.h>

#include "fuzz_common.h"

static void exercise(logitnorm_metrics *m) {
  for (int which = LOGITNORM_METRIC_AUROC; which <= LOGITNORM_METRIC_COVERAGE_AT_RISK; ++which) {
    double v = NAN;
    logitnorm_status st = logitnorm_metrics_value(m, (logitnorm_metric)which, &v);
    if (st == LOGITNORM_OK)
      FUZZ_CHECK(isfinite(v) || which == LOGITNORM_METRIC_THRESHOLD_AT_TPR);
    else
      FUZZ_CHECK_FAILED(st);
  }
  for (int curve = 0; curve < 2; ++curve) {
    int64_t count = -1;
    logitnorm_status st = logitnorm_metrics_curve(m, curve, NULL, NULL, NULL, 0, &count);
    if (st != LOGITNORM_OK) {
      FUZZ_CHECK_FAILED(st);
      continue;
    }
    FUZZ_CHECK(count >= 0);
    if (count > (1 << 20)) continue;
    double *x = malloc((size_t)(count + 1) * sizeof *x), *y = malloc((size_t)(count + 1) * sizeof *y),
           *t = malloc((size_t)(count + 1) * sizeof *t);
    int64_t got = -1;
    st = logitnorm_metrics_curve(m, curve, x, y, t, count > 0 ? count : 1, &got);
    FUZZ_CHECK(st == LOGITNORM_OK || count == 0);
    if (st == LOGITNORM_OK) FUZZ_CHECK(got == count);
    free(x);
    free(y);
    free(t);
  }
}

static int one_input(const uint8_t *data, size_t size) {
  logitnorm_metrics *sentinel = (logitnorm_metrics *)(uintptr_t)0x5e5e5e5e;
  logitnorm_metrics *m = sentinel;
  logitnorm_status st = logitnorm_metrics_load(&m, data, size);
  if (st != LOGITNORM_OK) {
    FUZZ_CHECK_FAILED(st);
    FUZZ_CHECK(m == sentinel);
    return 0;
  }
  exercise(m);
  size_t need = 0;
  FUZZ_CHECK(logitnorm_metrics_save(m, NULL, 0, &need) == LOGITNORM_OK);
  unsigned char *a = malloc(need), *b = malloc(need);
  size_t na = 0, nb = 0;
  FUZZ_CHECK(logitnorm_metrics_save(m, a, need, &na) == LOGITNORM_OK && na == need);
  logitnorm_metrics *m2 = NULL;
  FUZZ_CHECK(logitnorm_metrics_load(&m2, a, na) == LOGITNORM_OK);
  FUZZ_CHECK(logitnorm_metrics_save(m2, b, need, &nb) == LOGITNORM_OK && nb == na);
  FUZZ_CHECK(memcmp(a, b, na) == 0);
  /* merging the copy back in doubles every count; it must stay a valid accumulator */
  if (logitnorm_metrics_merge(m2, m) == LOGITNORM_OK) exercise(m2);
  logitnorm_metrics_free(m2);
  logitnorm_metrics_free(m);
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
