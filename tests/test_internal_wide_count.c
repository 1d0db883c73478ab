/* The plain C11 128-bit counts of metrics/wide_count.h (forced with
   LOGITNORM_PORTABLE_ARITHMETIC, so they are tested on every compiler) against schoolbook
   arithmetic on 16-bit limbs, over the whole range: products of any two 64-bit values, sums
   with carries out of the low word, comparisons that the high word or the low word decides.
   The division against exact golden quotients. The metric suites reach these functions only
   with counts below 2^64; the portable.* CTest entries run them inside the library. */
#define LOGITNORM_PORTABLE_ARITHMETIC 1
#include <check.h>
#include <stdint.h>

#include "metrics/wide_count.h"
#include "test_util.h"

/* A 128-bit value as 8 limbs of 16 bits, least significant first. */
typedef struct ref128 {
  uint32_t limb[8];
} ref128;

static ref128 ref_of(uint64_t hi, uint64_t lo) {
  ref128 r;
  for (int k = 0; k < 4; ++k) {
    r.limb[k] = (uint32_t)(lo >> (16 * k)) & 0xFFFF;
    r.limb[k + 4] = (uint32_t)(hi >> (16 * k)) & 0xFFFF;
  }
  return r;
}

/* Column by column, carrying what exceeds 16 bits. */
static ref128 ref_mul(uint64_t a, uint64_t b) {
  ref128 x = ref_of(0, a), y = ref_of(0, b), r = ref_of(0, 0);
  uint64_t col[8] = {0};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) col[i + j] += (uint64_t)x.limb[i] * y.limb[j];
  uint64_t carry = 0;
  for (int k = 0; k < 8; ++k) {
    uint64_t v = col[k] + carry;
    r.limb[k] = (uint32_t)(v & 0xFFFF);
    carry = v >> 16;
  }
  return r;
}

/* Modulo 2^128, as the 128-bit type wraps. */
static ref128 ref_add(ref128 a, ref128 b) {
  ref128 r;
  uint32_t carry = 0;
  for (int k = 0; k < 8; ++k) {
    uint32_t v = a.limb[k] + b.limb[k] + carry;
    r.limb[k] = v & 0xFFFF;
    carry = v >> 16;
  }
  return r;
}

static int ref_less(ref128 a, ref128 b) {
  for (int k = 7; k >= 0; --k)
    if (a.limb[k] != b.limb[k]) return a.limb[k] < b.limb[k];
  return 0;
}

static int same(ln_u128 got, ref128 want) {
  ref128 g = ref_of(got.hi, got.lo);
  for (int k = 0; k < 8; ++k)
    if (g.limb[k] != want.limb[k]) return 0;
  return 1;
}

/* Values with every bit length and the edges of the 32-bit halves. */
static uint64_t draw(tu_rng *r) {
  switch (tu_int(r, 0, 5)) {
    case 0: return UINT64_MAX - (uint64_t)tu_int(r, 0, 3);
    case 1: return (UINT64_C(1) << tu_int(r, 0, 63)) - (uint64_t)tu_int(r, 0, 1);
    case 2: return UINT64_C(0xFFFFFFFF) + (uint64_t)tu_int(r, -1, 1);
    case 3: return (uint64_t)tu_int(r, 0, 1000);
    default: return tu_next(r) >> tu_int(r, 0, 63);
  }
}

START_TEST(products_are_exact) {
  tu_rng r;
  tu_seed(&r, 11);
  for (int i = 0; i < 50000; ++i) {
    uint64_t a = draw(&r), b = draw(&r);
    ck_assert_msg(same(ln_u128_mul(a, b), ref_mul(a, b)), "%llx * %llx", (unsigned long long)a,
                  (unsigned long long)b);
  }
  ln_u128 top = ln_u128_mul(UINT64_MAX, UINT64_MAX); /* 2^128 - 2^65 + 1 */
  ck_assert(top.hi == UINT64_MAX - 1 && top.lo == 1);
}
END_TEST

