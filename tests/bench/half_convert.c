/* See half_convert.h. */
#include "half_convert.h"

#include <string.h>
#if defined(__F16C__)
#include <immintrin.h>
#endif

static inline uint32_t bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

static inline float from_bits(uint32_t u) {
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

/* f16 to float without F16C: normal, subnormal (m 2^-24), inf and NaN. */
static float f16_widen_one(uint16_t h) {
  const uint32_t s = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1fu) return from_bits(s | 0x7f800000u | (m ? 0x400000u | (m << 13) : 0u)); /* inf, NaN quieted */
  if (e != 0) return from_bits(s | ((e + 112u) << 23) | (m << 13));
  const float mag = (float)m * 0x1p-24f;
  return s ? -mag : mag;
}

/* float to f16 without F16C, to nearest even, NaN quieted, overflow to inf. */
static uint16_t f16_narrow_one(float x) {
  const uint32_t u = bits(x), s = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return (uint16_t)(s | 0x7e00u | ((a >> 13) & 0x3ffu));
  if (a >= 0x477ff000u) return (uint16_t)(s | 0x7c00u);
  if (a >= 0x38800000u) return (uint16_t)(s | ((a + 0xfffu + ((a >> 13) & 1u) - 0x38000000u) >> 13));
  /* below 2^-14: adding 0.5 puts the value's units of 2^-24 in the low mantissa bits, rounded
     to nearest even by the float addition itself */
  return (uint16_t)(s | (bits(from_bits(a) + 0.5f) - bits(0.5f)));
}

void hc_widen(int f16, const uint16_t *src, float *dst, size_t n) {
  if (!f16) {
    for (size_t i = 0; i < n; ++i) dst[i] = from_bits((uint32_t)src[i] << 16);
    return;
  }
  size_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
#endif
  for (; i < n; ++i) dst[i] = f16_widen_one(src[i]);
}

void hc_narrow(int f16, const float *src, uint16_t *dst, size_t n) {
  if (!f16) {
    for (size_t i = 0; i < n; ++i) {
      const uint32_t u = bits(src[i]);
      const uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16, q = (u >> 16) | 0x40u;
      dst[i] = (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? q : r);
    }
    return;
  }
  size_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
#endif
  for (; i < n; ++i) dst[i] = f16_narrow_one(src[i]);
}

void hc_stream_half(const uint16_t *x, uint16_t *g, size_t n) {
  for (size_t i = 0; i < n; ++i) g[i] = (uint16_t)(x[i] ^ 0x8000u);
}

void hc_stream_f32(const float *x, float *g, size_t n) {
  for (size_t i = 0; i < n; ++i) g[i] = 0.5f * x[i];
}
