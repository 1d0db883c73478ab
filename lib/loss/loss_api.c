/* The public compute entry points of the loss. Each one validates everything it will read or
   write, then runs the row kernels over fixed row parts (see common/parallel.h) and reduces
   the parts' loss sums in order, so THREADS never changes a bit of the result. */
#include <float.h>
#include <math.h>

#include "common/alloc.h"
#include "common/dispatch.h"
#include "common/error.h"
#include "common/half.h"
#include "common/parallel.h"
#include "common/validate.h"
#include "loss.h"
#if defined(LN_HAVE_AVX2)
#include "scan_avx2.h"
#include "rows_avx2.h"
#endif

typedef enum ln_call_kind { LN_CALL_LOSS, LN_CALL_PROBS } ln_call_kind;

/* One public call, described by name (every field not named is 0 / NULL). */
typedef struct ln_loss_call {
  ln_elem_type elem; /* of logits, targets and grad (row_scale, row_loss: double for f64, else float) */
  int soft; /* probability targets instead of labels */
  ln_call_kind what;
  int64_t n;
  const void *logits;
  int64_t ld;
  const int32_t *labels;
  const void *targets;
  int64_t ldt;
  const void *row_scale;
  double *loss_out;
  void *row_loss;
  double alpha, beta;
  void *grad; /* the gradient, or the probabilities of a probs call */
  int64_t ldg;
  double *stats_out;      /* forward_stats */
  const double *stats_in; /* backward_stats */
  int need_grad;          /* grad (probs) must not be NULL */
  int need_stats;         /* stats_out (forward_stats) or stats_in (backward_stats) must not be NULL */
} ln_loss_call;

/* Bytes of an element of logits, targets and grad, and of row_scale and row_loss. */
static size_t ln_elem_bytes(ln_elem_type e) {
  return e == LN_ELEM_F64 ? sizeof(double) : e == LN_ELEM_F32 ? sizeof(float) : sizeof(uint16_t);
}
static size_t ln_wide_bytes(ln_elem_type e) { return e == LN_ELEM_F64 ? sizeof(double) : sizeof(float); }

/* ---- running the row kernels ---- */

typedef struct ln_loss_run_ctx {
  ln_loss_job job;
  ln_loss_rows_fn rows;
  int64_t n;
  char *ecache;       /* one block of ecache_bytes per worker, or NULL */
  size_t ecache_bytes;
  double part_sum[LN_PARTS];
} ln_loss_run_ctx;

/* The AVX2+FMA kernels when the CPU has them (and LOGITNORM_DISPATCH does not say generic). */
static ln_loss_rows_fn ln_pick_rows(ln_elem_type e) {
#if defined(LN_HAVE_AVX2)
  static const ln_loss_rows_fn avx2[4] = {ln_loss_rows_f32_avx2, ln_loss_rows_f64_avx2, ln_loss_rows_bf16_avx2,
                                          ln_loss_rows_f16_avx2};
  if (ln_use_avx2()) return avx2[e];
#endif
  static const ln_loss_rows_fn generic[4] = {ln_loss_rows_f32, ln_loss_rows_f64, ln_loss_rows_bf16, ln_loss_rows_f16};
  return generic[e];
}

static void ln_loss_part(void *ctx, int part, int worker) {
  ln_loss_run_ctx *run = ctx;
  void *ec = run->ecache ? run->ecache + (size_t)worker * run->ecache_bytes : NULL;
  run->part_sum[part] = run->rows(&run->job, ln_part_begin(run->n, part), ln_part_begin(run->n, part + 1), ec);
}

double ln_loss_rows_run(const ln_loss_job *job, int64_t n, ln_elem_type elem, int threads, void *ecache) {
  ln_loss_run_ctx run = {.job = *job, .rows = ln_pick_rows(elem), .n = n, .ecache = ecache,
                         .ecache_bytes = (size_t)job->loss->num_classes * ln_wide_bytes(elem)};
  ln_parallel_parts_w(threads, LN_PARTS, ln_loss_part, &run);
  double total = 0.0;
  for (int p = 0; p < LN_PARTS; ++p) total += run.part_sum[p];
  return total;
}

/* Threads only pay off on large batches; the parts are the same either way. */
static int ln_loss_threads(const logitnorm_loss *L, const ln_loss_call *k) {
  int t = (k->n * L->num_classes >= 32768) ? L->threads : 1;
  return t < LN_PARTS ? t : LN_PARTS;
}

/* ---- validation ---- */

#if defined(LN_HAVE_AVX2)
typedef struct ln_finite_ctx {
  ln_elem_type elem;
  int masks;
  const void *p;
  int64_t rows, cols, ld;
  int64_t first_bad[LN_PARTS]; /* per part: first row with a bad entry, or -1 */
  int neginf[LN_PARTS];         /* per part: whether the scan met a -inf (masks) */
} ln_finite_ctx;

