/* The bad-input matrix of docs/reliability.md as a table: one row per (function, bad-input
   class) case. Every case runs on a fresh fixture whose outputs hold a sentinel pattern and
   whose inputs are valid; the case breaks exactly one argument. Each case asserts
     - the exact status,
     - a non-empty logitnorm_last_error() that the case itself wrote (a marker message is
       planted before the call and must have been replaced),
     - that every output buffer still holds its sentinel and every input is unchanged,
     - that the handles are unchanged (their parameters and a fixed computation, or their
       saved blob, compare equal before and after). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "half_ref.h"
#include "logitnorm.h"
#include "metrics_ref.h"
#include "test_util.h"
#include "parts.h"

enum { C = 4, N = 3, LD = 5 }; /* LD > C: the padded column must never be touched either */
enum { HD = 3, HLD = 4 };       /* linear head: d features, leading dimension > d */
enum { RS_N = N * LOGITNORM_LOSS_ROW_STATS };
#define BLOB_CAP 4096

typedef struct fx {
  /* inputs (valid values) */
  float logits[N * LD];
  double logits64[N * LD];
  float targets[N * LD];
  double targets64[N * LD];
  float row_scale[N];
  double row_scale64[N];
  int32_t labels[N];
  float weights[C];
  double stats[RS_N], stats64[RS_N];           /* what forward_stats(_soft) wrote for the fixture */
  double stats_soft[RS_N], stats_soft64[RS_N];
  uint16_t logits_bf16[N * LD], logits_f16[N * LD]; /* the logits and targets in the half types */
  uint16_t targets_bf16[N * LD], targets_f16[N * LD];
  float hx[N * HLD], hw[C * HLD], hb[C];       /* linear head: x, W, bias */
  double hx64[N * HLD], hw64[C * HLD], hb64[C];
  /* outputs (sentinel) */
  float grad[N * LD];
  double grad64[N * LD];
  uint16_t gradh[N * LD]; /* the gradient or probabilities of a half call */
  float row_loss[N];
  double row_loss64[N];
  double loss_out;
  double value;
  logitnorm_loss *new_loss;
  logitnorm_metrics *new_metrics;
  logitnorm_calibration *new_cal;
  logitnorm_scorer *new_scorer;
  float scores[N];
  double curve_x[8], curve_y[8], curve_t[8];
  int64_t count;
  unsigned char blob_out[64];
  size_t blob_size;
  double stats_out[RS_N];
  float hdx[N * HLD], hdw[C * HLD], hdb[C];
  double hdx64[N * HLD], hdw64[C * HLD], hdb64[C];
  /* handles */
  logitnorm_loss *loss;
  logitnorm_metrics *metrics;     /* holds ID scores only: metrics that need OOD are a wrong state */
  logitnorm_calibration *cal;     /* empty */
  logitnorm_scorer *scorer;       /* Mahalanobis, fitted but not prepared */
  unsigned char blob[BLOB_CAP];   /* a valid metrics blob, corrupted by the cases */
  size_t blob_len;
} fx;

static fx F;
static fx F_before;

/* ---------------- fixture ---------------- */

static void fill_inputs(fx *f) {
  for (int i = 0; i < N; ++i)
    for (int c = 0; c < LD; ++c) {
      float v = (float)(0.5 * (i + 1) - 0.75 * c); /* arbitrary finite values, no ties needed */
      f->logits[i * LD + c] = v;
      f->logits64[i * LD + c] = v;
      f->targets[i * LD + c] = 0.25f;
      f->targets64[i * LD + c] = 0.25;
    }
  for (int k = 0; k < N * LD; ++k) { /* multiples of 1/4 in [-3, 1.5]: exact in both half types */
    f->logits_bf16[k] = th_narrow(TH_BF16, f->logits[k]);
    f->logits_f16[k] = th_narrow(TH_F16, f->logits[k]);
    f->targets_bf16[k] = th_narrow(TH_BF16, f->targets[k]);
    f->targets_f16[k] = th_narrow(TH_F16, f->targets[k]);
  }
  for (int i = 0; i < N; ++i) {
    f->row_scale[i] = 1.0f;
    f->row_scale64[i] = 1.0;
  }
  f->labels[0] = 0;
  f->labels[1] = 3;
  f->labels[2] = 1;
  for (int c = 0; c < C; ++c) f->weights[c] = 1.0f + (float)c;
  for (int i = 0; i < N * HLD; ++i) {
    f->hx[i] = (float)(0.25 * (i % 7) - 0.5);
    f->hx64[i] = f->hx[i];
  }
  for (int i = 0; i < C * HLD; ++i) {
    f->hw[i] = (float)(0.125 * (i % 5) - 0.25);
    f->hw64[i] = f->hw[i];
  }
  for (int c = 0; c < C; ++c) {
    f->hb[c] = 0.1f * (float)c;
    f->hb64[c] = f->hb[c];
  }
}

static void fill_outputs(fx *f) {
  tu_sentinel_fill(f->grad, sizeof f->grad);
  tu_sentinel_fill(f->grad64, sizeof f->grad64);
  tu_sentinel_fill(f->gradh, sizeof f->gradh);
  tu_sentinel_fill(f->row_loss, sizeof f->row_loss);
  tu_sentinel_fill(f->row_loss64, sizeof f->row_loss64);
  tu_sentinel_fill(&f->loss_out, sizeof f->loss_out);
  tu_sentinel_fill(&f->value, sizeof f->value);
  tu_sentinel_fill(&f->new_loss, sizeof f->new_loss);
  tu_sentinel_fill(&f->new_metrics, sizeof f->new_metrics);
  tu_sentinel_fill(&f->new_cal, sizeof f->new_cal);
  tu_sentinel_fill(&f->new_scorer, sizeof f->new_scorer);
  tu_sentinel_fill(f->scores, sizeof f->scores);
  tu_sentinel_fill(f->curve_x, sizeof f->curve_x);
  tu_sentinel_fill(f->curve_y, sizeof f->curve_y);
  tu_sentinel_fill(f->curve_t, sizeof f->curve_t);
  tu_sentinel_fill(&f->count, sizeof f->count);
  tu_sentinel_fill(f->blob_out, sizeof f->blob_out);
  tu_sentinel_fill(&f->blob_size, sizeof f->blob_size);
  tu_sentinel_fill(f->stats_out, sizeof f->stats_out);
  tu_sentinel_fill(f->hdx, sizeof f->hdx);
  tu_sentinel_fill(f->hdw, sizeof f->hdw);
  tu_sentinel_fill(f->hdb, sizeof f->hdb);
  tu_sentinel_fill(f->hdx64, sizeof f->hdx64);
  tu_sentinel_fill(f->hdw64, sizeof f->hdw64);
  tu_sentinel_fill(f->hdb64, sizeof f->hdb64);
}

static int outputs_intact(const fx *f) {
  return tu_sentinel_intact(f->grad, sizeof f->grad) && tu_sentinel_intact(f->grad64, sizeof f->grad64) &&
         tu_sentinel_intact(f->gradh, sizeof f->gradh) &&
         tu_sentinel_intact(f->row_loss, sizeof f->row_loss) &&
         tu_sentinel_intact(f->row_loss64, sizeof f->row_loss64) &&
         tu_sentinel_intact(&f->loss_out, sizeof f->loss_out) && tu_sentinel_intact(&f->value, sizeof f->value) &&
         tu_sentinel_intact(&f->new_loss, sizeof f->new_loss) &&
         tu_sentinel_intact(&f->new_metrics, sizeof f->new_metrics) &&
         tu_sentinel_intact(&f->new_cal, sizeof f->new_cal) &&
         tu_sentinel_intact(&f->new_scorer, sizeof f->new_scorer) && tu_sentinel_intact(f->scores, sizeof f->scores) &&
         tu_sentinel_intact(f->curve_x, sizeof f->curve_x) && tu_sentinel_intact(f->curve_y, sizeof f->curve_y) &&
         tu_sentinel_intact(f->curve_t, sizeof f->curve_t) && tu_sentinel_intact(&f->count, sizeof f->count) &&
         tu_sentinel_intact(f->blob_out, sizeof f->blob_out) &&
         tu_sentinel_intact(&f->blob_size, sizeof f->blob_size) &&
         tu_sentinel_intact(f->stats_out, sizeof f->stats_out) && tu_sentinel_intact(f->hdx, sizeof f->hdx) &&
         tu_sentinel_intact(f->hdw, sizeof f->hdw) && tu_sentinel_intact(f->hdb, sizeof f->hdb) &&
         tu_sentinel_intact(f->hdx64, sizeof f->hdx64) && tu_sentinel_intact(f->hdw64, sizeof f->hdw64) &&
         tu_sentinel_intact(f->hdb64, sizeof f->hdb64);
}

static int inputs_intact(const fx *f, const fx *before) {
  return memcmp(f->blob, before->blob, sizeof f->blob) == 0 && memcmp(f->logits, before->logits, sizeof f->logits) == 0 &&
         memcmp(f->logits64, before->logits64, sizeof f->logits64) == 0 &&
         memcmp(f->logits_bf16, before->logits_bf16, sizeof f->logits_bf16) == 0 &&
         memcmp(f->logits_f16, before->logits_f16, sizeof f->logits_f16) == 0 &&
         memcmp(f->targets_bf16, before->targets_bf16, sizeof f->targets_bf16) == 0 &&
         memcmp(f->targets_f16, before->targets_f16, sizeof f->targets_f16) == 0 &&
         memcmp(f->targets, before->targets, sizeof f->targets) == 0 &&
         memcmp(f->targets64, before->targets64, sizeof f->targets64) == 0 &&
         memcmp(f->row_scale, before->row_scale, sizeof f->row_scale) == 0 &&
         memcmp(f->row_scale64, before->row_scale64, sizeof f->row_scale64) == 0 &&
         memcmp(f->labels, before->labels, sizeof f->labels) == 0 &&
         memcmp(f->weights, before->weights, sizeof f->weights) == 0 &&
         memcmp(f->stats, before->stats, sizeof f->stats) == 0 &&
         memcmp(f->stats64, before->stats64, sizeof f->stats64) == 0 &&
         memcmp(f->stats_soft, before->stats_soft, sizeof f->stats_soft) == 0 &&
         memcmp(f->stats_soft64, before->stats_soft64, sizeof f->stats_soft64) == 0 &&
         memcmp(f->hx, before->hx, sizeof f->hx) == 0 && memcmp(f->hw, before->hw, sizeof f->hw) == 0 &&
         memcmp(f->hb, before->hb, sizeof f->hb) == 0 && memcmp(f->hx64, before->hx64, sizeof f->hx64) == 0 &&
         memcmp(f->hw64, before->hw64, sizeof f->hw64) == 0 && memcmp(f->hb64, before->hb64, sizeof f->hb64) == 0;
}

/* A fingerprint of the loss handle: every parameter and the row losses of a fixed batch
   (which depend on the class weights too). */
typedef struct loss_print {
  double params[8];
  double total;
  double rows[N];
} loss_print;

static void loss_fingerprint(const logitnorm_loss *h, loss_print *p) {
  static const logitnorm_loss_param params[8] = {
      LOGITNORM_LOSS_TEMPERATURE,     LOGITNORM_LOSS_EPSILON,      LOGITNORM_LOSS_REDUCTION,
      LOGITNORM_LOSS_LABEL_SMOOTHING, LOGITNORM_LOSS_IGNORE_INDEX, LOGITNORM_LOSS_CHECK_FINITE,
      LOGITNORM_LOSS_THREADS,         LOGITNORM_LOSS_WORKSPACE_BYTES};
  memset(p, 0, sizeof *p);
  for (int i = 0; i < 8; ++i) ck_assert_int_eq(logitnorm_loss_get(h, params[i], &p->params[i]), LOGITNORM_OK);
  static const double z[N * C] = {1, 2, 3, 4, -1, 0.5, 0, 2, 3, -3, 1, 0};
  static const int32_t y[N] = {2, 0, 3};
  ck_assert_int_eq(logitnorm_loss_forward_f64(h, N, z, C, y, &p->total, p->rows), LOGITNORM_OK);
}

