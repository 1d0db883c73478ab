#include "exact_sum.h"

#include <math.h>
#include <string.h>

void ln_xsum_add(ln_xsum *s, double v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  uint64_t biased = (u >> 52) & 0x7FF, frac = u & ((UINT64_C(1) << 52) - 1);
  if (biased == 0 && frac == 0) return;
  /* v = mant * 2^(e - 1075) for a normal number, frac * 2^-1074 for a subnormal one, so in
     units of 2^-1074 the mantissa starts at bit e - 1 (or 0). */
  uint64_t mant = biased ? frac | (UINT64_C(1) << 52) : frac;
  unsigned bit = biased ? (unsigned)biased - 1 : 0;
  unsigned k = bit / 32;
  /* mant << (bit % 32) < 2^85 in three 32-bit digits, in plain 64-bit arithmetic:
     mant = hi 2^32 + lo, lo << sh < 2^64 and (hi << sh) + carry < 2^54 */
  unsigned sh = bit % 32;
  uint64_t lo = (mant & 0xFFFFFFFFu) << sh;
  uint64_t mid = ((mant >> 32) << sh) + (lo >> 32);
  s->digit[k] += lo & 0xFFFFFFFFu;
  s->digit[k + 1] += mid & 0xFFFFFFFFu;
  s->digit[k + 2] += mid >> 32;
}

void ln_xsum_normalize(ln_xsum *s) {
  uint64_t carry = 0;
  for (int k = 0; k < LN_XSUM_DIGITS; ++k) {
    uint64_t v = s->digit[k] + carry;
    s->digit[k] = v & 0xFFFFFFFFu;
    carry = v >> 32;
  }
}

void ln_xsum_merge(ln_xsum *dst, const ln_xsum *src) {
  for (int k = 0; k < LN_XSUM_DIGITS; ++k) dst->digit[k] += src->digit[k];
  ln_xsum_normalize(dst);
}

double ln_xsum_value(const ln_xsum *s) {
  /* From the top digit down: the first three nonzero digits already carry 64+ bits. */
  double r = 0.0;
  for (int k = LN_XSUM_DIGITS - 1; k >= 0; --k)
    if (s->digit[k] != 0) r += ldexp((double)s->digit[k], 32 * k - 1074);
  return r;
}
