/* logitnorm_scorer_load on arbitrary bytes: never a crash or an over-read; a failed load
   writes nothing to *out; a loaded scorer has THREADS = 1 whatever the blob says (a blob
   must not make scoring start threads the caller did not ask for); it saves to a blob that loads and saves to the same
   bytes, and scores a small batch (exactly sized buffers, so any read past the dimensions
   the blob declares is caught) with finite scores or a failing status. The bf16 and f16 twins
   of the score call, on the batch rounded to the half type with one logit and one feature
   set from the input's last bytes (NaN, infinities, overflow, subnormals), give the status
   and the score bits of the f32 call on the rounded values widened back, and write nothing
   when they fail. White-box: the dimensions are read from the handle, which the public API
   does not report. */
#include <math.h>

#include "common/half.h"
#include "fuzz_common.h"
#include "score/scorer_internal.h"

/* A value the input bytes put into the half batch: NaN, the infinities, and values the half
   types overflow or round to subnormals or zero. */
static float pick_special(fuzz_bytes *b) {
  static const float special[8] = {NAN, INFINITY, -INFINITY, 1e5f, -7e4f, 3e-6f, 1e-9f, 0.1f};
  return special[fuzz_u8(b) % 8];
}

/* The half twin of the score call (f16 or bf16) against score_f32 on the widened batch, with
   one entry of the logits and one of the features set from the input bytes. */
static void score_half_twin(const logitnorm_scorer *s, int f16, int64_t rows, const float *logits, int64_t ld,
                            const float *features, int64_t ldf, int64_t ncols_f, fuzz_bytes *b) {
  int64_t nl = rows * ld, nf = features != NULL ? ncols_f : 1;
  uint16_t *zh = malloc((size_t)nl * 2), *hh = malloc((size_t)nf * 2);
  float *zw = malloc((size_t)nl * 4), *hw = malloc((size_t)nf * 4);
  for (int64_t i = 0; i < nl; ++i) {
    const float v = logits[i] * 1.37f; /* values that the half types round */
    zh[i] = f16 ? ln_f32_to_f16(v) : ln_f32_to_bf16(v);
    zw[i] = f16 ? ln_f16_to_f32(zh[i]) : ln_bf16_to_f32(zh[i]);
  }
  for (int64_t i = 0; i < nf && features != NULL; ++i) {
    const float v = features[i] * 1.37f;
    hh[i] = f16 ? ln_f32_to_f16(v) : ln_f32_to_bf16(v);
    hw[i] = f16 ? ln_f16_to_f32(hh[i]) : ln_bf16_to_f32(hh[i]);
  }
  const int64_t zl = (int64_t)fuzz_u32(b) % nl, fl = (int64_t)fuzz_u32(b) % nf;
  zh[zl] = f16 ? ln_f32_to_f16(pick_special(b)) : ln_f32_to_bf16(pick_special(b));
  zw[zl] = f16 ? ln_f16_to_f32(zh[zl]) : ln_bf16_to_f32(zh[zl]);
  hh[fl] = f16 ? ln_f32_to_f16(pick_special(b)) : ln_f32_to_bf16(pick_special(b));
  hw[fl] = f16 ? ln_f16_to_f32(hh[fl]) : ln_bf16_to_f32(hh[fl]);
  float out_h[8], out_w[8];
  for (int i = 0; i < 8; ++i) out_h[i] = out_w[i] = -12345.0f;
  const uint16_t *fh = features != NULL ? hh : NULL;
  const float *fw = features != NULL ? hw : NULL;
  logitnorm_status sh = f16 ? logitnorm_scorer_score_f16(s, rows, zh, ld, fh, ldf, out_h)
                            : logitnorm_scorer_score_bf16(s, rows, zh, ld, fh, ldf, out_h);
  logitnorm_status sw = logitnorm_scorer_score_f32(s, rows, zw, ld, fw, ldf, out_w);
  FUZZ_CHECK(sh == sw);
  if (sh == LOGITNORM_OK)
    FUZZ_CHECK(memcmp(out_h, out_w, (size_t)rows * sizeof *out_h) == 0);
  else
    for (int64_t i = 0; i < rows; ++i) FUZZ_CHECK(out_h[i] == -12345.0f);
  free(zh), free(hh), free(zw), free(hw);
}

enum { ROWS = 3 };

static void score_batch(const logitnorm_scorer *s, fuzz_bytes *b) {
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
  for (int f16 = 0; f16 < 2; ++f16)
    score_half_twin(s, f16, ROWS, logits, c, d > 0 ? features : NULL, d, ROWS * (d > 0 ? d : 1), b);
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
  fuzz_bytes tail = {.p = data, .size = size, .pos = size > 32 ? size - 32 : 0}; /* the last bytes */
  score_batch(s, &tail);
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