static void ln_finite_part(void *ctx, int part) {
  ln_finite_ctx *f = ctx;
  int64_t b = ln_part_begin(f->rows, part), e = ln_part_begin(f->rows, part + 1), r;
  f->first_bad[part] = -1;
  f->neginf[part] = 0;
  if (b == e) return; /* empty part: p + b * ld may lie far outside the matrix (UB to form) */
  if (f->elem == LN_ELEM_F64)
    r = ln_first_nonfinite_row_f64_avx2((const double *)f->p + b * f->ld, e - b, f->cols, f->ld, f->masks,
                                        &f->neginf[part]);
  else if (f->elem == LN_ELEM_BF16 || f->elem == LN_ELEM_F16)
    r = ln_first_nonfinite_row_half_avx2(f->elem == LN_ELEM_BF16 ? LN_HALF_BF16 : LN_HALF_F16,
                                         (const uint16_t *)f->p + b * f->ld, e - b, f->cols, f->ld, f->masks,
                                         &f->neginf[part]);
  else
    r = ln_first_nonfinite_row_f32_avx2((const float *)f->p + b * f->ld, e - b, f->cols, f->ld, f->masks,
                                        &f->neginf[part]);
  f->first_bad[part] = r < 0 ? -1 : b + r;
}
#endif

/* A matrix to check for non-finite entries. */
typedef struct ln_finite_check {
  ln_elem_type elem;
  int masks;              /* -inf is allowed (a masked class), but no row masked whole unless ignored */
  const int32_t *labels;  /* with masks: the labels, whose ignored rows may be masked whole, or NULL */
  int64_t ignore_index;
  const void *p;
  int64_t rows, cols, ld;
  const char *name;       /* the argument's name, for the message */
} ln_finite_check;

/* The scalar check of rows [0, rows): finite, or (masks) finite or -inf, with no row masked
   whole unless labels mark it ignored. */
static logitnorm_status ln_check_finite_scalar(const ln_finite_check *m, int64_t rows) {
  if (m->elem == LN_ELEM_BF16 || m->elem == LN_ELEM_F16) {
    const ln_half_kind kind = m->elem == LN_ELEM_BF16 ? LN_HALF_BF16 : LN_HALF_F16;
    return m->masks ? ln_check_masked_half(kind, m->p, rows, m->cols, m->ld, m->labels, m->ignore_index, m->name)
                    : ln_check_finite_half(kind, m->p, rows, m->cols, m->ld, m->name);
  }
  const int f64 = m->elem == LN_ELEM_F64;
  if (m->masks)
    return f64 ? ln_check_masked_f64(m->p, rows, m->cols, m->ld, m->labels, m->ignore_index, m->name)
               : ln_check_masked_f32(m->p, rows, m->cols, m->ld, m->labels, m->ignore_index, m->name);
  return f64 ? ln_check_finite_f64(m->p, rows, m->cols, m->ld, m->name)
             : ln_check_finite_f32(m->p, rows, m->cols, m->ld, m->name);
}

/* The finite check of a matrix (masks: -inf allowed, see ln_check_finite_scalar). With AVX2 it
   scans for NaN and infinities (masks: NaN and +inf) in the same fixed row parts as the compute,
   on `threads` threads; rows up to the first one found are then rescanned by the scalar check
   on the calling thread, so the message names the first bad entry. A row masked whole is not
   looked for there: the label and target checks reject it. *neginf (may be NULL) is set to 0
   when the check passed and the matrix holds no -inf, else to 1 (always 1 without the AVX2
   scan, which is the only one that looks). */
static logitnorm_status ln_check_finite(const ln_finite_check *m, int threads, int *neginf) {
  if (neginf) *neginf = 1;
#if defined(LN_HAVE_AVX2)
  if (ln_use_avx2()) {
    ln_finite_ctx f = {.elem = m->elem, .masks = m->masks, .p = m->p, .rows = m->rows,
                       .cols = m->cols, .ld = m->ld};
    ln_parallel_parts(threads, LN_PARTS, ln_finite_part, &f);
    int any = 0;
    for (int part = 0; part < LN_PARTS; ++part) {
      if (f.first_bad[part] >= 0) return ln_check_finite_scalar(m, f.first_bad[part] + 1);
      any |= f.neginf[part];
    }
    if (neginf) *neginf = any;
    return LOGITNORM_OK;
  }
#endif
  (void)threads;
  return ln_check_finite_scalar(m, m->rows);
}

/* Whether ln_check_finite tells a matrix of these elements without -inf (only the AVX2 scan
   looks). */
