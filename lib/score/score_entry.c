/* The score entry points: score_f32 and its bf16 and f16 twins, which share one body, and
   score_grad_f32. Every call validates everything first, computes into a temporary array
   and copies it to `scores` only when the whole batch succeeded.
   A half call equals the _f32 call on the exactly widened values because it runs the same
   float code on them: the logit-only kinds widen each row into a row of their part's work
   space; the other kinds widen blocks of rows into one scratch block and score block by
   block. Those kinds score rows independently, but in blocks of their own (LN_SCORE_BLOCK
   rows, KNN and NNGUIDE LN_SCORE_QUERY_BLOCK), and a half block has that many rows: each
   block of the half call is scored as the _f32 call scores the same rows, down to the shapes
   of the GEMM calls, so no result depends on how BLIS treats a shape. */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/matrix_in.h"
#include "common/parallel.h"
#include "common/validate.h"
#include "scorer_internal.h"

/* One score call, its matrices in their storage type (the one the kind does not use may be
   anything, as in the public calls). */
typedef struct ln_score_call {
  int64_t n;
  ln_matrix_in logits, features;
  float *scores;
} ln_score_call;

/* What every score call checks first: state, head, and the kind's inputs. Sizes are checked
   as floats, overlap in the stored bytes. */
static logitnorm_status ln_check_score_call(const logitnorm_scorer *s, const ln_score_call *k, size_t out_bytes) {
  logitnorm_status st = ln_check_count(k->n, "n");
  if (st != LOGITNORM_OK) return st;
  int react_clip = s->kind == LOGITNORM_SCORE_REACT && s->clip > 0.0;
  if (ln_kind_fits(s->kind) && !s->prepared && !react_clip)
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "score kind %d must be fitted and prepared before scoring", s->kind);
  if (ln_kind_needs_head(s->kind) && !s->has_head)
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "score kind %d needs set_head_f32 before scoring", s->kind);
  if ((s->kind == LOGITNORM_SCORE_KNN || s->kind == LOGITNORM_SCORE_NNGUIDE) && s->k > s->bank_n)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "k = %lld exceeds the %lld fitted rows of the bank",
                   (long long)s->k, (long long)s->bank_n);
  if (ln_kind_needs_features(s->kind)) {
    int64_t d = s->feature_dim;
    st = ln_check_matrix_in(&k->features, k->n, d, "features");
    if (st == LOGITNORM_OK) st = ln_check_finite_in(&k->features, k->n, d, "features");
    if (st == LOGITNORM_OK)
      st = ln_check_disjoint(k->scores, out_bytes, "scores", k->features.p, ln_matrix_in_span(&k->features, k->n, d),
                             "features");
  } else {
    int64_t c = s->num_classes;
    st = ln_check_matrix_in(&k->logits, k->n, c, "logits");
    /* -inf is a masked class (DESIGN.md, Version 1.1); NaN, +inf and all-masked rows are not */
    if (st == LOGITNORM_OK) st = ln_check_masked_in(&k->logits, k->n, c, "logits");
    if (st == LOGITNORM_OK)
      st = ln_check_disjoint(k->scores, out_bytes, "scores", k->logits.p, ln_matrix_in_span(&k->logits, k->n, c),
                             "logits");
  }
  return st;
}

/* Logit scores over row parts. Each part has its own work space: 3C doubles (the row's work
   and C gradient doubles) and, for half logits, C floats into which it widens its rows. */
typedef struct ln_logit_job {
  const logitnorm_scorer *s;
  int64_t n;
  ln_matrix_in logits;
  float *scores, *grad; /* n scores and n x C gradient entries (or NULL) */
  double *work;         /* per part: 3C doubles */
  float *rows;          /* per part: C floats (half logits only) */
  int shared_work;      /* one thread: every part uses slot 0 */
} ln_logit_job;

static void ln_logit_part(void *ctx, int part) {
  const ln_logit_job *job = ctx;
  int64_t c = job->s->num_classes, slot = job->shared_work ? 0 : part, ld = 0;
  double *work = job->work + slot * 3 * c;
  double *g = job->grad != NULL ? work + 2 * c : NULL;
  float *row = job->rows != NULL ? job->rows + slot * c : NULL;
  for (int64_t i = ln_part_begin(job->n, part); i < ln_part_begin(job->n, part + 1); ++i) {
    job->scores[i] = (float)ln_logit_score(job->s, ln_rows_f32(&job->logits, i, 1, c, row, &ld), g, work);
    if (g != NULL)
      for (int64_t j = 0; j < c; ++j) job->grad[i * c + j] = (float)g[j];
  }
}

