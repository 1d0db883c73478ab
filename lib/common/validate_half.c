/* The finite and mask checks of validate.h for bf16 and f16 matrices. A half value is NaN or an
   infinity when its exponent field is all ones (bf16: 0x7f80, f16: 0x7c00), so rows are scanned
   on the bits, branch-free per entry, and a flagged row is looked at entry by entry. */
#include <math.h>

#include "error.h"
#include "half.h"
#include "validate.h"

static inline uint16_t ln_half_exp_mask(ln_half_kind kind) { return kind == LN_HALF_BF16 ? 0x7f80u : 0x7c00u; }

static inline float ln_half_widen(ln_half_kind kind, uint16_t h) {
  return kind == LN_HALF_BF16 ? ln_bf16_to_f32(h) : ln_f16_to_f32(h);
}

static inline int ln_row_flagged_half(const uint16_t *row, int64_t cols, uint16_t mask) {
  unsigned bad = 0;
  for (int64_t j = 0; j < cols; ++j) bad |= (unsigned)((row[j] & mask) == mask);
  return bad != 0;
}

/* Row i entry by entry: NaN and +inf are NONFINITE, and so is -inf unless masks is set; with
   masks, a row of nothing but -inf is INVALID_ARGUMENT unless its label is the ignore index. */
static logitnorm_status ln_half_row(ln_half_kind kind, const uint16_t *row, int64_t i, int64_t cols, int masks,
                                    const int32_t *labels, int64_t ignore_index, const char *name) {
  int64_t kept = 0;
  for (int64_t j = 0; j < cols; ++j) {
    const float v = ln_half_widen(kind, row[j]);
    if (isnan(v) || v == INFINITY || (!masks && v == -INFINITY))
      return ln_fail(LOGITNORM_ERR_NONFINITE, "%s[%lld][%lld] is %s", name, (long long)i, (long long)j,
                     isnan(v) ? "NaN" : masks ? "+inf" : "infinite");
    kept += v != -INFINITY;
  }
  if (masks && kept == 0 && !(labels != NULL && labels[i] == ignore_index))
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%s row %lld has every one of its %lld classes masked (-inf)", name,
                   (long long)i, (long long)cols);
  return LOGITNORM_OK;
}

static logitnorm_status ln_half_scan(ln_half_kind kind, const uint16_t *p, int64_t rows, int64_t cols, int64_t ld,
                                     int masks, const int32_t *labels, int64_t ignore_index, const char *name) {
  const uint16_t mask = ln_half_exp_mask(kind);
  for (int64_t i = 0; i < rows; ++i) {
    const uint16_t *row = p + i * ld;
    if (ln_row_flagged_half(row, cols, mask)) {
      logitnorm_status st = ln_half_row(kind, row, i, cols, masks, labels, ignore_index, name);
      if (st != LOGITNORM_OK) return st;
    }
  }
  return LOGITNORM_OK;
}

logitnorm_status ln_check_finite_half(ln_half_kind kind, const uint16_t *p, int64_t rows, int64_t cols, int64_t ld,
                                      const char *name) {
  return ln_half_scan(kind, p, rows, cols, ld, 0, NULL, 0, name);
}

logitnorm_status ln_check_masked_half(ln_half_kind kind, const uint16_t *p, int64_t rows, int64_t cols, int64_t ld,
                                      const int32_t *labels, int64_t ignore_index, const char *name) {
  return ln_half_scan(kind, p, rows, cols, ld, 1, labels, ignore_index, name);
}
