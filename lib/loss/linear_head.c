/* The fused linear head: the loss of logits z = x W^T + b and its gradients with respect to
   x, W and b, without ever holding the n x C logits.

   With G = d(loss)/dz (n x C), the chain rule through z = x W^T + b gives
     dx = G W        (n x d)
     dW = G^T x      (C x d)
     db = 1^T G      (C: the column sums of G)
   and every one of these splits over blocks of rows: block B of rows contributes G_B W to
   its own rows of dx, G_B^T x_B to dW and the column sums of G_B to db. So the call walks the
   batch in blocks of R rows, and for each block:
     1. Z_B = x_B W^T (+ b) by one GEMM into the workspace (bias rows copied in first, beta = 1),
     2. the row kernels turn Z_B into G_B in place (the same kernels as the logit entry points,
        with gscale = 1/D for MEAN, where D is the divisor of the WHOLE batch),
     3. dx_B += G_B W and dW += G_B^T x_B by two GEMMs, db += column sums of G_B (in double,
        added to dbias once at the end).
   Memory: one allocation of at most WORKSPACE_BYTES, holding the C double column sums (when
   dbias is wanted), the row kernels' exp caches (C elements per worker, when a row is longer
   than their stack cache) and R rows of logits; R is the largest count that fits, so large
   blocks keep dW's read-modify-write passes (one per block) few. BLIS's own packing buffers
   are outside the bound: BLIS keeps them in its memory pools.

   Bits: BLIS splits GEMMs over m and n only (each element of a product is summed in one
   order), and the row kernels run in fixed parts; R depends on the sizes and the bound, never
   on THREADS. So THREADS changes no bit. A different R (a different bound) regroups dW's and
   db's sums over blocks and may move their last bits.

   Masks. A -inf bias entry masks its class in every row, as a -inf logit does at the logit
   entry points: the class leaves the softmax (and the LogitNorm norm), its gradient is 0, and
   a label naming it is INVALID_LABEL whether CHECK_FINITE is on or off.

   Non-finite values. With CHECK_FINITE, x, W and bias are checked before anything is written
   (NaN and infinities in x and W, NaN and +inf in the bias).
   Finite inputs give finite logits unless |z| <= d max|x| max|W| + max|b| comes near the top of
   the type, and the LogitNorm scale 1/(tau (||z|| + eps)) is finite unless tau eps is tiny; in
   either (rare) case a first pass computes every block's logits and checks them, so that a
   NONFINITE return still leaves every output untouched. Without CHECK_FINITE nothing is
   checked and a NaN or infinity flows into loss_out, row_loss, dx, dW and dbias. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/blas.h"
#include "common/error.h"
#include "common/parallel.h"
#include "common/dispatch.h"
#include "common/validate.h"
#include "loss.h"

typedef struct ln_head_call {
  int f64; /* element type: double when set, float otherwise */
  int64_t n, d;
  const void *x;
  int64_t ldx;
  const void *w;
  int64_t ldw;
  const void *bias;
  const int32_t *labels;
  double *loss_out;
  void *row_loss;
  void *dx;
  int64_t lddx;
  void *dw;
  int64_t lddw;
  void *dbias;
} ln_head_call;

/* The workspace: [C doubles of column sums, when dbias][exp caches, when rows are long]
   [rows x ldz logits]. Sizes are planned in uint64_t (C <= INT32_MAX, so nothing here wraps
   even where size_t has 32 bits) and bounded by WORKSPACE_BYTES before they become a size_t. */
typedef struct ln_head_plan {
  int64_t rows;         /* rows per block */
  int64_t ldz;          /* leading dimension of the block's logits: C rounded up to 64 bytes */
  uint64_t sums_offset; /* byte offsets inside the allocation */
  uint64_t ecache_offset;
  uint64_t block_offset;
  uint64_t bytes; /* the allocation, <= WORKSPACE_BYTES */
} ln_head_plan;

#define LN_HEAD_ALIGN 64

static uint64_t ln_round_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

static size_t ln_elem(const ln_head_call *c) { return c->f64 ? sizeof(double) : sizeof(float); }

