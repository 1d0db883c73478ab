/* The test's own half-precision conversions, written from the formats' definitions with frexp,
   ldexp and rint (round to nearest even), independently of the library's bit arithmetic:
   widening is exact; narrowing rounds to nearest even, overflows to inf, keeps subnormals; a NaN
   narrows to a quiet NaN with its sign and top payload bits, and an f16 NaN widens to a quiet
   one (bf16 NaNs widen as they are). */
#ifndef LN_TESTS_HALF_REF_H
#define LN_TESTS_HALF_REF_H

#include <stdint.h>

typedef enum th_type { TH_BF16 = 0, TH_F16 = 1 } th_type;

float th_widen(th_type t, uint16_t h);
uint16_t th_narrow(th_type t, float x);
const char *th_name(th_type t);

#endif