static int ln_finite_scan_reports_neginf(ln_elem_type e) {
#if defined(LN_HAVE_AVX2)
  (void)e; /* every element type has an AVX2 scan */
  return ln_use_avx2();
#else
  (void)e;
  return 0;
#endif
}

/* Outputs must not overlap inputs or each other; the one exception is grad == logits with
   ldg == ld, which the row kernels support (each element is read before it is written). */
static logitnorm_status ln_loss_check_aliasing(const logitnorm_loss *L, const ln_loss_call *k) {
  const size_t elem = ln_elem_bytes(k->elem), wide = ln_wide_bytes(k->elem);
  int64_t n = k->n, C = L->num_classes;
  const char *gname = k->what == LN_CALL_PROBS ? "probs" : "grad";
  typedef struct { const void *p; size_t bytes; const char *name; } span;
  const size_t stats_bytes = LOGITNORM_LOSS_ROW_STATS * sizeof(double);
  const span in[5] = {
      {.p = k->logits, .bytes = ln_matrix_span(n, C, k->ld, elem), .name = "logits"},
      {.p = k->labels, .bytes = k->labels ? ln_array_bytes(n, sizeof(int32_t)) : 0, .name = "labels"},
      {.p = k->targets, .bytes = k->soft ? ln_matrix_span(n, C, k->ldt, elem) : 0, .name = "targets"},
      {.p = k->row_scale, .bytes = k->row_scale ? ln_array_bytes(n, wide) : 0, .name = "row_scale"},
      {.p = k->stats_in, .bytes = k->stats_in ? ln_array_bytes(n, stats_bytes) : 0, .name = "row_stats"},
  };
  const span out[4] = {
      {.p = k->grad, .bytes = k->grad ? ln_matrix_span(n, C, k->ldg, elem) : 0, .name = gname},
      {.p = k->row_loss, .bytes = k->row_loss ? ln_array_bytes(n, wide) : 0, .name = "row_loss"},
      {.p = k->loss_out, .bytes = k->loss_out ? sizeof(double) : 0, .name = "loss_out"},
      {.p = k->stats_out, .bytes = k->stats_out ? ln_array_bytes(n, stats_bytes) : 0, .name = "row_stats"},
  };
  int in_place = k->grad != NULL && k->grad == k->logits && k->ldg == k->ld;
  for (int o = 0; o < 4; ++o) {
    for (int i = 0; i < 5; ++i) {
      if (o == 0 && i == 0 && in_place) continue;
      logitnorm_status st = ln_check_disjoint(out[o].p, out[o].bytes, out[o].name, in[i].p, in[i].bytes, in[i].name);
      if (st != LOGITNORM_OK) return st;
    }
    for (int p = o + 1; p < 4; ++p) {
      logitnorm_status st =
          ln_check_disjoint(out[o].p, out[o].bytes, out[o].name, out[p].p, out[p].bytes, out[p].name);
      if (st != LOGITNORM_OK) return st;
    }
  }
  return LOGITNORM_OK;
}

static inline double ln_elem(ln_elem_type e, const void *p, int64_t i) {
  switch (e) {
  case LN_ELEM_F64: return ((const double *)p)[i];
  case LN_ELEM_BF16: return (double)ln_bf16_to_f32(((const uint16_t *)p)[i]);
  case LN_ELEM_F16: return (double)ln_f16_to_f32(((const uint16_t *)p)[i]);
  default: return (double)((const float *)p)[i];
  }
}

/* Probability targets may put no mass on a masked class, and a row may not be masked whole:
   both would need mass on a class the row does not have. */
static logitnorm_status ln_check_targets_unmasked(const logitnorm_loss *L, const ln_loss_call *k) {
  const int64_t C = L->num_classes;
  for (int64_t i = 0; i < k->n; ++i) {
    int64_t kept = 0;
    for (int64_t c = 0; c < C; ++c) {
      if (ln_elem(k->elem, k->logits, i * k->ld + c) != -INFINITY) {
        ++kept;
      } else {
        double t = ln_elem(k->elem, k->targets, i * k->ldt + c);
        if (t != 0.0)
          return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT,
                         "targets[%lld][%lld] = %g puts mass on a masked class (logits[%lld][%lld] is -inf)",
                         (long long)i, (long long)c, t, (long long)i, (long long)c);
      }
    }
    if (kept == 0)
      return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "logits row %lld has every one of its %lld classes masked (-inf)",
                     (long long)i, (long long)C);
  }
  return LOGITNORM_OK;
}

/* A probs call: no row may be masked whole. */
static logitnorm_status ln_check_rows_unmasked(const logitnorm_loss *L, const ln_loss_call *k) {
  for (int64_t i = 0; i < k->n; ++i) {
    int64_t c = 0;
    while (c < L->num_classes && ln_elem(k->elem, k->logits, i * k->ld + c) == -INFINITY) ++c;
    if (c == L->num_classes)
      return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "logits row %lld has every one of its %lld classes masked (-inf)",
                     (long long)i, (long long)L->num_classes);
  }
  return LOGITNORM_OK;
}

