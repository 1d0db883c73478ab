/* A read-only matrix argument in its storage type (float, bf16 or f16), for the calls whose
   half entry points widen their input and run the float code on it (the scorers and the
   calibration accumulator). The checks apply validate.h's float or half rules by type; rows
   are widened exactly (common/half.h), so the float code sees the _f32 call's values. */
#ifndef LN_COMMON_MATRIX_IN_H
#define LN_COMMON_MATRIX_IN_H

#include <stddef.h>
#include <stdint.h>

#include "logitnorm.h"

typedef enum ln_store { LN_STORE_F32 = 0, LN_STORE_BF16 = 1, LN_STORE_F16 = 2 } ln_store;

typedef struct ln_matrix_in {
  ln_store type;
  const void *p; /* float or uint16_t elements */
  int64_t ld;    /* in elements */
} ln_matrix_in;

/* Bytes of one stored element. */
size_t ln_store_bytes(ln_store type);
/* Bytes spanned by rows x cols of m (ln_matrix_span in the stored element size). */
size_t ln_matrix_in_span(const ln_matrix_in *m, int64_t rows, int64_t cols);
/* ln_check_matrix of m with floats' element size, so that a half matrix is accepted exactly
   when its widened image, as an _f32 call would take it, is addressable. */
logitnorm_status ln_check_matrix_in(const ln_matrix_in *m, int64_t rows, int64_t cols, const char *name);
/* ln_check_finite_*, ln_check_masked_* and ln_check_masked_labelled_* by type. */
logitnorm_status ln_check_finite_in(const ln_matrix_in *m, int64_t rows, int64_t cols, const char *name);
logitnorm_status ln_check_masked_in(const ln_matrix_in *m, int64_t rows, int64_t cols, const char *name);
logitnorm_status ln_check_masked_labelled_in(const ln_matrix_in *m, int64_t rows, int64_t cols,
                                             const int32_t *labels, const char *name);
/* Rows [first, first + rows) of cols columns as floats: a float matrix is returned in place
   (*ld = m->ld); a half one is widened into buf (rows x cols floats) and returned with *ld = cols. */
const float *ln_rows_f32(const ln_matrix_in *m, int64_t first, int64_t rows, int64_t cols, float *buf, int64_t *ld);

#endif
