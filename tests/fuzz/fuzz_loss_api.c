/* The loss API driven by the fuzzer's bytes: they choose the kind, C, n, ld/ldt/ldg, every
   parameter, the labels (including out-of-range ones), the logits and targets (including NaN,
   Inf, +-FLT_MAX and denormals), the entry point and in-place use. Properties:
     - no crash, no read or write outside the exactly sized buffers (the sanitizers);
     - a failed call has a known status, an error text, and wrote nothing (sentinels);
     - a successful call never touches the padded columns of grad;
     - with finite inputs under LogitNorm (eps >= 1e-7, tau >= 1e-6) every output is finite,
       because |u| <= 1/tau and the row scale is at most 1/(tau eps).
   Then the 1.1 entry points (forward_stats, backward_stats, probs) on the same inputs, see
   fuzz_stats_calls, the bf16 and f16 twins of the call and of those (in place when the call
   is), see fuzz_half_call and fuzz_half_stats_calls, and the fused
   linear head with sizes small or impossible, see fuzz_head_call. The temperature fit runs on
   the same logits and labels. */
#include <float.h>
#include <math.h>

#include "common/half.h"
#include "fuzz_common.h"

static const float SPECIAL_F32[] = {0.0f, -0.0f, 1.0f, -1.0f, FLT_MAX, -FLT_MAX, FLT_MIN, FLT_TRUE_MIN,
                                    -FLT_TRUE_MIN, 1e-40f, NAN, INFINITY, -INFINITY, 88.0f, -104.0f, 3.5f};
static const double TAU[] = {0.04, 1.0, 1e-6, 1e6, 0.5, 0.0, -1.0, NAN};
static const double EPS[] = {1e-7, 0.0, 1e-3, 1e-30, -1.0};
static const float SCALE[] = {1.0f, 0.5f, -2.0f, 0.0f, 3.0f, 1e-3f, NAN, INFINITY};

static float pick_value(fuzz_bytes *b) {
  uint8_t sel = fuzz_u8(b);
  if (sel < 128) return SPECIAL_F32[sel % 16];
  if (sel < 192) return (float)((int)fuzz_u8(b) - 128) * 0.125f;
  uint32_t bits = fuzz_u32(b);
  float v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

static int all_finite(const float *p, int64_t rows, int64_t cols, int64_t ld) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t c = 0; c < cols; ++c)
      if (!isfinite(p[i * ld + c])) return 0;
  return 1;
}

/* The call's twin in bf16 or f16 (chosen by the bytes) on the inputs rounded to that type,
   against the f32 call on the rounded values widened back: the same status; on success the
   same loss_out and row_loss bits and each half output equal to the f32 one rounded once (NaN
   for NaN); on failure no half output written. */
static uint16_t fuzz_narrow(int f16, float x) { return f16 ? ln_f32_to_f16(x) : ln_f32_to_bf16(x); }
static float fuzz_widen(int f16, uint16_t h) { return f16 ? ln_f16_to_f32(h) : ln_bf16_to_f32(h); }

/* The same bits, or both NaN: a NaN result's sign and payload depend on the operand order
   the compiler chose for a commutative operation, which C leaves open, so two instantiations
   of one kernel may give NaNs that differ in those bits only. */
static int same_f32(float x, float y) { return memcmp(&x, &y, sizeof x) == 0 || (isnan(x) && isnan(y)); }
static int same_f64(double x, double y) { return memcmp(&x, &y, sizeof x) == 0 || (isnan(x) && isnan(y)); }

typedef struct fuzz_half_args {
  const logitnorm_loss *h;
  int soft, backward, in_place;
  int64_t n, C, ld, ldt, ldg, lspan, tspan, gspan;
  const float *logits, *targets, *grad0, *rs;
  const int32_t *labels;
  float alpha, beta;
} fuzz_half_args;