/* Saved statistics must be ones a forward of this handle can write (cheap checks per row):
   k = 1 for cross-entropy and 0 < k <= 1/(tau eps) for LogitNorm (k is saved in double),
   |m| <= 2/tau for LogitNorm (m = k max z with k rounded to the element type, where a subnormal
   float k may be up to twice the true one),
   A / s >= 0 for hard labels (A is a sum of non-negative weights), the correction 0 for
   cross-entropy. Non-finite values are rejected when CHECK_FINITE is on; with it off they
   come from a forward that saw NaN, and carry it into the gradient. */
static logitnorm_status ln_check_stats(const logitnorm_loss *L, const ln_loss_call *k) {
  const int ln = L->kind == LOGITNORM_LOSS_LOGITNORM;
  const double kmax = L->eps > 0.0 ? (1.0 + 1e-6) / (L->tau * L->eps) : INFINITY, umax = (2.0 + 1e-6) / L->tau;
  for (int64_t i = 0; i < k->n; ++i) {
    if (!k->soft && k->labels[i] == L->ignore_index) continue;
    const double *st = k->stats_in + i * LOGITNORM_LOSS_ROW_STATS;
    int finite = isfinite(st[0]) && isfinite(st[1]) && isfinite(st[2]) && isfinite(st[3]);
    if (!finite) {
      if (!L->check_finite) continue;
      return ln_fail(LOGITNORM_ERR_NONFINITE, "row_stats of row %lld hold a NaN or an infinity", (long long)i);
    }
    double kk = fabs(st[0]);
    int ok = ln ? (kk > 0.0 && kk <= kmax && fabs(st[1]) <= umax) : (kk == 1.0 && st[3] == 0.0);
    if (ok && !k->soft) ok = st[2] >= 0.0;
    if (!ok)
      return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT,
                     "row_stats of row %lld {%g, %g, %g, %g} are not statistics a forward_stats of this handle "
                     "writes",
                     (long long)i, st[0], st[1], st[2], st[3]);
  }
  return LOGITNORM_OK;
}

/* The norm of row i of a call's logits. */
static double ln_call_row_norm(const ln_loss_call *k, int64_t i, int64_t C) {
  switch (k->elem) {
  case LN_ELEM_F64: return ln_row_norm_f64((const double *)k->logits + i * k->ld, C);
  case LN_ELEM_BF16: return ln_row_norm_bf16((const uint16_t *)k->logits + i * k->ld, C);
  case LN_ELEM_F16: return ln_row_norm_f16((const uint16_t *)k->logits + i * k->ld, C);
  default: return ln_row_norm_f32((const float *)k->logits + i * k->ld, C);
  }
}

/* LogitNorm scales each row by k = 1/(tau (||z|| + eps)), which the kernels keep in the element
   type. k <= 1/(tau eps), so it can only overflow when tau * eps is below 1/max (eps = 0, or
   extreme settings) and the row is zero or tiny; such rows (0/0 for a zero row) are rejected
   here instead of turning into NaN. The scan runs only in that case. */
static logitnorm_status ln_check_row_scale(const logitnorm_loss *L, const ln_loss_call *k) {
  double max = k->elem == LN_ELEM_F64 ? DBL_MAX : FLT_MAX; /* k is kept in the type computed in */
  if (L->kind != LOGITNORM_LOSS_LOGITNORM || L->tau * L->eps >= 2.0 / max || k->stats_in) return LOGITNORM_OK;
  for (int64_t i = 0; i < k->n; ++i) {
    if (k->labels && k->labels[i] == L->ignore_index) continue;
    double norm = ln_call_row_norm(k, i, L->num_classes);
    double scale = 1.0 / (L->tau * (norm + L->eps));
    if (!(scale <= max))
      return ln_fail(LOGITNORM_ERR_NONFINITE,
                     "logits row %lld has norm %g: 1/(temperature * (norm + epsilon)) overflows; use epsilon > 0",
                     (long long)i, norm);
  }
  return LOGITNORM_OK;
}

/* The labels in one pass: each in [0, C) or the ignore index, and their MEAN divisor
   (ln_loss_mean_divisor's sum) on the way, so a call reads its labels once before the kernels. */
