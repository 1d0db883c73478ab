/* Bad input to the loss API. Each test breaks exactly one argument of an otherwise valid
   call and checks, for every entry point the argument applies to (f32 and f64, hard and
   soft, forward / backward / forward_backward):
     - the exact status;
     - a non-empty logitnorm_last_error() written by this call (a known message is planted
       just before, and must have been replaced);
     - that nothing was written: all buffers live in one fixture struct whose outputs hold a
       sentinel pattern, and the whole struct must be byte-identical after the call. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "test_util.h"
#include "parts.h"

enum { N = 8, C = 10, LD = 12, SPAN = N * LD + 16 };

typedef struct fixture {
  /* inputs */
  float z32[SPAN], t32[SPAN], rs32[SPAN];
  double z64[SPAN], t64[SPAN], rs64[SPAN];
  int32_t labels[SPAN];
  /* outputs (sentinel) */
  float grad32[SPAN], row32[SPAN];
  double grad64[SPAN], row64[SPAN];
  double loss_out[2];
} fixture;

static fixture F, F_before;
static logitnorm_loss *L;

static void setup(void) {
  tu_rng r;
  tu_seed(&r, 42);
  memset(&F, 0, sizeof F);
  for (int k = 0; k < SPAN; ++k) {
    F.z64[k] = tu_normal(&r);
    F.z32[k] = (float)F.z64[k];
    F.t64[k] = tu_uniform(&r);
    F.t32[k] = (float)F.t64[k];
    F.rs64[k] = tu_normal(&r);
    F.rs32[k] = (float)F.rs64[k];
    F.labels[k] = (int32_t)tu_int(&r, 0, C - 1);
  }
  tu_sentinel_fill(F.grad32, sizeof F.grad32);
  tu_sentinel_fill(F.row32, sizeof F.row32);
  tu_sentinel_fill(F.grad64, sizeof F.grad64);
  tu_sentinel_fill(F.row64, sizeof F.row64);
  tu_sentinel_fill(F.loss_out, sizeof F.loss_out);
  ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_LOGITNORM, C), LOGITNORM_OK);
}

static void teardown(void) {
  logitnorm_loss_free(L);
  L = NULL;
}

/* One call of any of the twelve entry points. */
enum { FWD = 0, BWD = 1, FWDBWD = 2 };

typedef struct call {
  int f64, soft, op;
  const logitnorm_loss *loss;
  int64_t n;
  const void *z;
  int64_t ld;
  const int32_t *labels;
  const void *t;
  int64_t ldt;
  const void *rs;
  double alpha, beta;
  double *loss_out;
  void *row_loss;
  void *grad;
  int64_t ldg;
} call;

/* A valid call on the fixture (all 12 variants are indexed 0..11 by v). */
static call valid_call(int v) {
  call c;
  memset(&c, 0, sizeof c);
  c.f64 = v & 1;
  c.soft = (v >> 1) & 1;
  c.op = v >> 2;
  c.loss = L;
  c.n = N;
  c.z = c.f64 ? (const void *)F.z64 : (const void *)F.z32;
  c.ld = LD;
  c.labels = F.labels;
  c.t = c.f64 ? (const void *)F.t64 : (const void *)F.t32;
  c.ldt = LD;
  c.rs = NULL;
  c.alpha = 1.0;
  c.beta = 0.5;
  c.loss_out = &F.loss_out[0];
  c.row_loss = c.f64 ? (void *)F.row64 : (void *)F.row32;
  c.grad = c.f64 ? (void *)F.grad64 : (void *)F.grad32;
  c.ldg = LD;
  return c;
}

