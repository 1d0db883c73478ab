/* The bf16 and f16 loss entry points against the _f32 ones on the exactly widened values: the
   contract (DESIGN.md, "Half precision") is that a half call gives the status, loss_out,
   row_loss and row_stats of the _f32 call on the same dispatch path to the last bit, and every
   half output equal to the _f32 output rounded once to nearest-even. The widening and rounding
   here are the test's own (support/half_ref.c), not the library's. Every entry point, both
   half types, C = 1 .. 104 (the AVX2 tile path) and 1,000 and 50,257 with a padded ld (the row
   path), hard and probability targets, smoothing, class weights, ignored rows, masks, row
   scales, beta != 0 and in place; then bad input, f16's overflow to inf, and the conversion's
   edge cases against hand-computed bit patterns. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "half_ref.h"
#include "logitnorm.h"
#include "test_util.h"

#define RS LOGITNORM_LOSS_ROW_STATS

/* The entry points of one half type. */
typedef struct hapi {
  logitnorm_status (*fwd)(const logitnorm_loss *, int64_t, const uint16_t *, int64_t, const int32_t *, double *,
                          float *);
  logitnorm_status (*bwd)(const logitnorm_loss *, int64_t, const uint16_t *, int64_t, const int32_t *, const float *,
                          float, float, uint16_t *, int64_t);
  logitnorm_status (*fb)(const logitnorm_loss *, int64_t, const uint16_t *, int64_t, const int32_t *, double *,
                         float *, float, float, uint16_t *, int64_t);
  logitnorm_status (*fwd_soft)(const logitnorm_loss *, int64_t, const uint16_t *, int64_t, const uint16_t *, int64_t,
                               double *, float *);
  logitnorm_status (*bwd_soft)(const logitnorm_loss *, int64_t, const uint16_t *, int64_t, const uint16_t *, int64_t,
                               const float *, float, float, uint16_t *, int64_t);
  logitnorm_status (*fb_soft)(const logitnorm_loss *, int64_t, const uint16_t *, int64_t, const uint16_t *, int64_t,
                              double *, float *, float, float, uint16_t *, int64_t);
  logitnorm_status (*fwd_stats)(const logitnorm_loss *, int64_t, const uint16_t *, int64_t, const int32_t *, double *,
                                float *, double *);
  logitnorm_status (*bwd_stats)(const logitnorm_loss *, int64_t, const uint16_t *, int64_t, const int32_t *,
                                const double *, const float *, float, float, uint16_t *, int64_t);
  logitnorm_status (*fwd_stats_soft)(const logitnorm_loss *, int64_t, const uint16_t *, int64_t, const uint16_t *,
                                     int64_t, double *, float *, double *);
  logitnorm_status (*bwd_stats_soft)(const logitnorm_loss *, int64_t, const uint16_t *, int64_t, const uint16_t *,
                                     int64_t, const double *, const float *, float, float, uint16_t *, int64_t);
  logitnorm_status (*probs)(const logitnorm_loss *, int64_t, const uint16_t *, int64_t, uint16_t *, int64_t);
} hapi;

static const hapi HAPI[2] = {
    {.fwd = logitnorm_loss_forward_bf16, .bwd = logitnorm_loss_backward_bf16, .fb = logitnorm_loss_forward_backward_bf16,
     .fwd_soft = logitnorm_loss_forward_soft_bf16, .bwd_soft = logitnorm_loss_backward_soft_bf16,
     .fb_soft = logitnorm_loss_forward_backward_soft_bf16, .fwd_stats = logitnorm_loss_forward_stats_bf16,
     .bwd_stats = logitnorm_loss_backward_stats_bf16, .fwd_stats_soft = logitnorm_loss_forward_stats_soft_bf16,
     .bwd_stats_soft = logitnorm_loss_backward_stats_soft_bf16, .probs = logitnorm_loss_probs_bf16},
    {.fwd = logitnorm_loss_forward_f16, .bwd = logitnorm_loss_backward_f16, .fb = logitnorm_loss_forward_backward_f16,
     .fwd_soft = logitnorm_loss_forward_soft_f16, .bwd_soft = logitnorm_loss_backward_soft_f16,
     .fb_soft = logitnorm_loss_forward_backward_soft_f16, .fwd_stats = logitnorm_loss_forward_stats_f16,
     .bwd_stats = logitnorm_loss_backward_stats_f16, .fwd_stats_soft = logitnorm_loss_forward_stats_soft_f16,
     .bwd_stats_soft = logitnorm_loss_backward_stats_soft_f16, .probs = logitnorm_loss_probs_f16},
};

/* One configuration of handle and data. */
typedef struct hcase {
  th_type type;
  int kind, reduction, soft;
  int64_t n, C, ld, ldt, ldg;
  double smoothing;
  int weights, row_scale, ignore, masks;
  int check_finite, threads;
  float alpha, beta;
  double zscale;
  uint64_t seed;
} hcase;

/* The data of a case in both forms: half bits and their widened floats. */
typedef struct hdata {
  uint16_t *zh, *th, *gh0; /* logits, targets, old gradient (n x ld, ldt, ldg) */
  float *zf, *tf, *gf0;
  int32_t *labels;
  float *rs;
  size_t nz, nt, ng;
} hdata;