static inline logitnorm_status ln_labels_pass(const logitnorm_loss *L, const ln_loss_call *k, const double *w,
                                              double *divisor) {
  const int64_t C = L->num_classes, ignore = L->ignore_index;
#if defined(LN_HAVE_AVX2)
  /* the common case: a count and a range check (C and ignore_index are int32, see
     logitnorm_loss_create and logitnorm_loss_set) */
  if (w == NULL && ln_use_avx2()) {
    const int64_t kept = ln_labels_kept_avx2(k->labels, k->n, C, (int32_t)ignore);
    if (kept >= 0) {
      *divisor = (double)kept;
      return LOGITNORM_OK;
    } /* else the loop below names the first bad label */
  }
#endif
  double d = 0.0;
  for (int64_t i = 0; i < k->n; ++i) {
    int64_t y = k->labels[i];
    if (y == ignore) continue;
    if (y < 0 || y >= C)
      return ln_fail(LOGITNORM_ERR_INVALID_LABEL, "label %lld at row %lld is outside [0, %lld)", (long long)y,
                     (long long)i, (long long)C);
    d += w ? w[y] : 1.0;
  }
  *divisor = d;
  return LOGITNORM_OK;
}

/* No label may name a masked (-inf) logit of its row (labels already in range). Each row's z_y
   is a cache miss on a large batch: with rows longer than a few cache lines the loop asks for
   the one `ahead` rows on (shorter rows stream, and the hardware prefetcher keeps up). */
static inline logitnorm_status ln_labels_unmasked_pass(const logitnorm_loss *L, const ln_loss_call *k, ln_elem_type e,
                                                       int prefetch) {
  const int64_t C = L->num_classes, ignore = L->ignore_index, ahead = 16;
  const size_t elem = ln_elem_bytes(e);
  for (int64_t i = 0; i < k->n; ++i) {
    if (prefetch && i + ahead < k->n) {
      int64_t ya = k->labels[i + ahead];
      if (ya >= 0 && ya < C)
        __builtin_prefetch((const char *)k->logits + ((size_t)(i + ahead) * (size_t)k->ld + (size_t)ya) * elem);
    }
    int64_t y = k->labels[i];
    if (y != ignore && ln_elem(e, k->logits, i * k->ld + y) == -INFINITY)
      return ln_fail(LOGITNORM_ERR_INVALID_LABEL,
                     "label %lld at row %lld names a masked class (logits[%lld][%lld] is -inf)", (long long)y,
                     (long long)i, (long long)i, (long long)y);
  }
  return LOGITNORM_OK;
}

static logitnorm_status ln_check_labels_unmasked(const logitnorm_loss *L, const ln_loss_call *k) {
  /* specialised on the element type and on the prefetch, so the loop has no branch on either */
  const int prefetch = (size_t)k->ld * ln_elem_bytes(k->elem) > 256;
  switch (k->elem) {
  case LN_ELEM_F64:
    return prefetch ? ln_labels_unmasked_pass(L, k, LN_ELEM_F64, 1) : ln_labels_unmasked_pass(L, k, LN_ELEM_F64, 0);
  case LN_ELEM_BF16:
    return prefetch ? ln_labels_unmasked_pass(L, k, LN_ELEM_BF16, 1) : ln_labels_unmasked_pass(L, k, LN_ELEM_BF16, 0);
  case LN_ELEM_F16:
    return prefetch ? ln_labels_unmasked_pass(L, k, LN_ELEM_F16, 1) : ln_labels_unmasked_pass(L, k, LN_ELEM_F16, 0);
  default:
    return prefetch ? ln_labels_unmasked_pass(L, k, LN_ELEM_F32, 1) : ln_labels_unmasked_pass(L, k, LN_ELEM_F32, 0);
  }
}

static logitnorm_status ln_loss_check_labels(const logitnorm_loss *L, const ln_loss_call *k, double *divisor) {
  /* specialised on weights, so the loop has no branch on them */
  return L->weights ? ln_labels_pass(L, k, L->weights, divisor) : ln_labels_pass(L, k, NULL, divisor);
}

/* Everything a call reads or writes is checked here, before any output is touched. With n = 0
   nothing is read, so the data pointers may be NULL (an empty std::vector's data()). */