static logitnorm_status run(const call *c) {
  float a = (float)c->alpha, b = (float)c->beta;
  if (c->f64) {
    if (c->soft) {
      if (c->op == FWD) return logitnorm_loss_forward_soft_f64(c->loss, c->n, c->z, c->ld, c->t, c->ldt, c->loss_out, c->row_loss);
      if (c->op == BWD)
        return logitnorm_loss_backward_soft_f64(c->loss, c->n, c->z, c->ld, c->t, c->ldt, c->rs, c->alpha, c->beta, c->grad, c->ldg);
      return logitnorm_loss_forward_backward_soft_f64(c->loss, c->n, c->z, c->ld, c->t, c->ldt, c->loss_out, c->row_loss,
                                                      c->alpha, c->beta, c->grad, c->ldg);
    }
    if (c->op == FWD) return logitnorm_loss_forward_f64(c->loss, c->n, c->z, c->ld, c->labels, c->loss_out, c->row_loss);
    if (c->op == BWD)
      return logitnorm_loss_backward_f64(c->loss, c->n, c->z, c->ld, c->labels, c->rs, c->alpha, c->beta, c->grad, c->ldg);
    return logitnorm_loss_forward_backward_f64(c->loss, c->n, c->z, c->ld, c->labels, c->loss_out, c->row_loss, c->alpha,
                                               c->beta, c->grad, c->ldg);
  }
  if (c->soft) {
    if (c->op == FWD) return logitnorm_loss_forward_soft_f32(c->loss, c->n, c->z, c->ld, c->t, c->ldt, c->loss_out, c->row_loss);
    if (c->op == BWD) return logitnorm_loss_backward_soft_f32(c->loss, c->n, c->z, c->ld, c->t, c->ldt, c->rs, a, b, c->grad, c->ldg);
    return logitnorm_loss_forward_backward_soft_f32(c->loss, c->n, c->z, c->ld, c->t, c->ldt, c->loss_out, c->row_loss, a, b,
                                                    c->grad, c->ldg);
  }
  if (c->op == FWD) return logitnorm_loss_forward_f32(c->loss, c->n, c->z, c->ld, c->labels, c->loss_out, c->row_loss);
  if (c->op == BWD) return logitnorm_loss_backward_f32(c->loss, c->n, c->z, c->ld, c->labels, c->rs, a, b, c->grad, c->ldg);
  return logitnorm_loss_forward_backward_f32(c->loss, c->n, c->z, c->ld, c->labels, c->loss_out, c->row_loss, a, b, c->grad,
                                             c->ldg);
}

static const char *NAMES[3] = {"forward", "backward", "forward_backward"};

/* Leaves a known message as this thread's last error. */
static const char *plant_marker(void) {
  double v;
  ck_assert_int_eq(logitnorm_loss_get(L, (logitnorm_loss_param)12345, &v), LOGITNORM_ERR_INVALID_ARGUMENT);
  return logitnorm_last_error();
}

/* The call must fail with `want`, set a fresh message, and leave the fixture untouched. */
static void expect_fail(const call *c, logitnorm_status want) {
  char marker[256];
  strncpy(marker, plant_marker(), sizeof marker - 1);
  marker[sizeof marker - 1] = '\0';
  memcpy(&F_before, &F, sizeof F);
  logitnorm_status st = run(c);
  const char *msg = logitnorm_last_error();
  ck_assert_msg(st == want, "%s_%s%s: status %d (%s), want %d; message \"%s\"", NAMES[c->op], c->soft ? "soft_" : "",
                c->f64 ? "f64" : "f32", (int)st, logitnorm_status_string(st), (int)want, msg);
  ck_assert_msg(msg != NULL && msg[0] != '\0' && strcmp(msg, marker) != 0, "%s: no fresh error text", NAMES[c->op]);
  ck_assert_msg(memcmp(&F, &F_before, sizeof F) == 0, "%s_%s%s wrote to a buffer on failure", NAMES[c->op],
                c->soft ? "soft_" : "", c->f64 ? "f64" : "f32");
}

static int has_labels(const call *c) { return !c->soft; }
static int has_grad(const call *c) { return c->op != FWD; }

/* ---------------- NULL pointers ---------------- */

START_TEST(null_loss) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    c.loss = NULL;
    expect_fail(&c, LOGITNORM_ERR_NULL_POINTER);
  }
}
END_TEST

START_TEST(null_logits) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    c.z = NULL;
    expect_fail(&c, LOGITNORM_ERR_NULL_POINTER);
  }
}
END_TEST

START_TEST(null_labels_or_targets) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    if (has_labels(&c))
      c.labels = NULL;
    else
      c.t = NULL;
    expect_fail(&c, LOGITNORM_ERR_NULL_POINTER);
  }
}
END_TEST

START_TEST(null_grad) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    if (!has_grad(&c)) continue;
    c.grad = NULL;
    expect_fail(&c, LOGITNORM_ERR_NULL_POINTER);
  }
}
END_TEST