static void fuzz_half_call(fuzz_bytes *b, const fuzz_half_args *a) {
  const int f16 = fuzz_u8(b) & 1;
  const int64_t rows = a->n > 0 ? a->n : 0, gsp = a->in_place ? a->lspan : a->gspan;
  uint16_t *zh = malloc((size_t)a->lspan * 2), *th = malloc((size_t)a->tspan * 2), *gh_own = malloc((size_t)gsp * 2);
  uint16_t *gcopy = malloc((size_t)gsp * 2);
  float *zf = malloc((size_t)a->lspan * 4), *tf = malloc((size_t)a->tspan * 4), *gf_own = malloc((size_t)gsp * 4);
  float *rlh = malloc((size_t)(rows + 1) * 4), *rlf = malloc((size_t)(rows + 1) * 4);
  for (int64_t i = 0; i < a->lspan; ++i) zf[i] = fuzz_widen(f16, zh[i] = fuzz_narrow(f16, a->logits[i]));
  for (int64_t i = 0; i < a->tspan; ++i) tf[i] = fuzz_widen(f16, th[i] = fuzz_narrow(f16, a->targets[i]));
  for (int64_t i = 0; i < gsp; ++i) gf_own[i] = fuzz_widen(f16, gh_own[i] = fuzz_narrow(f16, a->grad0[i]));
  uint16_t *gh = a->in_place ? zh : gh_own;
  float *gf = a->in_place ? zf : gf_own;
  memcpy(gcopy, gh, (size_t)gsp * 2);
  for (int64_t i = 0; i <= rows; ++i) rlh[i] = rlf[i] = -12345.0f;
  double lh = -12345.0, lf = -12345.0;
  logitnorm_status sh, sf;
  const logitnorm_loss *h = a->h;
#define HALF(name, ...) (f16 ? logitnorm_loss_##name##_f16(__VA_ARGS__) : logitnorm_loss_##name##_bf16(__VA_ARGS__))
  if (a->backward == 0) {
    sf = a->soft ? logitnorm_loss_forward_soft_f32(h, a->n, zf, a->ld, tf, a->ldt, &lf, rlf)
                 : logitnorm_loss_forward_f32(h, a->n, zf, a->ld, a->labels, &lf, rlf);
    sh = a->soft ? HALF(forward_soft, h, a->n, zh, a->ld, th, a->ldt, &lh, rlh)
                 : HALF(forward, h, a->n, zh, a->ld, a->labels, &lh, rlh);
  } else if (a->backward == 1) {
    sf = a->soft ? logitnorm_loss_backward_soft_f32(h, a->n, zf, a->ld, tf, a->ldt, a->rs, a->alpha, a->beta, gf,
                                                    a->ldg)
                 : logitnorm_loss_backward_f32(h, a->n, zf, a->ld, a->labels, a->rs, a->alpha, a->beta, gf, a->ldg);
    sh = a->soft ? HALF(backward_soft, h, a->n, zh, a->ld, th, a->ldt, a->rs, a->alpha, a->beta, gh, a->ldg)
                 : HALF(backward, h, a->n, zh, a->ld, a->labels, a->rs, a->alpha, a->beta, gh, a->ldg);
  } else {
    sf = a->soft ? logitnorm_loss_forward_backward_soft_f32(h, a->n, zf, a->ld, tf, a->ldt, &lf, rlf, a->alpha,
                                                            a->beta, gf, a->ldg)
                 : logitnorm_loss_forward_backward_f32(h, a->n, zf, a->ld, a->labels, &lf, rlf, a->alpha, a->beta,
                                                       gf, a->ldg);
    sh = a->soft ? HALF(forward_backward_soft, h, a->n, zh, a->ld, th, a->ldt, &lh, rlh, a->alpha, a->beta, gh,
                        a->ldg)
                 : HALF(forward_backward, h, a->n, zh, a->ld, a->labels, &lh, rlh, a->alpha, a->beta, gh, a->ldg);
  }
#undef HALF
  FUZZ_CHECK(sh == sf);
  if (sh != LOGITNORM_OK) {
    FUZZ_CHECK_FAILED(sh);
    FUZZ_CHECK(lh == -12345.0);
    for (int64_t i = 0; i < rows; ++i) FUZZ_CHECK(rlh[i] == -12345.0f);
    FUZZ_CHECK(memcmp(gcopy, gh, (size_t)gsp * 2) == 0);
  } else {
    FUZZ_CHECK(same_f64(lh, lf));
    for (int64_t i = 0; i < rows; ++i) FUZZ_CHECK(same_f32(rlh[i], rlf[i]));
    if (a->backward != 0)
      for (int64_t i = 0; i < gsp; ++i) {
        const uint16_t want = fuzz_narrow(f16, gf[i]);
        FUZZ_CHECK(gh[i] == want || (isnan(fuzz_widen(f16, gh[i])) && isnan(gf[i])));
      }
  }
  free(zh), free(th), free(gh_own), free(gcopy), free(zf), free(tf), free(gf_own), free(rlh), free(rlf);
}

/* The inputs rounded to the half type: h gets the half values, f their exact widening. */
static void fuzz_round(int f16, const float *src, int64_t count, uint16_t *h, float *f) {
  for (int64_t i = 0; i < count; ++i) f[i] = fuzz_widen(f16, h[i] = fuzz_narrow(f16, src[i]));
}

/* On success every half output equals the f32 one rounded once (NaN for NaN); on failure the
   half output is as it was. */
static void fuzz_check_half_out(int f16, logitnorm_status st, const uint16_t *out, const uint16_t *before,
                                const float *want, int64_t count) {
  if (st != LOGITNORM_OK) {
    FUZZ_CHECK(memcmp(out, before, (size_t)count * 2) == 0);
    return;
  }
  for (int64_t i = 0; i < count; ++i)
    FUZZ_CHECK(out[i] == fuzz_narrow(f16, want[i]) || (isnan(fuzz_widen(f16, out[i])) && isnan(want[i])));
}