static logitnorm_status ln_loss_validate(const logitnorm_loss *L, const ln_loss_call *k, double *divisor) {
  /* Sizes are checked in the wide type's bytes: a half matrix must be addressable as floats
     too, so that a half call has the status of the _f32 call on the widened values. */
  size_t elem = ln_wide_bytes(k->elem);
  logitnorm_status st = ln_check_ptr(L, "loss");
  if (st == LOGITNORM_OK) st = ln_dispatch_check();
  if (st == LOGITNORM_OK) st = ln_check_count(k->n, "n");
  if (st != LOGITNORM_OK || k->n == 0) return st;
  const int64_t C = L->num_classes;
  const char *gname = k->what == LN_CALL_PROBS ? "probs" : "grad";
  if (k->need_grad && k->grad == NULL) return ln_fail(LOGITNORM_ERR_NULL_POINTER, "%s is NULL", gname);
  if (k->need_stats && k->stats_out == NULL && k->stats_in == NULL)
    return ln_fail(LOGITNORM_ERR_NULL_POINTER, "row_stats is NULL");
  st = ln_check_matrix(k->logits, k->n, C, k->ld, elem, "logits");
  if (st == LOGITNORM_OK && k->what == LN_CALL_LOSS && !k->soft) st = ln_check_ptr(k->labels, "labels");
  if (st == LOGITNORM_OK && k->soft) st = ln_check_matrix(k->targets, k->n, C, k->ldt, elem, "targets");
  if (st == LOGITNORM_OK && k->grad) st = ln_check_matrix(k->grad, k->n, C, k->ldg, elem, gname);
  if (st == LOGITNORM_OK && k->grad && !(isfinite(k->alpha) && isfinite(k->beta)))
    st = ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "alpha = %g and beta = %g must be finite", k->alpha, k->beta);
  if (st == LOGITNORM_OK) st = ln_loss_check_aliasing(L, k);
  /* labels and masks first, so a row masked whole gets the same status on every dispatch path.
     A label on a masked class needs each row's z_y, a cache miss per row; when the AVX2 finite
     scan is to read the whole matrix anyway, that check waits for it and runs only if the scan
     met a -inf or a fault (so it still takes precedence over the scan's status). */
  *divisor = (double)k->n;
  const int defer_masked = k->labels && L->check_finite && ln_finite_scan_reports_neginf(k->elem);
  if (st == LOGITNORM_OK && k->labels) st = ln_loss_check_labels(L, k, divisor);
  if (st == LOGITNORM_OK && k->labels && !defer_masked) st = ln_check_labels_unmasked(L, k);
  if (st == LOGITNORM_OK && k->soft) st = ln_check_targets_unmasked(L, k);
  if (st == LOGITNORM_OK && k->what == LN_CALL_PROBS) st = ln_check_rows_unmasked(L, k);
  if (st == LOGITNORM_OK && L->check_finite) {
    int threads = ln_loss_threads(L, k), neginf = 1;
    const ln_finite_check logits = {.elem = k->elem, .masks = 1, .labels = k->labels, .ignore_index = L->ignore_index,
                                    .p = k->logits, .rows = k->n, .cols = C, .ld = k->ld, .name = "logits"};
    st = ln_check_finite(&logits, threads, &neginf);
    if (defer_masked && (neginf || st != LOGITNORM_OK)) {
      logitnorm_status sl = ln_check_labels_unmasked(L, k);
      if (sl != LOGITNORM_OK) st = sl;
    }
    if (st == LOGITNORM_OK && k->soft) {
      const ln_finite_check targets = {.elem = k->elem, .p = k->targets, .rows = k->n, .cols = C, .ld = k->ldt,
                                       .name = "targets"};
      st = ln_check_finite(&targets, threads, NULL);
    }
    if (st == LOGITNORM_OK && k->row_scale)
      st = k->elem == LN_ELEM_F64 ? ln_check_finite_vector_f64(k->row_scale, k->n, "row_scale")
                                  : ln_check_finite_vector_f32(k->row_scale, k->n, "row_scale");
  }
  if (st == LOGITNORM_OK && k->stats_in) st = ln_check_stats(L, k);
  if (st == LOGITNORM_OK) st = ln_check_row_scale(L, k);
  return st;
}

double ln_loss_mean_divisor(const logitnorm_loss *L, int64_t n, const int32_t *labels) {
  if (labels == NULL) return (double)n;
  double d = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t y = labels[i];
    if (y != L->ignore_index) d += L->weights ? L->weights[y] : 1.0;
  }
  return d;
}

/* Rows keep their exp values between passes 2 and 3 in the grad row when it is written unread
   (beta = 0, not in place) and holds the type computed in, else in a cache: LN_ECACHE_BYTES of
   stack, or for longer rows one heap block per worker, allocated here once per call. The default
   f32 and f64 call allocates nothing; a half call's grad row cannot hold float exp values, so
   its longer rows always take the heap block. */
static int ln_needs_ecache(const logitnorm_loss *L, const ln_loss_call *k) {
  size_t row_bytes = (size_t)L->num_classes * ln_wide_bytes(k->elem);
  int in_place = k->grad == k->logits, half = k->elem == LN_ELEM_BF16 || k->elem == LN_ELEM_F16;
  return k->grad && !k->stats_in && (k->beta != 0.0 || in_place || half) && row_bytes > LN_ECACHE_BYTES;
}

