/* Exact sum of non-negative finite doubles. The sum is kept as one fixed-point integer in
   units of 2^-1074 (the smallest subnormal), 32 bits per digit in 64-bit slots, so every
   addition is exact and the result does not depend on the order of the additions: adding
   the same values in any order, or merging partial sums, gives the same bits. */
#ifndef LN_METRICS_EXACT_SUM_H
#define LN_METRICS_EXACT_SUM_H

#include <stdint.h>

/* 2^-1074 .. 2^1024 is 2098 bits; 2^63 terms add 63 more; 70 * 32 = 2240 bits. */
#define LN_XSUM_DIGITS 70
/* Digits stay below 2^32 after ln_xsum_normalize; each addition adds less than 2^32 to a
   digit, so at most this many additions may come between two normalizations. */
#define LN_XSUM_ADDS_PER_NORMALIZE (INT64_C(1) << 30)

typedef struct ln_xsum {
  uint64_t digit[LN_XSUM_DIGITS];
} ln_xsum;

/* v finite and >= 0. */
void ln_xsum_add(ln_xsum *s, double v);
/* Propagates carries so that every digit is below 2^32 (a unique form of the integer). */
void ln_xsum_normalize(ln_xsum *s);
/* dst += src; both normalized before, dst normalized after. */
void ln_xsum_merge(ln_xsum *dst, const ln_xsum *src);
/* The sum rounded to a double (a fixed function of the normalized digits). */
double ln_xsum_value(const ln_xsum *s);

#endif
