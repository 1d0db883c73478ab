/* Unsigned 128-bit counts for the metrics, and their one division.

   The Mann-Whitney sum of AUROC and the detection-error numerators are exact integers up to
   2 n_id n_ood < 2^127 (counts are below 2^63), divided once at the end. Two implementations:
   - the compiler's unsigned __int128, divided in long double (64-bit mantissa on x86: each
     operand and the quotient rounded once, relative error < 2^-62 before the final rounding to
     double), when the compiler has __int128 (__SIZEOF_INT128__);
   - plain C11 otherwise, or when LOGITNORM_PORTABLE_ARITHMETIC is defined: two 64-bit halves,
     products from 32-bit halves, and the quotient in double-double arithmetic (each operand
     held as hi + lo to within 2^-105 relative, one correction step of the quotient), relative
     error < 2^-100 before the final rounding to double.
   Both give the quotient to within an ulp of double, far inside the 1e-12 agreement with
   scikit-learn; the counts themselves are exact in both. */
#ifndef LN_METRICS_WIDE_COUNT_H
#define LN_METRICS_WIDE_COUNT_H

#include <math.h>
#include <stdint.h>

#if defined(__SIZEOF_INT128__) && !defined(LOGITNORM_PORTABLE_ARITHMETIC)

#define LN_WIDE_COUNT_INT128 1
__extension__ typedef unsigned __int128 ln_u128;

static inline ln_u128 ln_u128_of(uint64_t a) { return a; }
/* a b, exact */
static inline ln_u128 ln_u128_mul(uint64_t a, uint64_t b) { return (ln_u128)a * b; }
/* a + b, exact while the sum stays below 2^128 */
static inline ln_u128 ln_u128_add(ln_u128 a, ln_u128 b) { return a + b; }
static inline int ln_u128_less(ln_u128 a, ln_u128 b) { return a < b; }
/* 1 and *v = a when a < 2^53 (exact as a double), else 0 */
static inline int ln_u128_small(ln_u128 a, uint64_t *v) {
  *v = (uint64_t)a;
  return a < ((ln_u128)1 << 53);
}
/* a / b rounded to double; b > 0 */
static inline double ln_u128_ratio(ln_u128 a, ln_u128 b) { return (double)((long double)a / (long double)b); }

#else

#define LN_WIDE_COUNT_INT128 0
typedef struct ln_u128 {
  uint64_t hi, lo; /* value = hi 2^64 + lo */
} ln_u128;

static inline ln_u128 ln_u128_of(uint64_t a) {
  ln_u128 r = {.hi = 0, .lo = a};
  return r;
}

/* a b = ah bh 2^64 + (ah bl + al bh) 2^32 + al bl with 32-bit halves; every partial product
   fits 64 bits, and the middle column (below 3 2^32) carries into hi. */
static inline ln_u128 ln_u128_mul(uint64_t a, uint64_t b) {
  const uint64_t m32 = 0xFFFFFFFFu;
  uint64_t al = a & m32, ah = a >> 32, bl = b & m32, bh = b >> 32;
  uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  uint64_t mid = (ll >> 32) + (lh & m32) + (hl & m32);
  ln_u128 r = {.hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32), .lo = (mid << 32) | (ll & m32)};
  return r;
}

static inline ln_u128 ln_u128_add(ln_u128 a, ln_u128 b) {
  ln_u128 r = {.hi = a.hi + b.hi, .lo = a.lo + b.lo};
  r.hi += r.lo < a.lo; /* the low words wrapped: carry 1 */
  return r;
}

static inline int ln_u128_less(ln_u128 a, ln_u128 b) { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo); }

static inline int ln_u128_small(ln_u128 a, uint64_t *v) {
  *v = a.lo;
  return a.hi == 0 && a.lo < (UINT64_C(1) << 53);
}

/* A double-double hi + lo with |lo| <= ulp(hi) / 2. */
typedef struct ln_dd {
  double hi, lo;
} ln_dd;

/* s + e = a + b exactly (Knuth's two-sum). */
static inline ln_dd ln_dd_two_sum(double a, double b) {
  double s = a + b, bb = s - a;
  ln_dd r = {.hi = s, .lo = (a - (s - bb)) + (b - bb)};
  return r;
}

/* x as a double-double: the pieces of bits 86..127, 43..85 and 0..42 are exact doubles (at
   most 43 bits each); the first two sums are exact, the last rounding is below 2^-105 x. */
static inline ln_dd ln_u128_to_dd(ln_u128 x) {
  const uint64_t m43 = (UINT64_C(1) << 43) - 1, m22 = (UINT64_C(1) << 22) - 1;
  double top = ldexp((double)(x.hi >> 22), 86);
  double mid = ldexp((double)(((x.hi & m22) << 21) | (x.lo >> 43)), 43);
  double low = (double)(x.lo & m43);
  ln_dd s = ln_dd_two_sum(top, mid);
  ln_dd t = ln_dd_two_sum(s.hi, low);
  return ln_dd_two_sum(t.hi, t.lo + s.lo);
}

/* q = x / y for double-doubles: q1 = x.hi / y.hi, then one correction with the remainder
   x - q1 y, where q1 y.hi = p + e exactly (fma) and x.hi - p is exact (Sterbenz: p is within
   a factor 2 of x.hi). */
static inline double ln_u128_ratio(ln_u128 a, ln_u128 b) {
  ln_dd x = ln_u128_to_dd(a), y = ln_u128_to_dd(b);
  double q1 = x.hi / y.hi;
  double p = q1 * y.hi, e = fma(q1, y.hi, -p);
  double r = ((x.hi - p) - e) + x.lo - q1 * y.lo;
  return q1 + r / y.hi;
}

#endif

#endif