static const void *ln_at(const ln_head_call *c, const void *p, int64_t offset) {
  return (const char *)p + (size_t)offset * ln_elem(c);
}

static void *ln_at_mut(const ln_head_call *c, void *p, int64_t offset) {
  return (char *)p + (size_t)offset * ln_elem(c);
}

/* ---- validation ---- */

/* An input matrix; with n = 0 nothing is read, so NULL is accepted there. */
static logitnorm_status ln_head_check_input(const void *p, int64_t n, int64_t rows, int64_t cols, int64_t ld,
                                            size_t elem, const char *name) {
  if (n == 0 && p == NULL) {
    if (ld < cols)
      return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%s: leading dimension %lld is below the %lld columns", name,
                     (long long)ld, (long long)cols);
    return LOGITNORM_OK;
  }
  return ln_check_matrix(p, rows, cols, ld, elem, name);
}

/* Outputs must not overlap any input or each other (no in-place case exists here). */
static logitnorm_status ln_head_check_aliasing(const ln_head_call *c, int64_t C) {
  size_t e = ln_elem(c);
  int64_t n = c->n, d = c->d;
  struct {
    const void *p;
    size_t bytes;
    const char *name;
  } in[4] = {
      {c->x, ln_matrix_span(n, d, c->ldx, e), "x"},
      {c->w, n > 0 ? ln_matrix_span(C, d, c->ldw, e) : 0, "w"},
      {c->bias, c->bias ? ln_array_bytes(C, e) : 0, "bias"},
      {c->labels, ln_array_bytes(n, sizeof(int32_t)), "labels"},
  }, out[5] = {
      {c->dx, c->dx ? ln_matrix_span(n, d, c->lddx, e) : 0, "dx"},
      {c->dw, c->dw ? ln_matrix_span(C, d, c->lddw, e) : 0, "dw"},
      {c->dbias, c->dbias ? ln_array_bytes(C, e) : 0, "dbias"},
      {c->row_loss, c->row_loss ? ln_array_bytes(n, e) : 0, "row_loss"},
      {c->loss_out, sizeof(double), "loss_out"},
  };
  for (int o = 0; o < 5; ++o) {
    for (int i = 0; i < 4; ++i) {
      logitnorm_status st = ln_check_disjoint(out[o].p, out[o].bytes, out[o].name, in[i].p, in[i].bytes, in[i].name);
      if (st != LOGITNORM_OK) return st;
    }
    for (int p = o + 1; p < 5; ++p) {
      logitnorm_status st =
          ln_check_disjoint(out[o].p, out[o].bytes, out[o].name, out[p].p, out[p].bytes, out[p].name);
      if (st != LOGITNORM_OK) return st;
    }
  }
  return LOGITNORM_OK;
}

/* The largest |entry| of a matrix as the bits of its absolute value: IEEE magnitudes order
   as their bit patterns do, so one integer max both finds the largest value and flags a NaN or
   infinity (bits at or above those of infinity). Eight lanes let the compiler vectorise it. */
static uint64_t ln_max_abs_bits(const ln_head_call *c, const void *p, int64_t rows, int64_t cols, int64_t ld) {
  uint64_t lane[8] = {0};
  for (int64_t i = 0; i < rows; ++i) {
    int64_t j = 0;
    if (c->f64) {
      const double *row = (const double *)p + i * ld;
      for (; j + 8 <= cols; j += 8)
        for (int k = 0; k < 8; ++k) {
          uint64_t u;
          memcpy(&u, row + j + k, sizeof u);
          u &= UINT64_C(0x7fffffffffffffff);
          lane[k] = u > lane[k] ? u : lane[k];
        }
      for (; j < cols; ++j) {
        uint64_t u;
        memcpy(&u, row + j, sizeof u);
        u &= UINT64_C(0x7fffffffffffffff);
        lane[0] = u > lane[0] ? u : lane[0];
      }
    } else {
      const float *row = (const float *)p + i * ld;
      uint32_t l32[8] = {0};
      for (; j + 8 <= cols; j += 8)
        for (int k = 0; k < 8; ++k) {
          uint32_t u;
          memcpy(&u, row + j + k, sizeof u);
          u &= UINT32_C(0x7fffffff);
          l32[k] = u > l32[k] ? u : l32[k];
        }
      for (; j < cols; ++j) {
        uint32_t u;
        memcpy(&u, row + j, sizeof u);
        u &= UINT32_C(0x7fffffff);
        l32[0] = u > l32[0] ? u : l32[0];
      }
      for (int k = 0; k < 8; ++k) lane[k] = l32[k] > lane[k] ? l32[k] : lane[k];
    }
  }
  uint64_t m = 0;
  for (int k = 0; k < 8; ++k) m = lane[k] > m ? lane[k] : m;
  return m;
}