/* n = 0 accepts NULL data (logits, labels, targets, row_scale, row_loss, grad): OK, and
   nothing but loss_out written (loss_extremes checks its value). The handle is still
   required. */
START_TEST(null_data_with_empty_batch) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    c.n = 0;
    c.z = NULL;
    c.labels = NULL;
    c.t = NULL;
    c.row_loss = NULL;
    c.grad = NULL;
    memcpy(&F_before, &F, sizeof F);
    logitnorm_status st = run(&c);
    ck_assert_msg(st == LOGITNORM_OK, "variant %d: status %d: %s", v, (int)st, logitnorm_last_error());
    memcpy(F_before.loss_out, F.loss_out, sizeof F.loss_out);
    ck_assert_msg(memcmp(&F, &F_before, sizeof F) == 0, "variant %d wrote to a buffer", v);
    c.loss = NULL;
    expect_fail(&c, LOGITNORM_ERR_NULL_POINTER);
  }
}
END_TEST

/* ---------------- sizes and strides ---------------- */

START_TEST(negative_n) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    c.n = -1;
    expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
    c.n = INT64_MIN;
    expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
  }
}
END_TEST

START_TEST(ld_below_classes) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    c.ld = C - 1;
    expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
    c.ld = 0;
    expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
    c.ld = -LD;
    expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
  }
}
END_TEST

START_TEST(ldt_below_classes) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    if (!c.soft) continue;
    c.ldt = C - 1;
    expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
  }
}
END_TEST

START_TEST(ldg_below_classes) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    if (!has_grad(&c)) continue;
    c.ldg = C - 1;
    expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
  }
}
END_TEST

/* A stride so large that n rows cannot be addressed must be rejected, never dereferenced. */
START_TEST(stride_overflows_memory) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    c.ld = INT64_MAX / 2;
    expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
  }
}
END_TEST

/* ---------------- alpha and beta ---------------- */

START_TEST(nonfinite_alpha_beta) {
  const double bad[3] = {NAN, INFINITY, -INFINITY};
  for (int v = 0; v < 12; ++v)
    for (int b = 0; b < 3; ++b) {
      call c = valid_call(v);
      if (!has_grad(&c)) continue;
      c.alpha = bad[b];
      expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
      c = valid_call(v);
      c.beta = bad[b];
      expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
    }
}
END_TEST

/* ---------------- aliasing ---------------- */

START_TEST(grad_partially_overlaps_logits) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    if (!has_grad(&c)) continue;
    c.grad = c.f64 ? (void *)(F.z64 + 1) : (void *)(F.z32 + 1);
    expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
    /* one row: the last logits element is the first grad element */
    c.n = 1;
    c.grad = c.f64 ? (void *)(F.z64 + C - 1) : (void *)(F.z32 + C - 1);
    expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
  }
}
END_TEST

START_TEST(grad_is_logits_with_other_stride) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    if (!has_grad(&c)) continue;
    c.grad = (void *)c.z;
    c.ldg = C; /* ld is LD != C */
    expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
  }
}
END_TEST

START_TEST(grad_overlaps_other_inputs) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    if (!has_grad(&c)) continue;
    if (c.soft) {
      c.grad = c.f64 ? (void *)(F.t64 + 3) : (void *)(F.t32 + 3); /* grad over the targets */
    } else {
      /* labels inside grad's span; they hold valid labels so that only the overlap is wrong */
      int32_t *lab = (int32_t *)(c.f64 ? (void *)(F.grad64 + 40) : (void *)(F.grad32 + 40));
      for (int i = 0; i < N; ++i) lab[i] = i % C;
      c.labels = lab;
    }
    expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
    if (c.op == BWD) {
      c = valid_call(v);
      c.rs = c.f64 ? (const void *)(F.grad64 + 5) : (const void *)(F.grad32 + 5); /* row_scale inside grad */
      expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
    }
  }
}
END_TEST

START_TEST(row_loss_overlaps_inputs) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    if (c.op == BWD) continue;
    c.row_loss = c.f64 ? (void *)(F.z64 + 2) : (void *)(F.z32 + 2);
    expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
    c = valid_call(v);
    if (c.soft)
      c.row_loss = c.f64 ? (void *)(F.t64 + LD) : (void *)(F.t32 + LD);
    else
      c.row_loss = (void *)(F.labels + 1);
    expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
  }
}
END_TEST

