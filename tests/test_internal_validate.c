/* The size checks of common/validate.c at the edge of the address space. A rows x cols matrix
   with leading dimension ld spans (rows - 1) ld + cols elements; ln_check_matrix must accept it
   exactly when that count is at most limit = (SIZE_MAX / 2) / elem, computed here in 128-bit
   arithmetic rather than with the library's quotient test. The edges depend on the width of size_t, so on a 32-bit target they are
   reachable with counts a real call can pass. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "common/validate.h"
#include "logitnorm.h"
#include "test_util.h"

/* a b as a 128-bit value {hi, lo}, from 32-bit halves (no compiler has to offer __int128). */
static void mul_wide(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
  uint64_t a0 = a & 0xFFFFFFFFu, a1 = a >> 32, b0 = b & 0xFFFFFFFFu, b1 = b >> 32;
  uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  uint64_t mid = (p00 >> 32) + (p01 & 0xFFFFFFFFu) + (p10 & 0xFFFFFFFFu);
  *lo = (p00 & 0xFFFFFFFFu) | (mid << 32);
  *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/* Whether (rows - 1) ld + cols <= limit, exactly (all arguments >= 1, ld >= cols). */
static int fits(uint64_t rows, uint64_t cols, uint64_t ld, uint64_t limit) {
  uint64_t hi, lo;
  mul_wide(rows - 1, ld, &hi, &lo);
  if (hi != 0) return 0;
  return lo <= limit && cols <= limit - lo;
}

static void expect(int64_t rows, int64_t cols, int64_t ld, size_t elem) {
  const uint64_t limit = (uint64_t)(SIZE_MAX / 2) / elem;
  int want = fits((uint64_t)rows, (uint64_t)cols, (uint64_t)ld, limit);
  static const float dummy[1];
  logitnorm_status st = ln_check_matrix(dummy, rows, cols, ld, elem, "m");
  ck_assert_msg((st == LOGITNORM_OK) == want, "rows %lld cols %lld ld %lld elem %zu: status %d, want %s (%s)",
                (long long)rows, (long long)cols, (long long)ld, elem, st, want ? "OK" : "a rejection",
                logitnorm_last_error());
  if (!want) {
    ck_assert_int_eq(st, LOGITNORM_ERR_INVALID_ARGUMENT);
    ck_assert_msg(strstr(logitnorm_last_error(), "overflow memory") != NULL, "rows %lld cols %lld ld %lld: %s",
                  (long long)rows, (long long)cols, (long long)ld, logitnorm_last_error());
  }
}

/* Around every edge: one row wider than the limit (the case whose bound once wrapped: limit -
   cols in unsigned arithmetic with cols > limit, never tested with a single row), a tall
   matrix just inside and just outside, and the products that wrap 64 bits. */
START_TEST(matrix_edges) {
  static const size_t elems[] = {2, 4, 8};
  for (size_t e = 0; e < sizeof elems / sizeof elems[0]; ++e) {
    const size_t elem = elems[e];
    const int64_t limit = (int64_t)((uint64_t)(SIZE_MAX / 2) / elem);
    const int64_t huge = INT64_C(1) << 62;
    for (int64_t d = -2; d <= 2; ++d) {
      expect(1, limit + d, limit + d, elem);           /* one row about the limit */
      expect(1, limit + d, INT64_MAX, elem);           /* with the largest stride */
      expect(2, 1, limit - 1 + d, elem);               /* two rows: ld + 1 about the limit */
      expect(3, 5, (limit - 5) / 2 + d, elem);         /* three rows */
    }
    expect(1, huge, huge, elem);
    expect(2, huge, huge, elem);
    expect(INT64_MAX, 1, 1, elem);
    expect(INT64_C(1) << 40, 3, INT64_C(1) << 40, elem); /* (rows - 1) ld wraps 64 bits */
    expect(limit, 1, 1, elem);
    expect(limit + 1, 1, 1, elem);
  }
}
END_TEST

/* The other rejections keep their own messages and order. */
START_TEST(matrix_rules) {
  static const float m[4];
  ck_assert_int_eq(ln_check_matrix(NULL, 0, 3, 3, 4, "m"), LOGITNORM_OK);
  ck_assert_int_eq(ln_check_matrix(NULL, 1, 3, 3, 4, "m"), LOGITNORM_ERR_NULL_POINTER);
  ck_assert_int_eq(ln_check_matrix(m, -1, 3, 3, 4, "m"), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(ln_check_matrix(m, 1, 0, 3, 4, "m"), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(ln_check_matrix(m, 1, 4, 3, 4, "m"), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert(strstr(logitnorm_last_error(), "leading dimension") != NULL);
}
END_TEST

/* ln_array_bytes: count x elem, 0 for no elements, saturated (never wrapped) past SIZE_MAX / 2. */
START_TEST(array_bytes) {
  ck_assert_uint_eq(ln_array_bytes(0, 8), 0);
  ck_assert_uint_eq(ln_array_bytes(-5, 8), 0);
  ck_assert_uint_eq(ln_array_bytes(7, 4), 28);
  const uint64_t cap = SIZE_MAX / 2;
  ck_assert_uint_eq(ln_array_bytes((int64_t)(cap / 32), 32), (size_t)(cap / 32 * 32));
  ck_assert_uint_eq(ln_array_bytes((int64_t)(cap / 32) + 1, 32), (size_t)cap);
  ck_assert_uint_eq(ln_array_bytes(INT64_MAX, 32), (size_t)cap);
}
END_TEST

int main(void) {
  Suite *s = suite_create("internal_validate");
  TCase *tc = tcase_create("validate");
  tcase_add_test(tc, matrix_edges);
  tcase_add_test(tc, matrix_rules);
  tcase_add_test(tc, array_bytes);
  suite_add_tcase(s, tc);
  return tu_run_suite(s);
}