START_TEST(sums_carry_and_compare) {
  tu_rng r;
  tu_seed(&r, 12);
  for (int i = 0; i < 50000; ++i) {
    uint64_t ah = draw(&r), al = draw(&r), bh = draw(&r), bl = draw(&r);
    if (i % 4 == 0) bh = ah; /* the low words decide the comparison */
    ln_u128 a = {ah, al}, b = {bh, bl};
    ref128 ra = ref_of(ah, al), rb = ref_of(bh, bl);
    ck_assert_msg(same(ln_u128_add(a, b), ref_add(ra, rb)) && ln_u128_less(a, b) == ref_less(ra, rb) &&
                      ln_u128_less(b, a) == ref_less(rb, ra),
                  "%llx:%llx, %llx:%llx", (unsigned long long)ah, (unsigned long long)al, (unsigned long long)bh,
                  (unsigned long long)bl);
  }
  ln_u128 wrap = ln_u128_add((ln_u128){0, UINT64_MAX}, ln_u128_of(1));
  ck_assert(wrap.hi == 1 && wrap.lo == 0);
  ck_assert(!ln_u128_less((ln_u128){5, 7}, (ln_u128){5, 7}));
}
END_TEST

START_TEST(ratios_match_golden_quotients) {
  tu_rng r;
  tu_seed(&r, 13);
  /* k b / b = k exactly, for b = b1 b2 below 2^108 (so that k b < 2^125), all bits in play. */
  const uint64_t ks[] = {1, 2, 3, 7, 1000, 65537};
  for (int i = 0; i < 20000; ++i) {
    uint64_t k = ks[i % 6], b1 = draw(&r) >> 4, b2 = draw(&r);
    if (b1 == 0 || b2 == 0) continue;
    ln_u128 b = ln_u128_mul(b1, b2);
    if (b.hi >> 44) continue;
    ln_u128 kb = ln_u128_add(ln_u128_mul(b.lo, k), (ln_u128){b.hi * k, 0});
    ck_assert_double_eq(ln_u128_ratio(kb, b), (double)k);
  }
  /* Both below 2^53: exact doubles, so the quotient is their correctly rounded division. */
  for (int i = 0; i < 20000; ++i) {
    uint64_t a = tu_next(&r) >> 11, b = (tu_next(&r) >> 11) | 1;
    ck_assert_double_eq(ln_u128_ratio(ln_u128_of(a), ln_u128_of(b)), (double)a / (double)b);
  }
  /* (2^126 - 1) / 3 over 2^126 - 1 is 1/3; (2^127 - 1) / 2^127 rounds to 1; 0 / b is 0. */
  ln_u128 m126 = {(UINT64_C(1) << 62) - 1, UINT64_MAX};
  ln_u128 third = {UINT64_C(0x1555555555555555), UINT64_C(0x5555555555555555)};
  ck_assert_double_eq(ln_u128_ratio(third, m126), 1.0 / 3.0);
  ck_assert_double_eq(ln_u128_ratio((ln_u128){(UINT64_C(1) << 63) - 1, UINT64_MAX}, (ln_u128){UINT64_C(1) << 63, 0}),
                      1.0);
  ck_assert_double_eq(ln_u128_ratio(ln_u128_of(0), m126), 0.0);
  /* 1 / (2^64 + 1) needs the low word of the divisor: 2^-64 (1 - 2^-64 + ...) rounds to 2^-64,
     and (2^64 + 1) / (2^65 + 1) = 1/2 + 2^-66 - ... lies within 2^-66 of 1/2. */
  ck_assert_double_eq(ln_u128_ratio(ln_u128_of(1), (ln_u128){1, 1}), ldexp(1.0, -64));
  ck_assert_double_eq(ln_u128_ratio((ln_u128){1, 1}, (ln_u128){2, 1}), 0.5);
}
END_TEST

int main(void) {
  Suite *s = suite_create("wide_count");
  TCase *tc = tcase_create("portable");
  tcase_add_test(tc, products_are_exact);
  tcase_add_test(tc, sums_carry_and_compare);
  tcase_add_test(tc, ratios_match_golden_quotients);
  suite_add_tcase(s, tc);
  return tu_run_suite(s);
}