static void setup(void) {
  memset(&F, 0, sizeof F);
  fill_inputs(&F);
  fill_outputs(&F);
  ck_assert_int_eq(logitnorm_loss_create(&F.loss, LOGITNORM_LOSS_LOGITNORM, C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set_class_weights(F.loss, F.weights), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(F.loss, LOGITNORM_LOSS_LABEL_SMOOTHING, 0.1), LOGITNORM_OK);
  /* valid saved statistics: what forward_stats writes for the fixture's logits */
  ck_assert_int_eq(logitnorm_loss_forward_stats_f32(F.loss, N, F.logits, LD, F.labels, NULL, NULL, F.stats),
                   LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_forward_stats_f64(F.loss, N, F.logits64, LD, F.labels, NULL, NULL, F.stats64),
                   LOGITNORM_OK);
  ck_assert_int_eq(
      logitnorm_loss_forward_stats_soft_f32(F.loss, N, F.logits, LD, F.targets, LD, NULL, NULL, F.stats_soft),
      LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_forward_stats_soft_f64(F.loss, N, F.logits64, LD, F.targets64, LD, NULL, NULL,
                                                         F.stats_soft64),
                   LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_create(&F.metrics), LOGITNORM_OK);
  const float id_scores[3] = {0.5f, 1.5f, -2.0f};
  ck_assert_int_eq(logitnorm_metrics_add_f32(F.metrics, id_scores, 3, 0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_save(F.metrics, F.blob, BLOB_CAP, &F.blob_len), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_create(&F.cal, C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_create(&F.scorer, LOGITNORM_SCORE_MAHALANOBIS, 2, C), LOGITNORM_OK);
  /* 4 samples of C = 4 features in 2 classes, rows of the logits buffer (ld 5) */
  ck_assert_int_eq(logitnorm_scorer_fit_f32(F.scorer, N, F.logits, LD, NULL, 0, (const int32_t[]){0, 1, 0}),
                   LOGITNORM_OK);
}

static void teardown(void) {
  logitnorm_loss_free(F.loss);
  logitnorm_metrics_free(F.metrics);
  logitnorm_calibration_free(F.cal);
  logitnorm_scorer_free(F.scorer);
  memset(&F, 0, sizeof F);
}

/* Saved state of the accumulators and the scorer: equal blobs before and after a case mean
   the handles did not change. */
typedef struct state_print {
  unsigned char m[BLOB_CAP], c[16384], s[BLOB_CAP];
  size_t mn, cn, sn;
} state_print;

static void state_fingerprint(state_print *p) {
  memset(p, 0, sizeof *p);
  ck_assert_int_eq(logitnorm_metrics_save(F.metrics, p->m, sizeof p->m, &p->mn), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_save(F.cal, p->c, sizeof p->c, &p->cn), LOGITNORM_OK);
  logitnorm_status st = logitnorm_scorer_save(F.scorer, p->s, sizeof p->s, &p->sn);
  ck_assert(st == LOGITNORM_OK || st == LOGITNORM_ERR_INVALID_STATE); /* an unprepared scorer may not save */
}

/* ---------------- the cases ---------------- */

#define L F.loss
#define LG F.logits
#define LG64 F.logits64
#define Y F.labels
#define G F.grad
#define G64 F.grad64
#define RL F.row_loss
#define RL64 F.row_loss64
#define T F.targets
#define T64 F.targets64
#define RS F.row_scale

/* Breaking one input in place before the call. */
static logitnorm_status with_label(int32_t y, int row) {
  F.labels[row] = y;
  F_before.labels[row] = y;
  return logitnorm_loss_forward_f32(L, N, LG, LD, Y, &F.loss_out, RL);
}
static logitnorm_status with_logit_f32(float v) {
  F.logits[1 * LD + 2] = v;
  F_before.logits[1 * LD + 2] = v;
  return logitnorm_loss_forward_backward_f32(L, N, LG, LD, Y, &F.loss_out, RL, 1.0f, 0.0f, G, LD);
}
static logitnorm_status with_logit_f64(double v) {
  F.logits64[2 * LD + 3] = v;
  F_before.logits64[2 * LD + 3] = v;
  return logitnorm_loss_backward_f64(L, N, LG64, LD, Y, NULL, 1.0, 0.0, G64, LD);
}
/* A -inf logit is a masked class: bad input under a hard label (row 1's label is 3) or under
   target mass (every target is 0.25). */
static logitnorm_status with_masked_label(void) {
  F.logits[1 * LD + 3] = -INFINITY;
  F_before.logits[1 * LD + 3] = -INFINITY;
  return logitnorm_loss_forward_backward_f32(L, N, LG, LD, Y, &F.loss_out, RL, 1.0f, 0.0f, G, LD);
}
static logitnorm_status with_masked_target(void) {
  F.logits64[2 * LD + 1] = -INFINITY;
  F_before.logits64[2 * LD + 1] = -INFINITY;
  return logitnorm_loss_forward_soft_f64(L, N, LG64, LD, T64, LD, &F.loss_out, RL64);
}
/* TEMPERATURE applies to LogitNorm handles only. */
static logitnorm_status temperature_on_cross_entropy(void) {
  logitnorm_loss *ce = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&ce, LOGITNORM_LOSS_CROSS_ENTROPY, C), LOGITNORM_OK);
  logitnorm_status st = logitnorm_loss_set(ce, LOGITNORM_LOSS_TEMPERATURE, 0.5);
  logitnorm_loss_free(ce);
  return st;
}
static logitnorm_status with_target(float v) {
  F.targets[0] = v;
  F_before.targets[0] = v;
  return logitnorm_loss_forward_soft_f32(L, N, LG, LD, T, LD, &F.loss_out, RL);
}
static logitnorm_status with_row_scale(float v) {
  F.row_scale[1] = v;
  F_before.row_scale[1] = v;
  return logitnorm_loss_backward_f32(L, N, LG, LD, Y, RS, 1.0f, 0.0f, G, LD);
}
static logitnorm_status with_cal_logit(float v) {
  F.logits[2 * LD + 1] = v;
  F_before.logits[2 * LD + 1] = v;
  return logitnorm_calibration_add_f32(F.cal, N, LG, LD, Y);
}
static logitnorm_status with_fit_feature(float v) {
  F.logits[0] = v;
  F_before.logits[0] = v;
  return logitnorm_scorer_fit_f32(F.scorer, N, LG, LD, NULL, 0, (const int32_t[]){1, 0, 1});
}
static logitnorm_status with_weight(float v) {
  F.weights[2] = v;
  F_before.weights[2] = v;
  return logitnorm_loss_set_class_weights(L, F.weights);
}

/* Corrupting a copy of the valid metrics blob. */
static logitnorm_status load_blob_with_byte(size_t at, unsigned char v) {
  F.blob[at] = v;
  F_before.blob[at] = v;
  return logitnorm_metrics_load(&F.new_metrics, F.blob, F.blob_len);
}

/* ---- 1.2: selective classification ---- */

/* A selective metric of an empty accumulator (F.metrics holds ID scores, which would be a
   valid all-correct input). */
static logitnorm_status selective_on_empty(logitnorm_metric which) {
  logitnorm_metrics *m = NULL;
  ck_assert_int_eq(logitnorm_metrics_create(&m), LOGITNORM_OK);
  logitnorm_status st = logitnorm_metrics_value(m, which, &F.value);
  logitnorm_metrics_free(m);
  return st;
}

/* PER_SAMPLE divides its areas by 1 - 1/N: one sample is a wrong state. */
static logitnorm_status per_sample_area_of_one(void) {
  logitnorm_metrics *m = NULL;
  ck_assert_int_eq(logitnorm_metrics_create(&m), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_set(m, LOGITNORM_METRICS_RISK_RULE, LOGITNORM_RISK_RULE_PER_SAMPLE),
                   LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f32(m, (const float[]){0.5f}, 1, 1), LOGITNORM_OK);
  logitnorm_status st = logitnorm_metrics_value(m, LOGITNORM_METRIC_E_AURC, &F.value);
  logitnorm_metrics_free(m);
  return st;
}

/* A format-2 metrics blob (a selective parameter away from its default) with one byte set and
   its CRC made valid again, so that the field check alone must reject it: the version at 4,
   the coverage's top byte at 55 (0xff: NaN), the risk rule at 64. */
static logitnorm_status load_format2_with_byte(size_t at, unsigned char v) {
  logitnorm_metrics *m = NULL;
  unsigned char b[512];
  size_t n = 0;
  ck_assert_int_eq(logitnorm_metrics_create(&m), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_set(m, LOGITNORM_METRICS_COVERAGE, 0.5), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f32(m, (const float[]){0.5f, 0.25f}, 2, 0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_save(m, b, sizeof b, &n), LOGITNORM_OK);
  logitnorm_metrics_free(m);
  ck_assert_uint_eq(b[4], 2);
  b[at] = v;
  mref_blob_fix_crc(b, n);
  return logitnorm_metrics_load(&F.new_metrics, b, n);
}

/* ---- 1.1 ---- */

#define RSN LOGITNORM_LOSS_ROW_STATS
/* Breaks one input element of the fixture, and of its copy taken before the call. */
#define PUT(field, v) (F.field = (v), F_before.field = (v), (void)0)

/* A row with every class masked (-inf). */
static void mask_row_f32(int row) {
  for (int c = 0; c < C; ++c) PUT(logits[row * LD + c], -INFINITY);
}
static void mask_row_f64(int row) {
  for (int c = 0; c < C; ++c) PUT(logits64[row * LD + c], -INFINITY);
}

/* A cross-entropy handle has no LogitNorm scale: its statistics hold 1 in slot 0, so 2 there
   cannot come from its forward_stats. which: 0 hard f32, 1 hard f64, 2 soft f32, 3 soft f64. */
static logitnorm_status cross_entropy_stats_scale_2(int which) {
  logitnorm_loss *ce = NULL;
  double st[RS_N];
  logitnorm_status s = LOGITNORM_OK;
  ck_assert_int_eq(logitnorm_loss_create(&ce, LOGITNORM_LOSS_CROSS_ENTROPY, C), LOGITNORM_OK);
  switch (which) {
    case 0:
      ck_assert_int_eq(logitnorm_loss_forward_stats_f32(ce, N, LG, LD, Y, NULL, NULL, st), LOGITNORM_OK);
      st[1 * RSN] = 2.0;
      s = logitnorm_loss_backward_stats_f32(ce, N, LG, LD, Y, st, NULL, 1.0f, 0.0f, G, LD);
      break;
    case 1:
      ck_assert_int_eq(logitnorm_loss_forward_stats_f64(ce, N, LG64, LD, Y, NULL, NULL, st), LOGITNORM_OK);
      st[0] = 2.0;
      s = logitnorm_loss_backward_stats_f64(ce, N, LG64, LD, Y, st, NULL, 1.0, 0.0, G64, LD);
      break;
    case 2:
      ck_assert_int_eq(logitnorm_loss_forward_stats_soft_f32(ce, N, LG, LD, T, LD, NULL, NULL, st), LOGITNORM_OK);
      st[2 * RSN] = 2.0;
      s = logitnorm_loss_backward_stats_soft_f32(ce, N, LG, LD, T, LD, st, NULL, 1.0f, 0.0f, G, LD);
      break;
    default:
      ck_assert_int_eq(logitnorm_loss_forward_stats_soft_f64(ce, N, LG64, LD, T64, LD, NULL, NULL, st),
                       LOGITNORM_OK);
      st[0] = 2.0;
      s = logitnorm_loss_backward_stats_soft_f64(ce, N, LG64, LD, T64, LD, st, NULL, 1.0, 0.0, G64, LD);
      break;
  }
  logitnorm_loss_free(ce);
  return s;
}

/* The linear head on handle h with N rows, bias, every output given. */
#define HEAD32(h, d, x, ldx, w, y, dx)                                                                      \
  logitnorm_loss_linear_forward_backward_f32(h, N, d, x, ldx, w, HLD, F.hb, y, &F.loss_out, RL, dx, HLD, F.hdw, \
                                             HLD, F.hdb)
#define HEAD64(h, d, x, ldx, w, y, dx)                                                                     \
  logitnorm_loss_linear_forward_backward_f64(h, N, d, x, ldx, w, HLD, F.hb64, y, &F.loss_out, RL64, dx, HLD, \
                                             F.hdw64, HLD, F.hdb64)

/* A feature count no memory can hold, in one row (its span once wrapped to 0 and crashed). */
#define HUGE_D (INT64_C(1) << 62)

/* 64 bytes of workspace cannot hold one row of logits beside the fixed part (docs/linear_head.md). */
static logitnorm_status head_with_tiny_workspace(int f64) {
  logitnorm_loss *h = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&h, LOGITNORM_LOSS_LOGITNORM, C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(h, LOGITNORM_LOSS_WORKSPACE_BYTES, 64.0), LOGITNORM_OK);
  logitnorm_status s = f64 ? HEAD64(h, HD, F.hx64, HLD, F.hw64, Y, F.hdx64) : HEAD32(h, HD, F.hx, HLD, F.hw, Y, F.hdx);
  logitnorm_loss_free(h);
  return s;
}

/* temperature_for_bound on a cross-entropy handle, with a bound a LogitNorm handle could reach. */
static logitnorm_status bound_on_cross_entropy(void) {
  logitnorm_loss *ce = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&ce, LOGITNORM_LOSS_CROSS_ENTROPY, C), LOGITNORM_OK);
  logitnorm_status s = logitnorm_loss_temperature_for_bound(ce, 0.5, &F.value);
  logitnorm_loss_free(ce);
  return s;
}

/* ---- 1.2: calibration ---- */

/* A calibration accumulator of the fixture's shape holding the fixture's rows, for the cases
   that need one with data: `binning` set before the add. */
static logitnorm_calibration *filled_cal(int binning) {
  logitnorm_calibration *c = NULL;
  ck_assert_int_eq(logitnorm_calibration_create(&c, C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINNING, binning), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_add_f32(c, N, LG, LD, Y), LOGITNORM_OK);
  return c;
}
static logitnorm_status binning_after_add(void) {
  logitnorm_calibration *c = filled_cal(LOGITNORM_BINNING_EQUAL_WIDTH);
  logitnorm_status st = logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINNING, LOGITNORM_BINNING_EQUAL_MASS);
  logitnorm_calibration_free(c);
  return st;
}
static logitnorm_status classwise_under_equal_mass(void) {
  logitnorm_calibration *c = filled_cal(LOGITNORM_BINNING_EQUAL_MASS);
  logitnorm_status st = logitnorm_calibration_value(c, LOGITNORM_CALIBRATION_CLASSWISE_ECE, &F.value);
  logitnorm_calibration_free(c);
  return st;
}
/* The fixture's 3 rows make 3 equal-mass bins of one row (default 15 bins, N < BINS): a
   capacity of 2 is too small. */