static void *xcalloc(size_t n, size_t sz) {
  void *p = calloc(n ? n : 1, sz);
  ck_assert_ptr_nonnull(p);
  return p;
}

static uint16_t put(th_type t, double v) { return th_narrow(t, (float)v); }

static hdata hdata_make(const hcase *c) {
  hdata d;
  tu_rng r;
  tu_seed(&r, c->seed);
  const int64_t n = c->n, C = c->C;
  d.nz = (size_t)((n - 1) * c->ld + C);
  d.nt = (size_t)((n - 1) * c->ldt + C);
  d.ng = (size_t)((n - 1) * c->ldg + C);
  d.zh = xcalloc(d.nz, 2);
  d.th = xcalloc(d.nt, 2);
  d.gh0 = xcalloc(d.ng, 2);
  d.zf = xcalloc(d.nz, 4);
  d.tf = xcalloc(d.nt, 4);
  d.gf0 = xcalloc(d.ng, 4);
  d.labels = xcalloc((size_t)n, sizeof(int32_t));
  d.rs = xcalloc((size_t)n, sizeof(float));
  const uint16_t ninf = c->type == TH_BF16 ? 0xff80u : 0xfc00u;
  for (int64_t i = 0; i < n; ++i) {
    d.labels[i] = (int32_t)tu_int(&r, 0, C - 1);
    if (c->ignore && tu_uniform(&r) < 0.2) d.labels[i] = -100;
    d.rs[i] = (float)(0.25 + 2.0 * tu_uniform(&r));
    for (int64_t j = 0; j < c->ld && i * c->ld + j < (int64_t)d.nz; ++j) {
      double v = c->zscale * tu_normal(&r);
      if (tu_uniform(&r) < 0.02) v *= 1e-6; /* small and subnormal half values now and then */
      d.zh[i * c->ld + j] = put(c->type, v);
    }
    double tsum = 0.0;
    for (int64_t j = 0; j < C; ++j) tsum += (d.th[i * c->ldt + j] = put(c->type, tu_uniform(&r))) != 0 ? 1 : 0;
    (void)tsum;
    for (int64_t j = 0; j < c->ldg && i * c->ldg + j < (int64_t)d.ng; ++j) d.gh0[i * c->ldg + j] = put(c->type, tu_normal(&r));
    /* masks: up to c->masks -inf columns on every other row, never the label's, no target mass */
    if (c->masks && i % 2 == 1 && C > 1)
      for (int m = 0; m < c->masks; ++m) {
        int64_t j = tu_int(&r, 0, C - 1);
        if (j == d.labels[i] && !c->soft) continue;
        if (c->soft) {
          /* keep one class unmasked */
          if (j == 0) continue;
          d.th[i * c->ldt + j] = 0;
        }
        d.zh[i * c->ld + j] = ninf;
      }
  }
  for (size_t k = 0; k < d.nz; ++k) d.zf[k] = th_widen(c->type, d.zh[k]);
  for (size_t k = 0; k < d.nt; ++k) d.tf[k] = th_widen(c->type, d.th[k]);
  for (size_t k = 0; k < d.ng; ++k) d.gf0[k] = th_widen(c->type, d.gh0[k]);
  return d;
}

static void hdata_free(hdata *d) {
  free(d->zh), free(d->th), free(d->gh0), free(d->zf), free(d->tf), free(d->gf0), free(d->labels), free(d->rs);
}

static logitnorm_loss *handle(const hcase *c) {
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, c->kind, c->C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, c->reduction), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_LABEL_SMOOTHING, c->smoothing), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_CHECK_FINITE, c->check_finite), LOGITNORM_OK);
  if (c->threads > 1) ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_THREADS, c->threads), LOGITNORM_OK);
  if (c->weights) {
    float *w = xcalloc((size_t)c->C, sizeof(float));
    for (int64_t j = 0; j < c->C; ++j) w[j] = (float)(0.5 + (double)(j % 7) * 0.3);
    ck_assert_int_eq(logitnorm_loss_set_class_weights(L, w), LOGITNORM_OK);
    free(w);
  }
  return L;
}

