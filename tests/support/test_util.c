#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dispatch.h"

void tu_seed(tu_rng *r, uint64_t seed) { r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull; if (!r->s) r->s = 1; }

uint64_t tu_next(tu_rng *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 0x2545F4914F6CDD1Dull;
}

double tu_uniform(tu_rng *r) { return (double)(tu_next(r) >> 11) * 0x1.0p-53; }

double tu_normal(tu_rng *r) {
  double u1 = tu_uniform(r), u2 = tu_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int64_t tu_int(tu_rng *r, int64_t lo, int64_t hi) {
  return lo + (int64_t)(tu_next(r) % (uint64_t)(hi - lo + 1));
}

static unsigned char tu_pattern(size_t i) { return (unsigned char)(0xA5u ^ (i * 31u)); }

void tu_sentinel_fill(void *p, size_t size) {
  unsigned char *b = p;
  for (size_t i = 0; i < size; ++i) b[i] = tu_pattern(i);
}

int tu_sentinel_intact(const void *p, size_t size) {
  const unsigned char *b = p;
  for (size_t i = 0; i < size; ++i)
    if (b[i] != tu_pattern(i)) return 0;
  return 1;
}

int tu_quick(void) {
  const char *v = getenv("LN_TEST_QUICK");
  return v != NULL && v[0] != '\0' && !(v[0] == '0' && v[1] == '\0');
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>
#define TU_X86_CPUID 1
#endif

int tu_cpu_has_avx2(void) {
#if defined(TU_X86_CPUID)
  __builtin_cpu_init();
  unsigned a = 0, b = 0, c = 0, d = 0; /* F16C: CPUID leaf 1, ECX bit 29 */
  int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
#else
  return 0;
#endif
}

int tu_dispatch_avx2(void) { return ln_use_avx2(); }

/* The dispatch path LOGITNORM_DISPATCH asks for, checked against the CPU and against the
   library's own decision. ln_use_avx2 comes from the library's objects: internal suites
   link them all, public suites link the one object (common/dispatch.c, which needs nothing
   else of the library) from the same compile as the shared library, which evaluates it on
   the same environment and CPU. EXIT_SUCCESS to go on, TU_SKIP or EXIT_FAILURE to stop. */
static int tu_check_dispatch(void) {
  const char *path = getenv("LOGITNORM_DISPATCH");
  if (path == NULL || path[0] == '\0') return EXIT_SUCCESS;
  int avx2 = strcmp(path, "avx2") == 0;
  if (!avx2 && strcmp(path, "generic") != 0) {
    fprintf(stderr, "LOGITNORM_DISPATCH=\"%s\" is not \"generic\" or \"avx2\"\n", path);
    return EXIT_FAILURE;
  }
#if !defined(LN_HAVE_AVX2) /* the build has the AVX2 kernels (tests/CMakeLists.txt) */
  if (avx2) {
    printf("SKIP: LOGITNORM_DISPATCH=avx2: this build has no AVX2 kernels (LOGITNORM_SIMD=OFF or not x86)\n");
    return TU_SKIP;
  }
#endif
  if (avx2 && !tu_cpu_has_avx2()) {
    printf("SKIP: LOGITNORM_DISPATCH=avx2 needs a CPU with AVX2 and FMA; this one lacks them\n");
    return TU_SKIP;
  }
  if (ln_use_avx2() != avx2) {
    fprintf(stderr, "LOGITNORM_DISPATCH=%s but the library dispatches to the %s kernels\n", path,
            ln_use_avx2() ? "AVX2" : "generic");
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}

static int tu_run(Suite *s, const char *skipped) {
  SRunner *sr = srunner_create(s); /* owns the suite from here */
  int rc = tu_check_dispatch();
  if (rc != EXIT_SUCCESS) {
    srunner_free(sr);
    return rc;
  }
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (failed != 0) return EXIT_FAILURE;
  if (skipped != NULL) {
    printf("SKIP: %s\n", skipped);
    return TU_SKIP;
  }
  return EXIT_SUCCESS;
}

int tu_run_suite(Suite *s) { return tu_run(s, NULL); }

int tu_run_suite_partial(Suite *s, const char *skipped) { return tu_run(s, skipped); }