static logitnorm_status bins_with_capacity(int64_t capacity, int overlap) {
  logitnorm_calibration *c = filled_cal(LOGITNORM_BINNING_EQUAL_MASS);
  logitnorm_status st = logitnorm_calibration_bins(c, F.curve_x, overlap ? F.curve_x + 1 : F.curve_y, F.curve_t,
                                                   capacity, &F.count);
  logitnorm_calibration_free(c);
  return st;
}
static logitnorm_status fit_with_logit(int f64, double v, int row, int col) {
  if (f64) {
    PUT(logits64[row * LD + col], v);
    return logitnorm_calibration_fit_temperature_f64(N, C, LG64, LD, Y, &F.value);
  }
  PUT(logits[row * LD + col], (float)v);
  return logitnorm_calibration_fit_temperature_f32(N, C, LG, LD, Y, &F.value);
}
/* Every label the argmax of its row (class 0 is each row's largest logit): no finite T. */
static logitnorm_status fit_all_labels_argmax(int f64) {
  const int32_t zeros[N] = {0, 0, 0};
  return f64 ? logitnorm_calibration_fit_temperature_f64(N, C, LG64, LD, zeros, &F.value)
             : logitnorm_calibration_fit_temperature_f32(N, C, LG, LD, zeros, &F.value);
}

#define FIT32(n, c, z, ld, y, t) logitnorm_calibration_fit_temperature_f32(n, c, z, ld, y, t)
#define FIT64(n, c, z, ld, y, t) logitnorm_calibration_fit_temperature_f64(n, c, z, ld, y, t)