static logitnorm_status ln_loss_run(const logitnorm_loss *L, const ln_loss_call *k) {
  double divisor = 0.0; /* the MEAN divisor, from the label pass of the validation */
  logitnorm_status st = ln_loss_validate(L, k, &divisor);
  if (st != LOGITNORM_OK) return st;
  const int mean = L->reduction == LOGITNORM_REDUCTION_MEAN && k->what == LN_CALL_LOSS;
  if (!mean) divisor = 1.0;
  const int threads = ln_loss_threads(L, k);
  void *ecache = NULL;
  if (k->n > 0 && ln_needs_ecache(L, k)) {
    ecache = ln_malloc((int64_t)threads * L->num_classes, ln_wide_bytes(k->elem));
    if (ecache == NULL)
      return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for the exp cache (%d x %lld values)", threads,
                     (long long)L->num_classes);
  }
  ln_loss_job job = {
      .loss = L,
      .logits = k->logits,
      .ld = k->ld,
      .labels = k->labels,
      .targets = k->targets,
      .ldt = k->ldt,
      .row_scale = k->row_scale,
      .row_loss = k->row_loss,
      .grad = k->grad,
      .ldg = k->ldg,
      .gscale = mean ? k->alpha / divisor : k->alpha,
      .beta = k->beta,
      .stats_out = k->stats_out,
      .stats_in = k->stats_in,
      .mode = k->what == LN_CALL_PROBS ? LN_ROWS_PROBS : k->soft ? LN_ROWS_TARGETS : LN_ROWS_LABELS,
  };
  double total = k->n > 0 ? ln_loss_rows_run(&job, k->n, k->elem, threads, ecache) : 0.0;
  ln_free(ecache);
  if (k->loss_out) *k->loss_out = mean ? total / divisor : total;
  return LOGITNORM_OK;
}

/* ---- entry points ---- */