START_TEST(outputs_overlap_each_other) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    if (c.op == BWD) continue;
    /* loss_out on top of a row loss */
    c.loss_out = c.f64 ? F.row64 + 1 : (double *)(void *)(F.row32 + 2);
    expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
    /* loss_out on top of the logits */
    c = valid_call(v);
    c.loss_out = c.f64 ? F.z64 + 4 : (double *)(void *)(F.z32 + 4);
    expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
    if (c.op == FWDBWD) {
      /* row_loss inside grad's span (the padding of its first row counts as its span) */
      c = valid_call(v);
      c.row_loss = c.f64 ? (void *)(F.grad64 + LD * 2) : (void *)(F.grad32 + LD * 2);
      expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
      /* loss_out inside grad */
      c = valid_call(v);
      c.loss_out = c.f64 ? F.grad64 + 6 : (double *)(void *)(F.grad32 + 6);
      expect_fail(&c, LOGITNORM_ERR_INVALID_ARGUMENT);
    }
  }
}
END_TEST

/* ---------------- labels ---------------- */

START_TEST(label_out_of_range_message) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    if (!has_labels(&c)) continue;
    F.labels[7] = 12;
    expect_fail(&c, LOGITNORM_ERR_INVALID_LABEL);
    ck_assert_str_eq(logitnorm_last_error(), "label 12 at row 7 is outside [0, 10)");
    F.labels[7] = 3;
  }
}
END_TEST

START_TEST(label_bad_values) {
  const int32_t bad[4] = {-1, C, INT32_MIN, INT32_MAX};
  for (int v = 0; v < 12; ++v)
    for (int b = 0; b < 4; ++b) {
      call c = valid_call(v);
      if (!has_labels(&c)) continue;
      int32_t keep = F.labels[2];
      F.labels[2] = bad[b];
      expect_fail(&c, LOGITNORM_ERR_INVALID_LABEL);
      F.labels[2] = keep;
    }
}
END_TEST

/* -100 is only ignored while it is the ignore_index. */
START_TEST(label_minus_100_with_other_ignore_index) {
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_IGNORE_INDEX, 3), LOGITNORM_OK);
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    if (!has_labels(&c)) continue;
    F.labels[0] = -100;
    expect_fail(&c, LOGITNORM_ERR_INVALID_LABEL);
    F.labels[0] = 1;
  }
}
END_TEST

/* ---------------- non-finite input ---------------- */

/* NaN and +inf; -inf is a masked class (test_loss_masks.c). */
/* Labels at every position of batches that reach the vectorised label scan (8 at a time) and
   its tail: a bad label (C, -1, INT32_MIN, INT32_MAX) is INVALID_LABEL naming its row, the first
   of two; ignored rows (ignore_index inside [0, C) too) are skipped and leave the MEAN divisor:
   the MEAN loss times the kept count equals the SUM loss. */