/* The half twins of the 1.1 entry points on the inputs rounded to bf16 or f16, against the
   _f32 calls on the widened values, in place when the call was: forward_stats gives the same
   status and the same loss, row loss and statistics bits, NaN for NaN (a failure writes none
   of them); backward_stats, given the f32 call's statistics (they are interchangeable), and
   probs give the same status and each half output the f32 one rounded once. */
static void fuzz_half_stats_calls(fuzz_bytes *b, const fuzz_half_args *a) {
  const int f16 = fuzz_u8(b) & 1;
  const logitnorm_loss *h = a->h;
  const int64_t rows = a->n > 0 ? a->n : 0, gsp = a->in_place ? a->lspan : a->gspan;
  const int64_t nstats = (rows + 1) * LOGITNORM_LOSS_ROW_STATS;
  uint16_t *zh = malloc((size_t)a->lspan * 2), *th = malloc((size_t)a->tspan * 2);
  uint16_t *gh_own = malloc((size_t)gsp * 2), *before = malloc((size_t)gsp * 2);
  float *zf = malloc((size_t)a->lspan * 4), *tf = malloc((size_t)a->tspan * 4), *gf_own = malloc((size_t)gsp * 4);
  float *rlh = malloc((size_t)(rows + 1) * 4), *rlf = malloc((size_t)(rows + 1) * 4);
  double *sh = malloc((size_t)nstats * sizeof *sh), *sf = malloc((size_t)nstats * sizeof *sf);
  fuzz_round(f16, a->logits, a->lspan, zh, zf);
  fuzz_round(f16, a->targets, a->tspan, th, tf);
  for (int64_t i = 0; i <= rows; ++i) rlh[i] = rlf[i] = -12345.0f;
  for (int64_t i = 0; i < nstats; ++i) sh[i] = sf[i] = -777.0;
  double lh = -12345.0, lf = -12345.0;
#define HALF(name, ...) (f16 ? logitnorm_loss_##name##_f16(__VA_ARGS__) : logitnorm_loss_##name##_bf16(__VA_ARGS__))
  logitnorm_status stf, sth;
  if (a->soft) {
    stf = logitnorm_loss_forward_stats_soft_f32(h, a->n, zf, a->ld, tf, a->ldt, &lf, rlf, sf);
    sth = HALF(forward_stats_soft, h, a->n, zh, a->ld, th, a->ldt, &lh, rlh, sh);
  } else {
    stf = logitnorm_loss_forward_stats_f32(h, a->n, zf, a->ld, a->labels, &lf, rlf, sf);
    sth = HALF(forward_stats, h, a->n, zh, a->ld, a->labels, &lh, rlh, sh);
  }
  FUZZ_CHECK(sth == stf);
  if (sth == LOGITNORM_OK) {
    FUZZ_CHECK(same_f64(lh, lf));
    for (int64_t i = 0; i < rows; ++i) FUZZ_CHECK(same_f32(rlh[i], rlf[i]));
    for (int64_t i = 0; i < nstats; ++i) FUZZ_CHECK(same_f64(sh[i], sf[i]));
  } else {
    FUZZ_CHECK_FAILED(sth);
    FUZZ_CHECK(lh == -12345.0);
    for (int64_t i = 0; i < nstats; ++i) FUZZ_CHECK(sh[i] == -777.0);
  }

  /* backward_stats; in place the gradient overwrites each call's own copy of the logits */
  uint16_t *gh = a->in_place ? zh : gh_own;
  float *gf = a->in_place ? zf : gf_own;
  if (!a->in_place) fuzz_round(f16, a->grad0, gsp, gh, gf);
  memcpy(before, gh, (size_t)gsp * 2);
  if (a->soft) {
    stf = logitnorm_loss_backward_stats_soft_f32(h, a->n, zf, a->ld, tf, a->ldt, sf, a->rs, a->alpha, a->beta, gf,
                                                 a->ldg);
    sth = HALF(backward_stats_soft, h, a->n, zh, a->ld, th, a->ldt, sf, a->rs, a->alpha, a->beta, gh, a->ldg);
  } else {
    stf = logitnorm_loss_backward_stats_f32(h, a->n, zf, a->ld, a->labels, sf, a->rs, a->alpha, a->beta, gf, a->ldg);
    sth = HALF(backward_stats, h, a->n, zh, a->ld, a->labels, sf, a->rs, a->alpha, a->beta, gh, a->ldg);
  }
  FUZZ_CHECK(sth == stf);
  if (sth != LOGITNORM_OK) FUZZ_CHECK_FAILED(sth);
  fuzz_check_half_out(f16, sth, gh, before, gf, gsp);

  /* probs on fresh logits, into the gradient's buffer or in place */
  fuzz_round(f16, a->logits, a->lspan, zh, zf);
  if (!a->in_place) fuzz_round(f16, a->grad0, gsp, gh, gf);
  memcpy(before, gh, (size_t)gsp * 2);
  stf = logitnorm_loss_probs_f32(h, a->n, zf, a->ld, gf, a->ldg);
  sth = HALF(probs, h, a->n, zh, a->ld, gh, a->ldg);
#undef HALF
  FUZZ_CHECK(sth == stf);
  if (sth != LOGITNORM_OK) FUZZ_CHECK_FAILED(sth);
  fuzz_check_half_out(f16, sth, gh, before, gf, gsp);
  free(zh), free(th), free(gh_own), free(before), free(zf), free(tf), free(gf_own), free(rlh), free(rlf);
  free(sh), free(sf);
}

