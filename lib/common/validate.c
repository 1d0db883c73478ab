#include "validate.h"

#include <math.h>
#include <string.h>

#include "error.h"

logitnorm_status ln_check_ptr(const void *p, const char *name) {
  if (p == NULL) return ln_fail(LOGITNORM_ERR_NULL_POINTER, "%s is NULL", name);
  return LOGITNORM_OK;
}

logitnorm_status ln_check_count(int64_t n, const char *name) {
  if (n < 0) return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%s = %lld is negative", name, (long long)n);
  return LOGITNORM_OK;
}

logitnorm_status ln_check_matrix(const void *p, int64_t rows, int64_t cols, int64_t ld, size_t elem,
                                 const char *name) {
  logitnorm_status st = rows == 0 ? LOGITNORM_OK : ln_check_ptr(p, name);
  if (st != LOGITNORM_OK) return st;
  if (rows < 0) return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%s: n = %lld is negative", name, (long long)rows);
  if (cols < 1) return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%s: %lld columns", name, (long long)cols);
  if (ld < cols)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%s: leading dimension %lld is below the %lld columns", name,
                   (long long)ld, (long long)cols);
  /* (rows - 1) * ld + cols elements must be addressable in bytes, with room to spare: at most
     `limit` elements, so that every byte offset (and the sum of two spans) fits a size_t. Each
     bound is tested before the arithmetic that relies on it: cols <= limit, then
     (rows - 1) * ld <= limit - cols as a quotient. */
  const uint64_t limit = (uint64_t)(SIZE_MAX / 2) / elem;
  if ((uint64_t)cols > limit)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%s: %lld columns of %zu bytes overflow memory", name,
                   (long long)cols, elem);
  if (rows > 1 && (uint64_t)(rows - 1) > (limit - (uint64_t)cols) / (uint64_t)ld)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%s: %lld rows of leading dimension %lld overflow memory", name,
                   (long long)rows, (long long)ld);
  return LOGITNORM_OK;
}

size_t ln_matrix_span(int64_t rows, int64_t cols, int64_t ld, size_t elem) {
  if (rows <= 0) return 0;
  return ((size_t)(rows - 1) * (size_t)ld + (size_t)cols) * elem;
}

size_t ln_array_bytes(int64_t count, size_t elem) {
  if (count <= 0) return 0;
  return (uint64_t)count > (uint64_t)(SIZE_MAX / 2) / elem ? SIZE_MAX / 2 : (size_t)count * elem;
}

/* Whether any of the first cols entries of a row has an all-ones exponent (inf or NaN). The
   loop is branch-free per entry (an OR of exponent tests), so it runs at memory speed; a row it
   flags is then looked at entry by entry. */
static inline int ln_row_flagged_f32(const float *row, int64_t cols) {
  uint32_t bad = 0;
  for (int64_t j = 0; j < cols; ++j) {
    uint32_t u;
    memcpy(&u, row + j, sizeof u);
    bad |= (uint32_t)((u & UINT32_C(0x7f800000)) == UINT32_C(0x7f800000));
  }
  return bad != 0;
}

static inline int ln_row_flagged_f64(const double *row, int64_t cols) {
  uint64_t bad = 0;
  for (int64_t j = 0; j < cols; ++j) {
    uint64_t u;
    memcpy(&u, row + j, sizeof u);
    bad |= (uint64_t)((u & UINT64_C(0x7ff0000000000000)) == UINT64_C(0x7ff0000000000000));
  }
  return bad != 0;
}

/* NONFINITE for the first NaN or infinity of row i (LOGITNORM_OK if it has none). */
static logitnorm_status ln_nonfinite_entry_f32(const float *row, int64_t i, int64_t cols, const char *name) {
  for (int64_t j = 0; j < cols; ++j)
    if (!isfinite(row[j]))
      return ln_fail(LOGITNORM_ERR_NONFINITE, "%s[%lld][%lld] is %s", name, (long long)i, (long long)j,
                     isnan(row[j]) ? "NaN" : "infinite");
  return LOGITNORM_OK;
}

static logitnorm_status ln_nonfinite_entry_f64(const double *row, int64_t i, int64_t cols, const char *name) {
  for (int64_t j = 0; j < cols; ++j)
    if (!isfinite(row[j]))
      return ln_fail(LOGITNORM_ERR_NONFINITE, "%s[%lld][%lld] is %s", name, (long long)i, (long long)j,
                     isnan(row[j]) ? "NaN" : "infinite");
  return LOGITNORM_OK;
}