/* Checks that a matrix is finite (the message names the first bad entry) and stores its
   largest |entry| in *max_abs. */
static logitnorm_status ln_head_check_finite(const ln_head_call *c, const void *p, int64_t rows, int64_t cols,
                                             int64_t ld, const char *name, double *max_abs) {
  uint64_t bits = ln_max_abs_bits(c, p, rows, cols, ld);
  if (c->f64) {
    if (bits >= UINT64_C(0x7ff0000000000000)) return ln_check_finite_f64(p, rows, cols, ld, name);
    double v;
    memcpy(&v, &bits, sizeof v);
    *max_abs = v;
  } else {
    uint32_t b32 = (uint32_t)bits;
    if (b32 >= UINT32_C(0x7f800000)) return ln_check_finite_f32(p, rows, cols, ld, name);
    float v;
    memcpy(&v, &b32, sizeof v);
    *max_abs = v;
  }
  return LOGITNORM_OK;
}

/* The CHECK_FINITE test of the bias under the mask rule of the logit entry points: a -inf entry
   masks its class in every row (x W^T is finite, so z_j = -inf exactly where bias_j is); NaN
   and +inf are NONFINITE. *max_abs gets the largest |entry| of the unmasked ones. */
static logitnorm_status ln_head_check_bias(const ln_head_call *c, int64_t C, double *max_abs) {
  double m = 0.0;
  for (int64_t j = 0; j < C; ++j) {
    double b = c->f64 ? ((const double *)c->bias)[j] : (double)((const float *)c->bias)[j];
    if (b == -INFINITY) continue;
    if (!isfinite(b))
      return ln_fail(LOGITNORM_ERR_NONFINITE, "bias[%lld] is %s", (long long)j, isnan(b) ? "NaN" : "+inf");
    m = fabs(b) > m ? fabs(b) : m;
  }
  *max_abs = m;
  return LOGITNORM_OK;
}

/* Whether class j is masked (bias_j = -inf). */
static int ln_head_masked(const ln_head_call *c, int64_t j) {
  if (c->bias == NULL) return 0;
  return c->f64 ? ((const double *)c->bias)[j] == -INFINITY : ((const float *)c->bias)[j] == -INFINITY;
}

/* No label may name a masked class; checked with CHECK_FINITE on or off, as the logit entry
   points do (a row masked whole is a label on a masked class unless the row is ignored). */
static logitnorm_status ln_head_check_labels_unmasked(const logitnorm_loss *L, const ln_head_call *c) {
  if (c->bias == NULL) return LOGITNORM_OK;
  for (int64_t i = 0; i < c->n; ++i) {
    int64_t y = c->labels[i];
    if (y != L->ignore_index && ln_head_masked(c, y))
      return ln_fail(LOGITNORM_ERR_INVALID_LABEL, "label %lld at row %lld names a masked class (bias[%lld] is -inf)",
                     (long long)y, (long long)i, (long long)y);
  }
  return LOGITNORM_OK;
}

/* Workers of the row kernels: at most one per part. */
static int ln_head_workers(const logitnorm_loss *L) { return L->threads < LN_PARTS ? L->threads : LN_PARTS; }

/* The block size: the fixed part of the workspace, then as many rows of logits as the bound
   allows (at least one, at most n). */
