/* The twelve public compute entry points. Each one validates everything it will read or
   write, then runs the row kernels over fixed row parts (see common/parallel.h) and
   reduces the parts' loss sums in order, so THREADS never changes a bit of the result. */
#include <float.h>
#include <math.h>

#include "common/dispatch.h"
#include "common/error.h"
#include "common/parallel.h"
#include "common/validate.h"
#include "loss.h"
#if defined(LN_HAVE_AVX2)
#include "finite_avx2.h"
#include "rows_avx2.h"
#endif

typedef struct ln_loss_call {
  int f64;  /* element type: double when set, float otherwise */
  int soft; /* probability targets instead of labels */
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
  void *grad;
  int64_t ldg;
} ln_loss_call;

typedef struct ln_loss_run_ctx {
  ln_loss_job job;
  ln_loss_rows_fn rows;
  int64_t n;
  double part_sum[LN_PARTS];
} ln_loss_run_ctx;


/* The AVX2+FMA kernels when the CPU has them (and LOGITNORM_DISPATCH does not say generic). */
static ln_loss_rows_fn ln_pick_rows(int f64, int soft) {
#if defined(LN_HAVE_AVX2)
  if (ln_use_avx2()) {
    if (f64) return soft ? ln_loss_rows_soft_f64_avx2 : ln_loss_rows_hard_f64_avx2;
    return soft ? ln_loss_rows_soft_f32_avx2 : ln_loss_rows_hard_f32_avx2;
  }
#endif
  if (f64) return soft ? ln_loss_rows_soft_f64 : ln_loss_rows_hard_f64;
  return soft ? ln_loss_rows_soft_f32 : ln_loss_rows_hard_f32;
}

static void ln_loss_part(void *ctx, int part) {
  ln_loss_run_ctx *run = ctx;
  run->part_sum[part] = run->rows(&run->job, ln_part_begin(run->n, part), ln_part_begin(run->n, part + 1));
}

double ln_loss_rows_run(const ln_loss_job *job, int64_t n, int f64, int soft, int threads) {
  ln_loss_run_ctx run = {.job = *job, .rows = ln_pick_rows(f64, soft), .n = n};
  ln_parallel_parts(threads, LN_PARTS, ln_loss_part, &run);
  double total = 0.0;
  for (int p = 0; p < LN_PARTS; ++p) total += run.part_sum[p];
  return total;
}

static logitnorm_status ln_check_finite_scalar(int f64, const void *p, int64_t rows, int64_t cols, int64_t ld,
                                               const char *name) {
  return f64 ? ln_check_finite_f64(p, rows, cols, ld, name) : ln_check_finite_f32(p, rows, cols, ld, name);
}

#if defined(LN_HAVE_AVX2)
typedef struct ln_finite_ctx {
  int f64;
  const void *p;
  int64_t rows, cols, ld;
  int64_t first_bad[LN_PARTS]; /* per part: first row with NaN or Inf, or -1 */
} ln_finite_ctx;

static void ln_finite_part(void *ctx, int part) {
  ln_finite_ctx *f = ctx;
  int64_t b = ln_part_begin(f->rows, part), e = ln_part_begin(f->rows, part + 1), r;
  f->first_bad[part] = -1;
  if (b == e) return; /* empty part: p + b * ld may lie far outside the matrix (UB to form) */
  if (f->f64)
    r = ln_first_nonfinite_row_f64_avx2((const double *)f->p + b * f->ld, e - b, f->cols, f->ld);
  else
    r = ln_first_nonfinite_row_f32_avx2((const float *)f->p + b * f->ld, e - b, f->cols, f->ld);
  f->first_bad[part] = r < 0 ? -1 : b + r;
}
#endif

/* The finite check of a matrix. With AVX2 it scans the same fixed row parts as the compute
   (on `threads` threads); the first part with a bad row is then rescanned by the scalar check
   up to that row, on the calling thread, so the message names the first bad entry. */
