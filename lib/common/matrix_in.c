#include "matrix_in.h"

#include "half.h"
#include "validate.h"

size_t ln_store_bytes(ln_store type) { return type == LN_STORE_F32 ? sizeof(float) : sizeof(uint16_t); }

size_t ln_matrix_in_span(const ln_matrix_in *m, int64_t rows, int64_t cols) {
  return ln_matrix_span(rows, cols, m->ld, ln_store_bytes(m->type));
}

logitnorm_status ln_check_matrix_in(const ln_matrix_in *m, int64_t rows, int64_t cols, const char *name) {
  return ln_check_matrix(m->p, rows, cols, m->ld, sizeof(float), name);
}

static ln_half_kind ln_half_of(ln_store type) { return type == LN_STORE_BF16 ? LN_HALF_BF16 : LN_HALF_F16; }

logitnorm_status ln_check_finite_in(const ln_matrix_in *m, int64_t rows, int64_t cols, const char *name) {
  if (m->type == LN_STORE_F32) return ln_check_finite_f32(m->p, rows, cols, m->ld, name);
  return ln_check_finite_half(ln_half_of(m->type), m->p, rows, cols, m->ld, name);
}

logitnorm_status ln_check_masked_in(const ln_matrix_in *m, int64_t rows, int64_t cols, const char *name) {
  if (m->type == LN_STORE_F32) return ln_check_masked_f32(m->p, rows, cols, m->ld, NULL, 0, name);
  return ln_check_masked_half(ln_half_of(m->type), m->p, rows, cols, m->ld, NULL, 0, name);
}

logitnorm_status ln_check_masked_labelled_in(const ln_matrix_in *m, int64_t rows, int64_t cols,
                                             const int32_t *labels, const char *name) {
  if (m->type == LN_STORE_F32) return ln_check_masked_labelled_f32(m->p, rows, cols, m->ld, labels, INT64_MIN, name);
  return ln_check_masked_labelled_half(ln_half_of(m->type), m->p, rows, cols, m->ld, labels, INT64_MIN, name);
}

const float *ln_rows_f32(const ln_matrix_in *m, int64_t first, int64_t rows, int64_t cols, float *buf, int64_t *ld) {
  if (m->type == LN_STORE_F32) {
    *ld = m->ld;
    return (const float *)m->p + first * m->ld;
  }
  const uint16_t *src = (const uint16_t *)m->p + first * m->ld;
  for (int64_t i = 0; i < rows; ++i) {
    const uint16_t *h = src + i * m->ld;
    float *x = buf + i * cols;
    if (m->type == LN_STORE_BF16)
      for (int64_t j = 0; j < cols; ++j) x[j] = ln_bf16_to_f32(h[j]);
    else
      for (int64_t j = 0; j < cols; ++j) x[j] = ln_f16_to_f32(h[j]);
  }
  *ld = cols;
  return buf;
}