/* The 1.1 entry points on the same inputs: forward_stats, backward_stats with the saved
   statistics (or with one slot replaced by a fuzzed value), and probs, each out of place or in
   place on a copy of the logits. Besides the general properties:
     - forward_stats fails exactly when forward does, and backward_stats with untouched
       statistics exactly when backward does (the same checks of the same inputs);
     - row_stats past n rows and columns past C of grad and probs are never written;
     - probs that succeed with CHECK_FINITE on lie in [0, 1], are exactly 0 at -inf logits and
       sum to 1 over each row. */
static void fuzz_stats_calls(fuzz_bytes *b, const logitnorm_loss *h, int soft, int check_finite, int64_t n, int64_t C, int64_t ld, int64_t ldt, int64_t ldg, const float *logits_in, int64_t lspan,
                             const float *targets, const int32_t *labels, const float *rs, float alpha, float beta,
                             const float *grad0, int64_t g0span) {
  uint8_t sel = fuzz_u8(b);
  int in_place = sel & 1, corrupt = (sel >> 1) & 1, null_stats = (sel >> 2) == 63;
  int64_t rows = n > 0 ? n : 0;
  size_t sbytes = (size_t)(rows + 1) * LOGITNORM_LOSS_ROW_STATS * sizeof(double);
  float *logits = malloc((size_t)lspan * sizeof *logits);
  memcpy(logits, logits_in, (size_t)lspan * sizeof *logits);
  double *stats = malloc(sbytes), *stats_copy = malloc(sbytes);
  for (size_t i = 0; i < sbytes / sizeof(double); ++i) stats[i] = -777.0;
  float *row_loss = malloc((size_t)(rows + 1) * sizeof *row_loss);
  for (int64_t i = 0; i <= rows; ++i) row_loss[i] = -12345.0f;
  double loss = -12345.0;

  /* forward_stats against forward */
  logitnorm_status ref = soft ? logitnorm_loss_forward_soft_f32(h, n, logits, ld, targets, ldt, NULL, NULL)
                              : logitnorm_loss_forward_f32(h, n, logits, ld, labels, NULL, NULL);
  logitnorm_status st =
      soft ? logitnorm_loss_forward_stats_soft_f32(h, n, logits, ld, targets, ldt, &loss, row_loss,
                                                   null_stats ? NULL : stats)
           : logitnorm_loss_forward_stats_f32(h, n, logits, ld, labels, &loss, row_loss, null_stats ? NULL : stats);
  const logitnorm_status fwd = st;
  if (!null_stats) FUZZ_CHECK(st == ref);
  if (null_stats && n > 0) FUZZ_CHECK(st != LOGITNORM_OK);
  if (st != LOGITNORM_OK) {
    FUZZ_CHECK_FAILED(st);
    FUZZ_CHECK(loss == -12345.0);
    for (int64_t i = 0; i < rows * LOGITNORM_LOSS_ROW_STATS; ++i) FUZZ_CHECK(stats[i] == -777.0);
  }
  for (int i = 0; i < LOGITNORM_LOSS_ROW_STATS; ++i) FUZZ_CHECK(stats[rows * LOGITNORM_LOSS_ROW_STATS + i] == -777.0);
  for (int64_t i = st == LOGITNORM_OK ? rows : 0; i <= rows; ++i) FUZZ_CHECK(row_loss[i] == -12345.0f);

  /* backward_stats with those statistics (a failed forward leaves -777, which is no valid k) */
  if (corrupt && rows > 0) {
    float v = pick_value(b);
    uint8_t at = fuzz_u8(b);
    stats[(at >> 2) % rows * LOGITNORM_LOSS_ROW_STATS + (at & 3)] = (at & 0x80) ? -1.0 : (double)v;
  }
  memcpy(stats_copy, stats, sbytes);
  if (in_place) ldg = ld;
  int64_t gspan = in_place ? lspan : g0span;
  float *grad = in_place ? logits : malloc((size_t)gspan * sizeof *grad);
  if (!in_place) memcpy(grad, grad0, (size_t)gspan * sizeof *grad);
  float *before = malloc((size_t)gspan * sizeof *before);
  memcpy(before, grad, (size_t)gspan * sizeof *grad);
  float *scratch = malloc((size_t)gspan * sizeof *scratch);
  memcpy(scratch, before, (size_t)gspan * sizeof *scratch);
  ref = soft ? logitnorm_loss_backward_soft_f32(h, n, logits, ld, targets, ldt, rs, alpha, beta,
                                                scratch, ldg)
             : logitnorm_loss_backward_f32(h, n, logits, ld, labels, rs, alpha, beta, scratch, ldg);
  const double *sp = null_stats ? NULL : stats;
  st = soft ? logitnorm_loss_backward_stats_soft_f32(h, n, logits, ld, targets, ldt, sp, rs, alpha, beta, grad, ldg)
            : logitnorm_loss_backward_stats_f32(h, n, logits, ld, labels, sp, rs, alpha, beta, grad, ldg);
  FUZZ_CHECK(memcmp(stats, stats_copy, sbytes) == 0);
  if (st != LOGITNORM_OK) {
    FUZZ_CHECK_FAILED(st);
    FUZZ_CHECK(memcmp(grad, before, (size_t)gspan * sizeof *grad) == 0);
  } else {
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t c = C; c < ldg && i * ldg + c < gspan; ++c) FUZZ_CHECK(memcmp(&grad[i * ldg + c], &before[i * ldg + c], sizeof(float)) == 0);
  }
  /* forward_stats succeeded and its statistics were passed on untouched: the same checks as backward */
  if (fwd == LOGITNORM_OK && !corrupt && !null_stats) FUZZ_CHECK(st == ref);

  /* probs: out of place with ldp = ldg, or in place on a fresh copy of the logits */
  memcpy(logits, logits_in, (size_t)lspan * sizeof *logits);
  int64_t ldp = in_place ? ld : ldg, pspan = in_place ? lspan : g0span;
  float *probs = in_place ? logits : grad;
  if (!in_place) memcpy(probs, grad0, (size_t)pspan * sizeof *probs);
  memcpy(before, probs, (size_t)pspan * sizeof *probs);
  st = logitnorm_loss_probs_f32(h, n, logits, ld, probs, ldp);
  if (st != LOGITNORM_OK) {
    FUZZ_CHECK_FAILED(st);
    FUZZ_CHECK(memcmp(probs, before, (size_t)pspan * sizeof *probs) == 0);
  } else {
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t c = C; c < ldp && i * ldp + c < pspan; ++c)
        FUZZ_CHECK(memcmp(&probs[i * ldp + c], &before[i * ldp + c], sizeof(float)) == 0);
    if (check_finite && ldp < 64 && ld < 64)
      for (int64_t i = 0; i < rows; ++i) {
        double sum = 0.0;
        for (int64_t c = 0; c < C; ++c) {
          float p = probs[i * ldp + c];
          FUZZ_CHECK(p >= 0.0f && p <= 1.0f);
          if (logits_in[i * ld + c] == -INFINITY) FUZZ_CHECK(p == 0.0f);
          sum += p;
        }
        FUZZ_CHECK(fabs(sum - 1.0) <= 1e-4);
      }
  }
  free(scratch);
  free(before);
  if (!in_place) free(grad);
  free(logits);
  free(stats);
  free(stats_copy);
  free(row_loss);
}