#define LN_LOSS_ENTRY_POINTS(D, T, SFX, ELEM)                                                                         \
  LOGITNORM_API logitnorm_status logitnorm_loss_forward_##SFX(const logitnorm_loss *loss, int64_t n,               \
      const D *logits, int64_t ld, const int32_t *labels, double *loss_out, T *row_loss) {                        \
    ln_loss_call k = {.elem = ELEM, .n = n, .logits = logits, .ld = ld, .labels = labels, .loss_out = loss_out,     \
                      .row_loss = row_loss};                                                                      \
    return ln_loss_run(loss, &k);                                                                                 \
  }                                                                                                               \
  LOGITNORM_API logitnorm_status logitnorm_loss_backward_##SFX(const logitnorm_loss *loss, int64_t n,              \
      const D *logits, int64_t ld, const int32_t *labels, const T *row_scale, T alpha, T beta, D *grad,           \
      int64_t ldg) {                                                                                              \
    ln_loss_call k = {.elem = ELEM, .n = n, .logits = logits, .ld = ld, .labels = labels, .row_scale = row_scale,   \
                      .alpha = alpha, .beta = beta, .grad = grad, .ldg = ldg, .need_grad = 1};                                    \
    return ln_loss_run(loss, &k);                                                                                 \
  }                                                                                                               \
  LOGITNORM_API logitnorm_status logitnorm_loss_forward_backward_##SFX(const logitnorm_loss *loss, int64_t n,      \
      const D *logits, int64_t ld, const int32_t *labels, double *loss_out, T *row_loss, T alpha, T beta,         \
      D *grad, int64_t ldg) {                                                                                     \
    ln_loss_call k = {.elem = ELEM, .n = n, .logits = logits, .ld = ld, .labels = labels, .loss_out = loss_out,     \
                      .row_loss = row_loss, .alpha = alpha, .beta = beta, .grad = grad, .ldg = ldg, .need_grad = 1};              \
    return ln_loss_run(loss, &k);                                                                                 \
  }                                                                                                               \
  LOGITNORM_API logitnorm_status logitnorm_loss_forward_soft_##SFX(const logitnorm_loss *loss, int64_t n,          \
      const D *logits, int64_t ld, const D *targets, int64_t ldt, double *loss_out, T *row_loss) {                \
    ln_loss_call k = {.elem = ELEM, .soft = 1, .n = n, .logits = logits, .ld = ld, .targets = targets, .ldt = ldt,  \
                      .loss_out = loss_out, .row_loss = row_loss};                                                \
    return ln_loss_run(loss, &k);                                                                                 \
  }                                                                                                               \
  LOGITNORM_API logitnorm_status logitnorm_loss_backward_soft_##SFX(const logitnorm_loss *loss, int64_t n,         \
      const D *logits, int64_t ld, const D *targets, int64_t ldt, const T *row_scale, T alpha, T beta, D *grad,   \
      int64_t ldg) {                                                                                              \
    ln_loss_call k = {.elem = ELEM, .soft = 1, .n = n, .logits = logits, .ld = ld, .targets = targets, .ldt = ldt,  \
                      .row_scale = row_scale, .alpha = alpha, .beta = beta, .grad = grad, .ldg = ldg, .need_grad = 1};            \
    return ln_loss_run(loss, &k);                                                                                 \
  }                                                                                                               \
  LOGITNORM_API logitnorm_status logitnorm_loss_forward_backward_soft_##SFX(const logitnorm_loss *loss, int64_t n, \
      const D *logits, int64_t ld, const D *targets, int64_t ldt, double *loss_out, T *row_loss, T alpha,         \
      T beta, D *grad, int64_t ldg) {                                                                             \
    ln_loss_call k = {.elem = ELEM, .soft = 1, .n = n, .logits = logits, .ld = ld, .targets = targets, .ldt = ldt,  \
                      .loss_out = loss_out, .row_loss = row_loss, .alpha = alpha, .beta = beta, .grad = grad,     \
                      .ldg = ldg, .need_grad = 1};                                                                                \
    return ln_loss_run(loss, &k);                                                                                 \
  }                                                                                                               \
  LOGITNORM_API logitnorm_status logitnorm_loss_forward_stats_##SFX(const logitnorm_loss *loss, int64_t n,         \
      const D *logits, int64_t ld, const int32_t *labels, double *loss_out, T *row_loss, double *row_stats) {     \
    ln_loss_call k = {.elem = ELEM, .n = n, .logits = logits, .ld = ld, .labels = labels, .loss_out = loss_out,     \
                      .row_loss = row_loss, .stats_out = row_stats, .need_stats = 1};                                              \
    return ln_loss_run(loss, &k);                                                                                 \
  }                                                                                                               \
  LOGITNORM_API logitnorm_status logitnorm_loss_backward_stats_##SFX(const logitnorm_loss *loss, int64_t n,        \
      const D *logits, int64_t ld, const int32_t *labels, const double *row_stats, const T *row_scale, T alpha,   \
      T beta, D *grad, int64_t ldg) {                                                                             \
    ln_loss_call k = {.elem = ELEM, .n = n, .logits = logits, .ld = ld, .labels = labels, .row_scale = row_scale,   \
                      .alpha = alpha, .beta = beta, .grad = grad, .ldg = ldg, .stats_in = row_stats,        \
                      .need_grad = 1, .need_stats = 1};             \
    return ln_loss_run(loss, &k);                                                                                 \
  }                                                                                                               \
  LOGITNORM_API logitnorm_status logitnorm_loss_forward_stats_soft_##SFX(const logitnorm_loss *loss, int64_t n,    \
      const D *logits, int64_t ld, const D *targets, int64_t ldt, double *loss_out, T *row_loss,                  \
      double *row_stats) {                                                                                        \
    ln_loss_call k = {.elem = ELEM, .soft = 1, .n = n, .logits = logits, .ld = ld, .targets = targets, .ldt = ldt,  \
                      .loss_out = loss_out, .row_loss = row_loss, .stats_out = row_stats, .need_stats = 1};                        \
    return ln_loss_run(loss, &k);                                                                                 \
  }                                                                                                               \
  LOGITNORM_API logitnorm_status logitnorm_loss_backward_stats_soft_##SFX(const logitnorm_loss *loss, int64_t n,   \
      const D *logits, int64_t ld, const D *targets, int64_t ldt, const double *row_stats, const T *row_scale,    \
      T alpha, T beta, D *grad, int64_t ldg) {                                                                    \
    ln_loss_call k = {.elem = ELEM, .soft = 1, .n = n, .logits = logits, .ld = ld, .targets = targets, .ldt = ldt,  \
                      .row_scale = row_scale, .alpha = alpha, .beta = beta, .grad = grad, .ldg = ldg,             \
                      .stats_in = row_stats, .need_grad = 1, .need_stats = 1};                                                                     \
    return ln_loss_run(loss, &k);                                                                                 \
  }                                                                                                               \
  LOGITNORM_API logitnorm_status logitnorm_loss_probs_##SFX(const logitnorm_loss *loss, int64_t n,                 \
      const D *logits, int64_t ld, D *probs, int64_t ldp) {                                                       \
    ln_loss_call k = {.elem = ELEM, .what = LN_CALL_PROBS, .n = n, .logits = logits, .ld = ld, .alpha = 1,          \
                      .grad = probs, .ldg = ldp, .need_grad = 1};                                                                 \
    return ln_loss_run(loss, &k);                                                                                 \
  }

/*                   data            wide    SFX   element type */
LN_LOSS_ENTRY_POINTS(float,          float,  f32,  LN_ELEM_F32)
LN_LOSS_ENTRY_POINTS(double,         double, f64,  LN_ELEM_F64)
LN_LOSS_ENTRY_POINTS(logitnorm_bf16, float,  bf16, LN_ELEM_BF16)
LN_LOSS_ENTRY_POINTS(logitnorm_f16,  float,  f16,  LN_ELEM_F16)