logitnorm_status ln_check_finite_f32(const float *p, int64_t rows, int64_t cols, int64_t ld, const char *name) {
  for (int64_t i = 0; i < rows; ++i) {
    const float *row = p + i * ld;
    if (ln_row_flagged_f32(row, cols)) {
      logitnorm_status st = ln_nonfinite_entry_f32(row, i, cols, name);
      if (st != LOGITNORM_OK) return st;
    }
  }
  return LOGITNORM_OK;
}

logitnorm_status ln_check_finite_f64(const double *p, int64_t rows, int64_t cols, int64_t ld, const char *name) {
  for (int64_t i = 0; i < rows; ++i) {
    const double *row = p + i * ld;
    if (ln_row_flagged_f64(row, cols)) {
      logitnorm_status st = ln_nonfinite_entry_f64(row, i, cols, name);
      if (st != LOGITNORM_OK) return st;
    }
  }
  return LOGITNORM_OK;
}

logitnorm_status ln_check_finite_vector_f32(const float *p, int64_t n, const char *name) {
  for (int64_t j = 0; j < n; ++j)
    if (!isfinite(p[j]))
      return ln_fail(LOGITNORM_ERR_NONFINITE, "%s[%lld] is %s", name, (long long)j, isnan(p[j]) ? "NaN" : "infinite");
  return LOGITNORM_OK;
}

logitnorm_status ln_check_finite_vector_f64(const double *p, int64_t n, const char *name) {
  for (int64_t j = 0; j < n; ++j)
    if (!isfinite(p[j]))
      return ln_fail(LOGITNORM_ERR_NONFINITE, "%s[%lld] is %s", name, (long long)j, isnan(p[j]) ? "NaN" : "infinite");
  return LOGITNORM_OK;
}

/* The masked checks scan with ln_row_flagged_*, so rows without a non-finite entry cost what
   they cost in ln_check_finite_*; a flagged row is then looked at entry by entry, out of line:
   NaN or +inf is NONFINITE, -inf is a masked class, and a row of nothing but masked classes is
   rejected unless ignored. */
#if defined(__GNUC__)
#define LN_NOINLINE __attribute__((noinline))
#else
#define LN_NOINLINE
#endif

static LN_NOINLINE logitnorm_status ln_masked_row_f32(const float *row, int64_t i, int64_t cols,
                                                      const int32_t *labels, int64_t ignore_index, const char *name) {
  int64_t kept = 0;
  for (int64_t j = 0; j < cols; ++j) {
    if (isnan(row[j]) || row[j] == INFINITY)
      return ln_fail(LOGITNORM_ERR_NONFINITE, "%s[%lld][%lld] is %s", name, (long long)i, (long long)j,
                     isnan(row[j]) ? "NaN" : "+inf");
    kept += row[j] != -INFINITY;
  }
  if (kept == 0 && !(labels != NULL && labels[i] == ignore_index))
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%s row %lld has every one of its %lld classes masked (-inf)", name,
                   (long long)i, (long long)cols);
  return LOGITNORM_OK;
}

static LN_NOINLINE logitnorm_status ln_masked_row_f64(const double *row, int64_t i, int64_t cols,
                                                      const int32_t *labels, int64_t ignore_index, const char *name) {
  int64_t kept = 0;
  for (int64_t j = 0; j < cols; ++j) {
    if (isnan(row[j]) || row[j] == (double)INFINITY)
      return ln_fail(LOGITNORM_ERR_NONFINITE, "%s[%lld][%lld] is %s", name, (long long)i, (long long)j,
                     isnan(row[j]) ? "NaN" : "+inf");
    kept += row[j] != -(double)INFINITY;
  }
  if (kept == 0 && !(labels != NULL && labels[i] == ignore_index))
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%s row %lld has every one of its %lld classes masked (-inf)", name,
                   (long long)i, (long long)cols);
  return LOGITNORM_OK;
}

logitnorm_status ln_check_masked_f32(const float *p, int64_t rows, int64_t cols, int64_t ld, const int32_t *labels,
                                     int64_t ignore_index, const char *name) {
  for (int64_t i = 0; i < rows; ++i) {
    const float *row = p + i * ld;
    if (ln_row_flagged_f32(row, cols)) {
      logitnorm_status st = ln_masked_row_f32(row, i, cols, labels, ignore_index, name);
      if (st != LOGITNORM_OK) return st;
    }
  }
  return LOGITNORM_OK;
}

