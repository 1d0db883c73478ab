/* Save and load of a scorer in the common blob frame (object LN_BLOB_SCORER, subkind = the
   score kind). Only a usable scorer is saved: a fitting kind must be prepared first
   (LOGITNORM_ERR_INVALID_STATE otherwise). Payload, little-endian:
     u32 kind, i64 C, i64 D
     f64 temperature, gamma, percentile, clip, ridge; i64 top_m, k, vim_dim; u32 ash_variant, threads
     u32 prepared, u32 has_head, u32 has_bias
     [has_head] array W (C*D f32); [has_bias] array b (C f32)
     then the prepared state of the kind:
       KL_MATCHING  i64 K, array log-templates (K*C f64)
       MAHALANOBIS  i64 K, array g (D f32), array A (D*D f32), array means (K*D f64)
       RMDS         as MAHALANOBIS, then array A0 (D*D f32)
       KNN          i64 N, array bank (N*D f32)
       VIM          f64 alpha, array u (D f32), i64 R, array NS (D*R f32)
       REACT        f64 clip value from the fit percentile
       DICE         array masked W (C*D f32)
       NNGUIDE      i64 N, array bank (N*D f32): the fit rows normalised and scaled by their energy
       FDBD         array mean fit feature (D f64)
       DML          f64 lambda
   (SCALE has no state of its own.) NNGUIDE, FDBD, SCALE and DML are kinds of 1.2; their blobs
   use the frame version of 1.0 and 1.1, whose readers reject them as an unknown kind. LAMBDA
   is saved with DML, the one kind that uses it; a loaded scorer of another kind has LAMBDA 0.
   Derived arrays (KNN's bank norms, FDBD's head distances, DML's unit head) are not saved but
   recomputed on load, so they cannot disagree with what they derive from.
   where "array" is a u64 element count followed by the elements. Every count must equal
   the size the header fields imply, and every value is range-checked on load.
   `threads` is not part of the model: how many threads to score with belongs to the machine
   that loads the blob, and a blob from elsewhere must not start threads the caller did not
   ask for. It is written as 1 (so a blob does not depend on the saver's THREADS, and 1.0
   readers, which require [1, 1024], still load it) and ignored on load, whatever its value:
   a loaded scorer has THREADS = 1 until the caller sets it. */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/blob.h"
#include "common/error.h"
#include "common/validate.h"
#include "scorer_internal.h"

static void ln_put_f32_array(ln_writer *w, const float *v, int64_t n) {
  ln_put_u64(w, (uint64_t)n);
  ln_put_f32s(w, v, n);
}

static void ln_put_f64_array(ln_writer *w, const double *v, int64_t n) {
  ln_put_u64(w, (uint64_t)n);
  ln_put_f64s(w, v, n);
}

static void ln_scorer_payload(ln_writer *w, const void *ctx) {
  const logitnorm_scorer *s = ctx;
  int64_t c = s->num_classes, d = s->feature_dim;
  ln_put_u32(w, (uint32_t)s->kind);
  ln_put_i64(w, c);
  ln_put_i64(w, d);
  ln_put_f64(w, s->temperature);
  ln_put_f64(w, s->gamma);
  ln_put_f64(w, s->percentile);
  ln_put_f64(w, s->clip);
  ln_put_f64(w, s->ridge);
  ln_put_i64(w, s->top_m);
  ln_put_i64(w, s->k);
  ln_put_i64(w, s->vim_dim);
  ln_put_u32(w, (uint32_t)s->ash_variant);
  ln_put_u32(w, 1u); /* threads: see the top of the file */
  ln_put_u32(w, (uint32_t)s->prepared);
  ln_put_u32(w, (uint32_t)s->has_head);
  ln_put_u32(w, (uint32_t)s->has_bias);
  if (s->has_head) ln_put_f32_array(w, s->weight, c * d);
  if (s->has_bias) ln_put_f32_array(w, s->bias, c);
  switch (s->kind) {
    case LOGITNORM_SCORE_KL_MATCHING:
      ln_put_i64(w, s->n_templates);
      ln_put_f64_array(w, s->templates, s->n_templates * c);
      break;
    case LOGITNORM_SCORE_MAHALANOBIS:
    case LOGITNORM_SCORE_RMDS:
      ln_put_i64(w, s->n_templates);
      ln_put_f32_array(w, s->center, d);
      ln_put_f32_array(w, s->whiten, d * d);
      ln_put_f64_array(w, s->templates, s->n_templates * d);
      if (s->kind == LOGITNORM_SCORE_RMDS) ln_put_f32_array(w, s->whiten_bg, d * d);
      break;
    case LOGITNORM_SCORE_KNN:
      ln_put_i64(w, s->bank_n);
      ln_put_f32_array(w, s->bank, s->bank_n * d);
      break;
    case LOGITNORM_SCORE_VIM:
      ln_put_f64(w, s->vim_alpha);
      ln_put_f32_array(w, s->center, d);
      ln_put_i64(w, s->vim_rest);
      ln_put_f32_array(w, s->vim_basis, d * s->vim_rest);
      break;
    case LOGITNORM_SCORE_REACT: ln_put_f64(w, s->react_clip); break;
    case LOGITNORM_SCORE_DICE: ln_put_f32_array(w, s->dice_weight, c * d); break;
    case LOGITNORM_SCORE_NNGUIDE:
      ln_put_i64(w, s->bank_n);
      ln_put_f32_array(w, s->bank, s->bank_n * d);
      break;
    case LOGITNORM_SCORE_FDBD: ln_put_f64_array(w, s->fit_mean, d); break;
    case LOGITNORM_SCORE_DML: ln_put_f64(w, s->lambda); break;
  }
}