static logitnorm_status ln_logit_rows(const logitnorm_scorer *s, int64_t n, const ln_matrix_in *logits,
                                      float *scores, float *grad) {
  int64_t c = s->num_classes, parts = s->threads > 1 ? LN_PARTS : 1;
  int half = logits->type != LN_STORE_F32;
  /* one block: the doubles first, then (half) the float rows */
  size_t bytes = 3 * sizeof(double) + (half ? sizeof(float) : 0);
  double *work = ln_calloc(parts * c, bytes);
  if (work == NULL) return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for scoring work space");
  ln_logit_job job = {.s = s, .n = n, .logits = *logits, .scores = scores, .grad = grad, .work = work,
                      .rows = half ? (float *)(void *)(work + parts * 3 * c) : NULL, .shared_work = parts == 1};
  ln_parallel_parts(s->threads, LN_PARTS, ln_logit_part, &job);
  ln_free(work);
  return LOGITNORM_OK;
}

static logitnorm_status ln_check_scores_finite(const float *v, int64_t n, int64_t cols, const char *name) {
  for (int64_t i = 0; i < n * cols; ++i)
    if (!isfinite(v[i]))
      return ln_fail(LOGITNORM_ERR_NONFINITE, "%s of row %lld is not finite (inputs too large for float?)", name,
                     (long long)(i / cols));
  return LOGITNORM_OK;
}

/* The family of a kind that scores float rows block by block (every kind but the logit-only ones). */
static logitnorm_status ln_score_block_rows(const logitnorm_scorer *s, const ln_score_block *b) {
  switch (s->kind) {
    case LOGITNORM_SCORE_KL_MATCHING: return ln_klm_score(s, b);
    case LOGITNORM_SCORE_MAHALANOBIS:
    case LOGITNORM_SCORE_RMDS: return ln_maha_score(s, b);
    case LOGITNORM_SCORE_KNN: return ln_knn_score(s, b);
    case LOGITNORM_SCORE_VIM: return ln_vim_score(s, b);
    case LOGITNORM_SCORE_NNGUIDE: return ln_nnguide_score(s, b);
    case LOGITNORM_SCORE_FDBD: return ln_fdbd_score(s, b);
    case LOGITNORM_SCORE_SCALE: return ln_scale_score(s, b);
    case LOGITNORM_SCORE_DML: return ln_dml_score(s, b);
    default: return ln_head_score(s, b); /* GRADNORM, REACT, ASH, DICE */
  }
}

/* The rows of m go through the kind in blocks: one block of all n rows for floats (read in
   place), blocks of the kind's own block size for half rows, widened into one scratch block. */
static logitnorm_status ln_score_blocks(const logitnorm_scorer *s, int64_t n, const ln_matrix_in *m, int64_t cols,
                                        float *out) {
  int64_t blk = n;
  float *buf = NULL;
  if (m->type != LN_STORE_F32) {
    int query = s->kind == LOGITNORM_SCORE_KNN || s->kind == LOGITNORM_SCORE_NNGUIDE;
    blk = query ? LN_SCORE_QUERY_BLOCK : LN_SCORE_BLOCK;
    if (blk > n) blk = n;
    buf = ln_malloc(blk * cols, sizeof *buf);
    if (buf == NULL)
      return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for %lld widened rows of %lld values",
                     (long long)blk, (long long)cols);
  }
  logitnorm_status st = LOGITNORM_OK;
  for (int64_t i0 = 0; i0 < n && st == LOGITNORM_OK; i0 += blk) {
    int64_t rows = n - i0 < blk ? n - i0 : blk, ld = 0;
    const float *x = ln_rows_f32(m, i0, rows, cols, buf, &ld);
    const ln_score_block b = {.n = rows, .first = i0, .rows = x, .ld = ld, .out = out + i0};
    st = ln_score_block_rows(s, &b);
  }
  ln_free(buf);
  return st;
}

static logitnorm_status ln_score(const logitnorm_scorer *s, const ln_score_call *k) {
  logitnorm_status st = ln_check_ptr(s, "s");
  if (st == LOGITNORM_OK) st = ln_check_ptr(k->scores, "scores");
  if (st == LOGITNORM_OK) st = ln_check_score_call(s, k, ln_array_bytes(k->n, sizeof *k->scores));
  if (st != LOGITNORM_OK) return st;
  if (k->n == 0) return LOGITNORM_OK;
  float *out = ln_calloc(k->n, sizeof *out);
  if (out == NULL) return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for %lld scores", (long long)k->n);
  if (ln_kind_logit_only(s->kind))
    st = ln_logit_rows(s, k->n, &k->logits, out, NULL);
  else if (s->kind == LOGITNORM_SCORE_KL_MATCHING)
    st = ln_score_blocks(s, k->n, &k->logits, s->num_classes, out);
  else
    st = ln_score_blocks(s, k->n, &k->features, s->feature_dim, out);
  if (st == LOGITNORM_OK) st = ln_check_scores_finite(out, k->n, 1, "score");
  if (st == LOGITNORM_OK) memcpy(k->scores, out, (size_t)k->n * sizeof *out);
  ln_free(out);
  return st;
}