/* Row 1's label is 3; row 2's is 1. */
#define V12_CALIBRATION_CASES(X)                                                                                \
  X("calibration_fit_temperature_f32", "NULL", LOGITNORM_ERR_NULL_POINTER, FIT32(N, C, NULL, LD, Y, &F.value))   \
  X("calibration_fit_temperature_f32", "NULL", LOGITNORM_ERR_NULL_POINTER, FIT32(N, C, LG, LD, NULL, &F.value))  \
  X("calibration_fit_temperature_f32", "NULL", LOGITNORM_ERR_NULL_POINTER, FIT32(N, C, LG, LD, Y, NULL))         \
  X("calibration_fit_temperature_f32", "negative size", LOGITNORM_ERR_INVALID_ARGUMENT,                          \
    FIT32(-1, C, LG, LD, Y, &F.value))                                                                           \
  X("calibration_fit_temperature_f32", "negative size", LOGITNORM_ERR_INVALID_ARGUMENT,                          \
    FIT32(N, 0, LG, LD, Y, &F.value))                                                                            \
  X("calibration_fit_temperature_f32", "bad sizes", LOGITNORM_ERR_INVALID_ARGUMENT, FIT32(0, C, LG, LD, Y, &F.value)) \
  X("calibration_fit_temperature_f32", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                            \
    FIT32(N, C, LG, C - 1, Y, &F.value))                                                                         \
  X("calibration_fit_temperature_f32", "bad labels", LOGITNORM_ERR_INVALID_LABEL,                                \
    FIT32(N, C, LG, LD, ((const int32_t[]){0, 4, 1}), &F.value))                                                 \
  X("calibration_fit_temperature_f32", "masked", LOGITNORM_ERR_INVALID_LABEL, fit_with_logit(0, -INFINITY, 1, 3)) \
  X("calibration_fit_temperature_f32", "non-finite", LOGITNORM_ERR_NONFINITE, fit_with_logit(0, NAN, 2, 2))     \
  X("calibration_fit_temperature_f32", "non-finite", LOGITNORM_ERR_NONFINITE, fit_with_logit(0, INFINITY, 0, 1)) \
  X("calibration_fit_temperature_f32", "wrong state", LOGITNORM_ERR_INVALID_STATE, fit_all_labels_argmax(0))    \
  X("calibration_fit_temperature_f64", "NULL", LOGITNORM_ERR_NULL_POINTER, FIT64(N, C, NULL, LD, Y, &F.value))   \
  X("calibration_fit_temperature_f64", "NULL", LOGITNORM_ERR_NULL_POINTER, FIT64(N, C, LG64, LD, Y, NULL))       \
  X("calibration_fit_temperature_f64", "bad sizes", LOGITNORM_ERR_INVALID_ARGUMENT,                              \
    FIT64(0, C, LG64, LD, Y, &F.value))                                                                          \
  X("calibration_fit_temperature_f64", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                            \
    FIT64(N, C, LG64, C - 1, Y, &F.value))                                                                       \
  X("calibration_fit_temperature_f64", "bad labels", LOGITNORM_ERR_INVALID_LABEL,                                \
    FIT64(N, C, LG64, LD, ((const int32_t[]){-1, 0, 1}), &F.value))                                              \
  X("calibration_fit_temperature_f64", "masked", LOGITNORM_ERR_INVALID_LABEL, fit_with_logit(1, -INFINITY, 2, 1)) \
  X("calibration_fit_temperature_f64", "non-finite", LOGITNORM_ERR_NONFINITE, fit_with_logit(1, INFINITY, 1, 0)) \
  X("calibration_fit_temperature_f64", "wrong state", LOGITNORM_ERR_INVALID_STATE, fit_all_labels_argmax(1))    \
  X("calibration_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                            \
    logitnorm_calibration_set(F.cal, LOGITNORM_CALIBRATION_BINNING, 2.0))                                       \
  X("calibration_set", "wrong state", LOGITNORM_ERR_INVALID_STATE, binning_after_add())                         \
  X("calibration_value", "unsupported", LOGITNORM_ERR_UNSUPPORTED, classwise_under_equal_mass())                \
  X("calibration_bins", "NULL", LOGITNORM_ERR_NULL_POINTER,                                                     \
    logitnorm_calibration_bins(NULL, F.curve_x, F.curve_y, F.curve_t, 8, &F.count))                             \
  X("calibration_bins", "NULL", LOGITNORM_ERR_NULL_POINTER,                                                     \
    logitnorm_calibration_bins(F.cal, F.curve_x, F.curve_y, F.curve_t, 8, NULL))                                \
  X("calibration_bins", "negative size", LOGITNORM_ERR_INVALID_ARGUMENT,                                        \
    logitnorm_calibration_bins(F.cal, F.curve_x, F.curve_y, F.curve_t, -1, &F.count))                           \
  X("calibration_bins", "wrong state", LOGITNORM_ERR_INVALID_STATE,                                             \
    logitnorm_calibration_bins(F.cal, F.curve_x, F.curve_y, F.curve_t, 8, &F.count))                            \
  X("calibration_bins", "bad sizes", LOGITNORM_ERR_BUFFER_TOO_SMALL, bins_with_capacity(2, 0))                  \
  X("calibration_bins", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT, bins_with_capacity(3, 1))

/* X(function, class, expected status, call): one row of the table in docs/reliability.md. */
#define LOSS_CASES(X)                                                                                            \
  X("loss_create", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_loss_create(NULL, LOGITNORM_LOSS_LOGITNORM, C)) \
  X("loss_create", "negative size", LOGITNORM_ERR_INVALID_ARGUMENT,                                              \
    logitnorm_loss_create(&F.new_loss, LOGITNORM_LOSS_LOGITNORM, -1))                                           \
  X("loss_create", "negative size", LOGITNORM_ERR_INVALID_ARGUMENT,                                              \
    logitnorm_loss_create(&F.new_loss, LOGITNORM_LOSS_CROSS_ENTROPY, 0))                                        \
  X("loss_create", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                                 \
    logitnorm_loss_create(&F.new_loss, (logitnorm_loss_kind)7, C))                                              \
  X("loss_create", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                                 \
    logitnorm_loss_create(&F.new_loss, LOGITNORM_LOSS_LOGITNORM, (int64_t)INT32_MAX + 1))                       \
  X("loss_set", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_loss_set(NULL, LOGITNORM_LOSS_TEMPERATURE, 1.0))   \
  X("loss_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT, logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, 0.0)) \
  X("loss_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT, logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, -1.0)) \
  X("loss_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT, logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, 1e-39)) \
  X("loss_set", "unsupported", LOGITNORM_ERR_UNSUPPORTED, temperature_on_cross_entropy())                        \
  X("loss_set", "non-finite", LOGITNORM_ERR_INVALID_ARGUMENT, logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, NAN)) \
  X("loss_set", "non-finite", LOGITNORM_ERR_INVALID_ARGUMENT,                                                    \
    logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, INFINITY))                                                 \
  X("loss_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT, logitnorm_loss_set(L, LOGITNORM_LOSS_EPSILON, -1e-9)) \
  X("loss_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT, logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, 3.0)) \
  X("loss_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT, logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, 0.5)) \
  X("loss_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                                    \
    logitnorm_loss_set(L, LOGITNORM_LOSS_LABEL_SMOOTHING, 1.5))                                                  \
  X("loss_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                                    \
    logitnorm_loss_set(L, LOGITNORM_LOSS_IGNORE_INDEX, 3e9))                                                     \
  X("loss_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT, logitnorm_loss_set(L, LOGITNORM_LOSS_CHECK_FINITE, 2.0)) \
  X("loss_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT, logitnorm_loss_set(L, LOGITNORM_LOSS_THREADS, 0.0)) \
  X("loss_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT, logitnorm_loss_set(L, (logitnorm_loss_param)999, 1.0)) \
  X("loss_get", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_loss_get(NULL, LOGITNORM_LOSS_EPSILON, &F.value))  \
  X("loss_get", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_loss_get(L, LOGITNORM_LOSS_EPSILON, NULL))         \
  X("loss_get", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT, logitnorm_loss_get(L, (logitnorm_loss_param)99, &F.value)) \
  X("loss_set_class_weights", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_loss_set_class_weights(NULL, F.weights)) \
  X("loss_set_class_weights", "non-finite", LOGITNORM_ERR_NONFINITE, with_weight(NAN))                          \
  X("loss_set_class_weights", "non-finite", LOGITNORM_ERR_NONFINITE, with_weight(-INFINITY))                    \
  X("loss_set_class_weights", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT, with_weight(-0.5f))                 \
  X("loss_forward_f32", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_loss_forward_f32(NULL, N, LG, LD, Y, &F.loss_out, RL)) \
  X("loss_forward_f32", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_loss_forward_f32(L, N, NULL, LD, Y, &F.loss_out, RL)) \
  X("loss_forward_f32", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_loss_forward_f32(L, N, LG, LD, NULL, &F.loss_out, RL)) \
  X("loss_forward_f32", "negative size", LOGITNORM_ERR_INVALID_ARGUMENT,                                         \
    logitnorm_loss_forward_f32(L, -1, LG, LD, Y, &F.loss_out, RL))                                              \
  X("loss_forward_f32", "negative size", LOGITNORM_ERR_INVALID_ARGUMENT,                                         \
    logitnorm_loss_forward_f32(L, INT64_MIN, LG, LD, Y, &F.loss_out, RL))                                       \
  X("loss_forward_f32", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                           \
    logitnorm_loss_forward_f32(L, N, LG, C - 1, Y, &F.loss_out, RL))                                            \
  X("loss_forward_f32", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                           \
    logitnorm_loss_forward_f32(L, N, LG, -LD, Y, &F.loss_out, RL))                                              \
  X("loss_forward_f32", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                           \
    logitnorm_loss_forward_f32(L, N, LG, INT64_MAX / 2, Y, &F.loss_out, RL))                                    \
  X("loss_forward_f32", "bad labels", LOGITNORM_ERR_INVALID_LABEL, with_label(C, 2))                            \
  X("loss_forward_f32", "bad labels", LOGITNORM_ERR_INVALID_LABEL, with_label(-1, 0))                           \
  X("loss_forward_f32", "bad labels", LOGITNORM_ERR_INVALID_LABEL, with_label(INT32_MIN, 1))                    \
  X("loss_forward_f32", "bad labels", LOGITNORM_ERR_INVALID_LABEL, with_label(INT32_MAX, 1))                    \
  X("loss_forward_f32", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                           \
    logitnorm_loss_forward_f32(L, N, LG, LD, Y, &F.loss_out, LG + 2))                                           \
  X("loss_forward_f32", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                           \
    logitnorm_loss_forward_f32(L, N, LG, LD, Y, (double *)(void *)RL, RL))                                      \
  X("loss_forward_backward_f32", "non-finite", LOGITNORM_ERR_NONFINITE, with_logit_f32(NAN))                    \
  X("loss_forward_backward_f32", "non-finite", LOGITNORM_ERR_NONFINITE, with_logit_f32(INFINITY))               \
  X("loss_forward_backward_f32", "NULL", LOGITNORM_ERR_NULL_POINTER,                                             \
    logitnorm_loss_forward_backward_f32(L, N, LG, LD, Y, &F.loss_out, RL, 1.0f, 0.0f, NULL, LD))                \
  X("loss_forward_backward_f32", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                  \
    logitnorm_loss_forward_backward_f32(L, N, LG, LD, Y, &F.loss_out, RL, 1.0f, 0.0f, G, C - 1))                \
  X("loss_forward_backward_f32", "non-finite", LOGITNORM_ERR_INVALID_ARGUMENT,                                   \
    logitnorm_loss_forward_backward_f32(L, N, LG, LD, Y, &F.loss_out, RL, NAN, 0.0f, G, LD))                    \
  X("loss_forward_backward_f32", "non-finite", LOGITNORM_ERR_INVALID_ARGUMENT,                                   \
    logitnorm_loss_forward_backward_f32(L, N, LG, LD, Y, &F.loss_out, RL, 1.0f, INFINITY, G, LD))               \
  X("loss_forward_backward_f32", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                  \
    logitnorm_loss_forward_backward_f32(L, N - 1, LG, LD, Y, &F.loss_out, RL, 1.0f, 0.0f, LG + 1, LD))          \
  X("loss_forward_backward_f32", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                  \
    logitnorm_loss_forward_backward_f32(L, N, LG, LD, Y, &F.loss_out, RL, 1.0f, 0.0f, LG, LD + 1))              \
  X("loss_forward_backward_f32", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                  \
    logitnorm_loss_forward_backward_f32(L, N, LG, LD, Y, &F.loss_out, G + LD, 1.0f, 0.0f, G, LD))               \
  X("loss_backward_f32", "NULL", LOGITNORM_ERR_NULL_POINTER,                                                     \
    logitnorm_loss_backward_f32(L, N, LG, LD, Y, RS, 1.0f, 0.0f, NULL, LD))                                     \
  X("loss_backward_f32", "non-finite", LOGITNORM_ERR_NONFINITE, with_row_scale(NAN))                            \
  X("loss_backward_f32", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                          \
    logitnorm_loss_backward_f32(L, N, LG, LD, Y, G + 4, 1.0f, 0.0f, G, LD))                                     \
  X("loss_backward_f32", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                          \
    logitnorm_loss_backward_f32(L, 1, LG, LD, Y, RS, 1.0f, 0.0f, (float *)(void *)Y, C))                        \
  X("loss_forward_soft_f32", "NULL", LOGITNORM_ERR_NULL_POINTER,                                                 \
    logitnorm_loss_forward_soft_f32(L, N, LG, LD, NULL, LD, &F.loss_out, RL))                                   \
  X("loss_forward_soft_f32", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                      \
    logitnorm_loss_forward_soft_f32(L, N, LG, LD, T, 0, &F.loss_out, RL))                                       \
  X("loss_forward_soft_f32", "non-finite", LOGITNORM_ERR_NONFINITE, with_target(-INFINITY))                     \
  X("loss_backward_soft_f32", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                     \
    logitnorm_loss_backward_soft_f32(L, N, LG, LD, T, LD, NULL, 1.0f, 0.0f, T, LD))                             \
  X("loss_forward_backward_soft_f32", "negative size", LOGITNORM_ERR_INVALID_ARGUMENT,                           \
    logitnorm_loss_forward_backward_soft_f32(L, -3, LG, LD, T, LD, &F.loss_out, RL, 1.0f, 0.0f, G, LD))         \
  X("loss_forward_f64", "bad labels", LOGITNORM_ERR_INVALID_LABEL,                                               \
    logitnorm_loss_forward_f64(L, N, LG64, LD, (const int32_t[]){0, 1, 4}, &F.loss_out, RL64))                  \
  X("loss_forward_f64", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                           \
    logitnorm_loss_forward_f64(L, 2, LG64, INT64_MAX, Y, &F.loss_out, RL64))                                    \
  X("loss_backward_f64", "non-finite", LOGITNORM_ERR_NONFINITE, with_logit_f64(NAN))                            \
  X("loss_backward_f64", "non-finite", LOGITNORM_ERR_NONFINITE, with_logit_f64(INFINITY))                       \
  X("loss_forward_backward_f32", "masked", LOGITNORM_ERR_INVALID_LABEL, with_masked_label())                     \
  X("loss_forward_soft_f64", "masked", LOGITNORM_ERR_INVALID_ARGUMENT, with_masked_target())                    \
  X("loss_forward_backward_f64", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                  \
    logitnorm_loss_forward_backward_f64(L, N, LG64, LD, Y, &F.loss_out, G64 + 5, 1.0, 0.0, G64, LD))            \
  X("loss_forward_soft_f64", "NULL", LOGITNORM_ERR_NULL_POINTER,                                                 \
    logitnorm_loss_forward_soft_f64(NULL, N, LG64, LD, T64, LD, &F.loss_out, RL64))                            \
  X("loss_backward_soft_f64", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                     \
    logitnorm_loss_backward_soft_f64(L, N, LG64, LD, T64, C - 1, NULL, 1.0, 0.0, G64, LD))                      \
  X("loss_forward_backward_soft_f64", "non-finite", LOGITNORM_ERR_INVALID_ARGUMENT,                              \
    logitnorm_loss_forward_backward_soft_f64(L, N, LG64, LD, T64, LD, NULL, RL64, 1.0, NAN, G64, LD))

/* The 1.1 entry points, and the 1.1 rules (masks, WORKSPACE_BYTES) on the 1.0 ones. Masks:
   a label on a -inf class is INVALID_LABEL (a row masked whole under a hard label is one),
   target mass on one or a row masked whole otherwise is INVALID_ARGUMENT. Statistics that a
   forward_stats of the handle cannot write are INVALID_ARGUMENT; a NaN or infinity in them
   is NONFINITE (CHECK_FINITE on). The fixture's row 1 has label 3, every target is 0.25. */
#define V11_CASES(X)                                                                                             \
  X("loss_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                                    \
    logitnorm_loss_set(L, LOGITNORM_LOSS_WORKSPACE_BYTES, 0.0))                                                 \
  X("loss_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                                    \
    logitnorm_loss_set(L, LOGITNORM_LOSS_WORKSPACE_BYTES, -64.0))                                               \
  X("loss_set", "non-finite", LOGITNORM_ERR_INVALID_ARGUMENT,                                                    \
    logitnorm_loss_set(L, LOGITNORM_LOSS_WORKSPACE_BYTES, NAN))                                                 \
  X("loss_forward_f32", "masked", LOGITNORM_ERR_INVALID_LABEL,                                                   \
    (PUT(logits[1 * LD + 3], -INFINITY), logitnorm_loss_forward_f32(L, N, LG, LD, Y, &F.loss_out, RL)))         \
  X("loss_backward_f64", "masked", LOGITNORM_ERR_INVALID_LABEL,                                                  \
    (mask_row_f64(2), logitnorm_loss_backward_f64(L, N, LG64, LD, Y, NULL, 1.0, 0.0, G64, LD)))                  \
  X("loss_forward_soft_f32", "masked", LOGITNORM_ERR_INVALID_ARGUMENT,                                           \
    (mask_row_f32(0), logitnorm_loss_forward_soft_f32(L, N, LG, LD, T, LD, &F.loss_out, RL)))                   \
  X("loss_backward_soft_f32", "masked", LOGITNORM_ERR_INVALID_ARGUMENT,                                          \
    (PUT(logits[1 * LD + 0], -INFINITY),                                                                         \
     logitnorm_loss_backward_soft_f32(L, N, LG, LD, T, LD, NULL, 1.0f, 0.0f, G, LD)))                            \
  X("loss_forward_backward_soft_f64", "masked", LOGITNORM_ERR_INVALID_ARGUMENT,                                  \
    (PUT(logits64[0 * LD + 2], -INFINITY),                                                                       \
     logitnorm_loss_forward_backward_soft_f64(L, N, LG64, LD, T64, LD, &F.loss_out, RL64, 1.0, 0.0, G64, LD)))   \
  /* forward_stats */                                                                                            \
  X("loss_forward_stats_f32", "NULL", LOGITNORM_ERR_NULL_POINTER,                                                \
    logitnorm_loss_forward_stats_f32(NULL, N, LG, LD, Y, &F.loss_out, RL, F.stats_out))                        \
  X("loss_forward_stats_f32", "NULL", LOGITNORM_ERR_NULL_POINTER,                                                \
    logitnorm_loss_forward_stats_f32(L, N, LG, LD, Y, &F.loss_out, RL, NULL))                                  \
  X("loss_forward_stats_f32", "NULL", LOGITNORM_ERR_NULL_POINTER,                                                \
    logitnorm_loss_forward_stats_f32(L, N, LG, LD, NULL, &F.loss_out, RL, F.stats_out))                        \
  X("loss_forward_stats_f32", "negative size", LOGITNORM_ERR_INVALID_ARGUMENT,                                   \
    logitnorm_loss_forward_stats_f32(L, -1, LG, LD, Y, &F.loss_out, RL, F.stats_out))                          \
  X("loss_forward_stats_f32", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                     \
    logitnorm_loss_forward_stats_f32(L, N, LG, C - 1, Y, &F.loss_out, RL, F.stats_out))                        \
  X("loss_forward_stats_f32", "bad labels", LOGITNORM_ERR_INVALID_LABEL,                                         \
    logitnorm_loss_forward_stats_f32(L, N, LG, LD, (const int32_t[]){0, C, 1}, &F.loss_out, RL, F.stats_out))  \
  X("loss_forward_stats_f32", "masked", LOGITNORM_ERR_INVALID_LABEL,                                             \
    (PUT(logits[1 * LD + 3], -INFINITY),                                                                         \
     logitnorm_loss_forward_stats_f32(L, N, LG, LD, Y, &F.loss_out, RL, F.stats_out)))                          \
  X("loss_forward_stats_f32", "masked", LOGITNORM_ERR_INVALID_LABEL,                                             \
    (mask_row_f32(0), logitnorm_loss_forward_stats_f32(L, N, LG, LD, Y, &F.loss_out, RL, F.stats_out)))         \
  X("loss_forward_stats_f32", "non-finite", LOGITNORM_ERR_NONFINITE,                                             \
    (PUT(logits[2 * LD + 0], NAN), logitnorm_loss_forward_stats_f32(L, N, LG, LD, Y, &F.loss_out, RL, F.stats_out))) \
  X("loss_forward_stats_f32", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                     \
    logitnorm_loss_forward_stats_f32(L, N, LG, LD, Y, &F.loss_out, RL, (double *)(void *)LG))                  \
  X("loss_forward_stats_f64", "NULL", LOGITNORM_ERR_NULL_POINTER,                                                \
    logitnorm_loss_forward_stats_f64(L, N, LG64, LD, Y, &F.loss_out, RL64, NULL))                              \
  X("loss_forward_stats_f64", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                     \
    logitnorm_loss_forward_stats_f64(L, N, LG64, C - 1, Y, &F.loss_out, RL64, F.stats_out))                    \
  X("loss_forward_stats_f64", "masked", LOGITNORM_ERR_INVALID_LABEL,                                             \
    (PUT(logits64[1 * LD + 3], -INFINITY),                                                                       \
     logitnorm_loss_forward_stats_f64(L, N, LG64, LD, Y, &F.loss_out, RL64, F.stats_out)))                      \
  X("loss_forward_stats_f64", "non-finite", LOGITNORM_ERR_NONFINITE,                                             \
    (PUT(logits64[0 * LD + 1], INFINITY),                                                                        \
     logitnorm_loss_forward_stats_f64(L, N, LG64, LD, Y, &F.loss_out, RL64, F.stats_out)))                      \
  X("loss_forward_stats_f64", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                     \
    logitnorm_loss_forward_stats_f64(L, N, LG64, LD, Y, &F.loss_out, F.stats_out + 2, F.stats_out))            \
  /* backward_stats */                                                                                           \
  X("loss_backward_stats_f32", "NULL", LOGITNORM_ERR_NULL_POINTER,                                               \
    logitnorm_loss_backward_stats_f32(L, N, LG, LD, Y, NULL, NULL, 1.0f, 0.0f, G, LD))                          \
  X("loss_backward_stats_f32", "NULL", LOGITNORM_ERR_NULL_POINTER,                                               \
    logitnorm_loss_backward_stats_f32(L, N, LG, LD, Y, F.stats, NULL, 1.0f, 0.0f, NULL, LD))                    \
  X("loss_backward_stats_f32", "bad labels", LOGITNORM_ERR_INVALID_LABEL,                                        \
    logitnorm_loss_backward_stats_f32(L, N, LG, LD, (const int32_t[]){-1, 3, 1}, F.stats, NULL, 1.0f, 0.0f, G, LD)) \
  X("loss_backward_stats_f32", "masked", LOGITNORM_ERR_INVALID_LABEL,                                            \
    (PUT(logits[1 * LD + 3], -INFINITY),                                                                         \
     logitnorm_loss_backward_stats_f32(L, N, LG, LD, Y, F.stats, NULL, 1.0f, 0.0f, G, LD)))                     \
  X("loss_backward_stats_f32", "non-finite", LOGITNORM_ERR_NONFINITE,                                            \
    (PUT(stats[1 * RSN + 1], NAN), logitnorm_loss_backward_stats_f32(L, N, LG, LD, Y, F.stats, NULL, 1.0f, 0.0f, G, LD))) \
  X("loss_backward_stats_f32", "non-finite", LOGITNORM_ERR_INVALID_ARGUMENT,                                     \
    logitnorm_loss_backward_stats_f32(L, N, LG, LD, Y, F.stats, NULL, NAN, 0.0f, G, LD))                        \
  X("loss_backward_stats_f32", "impossible row_stats", LOGITNORM_ERR_INVALID_ARGUMENT,                           \
    cross_entropy_stats_scale_2(0))                                                                              \
  X("loss_backward_stats_f32", "impossible row_stats", LOGITNORM_ERR_INVALID_ARGUMENT,                           \
    (PUT(stats[0], 0.0), logitnorm_loss_backward_stats_f32(L, N, LG, LD, Y, F.stats, NULL, 1.0f, 0.0f, G, LD))) \
  X("loss_backward_stats_f32", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                    \
    logitnorm_loss_backward_stats_f32(L, N, LG, LD, Y, (const double *)(void *)G, NULL, 1.0f, 0.0f, G, LD))    \
  X("loss_backward_stats_f64", "NULL", LOGITNORM_ERR_NULL_POINTER,                                               \
    logitnorm_loss_backward_stats_f64(L, N, LG64, LD, Y, NULL, NULL, 1.0, 0.0, G64, LD))                        \
  X("loss_backward_stats_f64", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                    \
    logitnorm_loss_backward_stats_f64(L, N, LG64, LD, Y, F.stats64, NULL, 1.0, 0.0, G64, C - 1))                \
  X("loss_backward_stats_f64", "bad labels", LOGITNORM_ERR_INVALID_LABEL,                                        \
    logitnorm_loss_backward_stats_f64(L, N, LG64, LD, (const int32_t[]){0, 1, C}, F.stats64, NULL, 1.0, 0.0, G64, LD)) \
  X("loss_backward_stats_f64", "non-finite", LOGITNORM_ERR_NONFINITE,                                            \
    (PUT(stats64[2 * RSN + 3], INFINITY),                                                                        \
     logitnorm_loss_backward_stats_f64(L, N, LG64, LD, Y, F.stats64, NULL, 1.0, 0.0, G64, LD)))                 \
  X("loss_backward_stats_f64", "impossible row_stats", LOGITNORM_ERR_INVALID_ARGUMENT,                           \
    cross_entropy_stats_scale_2(1))                                                                              \
  /* soft statistics */                                                                                          \
  X("loss_forward_stats_soft_f32", "NULL", LOGITNORM_ERR_NULL_POINTER,                                           \
    logitnorm_loss_forward_stats_soft_f32(L, N, LG, LD, T, LD, &F.loss_out, RL, NULL))                         \
  X("loss_forward_stats_soft_f32", "NULL", LOGITNORM_ERR_NULL_POINTER,                                           \
    logitnorm_loss_forward_stats_soft_f32(L, N, LG, LD, NULL, LD, &F.loss_out, RL, F.stats_out))               \
  X("loss_forward_stats_soft_f32", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                \
    logitnorm_loss_forward_stats_soft_f32(L, N, LG, LD, T, C - 1, &F.loss_out, RL, F.stats_out))               \
  X("loss_forward_stats_soft_f32", "masked", LOGITNORM_ERR_INVALID_ARGUMENT,                                     \
    (PUT(logits[2 * LD + 1], -INFINITY),                                                                         \
     logitnorm_loss_forward_stats_soft_f32(L, N, LG, LD, T, LD, &F.loss_out, RL, F.stats_out)))                 \
  X("loss_forward_stats_soft_f32", "non-finite", LOGITNORM_ERR_NONFINITE,                                        \
    (PUT(targets[1 * LD + 2], INFINITY),                                                                         \
     logitnorm_loss_forward_stats_soft_f32(L, N, LG, LD, T, LD, &F.loss_out, RL, F.stats_out)))                 \
  X("loss_forward_stats_soft_f64", "NULL", LOGITNORM_ERR_NULL_POINTER,                                           \
    logitnorm_loss_forward_stats_soft_f64(L, N, LG64, LD, T64, LD, &F.loss_out, RL64, NULL))                   \
  X("loss_forward_stats_soft_f64", "negative size", LOGITNORM_ERR_INVALID_ARGUMENT,                              \
    logitnorm_loss_forward_stats_soft_f64(L, -2, LG64, LD, T64, LD, &F.loss_out, RL64, F.stats_out))           \
  X("loss_forward_stats_soft_f64", "masked", LOGITNORM_ERR_INVALID_ARGUMENT,                                     \
    (mask_row_f64(1), logitnorm_loss_forward_stats_soft_f64(L, N, LG64, LD, T64, LD, &F.loss_out, RL64, F.stats_out))) \
  X("loss_backward_stats_soft_f32", "NULL", LOGITNORM_ERR_NULL_POINTER,                                          \
    logitnorm_loss_backward_stats_soft_f32(L, N, LG, LD, T, LD, NULL, NULL, 1.0f, 0.0f, G, LD))                 \
  X("loss_backward_stats_soft_f32", "masked", LOGITNORM_ERR_INVALID_ARGUMENT,                                    \
    (PUT(logits[2 * LD + 1], -INFINITY),                                                                         \
     logitnorm_loss_backward_stats_soft_f32(L, N, LG, LD, T, LD, F.stats_soft, NULL, 1.0f, 0.0f, G, LD)))       \
  X("loss_backward_stats_soft_f32", "non-finite", LOGITNORM_ERR_NONFINITE,                                       \
    (PUT(stats_soft[0 * RSN + 2], NAN),                                                                          \
     logitnorm_loss_backward_stats_soft_f32(L, N, LG, LD, T, LD, F.stats_soft, NULL, 1.0f, 0.0f, G, LD)))       \
  X("loss_backward_stats_soft_f32", "impossible row_stats", LOGITNORM_ERR_INVALID_ARGUMENT,                      \
    cross_entropy_stats_scale_2(2))                                                                              \
  X("loss_backward_stats_soft_f32", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                               \
    logitnorm_loss_backward_stats_soft_f32(L, N, LG, LD, T, LD, F.stats_soft, NULL, 1.0f, 0.0f, T, LD))         \
  X("loss_backward_stats_soft_f64", "NULL", LOGITNORM_ERR_NULL_POINTER,                                          \
    logitnorm_loss_backward_stats_soft_f64(L, N, LG64, LD, T64, LD, NULL, NULL, 1.0, 0.0, G64, LD))             \
  X("loss_backward_stats_soft_f64", "masked", LOGITNORM_ERR_INVALID_ARGUMENT,                                    \
    (mask_row_f64(0),                                                                                            \
     logitnorm_loss_backward_stats_soft_f64(L, N, LG64, LD, T64, LD, F.stats_soft64, NULL, 1.0, 0.0, G64, LD))) \
  X("loss_backward_stats_soft_f64", "non-finite", LOGITNORM_ERR_NONFINITE,                                       \
    (PUT(targets64[2 * LD + 3], NAN),                                                                            \
     logitnorm_loss_backward_stats_soft_f64(L, N, LG64, LD, T64, LD, F.stats_soft64, NULL, 1.0, 0.0, G64, LD))) \
  X("loss_backward_stats_soft_f64", "impossible row_stats", LOGITNORM_ERR_INVALID_ARGUMENT,                      \
    cross_entropy_stats_scale_2(3))                                                                              \
  /* probs */                                                                                                    \
  X("loss_probs_f32", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_loss_probs_f32(NULL, N, LG, LD, G, LD))     \
  X("loss_probs_f32", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_loss_probs_f32(L, N, NULL, LD, G, LD))      \
  X("loss_probs_f32", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_loss_probs_f32(L, N, LG, LD, NULL, LD))     \
  X("loss_probs_f32", "negative size", LOGITNORM_ERR_INVALID_ARGUMENT, logitnorm_loss_probs_f32(L, -1, LG, LD, G, LD)) \
  X("loss_probs_f32", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT, logitnorm_loss_probs_f32(L, N, LG, LD, G, C - 1)) \
  X("loss_probs_f32", "masked", LOGITNORM_ERR_INVALID_ARGUMENT,                                                  \
    (mask_row_f32(1), logitnorm_loss_probs_f32(L, N, LG, LD, G, LD)))                                            \
  X("loss_probs_f32", "non-finite", LOGITNORM_ERR_NONFINITE,                                                     \
    (PUT(logits[0 * LD + 3], NAN), logitnorm_loss_probs_f32(L, N, LG, LD, G, LD)))                               \
  X("loss_probs_f32", "non-finite", LOGITNORM_ERR_NONFINITE,                                                     \
    (PUT(logits[2 * LD + 2], INFINITY), logitnorm_loss_probs_f32(L, N, LG, LD, G, LD)))                          \
  X("loss_probs_f32", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                             \
    logitnorm_loss_probs_f32(L, N - 1, LG, LD, LG + 1, LD))                                                      \
  X("loss_probs_f64", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_loss_probs_f64(L, N, LG64, LD, NULL, LD))   \
  X("loss_probs_f64", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                             \
    logitnorm_loss_probs_f64(L, N, LG64, C - 1, G64, LD))                                                        \
  X("loss_probs_f64", "masked", LOGITNORM_ERR_INVALID_ARGUMENT,                                                  \
    (mask_row_f64(2), logitnorm_loss_probs_f64(L, N, LG64, LD, G64, LD)))                                        \
  X("loss_probs_f64", "non-finite", LOGITNORM_ERR_NONFINITE,                                                     \
    (PUT(logits64[1 * LD + 1], NAN), logitnorm_loss_probs_f64(L, N, LG64, LD, G64, LD)))                         \
  X("loss_probs_f64", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                             \
    logitnorm_loss_probs_f64(L, N - 1, LG64, LD, LG64 + LD, LD))                                                 \
  /* linear head */                                                                                              \
  X("loss_linear_forward_backward_f32", "NULL", LOGITNORM_ERR_NULL_POINTER,                                      \
    HEAD32(NULL, HD, F.hx, HLD, F.hw, Y, F.hdx))                                                                 \
  X("loss_linear_forward_backward_f32", "NULL", LOGITNORM_ERR_NULL_POINTER, HEAD32(L, HD, NULL, HLD, F.hw, Y, F.hdx)) \
  X("loss_linear_forward_backward_f32", "NULL", LOGITNORM_ERR_NULL_POINTER, HEAD32(L, HD, F.hx, HLD, NULL, Y, F.hdx)) \
  X("loss_linear_forward_backward_f32", "NULL", LOGITNORM_ERR_NULL_POINTER,                                      \
    HEAD32(L, HD, F.hx, HLD, F.hw, NULL, F.hdx))                                                                 \
  X("loss_linear_forward_backward_f32", "negative size", LOGITNORM_ERR_INVALID_ARGUMENT,                         \
    HEAD32(L, 0, F.hx, HLD, F.hw, Y, F.hdx))                                                                     \
  X("loss_linear_forward_backward_f32", "negative size", LOGITNORM_ERR_INVALID_ARGUMENT,                         \
    logitnorm_loss_linear_forward_backward_f32(L, -1, HD, F.hx, HLD, F.hw, HLD, F.hb, Y, &F.loss_out, RL, F.hdx, \
                                               HLD, F.hdw, HLD, F.hdb))                                          \
  X("loss_linear_forward_backward_f32", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                           \
    HEAD32(L, HD, F.hx, HD - 1, F.hw, Y, F.hdx))                                                                 \
  X("loss_linear_forward_backward_f32", "bad labels", LOGITNORM_ERR_INVALID_LABEL,                               \
    HEAD32(L, HD, F.hx, HLD, F.hw, ((const int32_t[]){0, C, 1}), F.hdx))                                         \
  X("loss_linear_forward_backward_f32", "non-finite", LOGITNORM_ERR_NONFINITE,                                   \
    (PUT(hx[1 * HLD + 2], NAN), HEAD32(L, HD, F.hx, HLD, F.hw, Y, F.hdx)))                                       \
  X("loss_linear_forward_backward_f32", "non-finite", LOGITNORM_ERR_NONFINITE,                                   \
    (PUT(hb[3], INFINITY), HEAD32(L, HD, F.hx, HLD, F.hw, Y, F.hdx)))                                            \
  X("loss_linear_forward_backward_f32", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                           \
    HEAD32(L, HD, F.hx, HLD, F.hw, Y, F.hx + 1))                                                                 \
  X("loss_linear_forward_backward_f32", "bad sizes", LOGITNORM_ERR_INVALID_ARGUMENT, head_with_tiny_workspace(0)) \
  X("loss_linear_forward_backward_f32", "bad sizes", LOGITNORM_ERR_INVALID_ARGUMENT,                             \
    logitnorm_loss_linear_forward_backward_f32(L, 1, HUGE_D, F.hx, HUGE_D, F.hw, HUGE_D, NULL, Y, &F.loss_out,   \
                                               RL, NULL, 0, NULL, 0, NULL))                                      \
  X("loss_linear_forward_backward_f32", "bad labels", LOGITNORM_ERR_INVALID_LABEL,                               \
    (PUT(hb[F.labels[1]], -INFINITY), HEAD32(L, HD, F.hx, HLD, F.hw, Y, F.hdx)))                                 \
  X("loss_linear_forward_backward_f64", "NULL", LOGITNORM_ERR_NULL_POINTER,                                      \
    HEAD64(L, HD, NULL, HLD, F.hw64, Y, F.hdx64))                                                                \
  X("loss_linear_forward_backward_f64", "NULL", LOGITNORM_ERR_NULL_POINTER,                                      \
    HEAD64(L, HD, F.hx64, HLD, NULL, Y, F.hdx64))                                                                \
  X("loss_linear_forward_backward_f64", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                           \
    HEAD64(L, HD, F.hx64, HD - 1, F.hw64, Y, F.hdx64))                                                           \
  X("loss_linear_forward_backward_f64", "bad labels", LOGITNORM_ERR_INVALID_LABEL,                               \
    HEAD64(L, HD, F.hx64, HLD, F.hw64, ((const int32_t[]){0, 1, -2}), F.hdx64))                                  \
  X("loss_linear_forward_backward_f64", "non-finite", LOGITNORM_ERR_NONFINITE,                                   \
    (PUT(hw64[2 * HLD + 1], NAN), HEAD64(L, HD, F.hx64, HLD, F.hw64, Y, F.hdx64)))                               \
  X("loss_linear_forward_backward_f64", "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                           \
    HEAD64(L, HD, F.hx64, HLD, F.hw64, Y, F.hx64 + HLD))                                                         \
  X("loss_linear_forward_backward_f64", "bad sizes", LOGITNORM_ERR_INVALID_ARGUMENT, head_with_tiny_workspace(1)) \
  X("loss_linear_forward_backward_f64", "bad sizes", LOGITNORM_ERR_INVALID_ARGUMENT,                             \
    logitnorm_loss_linear_forward_backward_f64(L, 1, HUGE_D, F.hx64, HUGE_D, F.hw64, HUGE_D, NULL, Y,            \
                                               &F.loss_out, RL64, NULL, 0, NULL, 0, NULL))                       \
  X("loss_linear_forward_backward_f64", "bad labels", LOGITNORM_ERR_INVALID_LABEL,                               \
    (PUT(hb64[F.labels[2]], -INFINITY), HEAD64(L, HD, F.hx64, HLD, F.hw64, Y, F.hdx64)))                         \
  /* lower bound and its inverse (fixture: LogitNorm, C = 4, smoothing 0.1: range (entropy ~0.349, log 4)) */   \
  X("loss_lower_bound", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_loss_lower_bound(NULL, &F.value))          \
  X("loss_lower_bound", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_loss_lower_bound(L, NULL))                 \
  X("loss_temperature_for_bound", "NULL", LOGITNORM_ERR_NULL_POINTER,                                            \
    logitnorm_loss_temperature_for_bound(NULL, 0.5, &F.value))                                                   \
  X("loss_temperature_for_bound", "NULL", LOGITNORM_ERR_NULL_POINTER,                                            \
    logitnorm_loss_temperature_for_bound(L, 0.5, NULL))                                                          \
  X("loss_temperature_for_bound", "unsupported", LOGITNORM_ERR_UNSUPPORTED, bound_on_cross_entropy())           \
  X("loss_temperature_for_bound", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                  \
    logitnorm_loss_temperature_for_bound(L, 0.2, &F.value))                                                      \
  X("loss_temperature_for_bound", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                  \
    logitnorm_loss_temperature_for_bound(L, log(4.0), &F.value))                                                 \
  X("loss_temperature_for_bound", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                  \
    logitnorm_loss_temperature_for_bound(L, 2.0, &F.value))                                                      \
  X("loss_temperature_for_bound", "non-finite", LOGITNORM_ERR_INVALID_ARGUMENT,                                  \
    logitnorm_loss_temperature_for_bound(L, NAN, &F.value))                                                      \
  X("loss_temperature_for_bound", "non-finite", LOGITNORM_ERR_INVALID_ARGUMENT,                                  \
    logitnorm_loss_temperature_for_bound(L, INFINITY, &F.value))


#define OTHER_CASES(X)                                                                                          \
  X("metrics_create", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_metrics_create(NULL))                       \
  X("metrics_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                                \
    logitnorm_metrics_set(F.metrics, LOGITNORM_METRICS_TPR_LEVEL, 0.0))                                         \
  X("metrics_set", "non-finite", LOGITNORM_ERR_INVALID_ARGUMENT,                                                \
    logitnorm_metrics_set(F.metrics, LOGITNORM_METRICS_TPR_LEVEL, NAN))                                         \
  X("metrics_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                                \
    logitnorm_metrics_set(F.metrics, LOGITNORM_METRICS_FPR_RULE, 3.0))                                          \
  X("metrics_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                                \
    logitnorm_metrics_set(F.metrics, LOGITNORM_METRICS_COVERAGE, 0.0))                                          \
  X("metrics_set", "non-finite", LOGITNORM_ERR_INVALID_ARGUMENT,                                                \
    logitnorm_metrics_set(F.metrics, LOGITNORM_METRICS_COVERAGE, NAN))                                          \
  X("metrics_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                                \
    logitnorm_metrics_set(F.metrics, LOGITNORM_METRICS_RISK, -0.01))                                            \
  X("metrics_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                                \
    logitnorm_metrics_set(F.metrics, LOGITNORM_METRICS_RISK, 1.5))                                              \
  X("metrics_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                                \
    logitnorm_metrics_set(F.metrics, LOGITNORM_METRICS_RISK_RULE, 3.0))                                         \
  X("metrics_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                                \
    logitnorm_metrics_set(F.metrics, LOGITNORM_METRICS_RISK_RULE, 0.5))                                         \
  X("metrics_add_f32", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_metrics_add_f32(F.metrics, NULL, 2, 1))    \
  X("metrics_add_f32", "negative size", LOGITNORM_ERR_INVALID_ARGUMENT,                                         \
    logitnorm_metrics_add_f32(F.metrics, F.scores, -1, 1))                                                      \
  X("metrics_add_f32", "non-finite", LOGITNORM_ERR_NONFINITE,                                                   \
    logitnorm_metrics_add_f32(F.metrics, (const float[]){1.0f, NAN}, 2, 1))                                     \
  X("metrics_add_f64", "non-finite", LOGITNORM_ERR_NONFINITE,                                                   \
    logitnorm_metrics_add_f64(F.metrics, (const double[]){INFINITY}, 1, 0))                                     \
  X("metrics_add_f32", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                            \
    logitnorm_metrics_add_f32(F.metrics, (const float[]){1.0f}, 1, 2))                                         \
  X("metrics_value", "wrong state", LOGITNORM_ERR_INVALID_STATE,                                                \
    logitnorm_metrics_value(F.metrics, LOGITNORM_METRIC_AUROC, &F.value))                                       \
  X("metrics_value", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_metrics_value(F.metrics, LOGITNORM_METRIC_AUROC, NULL)) \
  X("metrics_value", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                              \
    logitnorm_metrics_value(F.metrics, (logitnorm_metric)42, &F.value))                                         \
  X("metrics_value", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                              \
    logitnorm_metrics_value(F.metrics, (logitnorm_metric)(LOGITNORM_METRIC_COVERAGE_AT_RISK + 1), &F.value))    \
  X("metrics_value", "NULL", LOGITNORM_ERR_NULL_POINTER,                                                        \
    logitnorm_metrics_value(F.metrics, LOGITNORM_METRIC_AURC, NULL))                                            \
  X("metrics_value", "wrong state", LOGITNORM_ERR_INVALID_STATE, selective_on_empty(LOGITNORM_METRIC_AURC))      \
  X("metrics_value", "wrong state", LOGITNORM_ERR_INVALID_STATE,                                                \
    selective_on_empty(LOGITNORM_METRIC_COVERAGE_AT_RISK))                                                      \
  X("metrics_value", "wrong state", LOGITNORM_ERR_INVALID_STATE, per_sample_area_of_one())                      \
  X("metrics_load", "corrupt blob", LOGITNORM_ERR_CORRUPT_DATA, load_format2_with_byte(4, 3))                   \
  X("metrics_load", "corrupt blob", LOGITNORM_ERR_CORRUPT_DATA, load_format2_with_byte(48 + 7, 0xff))           \
  X("metrics_load", "corrupt blob", LOGITNORM_ERR_CORRUPT_DATA, load_format2_with_byte(64, 7))                  \
  X("metrics_curve", "wrong state", LOGITNORM_ERR_INVALID_STATE,                                                \
    logitnorm_metrics_curve(F.metrics, LOGITNORM_CURVE_ROC, F.curve_x, F.curve_y, F.curve_t, 8, &F.count))      \
  X("metrics_curve", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                              \
    logitnorm_metrics_curve(F.metrics, 7, F.curve_x, F.curve_y, F.curve_t, 8, &F.count))                        \
  X("metrics_merge", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_metrics_merge(F.metrics, NULL))              \
  X("metrics_save", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_metrics_save(F.metrics, F.blob_out, 8, NULL)) \
  X("metrics_save", "bad sizes", LOGITNORM_ERR_BUFFER_TOO_SMALL,                                                \
    logitnorm_metrics_save(F.metrics, F.blob_out, 8, (size_t[]){0}))                                          \
  X("metrics_load", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_metrics_load(&F.new_metrics, NULL, 64))       \
  X("metrics_load", "corrupt blob", LOGITNORM_ERR_CORRUPT_DATA,                                                 \
    logitnorm_metrics_load(&F.new_metrics, F.blob, F.blob_len - 1))                                             \
  X("metrics_load", "corrupt blob", LOGITNORM_ERR_CORRUPT_DATA, load_blob_with_byte(0, 'X'))                    \
  X("metrics_load", "corrupt blob", LOGITNORM_ERR_CORRUPT_DATA, load_blob_with_byte(4, 2))                      \
  X("metrics_load", "corrupt blob", LOGITNORM_ERR_CORRUPT_DATA, load_blob_with_byte(30, 0xff))                  \
  X("metrics_load", "corrupt blob", LOGITNORM_ERR_CORRUPT_DATA, logitnorm_metrics_load(&F.new_metrics, F.blob, 5)) \
  X("calibration_load", "corrupt blob", LOGITNORM_ERR_CORRUPT_DATA,                                             \
    logitnorm_calibration_load(&F.new_cal, F.blob, F.blob_len))                                                 \
  X("scorer_load", "corrupt blob", LOGITNORM_ERR_CORRUPT_DATA, logitnorm_scorer_load(&F.new_scorer, F.blob, F.blob_len)) \
  X("calibration_create", "negative size", LOGITNORM_ERR_INVALID_ARGUMENT, logitnorm_calibration_create(&F.new_cal, -2)) \
  X("calibration_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                            \
    logitnorm_calibration_set(F.cal, LOGITNORM_CALIBRATION_BINS, 0.0))                                          \
  X("calibration_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                            \
    logitnorm_calibration_set(F.cal, LOGITNORM_CALIBRATION_TEMPERATURE, -1.0))                                  \
  X("calibration_add_f32", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_calibration_add_f32(F.cal, N, NULL, LD, Y)) \
  X("calibration_add_f32", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                       \
    logitnorm_calibration_add_f32(F.cal, N, LG, C - 1, Y))                                                      \
  X("calibration_add_f32", "negative size", LOGITNORM_ERR_INVALID_ARGUMENT,                                     \
    logitnorm_calibration_add_f32(F.cal, -1, LG, LD, Y))                                                        \
  X("calibration_add_f32", "bad labels", LOGITNORM_ERR_INVALID_LABEL,                                           \
    logitnorm_calibration_add_f32(F.cal, N, LG, LD, (const int32_t[]){0, 4, 1}))                                \
  X("calibration_add_f32", "non-finite", LOGITNORM_ERR_NONFINITE, with_cal_logit(NAN))                         \
  X("calibration_value", "wrong state", LOGITNORM_ERR_INVALID_STATE,                                            \
    logitnorm_calibration_value(F.cal, LOGITNORM_CALIBRATION_ECE, &F.value))                                    \
  X("scorer_create", "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_scorer_create(NULL, LOGITNORM_SCORE_MSP, C, 0)) \
  X("scorer_create", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                              \
    logitnorm_scorer_create(&F.new_scorer, (logitnorm_score_kind)7, C, 0))                                      \
  X("scorer_create", "negative size", LOGITNORM_ERR_INVALID_ARGUMENT,                                           \
    logitnorm_scorer_create(&F.new_scorer, LOGITNORM_SCORE_MAHALANOBIS, C, -1))                                 \
  X("scorer_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT, logitnorm_scorer_set(F.scorer, LOGITNORM_SCORER_THREADS, 0)) \
  X("scorer_score_f32", "wrong state", LOGITNORM_ERR_INVALID_STATE,                                             \
    logitnorm_scorer_score_f32(F.scorer, N, NULL, 0, LG, LD, F.scores))                                         \
  X("scorer_score_grad_f32", "wrong state", LOGITNORM_ERR_UNSUPPORTED,                                          \
    logitnorm_scorer_score_grad_f32(F.scorer, N, LG, LD, F.scores, G, LD))                                      \
  X("scorer_fit_f32", "bad labels", LOGITNORM_ERR_INVALID_LABEL,                                                \
    logitnorm_scorer_fit_f32(F.scorer, N, LG, LD, NULL, 0, (const int32_t[]){0, 2, 1}))                         \
  X("scorer_fit_f32", "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                            \
    logitnorm_scorer_fit_f32(F.scorer, N, LG, C - 1, NULL, 0, Y))                                               \
  X("scorer_fit_f32", "non-finite", LOGITNORM_ERR_NONFINITE, with_fit_feature(INFINITY))                       \
  X("ood_metrics_f32", "NULL", LOGITNORM_ERR_NULL_POINTER,                                                      \
    logitnorm_ood_metrics_f32(NULL, 2, F.row_scale, 2, &F.value, NULL, NULL, NULL))                              \
  X("ood_metrics_f32", "wrong state", LOGITNORM_ERR_INVALID_STATE,                                              \
    logitnorm_ood_metrics_f32(F.row_scale, 2, F.row_scale, 0, &F.value, NULL, NULL, NULL))

/* ---- 1.2: half precision, the same classes for bf16 (TY) and f16, with their bit patterns of
   NaN (NANH), +inf (PINFH) and -inf (NINFH) ---- */
static void mask_row_half(uint16_t *z, uint16_t *z_before, int row, uint16_t ninf) {
  for (int c = 0; c < C; ++c) z[row * LD + c] = z_before[row * LD + c] = ninf;
}

#define HALF_CASES_T(X, TY, LGH, TGH, NANH, PINFH, NINFH)                                                          \
  X("loss_forward_" #TY, "NULL", LOGITNORM_ERR_NULL_POINTER,                                                     \
    logitnorm_loss_forward_##TY(NULL, N, F.LGH, LD, Y, &F.loss_out, RL))                                         \
  X("loss_forward_" #TY, "NULL", LOGITNORM_ERR_NULL_POINTER,                                                     \
    logitnorm_loss_forward_##TY(L, N, NULL, LD, Y, &F.loss_out, RL))                                             \
  X("loss_forward_" #TY, "negative size", LOGITNORM_ERR_INVALID_ARGUMENT,                                        \
    logitnorm_loss_forward_##TY(L, -1, F.LGH, LD, Y, &F.loss_out, RL))                                           \
  X("loss_forward_" #TY, "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                          \
    logitnorm_loss_forward_##TY(L, N, F.LGH, C - 1, Y, &F.loss_out, RL))                                         \
  X("loss_forward_" #TY, "bad label", LOGITNORM_ERR_INVALID_LABEL,                                               \
    (PUT(labels[1], C), logitnorm_loss_forward_##TY(L, N, F.LGH, LD, Y, &F.loss_out, RL)))                       \
  X("loss_forward_" #TY, "non-finite", LOGITNORM_ERR_NONFINITE,                                                  \
    (PUT(LGH[1 * LD + 2], NANH), logitnorm_loss_forward_##TY(L, N, F.LGH, LD, Y, &F.loss_out, RL)))              \
  X("loss_forward_" #TY, "non-finite", LOGITNORM_ERR_NONFINITE,                                                  \
    (PUT(LGH[2 * LD + 0], PINFH), logitnorm_loss_forward_##TY(L, N, F.LGH, LD, Y, &F.loss_out, RL)))             \
  X("loss_forward_" #TY, "masked", LOGITNORM_ERR_INVALID_LABEL,                                                  \
    (PUT(LGH[1 * LD + 3], NINFH), logitnorm_loss_forward_##TY(L, N, F.LGH, LD, Y, &F.loss_out, RL)))             \
  X("loss_forward_" #TY, "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                          \
    logitnorm_loss_forward_##TY(L, N, F.LGH, LD, Y, &F.loss_out, (float *)(void *)F.LGH))                        \
  X("loss_backward_" #TY, "NULL", LOGITNORM_ERR_NULL_POINTER,                                                    \
    logitnorm_loss_backward_##TY(L, N, F.LGH, LD, Y, NULL, 1, 0, NULL, LD))                                      \
  X("loss_backward_" #TY, "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                         \
    logitnorm_loss_backward_##TY(L, N, F.LGH, LD, Y, NULL, 1, 0, F.gradh, C - 1))                                \
  X("loss_backward_" #TY, "non-finite", LOGITNORM_ERR_NONFINITE,                                                 \
    (PUT(row_scale[1], NAN), logitnorm_loss_backward_##TY(L, N, F.LGH, LD, Y, RS, 1, 0, F.gradh, LD)))           \
  X("loss_backward_" #TY, "out of range", LOGITNORM_ERR_INVALID_ARGUMENT,                                        \
    logitnorm_loss_backward_##TY(L, N, F.LGH, LD, Y, NULL, INFINITY, 0, F.gradh, LD))                            \
  X("loss_backward_" #TY, "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                         \
    logitnorm_loss_backward_##TY(L, N - 1, F.LGH, LD, Y, NULL, 1, 0, F.LGH + 1, LD))                             \
  X("loss_forward_backward_" #TY, "NULL", LOGITNORM_ERR_NULL_POINTER,                                            \
    logitnorm_loss_forward_backward_##TY(L, N, F.LGH, LD, NULL, &F.loss_out, RL, 1, 0, F.gradh, LD))             \
  X("loss_forward_backward_" #TY, "non-finite", LOGITNORM_ERR_NONFINITE,                                         \
    (PUT(LGH[0 * LD + 1], NANH),                                                                                 \
     logitnorm_loss_forward_backward_##TY(L, N, F.LGH, LD, Y, &F.loss_out, RL, 1, 0, F.gradh, LD)))              \
  X("loss_forward_soft_" #TY, "NULL", LOGITNORM_ERR_NULL_POINTER,                                                \
    logitnorm_loss_forward_soft_##TY(L, N, F.LGH, LD, NULL, LD, &F.loss_out, RL))                                \
  X("loss_forward_soft_" #TY, "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                     \
    logitnorm_loss_forward_soft_##TY(L, N, F.LGH, LD, F.TGH, C - 1, &F.loss_out, RL))                            \
  X("loss_forward_soft_" #TY, "non-finite", LOGITNORM_ERR_NONFINITE,                                             \
    (PUT(TGH[2 * LD + 1], PINFH), logitnorm_loss_forward_soft_##TY(L, N, F.LGH, LD, F.TGH, LD, &F.loss_out, RL))) \
  X("loss_backward_soft_" #TY, "NULL", LOGITNORM_ERR_NULL_POINTER,                                               \
    logitnorm_loss_backward_soft_##TY(L, N, F.LGH, LD, F.TGH, LD, NULL, 1, 0, NULL, LD))                         \
  X("loss_backward_soft_" #TY, "masked", LOGITNORM_ERR_INVALID_ARGUMENT,                                         \
    (PUT(LGH[0 * LD + 2], NINFH), logitnorm_loss_backward_soft_##TY(L, N, F.LGH, LD, F.TGH, LD, NULL, 1, 0,      \
                                                                     F.gradh, LD)))                              \
  X("loss_forward_backward_soft_" #TY, "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                            \
    logitnorm_loss_forward_backward_soft_##TY(L, N - 1, F.LGH, LD, F.TGH, LD, &F.loss_out, RL, 1, 0,             \
                                              F.TGH + LD, LD))                                                   \
  X("loss_forward_backward_soft_" #TY, "non-finite", LOGITNORM_ERR_NONFINITE,                                    \
    (PUT(TGH[0 * LD + 0], NANH), logitnorm_loss_forward_backward_soft_##TY(L, N, F.LGH, LD, F.TGH, LD,           \
                                                                           &F.loss_out, RL, 1, 0, F.gradh, LD))) \
  X("loss_forward_stats_" #TY, "NULL", LOGITNORM_ERR_NULL_POINTER,                                               \
    logitnorm_loss_forward_stats_##TY(L, N, F.LGH, LD, Y, &F.loss_out, RL, NULL))                                \
  X("loss_forward_stats_" #TY, "non-finite", LOGITNORM_ERR_NONFINITE,                                            \
    (PUT(LGH[2 * LD + 3], NANH), logitnorm_loss_forward_stats_##TY(L, N, F.LGH, LD, Y, &F.loss_out, RL,          \
                                                                   F.stats_out)))                                \
  X("loss_backward_stats_" #TY, "NULL", LOGITNORM_ERR_NULL_POINTER,                                              \
    logitnorm_loss_backward_stats_##TY(L, N, F.LGH, LD, Y, NULL, NULL, 1, 0, F.gradh, LD))                       \
  X("loss_backward_stats_" #TY, "impossible row_stats", LOGITNORM_ERR_INVALID_ARGUMENT,                          \
    (PUT(stats[1 * RSN + 0], 1e300), logitnorm_loss_backward_stats_##TY(L, N, F.LGH, LD, Y, F.stats, NULL, 1, 0, \
                                                                         F.gradh, LD)))                          \
  X("loss_backward_stats_" #TY, "non-finite", LOGITNORM_ERR_NONFINITE,                                           \
    (PUT(stats[2 * RSN + 1], NAN), logitnorm_loss_backward_stats_##TY(L, N, F.LGH, LD, Y, F.stats, NULL, 1, 0,   \
                                                                        F.gradh, LD)))                           \
  X("loss_forward_stats_soft_" #TY, "NULL", LOGITNORM_ERR_NULL_POINTER,                                          \
    logitnorm_loss_forward_stats_soft_##TY(L, N, F.LGH, LD, F.TGH, LD, &F.loss_out, RL, NULL))                   \
  X("loss_backward_stats_soft_" #TY, "NULL", LOGITNORM_ERR_NULL_POINTER,                                         \
    logitnorm_loss_backward_stats_soft_##TY(L, N, F.LGH, LD, F.TGH, LD, F.stats_soft, NULL, 1, 0, NULL, LD))     \
  X("loss_backward_stats_soft_" #TY, "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                              \
    logitnorm_loss_backward_stats_soft_##TY(L, N, F.LGH, LD, F.TGH, LD, F.stats_soft, NULL, 1, 0, F.gradh,       \
                                            C - 1))                                                              \
  X("loss_probs_" #TY, "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_loss_probs_##TY(L, N, F.LGH, LD, NULL, LD)) \
  X("loss_probs_" #TY, "masked", LOGITNORM_ERR_INVALID_ARGUMENT,                                                 \
    (mask_row_half(F.LGH, F_before.LGH, 1, NINFH), logitnorm_loss_probs_##TY(L, N, F.LGH, LD, F.gradh, LD)))     \
  X("loss_probs_" #TY, "non-finite", LOGITNORM_ERR_NONFINITE,                                                    \
    (PUT(LGH[0 * LD + 0], PINFH), logitnorm_loss_probs_##TY(L, N, F.LGH, LD, F.gradh, LD)))                      \
  X("loss_probs_" #TY, "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                            \
    logitnorm_loss_probs_##TY(L, N - 1, F.LGH, LD, F.LGH + LD, LD))

#define HALF_CASES(X)                                                                                            \
  HALF_CASES_T(X, bf16, logits_bf16, targets_bf16, 0x7fc0u, 0x7f80u, 0xff80u)                                    \
  HALF_CASES_T(X, f16, logits_f16, targets_f16, 0x7e00u, 0x7c00u, 0xfc00u)

/* The half scorer and calibration calls: scoring a logit kind (MSP, on a handle of its own) or
   the fixture's unprepared Mahalanobis scorer, and adding to the fixture's calibration. */
static logitnorm_status msp_score_half(int f16, int64_t n, const uint16_t *z, int64_t ld, float *scores) {
  logitnorm_scorer *s = NULL;
  ck_assert_int_eq(logitnorm_scorer_create(&s, LOGITNORM_SCORE_MSP, C, 0), LOGITNORM_OK);
  logitnorm_status st = f16 ? logitnorm_scorer_score_f16(s, n, z, ld, NULL, 0, scores)
                            : logitnorm_scorer_score_bf16(s, n, z, ld, NULL, 0, scores);
  logitnorm_scorer_free(s);
  return st;
}

#define HALF_SCORE_CAL_CASES_T(X, TY, F16, LGH, NANH, PINFH, NINFH)                                              \
  X("scorer_score_" #TY, "NULL", LOGITNORM_ERR_NULL_POINTER,                                                     \
    logitnorm_scorer_score_##TY(F.scorer, N, NULL, 0, F.LGH, LD, NULL))                                          \
  X("scorer_score_" #TY, "wrong state", LOGITNORM_ERR_INVALID_STATE,                                             \
    logitnorm_scorer_score_##TY(F.scorer, N, NULL, 0, F.LGH, LD, F.scores))                                      \
  X("scorer_score_" #TY, "negative size", LOGITNORM_ERR_INVALID_ARGUMENT, msp_score_half(F16, -1, F.LGH, LD, F.scores)) \
  X("scorer_score_" #TY, "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT, msp_score_half(F16, N, F.LGH, C - 1, F.scores)) \
  X("scorer_score_" #TY, "non-finite", LOGITNORM_ERR_NONFINITE,                                                  \
    (PUT(LGH[1 * LD + 2], NANH), msp_score_half(F16, N, F.LGH, LD, F.scores)))                                   \
  X("scorer_score_" #TY, "non-finite", LOGITNORM_ERR_NONFINITE,                                                  \
    (PUT(LGH[2 * LD + 0], PINFH), msp_score_half(F16, N, F.LGH, LD, F.scores)))                                  \
  X("scorer_score_" #TY, "masked", LOGITNORM_ERR_INVALID_ARGUMENT,                                               \
    (mask_row_half(F.LGH, F_before.LGH, 1, NINFH), msp_score_half(F16, N, F.LGH, LD, F.scores)))                 \
  X("scorer_score_" #TY, "overlapping", LOGITNORM_ERR_INVALID_ARGUMENT,                                          \
    msp_score_half(F16, N, F.LGH, LD, (float *)(void *)F.LGH))                                                   \
  X("calibration_add_" #TY, "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_calibration_add_##TY(NULL, N, F.LGH, LD, Y)) \
  X("calibration_add_" #TY, "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_calibration_add_##TY(F.cal, N, F.LGH, LD, NULL)) \
  X("calibration_add_" #TY, "NULL", LOGITNORM_ERR_NULL_POINTER, logitnorm_calibration_add_##TY(F.cal, N, NULL, LD, Y)) \
  X("calibration_add_" #TY, "negative size", LOGITNORM_ERR_INVALID_ARGUMENT,                                     \
    logitnorm_calibration_add_##TY(F.cal, -1, F.LGH, LD, Y))                                                     \
  X("calibration_add_" #TY, "bad strides", LOGITNORM_ERR_INVALID_ARGUMENT,                                       \
    logitnorm_calibration_add_##TY(F.cal, N, F.LGH, C - 1, Y))                                                   \
  X("calibration_add_" #TY, "bad label", LOGITNORM_ERR_INVALID_LABEL,                                            \
    (PUT(labels[1], C), logitnorm_calibration_add_##TY(F.cal, N, F.LGH, LD, Y)))                                 \
  X("calibration_add_" #TY, "non-finite", LOGITNORM_ERR_NONFINITE,                                               \
    (PUT(LGH[2 * LD + 1], NANH), logitnorm_calibration_add_##TY(F.cal, N, F.LGH, LD, Y)))                        \
  X("calibration_add_" #TY, "non-finite", LOGITNORM_ERR_NONFINITE,                                               \
    (PUT(LGH[0 * LD + 3], PINFH), logitnorm_calibration_add_##TY(F.cal, N, F.LGH, LD, Y)))                       \
  X("calibration_add_" #TY, "masked", LOGITNORM_ERR_INVALID_LABEL,                                               \
    (PUT(LGH[1 * LD + 3], NINFH), logitnorm_calibration_add_##TY(F.cal, N, F.LGH, LD, Y)))                       \
  X("calibration_add_" #TY, "masked", LOGITNORM_ERR_INVALID_ARGUMENT,                                            \
    (mask_row_half(F.LGH, F_before.LGH, 2, NINFH), logitnorm_calibration_add_##TY(F.cal, N, F.LGH, LD, Y)))

#define HALF_SCORE_CAL_CASES(X)                                                                                  \
  HALF_SCORE_CAL_CASES_T(X, bf16, 0, logits_bf16, 0x7fc0u, 0x7f80u, 0xff80u)                                     \
  HALF_SCORE_CAL_CASES_T(X, f16, 1, logits_f16, 0x7e00u, 0x7c00u, 0xfc00u)

/* ---- the scorers of 1.2 (NNGUIDE, FDBD, SCALE, DML): each case on a handle of its own ---- */

static const float kHead[3 * 2] = {1, 0, 0, 1, 3, 1}; /* pairwise distinct rows */
static const float kFit[4 * 2] = {1, 0, -1, 0, 2, 1, -2, -1}; /* mean (0, 0) */
static const float kRows[2 * 2] = {2, 1, 0, 0};               /* row 1 is the fit mean */

static logitnorm_scorer *new_scorer(int kind) {
  logitnorm_scorer *s = NULL;
  ck_assert_int_eq(logitnorm_scorer_create(&s, kind, 3, 2), LOGITNORM_OK);
  return s;
}
/* FDBD: two equal weight rows have no decision boundary between them. */
static logitnorm_status fdbd_equal_rows(void) {
  const float same[3 * 2] = {1, 0, 0, 1, 1, 0};
  logitnorm_scorer *s = new_scorer(LOGITNORM_SCORE_FDBD);
  logitnorm_status st = logitnorm_scorer_set_head_f32(s, same, 2, NULL);
  logitnorm_scorer_free(s);
  return st;
}
/* NNGUIDE: prepare needs the head (the bank rows are scaled by their energy). */
static logitnorm_status nnguide_prepare_without_head(void) {
  logitnorm_scorer *s = new_scorer(LOGITNORM_SCORE_NNGUIDE);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_K, 2), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, 4, kFit, 2, NULL, 0, NULL), LOGITNORM_OK);
  logitnorm_status st = logitnorm_scorer_prepare(s);
  logitnorm_scorer_free(s);
  return st;
}
/* NNGUIDE: K (default 100) above the 4 fitted rows. */
static logitnorm_status nnguide_k_above_bank(void) {
  logitnorm_scorer *s = new_scorer(LOGITNORM_SCORE_NNGUIDE);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, kHead, 2, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, 4, kFit, 2, NULL, 0, NULL), LOGITNORM_OK);
  logitnorm_status st = logitnorm_scorer_prepare(s);
  logitnorm_scorer_free(s);
  return st;
}
/* SCALE and DML scored without a head. */
static logitnorm_status score_without_head(int kind) {
  logitnorm_scorer *s = new_scorer(kind);
  logitnorm_status st = logitnorm_scorer_score_f32(s, 2, NULL, 0, kRows, 2, F.scores);
  logitnorm_scorer_free(s);
  return st;
}
/* FDBD: a row at the fit mean has an infinite score. */
static logitnorm_status fdbd_row_at_mean(void) {
  logitnorm_scorer *s = new_scorer(LOGITNORM_SCORE_FDBD);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, kHead, 2, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, 4, kFit, 2, NULL, 0, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  logitnorm_status st = logitnorm_scorer_score_f32(s, 2, NULL, 0, kRows, 2, F.scores);
  logitnorm_scorer_free(s);
  return st;
}
/* DML works on features: no gradient in the logits. */
static logitnorm_status dml_score_grad(void) {
  logitnorm_scorer *s = new_scorer(LOGITNORM_SCORE_DML);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, kHead, 2, NULL), LOGITNORM_OK);
  logitnorm_status st = logitnorm_scorer_score_grad_f32(s, N, LG, LD, F.scores, G, LD);
  logitnorm_scorer_free(s);
  return st;
}
/* SCALE does not fit. */
static logitnorm_status scale_fit(void) {
  logitnorm_scorer *s = new_scorer(LOGITNORM_SCORE_SCALE);
  logitnorm_status st = logitnorm_scorer_fit_f32(s, 4, kFit, 2, NULL, 0, NULL);
  logitnorm_scorer_free(s);
  return st;
}

#define SCORER_V12_CASES(X)                                                                                      \
  X("scorer_create", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                               \
    logitnorm_scorer_create(&F.new_scorer, LOGITNORM_SCORE_FDBD, 1, 2))                                          \
  X("scorer_create", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                               \
    logitnorm_scorer_create(&F.new_scorer, LOGITNORM_SCORE_NNGUIDE, 2, 0))                                       \
  X("scorer_set", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT,                                                  \
    logitnorm_scorer_set(F.scorer, LOGITNORM_SCORER_LAMBDA, -1.0))                                               \
  X("scorer_set", "non-finite", LOGITNORM_ERR_INVALID_ARGUMENT,                                                  \
    logitnorm_scorer_set(F.scorer, LOGITNORM_SCORER_LAMBDA, NAN))                                                \
  X("scorer_set_head_f32", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT, fdbd_equal_rows())                      \
  X("scorer_prepare", "wrong state", LOGITNORM_ERR_INVALID_STATE, nnguide_prepare_without_head())                \
  X("scorer_prepare", "bad params", LOGITNORM_ERR_INVALID_ARGUMENT, nnguide_k_above_bank())                      \
  X("scorer_score_f32", "wrong state", LOGITNORM_ERR_INVALID_STATE, score_without_head(LOGITNORM_SCORE_SCALE))   \
  X("scorer_score_f32", "wrong state", LOGITNORM_ERR_INVALID_STATE, score_without_head(LOGITNORM_SCORE_DML))     \
  X("scorer_score_f32", "non-finite", LOGITNORM_ERR_NONFINITE, fdbd_row_at_mean())                               \
  X("scorer_score_grad_f32", "unsupported", LOGITNORM_ERR_UNSUPPORTED, dml_score_grad())                         \
  X("scorer_fit_f32", "unsupported", LOGITNORM_ERR_UNSUPPORTED, scale_fit())

typedef struct bad_case {
  const char *function;
  const char *cls;
  logitnorm_status expect;
} bad_case;

#define LN_ROW(fn, cls, st, call) {fn, cls, st},
static const bad_case CASES[] = {LOSS_CASES(LN_ROW) V11_CASES(LN_ROW) HALF_CASES(LN_ROW) OTHER_CASES(LN_ROW)
                                     V12_CALIBRATION_CASES(LN_ROW) SCORER_V12_CASES(LN_ROW)
                                         HALF_SCORE_CAL_CASES(LN_ROW)};
#undef LN_ROW
enum { N_CASES = (int)(sizeof CASES / sizeof CASES[0]) };

static logitnorm_status run_case(int i) {
  int k = 0;
#define LN_CALL(fn, cls, st, call) \
  if (k++ == i) return call;
  LOSS_CASES(LN_CALL)
  V11_CASES(LN_CALL)
  HALF_CASES(LN_CALL)
  OTHER_CASES(LN_CALL)
  V12_CALIBRATION_CASES(LN_CALL)
  SCORER_V12_CASES(LN_CALL)
  HALF_SCORE_CAL_CASES(LN_CALL)
#undef LN_CALL
  ck_abort_msg("no case %d", i);
  return LOGITNORM_OK;
}

/* A marker error text, distinct from every message a case can produce. */
static void plant_marker(void) {
  ck_assert_int_eq(logitnorm_loss_set(F.loss, (logitnorm_loss_param)31337, 0.0), LOGITNORM_ERR_INVALID_ARGUMENT);
}

START_TEST(test_bad_input_case) {
  const bad_case *bc = &CASES[_i];
  loss_print before, after;
  static state_print state_before, state_after;
  loss_fingerprint(F.loss, &before);
  state_fingerprint(&state_before);
  fill_outputs(&F); /* the fingerprint wrote nothing of F, but be explicit */
  F_before = F;
  plant_marker();
  char marker[256];
  strncpy(marker, logitnorm_last_error(), sizeof marker - 1);
  marker[sizeof marker - 1] = '\0';

  logitnorm_status st = run_case(_i);

  const char *err = logitnorm_last_error();
  ck_assert_msg(st == bc->expect, "%s / %s (case %d): status %d (%s), expected %d; last error \"%s\"", bc->function,
                bc->cls, _i, (int)st, logitnorm_status_string(st), (int)bc->expect, err);
  ck_assert_msg(err != NULL && err[0] != '\0', "%s / %s (case %d): empty last error", bc->function, bc->cls, _i);
  ck_assert_msg(strcmp(err, marker) != 0, "%s / %s (case %d): the call did not set its own error text",
                bc->function, bc->cls, _i);
  ck_assert_msg(outputs_intact(&F), "%s / %s (case %d): an output was written", bc->function, bc->cls, _i);
  ck_assert_msg(inputs_intact(&F, &F_before), "%s / %s (case %d): an input was written", bc->function, bc->cls, _i);
  loss_fingerprint(F.loss, &after);
  ck_assert_msg(memcmp(&before, &after, sizeof before) == 0, "%s / %s (case %d): the loss handle changed",
                bc->function, bc->cls, _i);
  state_fingerprint(&state_after);
  ck_assert_msg(memcmp(&state_before, &state_after, sizeof state_before) == 0,
                "%s / %s (case %d): a metrics, calibration or scorer handle changed", bc->function, bc->cls, _i);
}
END_TEST

/* The fixture itself is valid: the same calls with the broken argument restored succeed,
   so every case above fails because of the one argument it breaks. */
START_TEST(test_fixture_is_valid) {
  /* 1.2 calibration (first: a case below writes gradients over the logits in place): the fit
     has a finite minimiser on the fixture, and its 3 rows make 3 equal-mass bins */
  ck_assert_int_eq(logitnorm_calibration_fit_temperature_f32(N, C, LG, LD, Y, &F.value), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_fit_temperature_f64(N, C, LG64, LD, Y, &F.value), LOGITNORM_OK);
  ck_assert_int_eq(bins_with_capacity(3, 0), LOGITNORM_OK);
  ck_assert_int_eq(F.count, 3);
  logitnorm_calibration *mass = filled_cal(LOGITNORM_BINNING_EQUAL_MASS);
  ck_assert_int_eq(logitnorm_calibration_value(mass, LOGITNORM_CALIBRATION_ECE, &F.value), LOGITNORM_OK);
  logitnorm_calibration_free(mass);
  /* 1.2 half scorer and calibration calls */
  ck_assert_int_eq(msp_score_half(0, N, F.logits_bf16, LD, F.scores), LOGITNORM_OK);
  ck_assert_int_eq(msp_score_half(1, N, F.logits_f16, LD, F.scores), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_add_bf16(F.cal, N, F.logits_bf16, LD, Y), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_add_f16(F.cal, N, F.logits_f16, LD, Y), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_forward_f32(L, N, LG, LD, Y, &F.loss_out, RL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_forward_backward_f32(L, N, LG, LD, Y, &F.loss_out, RL, 1.0f, 0.0f, G, LD),
                   LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_backward_f32(L, N, LG, LD, Y, RS, 1.0f, 0.0f, G, LD), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_forward_soft_f32(L, N, LG, LD, T, LD, &F.loss_out, RL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_backward_f64(L, N, LG64, LD, Y, NULL, 1.0, 0.0, G64, LD), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_backward_soft_f64(L, N, LG64, LD, T64, LD, NULL, 1.0, 0.0, G64, LD), LOGITNORM_OK);
  /* in place is the one allowed overlap */
  ck_assert_int_eq(logitnorm_loss_forward_backward_f32(L, N, LG, LD, Y, &F.loss_out, RL, 1.0f, 0.0f, LG, LD),
                   LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set_class_weights(L, F.weights), LOGITNORM_OK);
  /* 1.1 */
  ck_assert_int_eq(logitnorm_loss_forward_stats_f32(L, N, LG, LD, Y, &F.loss_out, RL, F.stats_out), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_backward_stats_f32(L, N, LG, LD, Y, F.stats, NULL, 1.0f, 0.0f, G, LD), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_backward_stats_f64(L, N, LG64, LD, Y, F.stats64, NULL, 1.0, 0.0, G64, LD),
                   LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_backward_stats_soft_f32(L, N, LG, LD, T, LD, F.stats_soft, NULL, 1.0f, 0.0f, G, LD),
                   LOGITNORM_OK);
  ck_assert_int_eq(
      logitnorm_loss_backward_stats_soft_f64(L, N, LG64, LD, T64, LD, F.stats_soft64, NULL, 1.0, 0.0, G64, LD),
      LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_probs_f32(L, N, LG, LD, G, LD), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_probs_f64(L, N, LG64, LD, G64, LD), LOGITNORM_OK);
  ck_assert_int_eq(HEAD32(L, HD, F.hx, HLD, F.hw, Y, F.hdx), LOGITNORM_OK);
  ck_assert_int_eq(HEAD64(L, HD, F.hx64, HLD, F.hw64, Y, F.hdx64), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_WORKSPACE_BYTES, 4096.0), LOGITNORM_OK);
  /* a -inf on a class with no label and no target mass is a valid mask */
  F.logits[0 * LD + 2] = -INFINITY;
  ck_assert_int_eq(logitnorm_loss_forward_f32(L, N, LG, LD, Y, &F.loss_out, RL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_probs_f32(L, N, LG, LD, G, LD), LOGITNORM_OK);
  double lb = 0.0;
  ck_assert_int_eq(logitnorm_loss_lower_bound(L, &lb), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_temperature_for_bound(L, 0.5 * (lb + log((double)C)), &F.value), LOGITNORM_OK);
}
END_TEST

START_TEST(test_free_accepts_null) {
  logitnorm_loss_free(NULL);
}
END_TEST

TCase *bad_input_matrix_tcase(void) {
  TCase *tc = tcase_create("matrix");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, test_bad_input_case, 0, N_CASES);
  tcase_add_test(tc, test_fixture_is_valid);
  tcase_add_test(tc, test_free_accepts_null);
  return tc;
}