LOGITNORM_API logitnorm_status logitnorm_scorer_save(const logitnorm_scorer *s, void *buf, size_t capacity,
                                                     size_t *size) {
  logitnorm_status st = ln_check_ptr(s, "s");
  if (st != LOGITNORM_OK) return st;
  if (ln_kind_fits(s->kind) && !s->prepared)
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "a fitting scorer is saved only after prepare");
  return ln_blob_save(LN_BLOB_SCORER, (uint32_t)s->kind, ln_scorer_payload, s, buf, capacity, size);
}

/* ---- load ---- */

static int ln_all_finite_f32(const float *v, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!isfinite(v[i])) return 0;
  return 1;
}

static int ln_all_finite_f64(const double *v, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!isfinite(v[i])) return 0;
  return 1;
}

/* Reads an array whose count must be exactly n (checked against the bytes left before any
   allocation) and whose values must be finite. 0 on success, -1 corrupt, -2 out of memory. */
static int ln_get_f32_array(ln_reader *r, int64_t n, float **out) {
  int64_t got = ln_get_count(r, sizeof(float), INT64_MAX);
  if (got != n) return -1;
  float *v = ln_calloc(n, sizeof *v);
  if (v == NULL) return -2;
  ln_get_f32s(r, v, n);
  if (r->bad || !ln_all_finite_f32(v, n)) {
    ln_free(v);
    return -1;
  }
  *out = v;
  return 0;
}

static int ln_get_f64_array(ln_reader *r, int64_t n, double **out) {
  int64_t got = ln_get_count(r, sizeof(double), INT64_MAX);
  if (got != n) return -1;
  double *v = ln_calloc(n, sizeof *v);
  if (v == NULL) return -2;
  ln_get_f64s(r, v, n);
  if (r->bad || !ln_all_finite_f64(v, n)) {
    ln_free(v);
    return -1;
  }
  *out = v;
  return 0;
}

/* A count field in [lo, hi]; -1 otherwise. */
static int64_t ln_get_range(ln_reader *r, int64_t lo, int64_t hi) {
  int64_t v = ln_get_i64(r);
  return (r->bad || v < lo || v > hi) ? -1 : v;
}

/* Every D*D, K*D, ... product below stays far from overflow: D, C <= INT32_MAX, and a count
   larger than the blob is rejected by ln_get_count before it is used. */
