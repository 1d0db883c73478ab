#include "half_ref.h"

#include <math.h>
#include <string.h>

/* exponent and mantissa bits of each format */
static const int th_ebits[2] = {8, 5}, th_mbits[2] = {7, 10};

const char *th_name(th_type t) { return t == TH_BF16 ? "bf16" : "f16"; }

static float th_from_bits(uint32_t u) {
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

float th_widen(th_type t, uint16_t h) {
  const int eb = th_ebits[t], mb = th_mbits[t], bias = (1 << (eb - 1)) - 1;
  const int sign = h >> 15, e = (h >> mb) & ((1 << eb) - 1), m = h & ((1 << mb) - 1);
  if (e == (1 << eb) - 1) {
    if (m == 0) return sign ? -INFINITY : INFINITY;
    /* NaN: payload at the top of float's mantissa; f16's gets the quiet bit */
    uint32_t u = ((uint32_t)sign << 31) | 0x7f800000u | ((uint32_t)m << (23 - mb));
    if (t == TH_F16) u |= 0x00400000u;
    return th_from_bits(u);
  }
  double v = e == 0 ? ldexp((double)m, 1 - bias - mb) : ldexp((double)(m + (1 << mb)), e - bias - mb);
  return (float)(sign ? -v : v);
}

uint16_t th_narrow(th_type t, float x) {
  const int eb = th_ebits[t], mb = th_mbits[t], bias = (1 << (eb - 1)) - 1, emin = 1 - bias;
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  const uint16_t sign = (uint16_t)((u >> 31) << 15), inf = (uint16_t)(((1u << eb) - 1u) << mb);
  if (isnan(x)) return (uint16_t)(sign | inf | (1u << (mb - 1)) | ((u & 0x7fffffu) >> (23 - mb)));
  if (isinf(x)) return (uint16_t)(sign | inf);
  double a = fabs((double)x);
  if (a == 0.0) return sign;
  int e;
  frexp(a, &e);
  e -= 1; /* a in [2^e, 2^(e+1)) */
  if (e < emin) e = emin;
  const double r = rint(a / ldexp(1.0, e - mb)) * ldexp(1.0, e - mb);
  if (r >= ldexp(1.0, bias + 1)) return (uint16_t)(sign | inf);
  if (r < ldexp(1.0, emin)) return (uint16_t)(sign | (uint16_t)(r / ldexp(1.0, emin - mb)));
  int e2;
  frexp(r, &e2);
  e2 -= 1;
  const uint16_t m = (uint16_t)((uint32_t)(r / ldexp(1.0, e2 - mb)) - (1u << mb));
  return (uint16_t)(sign | ((uint16_t)(e2 + bias) << mb) | m);
}