logitnorm_status ln_check_masked_f64(const double *p, int64_t rows, int64_t cols, int64_t ld, const int32_t *labels,
                                     int64_t ignore_index, const char *name) {
  for (int64_t i = 0; i < rows; ++i) {
    const double *row = p + i * ld;
    if (ln_row_flagged_f64(row, cols)) {
      logitnorm_status st = ln_masked_row_f64(row, i, cols, labels, ignore_index, name);
      if (st != LOGITNORM_OK) return st;
    }
  }
  return LOGITNORM_OK;
}

logitnorm_status ln_check_masked_labelled_f32(const float *p, int64_t rows, int64_t cols, int64_t ld,
                                              const int32_t *labels, int64_t ignore_index, const char *name) {
  for (int64_t i = 0; i < rows; ++i) {
    const float *row = p + i * ld;
    if (ln_row_flagged_f32(row, cols)) {
      logitnorm_status st = ln_masked_row_f32(row, i, cols, labels, ignore_index, name);
      int64_t y = labels[i];
      if (st == LOGITNORM_OK && y != ignore_index && row[y] == -INFINITY)
        st = ln_fail(LOGITNORM_ERR_INVALID_LABEL, "label %lld at row %lld names a masked class (%s[%lld][%lld] is -inf)",
                     (long long)y, (long long)i, name, (long long)i, (long long)y);
      if (st != LOGITNORM_OK) return st;
    }
  }
  return LOGITNORM_OK;
}

logitnorm_status ln_check_masked_labelled_f64(const double *p, int64_t rows, int64_t cols, int64_t ld,
                                              const int32_t *labels, int64_t ignore_index, const char *name) {
  for (int64_t i = 0; i < rows; ++i) {
    const double *row = p + i * ld;
    if (ln_row_flagged_f64(row, cols)) {
      logitnorm_status st = ln_masked_row_f64(row, i, cols, labels, ignore_index, name);
      int64_t y = labels[i];
      if (st == LOGITNORM_OK && y != ignore_index && row[y] == -(double)INFINITY)
        st = ln_fail(LOGITNORM_ERR_INVALID_LABEL, "label %lld at row %lld names a masked class (%s[%lld][%lld] is -inf)",
                     (long long)y, (long long)i, name, (long long)i, (long long)y);
      if (st != LOGITNORM_OK) return st;
    }
  }
  return LOGITNORM_OK;
}

logitnorm_status ln_check_labels(const int32_t *labels, int64_t n, int64_t num_classes, int64_t ignore_index) {
  for (int64_t i = 0; i < n; ++i) {
    int64_t y = labels[i];
    if ((y < 0 || y >= num_classes) && y != ignore_index)
      return ln_fail(LOGITNORM_ERR_INVALID_LABEL, "label %lld at row %lld is outside [0, %lld)", (long long)y,
                     (long long)i, (long long)num_classes);
  }
  return LOGITNORM_OK;
}

logitnorm_status ln_check_disjoint(const void *a, size_t a_bytes, const char *a_name,
                                   const void *b, size_t b_bytes, const char *b_name) {
  if (a == NULL || b == NULL || a_bytes == 0 || b_bytes == 0) return LOGITNORM_OK;
  uintptr_t a0 = (uintptr_t)a, b0 = (uintptr_t)b;
  if (a0 < b0 + b_bytes && b0 < a0 + a_bytes)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%s overlaps %s", a_name, b_name);
  return LOGITNORM_OK;
}

logitnorm_status ln_check_param(double v, double lo, int lo_open, double hi, int hi_open, const char *name) {
  if (!isfinite(v) || v < lo || v > hi || (lo_open && v == lo) || (hi_open && v == hi))
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%s = %g is outside %c%g, %g%c", name, v, lo_open ? '(' : '[',
                   lo, hi, hi_open ? ')' : ']');
  return LOGITNORM_OK;
}

logitnorm_status ln_check_param_int(double v, double lo, double hi, const char *name) {
  logitnorm_status st = ln_check_param(v, lo, 0, hi, 0, name);
  if (st != LOGITNORM_OK) return st;
  if (v != floor(v)) return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%s = %g is not an integer", name, v);
  return LOGITNORM_OK;
}