static int ln_load_state(ln_reader *r, logitnorm_scorer *s) {
  int64_t c = s->num_classes, d = s->feature_dim;
  int rc = 0;
  switch (s->kind) {
    case LOGITNORM_SCORE_KL_MATCHING:
      if ((s->n_templates = ln_get_range(r, 1, c)) < 0) return -1;
      if ((rc = ln_get_f64_array(r, s->n_templates * c, &s->templates)) != 0) return rc;
      for (int64_t i = 0; i < s->n_templates * c; ++i)
        if (s->templates[i] > 0.0) return -1; /* logs of probabilities */
      return 0;
    case LOGITNORM_SCORE_MAHALANOBIS:
    case LOGITNORM_SCORE_RMDS:
      if ((s->n_templates = ln_get_range(r, 1, c)) < 0) return -1;
      if ((rc = ln_get_f32_array(r, d, &s->center)) != 0) return rc;
      if ((rc = ln_get_f32_array(r, d * d, &s->whiten)) != 0) return rc;
      if ((rc = ln_get_f64_array(r, s->n_templates * d, &s->templates)) != 0) return rc;
      if (s->kind == LOGITNORM_SCORE_RMDS && (rc = ln_get_f32_array(r, d * d, &s->whiten_bg)) != 0) return rc;
      return 0;
    case LOGITNORM_SCORE_KNN: {
      if ((s->bank_n = ln_get_range(r, 1, INT64_MAX / d)) < 0) return -1;
      s->bank_cap = s->bank_n;
      if ((rc = ln_get_f32_array(r, s->bank_n * d, &s->bank)) != 0) return rc;
      if ((s->bank_sq = ln_calloc(s->bank_n, sizeof *s->bank_sq)) == NULL) return -2;
      ln_knn_norms(s, s->bank_sq);
      for (int64_t i = 0; i < s->bank_n; ++i) /* normalised rows: norm 1 (to rounding) or 0 */
        if (s->bank_sq[i] > 1.0f + 1e-4f || (s->bank_sq[i] != 0.0f && s->bank_sq[i] < 1.0f - 1e-4f)) return -1;
      return 0;
    }
    case LOGITNORM_SCORE_VIM:
      s->vim_alpha = ln_get_f64(r);
      if (r->bad || !isfinite(s->vim_alpha)) return -1;
      if ((rc = ln_get_f32_array(r, d, &s->center)) != 0) return rc;
      if ((s->vim_rest = ln_get_range(r, 1, d)) < 0 || s->vim_rest != d - ln_vim_kept(s)) return -1;
      return ln_get_f32_array(r, d * s->vim_rest, &s->vim_basis);
    case LOGITNORM_SCORE_REACT:
      s->react_clip = ln_get_f64(r);
      return r->bad || !isfinite(s->react_clip) ? -1 : 0;
    case LOGITNORM_SCORE_DICE: return ln_get_f32_array(r, c * d, &s->dice_weight);
    case LOGITNORM_SCORE_NNGUIDE:
      if ((s->bank_n = ln_get_range(r, 1, INT64_MAX / d)) < 0) return -1; /* K is checked at score, as KNN */
      s->bank_cap = s->bank_n;
      return ln_get_f32_array(r, s->bank_n * d, &s->bank);
    case LOGITNORM_SCORE_FDBD: return ln_get_f64_array(r, d, &s->fit_mean);
    case LOGITNORM_SCORE_DML: {
      double lambda = ln_get_f64(r);
      if (r->bad || ln_scorer_check_param(s, LOGITNORM_SCORER_LAMBDA, lambda) != LOGITNORM_OK) return -1;
      ln_scorer_store_param(s, LOGITNORM_SCORER_LAMBDA, lambda);
      return 0;
    }
  }
  return 0;
}

static logitnorm_status ln_corrupt(logitnorm_scorer *s, const char *what) {
  logitnorm_scorer_free(s);
  return ln_fail(LOGITNORM_ERR_CORRUPT_DATA, "scorer blob: %s", what);
}