static logitnorm_status ln_check_finite(int f64, const void *p, int64_t rows, int64_t cols, int64_t ld,
                                        const char *name, int threads) {
#if defined(LN_HAVE_AVX2)
  if (ln_use_avx2()) {
    ln_finite_ctx f = {f64, p, rows, cols, ld, {0}};
    ln_parallel_parts(threads, LN_PARTS, ln_finite_part, &f);
    for (int part = 0; part < LN_PARTS; ++part)
      if (f.first_bad[part] >= 0) return ln_check_finite_scalar(f64, p, f.first_bad[part] + 1, cols, ld, name);
    return LOGITNORM_OK;
  }
#endif
  (void)threads;
  return ln_check_finite_scalar(f64, p, rows, cols, ld, name);
}

/* Outputs must not overlap inputs or each other; the one exception is grad == logits with
   ldg == ld, which the row kernels support (each element is read before it is written). */
static logitnorm_status ln_loss_check_aliasing(const logitnorm_loss *L, const ln_loss_call *k, size_t elem) {
  int64_t n = k->n, C = L->num_classes;
  struct { const void *p; size_t bytes; const char *name; } in[4] = {
    {k->logits, ln_matrix_span(n, C, k->ld, elem), "logits"},
    {k->labels, k->soft ? 0 : (size_t)n * sizeof(int32_t), "labels"},
    {k->targets, k->soft ? ln_matrix_span(n, C, k->ldt, elem) : 0, "targets"},
    {k->row_scale, k->row_scale ? (size_t)n * elem : 0, "row_scale"},
  }, out[3] = {
    {k->grad, k->grad ? ln_matrix_span(n, C, k->ldg, elem) : 0, "grad"},
    {k->row_loss, k->row_loss ? (size_t)n * elem : 0, "row_loss"},
    {k->loss_out, sizeof(double), "loss_out"},
  };
  int in_place = k->grad != NULL && k->grad == k->logits && k->ldg == k->ld;
  for (int o = 0; o < 3; ++o) {
    for (int i = 0; i < 4; ++i) {
      if (o == 0 && i == 0 && in_place) continue;
      logitnorm_status st = ln_check_disjoint(out[o].p, out[o].bytes, out[o].name, in[i].p, in[i].bytes, in[i].name);
      if (st != LOGITNORM_OK) return st;
    }
    for (int p = o + 1; p < 3; ++p) {
      logitnorm_status st =
          ln_check_disjoint(out[o].p, out[o].bytes, out[o].name, out[p].p, out[p].bytes, out[p].name);
      if (st != LOGITNORM_OK) return st;
    }
  }
  return LOGITNORM_OK;
}

/* LogitNorm scales each row by k = 1/(tau (||z|| + eps)), which the kernels keep in the element
   type. k <= 1/(tau eps), so it can only overflow when tau * eps is below 1/max (eps = 0, or
   extreme settings) and the row is zero or tiny; such rows (0/0 for a zero row) are rejected
   here instead of turning into NaN. The scan runs only in that case. */
static logitnorm_status ln_check_row_scale(const logitnorm_loss *L, const ln_loss_call *k) {
  double max = k->f64 ? DBL_MAX : FLT_MAX;
  if (L->kind != LOGITNORM_LOSS_LOGITNORM || L->tau * L->eps >= 2.0 / max) return LOGITNORM_OK;
  for (int64_t i = 0; i < k->n; ++i) {
    if (!k->soft && k->labels[i] == L->ignore_index) continue;
    double norm = k->f64 ? ln_row_norm_f64((const double *)k->logits + i * k->ld, L->num_classes)
                         : ln_row_norm_f32((const float *)k->logits + i * k->ld, L->num_classes);
    double scale = 1.0 / (L->tau * (norm + L->eps));
    if (!(scale <= max))
      return ln_fail(LOGITNORM_ERR_NONFINITE,
                     "logits row %lld has norm %g: 1/(temperature * (norm + epsilon)) overflows; use epsilon > 0",
                     (long long)i, norm);
  }
  return LOGITNORM_OK;
}

