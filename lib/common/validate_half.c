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
   masks, a row of nothing but -inf is INVALID_ARGUMENT unless its label is the ignore index, and
   with labelled set, a label (other than the ignore index) on a -inf class is INVALID_LABEL. */
typedef struct ln_half_rule {
  ln_half_kind kind;
  int masks, labelled;
  const int32_t *labels;
  int64_t ignore_index;
  const char *name;
} ln_half_rule;

static logitnorm_status ln_half_row(const ln_half_rule *r, const uint16_t *row, int64_t i, int64_t cols) {
  int64_t kept = 0;
  for (int64_t j = 0; j < cols; ++j) {
    const float v = ln_half_widen(r->kind, row[j]);
    if (isnan(v) || v == INFINITY || (!r->masks && v == -INFINITY))
      return ln_fail(LOGITNORM_ERR_NONFINITE, "%s[%lld][%lld] is %s", r->name, (long long)i, (long long)j,
                     isnan(v) ? "NaN" : r->masks ? "+inf" : "infinite");
    kept += v != -INFINITY;
  }
  const int ignored = r->labels != NULL && r->labels[i] == r->ignore_index;
  if (r->masks && kept == 0 && !ignored)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%s row %lld has every one of its %lld classes masked (-inf)",
                   r->name, (long long)i, (long long)cols);
  if (r->labelled && !ignored && ln_half_widen(r->kind, row[r->labels[i]]) == -INFINITY)
    return ln_fail(LOGITNORM_ERR_INVALID_LABEL, "label %lld at row %lld names a masked class (%s[%lld][%lld] is -inf)",
                   (long long)r->labels[i], (long long)i, r->name, (long long)i, (long long)r->labels[i]);
  return LOGITNORM_OK;
}

static logitnorm_status ln_half_scan(const ln_half_rule *r, const uint16_t *p, int64_t rows, int64_t cols,
                                     int64_t ld) {
  const uint16_t mask = ln_half_exp_mask(r->kind);
  for (int64_t i = 0; i < rows; ++i) {
    const uint16_t *row = p + i * ld;
    if (ln_row_flagged_half(row, cols, mask)) {
      logitnorm_status st = ln_half_row(r, row, i, cols);
      if (st != LOGITNORM_OK) return st;
    }
  }
  return LOGITNORM_OK;
}

logitnorm_status ln_check_finite_half(ln_half_kind kind, const uint16_t *p, int64_t rows, int64_t cols, int64_t ld,
                                      const char *name) {
  const ln_half_rule r = {.kind = kind, .name = name};
  return ln_half_scan(&r, p, rows, cols, ld);
}

logitnorm_status ln_check_masked_half(ln_half_kind kind, const uint16_t *p, int64_t rows, int64_t cols, int64_t ld,
                                      const int32_t *labels, int64_t ignore_index, const char *name) {
  const ln_half_rule r = {.kind = kind, .masks = 1, .labels = labels, .ignore_index = ignore_index, .name = name};
  return ln_half_scan(&r, p, rows, cols, ld);
}

logitnorm_status ln_check_masked_labelled_half(ln_half_kind kind, const uint16_t *p, int64_t rows, int64_t cols,
                                               int64_t ld, const int32_t *labels, int64_t ignore_index,
                                               const char *name) {
  const ln_half_rule r = {.kind = kind, .masks = 1, .labelled = 1, .labels = labels, .ignore_index = ignore_index,
                          .name = name};
  return ln_half_scan(&r, p, rows, cols, ld);
}