LOGITNORM_API logitnorm_status logitnorm_scorer_load(logitnorm_scorer **out, const void *buf, size_t size) {
  logitnorm_status st = ln_check_ptr(out, "out");
  if (st != LOGITNORM_OK) return st;
  ln_reader r;
  uint32_t sub = 0;
  st = ln_blob_open(&r, buf, size, LN_BLOB_SCORER, &sub);
  if (st != LOGITNORM_OK) return st;
  uint32_t kind = ln_get_u32(&r);
  int64_t c = ln_get_i64(&r), d = ln_get_i64(&r);
  if (r.bad || kind != sub || kind > 1000 || !ln_kind_valid((int)kind))
    return ln_fail(LOGITNORM_ERR_CORRUPT_DATA, "scorer blob: unknown or inconsistent score kind");
  int feat = ln_kind_needs_features((int)kind);
  if (c < 1 || c > INT32_MAX || d < (feat ? 1 : 0) || d > INT32_MAX)
    return ln_fail(LOGITNORM_ERR_CORRUPT_DATA, "scorer blob: sizes out of range");
  logitnorm_scorer *s = NULL;
  st = ln_scorer_new(&s, (int)kind, c, d);
  if (st != LOGITNORM_OK) return st;
  double pv[5];
  int ids[5] = {LOGITNORM_SCORER_TEMPERATURE, LOGITNORM_SCORER_GAMMA, LOGITNORM_SCORER_PERCENTILE,
                LOGITNORM_SCORER_CLIP, LOGITNORM_SCORER_RIDGE};
  for (int i = 0; i < 5; ++i) pv[i] = ln_get_f64(&r);
  /* One read per statement: the order in which an initializer list is evaluated is unspecified. */
  double iv[4];
  for (int i = 0; i < 3; ++i) iv[i] = (double)ln_get_i64(&r);
  iv[3] = (double)ln_get_u32(&r);
  int iids[4] = {LOGITNORM_SCORER_TOP_M, LOGITNORM_SCORER_K, LOGITNORM_SCORER_VIM_DIM, LOGITNORM_SCORER_ASH_VARIANT};
  (void)ln_get_u32(&r); /* threads: ignored, the scorer keeps THREADS = 1 from ln_scorer_new */
  if (r.bad) return ln_corrupt(s, "truncated parameters");
  for (int i = 0; i < 5; ++i) {
    if (ln_scorer_check_param(s, ids[i], pv[i]) != LOGITNORM_OK) return ln_corrupt(s, "a parameter is out of range");
    ln_scorer_store_param(s, ids[i], pv[i]);
  }
  for (int i = 0; i < 4; ++i) {
    if (ln_scorer_check_param(s, iids[i], iv[i]) != LOGITNORM_OK) return ln_corrupt(s, "a parameter is out of range");
    ln_scorer_store_param(s, iids[i], iv[i]);
  }
  uint32_t prepared = ln_get_u32(&r), has_head = ln_get_u32(&r), has_bias = ln_get_u32(&r);
  if (r.bad || prepared != (uint32_t)ln_kind_fits((int)kind) || has_head > 1 || has_bias > has_head ||
      (has_head && !ln_kind_needs_head((int)kind)))
    return ln_corrupt(s, "invalid state flags");
  if ((kind == LOGITNORM_SCORE_VIM || kind == LOGITNORM_SCORE_DICE || kind == LOGITNORM_SCORE_NNGUIDE ||
       kind == LOGITNORM_SCORE_FDBD) &&
      !has_head)
    return ln_corrupt(s, "a prepared ViM, DICE, NNGuide or FDBD scorer without its head");
  s->prepared = (int)prepared;
  int rc = 0;
  if (has_head) {
    rc = ln_get_f32_array(&r, c * d, &s->weight);
    if (rc == 0 && has_bias) rc = ln_get_f32_array(&r, c, &s->bias);
    if (rc == 0 && !has_bias && (s->bias = ln_calloc(c, sizeof *s->bias)) == NULL) rc = -2;
    s->has_head = rc == 0;
    s->has_bias = rc == 0 && has_bias;
    if (rc == 0) { /* FDBD's distances, DML's unit rows; a FDBD head with two equal rows is corrupt */
      logitnorm_status dst = ln_head_derive(s, s->weight, &s->head_aux);
      rc = dst == LOGITNORM_OK ? 0 : (dst == LOGITNORM_ERR_OUT_OF_MEMORY ? -2 : -1);
    }
  }
  if (rc == 0) rc = ln_load_state(&r, s);
  if (rc == -2) {
    logitnorm_scorer_free(s);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory loading a scorer");
  }
  if (rc != 0) return ln_corrupt(s, "a field is truncated, inconsistent or out of range");
  if (ln_blob_close(&r) != LOGITNORM_OK) {
    logitnorm_scorer_free(s);
    return ln_fail(LOGITNORM_ERR_CORRUPT_DATA, "scorer blob: the payload has trailing or missing bytes");
  }
  *out = s;
  return LOGITNORM_OK;
}
