/* LOGITNORM_DISPATCH (lib/common/dispatch.c): which values are accepted, which kernels each
   value selects on a CPU with and without AVX2+FMA, and the rejection of any other value.
   The variable is read once per process, so the rejection is checked by a run of its own:
   CTest's internal_dispatch.unknown_value starts this program with --unknown-value and
   LOGITNORM_DISPATCH=AVX2 (a plausible misspelling). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dispatch.h"
#include "logitnorm.h"
#include "test_util.h"

START_TEST(parse_accepts_exactly_three_forms) {
  ck_assert_int_eq(ln_dispatch_parse(NULL), LN_DISPATCH_AUTO);
  ck_assert_int_eq(ln_dispatch_parse(""), LN_DISPATCH_AUTO);
  ck_assert_int_eq(ln_dispatch_parse("generic"), LN_DISPATCH_GENERIC);
  ck_assert_int_eq(ln_dispatch_parse("avx2"), LN_DISPATCH_AVX2);
  const char *bad[] = {"AVX2", "Generic", "gneric", "avx", "avx2 ", " avx2", "avx512", "auto", "0", "generic\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i)
    ck_assert_msg(ln_dispatch_parse(bad[i]) == LN_DISPATCH_UNKNOWN, "\"%s\" accepted", bad[i]);
}
END_TEST

/* Rows: request; columns: CPU without, with AVX2+FMA. avx2 without the CPU support falls back
   to generic (the AVX2 kernels would fault there); an unknown value runs generic. */
START_TEST(decide_table) {
  const struct { ln_dispatch_request req; int without, with; } t[] = {
      {LN_DISPATCH_AUTO, 0, 1}, {LN_DISPATCH_GENERIC, 0, 0}, {LN_DISPATCH_AVX2, 0, 1}, {LN_DISPATCH_UNKNOWN, 0, 0}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; ++i) {
    ck_assert_int_eq(ln_dispatch_decide(t[i].req, 0), t[i].without);
    ck_assert_int_eq(ln_dispatch_decide(t[i].req, 1), t[i].with);
  }
}
END_TEST

/* Under the suite's own entries (generic, avx2, or unset) the variable is accepted. */
START_TEST(accepted_value_passes_the_check) {
  ck_assert_ptr_null(ln_dispatch_error());
  ck_assert_int_eq(ln_dispatch_check(), LOGITNORM_OK);
  const char *env = getenv("LOGITNORM_DISPATCH");
  if (env != NULL && strcmp(env, "generic") == 0) ck_assert_int_eq(ln_use_avx2(), 0);
#if defined(LN_HAVE_AVX2)
  if (env != NULL && strcmp(env, "avx2") == 0) ck_assert_int_eq(ln_use_avx2(), tu_cpu_has_avx2());
#else
  /* a build without the AVX2 kernels runs the generic ones whatever the CPU and the request */
  ck_assert_int_eq(ln_use_avx2(), 0);
#endif
}
END_TEST

/* Run with LOGITNORM_DISPATCH=AVX2: the check fails with INVALID_ARGUMENT and a last_error
   naming the variable and its value, and the kernels fall back to generic. */
START_TEST(unknown_value_is_rejected) {
  const char *env = getenv("LOGITNORM_DISPATCH");
  ck_assert_msg(env != NULL && ln_dispatch_parse(env) == LN_DISPATCH_UNKNOWN,
                "run with an unknown LOGITNORM_DISPATCH value (CTest sets AVX2)");
  const char *why = ln_dispatch_error();
  ck_assert_ptr_nonnull(why);
  ck_assert_msg(strstr(why, "LOGITNORM_DISPATCH") != NULL && strstr(why, env) != NULL, "message: %s", why);
  ck_assert_int_eq(ln_dispatch_check(), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_str_eq(logitnorm_last_error(), why);
  ck_assert_int_eq(ln_use_avx2(), 0);
}
END_TEST

int main(int argc, char **argv) {
  Suite *s = suite_create("dispatch");
  TCase *tc = tcase_create("dispatch");
  if (argc == 2 && strcmp(argv[1], "--unknown-value") == 0) {
    /* not tu_run_suite: it rejects the unknown value before running anything */
    tcase_add_test(tc, unknown_value_is_rejected);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
  }
  tcase_add_test(tc, parse_accepts_exactly_three_forms);
  tcase_add_test(tc, decide_table);
  tcase_add_test(tc, accepted_value_passes_the_check);
  suite_add_tcase(s, tc);
  return tu_run_suite(s);
}