START_TEST(label_scan_positions) {
  enum { CC = 10, NMAX = 40 };
  static const int32_t bad[4] = {CC, -1, INT32_MIN, INT32_MAX};
  static float z[NMAX * CC];
  int32_t y[NMAX];
  tu_rng r;
  tu_seed(&r, 9);
  for (int k = 0; k < NMAX * CC; ++k) z[k] = (float)tu_normal(&r);
  logitnorm_loss *H = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&H, LOGITNORM_LOSS_CROSS_ENTROPY, CC), LOGITNORM_OK);
  static const int sizes[4] = {7, 8, 17, NMAX};
  for (int s = 0; s < 4; ++s) {
    const int n = sizes[s];
    for (int ign = 0; ign < 2; ++ign) {
      const int32_t ignore = ign ? 3 : -100;
      ck_assert_int_eq(logitnorm_loss_set(H, LOGITNORM_LOSS_IGNORE_INDEX, ignore), LOGITNORM_OK);
      for (int p = 0; p < n; ++p) {
        for (int i = 0; i < n; ++i) y[i] = i % 5 == 2 ? ignore : (int32_t)((i * 7) % CC);
        y[p] = bad[p % 4];
        if (p + 3 < n) y[p + 3] = -5; /* a second bad label after the first */
        double loss = NAN;
        ck_assert_int_eq(logitnorm_loss_forward_f32(H, n, z, CC, y, &loss, NULL), LOGITNORM_ERR_INVALID_LABEL);
        char want[64];
        snprintf(want, sizeof want, "at row %d ", p);
        ck_assert_msg(strstr(logitnorm_last_error(), want) != NULL, "n = %d, bad label at %d: \"%s\"", n, p,
                      logitnorm_last_error());
        ck_assert(isnan(loss));
      }
      /* all labels valid: MEAN x kept == SUM */
      int kept = 0;
      for (int i = 0; i < n; ++i) {
        y[i] = i % 5 == 2 ? ignore : (int32_t)((i * 7) % CC);
        kept += y[i] != ignore;
      }
      double mean = NAN, sum = NAN;
      ck_assert_int_eq(logitnorm_loss_set(H, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_MEAN), LOGITNORM_OK);
      ck_assert_int_eq(logitnorm_loss_forward_f32(H, n, z, CC, y, &mean, NULL), LOGITNORM_OK);
      ck_assert_int_eq(logitnorm_loss_set(H, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_SUM), LOGITNORM_OK);
      ck_assert_int_eq(logitnorm_loss_forward_f32(H, n, z, CC, y, &sum, NULL), LOGITNORM_OK);
      ck_assert_msg(fabs(mean * kept - sum) <= 1e-12 * fabs(sum), "n = %d: mean %.17g x %d != sum %.17g", n, mean,
                    kept, sum);
      ck_assert_int_eq(logitnorm_loss_set(H, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_MEAN), LOGITNORM_OK);
    }
  }
  logitnorm_loss_free(H);
}
END_TEST

START_TEST(nonfinite_logits) {
  const double bad[2] = {NAN, INFINITY};
  for (int v = 0; v < 12; ++v)
    for (int b = 0; b < 2; ++b) {
      call c = valid_call(v);
      float keep32 = F.z32[2 * LD + 3];
      double keep64 = F.z64[2 * LD + 3];
      F.z32[2 * LD + 3] = (float)bad[b];
      F.z64[2 * LD + 3] = bad[b];
      expect_fail(&c, LOGITNORM_ERR_NONFINITE);
      F.z32[2 * LD + 3] = keep32;
      F.z64[2 * LD + 3] = keep64;
    }
}
END_TEST

START_TEST(nonfinite_targets) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    if (!c.soft) continue;
    F.t32[(N - 1) * LD + C - 1] = NAN;
    F.t64[(N - 1) * LD + C - 1] = NAN;
    expect_fail(&c, LOGITNORM_ERR_NONFINITE);
    F.t32[(N - 1) * LD + C - 1] = INFINITY;
    F.t64[(N - 1) * LD + C - 1] = INFINITY;
    expect_fail(&c, LOGITNORM_ERR_NONFINITE);
    F.t32[(N - 1) * LD + C - 1] = 0.5f;
    F.t64[(N - 1) * LD + C - 1] = 0.5;
  }
}
END_TEST

START_TEST(nonfinite_row_scale) {
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    if (c.op != BWD) continue;
    c.rs = c.f64 ? (const void *)F.rs64 : (const void *)F.rs32;
    F.rs32[N - 1] = INFINITY;
    F.rs64[N - 1] = INFINITY;
    expect_fail(&c, LOGITNORM_ERR_NONFINITE);
    F.rs32[N - 1] = NAN;
    F.rs64[N - 1] = NAN;
    expect_fail(&c, LOGITNORM_ERR_NONFINITE);
    F.rs32[N - 1] = 1.0f;
    F.rs64[N - 1] = 1.0;
  }
}
END_TEST

/* Non-finite values in padding columns are not input and must not be reported. */
START_TEST(nonfinite_padding_is_ignored) {
  for (int k = 0; k < N; ++k)
    for (int j = C; j < LD; ++j) {
      F.z32[k * LD + j] = F.t32[k * LD + j] = NAN;
      F.z64[k * LD + j] = F.t64[k * LD + j] = NAN;
    }
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    ck_assert_int_eq(run(&c), LOGITNORM_OK);
    ck_assert_msg(isfinite(F.loss_out[0]), "variant %d: loss %g", v, F.loss_out[0]);
  }
}
END_TEST