static logitnorm_status ln_head_plan_blocks(const logitnorm_loss *L, const ln_head_call *c, ln_head_plan *plan) {
  const uint64_t C = (uint64_t)L->num_classes, e = ln_elem(c);
  plan->ldz = (int64_t)(ln_round_up(C * e, LN_HEAD_ALIGN) / e);
  plan->sums_offset = 0;
  plan->ecache_offset = plan->sums_offset + (c->dbias ? ln_round_up(C * sizeof(double), LN_HEAD_ALIGN) : 0);
  /* The row kernels work in place here; rows longer than their stack cache keep exp values
     between passes in one heap block of C elements per worker (else they recompute them). */
  uint64_t ecache = C * e > LN_ECACHE_BYTES ? (uint64_t)ln_head_workers(L) * C * e : 0;
  plan->block_offset = plan->ecache_offset + ln_round_up(ecache, LN_HEAD_ALIGN);
  /* + LN_HEAD_ALIGN: room to align the block inside the allocation */
  uint64_t fixed = plan->block_offset + LN_HEAD_ALIGN, row = (uint64_t)plan->ldz * e;
  uint64_t bound = (uint64_t)L->workspace_bytes;
  if (bound < fixed + row)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT,
                   "workspace_bytes = %llu is below %llu, the least that holds one row of %lld classes",
                   (unsigned long long)bound, (unsigned long long)(fixed + row), (long long)C);
  uint64_t rows = (bound - fixed) / row;
  plan->rows = rows < (uint64_t)c->n ? (int64_t)rows : c->n;
  plan->bytes = fixed + (uint64_t)plan->rows * row;
  return LOGITNORM_OK;
}

/* Whether finite inputs could still give a non-finite logit or LogitNorm scale, which only a
   pass over the computed logits can rule out: |z| <= d max|x| max|W| + max|b| (each partial
   sum of a dot product is bounded by the sum of |products|; the factor 4 covers rounding up
   to d u_T ~ 1), and the scale 1/(tau (||z|| + eps)) can overflow only when tau eps < 2/max. */
static int ln_head_needs_logit_check(const logitnorm_loss *L, const ln_head_call *c, double xmax, double wmax,
                                     double bmax) {
  double max = c->f64 ? DBL_MAX : FLT_MAX;
  double zmax = (double)c->d * xmax * wmax + bmax;
  if (!(zmax <= max / 4)) return 1;
  return L->kind == LOGITNORM_LOSS_LOGITNORM && L->tau * L->eps < 2.0 / max;
}

/* Everything the call reads or writes is checked here, before any output is touched. */
static logitnorm_status ln_head_validate(const logitnorm_loss *L, const ln_head_call *c, int *logit_check) {
  size_t e = ln_elem(c);
  *logit_check = 0;
  logitnorm_status st = ln_check_ptr(L, "loss");
  if (st == LOGITNORM_OK) st = ln_dispatch_check();
  if (st != LOGITNORM_OK) return st;
  int64_t C = L->num_classes, n = c->n;
  st = ln_check_count(n, "n");
  /* d is a feature count, bounded as the scorers bound theirs */
  if (st == LOGITNORM_OK && (c->d < 1 || c->d > INT32_MAX))
    st = ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "d = %lld is outside [1, %d]: the head's feature count",
                 (long long)c->d, INT32_MAX);
  if (st == LOGITNORM_OK) st = ln_head_check_input(c->x, n, n, c->d, c->ldx, e, "x");
  if (st == LOGITNORM_OK) st = ln_head_check_input(c->w, n, C, c->d, c->ldw, e, "w");
  if (st == LOGITNORM_OK && n > 0) st = ln_check_ptr(c->labels, "labels");
  if (st == LOGITNORM_OK && c->dx) st = ln_check_matrix(c->dx, n, c->d, c->lddx, e, "dx");
  if (st == LOGITNORM_OK && c->dw) st = ln_check_matrix(c->dw, C, c->d, c->lddw, e, "dw");
  if (st == LOGITNORM_OK) st = ln_head_check_aliasing(c, C);
  if (st == LOGITNORM_OK && n > 0) st = ln_check_labels(c->labels, n, C, L->ignore_index);
  if (st == LOGITNORM_OK && n > 0) st = ln_head_check_labels_unmasked(L, c);
  if (st == LOGITNORM_OK && L->check_finite && n > 0) {
    double xmax = 0.0, wmax = 0.0, bmax = 0.0;
    st = ln_head_check_finite(c, c->x, n, c->d, c->ldx, "x", &xmax);
    if (st == LOGITNORM_OK) st = ln_head_check_finite(c, c->w, C, c->d, c->ldw, "w", &wmax);
    if (st == LOGITNORM_OK && c->bias) st = ln_head_check_bias(c, C, &bmax);
    if (st == LOGITNORM_OK) *logit_check = ln_head_needs_logit_check(L, c, xmax, wmax, bmax);
  }
  return st;
}