/* Threads only pay off on large batches; the parts are the same either way. */
static int ln_loss_threads(const logitnorm_loss *L, const ln_loss_call *k) {
  return (k->n * L->num_classes >= 32768) ? L->threads : 1;
}

/* Everything a call reads or writes is checked here, before any output is touched. */
static logitnorm_status ln_loss_validate(const logitnorm_loss *L, const ln_loss_call *k, int backward) {
  size_t elem = k->f64 ? sizeof(double) : sizeof(float);
  logitnorm_status st = ln_check_ptr(L, "loss");
  if (st == LOGITNORM_OK) st = ln_check_count(k->n, "n");
  if (st == LOGITNORM_OK) st = ln_check_matrix(k->logits, k->n, L->num_classes, k->ld, elem, "logits");
  if (st == LOGITNORM_OK && !k->soft) st = ln_check_ptr(k->labels, "labels");
  if (st == LOGITNORM_OK && k->soft) st = ln_check_matrix(k->targets, k->n, L->num_classes, k->ldt, elem, "targets");
  if (st == LOGITNORM_OK && backward) st = ln_check_matrix(k->grad, k->n, L->num_classes, k->ldg, elem, "grad");
  if (st == LOGITNORM_OK && backward && !(isfinite(k->alpha) && isfinite(k->beta)))
    st = ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "alpha = %g and beta = %g must be finite", k->alpha, k->beta);
  if (st == LOGITNORM_OK) st = ln_loss_check_aliasing(L, k, elem);
  if (st == LOGITNORM_OK && !k->soft) st = ln_check_labels(k->labels, k->n, L->num_classes, L->ignore_index);
  if (st == LOGITNORM_OK && L->check_finite) {
    int threads = ln_loss_threads(L, k);
    st = ln_check_finite(k->f64, k->logits, k->n, L->num_classes, k->ld, "logits", threads);
    if (st == LOGITNORM_OK && k->soft)
      st = ln_check_finite(k->f64, k->targets, k->n, L->num_classes, k->ldt, "targets", threads);
    if (st == LOGITNORM_OK && k->row_scale && k->n > 0)
      st = ln_check_finite(k->f64, k->row_scale, 1, k->n, k->n, "row_scale", 1);
  }
  if (st == LOGITNORM_OK) st = ln_check_row_scale(L, k);
  return st;
}

/* The MEAN divisor: the sum of target-class weights over rows that are not ignored
   (PyTorch's nll_loss and label-smoothing normalisation), or n for probability targets. */
static double ln_mean_divisor(const logitnorm_loss *L, const ln_loss_call *k) {
  if (k->soft) return (double)k->n;
  double d = 0.0;
  for (int64_t i = 0; i < k->n; ++i) {
    int64_t y = k->labels[i];
    if (y != L->ignore_index) d += L->weights ? L->weights[y] : 1.0;
  }
  return d;
}

static logitnorm_status ln_loss_run(const logitnorm_loss *L, const ln_loss_call *k) {
  int backward = k->grad != NULL || k->row_scale != NULL;
  logitnorm_status st = ln_loss_validate(L, k, backward);
  if (st != LOGITNORM_OK) return st;
  int mean = L->reduction == LOGITNORM_REDUCTION_MEAN;
  double divisor = mean ? ln_mean_divisor(L, k) : 1.0;

  ln_loss_job job = {L, k->logits, k->ld, k->labels, k->targets, k->ldt, k->row_scale, k->row_loss,
                     k->grad, k->ldg, mean ? k->alpha / divisor : k->alpha, k->beta};
  double total = ln_loss_rows_run(&job, k->n, k->f64, k->soft, ln_loss_threads(L, k));
  if (k->loss_out) *k->loss_out = mean ? total / divisor : total;
  return LOGITNORM_OK;
}

/* ---- entry points ---- */