static uint64_t dbits(double x) {
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

/* The half output rows (n x C of ld) equal the f32 ones rounded once; padding as before. */
static void check_rows(const hcase *c, const char *what, const uint16_t *h, const float *f, const uint16_t *h_before,
                       int64_t ld, size_t count) {
  for (size_t k = 0; k < count; ++k) {
    const int64_t i = (int64_t)k / ld, j = (int64_t)k % ld;
    const uint16_t want = j < c->C ? th_narrow(c->type, f[k]) : h_before[k];
    if (h[k] != want)
      ck_abort_msg("%s %s C=%lld n=%lld seed=%llu: [%lld][%lld] is 0x%04x, want 0x%04x (f32 %.9g)", th_name(c->type),
                   what, (long long)c->C, (long long)c->n, (unsigned long long)c->seed, (long long)i, (long long)j,
                   h[k], want, (double)f[k]);
  }
}

static void check_scalars(const hcase *c, const char *what, logitnorm_status sh, logitnorm_status sf, double lh,
                          double lf, const float *rlh, const float *rlf) {
  ck_assert_msg(sh == sf, "%s %s C=%lld: status %d, f32 %d", th_name(c->type), what, (long long)c->C, sh, sf);
  if (sh != LOGITNORM_OK) return;
  ck_assert_msg(dbits(lh) == dbits(lf), "%s %s C=%lld: loss %.17g, f32 %.17g", th_name(c->type), what,
                (long long)c->C, lh, lf);
  if (rlh) ck_assert_msg(memcmp(rlh, rlf, (size_t)c->n * sizeof(float)) == 0, "%s %s C=%lld: row_loss differs",
                         th_name(c->type), what, (long long)c->C);
}

/* Every entry point of the case's kind of targets, half against f32. */
static void run_case(const hcase *c) {
  const hapi *A = &HAPI[c->type];
  logitnorm_loss *L = handle(c);
  hdata d = hdata_make(c);
  const int64_t n = c->n;
  const float *rs = c->row_scale ? d.rs : NULL;
  float *rlh = xcalloc((size_t)n, sizeof(float)), *rlf = xcalloc((size_t)n, sizeof(float));
  double *sth = xcalloc((size_t)n * RS, sizeof(double)), *stf = xcalloc((size_t)n * RS, sizeof(double));
  uint16_t *gh = xcalloc(d.ng, 2);
  float *gf = xcalloc(d.ng, 4);
  double lh = 0.0, lf = 0.0;
  logitnorm_status sh, sf;
#define RESET_G() (memcpy(gh, d.gh0, d.ng * 2), memcpy(gf, d.gf0, d.ng * 4))
  if (!c->soft) {
    sf = logitnorm_loss_forward_f32(L, n, d.zf, c->ld, d.labels, &lf, rlf);
    sh = A->fwd(L, n, d.zh, c->ld, d.labels, &lh, rlh);
    check_scalars(c, "forward", sh, sf, lh, lf, rlh, rlf);
    RESET_G();
    sf = logitnorm_loss_backward_f32(L, n, d.zf, c->ld, d.labels, rs, c->alpha, c->beta, gf, c->ldg);
    sh = A->bwd(L, n, d.zh, c->ld, d.labels, rs, c->alpha, c->beta, gh, c->ldg);
    check_scalars(c, "backward", sh, sf, 0, 0, NULL, NULL);
    check_rows(c, "backward", gh, sh == LOGITNORM_OK ? gf : d.gf0, d.gh0, c->ldg, d.ng);
    RESET_G();
    sf = logitnorm_loss_forward_backward_f32(L, n, d.zf, c->ld, d.labels, &lf, rlf, c->alpha, c->beta, gf, c->ldg);
    sh = A->fb(L, n, d.zh, c->ld, d.labels, &lh, rlh, c->alpha, c->beta, gh, c->ldg);
    check_scalars(c, "forward_backward", sh, sf, lh, lf, rlh, rlf);
    check_rows(c, "forward_backward", gh, gf, d.gh0, c->ldg, d.ng);
    sf = logitnorm_loss_forward_stats_f32(L, n, d.zf, c->ld, d.labels, &lf, rlf, stf);
    sh = A->fwd_stats(L, n, d.zh, c->ld, d.labels, &lh, rlh, sth);
    check_scalars(c, "forward_stats", sh, sf, lh, lf, rlh, rlf);
    if (sh == LOGITNORM_OK) {
      ck_assert_msg(memcmp(sth, stf, (size_t)n * RS * sizeof(double)) == 0, "%s forward_stats C=%lld: row_stats",
                    th_name(c->type), (long long)c->C);
      /* the saved statistics of either call serve the other's backward */
      RESET_G();
      sf = logitnorm_loss_backward_stats_f32(L, n, d.zf, c->ld, d.labels, sth, rs, c->alpha, c->beta, gf, c->ldg);
      sh = A->bwd_stats(L, n, d.zh, c->ld, d.labels, stf, rs, c->alpha, c->beta, gh, c->ldg);
      check_scalars(c, "backward_stats", sh, sf, 0, 0, NULL, NULL);
      check_rows(c, "backward_stats", gh, gf, d.gh0, c->ldg, d.ng);
    }
    RESET_G();
    sf = logitnorm_loss_probs_f32(L, n, d.zf, c->ld, gf, c->ldg);
    sh = A->probs(L, n, d.zh, c->ld, gh, c->ldg);
    check_scalars(c, "probs", sh, sf, 0, 0, NULL, NULL);
    check_rows(c, "probs", gh, sh == LOGITNORM_OK ? gf : d.gf0, d.gh0, c->ldg, d.ng);
    /* in place: grad == logits */
    uint16_t *zh2 = xcalloc(d.nz, 2);
    float *zf2 = xcalloc(d.nz, 4);
    memcpy(zh2, d.zh, d.nz * 2);
    memcpy(zf2, d.zf, d.nz * 4);
    sf = logitnorm_loss_forward_backward_f32(L, n, zf2, c->ld, d.labels, &lf, rlf, c->alpha, c->beta, zf2, c->ld);
    sh = A->fb(L, n, zh2, c->ld, d.labels, &lh, rlh, c->alpha, c->beta, zh2, c->ld);
    check_scalars(c, "forward_backward in place", sh, sf, lh, lf, rlh, rlf);
    check_rows(c, "forward_backward in place", zh2, zf2, d.zh, c->ld, d.nz);
    free(zh2), free(zf2);
  } else {
    sf = logitnorm_loss_forward_soft_f32(L, n, d.zf, c->ld, d.tf, c->ldt, &lf, rlf);
    sh = A->fwd_soft(L, n, d.zh, c->ld, d.th, c->ldt, &lh, rlh);
    check_scalars(c, "forward_soft", sh, sf, lh, lf, rlh, rlf);
    RESET_G();
    sf = logitnorm_loss_backward_soft_f32(L, n, d.zf, c->ld, d.tf, c->ldt, rs, c->alpha, c->beta, gf, c->ldg);
    sh = A->bwd_soft(L, n, d.zh, c->ld, d.th, c->ldt, rs, c->alpha, c->beta, gh, c->ldg);
    check_scalars(c, "backward_soft", sh, sf, 0, 0, NULL, NULL);
    check_rows(c, "backward_soft", gh, gf, d.gh0, c->ldg, d.ng);
    RESET_G();
    sf = logitnorm_loss_forward_backward_soft_f32(L, n, d.zf, c->ld, d.tf, c->ldt, &lf, rlf, c->alpha, c->beta, gf,
                                                  c->ldg);
    sh = A->fb_soft(L, n, d.zh, c->ld, d.th, c->ldt, &lh, rlh, c->alpha, c->beta, gh, c->ldg);
    check_scalars(c, "forward_backward_soft", sh, sf, lh, lf, rlh, rlf);
    check_rows(c, "forward_backward_soft", gh, gf, d.gh0, c->ldg, d.ng);
    sf = logitnorm_loss_forward_stats_soft_f32(L, n, d.zf, c->ld, d.tf, c->ldt, &lf, rlf, stf);
    sh = A->fwd_stats_soft(L, n, d.zh, c->ld, d.th, c->ldt, &lh, rlh, sth);
    check_scalars(c, "forward_stats_soft", sh, sf, lh, lf, rlh, rlf);
    if (sh == LOGITNORM_OK) {
      ck_assert_msg(memcmp(sth, stf, (size_t)n * RS * sizeof(double)) == 0, "%s forward_stats_soft C=%lld: row_stats",
                    th_name(c->type), (long long)c->C);
      RESET_G();
      sf = logitnorm_loss_backward_stats_soft_f32(L, n, d.zf, c->ld, d.tf, c->ldt, sth, rs, c->alpha, c->beta, gf,
                                                  c->ldg);
      sh = A->bwd_stats_soft(L, n, d.zh, c->ld, d.th, c->ldt, stf, rs, c->alpha, c->beta, gh, c->ldg);
      check_scalars(c, "backward_stats_soft", sh, sf, 0, 0, NULL, NULL);
      check_rows(c, "backward_stats_soft", gh, gf, d.gh0, c->ldg, d.ng);
    }
    uint16_t *zh2 = xcalloc(d.nz, 2);
    float *zf2 = xcalloc(d.nz, 4);
    memcpy(zh2, d.zh, d.nz * 2);
    memcpy(zf2, d.zf, d.nz * 4);
    sf = logitnorm_loss_forward_backward_soft_f32(L, n, zf2, c->ld, d.tf, c->ldt, &lf, rlf, c->alpha, c->beta, zf2,
                                                  c->ld);
    sh = A->fb_soft(L, n, zh2, c->ld, d.th, c->ldt, &lh, rlh, c->alpha, c->beta, zh2, c->ld);
    check_scalars(c, "forward_backward_soft in place", sh, sf, lh, lf, rlh, rlf);
    check_rows(c, "forward_backward_soft in place", zh2, zf2, d.zh, c->ld, d.nz);
    free(zh2), free(zf2);
  }
#undef RESET_G
  free(rlh), free(rlf), free(sth), free(stf), free(gh), free(gf);
  hdata_free(&d);
  logitnorm_loss_free(L);
}

/* The option sets the sweeps cycle through. */
static hcase option_set(int v, th_type type, int64_t n, int64_t C, int64_t pad) {
  hcase c = {.type = type, .kind = LOGITNORM_LOSS_LOGITNORM, .reduction = LOGITNORM_REDUCTION_MEAN, .n = n, .C = C,
             .ld = C, .ldt = C, .ldg = C, .check_finite = 1, .alpha = 1.0f, .zscale = 2.0,
             .seed = (uint64_t)(1000 * C + 10 * v + type + 1)};
  switch (v % 8) {
  case 0: c.kind = LOGITNORM_LOSS_CROSS_ENTROPY; break;
  case 1: c.ld = C + pad, c.ldg = C + 2 * pad, c.beta = 0.5f; break;
  case 2: c.reduction = LOGITNORM_REDUCTION_SUM, c.smoothing = 0.1, c.weights = 1, c.ignore = 1, c.row_scale = 1; break;
  case 3:
    c.kind = LOGITNORM_LOSS_CROSS_ENTROPY, c.reduction = LOGITNORM_REDUCTION_NONE, c.masks = 3, c.row_scale = 1;
    c.beta = -0.25f, c.ld = C + pad;
    break;
  case 4: c.masks = 2, c.ignore = 1, c.weights = 1, c.alpha = 0.5f; break;
  case 5: c.kind = LOGITNORM_LOSS_CROSS_ENTROPY, c.soft = 1, c.smoothing = 0.05, c.ld = C + pad, c.ldt = C + 1; break;
  case 6: c.soft = 1, c.masks = 2, c.beta = 0.75f, c.row_scale = 1, c.ldg = C + pad; break;
  default: c.zscale = 30.0, c.smoothing = 0.2, c.masks = 1, c.ignore = 1; break;
  }
  return c;
}

/* The next C of the tile sweep: every C, or when quick every C up to 17, then every fifth, and 104. */
static int64_t next_tile_c(int64_t C, int quick) {
  if (!quick || C < 17) return C + 1;
  return C == 104 ? 105 : C + 5 < 104 ? C + 5 : 104;
}

START_TEST(test_tile_sizes) {
  /* C = 1 .. 104: n = 19 rows are two 8-row tiles and three rows on the row path (AVX2). Quick
     (under emulation): every C up to 17, which meets every partial block, then every fifth,
     and one option set each. */
  const th_type type = (th_type)_i;
  const int quick = tu_quick();
  for (int64_t C = 1; C <= 104; C = next_tile_c(C, quick))
    for (int j = 0; j < (quick ? 1 : 3); ++j) {
      hcase c = option_set((int)(C + 3 * j), type, 19, C, 3);
      run_case(&c);
    }
}
END_TEST

START_TEST(test_row_sizes) {
  /* vocabulary-sized rows with padded ld (as llm.c's V = 50257, Vp = 50304): the row path, the
     heap exp cache of a half call */
  const th_type type = (th_type)_i;
  for (int v = 0; v < 8; ++v) {
    hcase c = option_set(v, type, 5, 1000, 3);
    run_case(&c);
    if (tu_quick() && v % 2 == 0) continue; /* quick: the padded sets (odd v) at 50,257 */
    c = option_set(v, type, 3, 50257, 47);
    run_case(&c);
  }
}
END_TEST

START_TEST(test_threads) {
  /* THREADS > 1 splits the rows into the same parts as the f32 call */
  const th_type type = (th_type)_i;
  for (int v = 0; v < 8; ++v) {
    hcase c = option_set(v, type, tu_quick() ? 600 : 3000, 37, 2);
    c.threads = 3;
    run_case(&c);
  }
}
END_TEST

/* Bad input: the same status as the f32 call, nothing written. */
static void bad_case(th_type type, int which) {
  const int64_t n = 9, C = 12;
  hcase c = option_set(which == 4 ? 5 : 1, type, n, C, 0);
  c.beta = 0.0f;
  hdata d = hdata_make(&c);
  const uint16_t nan = type == TH_BF16 ? 0x7fc1u : 0x7e01u, pinf = type == TH_BF16 ? 0x7f80u : 0x7c00u,
                 ninf = type == TH_BF16 ? 0xff80u : 0xfc00u;
  int64_t row = 5;
  switch (which) {
  case 0: d.zh[row * c.ld + 3] = nan; break;  /* NaN logit */
  case 1: d.zh[row * c.ld + 7] = pinf; break; /* +inf logit */
  case 2: d.labels[row] = 4, d.zh[row * c.ld + 4] = ninf; break; /* label on a masked class */
  case 3:
    for (int64_t j = 0; j < C; ++j) d.zh[row * c.ld + j] = ninf; /* a row masked whole */
    break;
  default: d.th[row * c.ldt + 2] = nan; break; /* NaN target */
  }
  for (size_t k = 0; k < d.nz; ++k) d.zf[k] = th_widen(type, d.zh[k]);
  for (size_t k = 0; k < d.nt; ++k) d.tf[k] = th_widen(type, d.th[k]);
  logitnorm_loss *L = handle(&c);
  uint16_t *gh = xcalloc(d.ng, 2);
  float *gf = xcalloc(d.ng, 4), rl[9];
  double loss = 12345.0;
  tu_sentinel_fill(gh, d.ng * 2);
  tu_sentinel_fill(rl, sizeof rl);
  const hapi *A = &HAPI[type];
  logitnorm_status sf, sh;
  if (which == 4) {
    sf = logitnorm_loss_forward_backward_soft_f32(L, n, d.zf, c.ld, d.tf, c.ldt, NULL, NULL, 1, 0, gf, c.ldg);
    sh = A->fb_soft(L, n, d.zh, c.ld, d.th, c.ldt, &loss, rl, 1, 0, gh, c.ldg);
  } else {
    sf = logitnorm_loss_forward_backward_f32(L, n, d.zf, c.ld, d.labels, NULL, NULL, 1, 0, gf, c.ldg);
    sh = A->fb(L, n, d.zh, c.ld, d.labels, &loss, rl, 1, 0, gh, c.ldg);
  }
  static const logitnorm_status want[5] = {LOGITNORM_ERR_NONFINITE, LOGITNORM_ERR_NONFINITE,
                                           LOGITNORM_ERR_INVALID_LABEL, LOGITNORM_ERR_INVALID_LABEL,
                                           LOGITNORM_ERR_NONFINITE};
  ck_assert_int_eq(sf, want[which]);
  ck_assert_int_eq(sh, sf);
  ck_assert_msg(strstr(logitnorm_last_error(), "5") != NULL, "the message names row 5: %s", logitnorm_last_error());
  ck_assert(tu_sentinel_intact(gh, d.ng * 2));
  ck_assert(tu_sentinel_intact(rl, sizeof rl));
  ck_assert(loss == 12345.0);
  if (which <= 1) { /* with CHECK_FINITE off the call runs, and still matches the f32 call */
    c.check_finite = 0;
    logitnorm_loss_free(L);
    L = handle(&c);
    double lf = 0, lh = 0;
    float rlf[9];
    sf = logitnorm_loss_forward_backward_f32(L, n, d.zf, c.ld, d.labels, &lf, rlf, 1, 0, gf, c.ldg);
    sh = A->fb(L, n, d.zh, c.ld, d.labels, &lh, rl, 1, 0, gh, c.ldg);
    ck_assert_int_eq(sh, LOGITNORM_OK);
    check_scalars(&c, "unchecked", sh, sf, lh, lf, rl, rlf);
    check_rows(&c, "unchecked", gh, gf, gh, c.ldg, d.ng);
  }
  free(gh), free(gf);
  hdata_free(&d);
  logitnorm_loss_free(L);
}

START_TEST(test_bad_input) {
  for (int which = 0; which < 5; ++which) bad_case((th_type)_i, which);
}
END_TEST

/* The message of the finite check names the first bad entry, on every dispatch path alike (the
   AVX2 path scans the 16-bit patterns in vectors, then rescans for the message): one NaN, +inf
   (logits) or +-inf (targets, where -inf is not a mask) planted in row 2 of 4 at every column, with
   a masked -inf earlier in that row and a NaN in row 3; the expected text is built here from the
   format "name[row][col] is what". */
START_TEST(test_nonfinite_message) {
  const th_type type = (th_type)_i;
  const uint16_t e = type == TH_BF16 ? 0x7f80u : 0x7c00u;
  const int64_t sizes[] = {1, 7, 16, 17, 33, 100, 1000};
  tu_rng r;
  tu_seed(&r, 31);
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; ++s)
    for (int soft = 0; soft < 2; ++soft)
      for (int what = 0; what < 3; ++what) {
        const int64_t n = 4, C = sizes[s], ld = C + 3, step = C > 100 ? 13 : 1;
        logitnorm_loss *L = NULL;
        ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_LOGITNORM, C), LOGITNORM_OK);
        uint16_t *z = xcalloc((size_t)(n * ld), 2), *t = xcalloc((size_t)(n * ld), 2), *g = xcalloc((size_t)(n * ld), 2);
        int32_t y[4];
        for (int64_t j = 0; j < C; j += step) {
          for (int64_t k = 0; k < n * ld; ++k) {
            z[k] = put(type, 3.0 * tu_normal(&r));
            t[k] = put(type, 1.0 / (double)C);
          }
          for (int64_t i = 0; i < n; ++i) y[i] = (int32_t)(C - 1);
          const uint16_t bad = what == 0 ? (uint16_t)(e | 0x1u) : what == 1 ? e : (uint16_t)(0x8000u | e);
          const char *name = soft ? "targets" : "logits";
          const char *word = what == 0 ? "NaN" : soft ? "infinite" : "+inf";
          if (!soft && what == 2) continue; /* -inf logits are a mask */
          uint16_t *m = soft ? t : z;
          m[2 * ld + j] = bad;
          m[3 * ld + C / 2] = (uint16_t)(e | 0x8000u | 0x3u); /* a later NaN, never named */
          if (!soft && j > 0 && C > 2) z[2 * ld + 0] = (uint16_t)(0x8000u | e); /* masked, label C - 1 kept */
          double loss = 12345.0;
          const logitnorm_status st = soft ? HAPI[type].fb_soft(L, n, z, ld, t, ld, &loss, NULL, 1, 0, g, ld)
                                           : HAPI[type].fb(L, n, z, ld, y, &loss, NULL, 1, 0, g, ld);
          char want[96];
          snprintf(want, sizeof want, "%s[2][%lld] is %s", name, (long long)j, word);
          ck_assert_int_eq(st, LOGITNORM_ERR_NONFINITE);
          ck_assert_str_eq(logitnorm_last_error(), want);
          ck_assert(loss == 12345.0);
        }
        free(z), free(t), free(g);
        logitnorm_loss_free(L);
      }
}
END_TEST

