/* Array forms of the vectorised exp and log in lib/common/simd_math_avx2.h, for the tests,
   callable from baseline code (only when the CPU has AVX2+FMA). Accuracy and edge behaviour
   are documented in simd_math_avx2.h. */
#ifndef LN_TESTS_SIMD_ARRAYS_H
#define LN_TESTS_SIMD_ARRAYS_H

#include <stdint.h>

/* y[i] = exp(x[i]) for i < n; x and y may be the same array. */
void ln_exp_array_f32_avx2(const float *x, float *y, int64_t n);
void ln_exp_array_f64_avx2(const double *x, double *y, int64_t n);

/* The same for x <= 0 (or NaN) only, through the kernels' exp without the overflow clamp. */
void ln_exp_neg_array_f32_avx2(const float *x, float *y, int64_t n);
void ln_exp_neg_array_f64_avx2(const double *x, double *y, int64_t n);

/* y[i] = log(x[i]) for positive normal x[i]. */
void ln_log_array_f64_avx2(const double *x, double *y, int64_t n);

#endif
