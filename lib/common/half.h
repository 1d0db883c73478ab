/* The half-precision storage types in portable C: exact widening to float and narrowing with
   round-to-nearest-even, NaN and infinities preserved. The AVX2 kernels (loss/vec_avx2.h) convert
   whole vectors by the same rules: bf16 by a 16-bit shift and integer rounding, f16 by F16C.

   bf16 is the top half of a float: widening shifts it up 16 bits (exact, NaN payload kept);
   narrowing rounds the low 16 bits away to nearest, ties to even, by integer addition (a carry
   out of the mantissa steps the exponent, and past the largest finite value gives inf, as IEEE
   rounding does); a NaN keeps its sign and top payload bits and gets the quiet bit, so that it
   stays a NaN whatever its payload.
   f16 (IEEE binary16): 5 exponent bits (bias 15), 10 mantissa bits, largest finite 65504,
   subnormals down to 2^-24. Narrowing rounds to nearest even in every range (normal, subnormal,
   overflow to inf); a NaN keeps its sign and top 10 payload bits with the quiet bit set, as
   F16C's vcvtps2ph does, and widening a NaN sets the quiet bit, as vcvtph2ps does. */
#ifndef LN_COMMON_HALF_H
#define LN_COMMON_HALF_H

#include <stdint.h>
#include <string.h>

static inline uint32_t ln_f32_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

static inline float ln_f32_from_bits(uint32_t u) {
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

static inline float ln_bf16_to_f32(uint16_t h) { return ln_f32_from_bits((uint32_t)h << 16); }

static inline uint16_t ln_f32_to_bf16(float x) {
  const uint32_t u = ln_f32_bits(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u); /* NaN, quieted */
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static inline float ln_f16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1fu) return ln_f32_from_bits(sign | 0x7f800000u | (m ? 0x00400000u | (m << 13) : 0u));
  if (e != 0) return ln_f32_from_bits(sign | ((e + 112u) << 23) | (m << 13));
  /* zero and subnormals: m 2^-24, exact in float */
  const float mag = (float)m * 0x1p-24f;
  return sign ? -mag : mag;
}

static inline uint16_t ln_f32_to_f16(float x) {
  const uint32_t u = ln_f32_bits(x), sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu)); /* NaN, quieted */
  if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 (and inf): inf */
  if (a >= 0x38800000u) { /* normal f16 (>= 2^-14): drop 13 bits, ties to even */
    const uint32_t r = a + 0xfffu + ((a >> 13) & 1u);
    return (uint16_t)(sign | ((r - 0x38000000u) >> 13));
  }
  if (a < 0x33000000u) return (uint16_t)sign; /* below 2^-25: 0 (2^-25 itself is a tie, to 0) */
  /* subnormal f16: the mantissa with its hidden bit, shifted down to units of 2^-24, to nearest even */
  const uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u, shift = 126u - e; /* 14 .. 24 */
  const uint32_t q = m >> shift, rest = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
  return (uint16_t)(sign | (q + (rest > half || (rest == half && (q & 1u)))));
}

#endif