/* The library's narrowing of a float x, read through backward with alpha = 0: grad = beta * 1
   (the old gradient is 1.0, and 0 * the loss gradient adds 0), a float equal to x. */
static uint16_t lib_narrow(th_type type, float x, uint16_t old) {
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_CROSS_ENTROPY, 2), LOGITNORM_OK);
  uint16_t z[2] = {0, 0}, g[2] = {old, old};
  int32_t y = 0;
  ck_assert_int_eq(HAPI[type].bwd(L, 1, z, 2, &y, NULL, 0.0f, x, g, 2), LOGITNORM_OK);
  ck_assert_uint_eq(g[0], g[1]);
  logitnorm_loss_free(L);
  return g[0];
}

static float fbits(uint32_t u) {
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

START_TEST(test_conversion_edges) {
  /* hand-computed bit patterns; old gradient 1.0 (bf16 0x3f80, f16 0x3c00), beta = x */
  typedef struct { uint32_t x; uint16_t bf16, f16; } edge;
  static const edge E[] = {
      {0x3f800000u, 0x3f80u, 0x3c00u}, /* 1 */
      {0x3f808000u, 0x3f80u, 0x3c04u}, /* 1 + 2^-8: bf16 tie to even (down); f16 exact */
      {0x3f818000u, 0x3f82u, 0x3c0cu}, /* 1 + 3 2^-8: bf16 tie to even (up) */
      {0x3f801000u, 0x3f80u, 0x3c00u}, /* 1 + 2^-11: f16 tie to even (down) */
      {0x3f803000u, 0x3f80u, 0x3c02u}, /* 1 + 3 2^-11: f16 tie to even (up) */
      {0x3f808001u, 0x3f81u, 0x3c04u}, /* just above the bf16 tie: up */
      {0xbf818000u, 0xbf82u, 0xbc0cu}, /* negative tie */
      {0x477fe000u, 0x4780u, 0x7bffu}, /* 65504: f16's largest */
      {0x477fefffu, 0x4780u, 0x7bffu}, /* below 65520: stays 65504 */
      {0x477ff000u, 0x4780u, 0x7c00u}, /* 65520: the tie rounds to inf */
      {0xc7800000u, 0xc780u, 0xfc00u}, /* -65536: -inf */
      {0x7f7fffffu, 0x7f80u, 0x7c00u}, /* FLT_MAX: bf16 rounds up to inf */
      {0x33800000u, 0x3380u, 0x0001u}, /* 2^-24: f16's smallest subnormal */
      {0x33000000u, 0x3300u, 0x0000u}, /* 2^-25: tie to 0 */
      {0x33400000u, 0x3340u, 0x0001u}, /* 1.5 2^-25: up to 2^-24 */
      {0x38000000u, 0x3800u, 0x0200u}, /* 2^-15: subnormal 0x200 */
      {0x387fe000u, 0x3880u, 0x0400u}, /* 2^-14 - 2^-25: a tie, up to the smallest normal */
      {0x00400000u, 0x0040u, 0x0000u}, /* a float subnormal: bf16 keeps it, f16 flushes by rounding */
      {0x00008000u, 0x0000u, 0x0000u}, /* float subnormal 2^-134: bf16 tie to even (0) */
      {0x00018000u, 0x0002u, 0x0000u}, /* float subnormal 3 2^-134: bf16 tie to even (up) */
  };
  const th_type type = (th_type)_i;
  const uint16_t one = type == TH_BF16 ? 0x3f80u : 0x3c00u;
  for (size_t k = 0; k < sizeof E / sizeof E[0]; ++k) {
    const uint16_t want = type == TH_BF16 ? E[k].bf16 : E[k].f16;
    ck_assert_msg(th_narrow(type, fbits(E[k].x)) == want, "test narrowing of 0x%08x", E[k].x);
    const uint16_t got = lib_narrow(type, fbits(E[k].x), one);
    ck_assert_msg(got == want, "%s: 0x%08x narrows to 0x%04x, want 0x%04x", th_name(type), E[k].x, got, want);
  }
  /* widening through the old gradient: beta = 1 keeps it (and quiets a signalling NaN), beta = 2^24
     scales an f16 subnormal to a normal value */
  if (type == TH_F16) {
    ck_assert_uint_eq(lib_narrow(type, 0x1p24f, 0x0001u), 0x3c00u);     /* 2^-24 2^24 = 1 */
    ck_assert_uint_eq(lib_narrow(type, 0x1p24f, 0x8003u), 0xc200u);     /* -3 2^-24 2^24 = -3 */
    ck_assert_uint_eq(lib_narrow(type, 1.0f, 0x7c01u), 0x7e01u);        /* signalling NaN: quieted, payload kept */
    ck_assert_uint_eq(lib_narrow(type, 1.0f, 0xfc00u), 0xfc00u);        /* -inf */
    ck_assert_uint_eq(lib_narrow(type, 1.0f, 0x7bffu), 0x7bffu);        /* 65504 */
  } else {
    ck_assert_uint_eq(lib_narrow(type, 0x1p120f, 0x0001u), 0x3900u);    /* 2^-133 2^120 = 2^-13 */
    ck_assert_uint_eq(lib_narrow(type, 1.0f, 0x7f81u), 0x7fc1u);        /* signalling NaN: quieted, payload kept */
    ck_assert_uint_eq(lib_narrow(type, -1.0f, 0x7f81u) & 0x7fffu, 0x7fc1u);
    ck_assert_uint_eq(lib_narrow(type, 1.0f, 0xff80u), 0xff80u);        /* -inf */
  }
  /* the test's own conversions round-trip every half value, and agree with these rules */
  for (uint32_t h = 0; h < 65536; ++h) {
    const float w = th_widen(type, (uint16_t)h);
    const uint16_t back = th_narrow(type, w);
    if (isnan(w))
      ck_assert_uint_eq(back & ~(uint16_t)(type == TH_BF16 ? 0x0040u : 0x0200u), h & ~(type == TH_BF16 ? 0x0040u : 0x0200u));
    else
      ck_assert_uint_eq(back, h);
  }
}
END_TEST

START_TEST(test_f16_overflow) {
  /* cross-entropy gradients times alpha = 1e6 pass 65504: +-inf in f16, finite in bf16, OK */
  const th_type type = (th_type)_i;
  hcase c = option_set(0, type, 8, 5, 0);
  c.reduction = LOGITNORM_REDUCTION_SUM;
  c.alpha = 1e6f;
  hdata d = hdata_make(&c);
  logitnorm_loss *L = handle(&c);
  uint16_t *gh = xcalloc(d.ng, 2);
  float *gf = xcalloc(d.ng, 4);
  ck_assert_int_eq(logitnorm_loss_backward_f32(L, c.n, d.zf, c.ld, d.labels, NULL, c.alpha, 0, gf, c.ldg),
                   LOGITNORM_OK);
  ck_assert_int_eq(HAPI[type].bwd(L, c.n, d.zh, c.ld, d.labels, NULL, c.alpha, 0, gh, c.ldg), LOGITNORM_OK);
  check_rows(&c, "overflow", gh, gf, gh, c.ldg, d.ng);
  int infs = 0;
  for (size_t k = 0; k < d.ng; ++k) infs += isinf(th_widen(type, gh[k])) && fabsf(gf[k]) >= 65520.0f;
  if (type == TH_F16)
    ck_assert_int_gt(infs, 0);
  else
    ck_assert_int_eq(infs, 0);
  /* LogitNorm rows of tiny norm: the gradient scales like 1/(tau ||z||) */
  logitnorm_loss_free(L);
  c.kind = LOGITNORM_LOSS_LOGITNORM;
  c.alpha = 1.0f;
  L = handle(&c);
  for (size_t k = 0; k < d.nz; ++k) d.zh[k] = put(type, th_widen(type, d.zh[k]) * 1e-4), d.zf[k] = th_widen(type, d.zh[k]);
  ck_assert_int_eq(logitnorm_loss_backward_f32(L, c.n, d.zf, c.ld, d.labels, NULL, c.alpha, 0, gf, c.ldg),
                   LOGITNORM_OK);
  ck_assert_int_eq(HAPI[type].bwd(L, c.n, d.zh, c.ld, d.labels, NULL, c.alpha, 0, gh, c.ldg), LOGITNORM_OK);
  check_rows(&c, "overflow LogitNorm", gh, gf, gh, c.ldg, d.ng);
  free(gh), free(gf);
  hdata_free(&d);
  logitnorm_loss_free(L);
}
END_TEST

/* A matrix addressable as halves but not as floats (2 rows, ld = INT64_MAX / 3: 6e18 bytes as
   halves, 1.2e19 as floats) gets the _f32 call's status, INVALID_ARGUMENT, and is never read. */
START_TEST(test_unaddressable_as_float) {
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_LOGITNORM, 1), LOGITNORM_OK);
  const int64_t ld = INT64_MAX / 3;
  uint16_t z[1] = {0x3f80u};
  float zf[1] = {1.0f};
  const int32_t y[2] = {0, 0};
  double loss = -1.0;
  ck_assert_int_eq(logitnorm_loss_forward_f32(L, 2, zf, ld, y, &loss, NULL), LOGITNORM_ERR_INVALID_ARGUMENT);
  logitnorm_status st = _i ? logitnorm_loss_forward_f16(L, 2, z, ld, y, &loss, NULL)
                           : logitnorm_loss_forward_bf16(L, 2, z, ld, y, &loss, NULL);
  ck_assert_int_eq(st, LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert(loss == -1.0);
  logitnorm_loss_free(L);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("loss_half");
  TCase *t = tcase_create("half");
  tcase_set_timeout(t, 600);
  tcase_add_loop_test(t, test_conversion_edges, 0, 2);
  tcase_add_loop_test(t, test_tile_sizes, 0, 2);
  tcase_add_loop_test(t, test_row_sizes, 0, 2);
  tcase_add_loop_test(t, test_threads, 0, 2);
  tcase_add_loop_test(t, test_bad_input, 0, 2);
  tcase_add_loop_test(t, test_nonfinite_message, 0, 2);
  tcase_add_loop_test(t, test_f16_overflow, 0, 2);
  tcase_add_loop_test(t, test_unaddressable_as_float, 0, 2);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tu_run_suite(suite()); }