/* ---- the blocks ---- */

typedef struct ln_head_run {
  const logitnorm_loss *L;
  const ln_head_call *c;
  const ln_blas *blas;
  void *Z;     /* the block: rows x ldz */
  int64_t ldz;
  double *sums; /* C column sums of G, or NULL */
  void *ecache; /* the row kernels' exp caches, or NULL */
  int threads;  /* for the row kernels and the column sums */
} ln_head_run;

/* An operand of a product: element (i, j) at p + i rs + j cs, in the call's element type. A
   transposed operand is the same one with rs and cs swapped. */
typedef struct ln_operand {
  const void *p;
  int64_t rs, cs;
} ln_operand;

/* out (m x n, row stride ldo) = a (m x k) b (k x n) + beta out. */
typedef struct ln_product {
  int64_t m, n, k;
  ln_operand a, b;
  double beta; /* 0 overwrites out without reading it, 1 accumulates */
  void *out;
  int64_t ldo;
} ln_product;

static void ln_head_gemm(const ln_head_run *r, const ln_product *g) {
  if (r->c->f64)
    ln_gemm_f64(r->blas, g->m, g->n, g->k, 1.0, g->a.p, g->a.rs, g->a.cs, g->b.p, g->b.rs, g->b.cs, g->beta, g->out,
                g->ldo, 1);
  else
    ln_gemm_f32(r->blas, g->m, g->n, g->k, 1.0f, g->a.p, g->a.rs, g->a.cs, g->b.p, g->b.rs, g->b.cs, (float)g->beta,
                g->out, g->ldo, 1);
}

/* Z = x[i0 : i0 + m] W^T + bias. */
static void ln_linear_block_logits(const ln_head_run *r, int64_t i0, int64_t m) {
  const ln_head_call *c = r->c;
  int64_t C = r->L->num_classes;
  if (c->bias)
    for (int64_t i = 0; i < m; ++i) memcpy(ln_at_mut(c, r->Z, i * r->ldz), c->bias, (size_t)C * ln_elem(c));
  ln_head_gemm(r, &(ln_product){.m = m, .n = C, .k = c->d,
                                .a = {.p = ln_at(c, c->x, i0 * c->ldx), .rs = c->ldx, .cs = 1}, /* x block */
                                .b = {.p = c->w, .rs = 1, .cs = c->ldw},                        /* W^T */
                                .beta = c->bias ? 1.0 : 0.0,
                                .out = r->Z,
                                .ldo = r->ldz});
}

/* The CHECK_FINITE test of a block's logits, for the rows the loss reads (not ignored). */
static logitnorm_status ln_head_check_logits(const ln_head_run *r, int64_t i0, int64_t m) {
  const logitnorm_loss *L = r->L;
  const ln_head_call *c = r->c;
  int64_t C = L->num_classes;
  double max = c->f64 ? DBL_MAX : FLT_MAX;
  for (int64_t i = 0; i < m; ++i) {
    if (c->labels[i0 + i] == L->ignore_index) continue;
    const void *z = ln_at(c, r->Z, i * r->ldz);
    for (int64_t j = 0; j < C; ++j) {
      double v = c->f64 ? ((const double *)z)[j] : ((const float *)z)[j];
      if (!isfinite(v) && !ln_head_masked(c, j))
        return ln_fail(LOGITNORM_ERR_NONFINITE, "logit [%lld][%lld] of x W^T + bias is %s", (long long)(i0 + i),
                       (long long)j, isnan(v) ? "NaN" : "infinite");
    }
    if (L->kind == LOGITNORM_LOSS_LOGITNORM) {
      double norm = c->f64 ? ln_row_norm_f64(z, C) : ln_row_norm_f32(z, C);
      if (!(1.0 / (L->tau * (norm + L->eps)) <= max))
        return ln_fail(LOGITNORM_ERR_NONFINITE,
                       "logits row %lld of x W^T + bias has norm %g: 1/(temperature * (norm + epsilon)) "
                       "overflows; use epsilon > 0",
                       (long long)(i0 + i), norm);
    }
  }
  return LOGITNORM_OK;
}