/* A size of the fused linear head: small, or one the call must reject. A leading dimension
   of 2^31 or 2^40 is addressable on a 64-bit host (and so not in the second list), a feature
   count that large is not. */
static int64_t head_size(fuzz_bytes *b, int64_t small, int is_d) {
  static const int64_t BAD_LD[] = {INT64_C(1) << 62, INT64_MAX, INT64_MAX / 3, 0, -1};
  static const int64_t BAD_D[] = {INT64_C(1) << 62, INT64_MAX, (int64_t)INT32_MAX + 1, INT64_C(1) << 40, 0, -1};
  uint8_t sel = fuzz_u8(b);
  if (sel < 224) return (small >= 1 && small <= 3 ? small : 1) + sel % 3;
  return is_d ? BAD_D[sel % 6] : BAD_LD[sel % 5];
}

/* Elements a rows x cols matrix with leading dimension ld spans, or -1 when the call must
   reject it (cols outside [1, 3], ld < cols, or a huge stride over more than one row). */
static int64_t head_span(int64_t rows, int64_t cols, int64_t ld) {
  if (cols < 1 || cols > 3 || ld < cols) return -1;
  if (rows <= 1) return rows * cols;
  return ld <= 5 ? (rows - 1) * ld + cols : -1;
}

/* The fused linear head on handle h with fuzzed n, d and leading dimensions (now and then
   sizes no memory can hold, which must be rejected), a bias that may hold -inf masks, NaN or
   +inf, and labels that may name a masked class. Buffers are exactly sized; a matrix whose
   sizes must be rejected gets one element, and the call must then fail. A failed call wrote
   nothing. */
