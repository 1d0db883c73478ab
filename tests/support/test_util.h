/* Small helpers shared by the Check suites: a seeded RNG, sentinel-filled buffers for
   "nothing was written" checks, and the suite runner. */
#ifndef LN_TEST_UTIL_H
#define LN_TEST_UTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

/* xorshift64* generator: deterministic across platforms. */
typedef struct tu_rng {
  uint64_t s;
} tu_rng;

void tu_seed(tu_rng *r, uint64_t seed);
uint64_t tu_next(tu_rng *r);
double tu_uniform(tu_rng *r);               /* [0, 1) */
double tu_normal(tu_rng *r);                /* N(0, 1), Box-Muller */
int64_t tu_int(tu_rng *r, int64_t lo, int64_t hi); /* [lo, hi] */

/* Fills size bytes with a recognisable byte pattern; tu_sentinel_intact says whether the
   bytes still hold it. */
void tu_sentinel_fill(void *p, size_t size);
int tu_sentinel_intact(const void *p, size_t size);

/* 1 when the environment sets LN_TEST_QUICK to anything but "0" (tests/run.sh does under
   valgrind, which runs the long numeric sweeps some 50 times slower): they then check a
   thinned sample or fewer sizes. */
int tu_quick(void);

/* Exit status of a test that did not run (CTest's SKIP_RETURN_CODE of every suite). */
#define TU_SKIP 77

/* 1 when the CPU has AVX2 and FMA, which the library's AVX2 kernels need. */
int tu_cpu_has_avx2(void);

/* 1 when the library runs its AVX2 kernels in this process: its own decision (ln_use_avx2, from
   the CPU, the build and LOGITNORM_DISPATCH), which tu_run_suite checks against the variable. */
int tu_dispatch_avx2(void);

/* Runs a Check suite (CK_NORMAL output) and frees it; the exit status for main.
   First, under LOGITNORM_DISPATCH (the CTest entries <suite>.generic and <suite>.avx2):
     - "avx2" in a build without the AVX2 kernels (LOGITNORM_SIMD=OFF, or not x86) or on a
       CPU without AVX2+FMA: prints why and returns TU_SKIP without running;
     - "avx2" or "generic" that the library's dispatch (ln_use_avx2, the same code and inputs
       as inside the library) would not follow: prints it and fails;
     - any other non-empty value: fails (the library rejects it too).
   So a *.avx2 entry that passes has run the AVX2 kernels. */
int tu_run_suite(Suite *s);

/* tu_run_suite for a suite from which tests were left out (e.g. the AVX2 ones on a CPU
   without AVX2): when skipped != NULL and everything that ran passed, prints
   "SKIP: <skipped>" and returns TU_SKIP, so CTest lists the suite as not run with that
   reason instead of as passed; a failure still fails. */
int tu_run_suite_partial(Suite *s, const char *skipped);

#endif