typedef struct ln_colsum_ctx {
  const ln_head_run *r;
  int64_t m;
} ln_colsum_ctx;

/* sums[c] += sum over the block's rows of G[i][c], rows in order; parts split the columns,
   so every column is summed in the same order for any thread count. */
static void ln_head_colsum_part(void *ctx, int part) {
  const ln_colsum_ctx *k = ctx;
  const ln_head_run *r = k->r;
  int64_t C = r->L->num_classes, c0 = ln_part_begin(C, part), c1 = ln_part_begin(C, part + 1);
  for (int64_t i = 0; i < k->m; ++i) {
    if (r->c->f64) {
      const double *g = (const double *)r->Z + i * r->ldz;
      for (int64_t j = c0; j < c1; ++j) r->sums[j] += g[j];
    } else {
      const float *g = (const float *)r->Z + i * r->ldz;
      for (int64_t j = c0; j < c1; ++j) r->sums[j] += (double)g[j];
    }
  }
}

/* One block: logits (unless the checking pass left them in place), G in place, the three
   accumulations. Returns the block's loss sum. */
static double ln_head_block(const ln_head_run *r, int64_t i0, int64_t m, int have_logits, double gscale) {
  const ln_head_call *c = r->c;
  int64_t C = r->L->num_classes;
  int backward = c->dx || c->dw || c->dbias;
  if (!have_logits) ln_linear_block_logits(r, i0, m);
  ln_loss_job job = {
      .loss = r->L,
      .mode = LN_ROWS_LABELS,
      .logits = r->Z,
      .ld = r->ldz,
      .labels = c->labels + i0,
      .row_loss = c->row_loss ? ln_at_mut(c, c->row_loss, i0) : NULL,
      .grad = backward ? r->Z : NULL,
      .ldg = r->ldz,
      .gscale = gscale,
      .beta = 0.0,
  };
  int threads = m * C >= 32768 ? r->threads : 1;
  double sum = ln_loss_rows_run(&job, m, c->f64 ? LN_ELEM_F64 : LN_ELEM_F32, threads, r->ecache);
  if (c->dx)
    ln_head_gemm(r, &(ln_product){.m = m, .n = c->d, .k = C,
                                  .a = {.p = r->Z, .rs = r->ldz, .cs = 1}, /* G */
                                  .b = {.p = c->w, .rs = c->ldw, .cs = 1}, /* W */
                                  .beta = 1.0,
                                  .out = ln_at_mut(c, c->dx, i0 * c->lddx),
                                  .ldo = c->lddx});
  if (c->dw)
    ln_head_gemm(r, &(ln_product){.m = C, .n = c->d, .k = m,
                                  .a = {.p = r->Z, .rs = 1, .cs = r->ldz},                        /* G^T */
                                  .b = {.p = ln_at(c, c->x, i0 * c->ldx), .rs = c->ldx, .cs = 1}, /* x block */
                                  .beta = 1.0,
                                  .out = c->dw,
                                  .ldo = c->lddw});
  if (c->dbias) {
    ln_colsum_ctx k = {r, m};
    ln_parallel_parts(threads, LN_PARTS, ln_head_colsum_part, &k);
  }
  return sum;
}