LOGITNORM_API logitnorm_status logitnorm_scorer_score_f32(const logitnorm_scorer *s, int64_t n, const float *logits,
                                                          int64_t ld, const float *features, int64_t ldf,
                                                          float *scores) {
  const ln_score_call k = {.n = n,
                           .logits = {.type = LN_STORE_F32, .p = logits, .ld = ld},
                           .features = {.type = LN_STORE_F32, .p = features, .ld = ldf},
                           .scores = scores};
  return ln_score(s, &k);
}

LOGITNORM_API logitnorm_status logitnorm_scorer_score_bf16(const logitnorm_scorer *s, int64_t n,
                                                           const logitnorm_bf16 *logits, int64_t ld,
                                                           const logitnorm_bf16 *features, int64_t ldf,
                                                           float *scores) {
  const ln_score_call k = {.n = n,
                           .logits = {.type = LN_STORE_BF16, .p = logits, .ld = ld},
                           .features = {.type = LN_STORE_BF16, .p = features, .ld = ldf},
                           .scores = scores};
  return ln_score(s, &k);
}

LOGITNORM_API logitnorm_status logitnorm_scorer_score_f16(const logitnorm_scorer *s, int64_t n,
                                                          const logitnorm_f16 *logits, int64_t ld,
                                                          const logitnorm_f16 *features, int64_t ldf,
                                                          float *scores) {
  const ln_score_call k = {.n = n,
                           .logits = {.type = LN_STORE_F16, .p = logits, .ld = ld},
                           .features = {.type = LN_STORE_F16, .p = features, .ld = ldf},
                           .scores = scores};
  return ln_score(s, &k);
}

LOGITNORM_API logitnorm_status logitnorm_scorer_score_grad_f32(const logitnorm_scorer *s, int64_t n,
                                                               const float *logits, int64_t ld, float *scores,
                                                               float *grad, int64_t ldg) {
  logitnorm_status st = ln_check_ptr(s, "s");
  if (st != LOGITNORM_OK) return st;
  if (!ln_kind_logit_only(s->kind))
    return ln_fail(LOGITNORM_ERR_UNSUPPORTED, "score kind %d has no logit gradient", s->kind);
  int64_t c = s->num_classes;
  const ln_score_call k = {.n = n, .logits = {.type = LN_STORE_F32, .p = logits, .ld = ld}, .scores = scores};
  st = ln_check_score_call(s, &k, scores != NULL ? ln_array_bytes(n, sizeof *scores) : 0);
  if (st == LOGITNORM_OK) st = ln_check_matrix(grad, n, c, ldg, sizeof *grad, "grad");
  if (st != LOGITNORM_OK) return st;
  size_t gspan = ln_matrix_span(n, c, ldg, sizeof *grad);
  /* grad == logits with the same leading dimension is in place; any other overlap is an error. */
  if (!((const void *)grad == (const void *)logits && ldg == ld))
    st = ln_check_disjoint(grad, gspan, "grad", logits, ln_matrix_span(n, c, ld, sizeof *logits), "logits");
  if (st == LOGITNORM_OK && scores != NULL)
    st = ln_check_disjoint(grad, gspan, "grad", scores, ln_array_bytes(n, sizeof *scores), "scores");
  if (st != LOGITNORM_OK) return st;
  if (n == 0) return LOGITNORM_OK;
  float *out = ln_calloc(n, sizeof *out), *g = ln_calloc(n * c, sizeof *g);
  if (out == NULL || g == NULL) {
    ln_free(out);
    ln_free(g);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for %lld gradient rows", (long long)n);
  }
  st = ln_logit_rows(s, n, &k.logits, out, g);
  if (st == LOGITNORM_OK) st = ln_check_scores_finite(out, n, 1, "score");
  if (st == LOGITNORM_OK) st = ln_check_scores_finite(g, n, c, "gradient");
  if (st == LOGITNORM_OK) {
    if (scores != NULL) memcpy(scores, out, (size_t)n * sizeof *out);
    for (int64_t i = 0; i < n; ++i) memcpy(grad + i * ldg, g + i * c, (size_t)c * sizeof *g);
  }
  ln_free(out);
  ln_free(g);
  return st;
}
