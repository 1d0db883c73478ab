/* The conversions of the upcast recipe timed by bench_half (a caller's own bf16/f16 <-> f32
   loops), and the streaming references over half and float data. half_convert.c is compiled
   with -O3 -march=native (never -ffast-math), as a caller's conversion kernel would be. */
#ifndef LN_BENCH_HALF_CONVERT_H
#define LN_BENCH_HALF_CONVERT_H

#include <stddef.h>
#include <stdint.h>

/* bf16 (f16 = 0) or f16 (f16 = 1) to float and back, n elements; the narrowing rounds to
   nearest even and keeps NaN a NaN. */
void hc_widen(int f16, const uint16_t *src, float *dst, size_t n);
void hc_narrow(int f16, const float *src, uint16_t *dst, size_t n);

/* g[i] = -x[i] on the half bit patterns (sign flip): reads and writes 2 bytes per element. */
void hc_stream_half(const uint16_t *x, uint16_t *g, size_t n);
/* g[i] = 0.5 x[i] in float: 4 + 4 bytes per element. */
void hc_stream_f32(const float *x, float *g, size_t n);

#endif