#define LN_LOSS_ENTRY_POINTS(T, SFX, F64)                                                                         \
  LOGITNORM_API logitnorm_status logitnorm_loss_forward_##SFX(const logitnorm_loss *loss, int64_t n,               \
      const T *logits, int64_t ld, const int32_t *labels, double *loss_out, T *row_loss) {                        \
    ln_loss_call k = {F64, 0, n, logits, ld, labels, NULL, 0, NULL, loss_out, row_loss, 0, 0, NULL, 0};          \
    return ln_loss_run(loss, &k);                                                                                 \
  }                                                                                                               \
  LOGITNORM_API logitnorm_status logitnorm_loss_backward_##SFX(const logitnorm_loss *loss, int64_t n,              \
      const T *logits, int64_t ld, const int32_t *labels, const T *row_scale, T alpha, T beta, T *grad,           \
      int64_t ldg) {                                                                                              \
    ln_loss_call k = {F64, 0, n, logits, ld, labels, NULL, 0, row_scale, NULL, NULL, alpha, beta, grad, ldg};     \
    if (grad == NULL) return ln_fail(LOGITNORM_ERR_NULL_POINTER, "grad is NULL");                                 \
    return ln_loss_run(loss, &k);                                                                                 \
  }                                                                                                               \
  LOGITNORM_API logitnorm_status logitnorm_loss_forward_backward_##SFX(const logitnorm_loss *loss, int64_t n,      \
      const T *logits, int64_t ld, const int32_t *labels, double *loss_out, T *row_loss, T alpha, T beta,         \
      T *grad, int64_t ldg) {                                                                                     \
    ln_loss_call k = {F64, 0, n, logits, ld, labels, NULL, 0, NULL, loss_out, row_loss, alpha, beta, grad, ldg};  \
    if (grad == NULL) return ln_fail(LOGITNORM_ERR_NULL_POINTER, "grad is NULL");                                 \
    return ln_loss_run(loss, &k);                                                                                 \
  }                                                                                                               \
  LOGITNORM_API logitnorm_status logitnorm_loss_forward_soft_##SFX(const logitnorm_loss *loss, int64_t n,          \
      const T *logits, int64_t ld, const T *targets, int64_t ldt, double *loss_out, T *row_loss) {                \
    ln_loss_call k = {F64, 1, n, logits, ld, NULL, targets, ldt, NULL, loss_out, row_loss, 0, 0, NULL, 0};        \
    return ln_loss_run(loss, &k);                                                                                 \
  }                                                                                                               \
  LOGITNORM_API logitnorm_status logitnorm_loss_backward_soft_##SFX(const logitnorm_loss *loss, int64_t n,         \
      const T *logits, int64_t ld, const T *targets, int64_t ldt, const T *row_scale, T alpha, T beta, T *grad,   \
      int64_t ldg) {                                                                                              \
    ln_loss_call k = {F64, 1, n, logits, ld, NULL, targets, ldt, row_scale, NULL, NULL, alpha, beta, grad, ldg};  \
    if (grad == NULL) return ln_fail(LOGITNORM_ERR_NULL_POINTER, "grad is NULL");                                 \
    return ln_loss_run(loss, &k);                                                                                 \
  }                                                                                                               \
  LOGITNORM_API logitnorm_status logitnorm_loss_forward_backward_soft_##SFX(const logitnorm_loss *loss, int64_t n, \
      const T *logits, int64_t ld, const T *targets, int64_t ldt, double *loss_out, T *row_loss, T alpha,         \
      T beta, T *grad, int64_t ldg) {                                                                             \
    ln_loss_call k = {F64, 1, n, logits, ld, NULL, targets, ldt, NULL, loss_out, row_loss, alpha, beta, grad,     \
                      ldg};                                                                                       \
    if (grad == NULL) return ln_fail(LOGITNORM_ERR_NULL_POINTER, "grad is NULL");                                 \
    return ln_loss_run(loss, &k);                                                                                 \
  }

LN_LOSS_ENTRY_POINTS(float, f32, 0)
LN_LOSS_ENTRY_POINTS(double, f64, 1)
