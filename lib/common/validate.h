/* One validation helper per argument kind. Each returns LOGITNORM_OK or a failing status
   with the thread's last-error text set; none writes anything else. `name` is the
   argument's name as the public header spells it, for the message. */
#ifndef LN_COMMON_VALIDATE_H
#define LN_COMMON_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "logitnorm.h"

logitnorm_status ln_check_ptr(const void *p, const char *name);
logitnorm_status ln_check_count(int64_t n, const char *name);
/* A rows x cols matrix at p with leading dimension ld: p non-NULL (NULL is fine when rows == 0),
   cols >= 1, ld >= cols, and its span addressable. */
logitnorm_status ln_check_matrix(const void *p, int64_t rows, int64_t cols, int64_t ld, size_t elem,
                                 const char *name);
/* Every entry of the first cols columns is finite. */
logitnorm_status ln_check_finite_f32(const float *p, int64_t rows, int64_t cols, int64_t ld, const char *name);
logitnorm_status ln_check_finite_f64(const double *p, int64_t rows, int64_t cols, int64_t ld, const char *name);
/* Every one of the n entries of a vector is finite (the message names name[j]). */
logitnorm_status ln_check_finite_vector_f32(const float *p, int64_t n, const char *name);
logitnorm_status ln_check_finite_vector_f64(const double *p, int64_t n, const char *name);
/* Logits under the mask rule (DESIGN.md, Version 1.1): every entry of the first cols columns is
   finite or -inf (a masked class); NaN and +inf are NONFINITE. A row with every class masked is
   INVALID_ARGUMENT, unless labels is non-NULL and that row's label equals ignore_index. Rows
   without a non-finite entry cost the same single scan as ln_check_finite_*. */
logitnorm_status ln_check_masked_f32(const float *p, int64_t rows, int64_t cols, int64_t ld, const int32_t *labels,
                                     int64_t ignore_index, const char *name);
logitnorm_status ln_check_masked_f64(const double *p, int64_t rows, int64_t cols, int64_t ld, const int32_t *labels,
                                     int64_t ignore_index, const char *name);
/* ln_check_masked_* and ln_check_labels_unmasked_* in one scan (labels non-NULL, already in
   [0, cols) or ignore_index): a label on a masked class can only sit in a row the scan flags,
   so rows without a non-finite entry cost no more than in ln_check_masked_*. Statuses and
   texts as those two give, for the first bad row. */
logitnorm_status ln_check_masked_labelled_f32(const float *p, int64_t rows, int64_t cols, int64_t ld,
                                              const int32_t *labels, int64_t ignore_index, const char *name);
logitnorm_status ln_check_masked_labelled_f64(const double *p, int64_t rows, int64_t cols, int64_t ld,
                                              const int32_t *labels, int64_t ignore_index, const char *name);
/* The half types (common/half.h) under the rules of the float checks above: ln_check_finite_half
   as ln_check_finite_*, ln_check_masked_half as ln_check_masked_*, ln_check_masked_labelled_half
   as ln_check_masked_labelled_*, on bf16 or f16 bit patterns (validate_half.c). */
typedef enum ln_half_kind { LN_HALF_BF16 = 0, LN_HALF_F16 = 1 } ln_half_kind;
logitnorm_status ln_check_finite_half(ln_half_kind kind, const uint16_t *p, int64_t rows, int64_t cols, int64_t ld,
                                      const char *name);
logitnorm_status ln_check_masked_half(ln_half_kind kind, const uint16_t *p, int64_t rows, int64_t cols, int64_t ld,
                                      const int32_t *labels, int64_t ignore_index, const char *name);
logitnorm_status ln_check_masked_labelled_half(ln_half_kind kind, const uint16_t *p, int64_t rows, int64_t cols,
                                               int64_t ld, const int32_t *labels, int64_t ignore_index,
                                               const char *name);
/* Labels in [0, num_classes) or equal to ignore_index (pass INT64_MIN for "no ignore"). */
logitnorm_status ln_check_labels(const int32_t *labels, int64_t n, int64_t num_classes, int64_t ignore_index);
/* Bytes spanned by a rows x cols matrix with leading dimension ld (0 when rows == 0); only for
   a matrix that ln_check_matrix accepted (so the product cannot wrap). */
size_t ln_matrix_span(int64_t rows, int64_t cols, int64_t ld, size_t elem);
/* Bytes of count elements of elem bytes (0 when count <= 0), saturated at SIZE_MAX / 2: for
   the overlap checks of arrays whose length no matrix check has bounded. */
size_t ln_array_bytes(int64_t count, size_t elem);
/* Rejects overlap of two byte ranges [a, a + a_bytes) and [b, b + b_bytes). */
logitnorm_status ln_check_disjoint(const void *a, size_t a_bytes, const char *a_name,
                                   const void *b, size_t b_bytes, const char *b_name);
/* A parameter value: finite and within [lo, hi] (bounds inclusive unless the open flag is set). */
logitnorm_status ln_check_param(double v, double lo, int lo_open, double hi, int hi_open, const char *name);
/* A parameter that must be an integer in [lo, hi]. */
logitnorm_status ln_check_param_int(double v, double lo, double hi, const char *name);

#endif
