/* logitnorm_scorer_load on arbitrary bytes: never a crash or an over-read; a failed load
   writes nothing to *out; a loaded scorer has THREADS = 1 whatever the blob says (a blob
   must not make scoring start threads the caller did not ask for); it saves to a blob that loads and saves to the same
   bytes, and scores a small batch (exactly sized buffers, so any read past the dimensions
   the blob declares is caught) with finite scores or a failing status. White-box: the
   dimensions are read from the handle, which the public API does not report. */
#include <math.h>

#include "fuzz_common.h"
#include "score/scorer_internal.h"

enum { ROWS = 3 };

static void score_batch(const logitnorm_scorer *s) {
  int64_t c = s->num_classes, d = s->feature_dim;
  if (c < 1 || c > 4096 || d < 0 || d > 4096) return; /* valid but too big to score here */
  float *logits = malloc((size_t)(ROWS * c) * sizeof *logits);
  float *features = malloc((size_t)(ROWS * (d > 0 ? d : 1)) * sizeof *features);
  float scores[ROWS];
  for (int64_t i = 0; i < ROWS * c; ++i) logits[i] = (float)((i * 37) % 11) - 5.0f;
  for (int64_t i = 0; i < ROWS * (d > 0 ? d : 1); ++i) features[i] = (float)((i * 13) % 7) * 0.5f - 1.0f;
  logitnorm_status st = logitnorm_scorer_score_f32(s, ROWS, logits, c, d > 0 ? features : NULL, d, scores);
  if (st == LOGITNORM_OK)
    for (int i = 0; i < ROWS; ++i) FUZZ_CHECK(isfinite(scores[i]));
  else
    FUZZ_CHECK_FAILED(st);
  if (ln_kind_logit_only(s->kind)) {
    float *grad = malloc((size_t)(ROWS * c) * sizeof *grad);
    st = logitnorm_scorer_score_grad_f32(s, ROWS, logits, c, scores, grad, c);
    if (st != LOGITNORM_OK) FUZZ_CHECK_FAILED(st);
    free(grad);
  }
  free(logits);
  free(features);
}

static int one_input(const uint8_t *data, size_t size) {
  logitnorm_scorer *sentinel = (logitnorm_scorer *)(uintptr_t)0x5e5e5e5e;
  logitnorm_scorer *s = sentinel;
  logitnorm_status st = logitnorm_scorer_load(&s, data, size);
  if (st != LOGITNORM_OK) {
    FUZZ_CHECK_FAILED(st);
    FUZZ_CHECK(s == sentinel);
    return 0;
  }
  double threads = 0.0;
  FUZZ_CHECK(logitnorm_scorer_get(s, LOGITNORM_SCORER_THREADS, &threads) == LOGITNORM_OK && threads == 1.0);
  score_batch(s);
  size_t need = 0;
  FUZZ_CHECK(logitnorm_scorer_save(s, NULL, 0, &need) == LOGITNORM_OK);
  unsigned char *a = malloc(need), *b = malloc(need);
  size_t na = 0, nb = 0;
  FUZZ_CHECK(logitnorm_scorer_save(s, a, need, &na) == LOGITNORM_OK && na == need);
  logitnorm_scorer *s2 = NULL;
  FUZZ_CHECK(logitnorm_scorer_load(&s2, a, na) == LOGITNORM_OK);
  FUZZ_CHECK(logitnorm_scorer_save(s2, b, need, &nb) == LOGITNORM_OK && nb == na);
  FUZZ_CHECK(memcmp(a, b, na) == 0);
  logitnorm_scorer_free(s2);
  logitnorm_scorer_free(s);
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