static logitnorm_status ln_head_run_call(const logitnorm_loss *L, const ln_head_call *c) {
  int logit_check;
  logitnorm_status st = ln_head_validate(L, c, &logit_check);
  if (st != LOGITNORM_OK) return st;
  int mean = L->reduction == LOGITNORM_REDUCTION_MEAN;
  double divisor = mean ? ln_loss_mean_divisor(L, c->n, c->labels) : 1.0;
  if (c->n == 0) {
    double total = 0.0; /* MEAN of nothing is 0/0 = NaN, as for the logit entry points */
    if (c->loss_out) *c->loss_out = mean ? total / divisor : total;
    return LOGITNORM_OK;
  }
  ln_head_plan plan = {0};
  st = ln_head_plan_blocks(L, c, &plan);
  if (st != LOGITNORM_OK) return st;
  char *mem = plan.bytes <= SIZE_MAX ? ln_malloc((int64_t)plan.bytes, 1) : NULL;
  if (mem == NULL)
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for the linear head's %llu-byte workspace",
                   (unsigned long long)plan.bytes);
  uintptr_t block = ((uintptr_t)(mem + plan.block_offset) + LN_HEAD_ALIGN - 1) & ~(uintptr_t)(LN_HEAD_ALIGN - 1);
  ln_head_run r = {
      .L = L,
      .c = c,
      .blas = L->blas,
      .Z = (void *)block,
      .ldz = plan.ldz,
      .sums = c->dbias ? (double *)(mem + plan.sums_offset) : NULL,
      .ecache = plan.block_offset > plan.ecache_offset ? mem + plan.ecache_offset : NULL,
      .threads = L->threads,
  };
  if (r.sums) memset(r.sums, 0, (size_t)L->num_classes * sizeof(double));

  /* The checking pass; with a single block its logits stay in the workspace for the next. */
  int64_t n = c->n, R = plan.rows;
  if (logit_check)
    for (int64_t i0 = 0; i0 < n && st == LOGITNORM_OK; i0 += R) {
      int64_t m = n - i0 < R ? n - i0 : R;
      ln_linear_block_logits(&r, i0, m);
      st = ln_head_check_logits(&r, i0, m);
    }
  if (st != LOGITNORM_OK) {
    ln_free(mem);
    return st;
  }

  double gscale = mean ? 1.0 / divisor : 1.0, total = 0.0;
  for (int64_t i0 = 0; i0 < n; i0 += R) {
    int64_t m = n - i0 < R ? n - i0 : R;
    total += ln_head_block(&r, i0, m, logit_check && R >= n, gscale);
  }
  if (c->dbias)
    for (int64_t j = 0; j < L->num_classes; ++j) {
      if (c->f64)
        ((double *)c->dbias)[j] += r.sums[j];
      else
        ((float *)c->dbias)[j] = (float)((double)((float *)c->dbias)[j] + r.sums[j]);
    }
  if (c->loss_out) *c->loss_out = mean ? total / divisor : total;
  ln_free(mem);
  return LOGITNORM_OK;
}

/* ---- entry points ---- */

LOGITNORM_API logitnorm_status logitnorm_loss_linear_forward_backward_f32(const logitnorm_loss *loss, int64_t n,
    int64_t d, const float *x, int64_t ldx, const float *w, int64_t ldw, const float *bias, const int32_t *labels,
    double *loss_out, float *row_loss, float *dx, int64_t lddx, float *dw, int64_t lddw, float *dbias) {
  ln_head_call c = {.f64 = 0, .n = n, .d = d, .x = x, .ldx = ldx, .w = w, .ldw = ldw, .bias = bias,
                    .labels = labels, .loss_out = loss_out, .row_loss = row_loss, .dx = dx, .lddx = lddx,
                    .dw = dw, .lddw = lddw, .dbias = dbias};
  return ln_head_run_call(loss, &c);
}

LOGITNORM_API logitnorm_status logitnorm_loss_linear_forward_backward_f64(const logitnorm_loss *loss, int64_t n,
    int64_t d, const double *x, int64_t ldx, const double *w, int64_t ldw, const double *bias,
    const int32_t *labels, double *loss_out, double *row_loss, double *dx, int64_t lddx, double *dw, int64_t lddw,
    double *dbias) {
  ln_head_call c = {.f64 = 1, .n = n, .d = d, .x = x, .ldx = ldx, .w = w, .ldw = ldw, .bias = bias,
                    .labels = labels, .loss_out = loss_out, .row_loss = row_loss, .dx = dx, .lddx = lddx,
                    .dw = dw, .lddw = lddw, .dbias = dbias};
  return ln_head_run_call(loss, &c);
}
