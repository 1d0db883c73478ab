/* AVX2 scans of the loss inputs (used by the loss validation when ln_use_avx2()): NaN and
   infinity in the logits, and the range of the labels. */
#ifndef LN_LOSS_SCAN_AVX2_H
#define LN_LOSS_SCAN_AVX2_H

#include <stdint.h>

#include "common/validate.h"

/* The first of `rows` rows (first `cols` columns, leading dimension ld) holding a NaN or an
   infinity (with masks set: a NaN or +inf; -inf is a masked class), or -1 when there is none.
   With masks set, *neginf is set to 1 when the scan met a -inf; it is exact only when the
   result is -1 (the scan stops at a bad row, and a -inf next to a NaN may go unseen). */
int64_t ln_first_nonfinite_row_f32_avx2(const float *p, int64_t rows, int64_t cols, int64_t ld, int masks,
                                        int *neginf);
int64_t ln_first_nonfinite_row_f64_avx2(const double *p, int64_t rows, int64_t cols, int64_t ld, int masks,
                                        int *neginf);

/* The same for bf16 or f16 rows (16-bit patterns, common/half.h). */
int64_t ln_first_nonfinite_row_half_avx2(ln_half_kind kind, const uint16_t *p, int64_t rows, int64_t cols, int64_t ld,
                                         int masks, int *neginf);

/* The number of labels y[0..n) that are not `ignore`, when each of those is in [0, C); -1 when
   one is not (the caller finds which). 1 <= C <= INT32_MAX. */
int64_t ln_labels_kept_avx2(const int32_t *y, int64_t n, int64_t C, int32_t ignore);

#endif