static void fuzz_head_call(fuzz_bytes *b, const logitnorm_loss *h, int64_t C, int64_t ignore) {
  int64_t n = fuzz_u8(b) % 5, d = head_size(b, 1, 1);
  int64_t ldx = head_size(b, d, 0), ldw = head_size(b, d, 0), lddx = head_size(b, d, 0), lddw = head_size(b, d, 0);
  int64_t xs = head_span(n, d, ldx), ws = head_span(C, d, ldw), dxs = head_span(n, d, lddx);
  int64_t dws = head_span(C, d, lddw);
  uint8_t outs = fuzz_u8(b);
  const int must_fail = n > 0 && (xs < 0 || ws < 0 || ((outs & 4) && dxs < 0) || ((outs & 8) && dws < 0));
  xs = xs > 0 ? xs : 1;
  ws = ws > 0 ? ws : 1;
  dxs = dxs > 0 ? dxs : 1;
  dws = dws > 0 ? dws : 1;
  float *x = malloc((size_t)xs * sizeof *x), *w = malloc((size_t)ws * sizeof *w), *bias = malloc((size_t)C * sizeof *bias);
  float *dx = malloc((size_t)dxs * sizeof *dx), *dw = malloc((size_t)dws * sizeof *dw), *db = malloc((size_t)C * sizeof *db);
  float *rows = malloc((size_t)(n > 0 ? n : 1) * sizeof *rows);
  int32_t *labels = malloc((size_t)(n > 0 ? n : 1) * sizeof *labels);
  for (int64_t i = 0; i < xs; ++i) x[i] = (float)((int)fuzz_u8(b) - 128) * 0.0625f;
  for (int64_t i = 0; i < ws; ++i) w[i] = (float)((int)fuzz_u8(b) - 128) * 0.0625f;
  for (int64_t c = 0; c < C; ++c) bias[c] = fuzz_u8(b) < 224 ? (float)((int)fuzz_u8(b) - 128) * 0.125f : pick_value(b);
  for (int64_t i = 0; i < n; ++i) {
    uint8_t sel = fuzz_u8(b);
    labels[i] = sel < 220 ? (int32_t)(sel % C) : (int32_t)ignore;
  }
  for (int64_t i = 0; i < dxs; ++i) dx[i] = -5.0f;
  for (int64_t i = 0; i < dws; ++i) dw[i] = -5.0f;
  for (int64_t c = 0; c < C; ++c) db[c] = -5.0f;
  for (int64_t i = 0; i < (n > 0 ? n : 1); ++i) rows[i] = -12345.0f;
  double loss = -12345.0;
  logitnorm_status st = logitnorm_loss_linear_forward_backward_f32(
      h, n, d, x, ldx, w, ldw, (outs & 1) ? bias : NULL, labels, &loss, (outs & 2) ? rows : NULL,
      (outs & 4) ? dx : NULL, lddx, (outs & 8) ? dw : NULL, lddw, (outs & 16) ? db : NULL);
  if (must_fail) FUZZ_CHECK(st != LOGITNORM_OK);
  if (st != LOGITNORM_OK) {
    FUZZ_CHECK_FAILED(st);
    FUZZ_CHECK(loss == -12345.0);
    for (int64_t i = 0; i < (n > 0 ? n : 1); ++i) FUZZ_CHECK(rows[i] == -12345.0f);
    for (int64_t i = 0; i < dxs; ++i) FUZZ_CHECK(dx[i] == -5.0f);
    for (int64_t i = 0; i < dws; ++i) FUZZ_CHECK(dw[i] == -5.0f);
    for (int64_t c = 0; c < C; ++c) FUZZ_CHECK(db[c] == -5.0f);
  }
  free(x);
  free(w);
  free(bias);
  free(dx);
  free(dw);
  free(db);
  free(rows);
  free(labels);
}

/* The temperature fit on the same logits and labels: OK with a T in TEMPERATURE's range
   [1e-100, 1e100], or a failure with nothing written. */