/* With CHECK_FINITE = 0 a NaN is not rejected; it stays in its own row. */
START_TEST(check_finite_off_accepts_nan) {
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_CHECK_FINITE, 0), LOGITNORM_OK);
  F.z32[2 * LD + 3] = NAN;
  F.z64[2 * LD + 3] = NAN;
  for (int v = 0; v < 12; ++v) {
    call c = valid_call(v);
    if (c.op == BWD) continue;
    ck_assert_int_eq(run(&c), LOGITNORM_OK);
    for (int i = 0; i < N; ++i) {
      double l = c.f64 ? F.row64[i] : (double)F.row32[i];
      ck_assert_msg(i == 2 ? isnan(l) : isfinite(l), "variant %d row %d: loss %g", v, i, l);
    }
  }
}
END_TEST

/* ---------------- create ---------------- */

START_TEST(create_bad_arguments) {
  logitnorm_loss *out = (logitnorm_loss *)(uintptr_t)0x1234;
  char marker[256];
  const int64_t bad_c[4] = {0, -1, INT64_MIN, (int64_t)INT32_MAX + 1};
  for (int b = 0; b < 4; ++b) {
    strncpy(marker, plant_marker(), sizeof marker - 1);
    marker[sizeof marker - 1] = '\0';
    ck_assert_int_eq(logitnorm_loss_create(&out, LOGITNORM_LOSS_LOGITNORM, bad_c[b]), LOGITNORM_ERR_INVALID_ARGUMENT);
    ck_assert(out == (logitnorm_loss *)(uintptr_t)0x1234);
    ck_assert(logitnorm_last_error()[0] != '\0' && strcmp(logitnorm_last_error(), marker) != 0);
  }
  const int bad_kind[3] = {2, -1, 7};
  for (int b = 0; b < 3; ++b) {
    strncpy(marker, plant_marker(), sizeof marker - 1);
    ck_assert_int_eq(logitnorm_loss_create(&out, (logitnorm_loss_kind)bad_kind[b], C), LOGITNORM_ERR_INVALID_ARGUMENT);
    ck_assert(out == (logitnorm_loss *)(uintptr_t)0x1234);
    ck_assert(logitnorm_last_error()[0] != '\0' && strcmp(logitnorm_last_error(), marker) != 0);
  }
  ck_assert_int_eq(logitnorm_loss_create(NULL, LOGITNORM_LOSS_LOGITNORM, C), LOGITNORM_ERR_NULL_POINTER);
  ck_assert(logitnorm_last_error()[0] != '\0');
  logitnorm_loss_free(NULL); /* accepted */
}
END_TEST

TCase *bad_input_loss_calls_tcase(void) {
  TCase *tc = tcase_create("loss_calls");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, null_loss);
  tcase_add_test(tc, null_logits);
  tcase_add_test(tc, null_labels_or_targets);
  tcase_add_test(tc, null_grad);
  tcase_add_test(tc, null_data_with_empty_batch);
  tcase_add_test(tc, negative_n);
  tcase_add_test(tc, ld_below_classes);
  tcase_add_test(tc, ldt_below_classes);
  tcase_add_test(tc, ldg_below_classes);
  tcase_add_test(tc, stride_overflows_memory);
  tcase_add_test(tc, nonfinite_alpha_beta);
  tcase_add_test(tc, grad_partially_overlaps_logits);
  tcase_add_test(tc, grad_is_logits_with_other_stride);
  tcase_add_test(tc, grad_overlaps_other_inputs);
  tcase_add_test(tc, row_loss_overlaps_inputs);
  tcase_add_test(tc, outputs_overlap_each_other);
  tcase_add_test(tc, label_out_of_range_message);
  tcase_add_test(tc, label_bad_values);
  tcase_add_test(tc, label_minus_100_with_other_ignore_index);
  tcase_add_test(tc, label_scan_positions);
  tcase_add_test(tc, nonfinite_logits);
  tcase_add_test(tc, nonfinite_targets);
  tcase_add_test(tc, nonfinite_row_scale);
  tcase_add_test(tc, nonfinite_padding_is_ignored);
  tcase_add_test(tc, check_finite_off_accepts_nan);
  tcase_add_test(tc, create_bad_arguments);
  return tc;
}