static void fuzz_fit_temperature(int64_t n, int64_t C, const float *logits, int64_t ld, const int32_t *labels) {
  double t = -1.0;
  logitnorm_status st = logitnorm_calibration_fit_temperature_f32(n, C, logits, ld, labels, &t);
  if (st == LOGITNORM_OK) {
    FUZZ_CHECK(t >= 1e-100 && t <= 1e100);
  } else {
    FUZZ_CHECK_FAILED(st);
    FUZZ_CHECK(t == -1.0);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_bytes b = {data, size, 0};
  uint8_t head = fuzz_u8(&b);
  int kind = head & 1 ? LOGITNORM_LOSS_LOGITNORM : LOGITNORM_LOSS_CROSS_ENTROPY;
  if ((head & 0x0e) == 0x0e) kind = 2 + (head >> 4); /* invalid kinds */
  int64_t C = 1 + fuzz_u8(&b) % 24;
  int64_t n = fuzz_u8(&b) % 9;
  uint8_t shape = fuzz_u8(&b);
  int64_t ld = C + shape % 3, ldt = C + (shape >> 2) % 3, ldg = C + (shape >> 4) % 3;
  if ((shape & 0xc0) == 0xc0) { /* bad leading dimensions and sizes */
    uint8_t which = fuzz_u8(&b) % 5;
    if (which == 0) ld = C - 1;
    if (which == 1) ldg = 0;
    if (which == 2) ldt = -ldt;
    if (which == 3) n = -1 - fuzz_u8(&b);
    if (which == 4) ld = INT64_MAX / 3;
  }
  logitnorm_loss *h = NULL;
  logitnorm_status st = logitnorm_loss_create(&h, (logitnorm_loss_kind)kind, C);
  if (st != LOGITNORM_OK) {
    FUZZ_CHECK_FAILED(st);
    FUZZ_CHECK(h == NULL);
    return 0;
  }
  /* parameters: each set either succeeds or fails without changing the handle */
  uint8_t pmask = fuzz_u8(&b);
  double tau = 0.04, eps = 1e-7, v = 0.0;
  if (pmask & 1) {
    double t = TAU[fuzz_u8(&b) % 8];
    if (logitnorm_loss_set(h, LOGITNORM_LOSS_TEMPERATURE, t) == LOGITNORM_OK) tau = t;
  }
  if (pmask & 2) {
    double e = EPS[fuzz_u8(&b) % 5];
    if (logitnorm_loss_set(h, LOGITNORM_LOSS_EPSILON, e) == LOGITNORM_OK) eps = e;
  }
  FUZZ_CHECK(logitnorm_loss_get(h, LOGITNORM_LOSS_TEMPERATURE, &v) == LOGITNORM_OK && v == tau);
  FUZZ_CHECK(logitnorm_loss_get(h, LOGITNORM_LOSS_EPSILON, &v) == LOGITNORM_OK && v == eps);
  if (pmask & 4) logitnorm_loss_set(h, LOGITNORM_LOSS_REDUCTION, fuzz_u8(&b) % 4);
  if (pmask & 8) logitnorm_loss_set(h, LOGITNORM_LOSS_LABEL_SMOOTHING, (fuzz_u8(&b) % 6) * 0.25);
  int64_t ignore = -100;
  if (pmask & 16) {
    int32_t ig = (int32_t)fuzz_u8(&b) - 3;
    if (logitnorm_loss_set(h, LOGITNORM_LOSS_IGNORE_INDEX, ig) == LOGITNORM_OK) ignore = ig;
  }
  int check_finite = 1;
  if (pmask & 32) {
    check_finite = fuzz_u8(&b) & 1;
    FUZZ_CHECK(logitnorm_loss_set(h, LOGITNORM_LOSS_CHECK_FINITE, check_finite) == LOGITNORM_OK);
  }
  if (pmask & 64) logitnorm_loss_set(h, LOGITNORM_LOSS_THREADS, 1 + fuzz_u8(&b) % 3);
  if (pmask & 128) {
    float w[24];
    for (int64_t c = 0; c < C; ++c) w[c] = (float)(fuzz_u8(&b) % 4) * 0.5f;
    logitnorm_loss_set_class_weights(h, w);
  }

  uint8_t call = fuzz_u8(&b);
  int soft = (call >> 3) & 1, backward = call % 3; /* 0 forward, 1 backward, 2 both */
  int in_place = (call >> 4) & 1;
  float alpha = SCALE[fuzz_u8(&b) % 8], beta = SCALE[fuzz_u8(&b) % 8];
  if (in_place) ldg = ld;

  /* exactly sized buffers; rows == 0 or bad sizes still get one element (the only huge
     leading dimension, INT64_MAX / 3, is valid for one row and rejected for more) */
  int64_t rows = n > 0 ? n : 0;
  int64_t lspan = rows == 1 && ld >= C ? C : rows > 1 && ld >= C && ld < 64 ? (rows - 1) * ld + C : 1;
  int64_t tspan = rows == 1 && ldt >= C ? C : rows > 1 && ldt >= C && ldt < 64 ? (rows - 1) * ldt + C : 1;
  int64_t gspan = rows == 1 && ldg >= C ? C : rows > 1 && ldg >= C && ldg < 64 ? (rows - 1) * ldg + C : 1;
  float *logits = malloc((size_t)lspan * sizeof *logits);
  float *targets = malloc((size_t)tspan * sizeof *targets);
  float *grad = in_place ? logits : malloc((size_t)gspan * sizeof *grad);
  float *grad_copy = malloc((size_t)(in_place ? lspan : gspan) * sizeof *grad_copy);
  float *row_loss = malloc((size_t)(rows > 0 ? rows : 1) * sizeof *row_loss);
  float *row_scale = malloc((size_t)(rows > 0 ? rows : 1) * sizeof *row_scale);
  int32_t *labels = malloc((size_t)(rows > 0 ? rows : 1) * sizeof *labels);
  for (int64_t i = 0; i < lspan; ++i) logits[i] = pick_value(&b);
  float *logits0 = malloc((size_t)lspan * sizeof *logits0); /* as drawn: in place, the call overwrites logits */
  memcpy(logits0, logits, (size_t)lspan * sizeof *logits0);
  for (int64_t i = 0; i < tspan; ++i) targets[i] = fuzz_u8(&b) < 200 ? (float)(fuzz_u8(&b) % 5) * 0.25f : pick_value(&b);
  if (!in_place)
    for (int64_t i = 0; i < gspan; ++i) grad[i] = (float)(i % 7) - 3.0f; /* finite old gradient for beta */
  for (int64_t i = 0; i < rows; ++i) {
    uint8_t sel = fuzz_u8(&b);
    labels[i] = sel < 200 ? (int32_t)(sel % C) : sel < 230 ? (int32_t)ignore : (int32_t)fuzz_u32(&b);
    row_scale[i] = SCALE[fuzz_u8(&b) % 8];
  }
  int use_row_scale = backward == 1 && (fuzz_u8(&b) & 1);
  memcpy(grad_copy, grad, (size_t)(in_place ? lspan : gspan) * sizeof *grad);
  for (int64_t i = 0; i < rows; ++i) row_loss[i] = -12345.0f;
  double loss = -12345.0;

  const float *rs = use_row_scale ? row_scale : NULL;
  if (backward == 0)
    st = soft ? logitnorm_loss_forward_soft_f32(h, n, logits, ld, targets, ldt, &loss, row_loss)
              : logitnorm_loss_forward_f32(h, n, logits, ld, labels, &loss, row_loss);
  else if (backward == 1)
    st = soft ? logitnorm_loss_backward_soft_f32(h, n, logits, ld, targets, ldt, rs, alpha, beta, grad, ldg)
              : logitnorm_loss_backward_f32(h, n, logits, ld, labels, rs, alpha, beta, grad, ldg);
  else
    st = soft ? logitnorm_loss_forward_backward_soft_f32(h, n, logits, ld, targets, ldt, &loss, row_loss, alpha, beta,
                                                         grad, ldg)
              : logitnorm_loss_forward_backward_f32(h, n, logits, ld, labels, &loss, row_loss, alpha, beta, grad, ldg);

  if (st != LOGITNORM_OK) {
    FUZZ_CHECK_FAILED(st);
    FUZZ_CHECK(loss == -12345.0);
    for (int64_t i = 0; i < rows; ++i) FUZZ_CHECK(row_loss[i] == -12345.0f);
    FUZZ_CHECK(memcmp(grad_copy, grad, (size_t)(in_place ? lspan : gspan) * sizeof *grad) == 0);
  } else {
    /* only the first C columns of each grad row may change */
    if (backward && !in_place)
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t c = C; c < ldg && i * ldg + c < gspan; ++c) FUZZ_CHECK(grad[i * ldg + c] == grad_copy[i * ldg + c]);
    /* success with CHECK_FINITE on means logits (and targets, row_scale) were finite */
    int finite_inputs = check_finite && isfinite(alpha) && isfinite(beta);
    /* LogitNorm with sane settings and finite data: bounded math, so finite outputs. Weights
       of 0 and MEAN over only ignored rows divide by 0 (PyTorch gives NaN there too), so the
       loss value is only checked under SUM and NONE. */
    if (finite_inputs && kind == LOGITNORM_LOSS_LOGITNORM && eps >= 1e-7 && tau >= 1e-6 && tau <= 1e6 &&
        fabsf(alpha) <= 3.0f && fabsf(beta) <= 3.0f && !(pmask & 128) && !soft) {
      double red = 0.0;
      FUZZ_CHECK(logitnorm_loss_get(h, LOGITNORM_LOSS_REDUCTION, &red) == LOGITNORM_OK);
      if (backward != 1) {
        for (int64_t i = 0; i < rows; ++i) FUZZ_CHECK(isfinite(row_loss[i]));
        if (red != LOGITNORM_REDUCTION_MEAN) FUZZ_CHECK(isfinite(loss));
      }
      /* in place, beta times a logit near FLT_MAX may overflow honestly */
      if (backward != 0 && red != LOGITNORM_REDUCTION_MEAN && !(in_place && beta != 0.0f) &&
          (!use_row_scale || all_finite(row_scale, 1, rows, rows)))
        FUZZ_CHECK(all_finite(grad, rows, C, ldg));
    }
  }
  fuzz_stats_calls(&b, h, soft, check_finite, n, C, ld, ldt, ldg, logits, lspan, targets, labels,
                   use_row_scale ? row_scale : NULL, alpha, beta, grad_copy, in_place ? lspan : gspan);
  const fuzz_half_args ha = {.h = h, .soft = soft, .backward = backward, .in_place = in_place, .n = n, .C = C,
                             .ld = ld, .ldt = ldt, .ldg = ldg, .lspan = lspan, .tspan = tspan, .gspan = gspan,
                             .logits = logits0, .targets = targets, .grad0 = grad_copy, .rs = rs, .labels = labels,
                             .alpha = alpha, .beta = beta};
  fuzz_half_call(&b, &ha);
  fuzz_half_stats_calls(&b, &ha);
  fuzz_fit_temperature(n, C, logits0, ld, labels);
  fuzz_head_call(&b, h, C, ignore);
  logitnorm_loss_free(h);
  free(logits);
  free(logits0);
  free(targets);
  if (!in_place) free(grad);
  free(grad_copy);
  free(row_loss);
  free(row_scale);
  free(labels);
  return 0;
}
